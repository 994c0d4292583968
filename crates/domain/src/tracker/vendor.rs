use serde::{Deserialize, Serialize};
use std::fmt;

/// A tracker product vulnbridge pushes tickets to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Vendor {
    #[serde(rename = "github")]
    GitHub,
    #[serde(rename = "gitlab")]
    GitLab,
    Jira,
    AzureDevops,
    #[serde(rename = "servicenow")]
    ServiceNow,
}

impl Vendor {
    pub const ALL: [Vendor; 5] = [
        Vendor::GitHub,
        Vendor::GitLab,
        Vendor::Jira,
        Vendor::AzureDevops,
        Vendor::ServiceNow,
    ];

    /// The API, CLI and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::GitHub => "github",
            Vendor::GitLab => "gitlab",
            Vendor::Jira => "jira",
            Vendor::AzureDevops => "azure_devops",
            Vendor::ServiceNow => "servicenow",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Vendor::GitHub => "GitHub",
            Vendor::GitLab => "GitLab",
            Vendor::Jira => "Jira",
            Vendor::AzureDevops => "Azure DevOps",
            Vendor::ServiceNow => "ServiceNow",
        }
    }

    /// How many tickets the vendor's bulk API creates in one request (1: no bulk API). The
    /// clients' `bulk_size` agrees; the engine queues new tickets in batches of this size.
    pub fn bulk_size(self) -> usize {
        match self {
            // POST /rest/api/{2,3}/issue/bulk takes at most 50 issues.
            Vendor::Jira => 50,
            // The work item $batch endpoint takes at most 200 requests.
            Vendor::AzureDevops => 200,
            // The Batch API has no documented count limit, only 5 MB per request and the
            // instance's transaction quota: 50 keeps both far away.
            Vendor::ServiceNow => 50,
            Vendor::GitHub | Vendor::GitLab => 1,
        }
    }

    /// Whether the tracker is polled for changes besides its webhooks (ServiceNow: its
    /// business rules are installed by hand and may be missing or drop calls).
    pub fn polled(self) -> bool {
        self == Vendor::ServiceNow
    }

    /// Accepts the API spelling and the display label, ignoring case, spaces, `-` and `_`.
    pub fn parse(input: &str) -> Option<Vendor> {
        let norm: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .collect::<String>()
            .to_ascii_lowercase();
        match norm.as_str() {
            "github" => Some(Vendor::GitHub),
            "gitlab" => Some(Vendor::GitLab),
            "jira" => Some(Vendor::Jira),
            "azuredevops" | "ado" | "azuredevopsboards" | "azureboards" => Some(Vendor::AzureDevops),
            "servicenow" | "snow" => Some(Vendor::ServiceNow),
            _ => None,
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for v in Vendor::ALL {
            assert_eq!(Vendor::parse(v.as_str()), Some(v));
            assert_eq!(Vendor::parse(v.label()), Some(v));
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{}\"", v.as_str()));
            assert_eq!(serde_json::from_str::<Vendor>(&json).unwrap(), v);
        }
        assert_eq!(Vendor::parse("Azure-DevOps"), Some(Vendor::AzureDevops));
        assert_eq!(Vendor::parse("bitbucket"), None);
    }
}

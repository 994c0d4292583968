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

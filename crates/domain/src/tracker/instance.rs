//! The three things a person configures to push tickets: an Integration Instance (a connection
//! to one tracker), its Issue Tracker Mappings (where tickets go and how fields map) and their
//! Issue Tracker Assignments (which Product or Engagement pushes through a mapping, and how).

use super::{MappingConfig, PushFilters, PushMode, Vendor};
use crate::{AssignmentId, EngagementId, InstanceId, MappingId, ProductId, ValidationError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A connection to one tracker. Its credentials are stored encrypted and never leave the
/// server: this view says only whether they are set.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Instance {
    pub id: InstanceId,
    pub vendor: Vendor,
    pub label: String,
    /// Where the tracker is, as the user gave it (`https://github.com/acme`).
    pub location: String,
    pub settings: InstanceSettings,
    /// The tracker account the credentials belong to, learnt by "check connection" (shown so
    /// that people know whose name vulnbridge's changes appear under).
    pub account: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Per-instance settings besides location and credentials.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceSettings {
    /// Replaces the vendor's documented rate limits, bucket by bucket (GitHub Enterprise
    /// Server and self-managed GitLab admins set their own). Unnamed buckets keep the defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limits: Vec<RateLimitOverride>,
    /// Create new tickets one request each even where the tracker has a bulk API (Jira's bulk
    /// create, Azure DevOps `$batch`, ServiceNow's Batch API) — for instances where a proxy or
    /// an ACL blocks that endpoint. Off by default: bulk creates cost far fewer requests.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_bulk: bool,
}

/// One rate-limit bucket's limit: at most `limit` requests per `per_seconds`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitOverride {
    /// The bucket (`primary-hour`, `content-minute`, `content-hour` for GitHub; `api-minute`,
    /// `issues-minute` for GitLab).
    pub name: String,
    pub limit: u32,
    /// The window, in seconds (fractions allowed, for simulators running on scaled time).
    pub per_seconds: f64,
}

impl InstanceSettings {
    /// How many new tickets one create request carries on this instance (1: one at a time).
    pub fn bulk_size(&self, vendor: super::Vendor) -> usize {
        if self.no_bulk { 1 } else { vendor.bulk_size() }
    }

    pub fn check(&self) -> Result<(), ValidationError> {
        for (i, r) in self.rate_limits.iter().enumerate() {
            let field = format!("settings.rate_limits[{i}]");
            if r.name.trim().is_empty() {
                return Err(ValidationError::new(format!("{field}.name"), "must name a bucket"));
            }
            if r.limit == 0 {
                return Err(ValidationError::new(format!("{field}.limit"), "must be at least 1"));
            }
            if !(r.per_seconds.is_finite() && r.per_seconds > 0.0 && r.per_seconds <= 86_400.0) {
                return Err(ValidationError::new(format!("{field}.per_seconds"), "must be more than 0 and at most 86400"));
            }
        }
        Ok(())
    }
}

/// Parses an instance location: an absolute `http(s)` URL without credentials, query or
/// fragment. Returned without a trailing slash.
pub fn parse_location(raw: &str) -> Result<url::Url, ValidationError> {
    let field = "location";
    let trimmed = raw.trim();
    let url = url::Url::parse(trimmed).map_err(|e| {
        ValidationError::new(field, format!("'{trimmed}' is not a URL ({e}); give e.g. https://github.com/your-org"))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ValidationError::new(field, "must start with https:// (or http:// for a tracker on your network)"));
    }
    if url.host().is_none() {
        return Err(ValidationError::new(field, "must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ValidationError::new(field, "must not carry credentials; give the token separately"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ValidationError::new(field, "must not have a query (?…) or fragment (#…)"));
    }
    let mut url = url;
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

/// An Issue Tracker Mapping: one destination (repository, project…) in an instance.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Mapping {
    pub id: MappingId,
    pub instance: InstanceId,
    pub vendor: Vendor,
    pub label: String,
    #[serde(flatten)]
    pub config: MappingConfig,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an Assignment binds to a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentScope {
    Product(ProductId),
    Engagement(EngagementId),
}

/// An Issue Tracker Assignment: a Product or an Engagement pushing through a mapping.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Assignment {
    pub id: AssignmentId,
    pub mapping: MappingId,
    /// The product the assignment belongs to (the engagement's, for an engagement scope).
    pub product: ProductId,
    /// Set for an engagement-level assignment, which overrides the product's for the same
    /// mapping.
    pub engagement: Option<EngagementId>,
    pub push_mode: PushMode,
    pub filters: PushFilters,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Assignment {
    pub fn scope(&self) -> AssignmentScope {
        match self.engagement {
            Some(e) => AssignmentScope::Engagement(e),
            None => AssignmentScope::Product(self.product),
        }
    }
}

/// The assignments that govern a finding in `engagement`: for each mapping, the engagement's
/// own assignment if it has one, else the product's. (`candidates` are the product's and the
/// engagement's assignments, in any order.)
pub fn effective_assignments(candidates: &[Assignment], engagement: EngagementId) -> Vec<&Assignment> {
    let mut chosen: std::collections::BTreeMap<MappingId, &Assignment> = std::collections::BTreeMap::new();
    for a in candidates {
        match a.engagement {
            Some(e) if e != engagement => continue,
            Some(_) => {
                chosen.insert(a.mapping, a);
            }
            None => {
                chosen.entry(a.mapping).or_insert(a);
            }
        }
    }
    chosen.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_parsed_and_refused_with_reasons() {
        assert_eq!(parse_location(" https://github.com/acme/ ").unwrap().as_str(), "https://github.com/acme");
        assert_eq!(parse_location("https://gitlab.example.com/").unwrap().as_str(), "https://gitlab.example.com/");
        assert!(parse_location("github.com/acme").unwrap_err().message.contains("not a URL"));
        assert!(parse_location("ftp://x/y").unwrap_err().message.contains("https://"));
        assert!(parse_location("https://user:pw@github.com/acme").unwrap_err().message.contains("credentials"));
        assert!(parse_location("https://github.com/acme?x=1").unwrap_err().message.contains("query"));
    }

    fn assignment(id: i64, mapping: i64, engagement: Option<i64>) -> Assignment {
        Assignment {
            id: AssignmentId(id),
            mapping: MappingId(mapping),
            product: ProductId(1),
            engagement: engagement.map(EngagementId),
            push_mode: PushMode::Explicit,
            filters: PushFilters::default(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn an_engagement_assignment_overrides_the_products_for_its_mapping() {
        let all = [assignment(1, 10, None), assignment(2, 10, Some(5)), assignment(3, 11, None), assignment(4, 12, Some(6))];
        let ids: Vec<i64> = effective_assignments(&all, EngagementId(5)).iter().map(|a| a.id.0).collect();
        assert_eq!(ids, [2, 3]);
        let ids: Vec<i64> = effective_assignments(&all, EngagementId(6)).iter().map(|a| a.id.0).collect();
        assert_eq!(ids, [1, 3, 4]);
    }

    #[test]
    fn rate_limit_overrides_are_checked() {
        let s = InstanceSettings { rate_limits: vec![RateLimitOverride { name: "content-minute".into(), limit: 0, per_seconds: 60.0 }], ..Default::default() };
        assert_eq!(s.check().unwrap_err().field, "settings.rate_limits[0].limit");
        let s = InstanceSettings { rate_limits: vec![RateLimitOverride { name: "x".into(), limit: 1, per_seconds: 0.0 }], ..Default::default() };
        assert_eq!(s.check().unwrap_err().field, "settings.rate_limits[0].per_seconds");
    }
}

//! Product Type → Product → Engagement → Test: the containers findings live in.

use chrono::{DateTime, Utc};

use crate::{EngagementId, Name, ProductId, ProductTypeId, TestId, ValidationError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An organisation or business unit grouping products ("Product Type" in DefectDojo).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductType {
    pub id: ProductTypeId,
    pub name: String,
    pub description: Option<String>,
    /// Critical to the business: shown first, used by SLA rules.
    pub critical: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProductType {
    pub name: Name,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub critical: bool,
}

/// An application or asset a team owns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub description: Option<String>,
    pub product_type: Option<ProductTypeId>,
    /// `very_high`, `high`, `medium`, `low`, `very_low` or `none`.
    pub business_criticality: Option<String>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub name: Name,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub product_type: Option<ProductTypeId>,
    #[serde(default)]
    pub business_criticality: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

pub const BUSINESS_CRITICALITIES: [&str; 6] =
    ["very_high", "high", "medium", "low", "very_low", "none"];

/// Checks a business criticality value; `None` is allowed.
pub fn check_business_criticality(value: Option<&str>) -> Result<(), ValidationError> {
    match value {
        Some(v) if !BUSINESS_CRITICALITIES.contains(&v) => Err(ValidationError::new(
            "business_criticality",
            format!(
                "unknown value '{v}'; expected one of {}",
                BUSINESS_CRITICALITIES.join(", ")
            ),
        )),
        _ => Ok(()),
    }
}

/// Cleans a tag list: trims, drops empties and repeats, bounds sizes.
pub fn normalize_tags(field: &str, tags: Vec<String>) -> Result<Vec<String>, ValidationError> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for (i, tag) in tags.into_iter().enumerate() {
        let t = tag.trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 100 || t.chars().any(char::is_control) {
            return Err(ValidationError::new(
                format!("{field}[{i}]"),
                "tags are at most 100 characters, on one line",
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    if out.len() > 100 {
        return Err(ValidationError::new(field, "at most 100 tags are allowed"));
    }
    Ok(out)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngagementType {
    /// A manual or scheduled assessment.
    Interactive,
    /// Results from a build pipeline.
    CiCd,
}

impl EngagementType {
    pub fn as_str(self) -> &'static str {
        match self {
            EngagementType::Interactive => "interactive",
            EngagementType::CiCd => "ci_cd",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "interactive" => Some(Self::Interactive),
            "ci_cd" => Some(Self::CiCd),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngagementStatus {
    NotStarted,
    InProgress,
    OnHold,
    Completed,
    Cancelled,
}

impl EngagementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EngagementStatus::NotStarted => "not_started",
            EngagementStatus::InProgress => "in_progress",
            EngagementStatus::OnHold => "on_hold",
            EngagementStatus::Completed => "completed",
            EngagementStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::NotStarted,
            Self::InProgress,
            Self::OnHold,
            Self::Completed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A period or pipeline of testing within a Product. Engagement names are unique per product,
/// so that imports and connectors can find one by name ("Global Connectors").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Engagement {
    pub id: EngagementId,
    pub product: ProductId,
    pub name: String,
    pub description: Option<String>,
    pub engagement_type: EngagementType,
    pub status: EngagementStatus,
    pub target_start: Option<NaiveDate>,
    pub target_end: Option<NaiveDate>,
    pub version: Option<String>,
    pub build_id: Option<String>,
    pub commit_hash: Option<String>,
    pub branch_tag: Option<String>,
    pub source_code_url: Option<String>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEngagement {
    pub product: ProductId,
    pub name: Name,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_engagement_type")]
    pub engagement_type: EngagementType,
    #[serde(default = "default_engagement_status")]
    pub status: EngagementStatus,
    #[serde(default)]
    pub target_start: Option<NaiveDate>,
    #[serde(default)]
    pub target_end: Option<NaiveDate>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub build_id: Option<String>,
    #[serde(default)]
    pub commit_hash: Option<String>,
    #[serde(default)]
    pub branch_tag: Option<String>,
    #[serde(default)]
    pub source_code_url: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

fn default_engagement_type() -> EngagementType {
    EngagementType::Interactive
}
fn default_engagement_status() -> EngagementStatus {
    EngagementStatus::InProgress
}

impl NewEngagement {
    /// An engagement with only a product and a name; the rest defaulted.
    pub fn named(product: ProductId, name: Name) -> Self {
        NewEngagement {
            product,
            name,
            description: None,
            engagement_type: default_engagement_type(),
            status: default_engagement_status(),
            target_start: None,
            target_end: None,
            version: None,
            build_id: None,
            commit_hash: None,
            branch_tag: None,
            source_code_url: None,
            tags: Vec::new(),
        }
    }

    pub fn check(&self) -> Result<(), ValidationError> {
        check_dates(self.target_start, self.target_end)
    }
}

pub fn check_dates(start: Option<NaiveDate>, end: Option<NaiveDate>) -> Result<(), ValidationError> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => Err(ValidationError::new(
            "target_end",
            format!("{e} is before target_start {s}"),
        )),
        _ => Ok(()),
    }
}

/// One stream of results from one tool within an Engagement. Reimports land in the same Test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Test {
    pub id: TestId,
    pub engagement: EngagementId,
    pub product: ProductId,
    pub title: String,
    /// The report format, named as DefectDojo names it (`Semgrep JSON Report`, `SARIF`, …).
    pub scan_type: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub build_id: Option<String>,
    pub commit_hash: Option<String>,
    pub branch_tag: Option<String>,
    pub environment: Option<String>,
    pub tags: Vec<String>,
    /// When the latest import or reimport into this test finished.
    pub last_import_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTest {
    pub engagement: EngagementId,
    pub title: Name,
    pub scan_type: Name,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub build_id: Option<String>,
    #[serde(default)]
    pub commit_hash: Option<String>,
    #[serde(default)]
    pub branch_tag: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl NewTest {
    pub fn new(engagement: EngagementId, title: Name, scan_type: Name) -> Self {
        NewTest {
            engagement,
            title,
            scan_type,
            description: None,
            version: None,
            build_id: None,
            commit_hash: None,
            branch_tag: None,
            environment: None,
            tags: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_cleaned() {
        let tags = normalize_tags("tags", vec![" a ".into(), "".into(), "a".into(), "b".into()])
            .unwrap();
        assert_eq!(tags, ["a", "b"]);
        let err = normalize_tags("tags", vec!["ok".into(), "x".repeat(101)]).unwrap_err();
        assert_eq!(err.field, "tags[1]");
    }

    #[test]
    fn engagement_dates_must_be_ordered() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert!(check_dates(d("2026-01-01"), d("2026-02-01")).is_ok());
        assert_eq!(
            check_dates(d("2026-02-01"), d("2026-01-01")).unwrap_err().field,
            "target_end"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<NewProduct>(r#"{"name":"x","colour":"red"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn criticality_is_checked() {
        assert!(check_business_criticality(Some("high")).is_ok());
        assert!(check_business_criticality(None).is_ok());
        assert!(check_business_criticality(Some("urgent")).is_err());
    }
}

/// Distinguishes "field absent" (`None`) from "field null" (`Some(None)`) in patches.
pub(crate) fn some<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductTypePatch {
    #[serde(default)]
    pub name: Option<Name>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub critical: Option<bool>,
}

impl ProductType {
    pub fn apply(&mut self, p: ProductTypePatch) {
        if let Some(v) = p.name {
            self.name = v.into_inner();
        }
        if let Some(v) = p.description {
            self.description = crate::optional_text(v);
        }
        if let Some(v) = p.critical {
            self.critical = v;
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    #[serde(default)]
    pub name: Option<Name>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<i64>)]
    pub product_type: Option<Option<ProductTypeId>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub business_criticality: Option<Option<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

impl ProductPatch {
    pub fn check(&mut self) -> Result<(), ValidationError> {
        if let Some(c) = &self.business_criticality {
            check_business_criticality(c.as_deref())?;
        }
        if let Some(tags) = self.tags.take() {
            self.tags = Some(normalize_tags("tags", tags)?);
        }
        Ok(())
    }
}

impl NewProduct {
    pub fn check(&mut self) -> Result<(), ValidationError> {
        check_business_criticality(self.business_criticality.as_deref())?;
        self.tags = normalize_tags("tags", std::mem::take(&mut self.tags))?;
        self.description = crate::optional_text(self.description.take());
        Ok(())
    }
}

impl Product {
    pub fn apply(&mut self, p: ProductPatch) {
        if let Some(v) = p.name {
            self.name = v.into_inner();
        }
        if let Some(v) = p.description {
            self.description = crate::optional_text(v);
        }
        if let Some(v) = p.product_type {
            self.product_type = v;
        }
        if let Some(v) = p.business_criticality {
            self.business_criticality = v;
        }
        if let Some(v) = p.tags {
            self.tags = v;
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementPatch {
    #[serde(default)]
    pub name: Option<Name>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub engagement_type: Option<EngagementType>,
    #[serde(default)]
    pub status: Option<EngagementStatus>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<NaiveDate>)]
    pub target_start: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<NaiveDate>)]
    pub target_end: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub version: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub build_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub commit_hash: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub branch_tag: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub source_code_url: Option<Option<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

impl Engagement {
    /// Applies a patch, then re-checks the rules that span fields (dates in order).
    pub fn apply(&mut self, p: EngagementPatch) -> Result<(), ValidationError> {
        if let Some(v) = p.name {
            self.name = v.into_inner();
        }
        if let Some(v) = p.description {
            self.description = crate::optional_text(v);
        }
        if let Some(v) = p.engagement_type {
            self.engagement_type = v;
        }
        if let Some(v) = p.status {
            self.status = v;
        }
        if let Some(v) = p.target_start {
            self.target_start = v;
        }
        if let Some(v) = p.target_end {
            self.target_end = v;
        }
        for (slot, v) in [
            (&mut self.version, p.version),
            (&mut self.build_id, p.build_id),
            (&mut self.commit_hash, p.commit_hash),
            (&mut self.branch_tag, p.branch_tag),
            (&mut self.source_code_url, p.source_code_url),
        ] {
            if let Some(v) = v {
                *slot = crate::optional_text(v);
            }
        }
        if let Some(v) = p.tags {
            self.tags = normalize_tags("tags", v)?;
        }
        check_dates(self.target_start, self.target_end)
    }
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestPatch {
    #[serde(default)]
    pub title: Option<Name>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub version: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub build_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub commit_hash: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub branch_tag: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub environment: Option<Option<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

impl Test {
    pub fn apply(&mut self, p: TestPatch) -> Result<(), ValidationError> {
        if let Some(v) = p.title {
            self.title = v.into_inner();
        }
        for (slot, v) in [
            (&mut self.description, p.description),
            (&mut self.version, p.version),
            (&mut self.build_id, p.build_id),
            (&mut self.commit_hash, p.commit_hash),
            (&mut self.branch_tag, p.branch_tag),
            (&mut self.environment, p.environment),
        ] {
            if let Some(v) = v {
                *slot = crate::optional_text(v);
            }
        }
        if let Some(v) = p.tags {
            self.tags = normalize_tags("tags", v)?;
        }
        Ok(())
    }
}

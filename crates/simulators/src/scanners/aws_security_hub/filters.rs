//! `GetFindings`' `Filters` and `SortCriteria` as the API reference defines them: up to 10
//! attributes with up to 20 values each; string comparisons where `EQUALS`, `PREFIX` and
//! `CONTAINS` on one attribute are joined by OR and `NOT_EQUALS`, `PREFIX_NOT_EQUALS` and
//! `NOT_CONTAINS` by AND (and the combinations the reference forbids are refused); date
//! filters by `Start`/`End` or a `DateRange` in days. The attributes this simulator evaluates
//! are those its findings index; any other valid attribute is refused with a clear message
//! rather than silently ignored.

use super::reply::AwsError;
use super::state::{Finding, parse_time};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::sync::Arc;

const MAX_ATTRIBUTES: usize = 10;
const MAX_VALUES: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Text {
    AwsAccountId,
    Region,
    Id,
    ProductArn,
    ProductName,
    GeneratorId,
    Title,
    RecordState,
    WorkflowStatus,
    ComplianceStatus,
    SeverityLabel,
    VerificationState,
}

impl Text {
    fn named(name: &str) -> Option<Text> {
        Some(match name {
            "AwsAccountId" => Text::AwsAccountId,
            "Region" => Text::Region,
            "Id" => Text::Id,
            "ProductArn" => Text::ProductArn,
            "ProductName" => Text::ProductName,
            "GeneratorId" => Text::GeneratorId,
            "Title" => Text::Title,
            "RecordState" => Text::RecordState,
            "WorkflowStatus" => Text::WorkflowStatus,
            "ComplianceStatus" => Text::ComplianceStatus,
            "SeverityLabel" => Text::SeverityLabel,
            "VerificationState" => Text::VerificationState,
            _ => return None,
        })
    }

    fn of(self, f: &Finding) -> Option<&str> {
        match self {
            Text::AwsAccountId => Some(f.account.as_str()),
            Text::Region => Some(f.region.as_str()),
            Text::Id => Some(f.id.as_str()),
            Text::ProductArn => Some(f.product_arn.as_str()),
            Text::ProductName => Some(f.product_name.as_str()),
            Text::GeneratorId => Some(f.generator_id.as_str()),
            Text::Title => Some(f.title.as_str()),
            Text::RecordState => Some(f.record_state.as_str()),
            Text::WorkflowStatus => Some(f.workflow_status.as_str()),
            Text::ComplianceStatus => f.compliance_status.as_deref(),
            Text::SeverityLabel => f.severity_label.as_deref(),
            Text::VerificationState => f.verification_state.as_deref(),
        }
        .filter(|s| !s.is_empty())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    Created,
    Updated,
    FirstObserved,
    LastObserved,
}

impl When {
    fn named(name: &str) -> Option<When> {
        Some(match name {
            "CreatedAt" => When::Created,
            "UpdatedAt" => When::Updated,
            "FirstObservedAt" => When::FirstObserved,
            "LastObservedAt" => When::LastObserved,
            _ => return None,
        })
    }

    fn of(self, f: &Finding) -> Option<DateTime<Utc>> {
        match self {
            When::Created => Some(f.created_at),
            When::Updated => Some(f.updated_at),
            When::FirstObserved => f.first_observed_at,
            When::LastObserved => f.last_observed_at,
        }
    }
}

/// Every attribute `AwsSecurityFindingFilters` accepts (botocore's `service-2.json`); those
/// not indexed above are valid but not evaluated here.
const VALID: &[&str] = &[
    "AwsAccountId",
    "AwsAccountName",
    "CompanyName",
    "ComplianceAssociatedStandardsId",
    "ComplianceSecurityControlId",
    "ComplianceSecurityControlParametersName",
    "ComplianceSecurityControlParametersValue",
    "ComplianceStatus",
    "Confidence",
    "CreatedAt",
    "Criticality",
    "Description",
    "FindingProviderFieldsConfidence",
    "FindingProviderFieldsCriticality",
    "FindingProviderFieldsRelatedFindingsId",
    "FindingProviderFieldsRelatedFindingsProductArn",
    "FindingProviderFieldsSeverityLabel",
    "FindingProviderFieldsSeverityOriginal",
    "FindingProviderFieldsTypes",
    "FirstObservedAt",
    "GeneratorId",
    "Id",
    "Keyword",
    "LastObservedAt",
    "MalwareName",
    "MalwarePath",
    "MalwareState",
    "MalwareType",
    "NetworkDestinationDomain",
    "NetworkDestinationIpV4",
    "NetworkDestinationIpV6",
    "NetworkDestinationPort",
    "NetworkDirection",
    "NetworkProtocol",
    "NetworkSourceDomain",
    "NetworkSourceIpV4",
    "NetworkSourceIpV6",
    "NetworkSourceMac",
    "NetworkSourcePort",
    "NoteText",
    "NoteUpdatedAt",
    "NoteUpdatedBy",
    "ProcessLaunchedAt",
    "ProcessName",
    "ProcessParentPid",
    "ProcessPath",
    "ProcessPid",
    "ProcessTerminatedAt",
    "ProductArn",
    "ProductFields",
    "ProductName",
    "RecommendationText",
    "RecordState",
    "Region",
    "RelatedFindingsId",
    "RelatedFindingsProductArn",
    "ResourceApplicationArn",
    "ResourceApplicationName",
    "ResourceAwsEc2InstanceIamInstanceProfileArn",
    "ResourceAwsEc2InstanceImageId",
    "ResourceAwsEc2InstanceIpV4Addresses",
    "ResourceAwsEc2InstanceIpV6Addresses",
    "ResourceAwsEc2InstanceKeyName",
    "ResourceAwsEc2InstanceLaunchedAt",
    "ResourceAwsEc2InstanceSubnetId",
    "ResourceAwsEc2InstanceType",
    "ResourceAwsEc2InstanceVpcId",
    "ResourceAwsIamAccessKeyCreatedAt",
    "ResourceAwsIamAccessKeyPrincipalName",
    "ResourceAwsIamAccessKeyStatus",
    "ResourceAwsIamAccessKeyUserName",
    "ResourceAwsIamUserUserName",
    "ResourceAwsS3BucketOwnerId",
    "ResourceAwsS3BucketOwnerName",
    "ResourceContainerImageId",
    "ResourceContainerImageName",
    "ResourceContainerLaunchedAt",
    "ResourceContainerName",
    "ResourceDetailsOther",
    "ResourceId",
    "ResourceOwnerAccountId",
    "ResourceOwnerOrgId",
    "ResourcePartition",
    "ResourceProvider",
    "ResourceRegion",
    "ResourceTags",
    "ResourceType",
    "Sample",
    "SeverityLabel",
    "SeverityNormalized",
    "SeverityProduct",
    "SourceUrl",
    "ThreatIntelIndicatorCategory",
    "ThreatIntelIndicatorLastObservedAt",
    "ThreatIntelIndicatorSource",
    "ThreatIntelIndicatorSourceUrl",
    "ThreatIntelIndicatorType",
    "ThreatIntelIndicatorValue",
    "Title",
    "Type",
    "UpdatedAt",
    "UserDefinedFields",
    "VerificationState",
    "VulnerabilitiesExploitAvailable",
    "VulnerabilitiesFixAvailable",
    "WorkflowState",
    "WorkflowStatus",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Comparison {
    Equals,
    Prefix,
    Contains,
    ContainsWord,
    NotEquals,
    PrefixNotEquals,
    NotContains,
}

impl Comparison {
    fn parse(s: &str) -> Option<Comparison> {
        Some(match s {
            "EQUALS" => Comparison::Equals,
            "PREFIX" => Comparison::Prefix,
            "CONTAINS" => Comparison::Contains,
            "CONTAINS_WORD" => Comparison::ContainsWord,
            "NOT_EQUALS" => Comparison::NotEquals,
            "PREFIX_NOT_EQUALS" => Comparison::PrefixNotEquals,
            "NOT_CONTAINS" => Comparison::NotContains,
            _ => return None,
        })
    }

    fn negative(self) -> bool {
        matches!(
            self,
            Comparison::NotEquals | Comparison::PrefixNotEquals | Comparison::NotContains
        )
    }

    fn holds(self, actual: Option<&str>, wanted: &str) -> bool {
        let Some(a) = actual else {
            return self.negative();
        };
        match self {
            Comparison::Equals => a == wanted,
            Comparison::Prefix => a.starts_with(wanted),
            Comparison::Contains => a.contains(wanted),
            Comparison::ContainsWord => {
                a.split(|c: char| !c.is_alphanumeric()).any(|w| w == wanted)
            }
            Comparison::NotEquals => a != wanted,
            Comparison::PrefixNotEquals => !a.starts_with(wanted),
            Comparison::NotContains => !a.contains(wanted),
        }
    }
}

#[derive(Clone, Debug)]
struct TextFilter {
    field: Text,
    conditions: Vec<(Comparison, String)>,
}

impl TextFilter {
    fn matches(&self, f: &Finding) -> bool {
        let actual = self.field.of(f);
        let (neg, pos): (Vec<_>, Vec<_>) = self.conditions.iter().partition(|(c, _)| c.negative());
        (pos.is_empty() || pos.iter().any(|(c, v)| c.holds(actual, v)))
            && neg.iter().all(|(c, v)| c.holds(actual, v))
    }
}

/// From (`Start`) and to (`End`), either open.
type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

#[derive(Clone, Debug)]
struct DateFilter {
    field: When,
    /// Inclusive ranges; any one matching is enough.
    ranges: Vec<Range>,
}

impl DateFilter {
    fn matches(&self, f: &Finding) -> bool {
        let Some(at) = self.field.of(f) else {
            return false;
        };
        self.ranges
            .iter()
            .any(|(start, end)| start.is_none_or(|s| at >= s) && end.is_none_or(|e| at <= e))
    }
}

#[derive(Clone, Copy, Debug)]
enum SortKey {
    Text(Text),
    When(When),
}

/// A parsed `GetFindings` query.
#[derive(Clone, Debug)]
pub(crate) struct Query {
    texts: Vec<TextFilter>,
    dates: Vec<DateFilter>,
    sort: Vec<(SortKey, bool)>,
    /// Identifies the query's filters and sorting (a `NextToken` belongs to one query).
    pub fingerprint: String,
}

impl Query {
    pub fn parse(
        filters: Option<&Map<String, Value>>,
        sort: Option<&Vec<Value>>,
        now: DateTime<Utc>,
    ) -> Result<Query, AwsError> {
        let empty = Map::new();
        let filters = filters.unwrap_or(&empty);
        if filters.len() > MAX_ATTRIBUTES {
            return Err(AwsError::invalid_input(format!(
                "Filters can include at most {MAX_ATTRIBUTES} finding attributes; this request has {}",
                filters.len()
            )));
        }
        let mut texts = Vec::new();
        let mut dates = Vec::new();
        for (name, values) in filters {
            let Some(list) = values.as_array() else {
                return Err(AwsError::invalid_input(format!(
                    "The filter {name} must be a list of filter values"
                )));
            };
            if list.len() > MAX_VALUES {
                return Err(AwsError::invalid_input(format!(
                    "A filter can have at most {MAX_VALUES} values; {name} has {}",
                    list.len()
                )));
            }
            if let Some(field) = Text::named(name) {
                texts.push(text_filter(name, field, list)?);
            } else if let Some(field) = When::named(name) {
                dates.push(date_filter(name, field, list, now)?);
            } else if VALID.contains(&name.as_str()) {
                return Err(AwsError::invalid_input(format!(
                    "The simulator does not evaluate the filter attribute {name}"
                )));
            } else {
                return Err(AwsError::invalid_input(format!(
                    "{name} is not a valid finding filter attribute"
                )));
            }
        }
        let mut keys = Vec::new();
        for c in sort.map(Vec::as_slice).unwrap_or(&[]) {
            let field = c.get("Field").and_then(Value::as_str).unwrap_or("");
            let key = Text::named(field)
                .map(SortKey::Text)
                .or_else(|| When::named(field).map(SortKey::When))
                .ok_or_else(|| AwsError::invalid_input(format!("Invalid sort field: '{field}'")))?;
            let desc = match c.get("SortOrder").and_then(Value::as_str) {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => {
                    return Err(AwsError::validation(
                        "sortCriteria.member.sortOrder",
                        other,
                        "Member must satisfy enum value set: [asc, desc]",
                    ));
                }
            };
            keys.push((key, desc));
        }
        if keys.is_empty() {
            // Newest first, as the console lists findings.
            keys.push((SortKey::When(When::Updated), true));
        }
        let fingerprint = hex::encode(Sha256::digest(
            format!(
                "{}|{}",
                Value::Object(filters.clone()),
                Value::Array(sort.cloned().unwrap_or_default())
            )
            .as_bytes(),
        ));
        Ok(Query {
            texts,
            dates,
            sort: keys,
            fingerprint,
        })
    }

    pub fn matches(&self, f: &Finding) -> bool {
        self.texts.iter().all(|t| t.matches(f)) && self.dates.iter().all(|d| d.matches(f))
    }

    pub fn order(&self, a: &Finding, b: &Finding) -> Ordering {
        for (key, desc) in &self.sort {
            let o = match key {
                SortKey::Text(t) => t.of(a).cmp(&t.of(b)),
                SortKey::When(w) => w.of(a).cmp(&w.of(b)),
            };
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.id.cmp(&b.id)
    }
}

fn text_filter(name: &str, field: Text, list: &[Value]) -> Result<TextFilter, AwsError> {
    let mut conditions = Vec::new();
    for v in list {
        let value = v.get("Value").and_then(Value::as_str).unwrap_or("");
        let raw = v.get("Comparison").and_then(Value::as_str).unwrap_or("");
        let comparison = Comparison::parse(raw).ok_or_else(|| {
            AwsError::validation(
                "filters.member.comparison",
                raw,
                "Member must satisfy enum value set: [EQUALS, PREFIX, NOT_EQUALS, PREFIX_NOT_EQUALS, CONTAINS, NOT_CONTAINS, CONTAINS_WORD]",
            )
        })?;
        if value.is_empty() {
            return Err(AwsError::invalid_input(format!(
                "The filter {name} has an empty Value"
            )));
        }
        conditions.push((comparison, value.to_owned()));
    }
    let has = |c: Comparison| conditions.iter().any(|(x, _)| *x == c);
    let contains = has(Comparison::Contains);
    let not_contains = has(Comparison::NotContains);
    let others = |allowed: Comparison| conditions.iter().any(|(x, _)| *x != allowed);
    if (contains && others(Comparison::Contains))
        || (not_contains && others(Comparison::NotContains))
    {
        return Err(AwsError::invalid_input(format!(
            "Invalid filter combination for {name}: CONTAINS and NOT_CONTAINS filters can only be combined with filters of the same comparison"
        )));
    }
    if has(Comparison::Equals) && (has(Comparison::NotEquals) || has(Comparison::PrefixNotEquals)) {
        return Err(AwsError::invalid_input(format!(
            "Invalid filter combination for {name}: EQUALS cannot be combined with NOT_EQUALS or PREFIX_NOT_EQUALS"
        )));
    }
    Ok(TextFilter { field, conditions })
}

fn date_filter(
    name: &str,
    field: When,
    list: &[Value],
    now: DateTime<Utc>,
) -> Result<DateFilter, AwsError> {
    let mut ranges = Vec::new();
    for v in list {
        let at = |key: &str| -> Result<Option<DateTime<Utc>>, AwsError> {
            match v.get(key).and_then(Value::as_str) {
                None => Ok(None),
                Some(s) => parse_time(s).map(Some).ok_or_else(|| {
                    AwsError::invalid_input(format!(
                        "Invalid {key} in the {name} filter: '{s}' is not an ISO 8601 timestamp"
                    ))
                }),
            }
        };
        let (start, end) = (at("Start")?, at("End")?);
        if let Some(range) = v.get("DateRange") {
            let days = range.get("Value").and_then(Value::as_i64).ok_or_else(|| {
                AwsError::invalid_input(format!(
                    "The DateRange of the {name} filter needs an integer Value"
                ))
            })?;
            if range.get("Unit").and_then(Value::as_str) != Some("DAYS") {
                return Err(AwsError::validation(
                    "filters.member.dateRange.unit",
                    range.get("Unit").unwrap_or(&Value::Null),
                    "Member must satisfy enum value set: [DAYS]",
                ));
            }
            let boundary = now - TimeDelta::days(days);
            match range.get("Comparison").and_then(Value::as_str) {
                Some("OLDER_THAN") => ranges.push((None, Some(boundary))),
                None | Some("WITHIN") => ranges.push((Some(boundary), None)),
                Some(other) => {
                    return Err(AwsError::validation(
                        "filters.member.dateRange.comparison",
                        other,
                        "Member must satisfy enum value set: [WITHIN, OLDER_THAN]",
                    ));
                }
            }
        } else if start.is_none() && end.is_none() {
            return Err(AwsError::invalid_input(format!(
                "The {name} filter needs Start and End, or a DateRange"
            )));
        } else {
            if let (Some(s), Some(e)) = (start, end)
                && s > e
            {
                return Err(AwsError::invalid_input(format!(
                    "The {name} filter's Start is after its End"
                )));
            }
            ranges.push((start, end));
        }
    }
    Ok(DateFilter { field, ranges })
}

/// Recent queries' results (indices into the findings, in order), so that following a
/// `NextToken` reads a page instead of filtering and sorting every finding again.
#[derive(Debug, Default)]
pub(crate) struct QueryCache {
    entries: VecDeque<(String, Arc<Vec<usize>>)>,
}

impl QueryCache {
    const KEEP: usize = 32;

    pub fn get(&self, fingerprint: &str) -> Option<Arc<Vec<usize>>> {
        self.entries
            .iter()
            .find(|(k, _)| k == fingerprint)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&mut self, fingerprint: String, hits: Arc<Vec<usize>>) {
        self.entries.retain(|(k, _)| *k != fingerprint);
        if self.entries.len() >= Self::KEEP {
            self.entries.pop_front();
        }
        self.entries.push_back((fingerprint, hits));
    }
}

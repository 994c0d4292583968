//! One Security Hub administrator account's hub in its home Region: its member accounts, its
//! cross-Region finding aggregator, the IAM keys allowed to call it, and the findings of every
//! account and linked Region (what `GetFindings` answers from the aggregation Region).

use super::filters::QueryCache;
use super::limits::Throttle;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

/// An IAM access key and what its policy allows.
#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub secret: String,
    pub user: String,
    /// `securityhub:` actions allowed; every action when `None`.
    pub actions: Option<Vec<String>>,
}

impl Key {
    pub fn allows(&self, action: &str) -> bool {
        self.actions
            .as_ref()
            .is_none_or(|a| a.iter().any(|x| x == action))
    }
}

/// A member account of the administrator's hub.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub account: String,
    pub email: String,
    /// `Enabled`, `Removed`, `Resigned`…
    pub status: String,
    pub invited_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The cross-Region aggregator (this simulator links Regions by list).
#[derive(Clone, Debug)]
pub(crate) struct Aggregator {
    pub arn: String,
    pub mode: String,
    pub regions: Vec<String>,
}

/// One stored finding: its ASFF JSON and the attributes filters and sorting read.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub id: String,
    pub account: String,
    pub region: String,
    pub product_arn: String,
    pub product_name: String,
    pub generator_id: String,
    pub title: String,
    pub record_state: String,
    pub workflow_status: String,
    pub compliance_status: Option<String>,
    pub severity_label: Option<String>,
    pub verification_state: Option<String>,
    pub inspector_status: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_observed_at: Option<DateTime<Utc>>,
    pub last_observed_at: Option<DateTime<Utc>>,
    /// The finding as `GetFindings` returns it.
    pub raw: String,
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn date(v: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(parse_time)
}

/// ASFF timestamps: RFC 3339 with or without fractions.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

pub(crate) fn format_time(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Finding {
    /// A finding as a provider imports it. Security Hub fills `Region` (from the product ARN
    /// when the provider left it out), as it does for every finding it receives.
    pub fn import(mut v: Value) -> Result<Finding, String> {
        let obj = v.as_object_mut().ok_or("a finding must be a JSON object")?;
        for required in [
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "CreatedAt",
            "UpdatedAt",
            "Title",
            "Description",
        ] {
            if !obj.get(required).is_some_and(Value::is_string) {
                return Err(format!(
                    "the finding lacks the required attribute {required}"
                ));
            }
        }
        if !obj.contains_key("Region") {
            let region = obj
                .get("ProductArn")
                .and_then(Value::as_str)
                .and_then(|arn| arn.split(':').nth(3))
                .filter(|r| !r.is_empty())
                .ok_or("the product ARN names no Region")?
                .to_owned();
            obj.insert("Region".into(), Value::String(region));
        }
        obj.entry("RecordState").or_insert_with(|| json!("ACTIVE"));
        if !obj.contains_key("Workflow") {
            let status = obj
                .get("WorkflowState")
                .and_then(Value::as_str)
                .unwrap_or("NEW")
                .to_owned();
            obj.insert("Workflow".into(), json!({ "Status": status }));
        }
        Finding::index(v)
    }

    fn index(v: Value) -> Result<Finding, String> {
        let t = |p: &str| text(&v, p).unwrap_or_default();
        Ok(Finding {
            id: t("/Id"),
            account: t("/AwsAccountId"),
            region: t("/Region"),
            product_arn: t("/ProductArn"),
            product_name: text(&v, "/ProductName")
                .or_else(|| text(&v, "/ProductFields/aws~1securityhub~1ProductName"))
                .unwrap_or_default(),
            generator_id: t("/GeneratorId"),
            title: t("/Title"),
            record_state: t("/RecordState"),
            workflow_status: t("/Workflow/Status"),
            compliance_status: text(&v, "/Compliance/Status"),
            severity_label: text(&v, "/Severity/Label"),
            verification_state: text(&v, "/VerificationState"),
            inspector_status: text(&v, "/ProductFields/aws~1inspector~1FindingStatus"),
            created_at: date(&v, "/CreatedAt").ok_or("CreatedAt is not an ISO 8601 timestamp")?,
            updated_at: date(&v, "/UpdatedAt").ok_or("UpdatedAt is not an ISO 8601 timestamp")?,
            first_observed_at: date(&v, "/FirstObservedAt"),
            last_observed_at: date(&v, "/LastObservedAt"),
            raw: v.to_string(),
        })
    }

    /// Changes the stored JSON and re-reads the attributes.
    pub fn update(&mut self, change: impl FnOnce(&mut Map<String, Value>)) {
        let Ok(mut v) = serde_json::from_str::<Value>(&self.raw) else {
            return;
        };
        if let Some(obj) = v.as_object_mut() {
            change(obj);
        }
        if let Ok(f) = Finding::index(v) {
            *self = f;
        }
    }

    /// Whether the finding is open by every flag ASFF has (what a person reads as open).
    pub fn is_open(&self) -> bool {
        self.record_state == "ACTIVE"
            && self.verification_state.as_deref() != Some("FALSE_POSITIVE")
            && !matches!(self.workflow_status.as_str(), "SUPPRESSED" | "RESOLVED")
            && self.compliance_status.as_deref() != Some("PASSED")
            && self
                .inspector_status
                .as_deref()
                .is_none_or(|s| s == "ACTIVE")
    }
}

pub(crate) struct State {
    pub account: String,
    pub home_region: String,
    pub hub_enabled: bool,
    pub subscribed_at: DateTime<Utc>,
    pub keys: BTreeMap<String, Key>,
    pub members: Vec<Member>,
    pub aggregator: Option<Aggregator>,
    pub findings: Vec<Finding>,
    pub by_id: HashMap<String, usize>,
    pub queries: QueryCache,
    pub throttle: Throttle,
}

impl State {
    pub fn new(account: &str, home_region: &str) -> State {
        State {
            account: account.to_owned(),
            home_region: home_region.to_owned(),
            hub_enabled: true,
            subscribed_at: Utc::now(),
            keys: BTreeMap::new(),
            members: Vec::new(),
            aggregator: None,
            findings: Vec::new(),
            by_id: HashMap::new(),
            queries: QueryCache::default(),
            throttle: Throttle::default(),
        }
    }

    pub fn hub_arn(&self) -> String {
        format!(
            "arn:aws:securityhub:{}:{}:hub/default",
            self.home_region, self.account
        )
    }

    /// Adds or replaces (same `Id`) a finding.
    pub fn put(&mut self, f: Finding) {
        match self.by_id.get(&f.id) {
            Some(&i) => {
                if let Some(slot) = self.findings.get_mut(i) {
                    *slot = f;
                }
            }
            None => {
                self.by_id.insert(f.id.clone(), self.findings.len());
                self.findings.push(f);
            }
        }
    }

    /// Member accounts associated with the administrator.
    pub fn enabled_members(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.status == "Enabled")
    }

    /// The Regions whose findings the home Region answers for.
    pub fn regions(&self) -> Vec<String> {
        let mut out = vec![self.home_region.clone()];
        if let Some(a) = &self.aggregator {
            for r in &a.regions {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        }
        out
    }

    /// `account:region` of every Record a connector discovers: the administrator and its
    /// associated members, in every Region the hub sees.
    pub fn record_ids(&self) -> Vec<String> {
        let accounts = std::iter::once(self.account.clone())
            .chain(self.enabled_members().map(|m| m.account.clone()));
        let regions = self.regions();
        accounts
            .flat_map(|a| regions.iter().map(move |r| format!("{a}:{r}")))
            .collect()
    }

    pub fn record_findings(&self, external_id: &str) -> impl Iterator<Item = (usize, &Finding)> {
        let (account, region) = external_id.split_once(':').unwrap_or((external_id, ""));
        self.findings
            .iter()
            .enumerate()
            .filter(move |(_, f)| f.account == account && f.region == region)
    }

    /// What `GET /_sim/state` shows.
    pub fn describe(&self) -> Value {
        let mut per_record: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for f in &self.findings {
            let e = per_record
                .entry(format!("{}:{}", f.account, f.region))
                .or_default();
            e.0 += 1;
            if f.is_open() {
                e.1 += 1;
            }
        }
        json!({
            "account": self.account,
            "home_region": self.home_region,
            "hub_enabled": self.hub_enabled,
            "hub_arn": self.hub_arn(),
            "access_keys": self.keys.iter().map(|(k, v)| json!({ "access_key_id": k, "user": v.user, "actions": v.actions })).collect::<Vec<_>>(),
            "members": self.members.iter().map(|m| json!({ "AccountId": m.account, "Email": m.email, "MemberStatus": m.status })).collect::<Vec<_>>(),
            "aggregator": self.aggregator.as_ref().map(|a| json!({ "FindingAggregatorArn": a.arn, "RegionLinkingMode": a.mode, "Regions": a.regions })),
            "records": per_record.iter().map(|(k, (all, open))| json!({ "record": k, "findings": all, "open": open })).collect::<Vec<_>>(),
            "throttling": self.throttle.enabled,
        })
    }
}

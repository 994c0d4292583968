//! The AWS Security Hub connector (Security Hub CSPM, findings in ASFF).
//!
//! - Setup: the location is the hub's endpoint (`https://securityhub.<region>.amazonaws.com`;
//!   another address, such as a VPC endpoint or a proxy, needs the option `region`); secrets
//!   `access_key_id` and `secret_access_key` (and `session_token` for temporary credentials);
//!   option `regions` (a list, or comma-separated) overrides the Regions Discover covers.
//! - Discover: the administrator account and its associated members, each in the home Region
//!   and the Regions cross-Region aggregation links (see [`discover`]).
//! - Pull: `GetFindings` per account and Region (see [`pull`]).

mod api;
mod discover;
mod pull;
mod sigv4;

use super::{FindingSink, OptionError, PullMode, Pulled, ScannerApi, Setup};
use api::Api;
use async_trait::async_trait;
use domain::connector::{DiscoveredRecord, Record, Tool};
use outbound::{CallError, CheckReport, HttpClient};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct AwsSecurityHub {
    api: Api,
    regions: Vec<String>,
}

/// Whether `r` reads as an AWS Region name (`us-east-1`).
fn is_region(r: &str) -> bool {
    !r.is_empty()
        && r
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The AWS Security Hub options, read and checked: the home Region (the `region` option, or
/// the endpoint's), and the `regions` Discover covers.
pub(crate) struct Options {
    region: String,
    regions: Vec<String>,
}

impl Options {
    pub(crate) fn parse(
        location: &url::Url,
        o: crate::connectors::Options<'_>,
    ) -> Result<Options, OptionError> {
        let region = match o.text("region") {
            Some(r) => r.trim().to_owned(),
            None => location.host_str().and_then(api::region_of_host).ok_or_else(|| {
                o.bad(
                    "region",
                    format!(
                        "is needed: the Region cannot be told from {location}, which is not https://securityhub.<region>.amazonaws.com"
                    ),
                )
            })?,
        };
        if !is_region(&region) {
            return Err(o.bad(
                "region",
                format!("'{region}' is not an AWS Region name (like us-east-1)"),
            ));
        }
        let regions = o.list("regions", "Regions")?.unwrap_or_default();
        if let Some(bad) = regions.iter().find(|r| !is_region(r)) {
            return Err(o.bad(
                "regions",
                format!("has '{bad}', which is not an AWS Region name (like us-east-1)"),
            ));
        }
        Ok(Options { region, regions })
    }
}

impl AwsSecurityHub {
    pub fn new(setup: Setup, http: HttpClient) -> Result<AwsSecurityHub, CallError> {
        let Options { region, regions } = Options::parse(&setup.location, setup.options())?;
        let creds = sigv4::Credentials {
            access_key_id: setup
                .secret("access_key_id")?
                .expose_secret()
                .trim()
                .to_owned(),
            secret_access_key: setup
                .secret("secret_access_key")?
                .expose_secret()
                .trim()
                .to_owned(),
            session_token: setup
                .secrets
                .get("session_token")
                .map(|t| t.expose_secret().trim().to_owned())
                .filter(|t| !t.is_empty()),
        };
        Ok(AwsSecurityHub {
            api: Api {
                http,
                base: setup.location,
                region,
                creds,
            },
            regions,
        })
    }
}

#[async_trait]
impl ScannerApi for AwsSecurityHub {
    fn tool(&self) -> Tool {
        Tool::AwsSecurityHub
    }

    async fn check(&self) -> CheckReport {
        let mut report = CheckReport::default();
        let hub = match discover::describe(&self.api).await {
            Ok(h) => {
                report.pass(
                    "credentials",
                    format!("signed in to account {} in {}", h.account, self.api.region),
                );
                report.pass(
                    "hub",
                    format!(
                        "Security Hub is enabled ({}, since {})",
                        h.arn,
                        h.subscribed_at.as_deref().unwrap_or("an unknown date")
                    ),
                );
                report.account = Some(h.account.clone());
                h
            }
            Err(CallError::Unauthorized(msg)) if msg.contains("not subscribed") => {
                report.pass("credentials", "AWS accepted the access key");
                report.fail(
                    "hub",
                    format!(
                        "Security Hub is not enabled in {} for this account: {msg}",
                        self.api.region
                    ),
                );
                return report;
            }
            Err(CallError::Unauthorized(msg)) => {
                report.fail(
                    "credentials",
                    format!("AWS refused the access key or its signature: {msg}"),
                );
                return report;
            }
            Err(CallError::Forbidden(msg)) => {
                report.pass("credentials", "AWS accepted the access key");
                report.fail(
                    "permissions",
                    format!("the key's policy does not allow securityhub:DescribeHub: {msg}"),
                );
                return report;
            }
            Err(e) => {
                report.fail(
                    "credentials",
                    format!("cannot reach Security Hub in {}: {e}", self.api.region),
                );
                return report;
            }
        };
        let aggregation = discover::aggregation(&self.api).await;
        let members = discover::members(&self.api).await;
        let sample = json!({
            "Filters": { "AwsAccountId": [{ "Value": hub.account, "Comparison": "EQUALS" }] },
            "MaxResults": 1,
        });
        let findings = self
            .api
            .post::<Value>("/findings", &sample, "one finding (GetFindings)")
            .await;
        let mut denied = Vec::new();
        for (action, result) in [
            (
                "ListFindingAggregators and GetFindingAggregator",
                aggregation.as_ref().err(),
            ),
            ("ListMembers", members.as_ref().err()),
            ("GetFindings", findings.as_ref().err()),
        ] {
            if let Some(e) = result {
                denied.push(format!("securityhub:{action} ({e})"));
            }
        }
        if denied.is_empty() {
            report.pass(
                "permissions",
                "the key may read the hub, its aggregator, its members and its findings",
            );
        } else {
            report.fail(
                "permissions",
                format!("the key cannot use {}", denied.join("; ")),
            );
        }
        if let (Ok(agg), Ok(members)) = (aggregation, members) {
            let regions = discover::regions(&self.api.region, agg.as_ref(), &self.regions);
            let detail = match agg.as_ref().and_then(|a| a.region.clone()) {
                Some(r) if r != self.api.region => format!(
                    "findings are aggregated in {r}, not {}: connect to {r} to see every Region; this connector covers {}",
                    self.api.region,
                    regions.join(", ")
                ),
                _ => format!("{} account(s) in {}", members.len() + 1, regions.join(", ")),
            };
            report.pass("regions", detail);
        }
        report
    }

    async fn discover(&self) -> Result<Vec<DiscoveredRecord>, CallError> {
        let hub = discover::hub(&self.api).await?;
        let regions = discover::regions(&self.api.region, hub.aggregation.as_ref(), &self.regions);
        Ok(discover::records(&hub, &regions))
    }

    async fn pull(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        pull::pull(&self.api, record, mode, sink).await
    }
}

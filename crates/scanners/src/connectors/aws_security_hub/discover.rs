//! The hub's shape: whose hub it is (`DescribeHub`), which Regions its home Region answers for
//! (`ListFindingAggregators`, `GetFindingAggregator`), and its member accounts
//! (`ListMembers`, associated only). Records are every account in every one of those Regions.
//!
//! With cross-Region aggregation, `GetFindings` in the aggregation Region returns the linked
//! Regions' findings too, so every Record is pulled from the connector's endpoint. Linking
//! modes that name the Regions left out (`ALL_REGIONS`, `ALL_REGIONS_EXCEPT_SPECIFIED`) are
//! resolved against the partition's Security Hub Regions (botocore's `endpoints.json`); the
//! connector option `regions` overrides the list.

use super::api::Api;
use domain::connector::DiscoveredRecord;
use outbound::CallError;
use serde::Deserialize;
use serde_json::json;

/// Security Hub's Regions per partition (botocore `data/endpoints.json`, service `securityhub`).
const AWS_REGIONS: [&str; 34] = [
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];
const CN_REGIONS: [&str; 2] = ["cn-north-1", "cn-northwest-1"];
const GOV_REGIONS: [&str; 2] = ["us-gov-east-1", "us-gov-west-1"];

fn partition_regions(home: &str) -> &'static [&'static str] {
    if home.starts_with("cn-") {
        &CN_REGIONS
    } else if home.starts_with("us-gov-") {
        &GOV_REGIONS
    } else {
        &AWS_REGIONS
    }
}

#[derive(Deserialize)]
struct DescribeHub {
    #[serde(rename = "HubArn")]
    hub_arn: String,
    #[serde(rename = "SubscribedAt", default)]
    subscribed_at: Option<String>,
}

#[derive(Deserialize)]
struct AggregatorList {
    #[serde(rename = "FindingAggregators", default)]
    aggregators: Vec<AggregatorRef>,
    #[serde(rename = "NextToken", default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct AggregatorRef {
    #[serde(rename = "FindingAggregatorArn")]
    arn: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Aggregation {
    #[serde(rename = "FindingAggregationRegion", default)]
    pub region: Option<String>,
    #[serde(rename = "RegionLinkingMode", default)]
    pub mode: Option<String>,
    #[serde(rename = "Regions", default)]
    pub regions: Vec<String>,
}

#[derive(Deserialize)]
struct MemberList {
    #[serde(rename = "Members", default)]
    members: Vec<Member>,
    #[serde(rename = "NextToken", default)]
    next: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Member {
    #[serde(rename = "AccountId")]
    pub account: String,
    #[serde(rename = "Email", default)]
    pub email: Option<String>,
}

/// What Discover (and the connection check) learn about the hub.
#[derive(Clone, Debug)]
pub(crate) struct Hub {
    pub arn: String,
    pub account: String,
    pub subscribed_at: Option<String>,
    pub aggregation: Option<Aggregation>,
    pub members: Vec<Member>,
}

/// `DescribeHub`: the hub's ARN and its account.
pub(crate) async fn describe(api: &Api) -> Result<Hub, CallError> {
    let h: DescribeHub = api
        .get("/accounts", &[], "the Security Hub hub (DescribeHub)")
        .await?;
    let account = h
        .hub_arn
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            CallError::Protocol(format!(
                "DescribeHub answered a hub ARN without an account: {}",
                h.hub_arn
            ))
        })?
        .to_owned();
    Ok(Hub {
        arn: h.hub_arn,
        account,
        subscribed_at: h.subscribed_at,
        aggregation: None,
        members: Vec::new(),
    })
}

/// The hub's finding aggregator, if it has one.
pub(crate) async fn aggregation(api: &Api) -> Result<Option<Aggregation>, CallError> {
    let mut next: Option<String> = None;
    loop {
        let mut q = vec![("MaxResults".to_owned(), "100".to_owned())];
        if let Some(t) = &next {
            q.push(("NextToken".to_owned(), t.clone()));
        }
        let page: AggregatorList = api
            .get(
                "/findingAggregator/list",
                &q,
                "the finding aggregators (ListFindingAggregators)",
            )
            .await?;
        if let Some(a) = page.aggregators.first() {
            let path = format!(
                "/findingAggregator/get/{}",
                super::sigv4::uri_encode(&a.arn, false)
            );
            let agg: Aggregation = api
                .get(&path, &[], &format!("the finding aggregator {}", a.arn))
                .await?;
            return Ok(Some(agg));
        }
        match page.next.filter(|t| !t.is_empty()) {
            Some(t) if Some(&t) != next.as_ref() => next = Some(t),
            _ => return Ok(None),
        }
    }
}

/// The associated member accounts, every page.
pub(crate) async fn members(api: &Api) -> Result<Vec<Member>, CallError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut q = vec![
            ("OnlyAssociated".to_owned(), "true".to_owned()),
            ("MaxResults".to_owned(), "50".to_owned()),
        ];
        if let Some(t) = &next {
            q.push(("NextToken".to_owned(), t.clone()));
        }
        let page: MemberList = api
            .get("/members", &q, "the member accounts (ListMembers)")
            .await?;
        out.extend(page.members);
        match page.next.filter(|t| !t.is_empty()) {
            Some(t) if Some(&t) != next.as_ref() => next = Some(t),
            Some(_) => {
                return Err(CallError::Protocol(
                    "ListMembers answered the same NextToken twice".into(),
                ));
            }
            None => return Ok(out),
        }
    }
}

/// The hub, its aggregator and members.
pub(crate) async fn hub(api: &Api) -> Result<Hub, CallError> {
    let mut h = describe(api).await?;
    h.aggregation = aggregation(api).await?;
    h.members = members(api).await?;
    Ok(h)
}

/// The Regions whose findings this endpoint answers for: `override_regions` when set, else the
/// home Region and the Regions its aggregator links.
pub(crate) fn regions(
    home: &str,
    aggregation: Option<&Aggregation>,
    override_regions: &[String],
) -> Vec<String> {
    if !override_regions.is_empty() {
        return override_regions.to_vec();
    }
    let mut out = vec![home.to_owned()];
    let Some(a) = aggregation.filter(|a| a.region.as_deref().is_none_or(|r| r == home)) else {
        return out;
    };
    let linked: Vec<String> = match a.mode.as_deref() {
        Some("SPECIFIED_REGIONS") => a.regions.clone(),
        Some("ALL_REGIONS") => partition_regions(home)
            .iter()
            .map(|r| (*r).to_owned())
            .collect(),
        Some("ALL_REGIONS_EXCEPT_SPECIFIED") => partition_regions(home)
            .iter()
            .filter(|r| !a.regions.iter().any(|x| x == *r))
            .map(|r| (*r).to_owned())
            .collect(),
        _ => Vec::new(),
    };
    for r in linked {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// One Record per account and Region.
pub(crate) fn records(hub: &Hub, regions: &[String]) -> Vec<DiscoveredRecord> {
    let accounts = std::iter::once((hub.account.clone(), None, true)).chain(
        hub.members
            .iter()
            .filter(|m| m.account != hub.account)
            .map(|m| (m.account.clone(), m.email.clone(), false)),
    );
    let mut out = Vec::new();
    for (account, email, administrator) in accounts {
        for region in regions {
            let name = match &email {
                Some(e) => format!("{account} ({e}) {region}"),
                None => format!("{account} {region}"),
            };
            out.push(DiscoveredRecord {
                external_id: format!("{account}:{region}"),
                name,
                metadata: json!({
                    "account": account,
                    "region": region,
                    "administrator": administrator,
                    "email": email,
                    "hub_arn": hub.arn,
                }),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agg(mode: &str, regions: &[&str]) -> Aggregation {
        Aggregation {
            region: Some("us-east-1".into()),
            mode: Some(mode.into()),
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    #[test]
    fn regions_follow_the_aggregator() {
        assert_eq!(regions("us-east-1", None, &[]), ["us-east-1"]);
        assert_eq!(
            regions(
                "us-east-1",
                Some(&agg("SPECIFIED_REGIONS", &["eu-west-1"])),
                &[]
            ),
            ["us-east-1", "eu-west-1"]
        );
        assert_eq!(
            regions("us-east-1", Some(&agg("NO_REGIONS", &[])), &[]),
            ["us-east-1"]
        );
        let all = regions("us-east-1", Some(&agg("ALL_REGIONS", &[])), &[]);
        assert_eq!(all.len(), AWS_REGIONS.len());
        assert_eq!(all[0], "us-east-1");
        let except = regions(
            "us-east-1",
            Some(&agg(
                "ALL_REGIONS_EXCEPT_SPECIFIED",
                &["eu-west-1", "ap-east-1"],
            )),
            &[],
        );
        assert_eq!(except.len(), AWS_REGIONS.len() - 2);
        assert!(!except.iter().any(|r| r == "eu-west-1"));
        let china = Aggregation {
            region: Some("cn-north-1".into()),
            ..agg("ALL_REGIONS", &[])
        };
        assert_eq!(
            regions("cn-north-1", Some(&china), &[]),
            ["cn-north-1", "cn-northwest-1"]
        );
        // Another Region aggregates: this endpoint answers for its own Region only.
        let elsewhere = Aggregation {
            region: Some("eu-west-1".into()),
            ..agg("ALL_REGIONS", &[])
        };
        assert_eq!(regions("us-east-1", Some(&elsewhere), &[]), ["us-east-1"]);
        assert_eq!(
            regions("us-east-1", None, &["eu-west-2".into()]),
            ["eu-west-2"]
        );
    }
}

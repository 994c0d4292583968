//! A project's findings: the results of its latest completed scan (`GET /api/scans` newest
//! first, then `GET /api/results` page by page — the results API counts `offset` in pages),
//! mapped by the `Checkmarx One Scan` report parser and sent to the sink in batches.
//!
//! A scan's results are the project's whole current set, so a pull of the latest scan is
//! complete and its cursor is the scan id. An incremental pull whose latest completed scan is
//! still the cursor's sends nothing and says `complete: false`; so does a project that has no
//! completed scan (on the `branch` option's branch, when set, or the Record's own branch when
//! Records are per branch).

use super::CheckmarxOne;
use super::api::{Results, Scans};
use crate::Context;
use crate::connectors::{Batcher, FindingSink, PullMode, Pulled};
use crate::formats::checkmarx_one::{CxResult, result_finding};
use crate::formats::common::finding::fit_to_domain;
use domain::connector::Record;
use domain::{NewFinding, TestId};
use outbound::CallError;
use serde_json::Value;

/// Results asked for per page (the API allows up to 10,000).
pub const PAGE: u64 = 1000;

/// One result as a finding. Its parser id (the result hash; for SCA the vulnerability and
/// package) is unique within a project, so the project makes it unique within the connector.
pub fn finding(project: &str, raw: Value, ctx: &Context) -> Result<NewFinding, String> {
    let r: CxResult =
        serde_json::from_value(raw).map_err(|e| format!("not a Checkmarx ONE result: {e}"))?;
    let mut f = fit_to_domain(result_finding(&r, ctx));
    let Some(uid) = f.unique_id_from_tool.take() else {
        return Err("the result has neither an id nor a similarityId".into());
    };
    f.unique_id_from_tool = Some(format!("{project}/{uid}"));
    Ok(f)
}

impl CheckmarxOne {
    pub(super) async fn pull_project(
        &self,
        record: &Record,
        mode: PullMode,
        sink: &FindingSink,
    ) -> Result<Pulled, CallError> {
        // A per-branch Record is `<project id>@<branch>` (project ids are UUIDs, without '@').
        let (project, branch) = match record.external_id.split_once('@') {
            Some((project, branch)) => (project, Some(branch.to_owned())),
            None => (record.external_id.as_str(), self.branch.clone()),
        };
        let previous = match &mode {
            PullMode::Since(c) => Some(c.clone()),
            PullMode::Full => None,
        };
        let what = format!(
            "the latest completed Checkmarx ONE scan of project '{}' ({project})",
            record.name
        );
        let mut query = vec![
            ("project-id", project.to_owned()),
            ("statuses", "Completed".to_owned()),
            ("sort", "-created_at".to_owned()),
            ("offset", "0".to_owned()),
            ("limit", "1".to_owned()),
        ];
        if let Some(branch) = branch {
            query.push(("branches", branch));
        }
        let scans: Scans = self.api.get("api/scans", &query, &what).await?;
        let Some(scan) = scans.scans.unwrap_or_default().into_iter().next() else {
            return Ok(Pulled {
                complete: false,
                cursor: previous,
                findings: 0,
            });
        };
        if scan.project_id.as_deref().is_some_and(|p| p != project)
            || scan.status.as_deref().is_some_and(|s| s != "Completed")
        {
            return Err(CallError::Protocol(format!(
                "{what}: Checkmarx ONE answered with scan {} of project {} in status {}",
                scan.id,
                scan.project_id.as_deref().unwrap_or("?"),
                scan.status.as_deref().unwrap_or("?")
            )));
        }
        if previous.as_deref() == Some(scan.id.as_str()) {
            return Ok(Pulled {
                complete: false,
                cursor: previous,
                findings: 0,
            });
        }

        let ctx = Context::new(TestId(0));
        let mut out = Batcher::new(sink);
        let mut seen: u64 = 0;
        let mut page: u64 = 0;
        loop {
            let what = format!(
                "Checkmarx ONE results of scan {} (project '{}', page {page}, {PAGE} a page)",
                scan.id, record.name
            );
            let query = [
                ("scan-id", scan.id.clone()),
                ("offset", page.to_string()),
                ("limit", PAGE.to_string()),
                ("sort", "-severity".to_owned()),
            ];
            let answer: Results = self.api.get("api/results", &query, &what).await?;
            let results = answer.results.unwrap_or_default();
            let total = answer.total.ok_or_else(|| {
                CallError::Protocol(format!("{what}: the answer has no totalCount"))
            })?;
            let n = results.len() as u64;
            if n > PAGE {
                return Err(CallError::Protocol(format!(
                    "{what}: {n} results in a page of {PAGE}"
                )));
            }
            for (i, raw) in results.into_iter().enumerate() {
                let f = finding(project, raw, &ctx)
                    .map_err(|e| CallError::Protocol(format!("{what}, result {i}: {e}")))?;
                if !out.push(f).await {
                    return Ok(Pulled {
                        complete: false,
                        cursor: None,
                        findings: out.sent,
                    });
                }
            }
            seen += n;
            if seen >= total {
                break;
            }
            if n < PAGE {
                // A short page before the total: the answer was cut, or the list changed under
                // the pull. Either way what was sent is not the scan's whole set.
                return Err(CallError::Protocol(format!(
                    "{what}: the results ended after {seen} of the {total} Checkmarx ONE reported"
                )));
            }
            page += 1;
        }
        if !out.flush().await {
            return Ok(Pulled {
                complete: false,
                cursor: None,
                findings: out.sent,
            });
        }
        Ok(Pulled {
            complete: true,
            cursor: Some(scan.id),
            findings: out.sent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Status;
    use serde_json::json;

    #[test]
    fn results_keep_the_parser_mapping_and_get_their_project() {
        let raw = json!({ "type": "sca", "id": "CVE-2023-26136", "similarityId": "CVE-2023-26136", "status": "NEW",
            "state": "NOT_EXPLOITABLE", "severity": "HIGH", "data": { "packageIdentifier": "Npm-tough-cookie-2.5.0", "recommendedVersion": "4.1.3" },
            "vulnerabilityDetails": { "cweId": "CWE-1321", "cvssScore": 6.5 } });
        let f = finding("p1", raw, &Context::new(TestId(0))).expect("a finding");
        assert_eq!(
            f.unique_id_from_tool.as_deref(),
            Some("p1/CVE-2023-26136:tough-cookie@2.5.0")
        );
        assert_eq!(f.status, Status::FalsePositive);
        assert_eq!(f.fix_version.as_deref(), Some("4.1.3"));
        assert!(finding("p1", json!({ "type": "sast" }), &Context::new(TestId(0))).is_err());
        assert!(finding("p1", json!("text"), &Context::new(TestId(0))).is_err());
    }
}

//! `POST /graphql/v1`: the API key in `Authorization`, then the query run over the schema in
//! `schema.graphql` with the shared GraphQL engine. Document and field errors answer 200 with
//! an `errors` array, as GraphQL servers do; only a missing or unknown key is an HTTP error.

use super::Sh;
use super::state::{Scan, ScanStatus, Site, SiteIssue, State, serial_number};
use crate::common::graphql::{self, FieldCall, GqlError, Out, Resolver, Schema};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value as Json, json};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// The schema, parsed once.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| match Schema::parse(include_str!("schema.graphql")) {
        Ok(s) => s,
        // The schema is part of the source; the unit test below keeps it parseable.
        Err(e) => panic!(
            "the Burp simulator's GraphQL schema does not parse: {}",
            e.message
        ),
    })
}

fn errors(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "errors": [{ "message": message }] })),
    )
        .into_response()
}

pub async fn handle(AxState(sh): AxState<Sh>, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let known = !key.is_empty() && sh.lock().api_keys.iter().any(|k| k == key);
    if !known {
        return errors(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: the API key is missing or not valid",
        );
    }
    let Ok(request) = serde_json::from_slice::<Json>(&body) else {
        return errors(
            StatusCode::BAD_REQUEST,
            "The request body is not a JSON GraphQL request",
        );
    };
    let Some(query) = request.get("query").and_then(Json::as_str) else {
        return errors(StatusCode::BAD_REQUEST, "The request has no query");
    };
    let operation = request.get("operationName").and_then(Json::as_str);
    let variables = request.get("variables").cloned().unwrap_or(Json::Null);
    let prepared = match graphql::prepare(schema(), query, operation, &variables) {
        Ok(p) => p,
        Err(errors) => {
            return (StatusCode::OK, axum::Json(GqlError::response(&errors))).into_response();
        }
    };
    let st = sh.lock();
    let mut resolver = Gql {
        st: &st,
        history: HashMap::new(),
    };
    let (data, errors) = graphql::execute(schema(), &prepared, &mut resolver, Obj::Query);
    let mut out = serde_json::Map::new();
    out.insert("data".into(), data);
    if !errors.is_empty() {
        out.insert(
            "errors".into(),
            Json::Array(errors.iter().map(GqlError::to_json).collect()),
        );
    }
    (StatusCode::OK, axum::Json(Json::Object(out))).into_response()
}

/// A handle to one object of the response: indexes into the state.
#[derive(Clone, Debug)]
pub enum Obj {
    Query,
    SiteTree,
    Site(usize),
    Folder(usize),
    Scope(usize),
    ScopeV2(usize),
    Scan(usize, usize),
    Delta(usize, usize),
    Counts(usize, usize),
    ByConfidence(usize, usize, &'static str),
    /// Site, scan, the issue's index in the site.
    Issue(usize, usize, u32),
    IssueType(usize, u32),
}

/// What earlier scans of a site found, for an issue's novelty and a scan's delta.
struct History {
    /// The previous succeeded scan's issues (none for the site's first scan).
    previous: Option<HashSet<u32>>,
    /// Every issue an earlier succeeded scan found.
    earlier: HashSet<u32>,
}

struct Gql<'s> {
    st: &'s State,
    history: HashMap<(usize, usize), History>,
}

fn time(t: Option<DateTime<Utc>>) -> Out<Obj> {
    t.map_or(Out::Null, |t| {
        Out::Value(json!(t.to_rfc3339_opts(SecondsFormat::Millis, true)))
    })
}

fn strings(items: &[String]) -> Out<Obj> {
    Out::List(items.iter().map(|s| Out::Value(json!(s))).collect())
}

impl Gql<'_> {
    fn site(&self, i: usize) -> Result<&Site, GqlError> {
        self.st
            .sites
            .get(i)
            .ok_or_else(|| GqlError::new("The site no longer exists"))
    }

    fn scan(&self, si: usize, sc: usize) -> Result<(&Site, &Scan), GqlError> {
        let site = self.site(si)?;
        let scan = site
            .scans
            .get(sc)
            .ok_or_else(|| GqlError::new("The scan no longer exists"))?;
        Ok((site, scan))
    }

    fn issue(&self, si: usize, idx: u32) -> Result<&SiteIssue, GqlError> {
        self.site(si)?
            .issue(idx)
            .ok_or_else(|| GqlError::new("The issue no longer exists"))
    }

    fn history(&mut self, si: usize, sc: usize) -> Result<&History, GqlError> {
        if !self.history.contains_key(&(si, sc)) {
            let site = self.site(si)?;
            let mut earlier_scans = site.scans[..sc.min(site.scans.len())]
                .iter()
                .filter(|s| s.status == ScanStatus::Succeeded)
                .collect::<Vec<_>>();
            let previous = earlier_scans
                .pop()
                .map(|s| s.issues.iter().copied().collect::<HashSet<u32>>());
            let mut earlier: HashSet<u32> = earlier_scans
                .iter()
                .flat_map(|s| s.issues.iter().copied())
                .collect();
            if let Some(p) = &previous {
                earlier.extend(p.iter().copied());
            }
            self.history.insert((si, sc), History { previous, earlier });
        }
        self.history
            .get(&(si, sc))
            .ok_or_else(|| GqlError::new("The scan history is not available"))
    }

    fn scans(&self, call: &FieldCall<'_>) -> Result<Out<Obj>, GqlError> {
        let statuses: Option<Vec<String>> = call
            .args
            .get("scan_status")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Json::as_str)
                    .map(str::to_owned)
                    .collect()
            });
        let site_filter = call.arg_str("site_id");
        let bound = |name: &str| -> Result<Option<DateTime<Utc>>, GqlError> {
            match call.arg_str(name) {
                None => Ok(None),
                Some(raw) => DateTime::parse_from_rfc3339(raw)
                    .map(|d| Some(d.with_timezone(&Utc)))
                    .map_err(|_| {
                        GqlError::new(format!("Invalid Timestamp value for {name}: '{raw}'"))
                    }),
            }
        };
        let from = bound("scan_end_time_from")?;
        let to = bound("scan_end_time_to")?;
        let offset = call.arg_i64("offset").unwrap_or(0);
        let limit = call.arg_i64("limit");
        if offset < 0 || limit.is_some_and(|l| l < 0) {
            return Err(GqlError::new("offset and limit must not be negative"));
        }
        let mut found: Vec<(usize, usize)> = Vec::new();
        for (si, site) in self.st.sites.iter().enumerate() {
            if site_filter.is_some_and(|f| f.trim() != site.id.to_string()) {
                continue;
            }
            for (sc, scan) in site.scans.iter().enumerate() {
                let status_ok = statuses
                    .as_ref()
                    .is_none_or(|s| s.is_empty() || s.iter().any(|x| x == scan.status.as_str()));
                let from_ok = from.is_none_or(|f| scan.end_time.is_some_and(|e| e >= f));
                let to_ok = to.is_none_or(|t| scan.end_time.is_some_and(|e| e <= t));
                if status_ok && from_ok && to_ok {
                    found.push((si, sc));
                }
            }
        }
        let scan_of = |&(si, sc): &(usize, usize)| &self.st.sites[si].scans[sc];
        match call.arg_str("sort_column").unwrap_or("id") {
            "start" => found.sort_by_key(|k| (scan_of(k).start_time, scan_of(k).id)),
            "end" => found.sort_by_key(|k| (scan_of(k).end_time, scan_of(k).id)),
            "status" => found.sort_by_key(|k| (scan_of(k).status.as_str(), scan_of(k).id)),
            "site" => found.sort_by_key(|k| (self.st.sites[k.0].name.clone(), scan_of(k).id)),
            _ => found.sort_by_key(|k| scan_of(k).id),
        }
        if call.arg_str("sort_order") == Some("desc") {
            found.reverse();
        }
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let page = found.into_iter().skip(start);
        let page: Vec<(usize, usize)> = match limit {
            Some(l) => page
                .take(usize::try_from(l).unwrap_or(usize::MAX))
                .collect(),
            None => page.collect(),
        };
        Ok(Out::List(
            page.into_iter()
                .map(|(si, sc)| Out::Object(Obj::Scan(si, sc)))
                .collect(),
        ))
    }

    fn issues(&self, si: usize, sc: usize, call: &FieldCall<'_>) -> Result<Out<Obj>, GqlError> {
        let (site, scan) = self.scan(si, sc)?;
        let start = call.arg_i64("start").unwrap_or(0);
        let count = call.arg_i64("count").unwrap_or(0);
        if start < 0 || count < 0 {
            return Err(GqlError::new("start and count must not be negative"));
        }
        let type_index = call.args.get("type_index").and_then(|v| match v {
            Json::String(s) => s.trim().parse::<u64>().ok(),
            Json::Number(n) => n.as_u64(),
            _ => None,
        });
        let severities: Option<Vec<String>> = call
            .args
            .get("severities")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Json::as_str)
                    .map(str::to_owned)
                    .collect()
            });
        let items = scan
            .issues
            .iter()
            .copied()
            .filter(|i| {
                site.issue(*i).is_some_and(|issue| {
                    type_index.is_none_or(|t| issue.kind.type_index == t)
                        && severities
                            .as_ref()
                            .is_none_or(|s| s.is_empty() || s.iter().any(|x| x == issue.severity))
                })
            })
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .map(|i| Out::Object(Obj::Issue(si, sc, i)))
            .collect();
        Ok(Out::List(items))
    }

    fn issue_by_serial(&self, call: &FieldCall<'_>) -> Result<Out<Obj>, GqlError> {
        let scan_id = call.arg_str("scan_id").unwrap_or("");
        let serial = call.arg_str("serial_number").unwrap_or("").trim();
        let Some((si, sc)) = self.st.scan(scan_id) else {
            return Err(GqlError::new(format!("Scan with ID {scan_id} not found")));
        };
        let (_, scan) = self.scan(si, sc)?;
        match scan
            .issues
            .iter()
            .copied()
            .find(|i| serial_number(scan.id, *i) == serial)
        {
            Some(i) => Ok(Out::Object(Obj::Issue(si, sc, i))),
            None => Err(GqlError::new(format!(
                "Issue with serial number {serial} not found in scan {scan_id}"
            ))),
        }
    }

    fn counts(
        &self,
        si: usize,
        sc: usize,
        severity: Option<&str>,
        confidence: Option<&str>,
    ) -> Result<usize, GqlError> {
        let (site, scan) = self.scan(si, sc)?;
        Ok(scan
            .issues
            .iter()
            .filter_map(|i| site.issue(*i))
            .filter(|i| !i.false_positive)
            .filter(|i| severity.is_none_or(|s| i.severity == s))
            .filter(|i| confidence.is_none_or(|c| i.confidence == c))
            .count())
    }
}

impl Resolver for Gql<'_> {
    type Obj = Obj;

    fn type_of(&self, obj: &Obj) -> String {
        match obj {
            Obj::Query => "Query",
            Obj::SiteTree => "SiteTree",
            Obj::Site(_) => "Site",
            Obj::Folder(_) => "Folder",
            Obj::Scope(_) => "Scope",
            Obj::ScopeV2(_) => "ScopeV2",
            Obj::Scan(..) => "Scan",
            Obj::Delta(..) => "ScanDelta",
            Obj::Counts(..) => "IssueCounts",
            Obj::ByConfidence(..) => "CountsByConfidence",
            Obj::Issue(..) => "Issue",
            Obj::IssueType(..) => "IssueType",
        }
        .to_owned()
    }

    fn resolve(&mut self, obj: &Obj, call: &FieldCall<'_>) -> Result<Out<Obj>, GqlError> {
        let v = |x: Json| Ok(Out::Value(x));
        match (obj, call.name) {
            (Obj::Query, "site_tree") => Ok(Out::Object(Obj::SiteTree)),
            (Obj::Query, "scans") => self.scans(call),
            (Obj::Query, "scan") => {
                let id = call.arg_str("id").unwrap_or("");
                match self.st.scan(id) {
                    Some((si, sc)) => Ok(Out::Object(Obj::Scan(si, sc))),
                    None => Err(GqlError::new(format!("Scan with ID {id} not found"))),
                }
            }
            (Obj::Query, "issue") => self.issue_by_serial(call),
            (Obj::SiteTree, "sites") => Ok(Out::List(
                (0..self.st.sites.len())
                    .map(|i| Out::Object(Obj::Site(i)))
                    .collect(),
            )),
            (Obj::SiteTree, "folders") => Ok(Out::List(
                (0..self.st.folders.len())
                    .map(|i| Out::Object(Obj::Folder(i)))
                    .collect(),
            )),
            (Obj::Folder(i), field) => {
                let f = self
                    .st
                    .folders
                    .get(*i)
                    .ok_or_else(|| GqlError::new("The folder no longer exists"))?;
                match field {
                    "id" => v(json!(f.id.to_string())),
                    "name" => v(json!(f.name)),
                    "parent_id" => v(json!(f.parent_id.to_string())),
                    _ => Ok(Out::Null),
                }
            }
            (Obj::Site(i), field) => {
                let s = self.site(*i)?;
                match field {
                    "id" => v(json!(s.id.to_string())),
                    "name" => v(json!(s.name)),
                    "parent_id" => v(json!(s.parent_id.to_string())),
                    "ephemeral" => v(json!(false)),
                    "scope" => Ok(Out::Object(Obj::Scope(*i))),
                    "scope_v2" => Ok(Out::Object(Obj::ScopeV2(*i))),
                    _ => Ok(Out::Null),
                }
            }
            (Obj::Scope(i), field) => match field {
                "included_urls" => Ok(strings(&self.site(*i)?.urls)),
                "excluded_urls" => Ok(Out::List(Vec::new())),
                _ => Ok(Out::Null),
            },
            (Obj::ScopeV2(i), field) => match field {
                "start_urls" | "in_scope_url_prefixes" => Ok(strings(&self.site(*i)?.urls)),
                "out_of_scope_url_prefixes" => Ok(Out::List(Vec::new())),
                _ => Ok(Out::Null),
            },
            (Obj::Scan(si, sc), field) => {
                let (site, scan) = self.scan(*si, *sc)?;
                match field {
                    "id" => v(json!(scan.id.to_string())),
                    "site_id" => v(json!(site.id.to_string())),
                    "site_name" => v(json!(site.name)),
                    "status" => v(json!(scan.status.as_str())),
                    "scheduled_start_time" | "start_time" => Ok(time(scan.start_time)),
                    "end_time" => Ok(time(scan.end_time)),
                    "duration_in_seconds" => Ok(match (scan.start_time, scan.end_time) {
                        (Some(s), Some(e)) => Out::Value(json!((e - s).num_seconds())),
                        _ => Out::Null,
                    }),
                    "scan_delta" => Ok(Out::Object(Obj::Delta(*si, *sc))),
                    "issue_counts" => Ok(Out::Object(Obj::Counts(*si, *sc))),
                    "issues" => self.issues(*si, *sc, call),
                    _ => Ok(Out::Null),
                }
            }
            (Obj::Delta(si, sc), field) => {
                let current: HashSet<u32> = self.scan(*si, *sc)?.1.issues.iter().copied().collect();
                let h = self.history(*si, *sc)?;
                let previous = h.previous.clone().unwrap_or_default();
                let n = match field {
                    "new_issue_count" => current.iter().filter(|i| !h.earlier.contains(i)).count(),
                    "repeated_issue_count" => current.intersection(&previous).count(),
                    "regressed_issue_count" => current
                        .iter()
                        .filter(|i| h.earlier.contains(i) && !previous.contains(i))
                        .count(),
                    "resolved_issue_count" => previous.difference(&current).count(),
                    _ => return Ok(Out::Null),
                };
                v(json!(n))
            }
            (Obj::Counts(si, sc), field) => match field {
                "total" => v(json!(self.counts(*si, *sc, None, None)?)),
                "high" => Ok(Out::Object(Obj::ByConfidence(*si, *sc, "high"))),
                "medium" => Ok(Out::Object(Obj::ByConfidence(*si, *sc, "medium"))),
                "low" => Ok(Out::Object(Obj::ByConfidence(*si, *sc, "low"))),
                "info" => Ok(Out::Object(Obj::ByConfidence(*si, *sc, "info"))),
                _ => Ok(Out::Null),
            },
            (Obj::ByConfidence(si, sc, severity), field) => {
                let confidence = match field {
                    "total" => None,
                    "certain" | "firm" | "tentative" => Some(field),
                    _ => return Ok(Out::Null),
                };
                v(json!(self.counts(*si, *sc, Some(severity), confidence)?))
            }
            (Obj::Issue(si, sc, idx), field) => {
                let issue = self.issue(*si, *idx)?;
                match field {
                    "issue_type" => Ok(Out::Object(Obj::IssueType(*si, *idx))),
                    "confidence" => v(json!(if issue.false_positive {
                        "false_positive"
                    } else {
                        issue.confidence
                    })),
                    "display_confidence" => Ok(if issue.false_positive {
                        Out::Value(json!("false_positive"))
                    } else {
                        Out::Null
                    }),
                    "serial_number" => v(json!(serial_number(self.scan(*si, *sc)?.1.id, *idx))),
                    "severity" => v(json!(issue.severity)),
                    "description_html" => v(json!(issue.description_html.clone().unwrap_or_else(
                        || format!(
                            "Burp Scanner found this issue at <b>{}{}</b>.",
                            issue.origin, issue.path
                        )
                    ))),
                    "remediation_html" => Ok(issue
                        .remediation_html
                        .as_ref()
                        .map_or(Out::Null, |r| Out::Value(json!(r)))),
                    "origin" => v(json!(issue.origin)),
                    "path" => v(json!(issue.path)),
                    "accepted_risk" => v(json!(issue.accepted_risk)),
                    "novelty" => {
                        let h = self.history(*si, *sc)?;
                        let novelty = match &h.previous {
                            None => "first",
                            Some(p) if p.contains(idx) => "repeated",
                            Some(_) if h.earlier.contains(idx) => "regression",
                            Some(_) => "new",
                        };
                        v(json!(novelty))
                    }
                    _ => Ok(Out::Null),
                }
            }
            (Obj::IssueType(si, idx), field) => {
                let kind = &self.issue(*si, *idx)?.kind;
                let text =
                    |t: &Option<String>| Ok(t.as_ref().map_or(Out::Null, |s| Out::Value(json!(s))));
                match field {
                    "type_index" => v(json!(kind.type_index.to_string())),
                    "name" => v(json!(kind.name)),
                    "description_html" => text(&kind.description_html),
                    "remediation_html" => text(&kind.remediation_html),
                    "vulnerability_classifications_html" => {
                        text(&kind.vulnerability_classifications_html)
                    }
                    "references_html" => text(&kind.references_html),
                    _ => Ok(Out::Null),
                }
            }
            _ => Ok(Out::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_schema_parses() {
        let s = super::schema();
        assert!(s.get("Scan").and_then(|t| t.field("issues")).is_some());
    }
}

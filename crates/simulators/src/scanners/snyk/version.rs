//! The REST API's mandatory `version` query parameter, resolved as Snyk's versioning
//! middleware (`snyk/vervet` versionware) resolves it: missing or malformed → 400; otherwise
//! the newest release of the endpoint published on or before the requested date, at the
//! requested stability or a more stable one; none → 404.

use super::reply::ApiError;
use axum::http::StatusCode;
use chrono::NaiveDate;

/// Each endpoint's releases (`x-snyk-api-releases` in Snyk's REST OpenAPI document).
pub const SELF: &[&str] = &[
    "2022-03-01~experimental",
    "2022-09-14~experimental",
    "2024-04-22",
];
pub const ORGS: &[&str] = &[
    "2022-04-06~experimental",
    "2022-12-15~beta",
    "2023-05-29",
    "2024-02-28",
];
pub const ORG: &[&str] = &["2022-04-06~experimental", "2022-12-15~beta", "2023-05-29"];
pub const PROJECTS: &[&str] = &[
    "2021-06-04~beta",
    "2022-08-12~experimental",
    "2022-12-21~experimental",
    "2023-02-15",
    "2023-08-28",
    "2023-09-11",
    "2023-11-06",
    "2024-05-31",
];
pub const ISSUES: &[&str] = &["2023-03-10~experimental", "2023-09-29~beta", "2024-01-23"];

fn stability_rank(s: &str) -> Option<u8> {
    match s {
        "wip" | "work-in-progress" => Some(0),
        "experimental" => Some(1),
        "beta" => Some(2),
        "ga" => Some(3),
        _ => None,
    }
}

/// A version: a date (`None`: today) and a stability.
fn parse(text: &str) -> Option<(Option<NaiveDate>, u8)> {
    if let Some(rank) = stability_rank(text).filter(|_| text != "ga") {
        return Some((None, rank));
    }
    let (date, stability) = match text.split_once('~') {
        Some((d, s)) => (d, stability_rank(s).filter(|_| s != "ga")?),
        None => (text, 3),
    };
    if date.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .map(|d| (Some(d), stability))
}

/// The requested and served versions, or the refusal.
pub fn resolve(requested: Option<&str>, releases: &[&str]) -> Result<(String, String), ApiError> {
    let Some(text) = requested.filter(|t| !t.is_empty()) else {
        return Err(ApiError::bad_parameter(
            "version",
            "missing required query parameter 'version'",
        ));
    };
    let (date, stability) = parse(text)
        .ok_or_else(|| ApiError::bad_parameter("version", format!("invalid version \"{text}\"")))?;
    let served = releases
        .iter()
        .filter_map(|r| parse(r).map(|(d, s)| (*r, d, s)))
        .filter(|(_, d, s)| *s >= stability && date.is_none_or(|want| d.is_some_and(|d| d <= want)))
        .max_by_key(|(_, d, s)| (*d, *s))
        .map(|(r, _, _)| r.to_owned());
    match served {
        Some(s) => Ok((text.to_owned(), s)),
        None => Err(ApiError {
            status: StatusCode::NOT_FOUND,
            ..ApiError::bad_parameter("version", "no matching version")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_resolve_to_the_newest_release_not_after_them() {
        assert_eq!(resolve(Some("2024-10-15"), ISSUES).unwrap().1, "2024-01-23");
        assert_eq!(
            resolve(Some("2023-12-01"), ISSUES).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            resolve(Some("2023-12-01~beta"), ISSUES).unwrap().1,
            "2023-09-29~beta"
        );
        assert_eq!(resolve(Some("beta"), ISSUES).unwrap().1, "2024-01-23");
        assert_eq!(
            resolve(None, ISSUES).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            resolve(Some("2024-13-01"), ISSUES).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            resolve(Some("2024-10-15~ga"), ISSUES).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            resolve(Some("2021-01-01"), PROJECTS).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
    }
}

//! The findings list's query string: parsed leniently where a form leaves fields empty, strictly
//! where a value is wrong (the page says which), and written back into links for sorting and
//! paging that keep every other filter.

use domain::{EngagementId, FindingGroupId, ProductId, Severity, Status, TestId};
use store::PageRequest;
use store::findings::{Filter, Ordering};

pub const PAGE_SIZES: [i64; 4] = [25, 50, 100, 200];
const DEFAULT_PAGE_SIZE: i64 = 50;

/// What the list was asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    pub severities: Vec<Severity>,
    pub statuses: Vec<Status>,
    pub product: Option<i64>,
    pub engagement: Option<i64>,
    pub test: Option<i64>,
    pub finding_group: Option<i64>,
    pub scan_type: String,
    pub component: String,
    pub cwe: Option<i32>,
    pub vulnerability_id: String,
    pub text: String,
    /// As given (`-severity`, `title`…); empty for the default.
    pub ordering: String,
    pub page_size: i64,
    pub offset: i64,
}

impl Params {
    /// Parses a query string. Several values of `severity` and `status` (checkboxes) or comma
    /// lists are both accepted; unknown parameters are ignored. Each bad value becomes an error
    /// naming its parameter, and the parameter is dropped.
    pub fn parse(query: &str) -> (Params, Vec<String>) {
        let mut p = Params { page_size: DEFAULT_PAGE_SIZE, ..Params::default() };
        let mut errors = Vec::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            match k.as_ref() {
                "severity" => {
                    for s in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        match Severity::parse(s) {
                            Ok(s) if !p.severities.contains(&s) => p.severities.push(s),
                            Ok(_) => {}
                            Err(e) => errors.push(format!("severity: {e}")),
                        }
                    }
                }
                "status" => {
                    for s in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        match Status::parse(s) {
                            Ok(s) if !p.statuses.contains(&s) => p.statuses.push(s),
                            Ok(_) => {}
                            Err(e) => errors.push(format!("status: {e}")),
                        }
                    }
                }
                "product" => match v.parse::<i64>() {
                    Ok(id) if id > 0 => p.product = Some(id),
                    _ => errors.push(format!("product: '{v}' is not a product id")),
                },
                "engagement" => match v.parse::<i64>() {
                    Ok(id) if id > 0 => p.engagement = Some(id),
                    _ => errors.push(format!("engagement: '{v}' is not an engagement id")),
                },
                "finding_group" => match v.parse::<i64>() {
                    Ok(id) if id > 0 => p.finding_group = Some(id),
                    _ => errors.push(format!("finding_group: '{v}' is not a finding group id")),
                },
                "test" => match v.parse::<i64>() {
                    Ok(id) if id > 0 => p.test = Some(id),
                    _ => errors.push(format!("test: '{v}' is not a test id")),
                },
                "cwe" => match v.trim_start_matches("CWE-").trim_start_matches("cwe-").parse::<i32>() {
                    Ok(n) if n > 0 => p.cwe = Some(n),
                    _ => errors.push(format!("cwe: '{v}' is not a CWE number (79 or CWE-79)")),
                },
                "scan_type" => p.scan_type = v.to_owned(),
                "component" => p.component = v.to_owned(),
                "vulnerability_id" => p.vulnerability_id = v.to_owned(),
                "q" => p.text = v.to_owned(),
                "ordering" => match Ordering::parse(v) {
                    Some(_) => p.ordering = v.to_owned(),
                    None => errors.push(format!("ordering: unknown ordering '{v}'; use one of {}", Ordering::CHOICES)),
                },
                "limit" => match v.parse::<i64>() {
                    Ok(n) if PAGE_SIZES.contains(&n) => p.page_size = n,
                    _ => errors.push(format!("limit: show 25, 50, 100 or 200 findings per page, not '{v}'")),
                },
                "offset" => match v.parse::<i64>() {
                    Ok(n) if n >= 0 => p.offset = n,
                    _ => errors.push(format!("offset: '{v}' is not a position in the list")),
                },
                _ => {}
            }
        }
        (p, errors)
    }

    /// The store's filter (the same one the API's list uses).
    pub fn filter(&self) -> Filter {
        let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Filter {
            product: self.product.map(ProductId),
            engagement: self.engagement.map(EngagementId),
            test: self.test.map(TestId),
            finding_group: self.finding_group.map(FindingGroupId),
            severities: self.severities.clone(),
            statuses: self.statuses.clone(),
            cwe: self.cwe,
            vulnerability_id: text(&self.vulnerability_id),
            component: text(&self.component),
            text: text(&self.text),
            scan_type: text(&self.scan_type),
            ordering: Ordering::parse(&self.ordering).unwrap_or_default(),
            ..Filter::default()
        }
    }

    pub fn page(&self) -> PageRequest {
        PageRequest::new(Some(self.page_size), Some(self.offset))
    }

    /// The filters as query pairs, without ordering and paging.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for s in &self.severities {
            out.push(("severity", s.as_str().to_owned()));
        }
        for s in &self.statuses {
            out.push(("status", s.as_str().to_owned()));
        }
        for (k, v) in [("product", self.product), ("engagement", self.engagement), ("test", self.test), ("finding_group", self.finding_group)] {
            if let Some(id) = v {
                out.push((k, id.to_string()));
            }
        }
        for (k, v) in [
            ("scan_type", &self.scan_type),
            ("component", &self.component),
            ("vulnerability_id", &self.vulnerability_id),
            ("q", &self.text),
        ] {
            if !v.is_empty() {
                out.push((k, v.clone()));
            }
        }
        if let Some(c) = self.cwe {
            out.push(("cwe", c.to_string()));
        }
        out
    }

    /// `/findings?…` with these filters, the given ordering and offset, and this page size.
    pub fn url(&self, ordering: &str, offset: i64) -> String {
        let mut pairs = self.pairs();
        if !ordering.is_empty() {
            pairs.push(("ordering", ordering.to_owned()));
        }
        if self.page_size != DEFAULT_PAGE_SIZE {
            pairs.push(("limit", self.page_size.to_string()));
        }
        if offset > 0 {
            pairs.push(("offset", offset.to_string()));
        }
        if pairs.is_empty() {
            return "/findings".into();
        }
        let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        format!("/findings?{q}")
    }

    /// The link of a sortable column header: first click sorts by `primary`, a second click
    /// (when already sorted so) by `reverse`. Sorting starts again at the first page.
    pub fn sort_url(&self, primary: &str, reverse: &str) -> String {
        let next = if self.current_ordering() == primary { reverse } else { primary };
        self.url(next, 0)
    }

    /// The ordering in force (the store's default when none was asked for).
    fn current_ordering(&self) -> &str {
        if self.ordering.is_empty() { "-severity" } else { &self.ordering }
    }

    /// ▲ or ▼ next to the header the list is sorted by.
    pub fn sort_mark(&self, primary: &str, reverse: &str) -> &'static str {
        match self.current_ordering() {
            c if c == primary && c.starts_with('-') => "▼",
            c if c == primary => "▲",
            c if c == reverse && c.starts_with('-') => "▼",
            c if c == reverse => "▲",
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_checkboxes_lists_and_empty_fields() {
        let (p, errors) = Params::parse("severity=high&severity=critical,high&status=active&product=&cwe=CWE-79&q=+sql+&limit=100&offset=200");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(p.severities, vec![Severity::High, Severity::Critical]);
        assert_eq!(p.statuses, vec![Status::Active]);
        assert_eq!(p.product, None);
        assert_eq!(p.cwe, Some(79));
        assert_eq!(p.text, "sql");
        assert_eq!(p.page(), PageRequest::new(Some(100), Some(200)));
        let f = p.filter();
        assert_eq!(f.text.as_deref(), Some("sql"));
        assert_eq!(f.component, None);
    }

    #[test]
    fn bad_values_are_named() {
        let (p, errors) = Params::parse("severity=urgent&product=abc&cwe=x&ordering=colour&limit=7&offset=-1&test=0&engagement=x");
        assert_eq!(errors.len(), 8, "{errors:?}");
        for (e, field) in errors.iter().zip(["severity", "product", "cwe", "ordering", "limit", "offset", "test", "engagement"]) {
            assert!(e.starts_with(field), "{e}");
        }
        assert_eq!(p, Params { page_size: 50, ..Params::default() });
    }

    #[test]
    fn links_keep_filters() {
        let (t, _) = Params::parse("test=4001&engagement=3001");
        assert_eq!(t.url("", 0), "/findings?engagement=3001&test=4001");
        assert_eq!((t.filter().test, t.filter().engagement), (Some(TestId(4001)), Some(EngagementId(3001))));
        let (p, _) = Params::parse("severity=high&q=a b&ordering=title&offset=50");
        assert_eq!(p.url("title", 100), "/findings?severity=high&q=a+b&ordering=title&offset=100");
        assert_eq!(p.sort_url("-severity", "severity"), "/findings?severity=high&q=a+b&ordering=-severity");
        assert_eq!(p.sort_url("title", "title"), "/findings?severity=high&q=a+b&ordering=title");
        assert_eq!(p.sort_mark("title", "title"), "▲");
        assert_eq!(p.sort_mark("-severity", "severity"), "");
        let (d, _) = Params::parse("");
        assert_eq!(d.url("", 0), "/findings");
        assert_eq!(d.sort_mark("-severity", "severity"), "▼");
        assert_eq!(d.sort_url("-severity", "severity"), "/findings?ordering=severity");
    }
}

//! Offset pagination the way GitLab (Kaminari behind Grape) answers it: `page` and `per_page`
//! (default 20, at most 100, larger values capped), and the headers `x-page`, `x-per-page`,
//! `x-next-page`, `x-prev-page`, `x-total`, `x-total-pages` and `Link` (`prev`, `next`,
//! `first`, `last`). Past 10,000 records GitLab leaves out `x-total`, `x-total-pages` and the
//! `last` link, so this does too.

/// One requested page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetPage {
    pub page: usize,
    pub per_page: usize,
}

impl OffsetPage {
    pub const DEFAULT_PER_PAGE: usize = 20;
    pub const MAX_PER_PAGE: usize = 100;
    /// Above this many records the totals are not counted.
    pub const COUNT_LIMIT: usize = 10_000;

    /// From the (already type-checked) parameters. Pages below 1 mean the first page; a
    /// `per_page` below 1 means the default and above the maximum means the maximum.
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> OffsetPage {
        let page = page
            .filter(|p| *p >= 1)
            .map_or(1, |p| usize::try_from(p).unwrap_or(usize::MAX));
        let per_page = match per_page {
            Some(n) if n >= 1 => usize::try_from(n)
                .unwrap_or(usize::MAX)
                .min(Self::MAX_PER_PAGE),
            _ => Self::DEFAULT_PER_PAGE,
        };
        OffsetPage { page, per_page }
    }

    /// The items of this page.
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.page - 1)
            .saturating_mul(self.per_page)
            .min(items.len());
        let end = start.saturating_add(self.per_page).min(items.len());
        &items[start..end]
    }

    pub fn total_pages(&self, total: usize) -> usize {
        total.div_ceil(self.per_page).max(1)
    }

    /// The pagination headers for a list of `total` items requested at `url` (whose query
    /// string is kept in the links, with `page` and `per_page` replaced).
    pub fn headers(&self, total: usize, url: &url::Url) -> Vec<(&'static str, String)> {
        let counted = total <= Self::COUNT_LIMIT;
        let last = self.total_pages(total);
        let has_next = self.page.saturating_mul(self.per_page) < total;
        let next = has_next.then_some(self.page + 1);
        let prev = (self.page > 1).then(|| self.page - 1);
        let mut links = Vec::new();
        if let Some(p) = prev {
            links.push(format!("<{}>; rel=\"prev\"", self.link(url, p)));
        }
        if let Some(n) = next {
            links.push(format!("<{}>; rel=\"next\"", self.link(url, n)));
        }
        links.push(format!("<{}>; rel=\"first\"", self.link(url, 1)));
        if counted {
            links.push(format!("<{}>; rel=\"last\"", self.link(url, last)));
        }
        let mut h = vec![
            ("x-page", self.page.to_string()),
            ("x-per-page", self.per_page.to_string()),
            (
                "x-next-page",
                next.map(|n| n.to_string()).unwrap_or_default(),
            ),
            (
                "x-prev-page",
                prev.map(|n| n.to_string()).unwrap_or_default(),
            ),
            ("link", links.join(", ")),
        ];
        if counted {
            h.push(("x-total", total.to_string()));
            h.push(("x-total-pages", last.to_string()));
        }
        h
    }

    /// The request's URL at page `page`, its parameters sorted as Rails' `to_query` sorts them.
    fn link(&self, url: &url::Url, page: usize) -> String {
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.push(("page".into(), page.to_string()));
        pairs.push(("per_page".into(), self.per_page.to_string()));
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = url.clone();
        out.set_query(None);
        out.query_pairs_mut().extend_pairs(pairs);
        out.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(h: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
        h.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_documented_example() {
        // GitLab's docs: 8 notes, per_page=3, page=2.
        let url = url::Url::parse(
            "https://gitlab.example.com/api/v4/projects/8/issues/8/notes?per_page=3&page=2",
        )
        .unwrap();
        let p = OffsetPage::new(Some(2), Some(3));
        let h = p.headers(8, &url);
        assert_eq!(header(&h, "x-next-page"), Some("3"));
        assert_eq!(header(&h, "x-prev-page"), Some("1"));
        assert_eq!(header(&h, "x-total"), Some("8"));
        assert_eq!(header(&h, "x-total-pages"), Some("3"));
        assert_eq!(
            header(&h, "link"),
            Some(
                "<https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=1&per_page=3>; rel=\"prev\", \
                 <https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=3&per_page=3>; rel=\"next\", \
                 <https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=1&per_page=3>; rel=\"first\", \
                 <https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=3&per_page=3>; rel=\"last\""
            )
        );
        assert_eq!(p.slice(&[1, 2, 3, 4, 5, 6, 7, 8]), &[4, 5, 6]);
    }

    #[test]
    fn limits_and_edges() {
        assert_eq!(OffsetPage::new(None, Some(500)).per_page, 100);
        assert_eq!(
            OffsetPage::new(Some(0), Some(0)),
            OffsetPage {
                page: 1,
                per_page: 20
            }
        );
        let url = url::Url::parse("http://h/x").unwrap();
        let p = OffsetPage::new(Some(5), None);
        assert!(p.slice(&[1, 2, 3]).is_empty());
        let h = OffsetPage::new(None, None).headers(0, &url);
        assert_eq!(header(&h, "x-total-pages"), Some("1"));
        assert_eq!(header(&h, "x-next-page"), Some(""));
        let h = OffsetPage::new(None, Some(100)).headers(20_000, &url);
        assert_eq!(header(&h, "x-total"), None);
        assert!(!header(&h, "link").unwrap_or("").contains("rel=\"last\""));
    }
}

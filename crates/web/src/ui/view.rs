//! Turning domain values into what templates show: severity badges, times, and the
//! "Integrator Tickets" column (vendor icon, key, link, changelog). Pure functions, so that
//! templates stay free of logic.

use crate::api::tickets::TicketOut;
use chrono::{DateTime, Utc};
use domain::Severity;
use domain::tracker::{LinkState, Vendor};

/// The CSS class of a severity badge (colours in `assets/app.css`).
pub fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "sev sev-critical",
        Severity::High => "sev sev-high",
        Severity::Medium => "sev sev-medium",
        Severity::Low => "sev sev-low",
        Severity::Info => "sev sev-info",
    }
}

/// `2026-11-30 07:15 UTC`, or an em dash for never.
/// The Previous and Next links around a page of `count` results, `url(offset)` each: no
/// Previous on the first page, no Next on the last.
pub fn pager(page: store::PageRequest, count: i64, url: impl Fn(i64) -> String) -> (Option<String>, Option<String>) {
    let prev = (page.offset > 0).then(|| url((page.offset - page.limit).max(0)));
    let next = (page.offset + page.limit < count).then(|| url(page.offset + page.limit));
    (prev, next)
}

pub fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "—".into())
}

/// A small icon per tracker: our own drawings (a tile in the vendor's colour with its initials),
/// inline so that they need no request. Constants, never user data, so templates may print
/// them unescaped.
pub fn vendor_icon(v: Vendor) -> &'static str {
    match v {
        Vendor::GitHub => r##"<svg class="icon" viewBox="0 0 16 16" width="16" height="16" role="img" aria-label="GitHub"><title>GitHub</title><rect width="16" height="16" rx="8" fill="#24292f"/><text x="8" y="11.5" font-size="8" font-family="sans-serif" font-weight="700" text-anchor="middle" fill="#fff">GH</text></svg>"##,
        Vendor::GitLab => r##"<svg class="icon" viewBox="0 0 16 16" width="16" height="16" role="img" aria-label="GitLab"><title>GitLab</title><path d="M8 15 1 9.6l1.6-7 2.2 5h6.4l2.2-5 1.6 7z" fill="#fc6d26"/></svg>"##,
        Vendor::Jira => r##"<svg class="icon" viewBox="0 0 16 16" width="16" height="16" role="img" aria-label="Jira"><title>Jira</title><rect width="16" height="16" rx="3" fill="#0052cc"/><text x="8" y="12" font-size="11" font-family="sans-serif" font-weight="700" text-anchor="middle" fill="#fff">J</text></svg>"##,
        Vendor::AzureDevops => r##"<svg class="icon" viewBox="0 0 16 16" width="16" height="16" role="img" aria-label="Azure DevOps"><title>Azure DevOps</title><rect width="16" height="16" rx="3" fill="#0078d4"/><text x="8" y="12" font-size="11" font-family="sans-serif" font-weight="700" text-anchor="middle" fill="#fff">A</text></svg>"##,
        Vendor::ServiceNow => r##"<svg class="icon" viewBox="0 0 16 16" width="16" height="16" role="img" aria-label="ServiceNow"><title>ServiceNow</title><rect width="16" height="16" rx="3" fill="#293e40"/><text x="8" y="11.5" font-size="7.5" font-family="sans-serif" font-weight="700" text-anchor="middle" fill="#62d84e">SN</text></svg>"##,
    }
}

/// A link target from a tracker, only if it is a web address: a `javascript:` or `data:` URL
/// stored on a ticket must never become a clickable link.
pub fn web_link(url: Option<&str>) -> Option<String> {
    let u = url?.trim();
    let lower = u.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| u.to_owned())
}

pub struct ChangeView {
    pub at: String,
    pub action: String,
    pub detail: String,
    pub actor: String,
}

/// One ticket in the "Integrator Tickets" column or on a finding's page.
pub struct TicketView {
    pub icon: &'static str,
    pub vendor: &'static str,
    /// The tracker's key (`acme/api#12`), or a word for a ticket not created yet.
    pub key: String,
    pub url: Option<String>,
    pub linked_at: String,
    pub last_pushed_at: String,
    /// `linked`, `creating` or `deleted`.
    pub state: &'static str,
    /// The ticket belongs to the finding's group (the finding is pushed as part of it).
    pub via_group: bool,
    pub changelog: Vec<ChangeView>,
    /// "Linked … · last changed …", for the hover title in lists.
    pub summary: String,
}

pub fn ticket(t: TicketOut, via_group: bool) -> TicketView {
    let TicketOut { ticket, changelog } = t;
    let key = match (&ticket.key, ticket.link_state) {
        (Some(k), _) => k.clone(),
        (None, LinkState::Creating) => "being created".into(),
        (None, _) => format!("ticket {}", ticket.id.0),
    };
    let linked_at = time(ticket.linked_at);
    let last_pushed_at = time(ticket.last_pushed_at);
    TicketView {
        icon: vendor_icon(ticket.vendor),
        vendor: ticket.vendor.label(),
        summary: format!("{} ticket · linked {linked_at} · last changed {last_pushed_at}", ticket.vendor.label()),
        key,
        url: web_link(ticket.url.as_deref()),
        linked_at,
        last_pushed_at,
        state: ticket.link_state.as_str(),
        via_group,
        changelog: changelog
            .unwrap_or_default()
            .into_iter()
            .map(|c| ChangeView { at: time(Some(c.at)), action: c.action, detail: c.detail, actor: c.actor })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_are_links() {
        assert_eq!(web_link(Some("https://github.com/a/b/issues/1")).as_deref(), Some("https://github.com/a/b/issues/1"));
        assert_eq!(web_link(Some(" HTTP://jira.local/browse/X-1")).as_deref(), Some("HTTP://jira.local/browse/X-1"));
        assert_eq!(web_link(Some("javascript:alert(1)")), None);
        assert_eq!(web_link(Some("data:text/html,x")), None);
        assert_eq!(web_link(None), None);
    }

    #[test]
    fn every_vendor_has_an_icon_and_every_severity_a_colour() {
        for v in Vendor::ALL {
            assert!(vendor_icon(v).contains(v.label()), "{v:?}");
        }
        for s in Severity::ALL {
            assert!(severity_class(s).starts_with("sev sev-"));
        }
    }

    #[test]
    fn times_read_plainly() {
        assert_eq!(time(None), "—");
        let t = DateTime::parse_from_rfc3339("2026-11-30T07:15:09Z").unwrap().with_timezone(&Utc);
        assert_eq!(time(Some(t)), "2026-11-30 07:15 UTC");
    }
}

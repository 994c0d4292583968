//! Ticket text from templates (minijinja), and the fields a push wants.
//!
//! Templates see one flat context: `id`, `title`, `severity`, `status`, `kind` (`finding` or
//! `group`), the finding's fields (`description`, `cwe`, `vulnerability_ids`, `component`,
//! `file_path`, `line`, `endpoints`, …), `url` (the finding in vulnbridge), `product`,
//! `engagement`, `test`; a group also has `findings`, a list of such findings. Undefined names
//! are errors, caught when the mapping is saved.

use super::{FieldValue, MARKER_LABEL, MappingConfig, Marker, TicketFields, TicketState};
use crate::{Finding, FindingGroup, Severity, Status, ValidationError};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// The built-in body template (Markdown), used when a mapping has none of its own.
pub const DEFAULT_BODY_TEMPLATE: &str = include_str!("body.md.j2");

/// Titles are one line; trackers cap them (GitHub 256, GitLab 255 characters).
const TITLE_MAX: usize = 250;
/// A group ticket lists at most this many findings in the built-in template.
pub const GROUP_LIST_MAX: usize = 100;

/// Where a finding sits, for ticket text.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Place {
    pub product: String,
    pub engagement: String,
    pub test: String,
}

/// A finding as templates see it.
#[derive(Clone, Debug, Serialize)]
pub struct FindingView {
    pub kind: &'static str,
    pub id: i64,
    pub title: String,
    pub severity: &'static str,
    pub status: &'static str,
    pub verified: bool,
    pub description: String,
    pub mitigation: Option<String>,
    pub impact: Option<String>,
    pub references: Option<String>,
    pub steps_to_reproduce: Option<String>,
    pub cwe: Option<i32>,
    pub cwes: Vec<i32>,
    pub vulnerability_ids: Vec<String>,
    pub cvss_v3_score: Option<f64>,
    pub cvss_v3_vector: Option<String>,
    pub epss_score: Option<f64>,
    pub known_exploited: bool,
    /// `name` or `name@version`.
    pub component: Option<String>,
    pub component_purl: Option<String>,
    pub fix_version: Option<String>,
    pub file_path: Option<String>,
    pub line: Option<i32>,
    pub endpoints: Vec<String>,
    pub rule: Option<String>,
    pub date: String,
    pub url: Option<String>,
    pub product: String,
    pub engagement: String,
    pub test: String,
}

impl FindingView {
    pub fn new(f: &Finding, place: &Place, url: Option<String>) -> FindingView {
        FindingView {
            kind: "finding",
            id: f.id.0,
            title: f.title.clone(),
            severity: f.severity.label(),
            status: f.status.label(),
            verified: f.verified,
            description: f.description.clone(),
            mitigation: f.mitigation.clone(),
            impact: f.impact.clone(),
            references: f.references.clone(),
            steps_to_reproduce: f.steps_to_reproduce.clone(),
            cwe: f.cwe,
            cwes: f.cwes.clone(),
            vulnerability_ids: f.vulnerability_ids.clone(),
            cvss_v3_score: f.cvss_v3_score,
            cvss_v3_vector: f.cvss_v3_vector.clone(),
            epss_score: f.epss_score,
            known_exploited: f.known_exploited,
            component: f.component_name.as_ref().map(|n| match &f.component_version {
                Some(v) => format!("{n}@{v}"),
                None => n.clone(),
            }),
            component_purl: f.component_purl.clone(),
            fix_version: f.fix_version.clone(),
            file_path: f.file_path.clone(),
            line: f.line,
            endpoints: f.endpoints.iter().map(|e| e.to_string()).collect(),
            rule: f.vuln_id_from_tool.clone(),
            date: f.date.to_string(),
            url,
            product: place.product.clone(),
            engagement: place.engagement.clone(),
            test: place.test.clone(),
        }
    }
}

/// A finding group as templates see it.
#[derive(Clone, Debug, Serialize)]
pub struct GroupView {
    pub kind: &'static str,
    pub id: i64,
    pub title: String,
    pub severity: &'static str,
    pub status: &'static str,
    pub group_by: &'static str,
    pub findings: Vec<FindingView>,
    pub finding_count: usize,
    pub url: Option<String>,
    pub product: String,
    pub engagement: String,
    pub test: String,
}

impl GroupView {
    /// `findings` are the group's members, most severe first is how the ticket lists them.
    pub fn new(g: &FindingGroup, findings: Vec<FindingView>, place: &Place, url: Option<String>) -> GroupView {
        GroupView {
            kind: "group",
            id: g.id.0,
            title: g.name.clone(),
            severity: g.severity.label(),
            status: g.status.label(),
            group_by: g.group_by.as_str(),
            finding_count: findings.len(),
            findings,
            url,
            product: place.product.clone(),
            engagement: place.engagement.clone(),
            test: place.test.clone(),
        }
    }
}

/// What a ticket is rendered from. (One per push, never in bulk: the size difference between
/// the variants costs nothing worth a box.)
#[derive(Clone, Debug)]
#[expect(clippy::large_enum_variant, reason = "one per push; boxing buys nothing")]
pub enum SubjectView {
    Finding(FindingView),
    Group(GroupView),
}

impl SubjectView {
    /// When the finding was found (a group: its earliest finding), for due dates.
    pub fn date(&self) -> Option<chrono::NaiveDate> {
        let parse = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
        match self {
            SubjectView::Finding(f) => parse(&f.date),
            SubjectView::Group(g) => g.findings.iter().filter_map(|f| parse(&f.date)).min(),
        }
    }

    fn context(&self) -> minijinja::Value {
        match self {
            SubjectView::Finding(f) => minijinja::Value::from_serialize(f),
            SubjectView::Group(g) => minijinja::Value::from_serialize(g),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the {template} template cannot be rendered: {reason}")]
pub struct RenderError {
    pub template: &'static str,
    pub reason: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Markdown, not HTML: no escaping. Trailing newlines of blocks are trimmed for tidy text.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env
}

fn render_one(env: &Environment, name: &'static str, source: &str, ctx: &minijinja::Value) -> Result<String, RenderError> {
    env.render_str(source, ctx).map_err(|e| RenderError {
        template: name,
        reason: describe(&e),
    })
}

fn describe(e: &minijinja::Error) -> String {
    let mut s = e.detail().map(str::to_owned).unwrap_or_else(|| e.kind().to_string());
    if let Some(line) = e.line() {
        s.push_str(&format!(" (line {line})"));
    }
    s
}

/// Renders title and body. The title is made one line and capped; the marker is appended to
/// the body outside the template, so no template can drop it.
pub fn render(config: &MappingConfig, view: &SubjectView, marker: &Marker) -> Result<(String, String), RenderError> {
    let env = environment();
    let ctx = view.context();
    let title = render_one(&env, "title", &config.title_template, &ctx)?;
    let body_src = config.body_template.as_deref().unwrap_or(DEFAULT_BODY_TEMPLATE);
    let mut body = render_one(&env, "body", body_src, &ctx)?;
    let title = one_line(&title);
    if title.is_empty() {
        return Err(RenderError { template: "title", reason: "it renders to an empty title".into() });
    }
    let trimmed = body.trim_end().len();
    body.truncate(trimmed);
    body.push_str("\n\n");
    body.push_str(&marker.html_comment());
    body.push('\n');
    Ok((title, body))
}

fn one_line(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= TITLE_MAX {
        joined
    } else {
        let mut t: String = joined.chars().take(TITLE_MAX - 1).collect();
        t.push('…');
        t
    }
}

/// The fields a push wants: rendered text, the marker label and the mapping's labels, the
/// mapped severity and status values, the ticket state, and the custom fields.
pub fn desired_fields(
    config: &MappingConfig,
    view: &SubjectView,
    severity: Severity,
    status: Status,
    marker: &Marker,
) -> Result<TicketFields, RenderError> {
    let (title, body) = render(config, view, marker)?;
    let mut labels: std::collections::BTreeSet<String> = config.labels.iter().map(|l| l.trim().to_owned()).collect();
    labels.insert(MARKER_LABEL.to_owned());
    let mut custom = config.custom_fields.clone();
    if let (Some(days), Some(found)) = (config.due_days.get(&severity), view.date()) {
        let due = found + chrono::Days::new(u64::from(*days));
        custom.insert(DUE_DATE.to_owned(), serde_json::Value::String(due.format("%Y-%m-%d").to_string()));
    }
    Ok(TicketFields {
        title,
        body,
        labels,
        severity: FieldValue::new(&config.severity_mapping.field, config.severity_mapping.value(severity)),
        status: FieldValue::new(&config.status_mapping.field, config.status_mapping.value(status)),
        state: TicketState::for_status(status),
        custom,
    })
}

/// The custom field carrying a ticket's due date (`YYYY-MM-DD`), from the mapping's
/// `due_days`; each client writes it to its tracker's due date field.
pub const DUE_DATE: &str = "due_date";

/// Compiles the templates and renders them against a sample finding and a sample group, so a
/// mapping with a broken template is refused when it is saved, naming the template and line.
pub fn check_templates(title: &str, body: Option<&str>) -> Result<(), ValidationError> {
    let env = environment();
    for view in [sample_finding(), sample_group()] {
        let ctx = view.context();
        render_one(&env, "title", title, &ctx).map_err(|e| ValidationError::new("title_template", e.reason))?;
        if let Some(body) = body {
            render_one(&env, "body", body, &ctx).map_err(|e| ValidationError::new("body_template", e.reason))?;
        }
    }
    Ok(())
}

fn sample_finding_view() -> FindingView {
    FindingView {
        kind: "finding",
        id: 1,
        title: "SQL Injection".into(),
        severity: Severity::High.label(),
        status: Status::Active.label(),
        verified: false,
        description: "description".into(),
        mitigation: Some("mitigation".into()),
        impact: None,
        references: None,
        steps_to_reproduce: None,
        cwe: Some(89),
        cwes: vec![89],
        vulnerability_ids: vec!["CVE-2024-0001".into()],
        cvss_v3_score: Some(8.1),
        cvss_v3_vector: None,
        epss_score: None,
        known_exploited: false,
        component: Some("lib@1.0".into()),
        component_purl: None,
        fix_version: None,
        file_path: Some("src/app.py".into()),
        line: Some(3),
        endpoints: vec!["https://example.com/login".into()],
        rule: Some("rule".into()),
        date: "2026-01-01".into(),
        url: Some("https://vulnbridge.example/findings/1".into()),
        product: "Product".into(),
        engagement: "Engagement".into(),
        test: "Test".into(),
    }
}

fn sample_finding() -> SubjectView {
    SubjectView::Finding(sample_finding_view())
}

fn sample_group() -> SubjectView {
    SubjectView::Group(GroupView {
        kind: "group",
        id: 1,
        title: "lib@1.0".into(),
        severity: Severity::High.label(),
        status: Status::Active.label(),
        group_by: "component_name_version",
        findings: vec![sample_finding_view()],
        finding_count: 1,
        url: None,
        product: "Product".into(),
        engagement: "Engagement".into(),
        test: "Test".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::{MappingTarget, Subject};
    use crate::{FindingId, MappingId};

    fn config() -> MappingConfig {
        MappingConfig::defaults(MappingTarget::GitHub { repository: "api".into(), project_number: Some(1) })
    }

    fn marker() -> Marker {
        Marker { installation: "abc".into(), mapping: MappingId(1), subject: Subject::Finding(FindingId(1)) }
    }

    #[test]
    fn default_title_is_the_seeds_format() {
        let (title, body) = render(&config(), &sample_finding(), &marker()).unwrap();
        assert_eq!(title, "[VULNBRIDGE] 1 - SQL Injection");
        assert!(body.contains("**Severity:** High"), "{body}");
        assert!(body.contains("CWE-89"), "{body}");
        assert!(body.contains("CVE-2024-0001"), "{body}");
        assert!(body.contains("`src/app.py` line 3"), "{body}");
        assert!(body.trim_end().ends_with("<!-- vulnbridge:abc:m1:f1 -->"), "{body}");
    }

    #[test]
    fn group_bodies_list_their_findings() {
        let (title, body) = render(&config(), &sample_group(), &marker()).unwrap();
        assert_eq!(title, "[VULNBRIDGE] 1 - lib@1.0");
        assert!(body.contains("| High | [SQL Injection]"), "{body}");
    }

    #[test]
    fn templates_are_checked_when_saved() {
        assert!(check_templates("{{ title }}", Some("{{ severity }} {% if kind == 'finding' %}{{ description }}{% endif %}")).is_ok());
        assert!(check_templates(crate::tracker::DEFAULT_TITLE_TEMPLATE, Some(DEFAULT_BODY_TEMPLATE)).is_ok());
        let e = check_templates("{{ titel }}", None).unwrap_err();
        assert_eq!(e.field, "title_template");
        let e = check_templates("{{ title }}", Some("line\n{% if %}")).unwrap_err();
        assert_eq!(e.field, "body_template");
        assert!(e.message.contains("line 2"), "{}", e.message);
        // A finding-only name used in a group ticket is caught too.
        let e = check_templates("{{ title }}", Some("{{ file_path }}")).unwrap_err();
        assert_eq!(e.field, "body_template");
    }

    #[test]
    fn long_and_multi_line_titles_are_one_capped_line() {
        let mut c = config();
        c.title_template = "{{ title }}\n{{ description }}".into();
        let mut v = sample_finding_view();
        v.title = "x".repeat(400);
        let (title, _) = render(&c, &SubjectView::Finding(v), &marker()).unwrap();
        assert_eq!(title.chars().count(), 250);
        assert!(title.ends_with('…'));
        assert!(!title.contains('\n'));
    }

    #[test]
    fn due_dates_follow_the_severity_sla() {
        let mut c = MappingConfig::defaults(MappingTarget::GitLab { project: "g/p".into() });
        c.due_days.insert(Severity::Critical, 7);
        let f = desired_fields(&c, &sample_finding(), Severity::Critical, Status::Active, &marker()).unwrap();
        assert_eq!(f.custom.get(DUE_DATE), Some(&serde_json::json!("2026-01-08")));
        let f = desired_fields(&c, &sample_finding(), Severity::Low, Status::Active, &marker()).unwrap();
        assert_eq!(f.custom.get(DUE_DATE), None);
        assert_eq!(sample_group().date(), chrono::NaiveDate::from_ymd_opt(2026, 1, 1));
    }

    #[test]
    fn desired_fields_map_severity_status_and_labels() {
        let mut c = config();
        c.labels = vec!["security".into()];
        let f = desired_fields(&c, &sample_finding(), Severity::Critical, Status::RiskAccepted, &marker()).unwrap();
        assert_eq!(f.severity, FieldValue::new("Priority", "P4"));
        assert_eq!(f.status, FieldValue::new("Status", "Done"));
        assert_eq!(f.state, TicketState::Closed(crate::tracker::CloseReason::NotPlanned));
        assert_eq!(f.labels.iter().map(String::as_str).collect::<Vec<_>>(), ["security", "vulnbridge"]);
    }
}

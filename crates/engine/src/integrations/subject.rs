//! What a ticket is rendered from: a finding, or a finding group with its findings, with the
//! names of where it sits and its link in vulnbridge.

use crate::Settings;
use domain::tracker::{FindingView, GroupView, Place, Subject, SubjectView};
use domain::{EngagementId, Finding, FindingGroupId, ProductId, Severity, Status, Visibility};
use store::{AsConn, PageRequest, StoreError, engagements, findings, groups, products, tests};

/// A subject, loaded.
#[derive(Debug)]
pub struct Loaded {
    pub subject: Subject,
    pub product: ProductId,
    pub engagement: EngagementId,
    pub severity: Severity,
    pub status: Status,
    pub view: SubjectView,
    /// For a finding: its group, if it is in one.
    pub group: Option<FindingGroupId>,
    /// The findings the ticket stands for (one, or the group's).
    pub findings: Vec<Finding>,
}

/// Links in tickets point at the UI's pages.
pub fn finding_url(settings: &Settings, id: i64) -> String {
    format!("{}/findings/{id}", settings.base_url())
}

pub fn group_url(settings: &Settings, id: i64) -> String {
    format!("{}/finding-groups/{id}", settings.base_url())
}

async fn place(c: &mut impl AsConn, test: domain::TestId) -> store::Result<Place> {
    let t = tests::get(c, test).await?;
    let e = engagements::get(c, t.engagement).await?;
    let p = products::get(c, t.product).await?;
    Ok(Place { product: p.name, engagement: e.name, test: t.title })
}

/// Loads a subject; `None` when it no longer exists (deleted since the push was queued).
pub async fn load(c: &mut impl AsConn, settings: &Settings, subject: Subject) -> store::Result<Option<Loaded>> {
    match subject {
        Subject::Finding(id) => {
            let f = match findings::get(c, id).await {
                Ok(f) => f,
                Err(StoreError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let place = place(c, f.test).await?;
            let view = FindingView::new(&f, &place, Some(finding_url(settings, f.id.0)));
            Ok(Some(Loaded {
                subject,
                product: f.product,
                engagement: f.engagement,
                severity: f.severity,
                status: f.status,
                view: SubjectView::Finding(view),
                group: f.finding_group,
                findings: vec![f],
            }))
        }
        Subject::Group(id) => {
            let g = match groups::get(c, id).await {
                Ok(g) => g,
                Err(StoreError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let members = findings::list(
                c,
                &findings::Filter { finding_group: Some(g.id), ..Default::default() },
                &Visibility::All,
                PageRequest::all(),
            )
            .await?
            .results;
            let place = place(c, g.test).await?;
            let views = members.iter().map(|f| FindingView::new(f, &place, Some(finding_url(settings, f.id.0)))).collect();
            let view = GroupView::new(&g, views, &place, Some(group_url(settings, g.id.0)));
            Ok(Some(Loaded {
                subject,
                product: g.product,
                engagement: g.engagement,
                severity: g.severity,
                status: g.status,
                view: SubjectView::Group(view),
                group: None,
                findings: members,
            }))
        }
    }
}

//! A Discover: the tool's Records, compared with ours by the pure rules
//! (`domain::connector::discover_changes`) and applied in one transaction. With auto-map, a
//! new Record is mapped to a Product of its name (made if there is none).

use crate::App;
use domain::connector::{Connector, DiscoveredRecord, RecordChange, RecordState};
use domain::{Name, NewProduct, ProductId};
use serde::Serialize;
use store::{AsConn, connectors, products};

/// What a Discover did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Discovered {
    pub found: usize,
    pub created: usize,
    pub auto_mapped: usize,
    pub refreshed: usize,
    pub missing: usize,
    pub stale: usize,
}

/// The product a newly discovered Record is auto-mapped to: the one of its name, else a new one.
async fn product_for(c: &mut impl AsConn, found: &DiscoveredRecord) -> anyhow::Result<ProductId> {
    let name: String = found.name.chars().filter(|ch| !ch.is_control()).take(Name::MAX_CHARS).collect();
    let name = if name.trim().is_empty() { found.external_id.clone() } else { name };
    if let Some(p) = products::get_by_name(c, name.trim()).await? {
        return Ok(p.id);
    }
    // Two connectors discovering the same name at once get one product.
    let p = products::get_or_create(
        c,
        NewProduct { name: Name::parse("name", &name)?, description: Some("Made by a connector's auto-map.".into()), product_type: None, business_criticality: None, tags: vec![] },
    )
    .await?;
    Ok(p.id)
}

/// Runs a Discover of `connector` with `found` (what its client discovered).
pub async fn apply(app: &App, connector: &Connector, found: &[DiscoveredRecord]) -> anyhow::Result<Discovered> {
    let mut tx = app.db().begin().await?;
    let existing = connectors::records_with_products(&mut tx, connector.id).await?;
    let changes = domain::connector::discover_changes(&existing, found);
    let mut d = Discovered { found: found.len(), ..Default::default() };
    for change in changes {
        match change {
            RecordChange::Create(f) => {
                let product = if connector.settings.auto_map { Some(product_for(&mut tx, &f).await?) } else { None };
                connectors::create_record(&mut tx, connector.id, &f, product, product.map(|_| "auto-map")).await?;
                d.created += 1;
                if product.is_some() {
                    d.auto_mapped += 1;
                }
            }
            RecordChange::Refresh { id, found, state } => {
                connectors::refresh_record(&mut tx, id, &found, state).await?;
                d.refreshed += 1;
                if state == RecordState::Stale {
                    d.stale += 1;
                }
            }
            RecordChange::Missing { id } => {
                connectors::set_record_state(&mut tx, id, RecordState::Missing).await?;
                d.missing += 1;
            }
            RecordChange::Stale { id } => {
                connectors::set_record_state(&mut tx, id, RecordState::Stale).await?;
                d.stale += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(d)
}

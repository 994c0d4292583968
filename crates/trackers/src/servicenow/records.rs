//! The record a ticket becomes, and the changes an update sends: one JSON object each, the
//! body of one `POST` or `PATCH` (or of one Batch API item).

use super::fields::{self, comment_field};
use super::tables::TableMeta;
use super::text;
use crate::{RemoteRef, TrackerError};
use domain::tracker::{
    Changes, CloseReason, FieldValue, MappingConfig, Marker, Part, TicketFields, TicketState,
};
use serde_json::{Map, Value, json};

/// The fields a create sets, and the parts they carry.
#[derive(Clone, Debug)]
pub struct Body {
    pub fields: Map<String, Value>,
    pub parts: Vec<Part>,
}

/// Whether entering this state needs the closure fields: the ticket closes, or the state is a
/// resolution (`Resolved`) or a closed one, which the instance's data policies guard.
fn closing(meta: &TableMeta, state_value: &str, ticket: TicketState) -> Option<CloseReason> {
    if let TicketState::Closed(reason) = ticket {
        return Some(reason);
    }
    let label = meta
        .state(state_value)
        .map(|c| c.label.as_str())
        .unwrap_or("");
    (label.eq_ignore_ascii_case("resolved") || TableMeta::is_closed_label(label))
        .then_some(CloseReason::Completed)
}

fn put(fields: &mut Map<String, Value>, pairs: Vec<(String, String)>) {
    for (k, v) in pairs {
        fields.insert(k, json!(v));
    }
}

/// The record for a new ticket.
pub fn create(
    mapping: &MappingConfig,
    meta: &TableMeta,
    group: Option<&str>,
    f: &TicketFields,
    marker: &Marker,
) -> Result<Body, TrackerError> {
    let mut out = Map::new();
    out.insert("short_description".into(), json!(fields::title(&f.title)));
    out.insert("description".into(), json!(text::plain(&f.body)));
    out.insert("correlation_id".into(), json!(marker.token()));
    out.insert(
        "correlation_display".into(),
        json!(domain::tracker::MARKER_LABEL),
    );
    put(&mut out, fields::severity(meta, &f.severity)?);
    let state = fields::state(meta, &f.status)?;
    if let Some(reason) = closing(meta, &state, f.state) {
        put(
            &mut out,
            fields::closure(mapping, meta, reason, &fields::default_close_notes(reason)),
        );
    }
    out.insert("state".into(), json!(state));
    if let Some(g) = group {
        out.insert("assignment_group".into(), json!(g));
    }
    for (k, v) in fields::custom(&f.custom)? {
        out.insert(k, v);
    }
    let mut parts = vec![
        Part::Title,
        Part::Body,
        Part::Labels,
        Part::Severity,
        Part::Status,
        Part::State,
    ];
    parts.extend(f.custom.keys().map(|k| Part::Custom(k.clone())));
    Ok(Body { fields: out, parts })
}

/// The status value a state change lands on when the changes carry none.
fn status_for(mapping: &MappingConfig, state: TicketState) -> FieldValue {
    let m = &mapping.status_mapping;
    let value = match state {
        TicketState::Open => &m.active,
        TicketState::Closed(CloseReason::NotPlanned) => &m.false_positive,
        TicketState::Closed(_) => &m.closed,
    };
    FieldValue::new(&m.field, value)
}

/// The PATCH body for `changes` (empty when nothing is sent: labels have nowhere to go).
pub fn update(
    mapping: &MappingConfig,
    meta: &TableMeta,
    changes: &Changes,
) -> Result<Body, TrackerError> {
    let mut out = Map::new();
    let mut parts = Vec::new();
    if let Some(t) = &changes.title {
        out.insert("short_description".into(), json!(fields::title(t)));
        parts.push(Part::Title);
    }
    if let Some(b) = &changes.body {
        out.insert("description".into(), json!(text::plain(b)));
        parts.push(Part::Body);
    }
    if !changes.labels_added.is_empty() || !changes.labels_removed.is_empty() {
        // A record has no labels; the marker lives in the correlation id.
        parts.push(Part::Labels);
    }
    if let Some(s) = &changes.severity {
        put(&mut out, fields::severity(meta, s)?);
        parts.push(Part::Severity);
    }
    let status = match (&changes.status, changes.state) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(state)) => Some(status_for(mapping, state)),
        (None, None) => None,
    };
    if let Some(s) = &status {
        let value = fields::state(meta, s)?;
        let ticket = changes.state.unwrap_or(TicketState::Open);
        if let Some(reason) = closing(meta, &value, ticket) {
            let notes = changes
                .comment
                .clone()
                .unwrap_or_else(|| fields::default_close_notes(reason));
            put(&mut out, fields::closure(mapping, meta, reason, &notes));
        }
        out.insert("state".into(), json!(value));
        if changes.status.is_some() {
            parts.push(Part::Status);
        }
    }
    if changes.state.is_some() {
        parts.push(Part::State);
    }
    let custom = fields::custom(&changes.custom)?;
    parts.extend(changes.custom.keys().map(|k| Part::Custom(k.clone())));
    for (k, v) in custom {
        out.insert(k, v);
    }
    if let Some(c) = &changes.comment {
        out.insert(comment_field(mapping)?.into(), json!(c));
        parts.push(Part::Comment);
    }
    Ok(Body { fields: out, parts })
}

/// Our record of a created record: its sys_id (what business rules name), its number, its
/// page, and the table later calls use.
pub fn remote(
    base: &str,
    table: &str,
    record: &Map<String, Value>,
) -> Result<RemoteRef, TrackerError> {
    let sys_id = super::api::value(record, "sys_id");
    if sys_id.is_empty() {
        return Err(TrackerError::Protocol(
            "the instance answered a create without the record's sys_id".into(),
        ));
    }
    let number = super::api::value(record, "number");
    let class = super::api::value(record, "sys_class_name");
    let table = if class.is_empty() {
        table.to_owned()
    } else {
        class
    };
    Ok(RemoteRef {
        id: sys_id.clone(),
        key: if number.is_empty() {
            sys_id.clone()
        } else {
            number.clone()
        },
        url: super::api::record_url(base, &table, &sys_id),
        data: json!({ "table": table, "number": number }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servicenow::tables::Choice;
    use domain::tracker::MappingTarget;

    fn meta() -> TableMeta {
        let c = |v: &str, l: &str| Choice {
            value: v.into(),
            label: l.into(),
        };
        TableMeta {
            name: "incident".into(),
            label: "Incident".into(),
            ancestors: vec!["task".into()],
            states: vec![
                c("1", "New"),
                c("2", "In Progress"),
                c("6", "Resolved"),
                c("7", "Closed"),
            ],
            closure: Some((
                "close_code".into(),
                vec![c("Solution provided", "Solution provided")],
            )),
            ..TableMeta::default()
        }
    }

    fn mapping() -> MappingConfig {
        MappingConfig::defaults(MappingTarget::ServiceNow {
            table: "incident".into(),
            assignment_group: None,
        })
    }

    #[test]
    fn closing_sets_the_closure_fields_and_reopening_the_active_state() {
        let changes = Changes {
            status: Some(FieldValue::new("State", "Resolved")),
            state: Some(TicketState::Closed(CloseReason::NotPlanned)),
            comment: Some("False positive.\n\n— vulnbridge".into()),
            ..Changes::default()
        };
        let b = update(&mapping(), &meta(), &changes).unwrap();
        assert_eq!(b.fields["state"], "6");
        assert_eq!(b.fields["close_code"], "Solution provided");
        assert_eq!(b.fields["close_notes"], "False positive.\n\n— vulnbridge");
        assert_eq!(b.fields["comments"], "False positive.\n\n— vulnbridge");
        assert_eq!(b.parts, vec![Part::Status, Part::State, Part::Comment]);
        let reopen = Changes {
            state: Some(TicketState::Open),
            ..Changes::default()
        };
        let b = update(&mapping(), &meta(), &reopen).unwrap();
        assert_eq!(b.fields["state"], "1");
        assert!(!b.fields.contains_key("close_code"));
        let labels = Changes {
            labels_added: ["x".to_owned()].into(),
            ..Changes::default()
        };
        let b = update(&mapping(), &meta(), &labels).unwrap();
        assert!(b.fields.is_empty());
        assert_eq!(b.parts, vec![Part::Labels]);
    }
}

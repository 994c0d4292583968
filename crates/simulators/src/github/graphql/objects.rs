//! The objects GraphQL fields resolve to (handles into the state), connections with Relay
//! pagination, and their concrete type names.

use super::super::state::{ItemValue, RepoKey, State};
use crate::common::graphql::GqlError;
use base64::Engine;

#[derive(Clone, Debug)]
pub enum Obj {
    Query,
    Mutation,
    Org(String),
    User(String),
    Repo(RepoKey),
    Issue(RepoKey, u64),
    /// A project, by node id.
    Project(String),
    /// A project field: project node id, field node id.
    Field(String, String),
    /// A single-select option: project node id, field node id, option id.
    Opt(String, String, String),
    /// A project item: project node id, item node id.
    Item(String, String),
    /// An item's value of a field: project, item and field node ids.
    Value(String, String, String),
    RateLimit {
        cost: u32,
        node_count: u32,
    },
    Conn(Box<Conn>),
    Edge {
        type_name: String,
        node: Box<Obj>,
        cursor: String,
    },
    PageInfo {
        has_next: bool,
        has_prev: bool,
        start: Option<String>,
        end: Option<String>,
    },
    Payload(Box<Payload>),
}

#[derive(Clone, Debug)]
pub struct Conn {
    pub type_name: String,
    pub nodes: Vec<Obj>,
    pub cursors: Vec<String>,
    pub has_next: bool,
    pub has_prev: bool,
    pub total: usize,
}

#[derive(Clone, Debug)]
pub struct Payload {
    pub type_name: &'static str,
    pub client_mutation_id: Option<String>,
    pub item: Option<Obj>,
    pub deleted_item_id: Option<String>,
    pub repository: Option<RepoKey>,
}

/// GitHub-looking opaque cursors (`Y3Vyc29yOnYyOjE=` is `cursor:v2:1`).
pub fn cursor(index: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("cursor:v2:{index}"))
}

fn cursor_index(c: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(c).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("cursor:v2:")?
        .parse()
        .ok()
}

/// A Relay connection over `all`, sliced by `first`/`after`/`last`/`before`.
pub fn connection(
    type_name: &str,
    all: Vec<Obj>,
    args: &serde_json::Map<String, serde_json::Value>,
) -> Result<Obj, GqlError> {
    let total = all.len();
    let arg_cursor = |k: &str| -> Result<Option<usize>, GqlError> {
        match args.get(k).and_then(|v| v.as_str()) {
            None => Ok(None),
            Some(c) => cursor_index(c).map(Some).ok_or_else(|| {
                GqlError::new(format!("`{c}` does not appear to be a valid cursor."))
                    .kind("INVALID_CURSOR_ARGUMENTS")
            }),
        }
    };
    let mut start = arg_cursor("after")?.map(|i| i + 1).unwrap_or(0).min(total);
    let mut end = arg_cursor("before")?.unwrap_or(total).min(total).max(start);
    if let Some(f) = args.get("first").and_then(|v| v.as_i64()) {
        end = end.min(start + usize::try_from(f.max(0)).unwrap_or(0));
    }
    if let Some(l) = args.get("last").and_then(|v| v.as_i64()) {
        start = start.max(end.saturating_sub(usize::try_from(l.max(0)).unwrap_or(0)));
    }
    let nodes: Vec<Obj> = all.into_iter().skip(start).take(end - start).collect();
    let cursors = (start..end).map(cursor).collect();
    Ok(Obj::Conn(Box::new(Conn {
        type_name: type_name.to_owned(),
        nodes,
        cursors,
        has_next: end < total,
        has_prev: start > 0,
        total,
    })))
}

/// The concrete GraphQL type of an object.
pub fn type_of(st: &State, o: &Obj) -> String {
    match o {
        Obj::Query => "Query".into(),
        Obj::Mutation => "Mutation".into(),
        Obj::Org(_) => "Organization".into(),
        Obj::User(_) => "User".into(),
        Obj::Repo(_) => "Repository".into(),
        Obj::Issue(..) => "Issue".into(),
        Obj::Project(_) => "ProjectV2".into(),
        Obj::Field(p, f) => {
            let single = st
                .project_by_node(p)
                .and_then(|i| st.projects[i].field_by_node(f))
                .is_some_and(|f| f.is_single_select());
            if single {
                "ProjectV2SingleSelectField".into()
            } else {
                "ProjectV2Field".into()
            }
        }
        Obj::Opt(..) => "ProjectV2SingleSelectFieldOption".into(),
        Obj::Item(..) => "ProjectV2Item".into(),
        Obj::Value(p, i, f) => {
            let v = st
                .project_by_node(p)
                .and_then(|pi| st.projects[pi].item_by_node(i))
                .and_then(|it| it.values.get(f));
            match v {
                Some(ItemValue::Text(_)) => "ProjectV2ItemFieldTextValue",
                Some(ItemValue::Number(_)) => "ProjectV2ItemFieldNumberValue",
                Some(ItemValue::Date(_)) => "ProjectV2ItemFieldDateValue",
                _ => "ProjectV2ItemFieldSingleSelectValue",
            }
            .into()
        }
        Obj::RateLimit { .. } => "RateLimit".into(),
        Obj::Conn(c) => c.type_name.clone(),
        Obj::Edge { type_name, .. } => type_name.clone(),
        Obj::PageInfo { .. } => "PageInfo".into(),
        Obj::Payload(p) => p.type_name.into(),
    }
}

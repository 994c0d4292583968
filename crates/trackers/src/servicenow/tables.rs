//! What the client needs to know about a table, read from the instance once per client and
//! kept: whether it extends `task` (`sys_db_object`, following `super_class`), and its choice
//! lists (`sys_choice`) for `state`, the closure code (`close_code` or Problem's
//! `resolution_code`), `impact` and `urgency`. Choice lists are inherited: a table's own list
//! for an element wins over its parents' (Incident has its own `state` list; `impact` comes
//! from `task`).

use super::api::{Api, value};
use crate::TrackerError;
use std::collections::HashMap;
use std::sync::Arc;

/// How many `super_class` steps are followed before giving up (the base system is 3 deep).
const MAX_DEPTH: usize = 10;

/// One choice of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A table as the client uses it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableMeta {
    pub name: String,
    pub label: String,
    /// The tables it extends, nearest first (`["task"]` for `incident`).
    pub ancestors: Vec<String>,
    pub states: Vec<Choice>,
    /// The closure code's field (`close_code`, `resolution_code`) and its choices, if the table
    /// has one.
    pub closure: Option<(String, Vec<Choice>)>,
    pub impact: Vec<Choice>,
    pub urgency: Vec<Choice>,
}

impl TableMeta {
    pub fn extends_task(&self) -> bool {
        self.name == "task" || self.ancestors.iter().any(|a| a == "task")
    }

    /// The state a mapping value names: a choice's value, or its label (case ignored).
    pub fn state(&self, wanted: &str) -> Option<&Choice> {
        find(&self.states, wanted)
    }

    /// Whether a state counts as closed. The choice lists do not say (the platform decides
    /// in business rules per table); the closed states of the base system's tables are all
    /// called `Closed…`, `Canceled` or `Cancelled`.
    pub fn is_closed_label(label: &str) -> bool {
        let l = label.trim().to_ascii_lowercase();
        l.starts_with("closed") || l.starts_with("cancel")
    }

    /// The states, for messages: `New (1), In Progress (2), …`.
    pub fn state_list(&self) -> String {
        self.states
            .iter()
            .map(|c| format!("{} ({})", c.label, c.value))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A choice by value or label.
pub fn find<'a>(list: &'a [Choice], wanted: &str) -> Option<&'a Choice> {
    let w = wanted.trim();
    list.iter()
        .find(|c| c.value == w)
        .or_else(|| list.iter().find(|c| c.label.eq_ignore_ascii_case(w)))
}

/// The cache of table metadata, per client.
#[derive(Debug, Default)]
pub struct Tables {
    known: tokio::sync::Mutex<HashMap<String, Arc<TableMeta>>>,
}

impl Tables {
    /// The table's metadata, read once.
    pub async fn get(&self, api: &Api, table: &str) -> Result<Arc<TableMeta>, TrackerError> {
        let mut known = self.known.lock().await;
        if let Some(m) = known.get(table) {
            return Ok(m.clone());
        }
        let meta = Arc::new(load(api, table).await?);
        known.insert(table.to_owned(), meta.clone());
        Ok(meta)
    }

    /// Forgets what was read (after a failed check, so a fixed instance is read again).
    pub async fn forget(&self, table: &str) {
        self.known.lock().await.remove(table);
    }
}

/// One `sys_db_object` row: the table's label and what it extends.
async fn db_object(api: &Api, table: &str) -> Result<Option<(String, String)>, TrackerError> {
    let (rows, _) = api
        .list(
            &format!("the definition of table {table}"),
            "sys_db_object",
            &[
                ("sysparm_query", format!("name={table}")),
                ("sysparm_fields", "name,label,super_class.name".into()),
                ("sysparm_limit", "1".into()),
            ],
        )
        .await?;
    Ok(rows
        .first()
        .map(|r| (value(r, "label"), value(r, "super_class.name"))))
}

async fn load(api: &Api, table: &str) -> Result<TableMeta, TrackerError> {
    let Some((label, mut parent)) = db_object(api, table).await? else {
        return Err(TrackerError::Misconfigured(format!(
            "the instance has no table '{table}' (System Definition › Tables)"
        )));
    };
    let mut ancestors = Vec::new();
    // The base system's task has no parent: no need to read it to learn that.
    while !parent.is_empty() && ancestors.len() < MAX_DEPTH {
        ancestors.push(parent.clone());
        if parent == "task" {
            break;
        }
        parent = db_object(api, &parent)
            .await?
            .map(|(_, p)| p)
            .unwrap_or_default();
    }
    let mut names = vec![table.to_owned()];
    names.extend(ancestors.iter().cloned());
    let (rows, _) = api
        .list(
            &format!("the choice lists of table {table}"),
            "sys_choice",
            &[
                (
                    "sysparm_query",
                    format!(
                        "nameIN{}^elementINstate,close_code,resolution_code,impact,urgency^inactive=false^language=en^ORDERBYsequence",
                        names.join(",")
                    ),
                ),
                ("sysparm_fields", "name,element,value,label,sequence".into()),
            ],
        )
        .await?;
    // The nearest table's list for each element.
    let list = |element: &str| -> Vec<Choice> {
        for name in &names {
            let own: Vec<Choice> = rows
                .iter()
                .filter(|r| value(r, "name") == *name && value(r, "element") == element)
                .map(|r| Choice {
                    value: value(r, "value"),
                    label: value(r, "label"),
                })
                .collect();
            if !own.is_empty() {
                return own;
            }
        }
        Vec::new()
    };
    let closure = ["close_code", "resolution_code"]
        .into_iter()
        .map(|f| (f.to_owned(), list(f)))
        .find(|(_, l)| !l.is_empty());
    Ok(TableMeta {
        name: table.to_owned(),
        label,
        ancestors,
        states: list("state"),
        closure,
        impact: list("impact"),
        urgency: list("urgency"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_found_by_value_or_label() {
        let list = vec![
            Choice {
                value: "6".into(),
                label: "Resolved".into(),
            },
            Choice {
                value: "7".into(),
                label: "Closed".into(),
            },
        ];
        assert_eq!(find(&list, "resolved").map(|c| c.value.as_str()), Some("6"));
        assert_eq!(find(&list, "7").map(|c| c.label.as_str()), Some("Closed"));
        assert!(find(&list, "Open").is_none());
        assert!(
            TableMeta::is_closed_label("Closed Complete")
                && TableMeta::is_closed_label("Cancelled")
        );
        assert!(!TableMeta::is_closed_label("Resolved"));
    }
}

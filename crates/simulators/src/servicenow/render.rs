//! Records as the Table API shows them: every value a string; references as
//! `{"link","value"}` objects; display values (`sysparm_display_value=true|all`) with choice
//! labels, referenced records' names and journal entries; `sysparm_fields` (dot-walked names
//! too) and `sysparm_exclude_reference_link`.

use super::query::value_of;
use super::schema::{Field, Kind};
use super::state::{Record, State};
use serde_json::{Map, Value, json};

/// `sysparm_display_value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    Value,
    Label,
    Both,
}

/// How to show records, from the request's parameters.
#[derive(Clone, Debug)]
pub struct View {
    pub display: Display,
    pub exclude_links: bool,
    /// `sysparm_fields`: the fields to show, in order (invalid names are dropped when shown).
    pub fields: Option<Vec<String>>,
}

impl View {
    pub fn from_params(params: &[(String, String)]) -> View {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_owned())
        };
        let display = match get("sysparm_display_value")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("true") => Display::Label,
            Some("all") => Display::Both,
            _ => Display::Value,
        };
        let exclude_links =
            get("sysparm_exclude_reference_link").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let fields = get("sysparm_fields").filter(|f| !f.is_empty()).map(|f| {
            f.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        });
        View {
            display,
            exclude_links,
            fields,
        }
    }
}

/// The display value of one plain field.
fn label(state: &State, r: &Record, field: &Field, value: &str) -> String {
    match field.kind {
        Kind::Journal => journal_text(state, r, field.name),
        Kind::Reference(target) if !value.is_empty() => {
            state.reference_display(target, value).unwrap_or_default()
        }
        _ => {
            let schema = r.schema();
            state
                .choice_label(schema, field.name, value)
                .unwrap_or_else(|| value.to_owned())
        }
    }
}

/// A journal field's entries, newest first, as a form shows them.
fn journal_text(state: &State, r: &Record, element: &str) -> String {
    let mut out = String::new();
    for e in state
        .journal(r.sys_id())
        .into_iter()
        .rev()
        .filter(|e| e.get("element") == element)
    {
        let kind = if element == "work_notes" {
            "Work notes"
        } else {
            "Additional comments"
        };
        out.push_str(&format!(
            "{} - {} ({kind})\n{}\n\n",
            e.get("sys_created_on"),
            state.user_display(e.get("sys_created_by")),
            e.get("value")
        ));
    }
    out
}

fn shown(state: &State, base: &str, r: &Record, field: &Field, value: &str, view: &View) -> Value {
    let raw = if field.kind == Kind::Journal {
        String::new()
    } else {
        value.to_owned()
    };
    if let Kind::Reference(target) = field.kind
        && !value.is_empty()
    {
        let display = label(state, r, field, value);
        let link = format!("{base}/api/now/table/{target}/{value}");
        return match (view.display, view.exclude_links) {
            (Display::Value, true) => json!(raw),
            (Display::Label, true) => json!(display),
            (Display::Both, true) => json!({ "display_value": display, "value": raw }),
            (Display::Value, false) => json!({ "link": link, "value": raw }),
            (Display::Label, false) => json!({ "display_value": display, "link": link }),
            (Display::Both, false) => {
                json!({ "display_value": display, "link": link, "value": raw })
            }
        };
    }
    match view.display {
        Display::Value => json!(raw),
        Display::Label => json!(label(state, r, field, value)),
        Display::Both => json!({ "display_value": label(state, r, field, value), "value": raw }),
    }
}

/// The field a (dot-walked) path ends at, and the record holding it.
fn resolve<'a>(
    state: &'a State,
    r: &'a Record,
    path: &str,
) -> Option<(&'a Record, &'static Field)> {
    let mut record = r;
    let mut parts = path.split('.').peekable();
    while let Some(name) = parts.next() {
        let field = record.schema().field(name)?;
        if parts.peek().is_none() {
            return Some((record, field));
        }
        let Kind::Reference(target) = field.kind else {
            return None;
        };
        record = state
            .get(record.get(name))
            .filter(|t| t.schema().is_a(target))?;
    }
    None
}

/// A record as JSON.
pub fn record(state: &State, base: &str, r: &Record, view: &View) -> Value {
    let mut out = Map::new();
    match &view.fields {
        None => {
            for field in r.schema().fields() {
                out.insert(
                    field.name.to_owned(),
                    shown(state, base, r, field, r.get(field.name), view),
                );
            }
        }
        Some(names) => {
            for name in names {
                if let Some((holder, field)) = resolve(state, r, name) {
                    out.insert(
                        name.clone(),
                        shown(state, base, holder, field, holder.get(field.name), view),
                    );
                } else if value_of(state, r, name).is_some() {
                    // A dot-walk through an empty reference: the field exists, its value is empty.
                    out.insert(name.clone(), json!(""));
                }
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn references_and_choices_show_as_the_table_api_shows_them() {
        let mut s = State::new();
        let mut v = s.blank("incident", Utc::now(), "bot");
        v.insert("state".into(), "6".into());
        let group = s.blank("sys_user_group", Utc::now(), "admin");
        let gid = group["sys_id"].clone();
        let mut group = group;
        group.insert("name".into(), "Security".into());
        s.put(Record {
            table: "sys_user_group",
            values: group,
        });
        v.insert("assignment_group".into(), gid.clone());
        let r = Record {
            table: "incident",
            values: v,
        };
        let params = |p: &[(&str, &str)]| {
            p.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect::<Vec<_>>()
        };
        let plain = record(
            &s,
            "http://x",
            &r,
            &View::from_params(&params(&[(
                "sysparm_fields",
                "state,assignment_group,nope",
            )])),
        );
        assert_eq!(plain["state"], "6");
        assert_eq!(plain["assignment_group"]["value"], gid.as_str());
        assert_eq!(
            plain["assignment_group"]["link"],
            format!("http://x/api/now/table/sys_user_group/{gid}")
        );
        assert!(plain.get("nope").is_none());
        let all = record(
            &s,
            "http://x",
            &r,
            &View::from_params(&params(&[
                ("sysparm_fields", "state,assignment_group.name"),
                ("sysparm_display_value", "all"),
                ("sysparm_exclude_reference_link", "true"),
            ])),
        );
        assert_eq!(
            all["state"],
            json!({"display_value": "Resolved", "value": "6"})
        );
        assert_eq!(
            all["assignment_group.name"],
            json!({"display_value": "Security", "value": "Security"})
        );
    }
}

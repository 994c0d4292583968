//! JSON Patch documents for work items (`application/json-patch+json`): `add`, `replace`,
//! `remove` and `test` on `/fields/<ref>`, `test` on `/rev`, `add` on `/relations/-`,
//! `remove`/`replace` on `/relations/<index>`, and `add` on `/id` (a temporary negative id, in
//! `$batch` creations). Everything else is refused with the service's messages: `move`/`copy`
//! (`VS403356`), other paths (`VS403343`), unknown fields (`TF51535`), read-only fields and values
//! of the wrong type (`TF401326`), strings over 255 characters (`TF401324`), values a rule does not
//! allow (`TF401320`), area paths the project lacks (`TF401347`), a failed `test` (412, `VS403351`).

use super::fields::{self, Invalid};
use super::process::TypeDef;
use super::reply::ApiError;
use super::state::Project;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
    Test,
}

#[derive(Clone, Debug)]
pub struct Op {
    pub op: OpKind,
    pub path: String,
    pub value: Value,
}

/// `MissingPatchDocument`: what the service says for a body that is not a patch document.
pub fn missing_document() -> ApiError {
    ApiError::property("You must pass a valid patch document in the body of the request.")
}

/// Reads a patch document.
pub fn parse(body: &[u8]) -> Result<Vec<Op>, ApiError> {
    let doc: Value = serde_json::from_slice(body).map_err(|_| missing_document())?;
    parse_value(&doc)
}

/// Reads a patch document already parsed as JSON (a `$batch` sub-request's body).
pub fn parse_value(doc: &Value) -> Result<Vec<Op>, ApiError> {
    let Value::Array(items) = doc else {
        return Err(missing_document());
    };
    let mut ops = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(o) = item else {
            return Err(missing_document());
        };
        let op = o.get("op").and_then(Value::as_str).unwrap_or("");
        let op = match op.to_ascii_lowercase().as_str() {
            "add" => OpKind::Add,
            "remove" => OpKind::Remove,
            "replace" => OpKind::Replace,
            "test" => OpKind::Test,
            "move" | "copy" => {
                return Err(ApiError::patch(format!(
                    "VS403356: {} operation is not supported for work items",
                    op.to_ascii_lowercase()
                )));
            }
            _ => return Err(missing_document()),
        };
        let path = match o.get("path") {
            Some(Value::String(p)) => p.clone(),
            _ => return Err(ApiError::patch("All operations require a path.")),
        };
        if path.is_empty() || path == "/" {
            return Err(ApiError::patch(
                "Work item patch does not support patching the entire work item.",
            ));
        }
        ops.push(Op {
            op,
            path,
            value: o.get("value").cloned().unwrap_or(Value::Null),
        });
    }
    if ops.is_empty() {
        return Err(missing_document());
    }
    Ok(ops)
}

/// The link types a relation may have.
pub const LINK_TYPES: [&str; 7] = [
    "System.LinkTypes.Related",
    "System.LinkTypes.Hierarchy-Forward",
    "System.LinkTypes.Hierarchy-Reverse",
    "System.LinkTypes.Dependency-Forward",
    "System.LinkTypes.Dependency-Reverse",
    "System.LinkTypes.Duplicate-Forward",
    "System.LinkTypes.Duplicate-Reverse",
];

/// The other end of a work item link type.
pub fn reverse_link(rel: &str) -> Option<&'static str> {
    Some(match rel {
        "System.LinkTypes.Related" => "System.LinkTypes.Related",
        "System.LinkTypes.Hierarchy-Forward" => "System.LinkTypes.Hierarchy-Reverse",
        "System.LinkTypes.Hierarchy-Reverse" => "System.LinkTypes.Hierarchy-Forward",
        "System.LinkTypes.Dependency-Forward" => "System.LinkTypes.Dependency-Reverse",
        "System.LinkTypes.Dependency-Reverse" => "System.LinkTypes.Dependency-Forward",
        "System.LinkTypes.Duplicate-Forward" => "System.LinkTypes.Duplicate-Reverse",
        "System.LinkTypes.Duplicate-Reverse" => "System.LinkTypes.Duplicate-Forward",
        _ => return None,
    })
}

/// The work item id a relation URL names (`…/_apis/wit/workItems/<id>`).
pub fn linked_id(url: &str) -> Option<i64> {
    let lower = url.to_ascii_lowercase();
    let at = lower.rfind("/_apis/wit/workitems/")?;
    url[at + "/_apis/wit/workItems/".len()..]
        .trim_end_matches('/')
        .parse()
        .ok()
}

/// A work item being created or changed: the fields and relations it will have.
#[derive(Debug)]
pub struct Draft<'a> {
    /// The id as error messages name it (`-1` while creating).
    pub id: i64,
    pub rev: i64,
    pub project: &'a Project,
    pub work_item_type: &'static TypeDef,
    pub fields: BTreeMap<String, Value>,
    pub relations: Vec<Value>,
    /// A comment added through `/fields/System.History`.
    pub history: Option<String>,
    /// `/id` in a `$batch` creation.
    pub temp_id: Option<i64>,
    /// `System.Reason` was set by the document (else a state change sets it).
    pub reason_given: bool,
    pub creating: bool,
}

/// What resolves a relation's target (the work items of the organization).
pub trait Links {
    /// Whether a work item with this id exists (negative: a temporary id of this batch).
    fn exists(&self, id: i64) -> bool;
}

impl Draft<'_> {
    /// Applies the operations in order; the first that fails refuses the whole document.
    pub fn apply(
        &mut self,
        ops: &[Op],
        links: &dyn Links,
        bypass_rules: bool,
    ) -> Result<(), ApiError> {
        for op in ops {
            self.apply_one(op, links, bypass_rules)?;
        }
        Ok(())
    }

    fn apply_one(
        &mut self,
        op: &Op,
        links: &dyn Links,
        bypass_rules: bool,
    ) -> Result<(), ApiError> {
        let path = op.path.as_str();
        if path.eq_ignore_ascii_case("/rev") {
            return match op.op {
                OpKind::Test => {
                    let expected = match &op.value {
                        Value::Number(n) => n.as_i64(),
                        Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    };
                    if expected == Some(self.rev) {
                        Ok(())
                    } else {
                        Err(ApiError::test_failed(path, &json!(self.rev), &op.value))
                    }
                }
                _ => Err(top_level(path)),
            };
        }
        if path.eq_ignore_ascii_case("/id") {
            let temp = match &op.value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            };
            return match (op.op, temp) {
                (OpKind::Add, Some(t)) if t < 0 && self.creating => {
                    self.temp_id = Some(t);
                    Ok(())
                }
                _ => Err(top_level(path)),
            };
        }
        if let Some(rest) = strip_prefix_ci(path, "/fields/") {
            return self.field(op, rest, bypass_rules);
        }
        if let Some(rest) = strip_prefix_ci(path, "/relations/") {
            return self.relation(op, rest, links);
        }
        Err(ApiError::patch(format!(
            "VS403343: The path {path} is not supported for work items."
        )))
    }

    fn field(&mut self, op: &Op, name: &str, bypass_rules: bool) -> Result<(), ApiError> {
        let Some(def) = fields::field(name).filter(|d| self.work_item_type.has_field(d.reference))
        else {
            return Err(ApiError::field_not_found(name));
        };
        let reference = def.reference;
        if op.op == OpKind::Test {
            let current = self.fields.get(reference).cloned().unwrap_or(Value::Null);
            let wanted =
                fields::normalize(def.kind, &op.value).unwrap_or_else(|_| op.value.clone());
            return if current == wanted {
                Ok(())
            } else {
                Err(ApiError::test_failed(&op.path, &current, &op.value))
            };
        }
        if def.read_only {
            return Err(ApiError::field_status("ReadOnly", reference));
        }
        if op.op == OpKind::Remove || op.value.is_null() {
            if reference == "System.History" {
                self.history = None;
            } else {
                self.fields.remove(reference);
            }
            if reference == "System.Reason" {
                self.reason_given = true;
            }
            return Ok(());
        }
        let value = fields::normalize(def.kind, &op.value).map_err(|e| match e {
            Invalid::Type => ApiError::field_status("InvalidType", reference),
            Invalid::TooLong => ApiError::too_long(reference),
        })?;
        let text = value.as_str().unwrap_or_default().to_owned();
        let stored = match reference {
            "System.History" => {
                self.history = Some(text);
                return Ok(());
            }
            "System.Tags" => {
                let mut tags = fields::split_tags(&text);
                // `add` adds to the tags the work item has (the API's own example: "Tag0" plus
                // "Tag1; Tag2" gives "Tag0; Tag1; Tag2"); `replace` sets exactly these.
                if op.op == OpKind::Add {
                    let mut all = fields::split_tags(
                        self.fields
                            .get(reference)
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                    );
                    all.append(&mut tags);
                    tags = fields::split_tags(&fields::join_tags(&all));
                }
                if tags.is_empty() {
                    self.fields.remove(reference);
                    return Ok(());
                }
                json!(fields::join_tags(&tags))
            }
            "System.State" => match self.work_item_type.state(&text) {
                Some((canonical, category)) => {
                    if self.creating
                        && category == super::process::Category::Removed
                        && !bypass_rules
                    {
                        return Err(state_rule());
                    }
                    json!(canonical)
                }
                None if bypass_rules => json!(text),
                None => return Err(state_rule()),
            },
            "System.AreaPath" | "System.IterationPath" => {
                let path = if reference == "System.AreaPath" {
                    self.project.area(&text).map(str::to_owned)
                } else {
                    text.trim()
                        .eq_ignore_ascii_case(&self.project.name)
                        .then(|| self.project.name.clone())
                };
                match path {
                    Some(p) => json!(p),
                    None => return Err(ApiError::tree_name(self.id, reference)),
                }
            }
            "Microsoft.VSTS.Common.Priority" => {
                if !bypass_rules
                    && !value
                        .as_i64()
                        .is_some_and(|p| fields::PRIORITIES.contains(&p))
                {
                    return Err(ApiError::rule(
                        reference,
                        def.name,
                        "HasValues, LimitedToValues, InvalidListValue",
                    ));
                }
                value
            }
            "Microsoft.VSTS.Common.Severity" => match fields::SEVERITIES
                .iter()
                .find(|s| s.eq_ignore_ascii_case(text.trim()))
            {
                Some(s) => json!(s),
                None if bypass_rules => value,
                None => {
                    return Err(ApiError::rule(
                        reference,
                        def.name,
                        "HasValues, LimitedToValues, InvalidListValue",
                    ));
                }
            },
            _ => value,
        };
        if reference == "System.Reason" {
            self.reason_given = true;
        }
        self.fields.insert(reference.to_owned(), stored);
        Ok(())
    }

    fn relation(&mut self, op: &Op, index: &str, links: &dyn Links) -> Result<(), ApiError> {
        if op.op == OpKind::Test {
            return Err(ApiError::patch(
                "VS403352: The test operation is not supported for relations.",
            ));
        }
        if index == "-" {
            if op.op != OpKind::Add {
                return Err(ApiError::patch(format!(
                    "VS403354: Index out of range for path {}.",
                    op.path
                )));
            }
            let relation = self.checked_relation(&op.value, links)?;
            self.relations.push(relation);
            return Ok(());
        }
        let Ok(i) = index.parse::<usize>() else {
            return Err(ApiError::patch(format!(
                "VS403343: The path {} is not supported for work items.",
                op.path
            )));
        };
        if i >= self.relations.len() {
            return Err(ApiError::patch(format!(
                "VS403354: Index out of range for path {}.",
                op.path
            )));
        }
        match op.op {
            OpKind::Remove => {
                self.relations.remove(i);
                Ok(())
            }
            _ => {
                let new = self.checked_relation(&op.value, links)?;
                if new.get("rel") != self.relations[i].get("rel") {
                    return Err(ApiError::patch(
                        "VS403358: You cannot change the type of a relation.",
                    ));
                }
                self.relations[i] = new;
                Ok(())
            }
        }
    }

    fn checked_relation(&self, value: &Value, links: &dyn Links) -> Result<Value, ApiError> {
        let rel = value
            .get("rel")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        let url = value
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        let attributes = value
            .get("attributes")
            .cloned()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        if let Some(canonical) = LINK_TYPES.iter().find(|t| t.eq_ignore_ascii_case(rel)) {
            if !url.contains("://") {
                return Err(ApiError::patch(
                    "Linking to a work item requires the full url.",
                ));
            }
            let Some(target) = linked_id(url) else {
                return Err(ApiError::patch(format!(
                    "The work item url was not well formed: '{url}'"
                )));
            };
            if !links.exists(target) {
                return Err(ApiError::work_item_not_found(target));
            }
            let mut attrs = attributes;
            attrs["isLocked"] = json!(false);
            return Ok(json!({ "rel": canonical, "url": url, "attributes": attrs }));
        }
        match rel {
            "Hyperlink" | "ArtifactLink" if !url.is_empty() => {
                Ok(json!({ "rel": rel, "url": url, "attributes": attributes }))
            }
            "Hyperlink" | "ArtifactLink" => Err(ApiError::patch(
                "You must specify a valid resource Id when updating or removing a resource link.",
            )),
            other => Err(ApiError::patch(format!("Unknown relation type {other}."))),
        }
    }

    /// The rules checked on the finished document: a title, a state.
    pub fn check_required(&self, bypass_rules: bool) -> Result<(), ApiError> {
        if bypass_rules {
            return Ok(());
        }
        let empty = |name: &str| {
            self.fields
                .get(name)
                .and_then(Value::as_str)
                .is_none_or(|s| s.trim().is_empty())
        };
        if empty("System.Title") {
            return Err(ApiError::rule(
                "System.Title",
                "Title",
                "Required, InvalidEmpty",
            ));
        }
        if empty("System.State") {
            return Err(ApiError::rule(
                "System.State",
                "State",
                "Required, InvalidEmpty",
            ));
        }
        Ok(())
    }
}

fn state_rule() -> ApiError {
    ApiError::rule(
        "System.State",
        "State",
        "Required, HasValues, LimitedToValues, AllowsOldValue, InvalidListValue",
    )
}

fn top_level(path: &str) -> ApiError {
    ApiError::patch(format!(
        "Work item patch does not support patching the top level property at path {path}."
    ))
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    (text.len() > prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure_devops::process::Process;

    struct NoLinks;
    impl Links for NoLinks {
        fn exists(&self, id: i64) -> bool {
            id == 7
        }
    }

    fn project() -> Project {
        Project {
            id: "p".into(),
            name: "Platform".into(),
            description: String::new(),
            process: Process::Basic,
            areas: vec!["Platform".into(), "Platform\\Web".into()],
            revision: 1,
            last_update: chrono::Utc::now(),
        }
    }

    fn draft(p: &Project) -> Draft<'_> {
        Draft {
            id: -1,
            rev: 0,
            project: p,
            work_item_type: Process::Basic.work_item_type("Issue").unwrap(),
            fields: BTreeMap::new(),
            relations: Vec::new(),
            history: None,
            temp_id: None,
            reason_given: false,
            creating: true,
        }
    }

    fn ops(v: Value) -> Vec<Op> {
        parse_value(&v).unwrap()
    }

    #[test]
    fn documents_are_read_and_refused_like_the_service() {
        assert!(parse(b"{}").is_err());
        assert!(parse(b"[]").is_err());
        let e = parse(br#"[{"op":"move","path":"/fields/System.Title","from":"/x"}]"#).unwrap_err();
        assert_eq!(
            e.body()["message"],
            "VS403356: move operation is not supported for work items"
        );
        let p = project();
        let mut d = draft(&p);
        let e = d
            .apply(
                &ops(json!([{"op":"add","path":"/foo","value":1}])),
                &NoLinks,
                false,
            )
            .unwrap_err();
        assert_eq!(
            e.body()["message"],
            "VS403343: The path /foo is not supported for work items."
        );
        let e = d
            .apply(
                &ops(json!([{"op":"add","path":"/fields/Custom.Team","value":"a"}])),
                &NoLinks,
                false,
            )
            .unwrap_err();
        assert_eq!(
            e.body()["message"],
            "TF51535: Cannot find field Custom.Team."
        );
        let e = d.apply(
            &ops(json!([{"op":"add","path":"/fields/Microsoft.VSTS.TCM.ReproSteps","value":"a"}])),
            &NoLinks,
            false,
        );
        assert!(e.is_err(), "Basic's Issue has no Repro Steps");
        let e = d
            .apply(
                &ops(json!([{"op":"add","path":"/fields/System.BoardColumn","value":"Doing"}])),
                &NoLinks,
                false,
            )
            .unwrap_err();
        assert_eq!(
            e.body()["message"],
            "TF401326: Invalid field status 'ReadOnly' for field 'System.BoardColumn'."
        );
    }

    #[test]
    fn values_follow_the_type_rules() {
        let p = project();
        let mut d = draft(&p);
        d.apply(
            &ops(json!([
                {"op":"add","path":"/fields/System.Title","value":"t"},
                {"op":"add","path":"/fields/System.State","value":"done"},
                {"op":"add","path":"/fields/Microsoft.VSTS.Common.Priority","value":"3"},
                {"op":"add","path":"/fields/System.AreaPath","value":"platform\\web"},
                {"op":"add","path":"/fields/System.Tags","value":"b; a"},
                {"op":"add","path":"/relations/-","value":{"rel":"System.LinkTypes.Related","url":"http://x/acme/_apis/wit/workItems/7"}},
            ])),
            &NoLinks,
            false,
        )
        .unwrap();
        assert_eq!(d.fields["System.State"], "Done");
        assert_eq!(d.fields["Microsoft.VSTS.Common.Priority"], 3);
        assert_eq!(d.fields["System.AreaPath"], "Platform\\Web");
        assert_eq!(d.fields["System.Tags"], "a; b");
        d.apply(
            &ops(json!([{"op":"add","path":"/fields/System.Tags","value":"c"}])),
            &NoLinks,
            false,
        )
        .unwrap();
        assert_eq!(d.fields["System.Tags"], "a; b; c", "add adds");
        d.apply(
            &ops(json!([{"op":"replace","path":"/fields/System.Tags","value":"c"}])),
            &NoLinks,
            false,
        )
        .unwrap();
        assert_eq!(d.fields["System.Tags"], "c", "replace replaces");
        let e = d
            .apply(
                &ops(json!([{"op":"add","path":"/fields/System.State","value":"Active"}])),
                &NoLinks,
                false,
            )
            .unwrap_err();
        assert!(
            e.body()["message"]
                .as_str()
                .unwrap()
                .starts_with("TF401320: Rule Error for field State.")
        );
        let e = d.apply(
            &ops(json!([{"op":"add","path":"/fields/Microsoft.VSTS.Common.Priority","value":5}])),
            &NoLinks,
            false,
        );
        assert!(e.is_err());
        let e = d
            .apply(
                &ops(json!([{"op":"add","path":"/fields/System.AreaPath","value":"Other"}])),
                &NoLinks,
                false,
            )
            .unwrap_err();
        assert_eq!(
            e.body()["message"],
            "TF401347: Invalid tree name given for work item -1, field 'System.AreaPath'."
        );
        let e = d
            .apply(&ops(json!([{"op":"add","path":"/relations/-","value":{"rel":"System.LinkTypes.Related","url":"http://x/acme/_apis/wit/workItems/8"}}])), &NoLinks, false)
            .unwrap_err();
        assert_eq!(e.status(), axum::http::StatusCode::NOT_FOUND);
        let e = d
            .apply(
                &ops(json!([{"op":"test","path":"/rev","value":3}])),
                &NoLinks,
                false,
            )
            .unwrap_err();
        assert_eq!(e.status(), axum::http::StatusCode::PRECONDITION_FAILED);
        assert!(
            d.apply(
                &ops(json!([{"op":"test","path":"/rev","value":0}])),
                &NoLinks,
                false
            )
            .is_ok()
        );
    }
}

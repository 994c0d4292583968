//! The simulated instance's data: every table's records in one store (system tables too, so
//! that the Table API reads `sys_choice` or `sys_user` like any other table), the accounts
//! behind `sys_user` (passwords and roles), OAuth clients and tokens, and the registered
//! business rules. Plain data behind the simulator's one mutex.

use super::schema::{self, Table};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// `2016-01-22 14:28:24`: how the instance stores and returns date-times (UTC).
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A new sys_id: 32 lower-case hex characters.
pub fn sys_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// An opaque token as the instance issues them (86 URL-safe characters).
pub fn token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 64]>())
}

/// A choice in the index: (sequence, value, label).
type IndexedChoice = (i64, String, String);

/// One record of any table.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub table: &'static str,
    pub values: BTreeMap<String, String>,
}

impl Record {
    pub fn get(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    pub fn sys_id(&self) -> &str {
        self.get("sys_id")
    }

    pub fn schema(&self) -> &'static Table {
        schema::table(self.table).unwrap_or(&schema::TABLES[0])
    }
}

/// What stands behind a `sys_user` record.
#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub sys_id: String,
    #[serde(skip)]
    pub password: String,
    /// `itil` (read and write task records), `snc_read_only` (read only), `admin` (all).
    pub roles: Vec<String>,
}

/// An OAuth client application (System OAuth › Application Registry).
#[derive(Clone, Debug, Serialize)]
pub struct OAuthClient {
    pub client_id: String,
    #[serde(skip)]
    pub client_secret: String,
    /// Seconds (default 1,800).
    pub access_token_lifespan: i64,
    /// Seconds (default 8,640,000: 100 days).
    pub refresh_token_lifespan: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct IssuedToken {
    #[serde(skip)]
    pub token: String,
    pub client_id: String,
    pub user_name: String,
    pub expires_at: DateTime<Utc>,
}

/// A business rule the admin installed (docs/servicenow-business-rule.md): after insert,
/// update and delete of records of `table` (or a table extending it) whose correlation id
/// starts with `vulnbridge:`, POST the record's summary to `url`.
#[derive(Clone, Debug, Serialize)]
pub struct BusinessRule {
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    pub table: String,
}

#[derive(Debug, Default, Serialize)]
pub struct State {
    pub accounts: BTreeMap<String, Account>,
    pub clients: BTreeMap<String, OAuthClient>,
    pub access_tokens: Vec<IssuedToken>,
    pub refresh_tokens: Vec<IssuedToken>,
    /// Every record, in insertion order (the Table API's order without `ORDERBY`).
    pub records: BTreeMap<u64, Record>,
    #[serde(skip)]
    by_id: HashMap<String, u64>,
    next_seq: u64,
    /// The last number given per prefix (`INC` → 10001).
    numbers: BTreeMap<String, u64>,
    /// The `sys_choice` rows by (table, element). The rows are records too; this index answers
    /// display values without scanning every record.
    #[serde(skip)]
    choice_index: BTreeMap<(String, String), Vec<IndexedChoice>>,
    pub business_rules: Vec<BusinessRule>,
}

impl State {
    /// A new instance: the tables in `sys_db_object` and the base system's choice lists.
    pub fn new() -> State {
        let mut s = State::default();
        let now = Utc::now();
        let mut ids: HashMap<&str, String> = HashMap::new();
        for t in schema::TABLES {
            let id = sys_id();
            ids.insert(t.name, id.clone());
            let mut v = s.blank(t.name, now, "system");
            v.insert("sys_id".into(), id);
            v.insert("name".into(), t.name.into());
            v.insert("label".into(), t.label.into());
            v.insert("is_extendable".into(), t.extendable.to_string());
            s.put(Record {
                table: "sys_db_object",
                values: v,
            });
        }
        for t in schema::TABLES {
            if let (Some(parent), Some(own)) = (t.parent.and_then(|p| ids.get(p)), ids.get(t.name))
                && let Some(r) = s.get_mut(own)
            {
                r.values.insert("super_class".into(), parent.clone());
            }
        }
        for (seq, (table, element, value, label)) in schema::base_choices().into_iter().enumerate()
        {
            s.add_choice(table, element, value, label, (seq as i64 + 1) * 100);
        }
        s
    }

    /// The values of a new record of `table` before the caller's: defaults and system fields.
    pub fn blank(&self, table: &str, now: DateTime<Utc>, user: &str) -> BTreeMap<String, String> {
        let mut v = BTreeMap::new();
        if let Some(t) = schema::table(table) {
            for f in t.fields() {
                v.insert(f.name.to_owned(), f.default.to_owned());
            }
        }
        let at = stamp(now);
        v.insert("sys_id".into(), sys_id());
        v.insert("sys_created_on".into(), at.clone());
        v.insert("sys_updated_on".into(), at);
        v.insert("sys_created_by".into(), user.to_owned());
        v.insert("sys_updated_by".into(), user.to_owned());
        v.insert("sys_mod_count".into(), "0".into());
        v
    }

    /// Stores a record (replacing one with the same sys_id).
    pub fn put(&mut self, record: Record) {
        let id = record.sys_id().to_owned();
        if let Some(seq) = self.by_id.get(&id) {
            self.records.insert(*seq, record);
            return;
        }
        self.next_seq += 1;
        self.by_id.insert(id, self.next_seq);
        self.records.insert(self.next_seq, record);
    }

    pub fn get(&self, sys_id: &str) -> Option<&Record> {
        self.by_id.get(sys_id).and_then(|s| self.records.get(s))
    }

    pub fn get_mut(&mut self, sys_id: &str) -> Option<&mut Record> {
        let seq = *self.by_id.get(sys_id)?;
        self.records.get_mut(&seq)
    }

    pub fn remove(&mut self, sys_id: &str) -> Option<Record> {
        let seq = self.by_id.remove(sys_id)?;
        self.records.remove(&seq)
    }

    /// The records of `table` and of the tables extending it (reading `task` lists incidents
    /// too), in insertion order.
    pub fn of_table<'a>(&'a self, table: &'a Table) -> impl Iterator<Item = &'a Record> + 'a {
        self.records
            .values()
            .filter(move |r| r.schema().is_a(table.name))
    }

    /// The next record number for a task table (`INC0010001`).
    pub fn next_number(&mut self, prefix: &str) -> String {
        let n = self.numbers.entry(prefix.to_owned()).or_insert(10_000);
        *n += 1;
        format!("{prefix}{n:07}")
    }

    pub fn add_choice(
        &mut self,
        table: &str,
        element: &str,
        value: &str,
        label: &str,
        sequence: i64,
    ) {
        let mut v = self.blank("sys_choice", Utc::now(), "system");
        v.insert("name".into(), table.into());
        v.insert("element".into(), element.into());
        v.insert("value".into(), value.into());
        v.insert("label".into(), label.into());
        v.insert("sequence".into(), sequence.to_string());
        self.put(Record {
            table: "sys_choice",
            values: v,
        });
        let list = self
            .choice_index
            .entry((table.to_owned(), element.to_owned()))
            .or_default();
        list.push((sequence, value.to_owned(), label.to_owned()));
        list.sort_by_key(|c| c.0);
    }

    /// The active choices of `element` for records of `table`: the table's own list, else the
    /// nearest ancestor's (a child table may override a parent's list, as Incident does for
    /// `state`).
    pub fn choices(&self, table: &'static Table, element: &str) -> Vec<(String, String)> {
        for t in std::iter::once(table).chain(table.ancestors()) {
            let list: Vec<(String, String)> = self
                .choice_index
                .get(&(t.name.to_owned(), element.to_owned()))
                .map(|l| l.iter().map(|c| (c.1.clone(), c.2.clone())).collect())
                .unwrap_or_default();
            if !list.is_empty() {
                return list;
            }
        }
        Vec::new()
    }

    /// The label of a choice value, if the value is one.
    pub fn choice_label(
        &self,
        table: &'static Table,
        element: &str,
        value: &str,
    ) -> Option<String> {
        self.choices(table, element)
            .into_iter()
            .find(|(v, _)| v == value)
            .map(|(_, l)| l)
    }

    /// What a reference to `sys_id` in `target` shows: the target's display field.
    pub fn reference_display(&self, target: &str, sys_id: &str) -> Option<String> {
        let r = self.get(sys_id).filter(|r| r.schema().is_a(target))?;
        Some(r.get(r.schema().display).to_owned())
    }

    /// The record a user name stands for.
    pub fn user_record(&self, user_name: &str) -> Option<&Record> {
        let id = &self.accounts.get(user_name)?.sys_id;
        self.get(id)
    }

    /// The journal entries of a record, oldest first: (element, value, created on, by).
    pub fn journal(&self, sys_id: &str) -> Vec<&Record> {
        self.records
            .values()
            .filter(|r| r.table == "sys_journal_field" && r.get("element_id") == sys_id)
            .collect()
    }

    /// Appends a journal entry to a record.
    pub fn add_journal(
        &mut self,
        record: &Record,
        element: &str,
        value: &str,
        user: &str,
        now: DateTime<Utc>,
    ) {
        let mut v = self.blank("sys_journal_field", now, user);
        v.insert("element_id".into(), record.sys_id().to_owned());
        v.insert("element".into(), element.to_owned());
        v.insert("name".into(), record.table.to_owned());
        v.insert("value".into(), value.to_owned());
        self.put(Record {
            table: "sys_journal_field",
            values: v,
        });
    }

    /// A user's display name (`sys_user.name`), for journal headers.
    pub fn user_display(&self, user_name: &str) -> String {
        self.user_record(user_name)
            .map_or_else(|| user_name.to_owned(), |r| r.get("name").to_owned())
    }
}

/// `Vulnbridge Bot` from `vulnbridge.bot`.
pub fn display_name(user_name: &str) -> String {
    user_name
        .split(['.', '_', '-'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_instance_knows_its_tables_and_choices() {
        let s = State::new();
        let incident = schema::table("incident").unwrap();
        let states = s.choices(incident, "state");
        assert_eq!(states.first().map(|c| c.1.as_str()), Some("New"));
        // Impact is defined on task and inherited.
        assert_eq!(
            s.choice_label(incident, "impact", "2").as_deref(),
            Some("2 - Medium")
        );
        let db: Vec<_> = s
            .records
            .values()
            .filter(|r| r.table == "sys_db_object" && r.get("name") == "incident")
            .collect();
        let parent = s.get(db[0].get("super_class")).unwrap();
        assert_eq!(parent.get("name"), "task");
    }

    #[test]
    fn numbers_count_per_prefix() {
        let mut s = State::new();
        assert_eq!(s.next_number("INC"), "INC0010001");
        assert_eq!(s.next_number("INC"), "INC0010002");
        assert_eq!(s.next_number("PRB"), "PRB0010001");
        assert_eq!(display_name("vulnbridge.bot"), "Vulnbridge Bot");
    }
}

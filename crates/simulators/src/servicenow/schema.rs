//! The tables the simulated instance has, their fields, and the platform rules that hang on
//! them: `task` and the tables extending it (Incident, Problem, Change Request, Security
//! Incident) with their state models, plus the system tables a client reads (`sys_user`,
//! `sys_user_group`, `sys_choice`, `sys_db_object`, `sys_journal_field`).
//!
//! Field names, types and lengths are the base system's dictionary entries; the choice lists
//! are what a new instance's `sys_choice` holds (Incident per the Table API's examples and the
//! research notes; Problem per the "Madrid" best-practice state model; Change Request per the
//! state model of newer releases).

/// A field's type, as far as the Table API's behaviour depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `GUID` (sys_id): 32 hex characters.
    SysId,
    /// A string column of at most this many characters; longer values are cut to it, as the
    /// platform does when it stores a string.
    Text(usize),
    /// An integer column (choice lists such as `state` are integers on task tables).
    Integer,
    Boolean,
    /// `glide_date_time`: `YYYY-MM-DD HH:MM:SS` in UTC.
    DateTime,
    /// A reference to a record of the table named.
    Reference(&'static str),
    /// `journal_input` (`comments`, `work_notes`): writing appends an entry; reading gives "".
    Journal,
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    /// The value a new record gets when the insert does not set the field.
    pub default: &'static str,
    /// Maintained by the platform: writes through the API are ignored.
    pub system: bool,
}

const fn f(name: &'static str, label: &'static str, kind: Kind) -> Field {
    Field {
        name,
        label,
        kind,
        default: "",
        system: false,
    }
}

const fn d(name: &'static str, label: &'static str, kind: Kind, default: &'static str) -> Field {
    Field {
        name,
        label,
        kind,
        default,
        system: false,
    }
}

const fn sys(name: &'static str, label: &'static str, kind: Kind) -> Field {
    Field {
        name,
        label,
        kind,
        default: "",
        system: true,
    }
}

/// The fields every table has.
const SYSTEM: &[Field] = &[
    sys("sys_id", "Sys ID", Kind::SysId),
    sys("sys_created_on", "Created", Kind::DateTime),
    sys("sys_created_by", "Created by", Kind::Text(40)),
    sys("sys_updated_on", "Updated", Kind::DateTime),
    sys("sys_updated_by", "Updated by", Kind::Text(40)),
    sys("sys_mod_count", "Updates", Kind::Integer),
];

const TASK: &[Field] = &[
    sys("number", "Number", Kind::Text(40)),
    sys("sys_class_name", "Task type", Kind::Text(80)),
    f("short_description", "Short description", Kind::Text(160)),
    f("description", "Description", Kind::Text(4000)),
    d("state", "State", Kind::Integer, "1"),
    d("impact", "Impact", Kind::Integer, "3"),
    d("urgency", "Urgency", Kind::Integer, "3"),
    // Computed from impact and urgency by the priority lookup rules.
    Field {
        name: "priority",
        label: "Priority",
        kind: Kind::Integer,
        default: "5",
        system: true,
    },
    // Follows the state (the state model's business rules).
    Field {
        name: "active",
        label: "Active",
        kind: Kind::Boolean,
        default: "true",
        system: true,
    },
    f("correlation_id", "Correlation ID", Kind::Text(100)),
    f(
        "correlation_display",
        "Correlation display",
        Kind::Text(100),
    ),
    f(
        "assignment_group",
        "Assignment group",
        Kind::Reference("sys_user_group"),
    ),
    f("assigned_to", "Assigned to", Kind::Reference("sys_user")),
    f("due_date", "Due date", Kind::DateTime),
    f("close_notes", "Close notes", Kind::Text(4000)),
    sys("opened_at", "Opened", Kind::DateTime),
    sys("opened_by", "Opened by", Kind::Reference("sys_user")),
    sys("closed_at", "Closed", Kind::DateTime),
    sys("closed_by", "Closed by", Kind::Reference("sys_user")),
    f("comments", "Additional comments", Kind::Journal),
    f("work_notes", "Work notes", Kind::Journal),
];

const INCIDENT: &[Field] = &[
    sys("incident_state", "Incident state", Kind::Integer),
    f("caller_id", "Caller", Kind::Reference("sys_user")),
    d("category", "Category", Kind::Text(40), "inquiry"),
    f("close_code", "Resolution code", Kind::Text(40)),
    f("hold_reason", "On hold reason", Kind::Integer),
    sys("resolved_at", "Resolved", Kind::DateTime),
    sys("resolved_by", "Resolved by", Kind::Reference("sys_user")),
];

const PROBLEM: &[Field] = &[
    f("resolution_code", "Resolution code", Kind::Text(40)),
    f("cause_notes", "Cause notes", Kind::Text(4000)),
    f("fix_notes", "Fix notes", Kind::Text(4000)),
];

const CHANGE_REQUEST: &[Field] = &[
    d("type", "Type", Kind::Text(40), "normal"),
    f("close_code", "Close code", Kind::Text(40)),
];

const SECURITY_INCIDENT: &[Field] = &[f("close_code", "Close code", Kind::Text(40))];

const SYS_USER: &[Field] = &[
    f("user_name", "User ID", Kind::Text(100)),
    f("name", "Name", Kind::Text(151)),
    f("email", "Email", Kind::Text(100)),
    d("active", "Active", Kind::Boolean, "true"),
];

const SYS_USER_GROUP: &[Field] = &[
    f("name", "Name", Kind::Text(80)),
    f("description", "Description", Kind::Text(1000)),
    d("active", "Active", Kind::Boolean, "true"),
];

const SYS_CHOICE: &[Field] = &[
    f("name", "Table", Kind::Text(80)),
    f("element", "Element", Kind::Text(80)),
    f("value", "Value", Kind::Text(40)),
    f("label", "Label", Kind::Text(100)),
    f("sequence", "Sequence", Kind::Integer),
    d("inactive", "Inactive", Kind::Boolean, "false"),
    d("language", "Language", Kind::Text(40), "en"),
    f("dependent_value", "Dependent value", Kind::Text(40)),
];

const SYS_DB_OBJECT: &[Field] = &[
    f("name", "Name", Kind::Text(80)),
    f("label", "Label", Kind::Text(80)),
    f(
        "super_class",
        "Extends table",
        Kind::Reference("sys_db_object"),
    ),
    d("is_extendable", "Extensible", Kind::Boolean, "false"),
];

const SYS_JOURNAL_FIELD: &[Field] = &[
    f("element_id", "Element ID", Kind::Text(32)),
    f("element", "Element", Kind::Text(40)),
    f("name", "Table name", Kind::Text(80)),
    f("value", "Value", Kind::Text(1_000_000)),
];

/// One table of the instance.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub label: &'static str,
    pub parent: Option<&'static str>,
    own: &'static [Field],
    /// The `number` prefix of its records (`INC`), for task tables.
    pub prefix: &'static str,
    /// The field whose value stands for a record in references (`name`, `number`, `label`).
    pub display: &'static str,
    /// The state a new record starts in.
    pub initial_state: &'static str,
    /// States in which the record is no longer active.
    pub inactive_states: &'static [&'static str],
    /// States that need closure information, and which fields (the data policy).
    pub closure: Option<Closure>,
    pub extendable: bool,
}

/// A data policy: entering one of `states` needs every field in `mandatory` set.
#[derive(Debug)]
pub struct Closure {
    pub states: &'static [&'static str],
    pub mandatory: &'static [&'static str],
}

pub const TABLES: &[Table] = &[
    Table {
        name: "task",
        label: "Task",
        parent: None,
        own: TASK,
        prefix: "TASK",
        display: "number",
        initial_state: "1",
        inactive_states: &["3", "4", "7"],
        closure: None,
        extendable: true,
    },
    Table {
        name: "incident",
        label: "Incident",
        parent: Some("task"),
        own: INCIDENT,
        prefix: "INC",
        display: "number",
        initial_state: "1",
        inactive_states: &["7", "8"],
        closure: Some(Closure {
            states: &["6", "7"],
            mandatory: &["close_code", "close_notes"],
        }),
        extendable: true,
    },
    Table {
        name: "problem",
        label: "Problem",
        parent: Some("task"),
        own: PROBLEM,
        prefix: "PRB",
        display: "number",
        initial_state: "101",
        inactive_states: &["107"],
        closure: Some(Closure {
            states: &["106", "107"],
            mandatory: &["resolution_code"],
        }),
        extendable: true,
    },
    Table {
        name: "change_request",
        label: "Change Request",
        parent: Some("task"),
        own: CHANGE_REQUEST,
        prefix: "CHG",
        display: "number",
        initial_state: "-5",
        inactive_states: &["3", "4"],
        closure: Some(Closure {
            states: &["3"],
            mandatory: &["close_code", "close_notes"],
        }),
        extendable: true,
    },
    Table {
        name: "sn_si_incident",
        label: "Security Incident",
        parent: Some("task"),
        own: SECURITY_INCIDENT,
        prefix: "SIR",
        display: "number",
        initial_state: "10",
        inactive_states: &["3", "7"],
        closure: Some(Closure {
            states: &["3"],
            mandatory: &["close_code", "close_notes"],
        }),
        extendable: false,
    },
    Table::plain("sys_user", "User", SYS_USER, "name"),
    Table::plain("sys_user_group", "Group", SYS_USER_GROUP, "name"),
    Table::plain("sys_choice", "Choices", SYS_CHOICE, "label"),
    Table::plain("sys_db_object", "Table", SYS_DB_OBJECT, "label"),
    Table::plain(
        "sys_journal_field",
        "Journal Entry",
        SYS_JOURNAL_FIELD,
        "value",
    ),
];

impl Table {
    const fn plain(
        name: &'static str,
        label: &'static str,
        own: &'static [Field],
        display: &'static str,
    ) -> Table {
        Table {
            name,
            label,
            parent: None,
            own,
            prefix: "",
            display,
            initial_state: "",
            inactive_states: &[],
            closure: None,
            extendable: false,
        }
    }

    /// Records of this table are tasks (numbered, with a state model).
    pub fn is_task(&self) -> bool {
        self.name == "task" || self.ancestors().any(|t| t.name == "task")
    }

    /// The tables this one extends, nearest first.
    pub fn ancestors(&self) -> impl Iterator<Item = &'static Table> + use<> {
        let mut next = self.parent;
        std::iter::from_fn(move || {
            let t = table(next?)?;
            next = t.parent;
            Some(t)
        })
    }

    /// Every field: the system fields, the ancestors' and the table's own.
    pub fn fields(&self) -> Vec<&'static Field> {
        let mut chain: Vec<&'static [Field]> = vec![self.own];
        chain.extend(self.ancestors().map(|t| t.own));
        let mut out: Vec<&'static Field> = SYSTEM.iter().collect();
        for own in chain.into_iter().rev() {
            out.extend(own.iter());
        }
        out
    }

    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields().into_iter().find(|f| f.name == name)
    }

    /// `self` is `other` or extends it.
    pub fn is_a(&self, other: &str) -> bool {
        self.name == other || self.ancestors().any(|t| t.name == other)
    }
}

pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// A `sys_choice` row of the base system: (table, element, value, label).
pub type Choice = (&'static str, &'static str, &'static str, &'static str);

const LEVELS: [(&str, &str); 3] = [("1", "1 - High"), ("2", "2 - Medium"), ("3", "3 - Low")];

/// The base system's choice lists.
pub fn base_choices() -> Vec<Choice> {
    let mut out: Vec<Choice> = Vec::new();
    for (v, l) in LEVELS {
        out.push(("task", "impact", v, l));
    }
    for (v, l) in LEVELS {
        out.push(("task", "urgency", v, l));
    }
    for (v, l) in [
        ("1", "1 - Critical"),
        ("2", "2 - High"),
        ("3", "3 - Moderate"),
        ("4", "4 - Low"),
        ("5", "5 - Planning"),
    ] {
        out.push(("task", "priority", v, l));
    }
    for (v, l) in [
        ("-5", "Pending"),
        ("1", "Open"),
        ("2", "Work in Progress"),
        ("3", "Closed Complete"),
        ("4", "Closed Incomplete"),
        ("7", "Closed Skipped"),
    ] {
        out.push(("task", "state", v, l));
    }
    let incident_states = [
        ("1", "New"),
        ("2", "In Progress"),
        ("3", "On Hold"),
        ("6", "Resolved"),
        ("7", "Closed"),
        ("8", "Canceled"),
    ];
    for (v, l) in incident_states {
        out.push(("incident", "state", v, l));
    }
    for (v, l) in incident_states {
        out.push(("incident", "incident_state", v, l));
    }
    for (v, l) in [
        ("1", "Awaiting Caller"),
        ("5", "Awaiting Change"),
        ("3", "Awaiting Problem"),
        ("4", "Awaiting Vendor"),
    ] {
        out.push(("incident", "hold_reason", v, l));
    }
    // The resolution codes of current releases (older instances keep "Solved (Permanently)"
    // and its siblings; tests add those with `ServiceNowSim::add_choice`).
    for c in [
        "Duplicate",
        "Known error",
        "No resolution provided",
        "Resolved by caller",
        "Resolved by change",
        "Resolved by problem",
        "Resolved by request",
        "Solution provided",
        "Workaround provided",
        "User error",
    ] {
        out.push(("incident", "close_code", c, c));
    }
    for (v, l) in [
        ("101", "New"),
        ("102", "Assess"),
        ("103", "Root Cause Analysis"),
        ("104", "Fix in Progress"),
        ("106", "Resolved"),
        ("107", "Closed"),
    ] {
        out.push(("problem", "state", v, l));
    }
    for (v, l) in [
        ("fix_applied", "Fix Applied"),
        ("risk_accepted", "Risk Accepted"),
        ("canceled", "Canceled"),
        ("duplicate", "Duplicate"),
    ] {
        out.push(("problem", "resolution_code", v, l));
    }
    for (v, l) in [
        ("-5", "New"),
        ("-4", "Assess"),
        ("-3", "Authorize"),
        ("-2", "Scheduled"),
        ("-1", "Implement"),
        ("0", "Review"),
        ("3", "Closed"),
        ("4", "Canceled"),
    ] {
        out.push(("change_request", "state", v, l));
    }
    for (v, l) in [
        ("successful", "Successful"),
        ("successful_issues", "Successful with issues"),
        ("unsuccessful", "Unsuccessful"),
    ] {
        out.push(("change_request", "close_code", v, l));
    }
    for (v, l) in [
        ("10", "Draft"),
        ("16", "Analysis"),
        ("18", "Contain"),
        ("19", "Eradicate"),
        ("20", "Recover"),
        ("100", "Review"),
        ("3", "Closed"),
        ("7", "Cancelled"),
    ] {
        out.push(("sn_si_incident", "state", v, l));
    }
    for (v, l) in [
        ("resolved", "Resolved"),
        ("false_positive", "False Positive"),
        ("risk_accepted", "Risk Accepted"),
    ] {
        out.push(("sn_si_incident", "close_code", v, l));
    }
    out
}

/// The default priority lookup rules: impact × urgency → priority.
pub fn priority(impact: &str, urgency: &str) -> &'static str {
    match (impact, urgency) {
        ("1", "1") => "1",
        ("1", "2") | ("2", "1") => "2",
        ("1", "3") | ("2", "2") | ("3", "1") => "3",
        ("2", "3") | ("3", "2") => "4",
        _ => "5",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incidents_inherit_task_fields_and_have_their_own() {
        let inc = table("incident").unwrap();
        assert!(inc.is_task() && inc.is_a("task"));
        assert!(inc.field("correlation_id").is_some());
        assert!(inc.field("close_code").is_some());
        assert!(table("problem").unwrap().field("close_code").is_none());
        assert!(!table("sys_user").unwrap().is_task());
        assert_eq!(
            inc.field("short_description").map(|f| f.kind),
            Some(Kind::Text(160))
        );
    }

    #[test]
    fn the_priority_matrix_is_the_default_one() {
        assert_eq!(priority("1", "1"), "1");
        assert_eq!(priority("1", "2"), "2");
        assert_eq!(priority("2", "2"), "3");
        assert_eq!(priority("3", "2"), "4");
        assert_eq!(priority("3", "3"), "5");
    }
}

//! "Check connection": a list of named checks, each passed or failed with the exact reason.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// What was checked: `credentials`, `scopes`, `repository`, `project`, `Priority field`…
    pub name: String,
    pub ok: bool,
    /// What was found, or exactly what is wrong and how to fix it.
    pub detail: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CheckReport {
    pub checks: Vec<Check>,
    /// The account the credentials belong to (a GitHub login, a Semgrep deployment…), when
    /// the credentials worked.
    pub account: Option<String>,
}

impl CheckReport {
    pub fn pass(&mut self, name: impl Into<String>, detail: impl Into<String>) {
        self.checks.push(Check { name: name.into(), ok: true, detail: detail.into() });
    }

    pub fn fail(&mut self, name: impl Into<String>, detail: impl Into<String>) {
        self.checks.push(Check { name: name.into(), ok: false, detail: detail.into() });
    }

    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The failures, one per line: for CLI output and error messages.
    pub fn failures(&self) -> String {
        self.checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

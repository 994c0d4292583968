//! Integrators end to end: a whole vulnbridge (API, worker, webhook receiver) against the
//! tracker simulators over real HTTP, on SQLite and PostgreSQL.

mod azure_devops;
mod config;
mod github;
mod gitlab;
mod jira;
mod servicenow;
mod stack;

//! Integrators and connectors end to end: a whole vulnbridge (API, worker, webhook receiver)
//! against the tracker and scanner simulators over real HTTP, on SQLite and PostgreSQL.

mod azure_devops;
mod config;
mod connector_faults;
mod connectors;
mod github;
mod gitlab;
mod jira;
mod servicenow;
mod stack;

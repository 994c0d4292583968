//! The storage contract: every test runs on SQLite and on PostgreSQL (`name::sqlite`,
//! `name::postgres`), so the two backends cannot drift apart.

mod common;
mod connectors;
mod containers;
mod findings;
mod integrations;
mod jobs;
mod schemas;
mod users;

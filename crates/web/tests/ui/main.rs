//! The web UI through a real server on a random port, driven like a browser (cookies, forms,
//! redirects by hand) with reqwest, on SQLite and PostgreSQL.

mod auth;
mod connectors;
mod dashboard;
mod findings;
mod groups;
mod harness;
mod import;
mod integrations;
mod products;

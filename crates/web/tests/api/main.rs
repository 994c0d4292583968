//! The REST API through the real router, on SQLite and PostgreSQL.

mod app;
mod imports;
mod bad_input;
mod isolation;
mod openapi;
mod resources;
mod users_tokens_jobs;

//! Storage errors. The layering rule (see also `web::error`): repositories return
//! `StoreError`; the web edge turns it into an HTTP problem; CLI commands and jobs wrap it in
//! `anyhow` with context. Nothing below the web layer knows about status codes.

use domain::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (or is not visible to the caller, which must look the same).
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// A uniqueness rule was broken, e.g. a second product with the same name.
    #[error("{}", .0.message)]
    Conflict(ValidationError),
    /// Input the database refused for a reason we can name.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// A stored value this version cannot read; a bug or a manual edit.
    #[error("corrupt row in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("cannot connect to the database at {url}: {reason}")]
    Unavailable { url: String, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub fn corrupt(table: &'static str, reason: impl Into<String>) -> Self {
        StoreError::Corrupt {
            table,
            reason: reason.into(),
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }
}

/// Turns a unique-constraint violation into a `Conflict` naming `field`; other errors pass.
pub(crate) fn on_unique(field: &'static str, message: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
    let message = message.into();
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(ValidationError::new(field, message))
        }
        _ => StoreError::Database(e),
    }
}

/// Turns a foreign-key violation into `Invalid` naming `field`; other errors pass.
pub(crate) fn on_foreign_key(field: &'static str, message: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
    let message = message.into();
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::Invalid(ValidationError::new(field, message))
        }
        _ => StoreError::Database(e),
    }
}

use secrets::Cipher;
use std::sync::Arc;
use store::Db;

/// Settings that behaviour depends on (not how the process is run).
#[derive(Clone, Debug)]
pub struct Settings {
    /// How users reach this server: used in webhook URLs and links in tickets.
    pub public_url: String,
}

/// The one state everything shares: the database, the cipher for stored credentials, and
/// settings. Cheap to clone; handlers and jobs take it by reference.
#[derive(Clone)]
pub struct App(Arc<Inner>);

struct Inner {
    db: Db,
    cipher: Cipher,
    settings: Settings,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("db", &self.0.db)
            .field("cipher", &self.0.cipher)
            .field("settings", &self.0.settings)
            .finish()
    }
}

impl App {
    pub fn new(db: Db, cipher: Cipher, settings: Settings) -> App {
        App(Arc::new(Inner {
            db,
            cipher,
            settings,
        }))
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn cipher(&self) -> &Cipher {
        &self.0.cipher
    }

    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }
}

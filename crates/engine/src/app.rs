use crate::connectors::ScannerClients;
use crate::integrations::TrackerClients;
use secrets::Cipher;
use std::sync::Arc;
use store::Db;
use trackers::outbound::OutboundPolicy;

/// Settings that behaviour depends on (not how the process is run).
#[derive(Clone, Debug)]
pub struct Settings {
    /// How users reach this server: used in webhook URLs and links in tickets.
    pub public_url: String,
    /// Which addresses tracker (and later scanner) clients may call.
    pub outbound: OutboundPolicy,
}

impl Settings {
    pub fn new(public_url: impl Into<String>) -> Settings {
        Settings { public_url: public_url.into(), outbound: OutboundPolicy::default() }
    }

    /// `public_url` without a trailing slash, for building links.
    pub fn base_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

/// The one state everything shares: the database, the cipher for stored credentials, and
/// settings. Cheap to clone; handlers and jobs take it by reference.
#[derive(Clone)]
pub struct App(Arc<Inner>);

struct Inner {
    db: Db,
    cipher: Cipher,
    settings: Settings,
    trackers: TrackerClients,
    scanners: ScannerClients,
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
            trackers: TrackerClients::default(),
            scanners: ScannerClients::default(),
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

    /// The tracker clients of this process, one per instance.
    pub fn trackers(&self) -> &TrackerClients {
        &self.0.trackers
    }

    /// The scanner API clients of this process, one per connector.
    pub fn scanners(&self) -> &ScannerClients {
        &self.0.scanners
    }
}

//! PLACEHOLDER — being written (helper). The GitLab client.

pub mod webhook;

use crate::{Connection, HttpClient, TrackerError};

pub struct GitLab {
    #[allow(dead_code)]
    conn: Connection,
    #[allow(dead_code)]
    http: HttpClient,
}

impl GitLab {
    pub fn new(conn: Connection, http: HttpClient) -> Result<GitLab, TrackerError> {
        Ok(GitLab { conn, http })
    }
}

#[async_trait::async_trait]
impl crate::Tracker for GitLab {
    fn vendor(&self) -> domain::tracker::Vendor {
        self.conn.vendor
    }
    async fn check(&self, _m: Option<&domain::tracker::MappingConfig>) -> crate::CheckReport {
        let mut r = crate::CheckReport::default();
        r.fail("client", "not written yet");
        r
    }
    async fn create(&self, _m: &domain::tracker::MappingConfig, _f: &domain::tracker::TicketFields, _k: &domain::tracker::Marker, _p: &mut crate::Progress) -> Result<(), TrackerError> {
        Err(TrackerError::Misconfigured("not written yet".into()))
    }
    async fn update(&self, _m: &domain::tracker::MappingConfig, _r: &crate::RemoteRef, _c: &domain::tracker::Changes, _p: &mut crate::Progress) -> Result<(), TrackerError> {
        Err(TrackerError::Misconfigured("not written yet".into()))
    }
    async fn find_by_marker(&self, _m: &domain::tracker::MappingConfig, _k: &domain::tracker::Marker, _s: chrono::DateTime<chrono::Utc>) -> Result<Option<crate::FoundTicket>, TrackerError> {
        Err(TrackerError::Misconfigured("not written yet".into()))
    }
    async fn register_webhook(&self, _m: &domain::tracker::MappingConfig, _u: &url::Url, _s: &secrecy::SecretString) -> Result<(), TrackerError> {
        Err(TrackerError::Misconfigured("not written yet".into()))
    }
}

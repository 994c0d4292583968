//! Counts the requests a simulator served, by method and route: what the benchmarks report
//! as "API calls per ticket".

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
pub struct RequestLog {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl RequestLog {
    /// Requests per `METHOD route` (`POST /repos/{owner}/{repo}/issues`), control API excluded.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts.lock().unwrap().clone()
    }

    pub fn total(&self) -> u64 {
        self.counts.lock().unwrap().values().sum()
    }

    pub fn reset(&self) {
        self.counts.lock().unwrap().clear();
    }

    /// Counts one request under `key` (GraphQL simulators count each operation by name).
    pub fn count(&self, key: impl Into<String>) {
        *self.counts.lock().unwrap().entry(key.into()).or_default() += 1;
    }

    pub async fn middleware(log: RequestLog, req: Request, next: Next) -> Response {
        let path = req.uri().path().to_owned();
        if !path.starts_with("/_sim/") {
            let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or(path);
            log.count(format!("{} {route}", req.method()));
        }
        next.run(req).await
    }
}

//! Cut-off answers: the next matching responses send half their body and then drop the
//! connection, as a proxy or a crashed server does mid-page. `common::Faults` replaces an
//! answer with a canned one; this breaks the real one. Shared by this crate's Security Hub,
//! Tenable and Dependency-Track simulators.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
pub struct Cut {
    rules: Arc<Mutex<Vec<(String, u32)>>>,
}

impl Cut {
    /// The next `times` responses to requests whose path contains `path_contains` are cut.
    pub fn push(&self, path_contains: &str, times: u32) {
        if times > 0 {
            self.lock().push((path_contains.to_owned(), times));
        }
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, u32)>> {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take(&self, path: &str) -> bool {
        let mut rules = self.lock();
        let Some(i) = rules.iter().position(|(p, _)| path.contains(p.as_str())) else {
            return false;
        };
        rules[i].1 -= 1;
        if rules[i].1 == 0 {
            rules.remove(i);
        }
        true
    }

    /// axum middleware applying the rules (control paths under `/_sim/` are exempt).
    pub async fn middleware(cut: Cut, req: Request, next: Next) -> Response {
        let path = req.uri().path().to_owned();
        if path.starts_with("/_sim/") || !cut.take(&path) {
            return next.run(req).await;
        }
        let response = next.run(req).await;
        let (mut parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let half = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
        parts.headers.remove("content-length");
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "cut off by the simulator",
            )),
        ];
        // The first half goes out (headers with it) before the connection drops.
        let stream = futures::StreamExt::then(futures::stream::iter(chunks), |c| async move {
            if c.is_err() {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            c
        });
        Response::from_parts(parts, Body::from_stream(stream))
    }
}

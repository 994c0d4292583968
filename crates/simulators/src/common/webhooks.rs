//! Webhooks a simulator sends back when a ticket changes: queued, posted in the background in
//! order, and kept for inspection.

use serde::Serialize;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, mpsc};

/// One webhook request, as sent.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The receiver's status, or `None` if it could not be reached.
    pub status: Option<u16>,
}

struct Pending {
    url: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// The outbox. Cloning shares it.
#[derive(Clone)]
pub struct WebhookOutbox {
    tx: mpsc::UnboundedSender<Pending>,
    sent: Arc<Mutex<Vec<Delivery>>>,
    in_flight: Arc<Mutex<usize>>,
    idle: Arc<Notify>,
}

impl std::fmt::Debug for WebhookOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookOutbox").finish_non_exhaustive()
    }
}

impl WebhookOutbox {
    /// Starts the sender task (call inside a tokio runtime).
    pub fn start() -> WebhookOutbox {
        let (tx, mut rx) = mpsc::unbounded_channel::<Pending>();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(Mutex::new(0usize));
        let idle = Arc::new(Notify::new());
        let outbox = WebhookOutbox { tx, sent: sent.clone(), in_flight: in_flight.clone(), idle: idle.clone() };
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("an HTTP client");
            while let Some(p) = rx.recv().await {
                let mut req = client.post(&p.url).body(p.body.clone());
                for (k, v) in &p.headers {
                    req = req.header(k, v);
                }
                let status = req.send().await.ok().map(|r| r.status().as_u16());
                sent.lock().unwrap().push(Delivery { url: p.url, headers: p.headers, body: p.body, status });
                let mut n = in_flight.lock().unwrap();
                *n -= 1;
                if *n == 0 {
                    idle.notify_waiters();
                }
            }
        });
        outbox
    }

    /// Queues a POST of `body` (JSON) to `url` with these headers.
    pub fn send(&self, url: &str, headers: Vec<(String, String)>, body: String) {
        *self.in_flight.lock().unwrap() += 1;
        if self.tx.send(Pending { url: url.to_owned(), headers, body }).is_err() {
            *self.in_flight.lock().unwrap() -= 1;
        }
    }

    /// Everything sent so far.
    pub fn sent(&self) -> Vec<Delivery> {
        self.sent.lock().unwrap().clone()
    }

    /// Waits until every queued webhook was sent.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if *self.in_flight.lock().unwrap() == 0 {
                return;
            }
            notified.await;
        }
    }
}

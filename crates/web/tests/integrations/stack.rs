//! A whole vulnbridge on a throwaway database: the HTTP server on a real port (trackers send
//! their webhooks to it), a worker that can be started, stopped and killed, and an HTTP client
//! with an administrator's token.

use domain::Role;
use serde_json::{Value, json};
use std::time::Duration;
use store::testing::TestDb;
use store::users::NewUser;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Stack {
    pub t: TestDb,
    pub app: engine::App,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub admin: String,
    http: reqwest::Client,
    server: JoinHandle<()>,
    worker: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
}

impl Resp {
    #[track_caller]
    pub fn ok(self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        self.body
    }
}

impl Stack {
    pub async fn start(t: TestDb) -> Stack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = engine::App::new(t.db.clone(), secrets::Cipher::new(&secrets::MasterKey::generate()), engine::Settings::new(base.clone()));
        let state = web::AppState::new(app.clone());
        let server = tokio::spawn(async move {
            let _ = web::serve(listener, state, std::future::pending()).await;
        });
        let mut tx = t.db.begin().await.unwrap();
        let u = store::users::create(
            &mut tx,
            NewUser { username: "admin".into(), display_name: None, email: None, password_hash: None, global_role: Some(Role::Admin) },
        )
        .await
        .unwrap();
        let tok = secrets::token::generate();
        store::tokens::create(&mut tx, u.id, "test", &tok, None).await.unwrap();
        tx.commit().await.unwrap();
        Stack {
            t,
            app,
            base,
            admin: tok.reveal().to_owned(),
            http: reqwest::Client::new(),
            server,
            worker: None,
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header("Authorization", format!("Token {}", self.admin));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp { status, body }
    }

    pub async fn get(&self, path: &str) -> Value {
        self.call("GET", path, None).await.ok(200)
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(body)).await
    }

    /// Starts a worker (two jobs at once, short leases so a killed worker's jobs come back
    /// quickly).
    pub fn start_worker(&mut self) {
        assert!(self.worker.is_none(), "a worker is already running");
        let (tx, rx) = watch::channel(false);
        let worker = engine::Worker::new(
            self.app.clone(),
            engine::jobs::registry(),
            engine::WorkerOptions {
                concurrency: 2,
                lease: Duration::from_millis(1500),
                poll_interval: Duration::from_millis(50),
                base_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(500),
                shutdown_grace: Duration::from_secs(5),
                ..engine::WorkerOptions::default()
            },
        );
        self.worker = Some((tx, tokio::spawn(worker.run(rx))));
    }

    /// Stops the worker cleanly (running jobs finish).
    pub async fn stop_worker(&mut self) {
        if let Some((tx, handle)) = self.worker.take() {
            let _ = tx.send(true);
            let _ = handle.await;
        }
    }

    /// Kills the worker: its tasks stop at whatever await they are at, holding their leases,
    /// like a process killed with SIGKILL.
    pub async fn kill_worker(&mut self) {
        if let Some((_tx, handle)) = self.worker.take() {
            handle.abort();
            let _ = handle.await;
        }
    }

    /// Push jobs not yet finished (queued or running).
    pub async fn pushes_pending(&self) -> i64 {
        let mut c = self.t.db.conn().await.unwrap();
        let page = store::jobs::list(&mut c, &store::jobs::Filter { queue: Some("push".into()), ..Default::default() }, store::PageRequest::all())
            .await
            .unwrap();
        page.results.iter().filter(|j| matches!(j.status, store::jobs::JobStatus::Queued | store::jobs::JobStatus::Running)).count() as i64
    }

    /// Runs the worker until no push is pending (at most `limit`), then stops it.
    pub async fn drain(&mut self, limit: Duration) {
        let started = self.worker.is_none();
        if started {
            self.start_worker();
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.pushes_pending().await == 0 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "pushes still pending after {limit:?}: {}", self.jobs_summary().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if started {
            self.stop_worker().await;
        }
    }

    pub async fn jobs_summary(&self) -> String {
        let mut c = self.t.db.conn().await.unwrap();
        let page = store::jobs::list(&mut c, &Default::default(), store::PageRequest::all()).await.unwrap();
        page.results.iter().map(|j| format!("{} {} {:?} {:?}", j.id, j.kind, j.status, j.last_error)).collect::<Vec<_>>().join("\n")
    }

    /// Product → engagement → test through the API; returns their ids.
    pub async fn world(&self, product: &str) -> (i64, i64, i64) {
        let p = self.post("/api/v1/products", json!({"name": product})).await.ok(201);
        let e = self.post("/api/v1/engagements", json!({"product": p["id"], "name": "CI"})).await.ok(201);
        let t = self
            .post("/api/v1/tests", json!({"engagement": e["id"], "title": "Semgrep", "scan_type": "Semgrep JSON Report"}))
            .await
            .ok(201);
        (p["id"].as_i64().unwrap(), e["id"].as_i64().unwrap(), t["id"].as_i64().unwrap())
    }

    pub async fn finding(&self, test: i64, title: &str, severity: &str) -> i64 {
        self.post("/api/v1/findings", json!({"test": test, "title": title, "severity": severity})).await.ok(201)["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn set_status(&self, finding: i64, status: &str) {
        self.call("PATCH", &format!("/api/v1/findings/{finding}"), Some(json!({"status": status}))).await.ok(200);
    }

    pub async fn finding_json(&self, id: i64) -> Value {
        self.get(&format!("/api/v1/findings/{id}")).await
    }

    /// Waits until the simulator's webhooks reached us and were applied.
    pub async fn settle(&self, outbox: &simulators::WebhookOutbox) {
        outbox.wait_idle().await;
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.server.abort();
        if let Some((_, h)) = self.worker.take() {
            h.abort();
        }
    }
}

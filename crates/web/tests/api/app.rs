//! `TestApp`: the router over a throwaway database, with helpers per HTTP verb.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::{Role, UserId};
use http_body_util::BodyExt;
use serde_json::Value;
use store::testing::TestDb;
use store::users::NewUser;
use tower::ServiceExt;

pub struct TestApp {
    pub t: TestDb,
    pub router: Router,
    /// A global admin's token.
    pub admin: String,
}

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub content_type: String,
    pub www_authenticate: Option<String>,
}

impl TestApp {
    pub async fn new(t: TestDb) -> TestApp {
        Self::with_upload_limit(t, web::DEFAULT_MAX_UPLOAD_BYTES).await
    }

    pub async fn with_upload_limit(t: TestDb, max_upload_bytes: usize) -> TestApp {
        let key = secrets::MasterKey::generate();
        let app = engine::App::new(
            t.db.clone(),
            secrets::Cipher::new(&key),
            engine::Settings::new("http://localhost:8080"),
        );
        let mut state = web::AppState::new(app);
        state.max_upload_bytes = max_upload_bytes;
        let router = web::router(state);
        let mut me = TestApp { t, router, admin: String::new() };
        me.admin = me.user("admin", Some(Role::Admin)).await.1;
        me
    }

    /// Creates a user with a global role (or none) and returns their id and a token.
    pub async fn user(&self, name: &str, role: Option<Role>) -> (UserId, String) {
        let mut tx = self.t.db.begin().await.unwrap();
        let u = store::users::create(
            &mut tx,
            NewUser {
                username: name.into(),
                display_name: None,
                email: None,
                password_hash: None,
                global_role: role,
            },
        )
        .await
        .unwrap();
        let tok = secrets::token::generate();
        store::tokens::create(&mut tx, u.id, "test", &tok, None).await.unwrap();
        tx.commit().await.unwrap();
        (u.id, tok.reveal().to_owned())
    }

    pub async fn raw(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let www_authenticate = resp
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Resp { status, body, content_type, www_authenticate }
    }

    pub async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Resp {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Token {token}"));
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&v).unwrap())
            }
            None => Body::empty(),
        };
        self.raw(req.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, token, None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("POST", path, token, Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("PATCH", path, token, Some(body)).await
    }
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("PUT", path, token, Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.call("DELETE", path, token, None).await
    }

    /// Creates product → engagement → test as admin; returns their ids.
    pub async fn world(&self, product: &str) -> (i64, i64, i64) {
        let p = self.post("/api/v1/products", &self.admin, serde_json::json!({"name": product})).await;
        assert_eq!(p.status, 201, "{:?}", p.body);
        let pid = p.body["id"].as_i64().unwrap();
        let e = self.post("/api/v1/engagements", &self.admin, serde_json::json!({"product": pid, "name": "CI"})).await;
        assert_eq!(e.status, 201, "{:?}", e.body);
        let eid = e.body["id"].as_i64().unwrap();
        let t = self
            .post("/api/v1/tests", &self.admin, serde_json::json!({"engagement": eid, "title": "Semgrep", "scan_type": "Semgrep JSON Report"}))
            .await;
        assert_eq!(t.status, 201, "{:?}", t.body);
        (pid, eid, t.body["id"].as_i64().unwrap())
    }

    pub async fn finding(&self, test: i64, title: &str, severity: &str) -> i64 {
        let f = self
            .post("/api/v1/findings", &self.admin, serde_json::json!({"test": test, "title": title, "severity": severity}))
            .await;
        assert_eq!(f.status, 201, "{:?}", f.body);
        f.body["id"].as_i64().unwrap()
    }
}

impl Resp {
    /// Asserts an RFC 9457 problem with this status naming this field.
    #[track_caller]
    pub fn problem(&self, status: u16, field: Option<&str>) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.content_type, "application/problem+json", "{}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", self.body);
        assert_eq!(self.body["field"].as_str(), field, "{}", self.body);
        self
    }

    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or("")
    }
}

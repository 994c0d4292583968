//! `Ui`: vulnbridge serving on a throwaway database, with users who have passwords; `Browser`:
//! a reqwest client that keeps cookies and does not follow redirects (tests look at them).

use domain::tracker::*;
use domain::*;
use secrets::SecretString;
use std::collections::BTreeMap;
use std::sync::Mutex;
use store::testing::TestDb;
use store::users::NewUser;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Ui {
    pub t: TestDb,
    /// The server's engine (its cipher opens what the server sealed): for tests that run a
    /// worker beside the server.
    pub app: engine::App,
    pub base: String,
    server: JoinHandle<()>,
}

impl Drop for Ui {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub struct World {
    pub product: Product,
    pub test: Test,
}

impl Ui {
    pub async fn start(t: TestDb) -> Ui {
        Self::start_with_public_url(t, "").await
    }

    /// With the public URL users reach it by (empty: the address it listens on).
    pub async fn start_with_public_url(t: TestDb, public_url: &str) -> Ui {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let public = if public_url.is_empty() { base.clone() } else { public_url.to_owned() };
        let app = engine::App::new(t.db.clone(), secrets::Cipher::new(&secrets::MasterKey::generate()), engine::Settings::new(public));
        let state = web::AppState::new(app.clone());
        let server = tokio::spawn(async move {
            let _ = web::serve(listener, state, std::future::pending()).await;
        });
        Ui { t, app, base, server }
    }

    /// A user with the test password and a global role (or none).
    pub async fn user(&self, name: &str, role: Option<Role>) -> UserId {
        let hash = tokio::task::spawn_blocking(|| secrets::password::hash(&SecretString::from(PASSWORD.to_owned())).unwrap())
            .await
            .unwrap();
        let mut c = self.t.db.conn().await.unwrap();
        store::users::create(&mut c, NewUser { username: name.into(), display_name: None, email: None, password_hash: Some(hash), global_role: role })
            .await
            .unwrap()
            .id
    }

    pub async fn member(&self, product: ProductId, user: UserId, role: Role) {
        let mut c = self.t.db.conn().await.unwrap();
        store::members::set(&mut c, product, user, role).await.unwrap();
    }

    /// Product → engagement → test.
    pub async fn world(&self, product: &str) -> World {
        let mut c = self.t.db.conn().await.unwrap();
        let p = store::products::create(&mut c, serde_json::from_value(serde_json::json!({"name": product})).unwrap()).await.unwrap();
        let e = store::engagements::create(&mut c, serde_json::from_value(serde_json::json!({"product": p.id, "name": "CI"})).unwrap())
            .await
            .unwrap();
        let t = store::tests::create(
            &mut c,
            serde_json::from_value(serde_json::json!({"engagement": e.id, "title": "Semgrep", "scan_type": "Semgrep JSON Report"})).unwrap(),
        )
        .await
        .unwrap();
        World { product: p, test: t }
    }

    /// Findings built from JSON (`{"title": …, "severity": …}` plus any field).
    pub async fn findings(&self, test: &Test, list: Vec<serde_json::Value>) -> Vec<Finding> {
        let now = store::now();
        let built: Vec<Finding> = list
            .into_iter()
            .map(|mut v| {
                v["test"] = serde_json::json!(test.id);
                let new: NewFinding = serde_json::from_value(v).unwrap();
                new.normalize().unwrap().into_finding(test, now, None)
            })
            .collect();
        let mut c = self.t.db.conn().await.unwrap();
        store::findings::insert_many(&mut c, built, store::findings::Seen::At).await.unwrap()
    }

    /// A GitHub instance and mapping, assigned to `product`.
    pub async fn github(&self, product: ProductId) -> (Instance, Mapping) {
        let cipher = secrets::Cipher::new(&secrets::MasterKey::generate());
        let mut c = self.t.db.conn().await.unwrap();
        let i = store::instances::create(
            &mut c,
            store::instances::NewInstance {
                vendor: Vendor::GitHub,
                label: "GitHub acme".into(),
                location: "https://github.com/acme".into(),
                credentials: cipher.seal("instance-credentials", r#"{"token":"ghp_secret_never_shown"}"#),
                webhook_secret: cipher.seal("instance-webhook-secret", "whsec"),
                settings: InstanceSettings::default(),
            },
        )
        .await
        .unwrap();
        let cfg = MappingConfig::defaults(MappingTarget::GitHub { repository: "storefront".into(), project_number: None });
        let m = store::mappings::create(&mut c, i.id, "storefront", &cfg).await.unwrap();
        store::assignments::create(&mut c, m.id, AssignmentScope::Product(product), PushMode::Explicit, &PushFilters::default()).await.unwrap();
        (i, m)
    }

    /// A linked ticket for a finding, with one changelog line.
    pub async fn ticket(&self, i: &Instance, m: &Mapping, finding: FindingId, key: &str, url: &str) {
        self.ticket_for(i, m, Subject::Finding(finding), key, url).await
    }

    /// A linked ticket for a finding or a group, with one changelog line.
    pub async fn ticket_for(&self, i: &Instance, m: &Mapping, subject: Subject, key: &str, url: &str) {
        let mut c = self.t.db.conn().await.unwrap();
        // A job to hold the ticket's create, in a queue no worker or counter looks at.
        let job = store::jobs::enqueue(&mut c, store::jobs::NewJob::new("push_ticket", serde_json::json!({})).queue("fixture"))
            .await
            .unwrap()
            .unwrap();
        let fields = TicketFields {
            title: "t".into(),
            body: "b".into(),
            labels: ["vulnbridge".to_owned()].into(),
            severity: FieldValue::new("Priority", "P3"),
            status: FieldValue::new("Status", "In Progress"),
            state: TicketState::Open,
            custom: Default::default(),
        };
        let new = store::tickets::NewTicket { instance: i.id, mapping: m.id, vendor: i.vendor, subject, sending: &fields, job };
        let tk = store::tickets::start_create(&mut c, new).await.unwrap().unwrap();
        let data = serde_json::json!({});
        store::tickets::link(&mut c, tk.id, store::tickets::RemoteLink { remote_id: key, key, url, data: &data }, &fields, store::now())
            .await
            .unwrap();
        store::tickets::add_change(&mut c, tk.id, &TicketChange { at: store::now(), action: "created".into(), detail: "opened by vulnbridge".into(), actor: "vulnbridge".into() })
            .await
            .unwrap();
    }

    pub fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookies: Mutex::new(BTreeMap::new()),
        }
    }
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.status, 200, "{}", self.body);
        &self.body
    }

    /// The CSRF token the page's forms carry.
    pub fn csrf(&self) -> String {
        let at = self.body.find(r#"name="csrf" value=""#).unwrap_or_else(|| panic!("no csrf field in {}", self.body));
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

pub struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Browser {
    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let cookie = self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let req = if cookie.is_empty() { req } else { req.header("cookie", cookie) };
        let r = req.send().await.unwrap();
        for set in r.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attrs) = set.split_once(';').unwrap_or((set, ""));
            let (k, v) = pair.split_once('=').unwrap();
            let mut jar = self.cookies.lock().unwrap();
            if v.is_empty() || attrs.contains("Max-Age=0") {
                jar.remove(k);
            } else {
                jar.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let location = headers.get("location").map(|l| l.to_str().unwrap().to_owned());
        Page { status, location, headers, body: r.text().await.unwrap() }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.http.get(format!("{}{path}", self.base))).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(path, form, &[]).await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: &str) -> Page {
        self.send(self.http.post(format!("{}{path}", self.base)).header("content-type", content_type).body(body.to_owned())).await
    }

    pub async fn post_with(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// Logs in through the form; returns the answer to the POST.
    pub async fn login(&self, user: &str, password: &str, next: &str) -> Page {
        let form = self.get(&format!("/login?next={}", next.replace('&', "%26").replace('?', "%3F"))).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post("/login", &[("username", user), ("password", password), ("csrf", &csrf), ("next", next)]).await
    }

    /// Logs in and checks it worked.
    pub async fn logged_in(ui: &Ui, user: &str) -> Browser {
        let b = ui.browser();
        let r = b.login(user, PASSWORD, "/").await;
        assert_eq!(r.status, 303, "{}", r.body);
        b
    }
}

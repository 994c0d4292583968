//! The real binary, as a user runs it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vulnbridge"));
    // A clean environment: no VULNBRIDGE_* from the caller leaks into these runs.
    for (k, _) in std::env::vars() {
        if k.starts_with("VULNBRIDGE_") {
            c.env_remove(k);
        }
    }
    c.env("VULNBRIDGE_LOG", "warn");
    // Runs that keep the default `./vulnbridge-data` write it here, never into the source tree.
    c.current_dir(scratch_dir());
    c
}

fn scratch_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-scratch");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn run(c: &mut Command) -> Output {
    c.output().expect("run vulnbridge")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A tiny HTTP GET without a client library: status line and body.
fn http_get(port: u16, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let auth = token.map(|t| format!("Authorization: Token {t}\r\n")).unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((status, body))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

fn wait_healthy(port: u16, within: Duration) -> Duration {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Some((200, _)) = http_get(port, "/healthz", None) {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no answer on /healthz within {within:?}");
}

/// migrate → user create → token create → serve → the token works → SIGTERM stops it.
fn full_cycle(env: &[(&str, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let with = |c: &mut Command| {
        c.env("VULNBRIDGE_DATA_DIR", dir.path());
        for (k, v) in env {
            c.env(k, v);
        }
    };
    let mut c = bin();
    with(&mut c);
    let o = run(c.arg("migrate"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("up to date"), "{}", stdout(&o));

    let mut c = bin();
    with(&mut c);
    let o = run(c.args(["user", "create", "ops", "--admin"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Password: "), "{}", stdout(&o));

    let mut c = bin();
    with(&mut c);
    let o = run(c.args(["token", "create", "ops", "--name", "ci"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let token = stdout(&o).trim().to_owned();
    assert!(token.starts_with("vbt_"), "only the token on stdout: {token}");

    let mut c = bin();
    with(&mut c);
    let o = run(c.args(["token", "create", "nobody"]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no user named 'nobody'"), "{}", stderr(&o));

    let port = free_port();
    let mut c = bin();
    with(&mut c);
    let child = c
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let took = wait_healthy(port, Duration::from_secs(10));
    eprintln!("healthy after {took:?}");
    let (status, body) = http_get(port, "/api/v1/users/me", Some(&token)).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"username\":\"ops\""), "{body}");
    let (status, _) = http_get(port, "/readyz", None).unwrap();
    assert_eq!(status, 200);

    // SIGTERM: a clean exit.
    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(st) = server.0.try_wait().unwrap() {
            assert!(st.success(), "serve exited with {st}");
            break;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut log = String::new();
    if let Some(mut e) = server.0.stderr.take() {
        let _ = e.read_to_string(&mut log);
    }
    assert!(!log.contains(&token), "a token reached the log");
}

#[test]
fn sqlite_full_cycle() {
    full_cycle(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_full_cycle() {
    let Some(t) = store::testing::TestDb::postgres().await else { return };
    let schema = t.pg_schema.clone().unwrap();
    let sep = if t.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}options=-c%20search_path%3D{schema}", t.url);
    tokio::task::spawn_blocking(move || full_cycle(&[("VULNBRIDGE_DATABASE_URL", url)]))
        .await
        .unwrap();
    drop(t);
}

#[test]
fn an_unreachable_database_is_one_clear_line() {
    let o = run(bin()
        .env("VULNBRIDGE_DATABASE_URL", "postgres://user:hunter2@127.0.0.1:1/db")
        .args(["serve", "--bind", "127.0.0.1:0"]));
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("cannot connect to the database at postgres://user:***@127.0.0.1:1/db"), "{err}");
    assert!(lines[0].contains("refused"), "{err}");
    assert!(!err.contains("hunter2") && !err.contains("panicked") && !err.contains("backtrace"), "{err}");
}

#[test]
fn bad_configuration_is_named() {
    let o = run(bin().env("VULNBRIDGE_WORKERS", "lots").arg("migrate"));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("workers"), "{}", stderr(&o));
    let o = run(bin().env("VULNBRIDGE_BIMD", "x").arg("openapi"));
    assert!(o.status.success());
    assert!(stderr(&o).contains("unknown environment variable VULNBRIDGE_BIMD (did you mean VULNBRIDGE_BIND?)"), "{}", stderr(&o));
}

#[test]
fn openapi_matches_the_committed_document() {
    let o = run(bin().arg("openapi"));
    assert!(o.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json")).unwrap()).unwrap();
    assert_eq!(printed, committed);
}

#[test]
fn demo_seeds_and_reports_its_logins() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let o = run(bin().args(["demo", "--no-serve", "--data-dir"]).arg(&data));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let words = |l: &str| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert!(out.lines().any(|l| words(l).starts_with(&["login".into(), "admin".into()])), "{out}");
    assert!(out.lines().any(|l| l.trim().strip_prefix("API token").is_some_and(|t| t.trim().starts_with("vbt_"))), "{out}");
    // Trackers: tickets pushed to all five simulators, and tickets closed there came back.
    assert!(out.lines().any(|l| l.trim_start().starts_with("pushed") && l.contains("five trackers")), "{out}");
    // Connectors: all nine scanners synced into products, and on to the trackers.
    assert!(out.contains("connectors nine scanners discovered, mapped and synced"), "{out}");
    for tool in ["Semgrep", "SonarQube", "BurpSuite", "Snyk", "AWS Security Hub", "Checkmarx ONE", "Probely", "Tenable", "Dependency-Track"] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(tool) && l.contains(" findings")), "{tool}: {out}");
    }
    let pushed_on = out.lines().find(|l| l.contains("new tickets pushed on to the trackers")).expect("the connectors' summary");
    let n: i64 = pushed_on.split(';').nth(1).and_then(|p| p.split_whitespace().next()).and_then(|n| n.parse().ok()).expect("a count");
    assert!(n > 0, "{pushed_on}");
    for (tracker, what) in [
        ("GitHub", "issues (acme/storefront"),
        ("GitLab", "issues (acme/mobile-backend)"),
        ("Jira", "security issues (SEC) linked to"),
        ("Azure DevOps", "work items (acme/Platform"),
        ("ServiceNow", "incidents for Security Operations"),
    ] {
        let line = out.lines().find(|l| l.trim_start().starts_with(tracker) && l.contains(what)).unwrap_or_else(|| panic!("{tracker}: {out}"));
        let n: usize = line.trim_start()[tracker.len()..].split_whitespace().next().unwrap().parse().unwrap();
        assert!(n > 0, "{line}");
    }
    assert!(out.contains("dev-alice closed acme/storefront#"), "{out}");
    assert!(out.contains("moved APP-") && out.contains("to Done in Jira"), "{out}");
    assert!(out.contains("in ServiceNow → its finding is now closed"), "{out}");
    assert!(data.join(".vulnbridge-demo").exists());
    // Running it again starts afresh.
    let o = run(bin().args(["demo", "--no-serve", "--data-dir"]).arg(&data));
    assert!(o.status.success(), "{}", stderr(&o));
    // A directory the demo did not make is never deleted.
    let foreign = dir.path().join("mine");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("important.txt"), "keep").unwrap();
    let o = run(bin().args(["demo", "--no-serve", "--data-dir"]).arg(&foreign));
    assert!(!o.status.success());
    assert!(foreign.join("important.txt").exists());
}

/// `demo --database-url`: the same demo on PostgreSQL, in its own schema, rerunnable (the
/// browser tests run against it too).
#[test]
fn demo_runs_on_postgres() {
    let Ok(url) = std::env::var("VULNBRIDGE_TEST_DATABASE_URL") else {
        eprintln!("skipping: VULNBRIDGE_TEST_DATABASE_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for run_ in 0..2 {
        let o = run(bin().args(["demo", "--no-serve", "--database-url", &url, "--data-dir"]).arg(dir.path().join("demo")));
        assert!(o.status.success(), "run {run_}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("data in schema vulnbridge_demo of postgres://"), "{out}");
        assert!(out.contains("connectors nine scanners discovered, mapped and synced"), "{out}");
        assert!(out.contains("acme/internal-tools has no mapping yet"), "{out}");
    }
    let o = run(bin().args(["demo", "--no-serve", "--database-url", "sqlite://x.db"]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("must start with postgres://"), "{}", stderr(&o));
}

#[test]
fn demo_serves_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = bin()
        .args(["demo", "--bind", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path().join("d"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let mut token = None;
    let lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    for line in lines.map_while(Result::ok) {
        if let Some(t) = line.trim().strip_prefix("API token") {
            token = Some(t.trim().to_owned());
            break;
        }
    }
    let token = token.expect("the demo prints an API token");
    wait_healthy(port, Duration::from_secs(10));
    let (status, body) = http_get(port, "/api/v1/findings?severity=critical&limit=100", Some(&token)).unwrap();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["count"].as_i64().unwrap() >= 3, "{body}");
    // The findings show their tickets.
    let (status, body) = http_get(port, "/api/v1/tickets?limit=1000", Some(&token)).unwrap();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["count"].as_i64().unwrap() >= 10, "{body}");
    assert!(v["results"].as_array().unwrap().iter().any(|t| t["vendor"] == "gitlab"), "{body}");
}

/// A report big enough that its import takes seconds (generic JSON, 120,000 findings).
fn big_report(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("big.json");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    write!(w, "{{\"findings\": [").unwrap();
    for i in 0..120_000 {
        if i > 0 {
            write!(w, ",").unwrap();
        }
        write!(w, "{{\"title\": \"Finding {i}\", \"severity\": \"medium\", \"unique_id_from_tool\": \"u{i}\", \"file_path\": \"src/f{i}.rs\", \"line\": 7, \"cwe\": 79}}").unwrap();
    }
    write!(w, "]}}").unwrap();
    w.flush().unwrap();
    path
}

/// `vulnbridge import` killed with SIGKILL midway: the database is as it was, and usable.
fn killed_import(env: &[(&str, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let report = big_report(dir.path());
    let with = |c: &mut Command| {
        c.env("VULNBRIDGE_DATA_DIR", dir.path().join("data"));
        for (k, v) in env {
            c.env(k, v);
        }
    };
    let mut c = bin();
    with(&mut c);
    let o = run(c.arg("migrate"));
    assert!(o.status.success(), "{}", stderr(&o));

    let mut c = bin();
    with(&mut c);
    let mut child = c
        .args(["import", "--scan-type", "Generic Findings Import", "--product", "Victim", "--engagement", "CI"])
        .arg(&report)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the import finished before it could be killed; make the report bigger");
    child.kill().unwrap(); // SIGKILL: no cleanup runs
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    // A reimport of a small report: had the killed import committed anything, this would find
    // its test and close its 120,000 findings. Instead it must create the product, engagement
    // and test afresh ("Imported", nothing closed); and it proves the database is usable.
    let small = dir.path().join("small.json");
    std::fs::write(&small, r#"{"findings": [{"title": "after the kill", "severity": "low"}]}"#).unwrap();
    let mut c = bin();
    with(&mut c);
    let o = run(c.args(["import", "--reimport", "--scan-type", "Generic Findings Import", "--product", "Victim", "--engagement", "CI"]).arg(&small));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("Imported small.json into Victim"), "a new test, so nothing was left: {out}");
    assert!(out.contains("closed              0"), "{out}");
    assert!(out.contains("findings            1"), "{out}");
}

#[test]
fn a_killed_import_leaves_nothing_behind_sqlite() {
    killed_import(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_import_leaves_nothing_behind_postgres() {
    let Some(t) = store::testing::TestDb::postgres().await else { return };
    let schema = t.pg_schema.clone().unwrap();
    let sep = if t.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}options=-c%20search_path%3D{schema}", t.url);
    tokio::task::spawn_blocking(move || killed_import(&[("VULNBRIDGE_DATABASE_URL", url)]))
        .await
        .unwrap();
    drop(t);
}

/// A tiny HTTP request without a client library: status and body.
fn http_send(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((status, body))
}

/// Issues in the simulated acme/storefront, from the simulator's control API.
fn sim_issues(port: u16) -> Vec<serde_json::Value> {
    let (status, body) = http_get(port, "/_sim/state", None).expect("the simulator answers");
    assert_eq!(status, 200, "{body}");
    let state: serde_json::Value = serde_json::from_str(&body).unwrap();
    let repos = state["repos"].as_array().cloned().unwrap_or_default();
    repos
        .iter()
        .find(|r| r["full_name"] == "acme/storefront" || (r["owner"] == "acme" && r["name"] == "storefront"))
        .and_then(|r| r["issues"].as_array().cloned())
        .unwrap_or_else(|| panic!("no acme/storefront in the simulator's state: {state}"))
}

/// `vulnbridge push` killed with SIGKILL after GitHub made the issue and before vulnbridge
/// recorded it; the next push finds the issue by its marker instead of making a second one.
/// Everything through the real binary: `simulate github`, `import`, `instance add`,
/// `mapping add`, `assignment add`, `push`.
#[test]
fn a_push_killed_after_the_trackers_reply_makes_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let sim_port = free_port();
    let sim = bin().args(["simulate", "github", "--bind", &format!("127.0.0.1:{sim_port}")]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let _sim = Server(sim);
    let started = Instant::now();
    while http_get(sim_port, "/_sim/state", None).is_none() {
        assert!(started.elapsed() < Duration::from_secs(10), "the simulator did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let with = |c: &mut Command| {
        c.env("VULNBRIDGE_DATA_DIR", dir.path().join("data")).env("VULNBRIDGE_JOB_LEASE_SECS", "3");
    };
    let report = dir.path().join("one.json");
    std::fs::write(&report, r#"{"findings": [{"title": "SQL injection", "severity": "high"}]}"#).unwrap();
    let steps: Vec<Vec<String>> = vec![
        vec!["import".into(), "--scan-type".into(), "Generic Findings Import".into(), "--product".into(), "Shop".into(), "--engagement".into(), "CI".into(), report.display().to_string()],
        vec!["instance".into(), "add".into(), "--vendor".into(), "github".into(), "--label".into(), "gh".into(), "--location".into(), format!("http://127.0.0.1:{sim_port}/acme"), "--token-env".into(), "GH_TOKEN".into()],
        vec!["mapping".into(), "add".into(), "--instance".into(), "gh".into(), "--label".into(), "storefront".into(), "--repository".into(), "storefront".into(), "--project-number".into(), "1".into(), "--no-webhook".into()],
        vec!["assignment".into(), "add".into(), "--mapping".into(), "storefront".into(), "--product".into(), "Shop".into()],
    ];
    for args in steps {
        let mut c = bin();
        with(&mut c);
        let o = run(c.args(&args).env("GH_TOKEN", "ghp_simulatorBotToken000000000000000000"));
        assert!(o.status.success(), "{args:?}: {}{}", stdout(&o), stderr(&o));
    }
    // GitHub answers the project-item call only after 30 s: the issue exists by then.
    let fault = r#"{"body_contains": "addProjectV2ItemById", "delay_ms": 30000, "times": 1}"#;
    assert_eq!(http_send(sim_port, "POST", "/_sim/faults", fault).unwrap().0 / 100, 2);
    let mut c = bin();
    with(&mut c);
    let mut push = c.args(["push", "--product", "Shop"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while sim_issues(sim_port).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20), "the push never reached the simulator");
        std::thread::sleep(Duration::from_millis(20));
    }
    push.kill().unwrap(); // SIGKILL, between GitHub's "created" and our commit
    push.wait().unwrap();
    assert_eq!(http_send(sim_port, "DELETE", "/_sim/faults", "").unwrap().0 / 100, 2);

    let mut c = bin();
    with(&mut c);
    let o = run(c.args(["push", "--product", "Shop"]));
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("acme/storefront#1"), "{}", stdout(&o));
    assert_eq!(sim_issues(sim_port).len(), 1, "exactly one issue");
}

/// Connectors from the command line, against the Semgrep simulator: add (the secret from the
/// environment, never shown), check, discover, list and map Records, sync, the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectors_from_the_command_line() {
    let sim = simulators::scanners::start_seeded(domain::connector::Tool::Semgrep, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (_, token) = sim.secrets().into_iter().next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let location = sim.location();
    let token_env = token.clone();
    let cli = move |args: &[&str]| {
        let mut c = bin();
        c.env("VULNBRIDGE_DATA_DIR", dir.path()).env("SEMGREP_TOKEN", &token_env).args(args);
        let o = run(&mut c);
        (o.status.success(), stdout(&o), stderr(&o))
    };
    let cli = std::sync::Arc::new(cli);
    let go = |args: Vec<String>| {
        let cli = cli.clone();
        async move { tokio::task::spawn_blocking(move || cli(&args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap() }
    };
    let args = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();

    let (ok, out, err) = go(vec![
        "connector".into(), "add".into(), "--tool".into(), "semgrep".into(), "--label".into(), "Semgrep".into(),
        "--location".into(), location.clone(), "--secret".into(), "token=SEMGREP_TOKEN".into(), "--discover-every".into(), "0".into(), "--sync-every".into(), "0".into(),
    ])
    .await;
    assert!(ok, "{out}{err}");
    assert!(!out.contains(&token) && !err.contains(&token), "the secret was printed: {out}{err}");
    // A secret named by a variable that is not set is one clear line.
    let (ok, _, err) = go(args("connector add --tool semgrep --label Other --location http://127.0.0.1:9 --secret token=NOT_SET_ANYWHERE")).await;
    assert!(!ok && err.contains("NOT_SET_ANYWHERE"), "{err}");

    let (ok, out, err) = go(args("connector check Semgrep")).await;
    assert!(ok, "{out}{err}");
    let (ok, out, err) = go(args("connector discover Semgrep")).await;
    assert!(ok && out.contains("2"), "{out}{err}");
    let (ok, out, err) = go(args("record list Semgrep --state new")).await;
    assert!(ok, "{out}{err}");
    let id = out.lines().find(|l| l.contains("acme/web")).and_then(|l| l.split_whitespace().next()).and_then(|i| i.parse::<i64>().ok()).expect(&out);
    let (ok, out, err) = go(vec!["record".into(), "map".into(), id.to_string(), "Storefront".into()]).await;
    assert!(!ok && err.contains("Storefront"), "an unknown product is named: {out}{err}");
    // The product comes from an import (there is no product command).
    let report = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/scans/semgrep/many_findings.json").to_owned();
    let (ok, out, err) = go(vec!["import".into(), "--scan-type".into(), "Semgrep JSON Report".into(), "--product".into(), "Storefront".into(), "--engagement".into(), "CI".into(), report]).await;
    assert!(ok, "{out}{err}");
    let (ok, out, err) = go(vec!["record".into(), "map".into(), id.to_string(), "Storefront".into()]).await;
    assert!(ok, "{out}{err}");
    let (ok, out, err) = go(args("connector sync Semgrep")).await;
    assert!(ok && out.contains("created"), "{out}{err}");
    let (ok, out, err) = go(args("connector log Semgrep")).await;
    assert!(ok && out.contains("discover") && out.contains("sync") && out.contains("succeeded"), "{out}{err}");
}

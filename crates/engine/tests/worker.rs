//! The worker against a real jobs table, on both backends.

use engine::{App, Job, JobError, Registry, Settings, Worker, WorkerOptions, enqueue};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use store::jobs::{self, JobStatus};
use store::testing::TestDb;
use store::{PageRequest, product_types};
use tokio::sync::watch;

store::both_backends!(
    jobs_run_and_complete,
    failures_back_off_then_die,
    panics_and_unknown_kinds_do_not_kill_the_worker,
    two_workers_share_the_queue,
    a_killed_workers_job_is_picked_up_after_its_lease,
);

/// Creates a product type named `name`: an effect we can count in the database, and one that
/// fails (unique name) if it ever runs twice.
#[derive(Serialize, Deserialize)]
struct MakeType {
    name: String,
}

impl Job for MakeType {
    const KIND: &'static str = "test_make_type";
    const MAX_ATTEMPTS: i32 = 1;
    async fn run(self, app: &App, _ctx: engine::JobContext) -> Result<(), JobError> {
        let mut tx = app.db().begin().await?;
        product_types::create(
            &mut tx,
            domain::NewProductType {
                name: domain::Name::parse("name", &self.name).unwrap(),
                description: None,
                critical: false,
            },
        )
        .await
        .map_err(|e| JobError::permanent(e.to_string()))?;
        tx.commit().await?;
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct AlwaysFails;

impl Job for AlwaysFails {
    const KIND: &'static str = "test_always_fails";
    const MAX_ATTEMPTS: i32 = 3;
    async fn run(self, _: &App, _ctx: engine::JobContext) -> Result<(), JobError> {
        Err(JobError::retry("HTTP 503 from the tracker"))
    }
}

#[derive(Serialize, Deserialize)]
struct Refused;

impl Job for Refused {
    const KIND: &'static str = "test_refused";
    async fn run(self, _: &App, _ctx: engine::JobContext) -> Result<(), JobError> {
        Err(JobError::permanent("401: the token was revoked"))
    }
}

#[derive(Serialize, Deserialize)]
struct Panics;

impl Job for Panics {
    const KIND: &'static str = "test_panics";
    const MAX_ATTEMPTS: i32 = 2;
    async fn run(self, _: &App, _ctx: engine::JobContext) -> Result<(), JobError> {
        panic!("a bug in a job")
    }
}

fn app(db: store::Db) -> App {
    let key = secrets::MasterKey::generate();
    App::new(db, secrets::Cipher::new(&key), Settings::new("http://localhost"))
}

fn registry() -> Registry {
    Registry::new()
        .register::<MakeType>()
        .register::<AlwaysFails>()
        .register::<Refused>()
        .register::<Panics>()
}

fn fast(name: &str) -> WorkerOptions {
    WorkerOptions {
        name: name.into(),
        concurrency: 4,
        lease: Duration::from_secs(3),
        poll_interval: Duration::from_millis(20),
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        shutdown_grace: Duration::from_secs(2),
    }
}

/// Runs workers until every job is done or dead (or the deadline passes), then stops them.
async fn drain(workers: Vec<Worker>, db: &store::Db) {
    let (tx, rx) = watch::channel(false);
    let handles: Vec<_> = workers.into_iter().map(|w| tokio::spawn(w.run(rx.clone()))).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut c = db.conn().await.unwrap();
        let pending: i64 = jobs::counts(&mut c)
            .await
            .unwrap()
            .iter()
            .filter(|(_, s, _)| matches!(s, JobStatus::Queued | JobStatus::Running))
            .map(|(_, _, n)| n)
            .sum();
        if pending == 0 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tx.send(true).unwrap();
    for h in handles {
        tokio::time::timeout(Duration::from_secs(10), h).await.expect("worker stops").unwrap();
    }
}

async fn status_counts(db: &store::Db) -> Vec<(String, JobStatus, i64)> {
    jobs::counts(&mut db.conn().await.unwrap()).await.unwrap()
}

async fn jobs_run_and_complete(t: TestDb) {
    let mut c = t.db.conn().await.unwrap();
    for i in 0..5 {
        enqueue(&mut c, &MakeType { name: format!("type {i}") }).await.unwrap();
    }
    drain(vec![Worker::new(app(t.db.clone()), registry(), fast("w"))], &t.db).await;
    let types = product_types::list(&mut c, &Default::default(), &domain::Visibility::All, PageRequest::default()).await.unwrap();
    assert_eq!(types.count, 5);
    assert_eq!(status_counts(&t.db).await, vec![("default".into(), JobStatus::Done, 5)]);
}

async fn failures_back_off_then_die(t: TestDb) {
    let mut c = t.db.conn().await.unwrap();
    let id = enqueue(&mut c, &AlwaysFails).await.unwrap().unwrap();
    let refused = enqueue(&mut c, &Refused).await.unwrap().unwrap();
    drain(vec![Worker::new(app(t.db.clone()), registry(), fast("w"))], &t.db).await;
    let job = jobs::get(&mut c, id).await.unwrap();
    assert_eq!(job.status, JobStatus::Dead);
    assert_eq!(job.attempts, 3, "MAX_ATTEMPTS tries, then dead");
    assert_eq!(job.last_error.as_deref(), Some("HTTP 503 from the tracker"));
    let job = jobs::get(&mut c, refused).await.unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Dead, 1), "permanent errors are not retried");
}

async fn panics_and_unknown_kinds_do_not_kill_the_worker(t: TestDb) {
    let mut c = t.db.conn().await.unwrap();
    let p = enqueue(&mut c, &Panics).await.unwrap().unwrap();
    let unknown = jobs::enqueue(&mut c, jobs::NewJob::new("from_a_newer_version", serde_json::json!({}))).await.unwrap().unwrap();
    let garbled = jobs::enqueue(&mut c, jobs::NewJob::new(MakeType::KIND, serde_json::json!({"nom": 1}))).await.unwrap().unwrap();
    enqueue(&mut c, &MakeType { name: "after the panic".into() }).await.unwrap();
    drain(vec![Worker::new(app(t.db.clone()), registry(), fast("w"))], &t.db).await;
    let job = jobs::get(&mut c, p).await.unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Dead, 2));
    assert!(job.last_error.unwrap().contains("panicked"));
    let job = jobs::get(&mut c, unknown).await.unwrap();
    assert_eq!(job.status, JobStatus::Dead);
    assert!(job.last_error.unwrap().contains("no handler"));
    let job = jobs::get(&mut c, garbled).await.unwrap();
    assert_eq!(job.status, JobStatus::Dead);
    assert!(job.last_error.unwrap().contains("not readable"));
    assert!(product_types::get_by_name(&mut c, "after the panic").await.unwrap().is_some(), "the worker went on");
}

async fn two_workers_share_the_queue(t: TestDb) {
    let mut c = t.db.conn().await.unwrap();
    for i in 0..60 {
        enqueue(&mut c, &MakeType { name: format!("t{i:02}") }).await.unwrap();
    }
    let other = store::Db::connect(&t.url, &t.options()).await.unwrap();
    drain(
        vec![
            Worker::new(app(t.db.clone()), registry(), fast("a")),
            Worker::new(app(other.clone()), registry(), fast("b")),
        ],
        &t.db,
    )
    .await;
    // A job run twice would have failed on the unique name and ended dead.
    assert_eq!(status_counts(&t.db).await, vec![("default".into(), JobStatus::Done, 60)]);
    let types = product_types::list(&mut c, &Default::default(), &domain::Visibility::All, PageRequest::default()).await.unwrap();
    assert_eq!(types.count, 60);
    other.close().await;
}

/// Like `MakeType`, with room for one rescue attempt after its first worker dies.
#[derive(Serialize, Deserialize)]
struct Orphan {
    name: String,
}

impl Job for Orphan {
    const KIND: &'static str = "test_orphan";
    const MAX_ATTEMPTS: i32 = 2;
    async fn run(self, app: &App, _ctx: engine::JobContext) -> Result<(), JobError> {
        MakeType { name: self.name }.run(app, _ctx).await
    }
}

async fn a_killed_workers_job_is_picked_up_after_its_lease(t: TestDb) {
    let mut c = t.db.conn().await.unwrap();
    let id = enqueue(&mut c, &Orphan { name: "orphan".into() }).await.unwrap().unwrap();
    // A worker claims the job with a 1 s lease and is killed before finishing.
    let claimed = jobs::claim(&t.db, "killed", &["default"], 1, chrono::TimeDelta::seconds(1), store::now())
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let rescuer = Worker::new(app(t.db.clone()), registry().register::<Orphan>(), fast("rescuer"));
    drain(vec![rescuer], &t.db).await;
    let job = jobs::get(&mut c, id).await.unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Done, 2));
    assert!(!jobs::complete(&t.db, id, "killed").await.unwrap(), "the killed worker cannot finish it late");
    assert!(product_types::get_by_name(&mut c, "orphan").await.unwrap().is_some());
}

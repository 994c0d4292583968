use chrono::TimeDelta;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use store::jobs::{self, FailOutcome, JobStatus, NewJob};
use store::testing::TestDb;
use store::{Db, PageRequest, now};

store::both_backends!(
    enqueue_dedupes_and_claims_by_priority,
    enqueue_rolls_back_with_its_transaction,
    failures_retry_then_die,
    a_killed_worker_loses_its_lease,
    two_workers_race_without_double_runs,
    heartbeat_and_release,
    dead_jobs_can_be_retried_and_done_jobs_pruned,
    deferred_jobs_wait_without_spending_attempts,
    many_jobs_enqueue_at_once_with_dedupe,
);

async fn deferred_jobs_wait_without_spending_attempts(t: TestDb) {
    let mut c = t.db.conn().await.unwrap();
    let id = jobs::enqueue(&mut c, NewJob::new("push", json!({})).max_attempts(1)).await.unwrap().unwrap();
    for round in 1..=3 {
        let at = now() + TimeDelta::seconds(round * 10);
        let claimed = jobs::claim(&t.db, "w1", &["default"], 1, LEASE, at).await.unwrap();
        assert_eq!(claimed.len(), 1, "round {round}");
        let later = at + TimeDelta::seconds(5);
        assert!(jobs::defer(&t.db, id, "w1", later, "rate budget spent").await.unwrap());
        assert!(jobs::claim(&t.db, "w1", &["default"], 1, LEASE, at).await.unwrap().is_empty(), "not before its time");
        let j = jobs::get(&mut c, id).await.unwrap();
        assert_eq!((j.status, j.attempts, j.run_at), (JobStatus::Queued, 0, later));
        assert_eq!(j.last_error.as_deref(), Some("rate budget spent"));
    }
    assert!(!jobs::defer(&t.db, id, "w1", now(), "x").await.unwrap(), "only the holder defers");
}

async fn many_jobs_enqueue_at_once_with_dedupe(t: TestDb) {
    let mut tx = t.db.begin().await.unwrap();
    jobs::enqueue(&mut tx, NewJob::new("push", json!({"n": 0})).dedupe("k0")).await.unwrap();
    let batch: Vec<NewJob> = (0..1200)
        .map(|n| NewJob::new("push", json!({"n": n})).dedupe(format!("k{}", n % 1100)).priority(3))
        .collect();
    assert_eq!(jobs::enqueue_many(&mut tx, batch).await.unwrap(), 1099, "k0 was queued; repeats within the batch collapse");
    tx.commit().await.unwrap();
    let mut c = t.db.conn().await.unwrap();
    assert_eq!(jobs::list(&mut c, &Default::default(), PageRequest::new(Some(1), None)).await.unwrap().count, 1100);
}

const LEASE: TimeDelta = TimeDelta::seconds(30);

async fn enqueue_dedupes_and_claims_by_priority(t: TestDb) {
    let mut c = t.db.conn().await.unwrap();
    let low = jobs::enqueue(&mut c, NewJob::new("push", json!({"n": 1}))).await.unwrap().unwrap();
    let high = jobs::enqueue(&mut c, NewJob::new("push", json!({"n": 2})).priority(5)).await.unwrap().unwrap();
    let later = jobs::enqueue(&mut c, NewJob::new("push", json!({"n": 3})).run_at(now() + TimeDelta::hours(1))).await.unwrap().unwrap();
    let other_queue = jobs::enqueue(&mut c, NewJob::new("sync", json!({})).queue("connectors")).await.unwrap().unwrap();
    let d1 = jobs::enqueue(&mut c, NewJob::new("push", json!({})).dedupe("finding:1")).await.unwrap();
    let d2 = jobs::enqueue(&mut c, NewJob::new("push", json!({})).dedupe("finding:1")).await.unwrap();
    assert!(d1.is_some());
    assert_eq!(d2, None, "a queued job with the same key exists");

    let claimed = jobs::claim(&t.db, "w1", &["default"], 10, LEASE, now()).await.unwrap();
    let ids: Vec<_> = claimed.iter().map(|j| j.id).collect();
    assert_eq!(ids, [high, low, d1.unwrap()], "priority first, then age; not the future one, not the other queue");
    assert!(claimed.iter().all(|j| j.status == JobStatus::Running && j.attempts == 1 && j.locked_by.as_deref() == Some("w1")));
    assert_eq!(claimed[0].payload, json!({"n": 2}));
    assert!(!ids.contains(&later) && !ids.contains(&other_queue));

    // Once the deduplicated job runs, the same key may be queued again.
    let d3 = jobs::enqueue(&mut c, NewJob::new("push", json!({})).dedupe("finding:1")).await.unwrap();
    assert!(d3.is_some());

    assert!(jobs::claim(&t.db, "w2", &["default"], 10, LEASE, now()).await.unwrap().iter().all(|j| j.id == d3.unwrap()));
    let future = jobs::claim(&t.db, "w2", &["default"], 10, LEASE, now() + TimeDelta::hours(2)).await.unwrap();
    assert!(future.iter().any(|j| j.id == later), "due once its time comes");
    assert_eq!(jobs::claim(&t.db, "w2", &["connectors"], 10, LEASE, now()).await.unwrap()[0].id, other_queue);
}

async fn enqueue_rolls_back_with_its_transaction(t: TestDb) {
    let mut tx = t.db.begin().await.unwrap();
    jobs::enqueue(&mut tx, NewJob::new("push", json!({}))).await.unwrap();
    tx.rollback().await.unwrap();
    let mut tx = t.db.begin().await.unwrap();
    let kept = jobs::enqueue(&mut tx, NewJob::new("push", json!({}))).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    let mut c = t.db.conn().await.unwrap();
    let all = jobs::list(&mut c, &Default::default(), PageRequest::default()).await.unwrap();
    assert_eq!(all.results.iter().map(|j| j.id).collect::<Vec<_>>(), [kept]);
}

async fn failures_retry_then_die(t: TestDb) {
    let mut c = t.db.conn().await.unwrap();
    let id = jobs::enqueue(&mut c, NewJob::new("push", json!({})).max_attempts(2)).await.unwrap().unwrap();
    let j = &jobs::claim(&t.db, "w", &["default"], 1, LEASE, now()).await.unwrap()[0];
    let retry_at = now() + TimeDelta::seconds(5);
    let out = jobs::fail(&t.db, j.id, "w", "HTTP 503 from tracker", Some(retry_at)).await.unwrap();
    assert_eq!(out, FailOutcome::Retrying(retry_at));
    let job = jobs::get(&mut c, id).await.unwrap();
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.last_error.as_deref(), Some("HTTP 503 from tracker"));
    assert_eq!(job.run_at, retry_at);
    assert!(jobs::claim(&t.db, "w", &["default"], 1, LEASE, now()).await.unwrap().is_empty(), "not before its backoff");

    let j = &jobs::claim(&t.db, "w", &["default"], 1, LEASE, retry_at).await.unwrap()[0];
    assert_eq!(j.attempts, 2);
    let out = jobs::fail(&t.db, j.id, "w", "HTTP 503 again", Some(now())).await.unwrap();
    assert_eq!(out, FailOutcome::Dead, "no attempts left");
    let job = jobs::get(&mut c, id).await.unwrap();
    assert_eq!(job.status, JobStatus::Dead);
    assert!(job.finished_at.is_some());

    let p = jobs::enqueue(&mut c, NewJob::new("push", json!({}))).await.unwrap().unwrap();
    let j = &jobs::claim(&t.db, "w", &["default"], 1, LEASE, now()).await.unwrap()[0];
    assert_eq!(j.id, p);
    assert_eq!(jobs::fail(&t.db, p, "w", "401 bad token", None).await.unwrap(), FailOutcome::Dead, "permanent");
    assert_eq!(jobs::fail(&t.db, p, "w", "again", None).await.unwrap(), FailOutcome::LeaseLost);
}

async fn a_killed_worker_loses_its_lease(t: TestDb) {
    let mut c = t.db.conn().await.unwrap();
    let id = jobs::enqueue(&mut c, NewJob::new("push", json!({})).max_attempts(2)).await.unwrap().unwrap();
    let t0 = now();
    let first = jobs::claim(&t.db, "doomed", &["default"], 5, LEASE, t0).await.unwrap();
    assert_eq!(first.len(), 1);
    // "doomed" is killed here: it never completes nor heartbeats.
    assert!(jobs::claim(&t.db, "rescuer", &["default"], 5, LEASE, t0 + TimeDelta::seconds(29)).await.unwrap().is_empty(), "lease still held");
    let second = jobs::claim(&t.db, "rescuer", &["default"], 5, LEASE, t0 + TimeDelta::seconds(31)).await.unwrap();
    assert_eq!(second.len(), 1, "expired lease: claimable again");
    assert_eq!(second[0].id, id);
    assert_eq!(second[0].attempts, 2);
    assert!(!jobs::complete(&t.db, id, "doomed").await.unwrap(), "the dead worker's late completion is refused");
    assert!(!jobs::heartbeat(&t.db, id, "doomed", LEASE, now()).await.unwrap());

    // The rescuer is killed too: the job used its last attempt, so it is buried, not re-run.
    let third = jobs::claim(&t.db, "third", &["default"], 5, LEASE, t0 + TimeDelta::seconds(62)).await.unwrap();
    assert!(third.is_empty());
    let job = jobs::get(&mut c, id).await.unwrap();
    assert_eq!(job.status, JobStatus::Dead);
    assert!(job.last_error.unwrap().contains("lease expired"));
}

/// Two workers, each with its own pool (as two processes would have), drain 120 jobs. Every
/// job runs exactly once and never on both at the same time.
async fn two_workers_race_without_double_runs(t: TestDb) {
    const N: usize = 120;
    {
        let mut tx = t.db.begin().await.unwrap();
        for i in 0..N {
            jobs::enqueue(&mut tx, NewJob::new("push", json!({ "i": i }))).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    let second_pool = Db::connect(&t.url, &t.options()).await.unwrap();
    let running: Arc<Mutex<HashMap<i64, &'static str>>> = Default::default();
    let runs: Arc<Mutex<HashMap<i64, u32>>> = Default::default();

    let worker = |db: Db, name: &'static str| {
        let running = running.clone();
        let runs = runs.clone();
        async move {
            loop {
                let batch = jobs::claim(&db, name, &["default"], 3, LEASE, now()).await.unwrap();
                if batch.is_empty() {
                    break;
                }
                for j in batch {
                    if let Some(other) = running.lock().unwrap().insert(j.id.0, name) {
                        panic!("job {} claimed by {name} while {other} runs it", j.id);
                    }
                    *runs.lock().unwrap().entry(j.id.0).or_default() += 1;
                    tokio::task::yield_now().await;
                    running.lock().unwrap().remove(&j.id.0);
                    assert!(jobs::complete(&db, j.id, name).await.unwrap());
                }
            }
        }
    };
    let a = tokio::spawn(worker(t.db.clone(), "worker-a"));
    let b = tokio::spawn(worker(second_pool.clone(), "worker-b"));
    a.await.unwrap();
    b.await.unwrap();

    {
        let runs = runs.lock().unwrap();
        assert_eq!(runs.len(), N, "no job lost");
        assert!(runs.values().all(|&n| n == 1), "no job run twice");
    }
    let mut c = t.db.conn().await.unwrap();
    let counts = jobs::counts(&mut c).await.unwrap();
    assert_eq!(counts, vec![("default".to_owned(), JobStatus::Done, N as i64)]);
    second_pool.close().await;
}

async fn heartbeat_and_release(t: TestDb) {
    let mut c = t.db.conn().await.unwrap();
    let id = jobs::enqueue(&mut c, NewJob::new("push", json!({}))).await.unwrap().unwrap();
    let t0 = now();
    jobs::claim(&t.db, "w", &["default"], 1, LEASE, t0).await.unwrap();
    assert!(jobs::heartbeat(&t.db, id, "w", LEASE, t0 + TimeDelta::seconds(25)).await.unwrap());
    assert!(
        jobs::claim(&t.db, "x", &["default"], 1, LEASE, t0 + TimeDelta::seconds(40)).await.unwrap().is_empty(),
        "the heartbeat extended the lease past 40 s"
    );
    assert!(jobs::release(&t.db, id, "w").await.unwrap());
    let job = jobs::get(&mut c, id).await.unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Queued, 0), "a clean release does not count an attempt");
    assert!(!jobs::release(&t.db, id, "w").await.unwrap());
}

async fn dead_jobs_can_be_retried_and_done_jobs_pruned(t: TestDb) {
    let mut c = t.db.conn().await.unwrap();
    let id = jobs::enqueue(&mut c, NewJob::new("push", json!({})).dedupe("k")).await.unwrap().unwrap();
    jobs::claim(&t.db, "w", &["default"], 1, LEASE, now()).await.unwrap();
    jobs::fail(&t.db, id, "w", "boom", None).await.unwrap();
    let again = jobs::retry(&mut c, id).await.unwrap();
    assert_eq!((again.status, again.attempts), (JobStatus::Queued, 0));
    let not_dead = jobs::retry(&mut c, id).await.unwrap_err();
    assert!(not_dead.to_string().contains("only dead jobs"), "{not_dead}");

    jobs::claim(&t.db, "w", &["default"], 1, LEASE, now()).await.unwrap();
    jobs::fail(&t.db, id, "w", "boom", None).await.unwrap();
    jobs::enqueue(&mut c, NewJob::new("push", json!({})).dedupe("k")).await.unwrap().unwrap();
    let dup = jobs::retry(&mut c, id).await.unwrap_err();
    assert!(dup.to_string().contains("already queued"), "{dup}");

    let done = jobs::enqueue(&mut c, NewJob::new("other", json!({}))).await.unwrap().unwrap();
    let claimed = jobs::claim(&t.db, "w", &["default"], 5, LEASE, now()).await.unwrap();
    for j in &claimed {
        jobs::complete(&t.db, j.id, "w").await.unwrap();
    }
    assert_eq!(jobs::prune_done(&mut c, now() - TimeDelta::days(1)).await.unwrap(), 0, "too recent");
    assert_eq!(jobs::prune_done(&mut c, now() + TimeDelta::seconds(1)).await.unwrap(), claimed.len() as u64);
    assert!(jobs::get(&mut c, done).await.unwrap_err().is_not_found());
    assert_eq!(jobs::get(&mut c, id).await.unwrap().status, JobStatus::Dead, "dead jobs are kept");
}

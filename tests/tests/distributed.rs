//! Distributed mode against the machine's real PostgreSQL, RabbitMQ and
//! Redis, with real `rstuf-host` processes (2 API, 3 workers):
//! - under concurrent load through both APIs every accepted artifact is
//!   published, timestamp versions only go up, every metadata state served
//!   verifies, and python-tuf verifies the final repository;
//! - with workers killed (SIGKILL) 20 times, mostly the one holding the
//!   publisher lease, i.e. inside a publish pass, stopped gracefully now
//!   and then, and RabbitMQ, PostgreSQL and Redis restarted mid-load
//!   (`/ready` says 503 while one is down), no accepted artifact is lost,
//!   nothing unverifiable is ever served, no versioned file is ever
//!   rewritten, and the system recovers on its own;
//! - a task that keeps failing is retried, then recorded as FAILURE and
//!   dead-lettered;
//! - a bootstrap RabbitMQ cannot take is answered 503 and leaves the
//!   bootstrap lock free;
//! - a poison artifact row written around the API and a poison task
//!   queued around it, among 100 concurrent adds: all 100 publish, the
//!   poison task ends FAILURE naming the artifact, timestamp is re-signed.
//!
//! The tests share the machine's brokers (one restarts them), so they run
//! one at a time.

use rstuf_queue::{Broker, BrokerConfig};
use rstuf_tests::cluster::{
    start_postgres, start_rabbitmq, start_redis, stop_postgres, stop_rabbitmq, stop_redis, Cluster,
    AMQP,
};
use rstuf_tests::service::{artifact, python_script, python_script_async};
use rstuf_tuf::verify::verify_delegate;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const LONG: Duration = Duration::from_secs(180);

/// A signed bootstrap payload (keys in the cluster's key directory).
fn ceremony_payload(cluster: &Cluster, bins: &str) -> Value {
    let out = python_script(
        "ceremony.py",
        &[
            "--out",
            cluster.work().to_str().unwrap(),
            "--key-dir",
            cluster.keys().to_str().unwrap(),
            "--bins",
            bins,
        ],
    );
    serde_json::from_str(&out).unwrap()
}

async fn bootstrap(cluster: &Cluster, bins: &str) {
    bootstrap_with(cluster, &ceremony_payload(cluster, bins)).await;
}

/// Bootstrap with `payload` through API 0 and wait for it to succeed.
async fn bootstrap_with(cluster: &Cluster, payload: &Value) {
    let (status, body) = cluster.post(0, "/api/v1/bootstrap/", payload).await;
    assert_eq!(status, 202, "{body}");
    // Followed through the other API: task state is shared in Redis.
    let task = cluster
        .wait(body["data"]["task_id"].as_str().unwrap(), LONG)
        .await;
    assert_eq!(task["state"], "SUCCESS", "{task}\n{}", cluster.logs());
}

/// One look at what clients are served: timestamp → snapshot → every role
/// it lists, signatures checked against root v1. Returns the timestamp
/// version.
async fn check_served(http: &reqwest::Client, url: &str, root: &Value) -> Result<i64, String> {
    let get = |name: String| {
        let http = http.clone();
        let url = format!("{url}/{name}");
        async move {
            let r = http
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if !r.status().is_success() {
                return Err(format!("{url}: HTTP {}", r.status()));
            }
            r.json::<Value>().await.map_err(|e| format!("{url}: {e}"))
        }
    };
    let ts = get("timestamp.json".into()).await?;
    let ok = |role: &str, doc: &Value| -> Result<(), String> {
        let v = verify_delegate(&root["signed"], role, doc).map_err(|e| e.to_string())?;
        if v.is_satisfied() {
            Ok(())
        } else {
            Err(format!("{role} does not verify"))
        }
    };
    ok("timestamp", &ts)?;
    let sv = ts["signed"]["meta"]["snapshot.json"]["version"]
        .as_i64()
        .ok_or("no snapshot version")?;
    let snapshot = get(format!("{sv}.snapshot.json")).await?;
    ok("snapshot", &snapshot)?;
    if snapshot["signed"]["version"] != sv {
        return Err(format!("snapshot {sv} has the wrong version"));
    }
    for (name, meta) in snapshot["signed"]["meta"].as_object().ok_or("no meta")? {
        let v = meta["version"].as_i64().ok_or("no version")?;
        let doc = get(format!("{v}.{name}")).await?;
        if doc["signed"]["version"] != v {
            return Err(format!("{v}.{name} has the wrong version"));
        }
    }
    Ok(ts["signed"]["version"].as_i64().unwrap_or(0))
}

/// Checks the served metadata continuously until stopped, and that no
/// versioned file is ever rewritten; returns every timestamp version seen
/// and every problem found.
fn monitor(
    cluster: &Cluster,
    root: Value,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(Vec<i64>, Vec<String>)> {
    let http = cluster.http.clone();
    let url = cluster.metadata_url();
    let dir = cluster.metadata_dir();
    tokio::spawn(async move {
        let (mut seen, mut problems) = (Vec::new(), Vec::new());
        let mut files = rstuf_tests::ImmutableFiles::default();
        while !stop.load(Ordering::Relaxed) {
            match check_served(&http, &url, &root).await {
                Ok(v) => seen.push(v),
                Err(e) => problems.push(e),
            }
            files.check(&dir, &mut problems);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        files.check(&dir, &mut problems);
        (seen, problems)
    })
}

/// Clients adding artifacts through both APIs, each at most `per_client`,
/// pausing `pause` between requests, until stopped; collects the accepted
/// paths and task ids.
fn load(
    cluster: &Cluster,
    clients: usize,
    per_client: usize,
    pause: Duration,
    stop: Arc<AtomicBool>,
    accepted: Arc<Mutex<Vec<(String, String)>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..clients)
        .map(|c| {
            let http = cluster.http.clone();
            let apis: Vec<String> = (0..cluster.apis.len()).map(|i| cluster.api(i)).collect();
            let (stop, accepted) = (stop.clone(), accepted.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) && n < per_client {
                    let path = format!("load/{c}-{n}.tgz");
                    let api = &apis[n % apis.len()];
                    n += 1;
                    let r = http
                        .post(format!("{api}/api/v1/artifacts/"))
                        .json(&json!({ "artifacts": [artifact(&path, n as u64)] }))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().as_u16() == 202 => {
                            let body: Value = r.json().await.unwrap_or(Value::Null);
                            let id = body["data"]["task_id"].as_str().unwrap_or("").to_string();
                            accepted.lock().unwrap().push((path, id));
                            tokio::time::sleep(pause).await;
                        }
                        // Refused while a broker restarts: not accepted, fine.
                        _ => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            })
        })
        .collect()
}

/// Wait until every accepted artifact is published, without help.
async fn wait_all_published(cluster: &Cluster, accepted: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let (published, rows) = cluster.artifact_rows("load/");
        if published as usize >= accepted && rows as usize >= accepted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {published} of {accepted} accepted artifacts published ({rows} rows); unpublished: {:?}\nlogs:\n{}",
            cluster.unpublished("load/"),
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn python_tuf_verifies(cluster: &Cluster, present: &[String]) -> Value {
    let root = cluster.trusted_root().await;
    let url = cluster.metadata_url();
    let mut args: Vec<&str> = vec![&url, root.to_str().unwrap(), "--present"];
    args.extend(present.iter().map(String::as_str));
    args.push("--absent");
    args.push("load/never.tgz");
    serde_json::from_str(&python_script_async("verify.py", &args).await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_apis_three_workers_publish_every_accepted_artifact() {
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let cluster = Cluster::start(2, 3, &[]).await;
    eprintln!("cluster up after {:?}", t0.elapsed());
    bootstrap(&cluster, "16").await;
    eprintln!("bootstrapped after {:?}", t0.elapsed());
    let root: Value =
        serde_json::from_slice(&std::fs::read(cluster.trusted_root().await).unwrap()).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let watching = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let watch = monitor(&cluster, root, watching.clone());
    let clients = load(
        &cluster,
        8,
        40,
        Duration::ZERO,
        stop.clone(),
        accepted.clone(),
    );
    for c in clients {
        c.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 320, "every request of the load is accepted");
    eprintln!("{} accepted after {:?}", accepted.len(), t0.elapsed());
    for (_, id) in &accepted {
        let task = cluster.wait(id, LONG).await;
        assert_eq!(task["state"], "SUCCESS", "{task}");
    }
    eprintln!("all tasks finished after {:?}", t0.elapsed());
    // Results live in Redis with the result TTL (default one day).
    let key = format!("rstuf:{}:task:{}", cluster.queue, accepted[0].1);
    let ttl = std::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "TTL", &key])
        .output()
        .expect("redis-cli runs");
    let ttl: i64 = String::from_utf8_lossy(&ttl.stdout)
        .trim()
        .parse()
        .unwrap_or(-3);
    assert!((1..=86_400).contains(&ttl), "{key} has TTL {ttl}");
    wait_all_published(&cluster, accepted.len(), LONG).await;
    watching.store(true, Ordering::Relaxed);
    let (seen, problems) = watch.await.unwrap();
    assert!(
        problems.is_empty(),
        "served metadata did not verify: {problems:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "timestamp versions went back: {seen:?}"
    );
    assert!(seen.last() > seen.first(), "no publish was observed");
    let paths: Vec<String> = accepted.iter().map(|(p, _)| p.clone()).collect();
    let report = python_tuf_verifies(&cluster, &paths).await;
    assert_eq!(
        report["found"].as_object().unwrap().len(),
        paths.len(),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_workers_and_restarted_brokers_lose_nothing() {
    let _serial = SERIAL.lock().await;
    let _restore = rstuf_tests::cluster::RestartServicesOnDrop;
    let mut cluster = Cluster::start(2, 3, &[]).await;
    bootstrap(&cluster, "16").await;
    let root: Value =
        serde_json::from_slice(&std::fs::read(cluster.trusted_root().await).unwrap()).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let watching = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let watch = monitor(&cluster, root, watching.clone());
    let clients = load(
        &cluster,
        4,
        usize::MAX,
        Duration::from_millis(100),
        stop.clone(),
        accepted.clone(),
    );
    // A fixed-seed pseudo-random schedule: which worker, and when. 24
    // rounds: 20 SIGKILLs, each aimed at the worker holding the publisher
    // lease (so inside a publish pass) when one is seen in time, and 4
    // graceful SIGTERMs; RabbitMQ, PostgreSQL and Redis are restarted.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut kills, mut kills_in_pass, mut last_token) = (0, 0, 0i64);
    for round in 0..24 {
        tokio::time::sleep(Duration::from_millis(100 + next() % 400)).await;
        if round % 6 == 5 {
            // A graceful stop now and then: in-flight tasks finish or go back.
            let victim = (next() % 3) as usize;
            if let Some((status, took)) = cluster.terminate_worker(victim) {
                assert!(
                    status.success(),
                    "a graceful stop exits 0, got {status}; its log:\n{}",
                    cluster.log(&cluster.workers[victim].name)
                );
                assert!(took < Duration::from_secs(35), "the drain took {took:?}");
            }
            cluster.spawn_worker(victim);
        } else {
            let victim = match cluster.publisher(last_token, Duration::from_secs(2)).await {
                Some((worker, token)) => {
                    last_token = token;
                    kills_in_pass += 1;
                    worker
                }
                None => (next() % 3) as usize,
            };
            cluster.kill_worker(victim);
            kills += 1;
            cluster.spawn_worker(victim);
        }
        match round {
            6 => {
                stop_rabbitmq().await;
                cluster.wait_ready_status(0, 503).await;
                start_rabbitmq().await;
                cluster.wait_ready_status(0, 200).await;
            }
            12 => {
                stop_postgres().await;
                cluster.wait_ready_status(0, 503).await;
                start_postgres().await;
                cluster.wait_ready_status(0, 200).await;
            }
            18 => {
                stop_redis().await;
                cluster.wait_ready_status(1, 503).await;
                start_redis().await;
                cluster.wait_ready_status(1, 200).await;
            }
            _ => {}
        }
    }
    assert_eq!(kills, 20);
    eprintln!(
        "{kills_in_pass} of {kills} SIGKILLs were aimed at the worker holding the publisher lease"
    );
    assert!(
        kills_in_pass >= 5,
        "only {kills_in_pass} kills were aimed at a worker holding the publisher lease"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(accepted.len() >= 50, "load too small: {}", accepted.len());
    eprintln!("{} accepted during the faults", accepted.len());
    // Recovery on its own: no manual publish, no restart beyond the above.
    wait_all_published(&cluster, accepted.len(), LONG).await;
    watching.store(true, Ordering::Relaxed);
    let (seen, problems) = watch.await.unwrap();
    assert!(
        problems.is_empty(),
        "served metadata did not verify: {problems:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "timestamp versions went back: {seen:?}"
    );
    let paths: Vec<String> = accepted.iter().map(|(p, _)| p.clone()).collect();
    let report = python_tuf_verifies(&cluster, &paths).await;
    assert_eq!(
        report["found"].as_object().unwrap().len(),
        paths.len(),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_the_broker_cannot_take_releases_the_lock() {
    let _serial = SERIAL.lock().await;
    let _restore = rstuf_tests::cluster::RestartServicesOnDrop;
    let cluster = Cluster::start(1, 1, &[]).await;
    let payload = ceremony_payload(&cluster, "4");
    stop_rabbitmq().await;
    let (status, body) = cluster.post(0, "/api/v1/bootstrap/", &payload).await;
    assert_eq!(status, 503, "{body}");
    // Not accepted, so not locked: the operator can simply try again.
    let (status, body) = cluster.get(0, "/api/v1/bootstrap/").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "System available for bootstrap.", "{body}");
    start_rabbitmq().await;
    cluster.wait_ready_status(0, 200).await;
    bootstrap_with(&cluster, &payload).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_task_that_keeps_failing_is_dead_lettered() {
    let _serial = SERIAL.lock().await;
    // Metadata in S3 (SeaweedFS), which goes away after the bootstrap:
    // every publish attempt then fails with a retryable error.
    let mut s3 = rstuf_tests::servers::SeaweedFs::start().await;
    s3.create_bucket("tuf").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rstuf.toml");
    std::fs::write(
        &config,
        format!(
            r#"[plugins.storage]
name = "storage"
file = "storage-s3.wasm"
config = {{ endpoint = "{}", bucket = "tuf", access_key_id = "{}", secret_access_key = "{}", path_style = true, max_retries = 0 }}
grants = {{ http_hosts = ["{}"] }}
"#,
            s3.endpoint(),
            s3.access_key,
            s3.secret_key,
            s3.authority()
        ),
    )
    .unwrap();
    let cluster = Cluster::start(
        1,
        1,
        &[
            ("RSTUF_CONFIG", config.to_str().unwrap()),
            ("RSTUF_TASK_MAX_ATTEMPTS", "2"),
            // Everything our code logs, so the secret check below means something.
            (
                "RSTUF_LOG_LEVEL",
                "rstuf_host=debug,rstuf_plugins=debug,rstuf_queue=debug,rstuf_store=debug,info",
            ),
        ],
    )
    .await;
    bootstrap(&cluster, "4").await;
    let broker = Broker::new(BrokerConfig {
        url: AMQP.into(),
        queue: cluster.queue.clone(),
    });
    let before = broker.dead_letters().await.unwrap();
    s3.stop();
    let (status, body) = cluster
        .post(
            0,
            "/api/v1/artifacts/",
            &json!({ "artifacts": [artifact("dead/1.tgz", 1)] }),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let task = cluster
        .wait(body["data"]["task_id"].as_str().unwrap(), LONG)
        .await;
    assert_eq!(task["state"], "FAILURE", "{task}");
    assert_eq!(task["result"]["attempts"], 2, "{task}");
    // Its row was committed before publishing failed: the state says so.
    assert!(
        task["result"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("recorded and will be published by the next successful publish pass"),
        "{task}"
    );
    assert!(
        !task.to_string().contains(&s3.secret_key),
        "no secret in the task result: {task}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while broker.dead_letters().await.unwrap() <= before {
        assert!(Instant::now() < deadline, "nothing was dead-lettered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        broker.depth().await.unwrap(),
        0,
        "the task is not left on the queue"
    );
    // The plugin's secret went through configuration, failures and
    // retries at debug level: it is in no log line.
    let logs = cluster.logs();
    assert!(
        logs.contains("DEBUG") || logs.contains("debug"),
        "debug logging was on"
    );
    assert!(
        !logs.contains(&s3.secret_key),
        "the S3 secret key appears in the logs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poison_artifacts_never_stop_publishing() {
    let _serial = SERIAL.lock().await;
    let cluster = Cluster::start(1, 2, &[]).await;
    bootstrap(&cluster, "4").await;
    // Rows written straight into PostgreSQL, as upstream's import-artifacts
    // does: a float and a 2**70 in `custom`.
    let sha = "ab".repeat(32);
    cluster.sql(&format!(
        "INSERT INTO rstuf_target_files (path, info, published, action, last_update, targets_role) \
         SELECT p, i::json, false, 'ADD', now(), (SELECT min(id) FROM rstuf_target_roles WHERE rolename LIKE 'bins-%') \
         FROM (VALUES ('poison/float.txt', '{{\"length\":1,\"hashes\":{{\"sha256\":\"{sha}\"}},\"custom\":{{\"x\":1.5}}}}'), \
                      ('poison/big.txt', '{{\"length\":1,\"hashes\":{{\"sha256\":\"{sha}\"}},\"custom\":{{\"x\":1180591620717411303424}}}}')) AS v(p, i)"
    ));
    // A task published to RabbitMQ around the API.
    let broker = Broker::new(BrokerConfig {
        url: AMQP.into(),
        queue: cluster.queue.clone(),
    });
    let poison_task = "0123456789abcdef0123456789abcdef".to_string();
    broker
        .publish(&rstuf_queue::TaskMessage {
            task_id: poison_task.clone(),
            action: "add_artifacts".into(),
            payload: Some(json!({ "task_id": poison_task, "artifacts": [
                {"path": "poison/task.txt", "info": {"length": 1, "hashes": {"sha256": sha}, "custom": {"ratio": 0.5}}}
            ]})),
            attempts: 0,
        })
        .await
        .unwrap();
    let (_, ts) = cluster.get(0, "/metadata/timestamp.json").await;
    let before = ts["signed"]["version"].as_i64().unwrap();

    let adds = (0..100u64).map(|i| {
        let cluster = &cluster;
        async move {
            let (status, body) = cluster
                .post(
                    0,
                    "/api/v1/artifacts/",
                    &json!({ "artifacts": [artifact(&format!("load/{i}.tgz"), i + 1)] }),
                )
                .await;
            assert_eq!(status, 202, "{body}");
            cluster
                .wait(body["data"]["task_id"].as_str().unwrap(), LONG)
                .await
        }
    });
    for done in futures::future::join_all(adds).await {
        assert_eq!(done["state"], "SUCCESS", "{done}");
    }
    let failed = cluster.wait(&poison_task, LONG).await;
    assert_eq!(failed["state"], "FAILURE", "{failed}");
    assert!(failed.to_string().contains("poison/task.txt"), "{failed}");
    let rejected =
        cluster.sql("SELECT count(*) FROM rstuf_rejected_files WHERE path LIKE 'poison/%'");
    assert_eq!(
        rejected, "2",
        "both rows written around the API are set aside"
    );
    let (_, ts) = cluster.get(0, "/metadata/timestamp.json").await;
    assert!(
        ts["signed"]["version"].as_i64().unwrap() > before,
        "timestamp re-signed: {ts}"
    );
    let present: Vec<String> = (0..100).map(|i| format!("load/{i}.tgz")).collect();
    let report = python_tuf_verifies(&cluster, &present).await;
    assert_eq!(report["found"].as_object().unwrap().len(), 100, "{report}");
}

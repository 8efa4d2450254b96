//! A distributed deployment on this machine: API and worker processes of
//! the real `rstuf-host` binary sharing a fresh PostgreSQL database, the
//! machine's RabbitMQ and Redis (a queue name and Redis namespace of their
//! own), one metadata directory and one key directory. Processes can be
//! killed with SIGKILL and started again; the brokers can be restarted.

use crate::workspace_root;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
pub const REDIS: &str = "redis://127.0.0.1:6379";

fn psql(db: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAc", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A fresh database on the machine's PostgreSQL, dropped with the guard.
pub struct ScratchDb {
    pub name: String,
}

impl ScratchDb {
    pub fn create(prefix: &str) -> ScratchDb {
        let name = unique(prefix);
        psql("test", &format!("CREATE DATABASE {name}"));
        ScratchDb { name }
    }

    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:5432/{}", self.name)
    }

    /// Run one SQL statement; its output (`psql -tA`).
    pub fn sql(&self, sql: &str) -> String {
        psql(&self.name, sql)
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

/// A name no other test (thread or process) uses: process id, time and a
/// process-wide counter (tests of one binary run on parallel threads).
fn unique(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{nanos:x}_{n}", std::process::id())
}

/// One process of the cluster.
pub struct Node {
    pub name: String,
    pub port: Option<u16>,
    child: Option<Child>,
    runs: u32,
}

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub db: String,
    pub queue: String,
    pub apis: Vec<Node>,
    pub workers: Vec<Node>,
    pub http: reqwest::Client,
    extra: Vec<(String, String)>,
}

impl Cluster {
    /// `apis` API processes and `workers` worker processes, with `extra`
    /// environment for all of them.
    pub async fn start(apis: usize, workers: usize, extra: &[(&str, &str)]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        for d in ["data", "keys", "work"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let db = unique("rstuf_cluster");
        psql("test", &format!("CREATE DATABASE {db}"));
        let mut cluster = Cluster {
            dir,
            queue: unique("rstuf_test_queue"),
            db,
            apis: Vec::new(),
            workers: Vec::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let ports = crate::servers::free_ports(apis);
        for (i, port) in ports.into_iter().enumerate() {
            cluster.apis.push(Node {
                name: format!("api-{i}"),
                port: Some(port),
                child: None,
                runs: 0,
            });
        }
        for i in 0..workers {
            cluster.workers.push(Node {
                name: format!("worker-{i}"),
                port: None,
                child: None,
                runs: 0,
            });
        }
        // Workers first: they migrate the database.
        for i in 0..workers {
            cluster.spawn_worker(i);
        }
        for i in 0..apis {
            cluster.spawn_api(i);
        }
        for i in 0..apis {
            cluster.wait_ready(i).await;
        }
        cluster
    }

    pub fn db_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.db)
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn keys(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    pub fn api(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.apis[i].port.unwrap())
    }

    pub fn metadata_url(&self) -> String {
        format!("{}/metadata", self.api(0))
    }

    fn command(&self, role: &str, name: &str, port: Option<u16>) -> Command {
        let bin = workspace_root().join("target/debug/rstuf-host");
        assert!(
            bin.is_file(),
            "{} is missing: run `cargo build -p rstuf-host`",
            bin.display()
        );
        let mut c = Command::new(bin);
        c.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RSTUF_ROLE", role)
            .env("RSTUF_WORKER_ID", name)
            .env("RSTUF_DB_SERVER", self.db_url())
            .env("RSTUF_BROKER_SERVER", AMQP)
            .env("RSTUF_REDIS_SERVER", REDIS)
            .env("RSTUF_QUEUE_NAME", &self.queue)
            .env("RSTUF_DATA_DIR", self.dir.path().join("data"))
            .env("RSTUF_ONLINE_KEY_DIR", self.keys())
            .env("RSTUF_PLUGIN_DIR", workspace_root().join("dist/plugins"))
            .env("RSTUF_LOG_LEVEL", "warn")
            .env("RSTUF_LOCK_TIMEOUT", "10");
        if let Some(p) = port {
            c.env("RSTUF_LISTEN", format!("127.0.0.1:{p}"));
        }
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("{name}.log")))
            .unwrap();
        c.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        c
    }

    pub fn spawn_worker(&mut self, i: usize) {
        let name = self.workers[i].name.clone();
        let child = self.command("worker", &name, None).spawn().unwrap();
        self.workers[i].child = Some(child);
        self.workers[i].runs += 1;
    }

    pub fn spawn_api(&mut self, i: usize) {
        let name = self.apis[i].name.clone();
        let port = self.apis[i].port;
        let child = self.command("api", &name, port).spawn().unwrap();
        self.apis[i].child = Some(child);
        self.apis[i].runs += 1;
    }

    /// SIGKILL worker `i` (no cleanup, no goodbye to RabbitMQ).
    pub fn kill_worker(&mut self, i: usize) {
        if let Some(mut c) = self.workers[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM worker `i` and wait for it to exit (a graceful stop: it
    /// finishes in-flight tasks or hands them back); how it exited and how
    /// long that took, if it was running.
    pub fn terminate_worker(&mut self, i: usize) -> Option<(std::process::ExitStatus, Duration)> {
        let mut c = self.workers[i].child.take()?;
        let started = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let status = c.wait().ok()?;
        Some((status, started.elapsed()))
    }

    /// Wait until API `i`'s `/ready` answers `status` (200 or 503).
    pub async fn wait_ready_status(&self, i: usize, status: u16) {
        let url = format!("{}/ready", self.api(i));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self.http.get(&url).send().await {
                if r.status().as_u16() == status {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "/ready never answered {status}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Wait until API `i` answers `/health`.
    pub async fn wait_ready(&mut self, i: usize) {
        let url = format!("{}/health", self.api(i));
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(r) = self.http.get(&url).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.apis[i].child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "{} exited ({status}):\n{}",
                    self.apis[i].name,
                    self.log(&self.apis[i].name)
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready:\n{}",
                self.apis[i].name,
                self.log(&self.apis[i].name)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }

    /// All logs, for failure messages.
    pub fn logs(&self) -> String {
        self.apis
            .iter()
            .chain(&self.workers)
            .map(|n| format!("--- {} ---\n{}", n.name, self.log(&n.name)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub async fn post(&self, api: usize, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.api(api)))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, api: usize, path: &str) -> (u16, Value) {
        match self
            .http
            .get(format!("{}{path}", self.api(api)))
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// Wait for a task to finish (through any API); returns the task.
    pub async fn wait(&self, task_id: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        let mut i = 0;
        loop {
            let (status, body) = self
                .get(
                    i % self.apis.len(),
                    &format!("/api/v1/task/?task_id={task_id}"),
                )
                .await;
            i += 1;
            let state = body["data"]["state"].as_str().unwrap_or("");
            if status == 200 && matches!(state, "SUCCESS" | "ERRORED" | "FAILURE") {
                return body["data"].clone();
            }
            assert!(
                Instant::now() < deadline,
                "task {task_id} did not finish (last: {body}); logs:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Artifact rows with `prefix`: (published, all).
    /// Run SQL on the cluster's database (rows written around the API, as
    /// upstream's `import-artifacts` does); its output, `psql -tA` style.
    pub fn sql(&self, sql: &str) -> String {
        psql(&self.db, sql)
    }

    pub fn artifact_rows(&self, prefix: &str) -> (u64, u64) {
        let out = psql(
            &self.db,
            &format!(
                "SELECT count(*) FILTER (WHERE published AND action = 'ADD'), count(*) FROM rstuf_target_files WHERE path LIKE '{prefix}%'"
            ),
        );
        let mut parts = out.split('|').map(|n| n.parse::<u64>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    }

    /// Paths with `prefix` that are not published.
    pub fn unpublished(&self, prefix: &str) -> Vec<String> {
        psql(
            &self.db,
            &format!(
                "SELECT path FROM rstuf_target_files WHERE path LIKE '{prefix}%' AND NOT published"
            ),
        )
        .lines()
        .map(String::from)
        .collect()
    }

    /// Write the trusted root the cluster publishes to `work/1.root.json`.
    pub async fn trusted_root(&self) -> PathBuf {
        let bytes = self
            .http
            .get(format!("{}/1.root.json", self.metadata_url()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let path = self.work().join("1.root.json");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The worker holding the publisher lease with a fencing token above
    /// `after`, if one shows up within `within`: (worker index, token).
    pub async fn publisher(&self, after: i64, within: Duration) -> Option<(usize, i64)> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let row = psql(
                &self.db,
                &format!("SELECT holder, fencing_token FROM rstuf_publisher WHERE holder IS NOT NULL AND fencing_token > {after}"),
            );
            if let Some((holder, token)) = row.split_once('|') {
                let worker = self.workers.iter().position(|w| w.name == holder);
                if let (Some(i), Ok(token)) = (worker, token.parse()) {
                    return Some((i, token));
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        None
    }

    pub fn metadata_dir(&self) -> PathBuf {
        self.dir.path().join("data/metadata")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in self.apis.iter_mut().chain(self.workers.iter_mut()) {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc"])
            .arg(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db))
            .output();
        let _ = Command::new("rabbitmqctl")
            .args(["delete_queue", &self.queue])
            .output();
        let _ = Command::new("rabbitmqctl")
            .args(["delete_queue", &format!("{}.dead", self.queue)])
            .output();
    }
}

/// Stop the machine's RabbitMQ (messages are durable) and wait until it is gone.
pub async fn stop_rabbitmq() {
    let _ = Command::new("rabbitmqctl").arg("stop").output();
    wait_port(5672, false).await;
}

/// Start the machine's RabbitMQ again and wait until it accepts logins.
pub async fn start_rabbitmq() {
    let _ = Command::new("rabbitmq-server").arg("-detached").status();
    wait_port(5672, true).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !Command::new("rabbitmqctl")
        .args(["await_startup", "--timeout", "5"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        assert!(Instant::now() < deadline, "RabbitMQ did not come back");
    }
}

/// Restart the machine's RabbitMQ.
pub async fn restart_rabbitmq() {
    stop_rabbitmq().await;
    start_rabbitmq().await;
}

/// Brings the machine's PostgreSQL, Redis and RabbitMQ back when dropped,
/// so a test that stops them and then fails leaves none of them down for
/// the tests after it.
pub struct RestartServicesOnDrop;

impl Drop for RestartServicesOnDrop {
    fn drop(&mut self) {
        let up = |port: u16| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        let wait = |port: u16| {
            let deadline = Instant::now() + Duration::from_secs(90);
            while !up(port) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(200));
            }
        };
        if !up(5432) {
            pg_ctl("start");
            wait(5432);
        }
        if !up(6379) {
            let _ = Command::new("redis-server").args(REDIS_ARGS).status();
            wait(6379);
        }
        if !up(5672) {
            let _ = Command::new("rabbitmq-server").arg("-detached").status();
            wait(5672);
        }
    }
}

/// How the machine starts Redis.
const REDIS_ARGS: [&str; 13] = [
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
];

fn pg_ctl(action: &str) {
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .expect("a PostgreSQL cluster under /etc/postgresql");
    let mut c = Command::new("pg_ctlcluster");
    c.args(["--skip-systemctl-redirect", &version, "main", action]);
    if action == "stop" {
        c.args(["-m", "fast"]);
    }
    let out = c.output().expect("pg_ctlcluster runs");
    assert!(
        out.status.success(),
        "pg_ctlcluster {action}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Stop the machine's PostgreSQL (fast: open connections are cut).
pub async fn stop_postgres() {
    pg_ctl("stop");
    wait_port(5432, false).await;
}

/// Start the machine's PostgreSQL with the command the machine uses.
pub async fn start_postgres() {
    pg_ctl("start");
    wait_port(5432, true).await;
}

/// Stop the machine's Redis (it keeps nothing on disk here).
pub async fn stop_redis() {
    let _ = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "shutdown", "nosave"])
        .output();
    wait_port(6379, false).await;
}

/// Start the machine's Redis with the command the machine uses.
pub async fn start_redis() {
    let _ = Command::new("redis-server")
        .args(REDIS_ARGS)
        .args(["--logfile", "/var/log/redis/ci.log"])
        .status();
    wait_port(6379, true).await;
}

/// Restart the machine's Redis.
pub async fn restart_redis() {
    stop_redis().await;
    start_redis().await;
}

async fn wait_port(port: u16, open: bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() != open {
        assert!(
            Instant::now() < deadline,
            "port {port} did not {}",
            if open { "open" } else { "close" }
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Does `path` exist under the cluster's metadata directory?
pub fn exists(dir: &Path, name: &str) -> bool {
    dir.join(name).is_file()
}

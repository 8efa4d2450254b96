//! Start a real embedded service (SQLite, the built plugins) in-process on
//! an ephemeral port, and talk to it the way clients do: HTTP for the API,
//! python-tuf for the published metadata.

use rstuf_host::config::{Config, ProcessEnv};
use rstuf_host::service::Service;
use rstuf_host::worker::clock::Clock;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct TestService {
    pub service: Service,
    pub base: String,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    pub clock: Clock,
}

impl TestService {
    pub fn keys(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn metadata_url(&self) -> String {
        format!("{}/metadata", self.base)
    }

    /// Where storage-fs writes the published metadata.
    pub fn metadata_dir(&self) -> PathBuf {
        self.dir.path().join("data/metadata")
    }
}

/// The embedded configuration for a data directory.
pub fn config_for(dir: &Path, extra_env: &[(&str, &str)]) -> Config {
    let data = dir.join("data");
    let mut env: Vec<(String, String)> = vec![
        ("RSTUF_DATA_DIR".into(), data.display().to_string()),
        ("RSTUF_LISTEN".into(), "127.0.0.1:0".into()),
        (
            "RSTUF_ONLINE_KEY_DIR".into(),
            dir.join("keys").display().to_string(),
        ),
        (
            "RSTUF_PLUGIN_DIR".into(),
            crate::workspace_root()
                .join("dist/plugins")
                .display()
                .to_string(),
        ),
        ("RSTUF_LOG_LEVEL".into(), "warn".into()),
    ];
    for (k, v) in extra_env {
        env.push((k.to_string(), v.to_string()));
    }
    struct Vars(Vec<(String, String)>);
    impl rstuf_host::config::Env for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }
    let _ = ProcessEnv;
    let mut config = Config::load(None, &Vars(env)).expect("test configuration is valid");
    config.plugins.cache_dir = crate::workspace_root().join("target/plugin-cache");
    config
}

pub async fn start() -> TestService {
    start_with(&[]).await
}

pub async fn start_with(extra_env: &[(&str, &str)]) -> TestService {
    start_configured(extra_env, |_| {}).await
}

/// Start with `extra_env`, then let `adjust` change the configuration
/// (e.g. to swap the storage or key-vault plugin).
pub async fn start_configured(
    extra_env: &[(&str, &str)],
    adjust: impl FnOnce(&mut Config),
) -> TestService {
    start_clocked(extra_env, adjust, Clock::default()).await
}

/// Start with a given worker clock (e.g. [`Clock::pinned`], for output
/// that must be byte-for-byte reproducible).
pub async fn start_clocked(
    extra_env: &[(&str, &str)],
    adjust: impl FnOnce(&mut Config),
    clock: Clock,
) -> TestService {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    std::fs::create_dir_all(dir.path().join("work")).unwrap();
    let mut config = config_for(dir.path(), extra_env);
    adjust(&mut config);
    let service = rstuf_host::service::start(config, clock.clone())
        .await
        .expect("service starts");
    let base = format!("http://{}", service.addr.expect("API runs"));
    TestService {
        service,
        base,
        dir,
        http: reqwest::Client::new(),
        clock,
    }
}

impl TestService {
    /// Stop the service and start it again on the same data directory
    /// (default configuration).
    pub async fn restart(self) -> TestService {
        let TestService {
            service,
            dir,
            http,
            clock,
            ..
        } = self;
        service.shutdown().await;
        let config = config_for(dir.path(), &[]);
        let service = rstuf_host::service::start(config, clock.clone())
            .await
            .expect("service restarts");
        let base = format!("http://{}", service.addr.expect("API runs"));
        TestService {
            service,
            base,
            dir,
            http,
            clock,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Send a request; its status and JSON body (`Null` if not JSON).
    async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        Self::send(self.http.get(self.url(path))).await
    }

    /// A GET's body as text (the metrics exposition, raw documents).
    pub async fn text(&self, path: &str) -> String {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        r.text().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        Self::send(self.http.post(self.url(path)).json(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        Self::send(self.http.put(self.url(path)).json(body)).await
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let request = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body);
        Self::send(request).await
    }

    /// Submit and return the task id, asserting 202.
    pub async fn submit(&self, path: &str, body: &Value) -> String {
        let (status, resp) = self.post(path, body).await;
        assert_eq!(status, 202, "{path}: {resp}");
        resp["data"]["task_id"].as_str().unwrap().to_string()
    }

    /// Poll a task until it reaches a final state.
    pub async fn wait(&self, task_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (_, resp) = self.get(&format!("/api/v1/task/?task_id={task_id}")).await;
            let state = resp["data"]["state"].as_str().unwrap_or("").to_string();
            if rstuf_api::task::TaskState::parse(&state).is_some_and(|s| s.is_final()) {
                return resp["data"].clone();
            }
            assert!(
                Instant::now() < deadline,
                "task {task_id} stuck in {state}: {resp}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// PUT, wait, and assert SUCCESS; returns the result.
    pub async fn run_put(&self, path: &str, body: &Value) -> Value {
        let (status, resp) = self.put(path, body).await;
        assert_eq!(status, 202, "{path}: {resp}");
        let done = self.wait(resp["data"]["task_id"].as_str().unwrap()).await;
        assert_eq!(done["state"], "SUCCESS", "{path}: {done}");
        done["result"].clone()
    }

    /// Submit, wait, and assert SUCCESS; returns the result.
    pub async fn run(&self, path: &str, body: &Value) -> Value {
        let id = self.submit(path, body).await;
        let done = self.wait(&id).await;
        assert_eq!(done["state"], "SUCCESS", "{path}: {done}");
        done["result"].clone()
    }

    /// A ceremony payload from tests/python/ceremony.py.
    pub fn ceremony(&self, args: &[&str]) -> Value {
        let out = python_script(
            "ceremony.py",
            &[
                &[
                    "--out",
                    self.work().to_str().unwrap(),
                    "--key-dir",
                    self.keys().to_str().unwrap(),
                ],
                args,
            ]
            .concat(),
        );
        serde_json::from_str(&out).unwrap()
    }

    /// Download `1.root.json` to use as the client's trust anchor.
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
        let path = self.work().join("trusted-root.json");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// python-tuf refresh + lookups; returns its report.
    pub async fn verify(&self, present: &[&str], absent: &[&str], now: Option<&str>) -> Value {
        let root = self.trusted_root().await;
        let url = self.metadata_url();
        let mut args: Vec<&str> = vec![&url, root.to_str().unwrap(), "--present"];
        args.extend(present);
        args.push("--absent");
        args.extend(absent);
        if let Some(now) = now {
            args.push("--now");
            args.push(now);
        }
        let out = python_script_async("verify.py", &args).await;
        serde_json::from_str(&out).unwrap()
    }
}

impl TestService {
    /// [`TestService::verify`] by a client that keeps its metadata in
    /// `cache` between calls (as an installed client does).
    pub async fn verify_cached(&self, present: &[&str], cache: &Path) -> Value {
        let root = self.trusted_root().await;
        let url = self.metadata_url();
        let mut args: Vec<&str> = vec![
            &url,
            root.to_str().unwrap(),
            "--cache",
            cache.to_str().unwrap(),
            "--present",
        ];
        args.extend(present);
        let out = python_script_async("verify.py", &args).await;
        serde_json::from_str(&out).unwrap()
    }
}

pub fn python_script(name: &str, args: &[&str]) -> String {
    let script = crate::workspace_root().join("tests/python").join(name);
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{name} failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Run a Python client without blocking the runtime that serves it.
pub async fn python_script_async(name: &str, args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let name = name.to_string();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        python_script(&name, &refs)
    })
    .await
    .unwrap()
}

/// An artifact entry for the add payload.
pub fn artifact(path: &str, length: u64) -> Value {
    serde_json::json!({ "path": path, "info": { "length": length, "hashes": { "sha256": format!("{length:064x}") } } })
}

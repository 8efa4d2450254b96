//! Durability of the embedded service as a real process: artifacts
//! accepted (202) by an API-only process, and by a full process killed with
//! SIGKILL while it publishes, are all published after a restart; the
//! metadata served is consistent at every step and verifies with
//! python-tuf. A process crashed at each step of a publish pass (debug
//! builds' `RSTUF_FAILPOINT`) leaves what clients see verifiable and never
//! has a file it wrote overwritten with other bytes. Needs the
//! `rstuf-host` binary (`cargo build -p rstuf-host`, which `make test` runs
//! first).

use rstuf_tests::service::{artifact, python_script, python_script_async};
use rstuf_tests::workspace_root;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Host {
    child: Child,
    base: String,
}

impl Host {
    fn start(dir: &Path, port: u16, role: &str) -> Host {
        Host::start_with(dir, port, role, &[])
    }

    fn start_with(dir: &Path, port: u16, role: &str, env: &[(&str, &str)]) -> Host {
        let bin = workspace_root().join("target/debug/rstuf-host");
        assert!(
            bin.is_file(),
            "{} is missing: run `cargo build -p rstuf-host` (make test does)",
            bin.display()
        );
        let log = std::fs::File::create(dir.join(format!("host-{role}-{port}.log"))).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .env("RSTUF_DATA_DIR", dir.join("data"))
            .env("RSTUF_LISTEN", format!("127.0.0.1:{port}"))
            .env("RSTUF_ONLINE_KEY_DIR", dir.join("keys"))
            .env("RSTUF_PLUGIN_DIR", workspace_root().join("dist/plugins"))
            .env("RSTUF_ROLE", role)
            // Short leases so a restarted worker takes over quickly.
            .env("RSTUF_LOCK_TIMEOUT", "5")
            .env("RSTUF_LOG_LEVEL", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Host {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn ready(&self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{}/health", self.base)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} did not become healthy", self.base);
    }

    /// Wait for the process to end by itself (a crash point); true if it
    /// was killed by a signal.
    fn wait_crashed(mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                use std::os::unix::process::ExitStatusExt;
                return status.signal().is_some();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "{} did not reach its crash point within {within:?}",
                    self.base
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

/// A failed assertion must not leave the process running: it would outlive
/// the test binary (holding its port and anything it inherited).
impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process killed when dropped (the static web server).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port for the host processes, kept across their restarts. From the
/// shared allocator, outside the ephemeral range: the other tests of this
/// binary bind `127.0.0.1:0` on parallel threads and could otherwise take
/// it while the host is down.
fn free_port() -> u16 {
    rstuf_tests::servers::free_ports(1)[0]
}

async fn post(http: &reqwest::Client, url: String, body: &Value) -> (u16, Value) {
    let r = http.post(url).json(body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn wait_task(http: &reqwest::Client, base: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r: Value = http
            .get(format!("{base}/api/v1/task/?task_id={id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let state = r["data"]["state"].as_str().unwrap_or_default().to_string();
        if ["SUCCESS", "ERRORED", "FAILURE"].contains(&state.as_str()) {
            return r["data"].clone();
        }
        assert!(Instant::now() < deadline, "task {id} stuck: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every snapshot reachable from timestamp.json points to role files that
/// exist with the versions it names.
/// Bootstrap through `base` with a ceremony payload (keys in `dir/keys`).
async fn bootstrap(http: &reqwest::Client, base: &str, dir: &Path, bins: u32) {
    let payload: Value = serde_json::from_str(&python_script(
        "ceremony.py",
        &[
            "--out",
            dir.join("work").to_str().unwrap(),
            "--key-dir",
            dir.join("keys").to_str().unwrap(),
            "--bins",
            &bins.to_string(),
        ],
    ))
    .unwrap();
    let (status, r) = post(http, format!("{base}/api/v1/bootstrap/"), &payload).await;
    assert_eq!(status, 202, "{r}");
    let done = wait_task(http, base, r["data"]["task_id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "SUCCESS", "{done}");
}

fn assert_consistent(metadata: &Path) {
    let read =
        |p: PathBuf| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    let ts = read(metadata.join("timestamp.json"));
    let v = ts["signed"]["meta"]["snapshot.json"]["version"]
        .as_i64()
        .unwrap();
    let snap = read(metadata.join(format!("{v}.snapshot.json")));
    for (file, meta) in snap["signed"]["meta"].as_object().unwrap() {
        let role = file.strip_suffix(".json").unwrap();
        let version = meta["version"].as_i64().unwrap();
        let doc = read(metadata.join(format!("{version}.{role}.json")));
        assert_eq!(doc["signed"]["version"], version);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_artifacts_survive_kill_and_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for sub in ["keys", "work"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let http = reqwest::Client::new();
    let port = free_port();

    // Bootstrap with a full process.
    let host = Host::start(dir, port, "all");
    host.ready(&http).await;
    bootstrap(&http, &host.base, dir, 16).await;
    host.kill();

    // An API-only process accepts artifacts; nothing publishes them yet.
    let api = Host::start(dir, port, "api");
    api.ready(&http).await;
    let mut tasks = Vec::new();
    let mut paths = Vec::new();
    for i in 0..10 {
        let path = format!("accepted/{i}.whl");
        let (status, r) = post(
            &http,
            format!("{}/api/v1/artifacts/", api.base),
            &json!({ "artifacts": [artifact(&path, i)] }),
        )
        .await;
        assert_eq!(status, 202, "{r}");
        tasks.push(r["data"]["task_id"].as_str().unwrap().to_string());
        paths.push(path);
    }
    api.kill();

    // A full process killed while it works through more of them.
    let full = Host::start(dir, port, "all");
    full.ready(&http).await;
    for i in 10..30 {
        let path = format!("inflight/{i}.whl");
        let (status, r) = post(
            &http,
            format!("{}/api/v1/artifacts/", full.base),
            &json!({ "artifacts": [artifact(&path, i)] }),
        )
        .await;
        assert_eq!(status, 202, "{r}");
        tasks.push(r["data"]["task_id"].as_str().unwrap().to_string());
        paths.push(path);
    }
    full.kill();
    assert_consistent(&dir.join("data/metadata"));

    // Restarted, it finishes everything that was accepted.
    let again = Host::start(dir, port, "all");
    again.ready(&http).await;
    for id in &tasks {
        let done = wait_task(&http, &again.base, id).await;
        assert_eq!(done["state"], "SUCCESS", "{done}");
    }
    assert_consistent(&dir.join("data/metadata"));
    let root = dir.join("work/trusted-root.json");
    std::fs::copy(dir.join("data/metadata/1.root.json"), &root).unwrap();
    let url = format!("{}/metadata", again.base);
    let mut args: Vec<&str> = vec![&url, root.to_str().unwrap(), "--present"];
    args.extend(paths.iter().map(String::as_str));
    let report: Value =
        serde_json::from_str(&python_script_async("verify.py", &args).await).unwrap();
    assert_eq!(report["found"].as_object().unwrap().len(), 30, "{report}");
    again.kill();
}

/// The process dies after the versions are reserved, after the role and
/// snapshot files are written, and after the commit (before
/// `timestamp.json`): each time the repository clients see still verifies
/// (python-tuf, through a plain static server), and when a healthy process
/// finishes the work no versioned file ever changed its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashes_inside_a_publish_pass_never_rewrite_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for sub in ["keys", "work", "data/metadata"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let metadata = dir.join("data/metadata");
    let http = reqwest::Client::new();
    let port = free_port();
    // What clients see is served by a static web server, independent of
    // the host's life.
    let static_port = free_port();
    let _web = KillOnDrop(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                &static_port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(&metadata)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 http.server"),
    );
    let static_url = format!("http://127.0.0.1:{static_port}");

    let host = Host::start(dir, port, "all");
    host.ready(&http).await;
    bootstrap(&http, &host.base, dir, 4).await;
    let (status, r) = post(
        &http,
        format!("{}/api/v1/artifacts/", host.base),
        &json!({ "artifacts": [artifact("before/crashes.whl", 7)] }),
    )
    .await;
    assert_eq!(status, 202, "{r}");
    let done = wait_task(&http, &host.base, r["data"]["task_id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "SUCCESS", "{done}");
    host.kill();
    let root = dir.join("work/trusted-root.json");
    std::fs::copy(metadata.join("1.root.json"), &root).unwrap();
    let verify = |present: Vec<String>, absent: Vec<String>| {
        let url = static_url.clone();
        let root = root.clone();
        async move {
            let mut args: Vec<&str> = vec![&url, root.to_str().unwrap(), "--present"];
            args.extend(present.iter().map(String::as_str));
            args.push("--absent");
            args.extend(absent.iter().map(String::as_str));
            serde_json::from_str::<Value>(&python_script_async("verify.py", &args).await).unwrap()
        }
    };

    // Every versioned file ever seen must keep the bytes it had then.
    let mut files = rstuf_tests::ImmutableFiles::default();
    let mut record = || {
        let mut problems = Vec::new();
        files.check(&metadata, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
    };
    record();
    // The first process crashes in the pass its add triggers; the next two
    // crash in the start-up pass that retries the pending work.
    let first = Host::start_with(
        dir,
        port,
        "all",
        &[("RSTUF_FAILPOINT", "publish-after-reserve")],
    );
    first.ready(&http).await;
    let (status, r) = post(
        &http,
        format!("{}/api/v1/artifacts/", first.base),
        &json!({ "artifacts": [artifact("crash/1.whl", 1)] }),
    )
    .await;
    assert_eq!(status, 202, "{r}");
    let pending = r["data"]["task_id"].as_str().unwrap().to_string();
    let mut crashing = Some(first);
    for point in [
        "publish-after-reserve",
        "publish-after-files",
        "publish-after-commit",
    ] {
        let host = crashing
            .take()
            .unwrap_or_else(|| Host::start_with(dir, port, "all", &[("RSTUF_FAILPOINT", point)]));
        assert!(
            host.wait_crashed(Duration::from_secs(60)),
            "the process stopped at {point} by a signal"
        );
        record();
        assert_consistent(&metadata);
        verify(
            vec!["before/crashes.whl".into()],
            vec!["crash/1.whl".into()],
        )
        .await;
    }

    // A healthy process finishes everything; nothing written before changed.
    let healthy = Host::start(dir, port, "all");
    healthy.ready(&http).await;
    let done = wait_task(&http, &healthy.base, &pending).await;
    assert_eq!(done["state"], "SUCCESS", "{done}");
    record();
    assert_consistent(&metadata);
    let report = verify(
        vec!["before/crashes.whl".into(), "crash/1.whl".into()],
        vec![],
    )
    .await;
    assert_eq!(report["found"].as_object().unwrap().len(), 2, "{report}");
    healthy.kill();
}

//! The `rstuf` CLI's administration beyond the ceremony, against a real
//! embedded server: a root rotation (new root key, a key removed, a new
//! online key) signed by two key holders in two separate runs, then
//! `artifact download|info` verifying through TUF from the pinned v1 root
//! across the rotation; `stop-sign`; custom delegations added, changed and
//! deleted; a bulk CSV import; and bad input, each a clear message, the
//! right exit code and no file left behind. Needs the `rstuf` binary
//! (`cargo build -p rstuf-cli`).

use rstuf_tests::cli::{ceremony_args, make_keys, ok, p, rstuf, Run};
use rstuf_tests::servers::free_ports;
use rstuf_tests::service::{start, TestService};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn failed(run: &Run, code: i32, text: &str) {
    assert_eq!(run.code, code, "{}{}", run.stderr, run.stdout);
    assert!(
        run.stderr.contains(text) || run.stdout.contains(text),
        "expected '{text}' in: {}{}",
        run.stderr,
        run.stdout
    );
}

/// A static file server for artifacts (python's http.server).
struct Artifacts {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Artifacts {
    async fn start() -> Artifacts {
        let dir = tempfile::tempdir().unwrap();
        let port = free_ports(1)[0];
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "artifact server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Artifacts { child, port, dir }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn put(&self, path: &str, data: &[u8]) -> PathBuf {
        let file = self.dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, data).unwrap();
        file
    }
}

impl Drop for Artifacts {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A metadata document the service serves.
async fn metadata(svc: &TestService, name: &str) -> Value {
    svc.http
        .get(format!("{}/{name}", svc.metadata_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn pending_roles(svc: &TestService) -> Vec<String> {
    let (_, body) = svc.get("/api/v1/metadata/sign/").await;
    body.pointer("/data/metadata")
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .filter(|k| !k.starts_with("trusted_"))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_rotation_by_two_holders_then_verified_download() {
    let svc = start().await;
    let (alice, bob, carol, online) = make_keys(&svc).await;
    let out = svc.work().join("ceremony-payload.json");
    let mut args = ceremony_args(&alice, &bob, &carol, &online, &out);
    args.extend([
        "--sign".into(),
        p(&alice).into(),
        "--sign".into(),
        format!("{}:ROOT_PW", p(&bob)),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&rstuf(&svc, &refs).await);
    let root_v1 = svc.work().join("1.root.json");
    std::fs::write(
        &root_v1,
        svc.http
            .get(format!("{}/1.root.json", svc.metadata_url()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();

    // A new root key and a new online key (its private half where the
    // service's key vault finds `fn:<keyid>`).
    let dave = rstuf_tests::cli::keygen(&svc, "dave").await;
    let online2 = svc.work().join("online2.pem");
    let report = ok(&rstuf(
        &svc,
        &[
            "admin",
            "keygen",
            "--json",
            "--type",
            "ecdsa",
            "--out",
            p(&online2),
            "--name",
            "online2",
        ],
    )
    .await);
    std::fs::copy(
        &online2,
        svc.keys().join(report["bare_keyid"].as_str().unwrap()),
    )
    .unwrap();

    // Bad input first: nothing is written, exit codes tell why.
    let update = svc.work().join("update-payload.json");
    let meta = svc.metadata_url();
    let base_args = [
        "admin",
        "metadata",
        "update",
        "--metadata-url",
        meta.as_str(),
        "--out",
        p(&update),
    ];
    let run = rstuf(&svc, &[&base_args[..], &["--root-threshold", "1"]].concat()).await;
    failed(&run, 2, "at least 2");
    let run = rstuf(&svc, &[&base_args[..], &["--sign", p(&dave)]].concat()).await;
    failed(&run, 1, "is not a root key of v1 or v2");
    let bad = svc.work().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let run = rstuf(
        &svc,
        &[
            "admin",
            "metadata",
            "update",
            "--in",
            p(&bad),
            "--out",
            p(&update),
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = rstuf(&svc, &[&base_args[..], &["--remove-key", "00ff"]].concat()).await;
    failed(&run, 2, "no such root key");
    assert!(!update.exists(), "no payload is written for refused input");

    // Holder 1 (alice): remove carol, add dave, rotate the online key; sign, send.
    let run = rstuf(
        &svc,
        &[
            &base_args[..],
            &[
                "--json",
                "--remove-key",
                p(&carol),
                "--add-key",
                &format!("{}.pub:dave", p(&dave)),
                "--online-key",
                &format!("{}.pub", p(&online2)),
                "--online-key-name",
                "online2",
                "--sign",
                p(&alice),
                "--send",
            ],
        ]
        .concat(),
    )
    .await;
    let report = ok(&run);
    assert_eq!(report["version"], 2, "{report}");
    assert_eq!(report["complete"], false, "{report}");
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");
    assert_eq!(pending_roles(&svc).await, ["root"]);
    // The status shows both thresholds a rotation must meet.
    let status = rstuf_tests::cli::signing_status(&svc).await;
    assert_eq!(status[0]["kind"], "root update", "{status:?}");
    assert_eq!(status[0]["version"], 2);
    let against: Vec<_> = status[0]["against"]
        .as_array()
        .unwrap()
        .iter()
        .map(rstuf_tests::cli::signers)
        .collect();
    assert_eq!(
        against,
        [
            (
                "pending root".into(),
                2,
                vec!["alice".into()],
                vec!["bob".into(), "dave".into()],
                1
            ),
            (
                "trusted root".into(),
                2,
                vec!["alice".into()],
                vec!["bob".into(), "carol".into()],
                1
            ),
        ]
    );

    // Holder 2 (bob), in a separate run: the threshold of v1 and v2 is met.
    let report = ok(&rstuf(
        &svc,
        &[
            "admin",
            "metadata",
            "sign",
            "--json",
            "--key",
            p(&bob),
            "--password-env",
            "ROOT_PW",
        ],
    )
    .await);
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");
    assert!(pending_roles(&svc).await.is_empty());

    // The service now signs with the new online key; python-tuf walks
    // 1.root.json → 2.root.json and verifies everything.
    let artifacts = Artifacts::start().await;
    let file = artifacts.put("releases/app-2.0.tar.gz", b"the release bytes");
    let report = ok(&rstuf(
        &svc,
        &[
            "artifact",
            "add",
            "--json",
            p(&file),
            "--path",
            "releases",
            "--wait",
        ],
    )
    .await);
    assert_eq!(report["state"], "SUCCESS", "{report}");
    let verified = svc.verify(&["releases/app-2.0.tar.gz"], &[], None).await;
    assert_eq!(verified["root"], 2, "{verified}");
    let ts = metadata(&svc, "timestamp.json").await;
    let root2 = metadata(&svc, "2.root.json").await;
    assert_eq!(
        ts["signatures"][0]["keyid"],
        root2["signed"]["roles"]["timestamp"]["keyids"][0]
    );
    assert_eq!(
        root2["signed"]["roles"]["root"]["keyids"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Our TUF client: from the pinned v1 root, across the rotation.
    let state = tempfile::tempdir().unwrap();
    let tuf = |cmd: &'static str| {
        vec![
            "artifact".to_string(),
            cmd.to_string(),
            "releases/app-2.0.tar.gz".into(),
            "--root".into(),
            p(&root_v1).into(),
            "--metadata-url".into(),
            svc.metadata_url(),
            "--state-dir".into(),
            state.path().display().to_string(),
        ]
    };
    let args = tuf("info");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let info = ok(&rstuf(&svc, &[&["--json"], &refs[..]].concat()).await);
    assert_eq!(info["info"]["length"], 17, "{info}");
    assert_eq!(info["metadata"]["root"], 2, "{info}");
    assert!(
        info["role"].as_str().unwrap().starts_with("bins-"),
        "{info}"
    );

    let downloads = svc.work().join("downloads");
    let mut args = tuf("download");
    args.extend([
        "--artifacts-url".into(),
        artifacts.url(),
        "--directory-prefix".into(),
        p(&downloads).into(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&rstuf(&svc, &refs).await);
    assert_eq!(
        std::fs::read(downloads.join("app-2.0.tar.gz")).unwrap(),
        b"the release bytes"
    );

    // A tampered artifact is refused and nothing is written.
    std::fs::remove_file(downloads.join("app-2.0.tar.gz")).unwrap();
    artifacts.put("releases/app-2.0.tar.gz", b"the release bytez");
    let run = rstuf(&svc, &refs).await;
    failed(&run, 3, "does not match");
    assert!(!downloads.join("app-2.0.tar.gz").exists());
    // An unknown artifact, and a client without a trusted root.
    let mut args = tuf("info");
    args[2] = "releases/none.tar.gz".into();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    failed(&rstuf(&svc, &refs).await, 3, "is not in the repository");
    let fresh = tempfile::tempdir().unwrap();
    let run = rstuf(
        &svc,
        &[
            "artifact",
            "info",
            "releases/app-2.0.tar.gz",
            "--metadata-url",
            &svc.metadata_url(),
            "--state-dir",
            fresh.path().to_str().unwrap(),
        ],
    )
    .await;
    failed(&run, 2, "--root FILE");

    // stop-sign: an update pending signatures is abandoned.
    ok(&rstuf(
        &svc,
        &[
            &base_args[..],
            &[
                "--json",
                "--expires-days",
                "30",
                "--sign",
                p(&alice),
                "--send",
            ],
        ]
        .concat(),
    )
    .await);
    assert_eq!(pending_roles(&svc).await, ["root"]);
    ok(&rstuf(&svc, &["--json", "admin", "metadata", "stop-sign"]).await);
    assert!(pending_roles(&svc).await.is_empty());
    failed(
        &rstuf(&svc, &["admin", "metadata", "stop-sign"]).await,
        2,
        "not pending",
    );

    // An unreachable server.
    let run = rstuf(
        &svc,
        &[
            "--api-server",
            "http://127.0.0.1:9",
            "admin",
            "metadata",
            "stop-sign",
        ],
    )
    .await;
    failed(&run, 3, "Failed to connect");
}

fn delegation_roles(targets: &Value) -> Vec<(String, Vec<String>)> {
    targets["signed"]["delegations"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["paths"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

async fn latest_targets(svc: &TestService) -> Value {
    let ts = metadata(svc, "timestamp.json").await;
    let sv = ts["signed"]["meta"]["snapshot.json"]["version"]
        .as_u64()
        .unwrap();
    let snapshot = metadata(svc, &format!("{sv}.snapshot.json")).await;
    let tv = snapshot["signed"]["meta"]["targets.json"]["version"]
        .as_u64()
        .unwrap();
    metadata(svc, &format!("{tv}.targets.json")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegations_new_update_delete() {
    let svc = start().await;
    let (alice, bob, carol, online) = make_keys(&svc).await;
    let layout = svc.work().join("layout.json");
    std::fs::write(
        &layout,
        json!({"roles": [{"name": "default", "paths": ["*", "*/*"], "x-rstuf-expire-policy": 30}]})
            .to_string(),
    )
    .unwrap();
    let out = svc.work().join("ceremony.json");
    let mut args: Vec<String> = ceremony_args(&alice, &bob, &carol, &online, &out)
        .into_iter()
        .filter(|a| a != "--bins" && a != "8")
        .collect();
    args.extend([
        "--delegations".into(),
        p(&layout).into(),
        "--sign".into(),
        p(&alice).into(),
        "--sign".into(),
        format!("{}:ROOT_PW", p(&bob)),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&rstuf(&svc, &refs).await);

    // Refused before sending: a bad pattern list, a bad role name.
    failed(
        &rstuf(
            &svc,
            &["admin", "delegations", "new", "--role", "dev", "--path", ""],
        )
        .await,
        1,
        "paths",
    );
    failed(
        &rstuf(&svc, &["admin", "delegations", "delete", "--role", "../x"]).await,
        2,
        "not a delegated role name",
    );

    let report = ok(&rstuf(
        &svc,
        &[
            "--json",
            "admin",
            "delegations",
            "new",
            "--role",
            "dev",
            "--path",
            "dev/*",
            "--expires-days",
            "7",
        ],
    )
    .await);
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");
    let roles = delegation_roles(&latest_targets(&svc).await);
    assert!(
        roles.contains(&("dev".to_string(), vec!["dev/*".to_string()])),
        "{roles:?}"
    );

    // Update from a file, written first with --dry-run.
    let file = svc.work().join("dev.json");
    ok(&rstuf(
        &svc,
        &[
            "--json",
            "admin",
            "delegations",
            "update",
            "--role",
            "dev",
            "--path",
            "dev/*",
            "--path",
            "dev/*/*",
            "--out",
            p(&file),
            "--dry-run",
        ],
    )
    .await);
    let report = ok(&rstuf(
        &svc,
        &[
            "--json",
            "admin",
            "delegations",
            "update",
            "--file",
            p(&file),
        ],
    )
    .await);
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");
    let roles = delegation_roles(&latest_targets(&svc).await);
    assert!(
        roles.contains(&(
            "dev".to_string(),
            vec!["dev/*".to_string(), "dev/*/*".to_string()]
        )),
        "{roles:?}"
    );

    let report = ok(&rstuf(
        &svc,
        &["--json", "admin", "delegations", "delete", "--role", "dev"],
    )
    .await);
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");
    let roles = delegation_roles(&latest_targets(&svc).await);
    assert!(!roles.iter().any(|(n, _)| n == "dev"), "{roles:?}");
}

fn csv(dir: &Path, name: &str, lines: impl Iterator<Item = String>) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, lines.collect::<Vec<_>>().join("\n")).unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_artifacts_from_csv() {
    let svc = start().await;
    let work = svc.work();
    let hash = |i: u32| format!("{:064x}", i);
    let good = csv(
        &work,
        "a.csv",
        (0..2500).map(|i| format!("imported/{i}.tar.gz;{};sha256;{}", 100 + i, hash(i))),
    );

    // Not bootstrapped yet: refused by the server (exit 3).
    failed(
        &rstuf(&svc, &["admin", "import-artifacts", "--csv", p(&good)]).await,
        3,
        "not bootstrapped",
    );
    let (alice, bob, carol, online) = make_keys(&svc).await;
    let out = work.join("ceremony.json");
    let mut args = ceremony_args(&alice, &bob, &carol, &online, &out);
    args.extend([
        "--sign".into(),
        p(&alice).into(),
        "--sign".into(),
        format!("{}:ROOT_PW", p(&bob)),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&rstuf(&svc, &refs).await);

    // A bad line: nothing is sent; the message names file and line.
    let bad = csv(
        &work,
        "bad.csv",
        [
            "ok/1;1;sha256;".to_string() + &hash(1),
            "broken;x;sha256;00".into(),
        ]
        .into_iter(),
    );
    failed(
        &rstuf(&svc, &["admin", "import-artifacts", "--csv", p(&bad)]).await,
        1,
        "bad.csv:2",
    );
    let dup = csv(
        &work,
        "dup.csv",
        std::iter::once(format!("imported/7.tar.gz;1;sha256;{}", hash(7))),
    );
    failed(
        &rstuf(
            &svc,
            &[
                "admin",
                "import-artifacts",
                "--csv",
                p(&good),
                "--csv",
                p(&dup),
            ],
        )
        .await,
        1,
        "already listed",
    );

    let report = ok(&rstuf(
        &svc,
        &[
            "--json",
            "admin",
            "import-artifacts",
            "--csv",
            p(&good),
            "--batch",
            "1000",
        ],
    )
    .await);
    assert_eq!(report["artifacts"], 2500, "{report}");
    assert_eq!(report["tasks"].as_array().unwrap().len(), 3, "{report}");
    assert_eq!(report["publish"]["state"], "SUCCESS", "{report}");
    let verified = svc
        .verify(
            &["imported/0.tar.gz", "imported/2499.tar.gz"],
            &["ok/1"],
            None,
        )
        .await;
    assert_eq!(
        verified["found"]["imported/2499.tar.gz"], 2599,
        "{verified}"
    );

    // Tasks by id, deleting artifacts, and a task that fails (exit 4).
    let publish_task = report["publish"]["task_id"].as_str().unwrap().to_string();
    let info = ok(&rstuf(&svc, &["--json", "task", "info", &publish_task]).await);
    assert_eq!(info["state"], "SUCCESS", "{info}");
    let text = rstuf(&svc, &["task", "info", &publish_task]).await;
    assert!(
        text.code == 0 && text.stdout.contains("SUCCESS"),
        "{}",
        text.stdout
    );
    let waited = ok(&rstuf(&svc, &["--json", "task", "wait", &publish_task]).await);
    assert_eq!(waited["state"], "SUCCESS", "{waited}");
    let deleted = ok(&rstuf(
        &svc,
        &[
            "--json",
            "artifact",
            "delete",
            "imported/0.tar.gz",
            "never/was.tgz",
            "--wait",
        ],
    )
    .await);
    assert_eq!(
        deleted["result"]["details"]["deleted_artifacts"],
        json!(["imported/0.tar.gz"]),
        "{deleted}"
    );
    svc.verify(&["imported/1.tar.gz"], &["imported/0.tar.gz"], None)
        .await;
    let mut skipping: Value = svc
        .http
        .get(format!("{}/1.root.json", svc.metadata_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    skipping["signed"]["version"] = json!(5);
    let skip_file = work.join("skipping-root.json");
    std::fs::write(
        &skip_file,
        json!({ "metadata": { "root": skipping } }).to_string(),
    )
    .unwrap();
    failed(
        &rstuf(&svc, &["admin", "send", "update", p(&skip_file)]).await,
        4,
        "must be 2",
    );
    failed(
        &rstuf(&svc, &["task", "wait", "not-a-task-id"]).await,
        2,
        "is not a task id",
    );
    // A task nobody knows stays PENDING (as upstream): waiting gives up.
    failed(
        &rstuf(&svc, &["task", "wait", &"ab".repeat(16), "--timeout", "1"]).await,
        4,
        "still PENDING",
    );
}

/// Our interactive ceremony through a real pseudo terminal (pexpect):
/// defaults, a refused answer asked again, a hidden password typed wrong
/// then right, and the payload sent; python-tuf then verifies the result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_ceremony_in_a_terminal() {
    let svc = start().await;
    let (alice, bob, carol, online) = make_keys(&svc).await;
    let out = svc.work().join("interactive-payload.json");
    let bin = rstuf_tests::workspace_root().join("target/debug/rstuf");
    let report = rstuf_tests::service::python_script_async(
        "interactive_ceremony.py",
        &[
            p(&bin),
            &svc.base,
            p(&alice),
            p(&bob),
            &format!("{}.pub", p(&carol)),
            &format!("{}.pub", p(&online)),
            p(&out),
            rstuf_tests::cli::PASSWORD,
        ],
    )
    .await;
    let report: Value = serde_json::from_str(&report).unwrap();
    let transcript = report["transcript"].as_str().unwrap();
    assert!(transcript.contains("Bootstrap accepted."), "{transcript}");
    let payload: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let root = &payload["metadata"]["root"];
    assert_eq!(root["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(root["signed"]["roles"]["root"]["threshold"], 2);
    assert_eq!(
        payload["settings"]["roles"]["bins"]["number_of_delegated_bins"],
        16
    );
    let (_, status) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(status["data"]["bootstrap"], true, "{status}");
    svc.verify(&[], &["nothing/here"], None).await;
}

/// Both CLIs on the same files: the official CLI sends a DAS ceremony
/// payload our CLI wrote; the official CLI writes a sign payload (from a
/// saved signing response, in a real terminal) that our CLI sends; the
/// bootstrap completes and python-tuf verifies the repository.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_interoperate_with_the_official_cli() {
    use rstuf_tests::service::python_script_async;
    let svc = start().await;
    let (alice, _bob, carol, online) = make_keys(&svc).await;
    let payload = svc.work().join("ours-ceremony.json");
    ok(&rstuf(
        &svc,
        &[
            "--json",
            "admin",
            "ceremony",
            "--root-key",
            &format!("{}:alice", p(&alice)),
            "--root-key",
            &format!("{}.pub:carol", p(&carol)),
            "--root-threshold",
            "2",
            "--online-key",
            &format!("{}.pub", p(&online)),
            "--bins",
            "16",
            "--sign",
            p(&alice),
            "--out",
            p(&payload),
        ],
    )
    .await);
    let work = svc.work().join("official");
    python_script_async(
        "upstream_interop.py",
        &["bootstrap", &svc.base, p(&payload), p(&work)],
    )
    .await;
    let (_, status) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(status["data"]["state"], "signing", "{status}");

    let (_, pending) = svc.get("/api/v1/metadata/sign/").await;
    let response = svc.work().join("sign-response.json");
    std::fs::write(&response, pending.to_string()).unwrap();
    let sign_payload = svc.work().join("official-sign-payload.json");
    python_script_async(
        "upstream_interop.py",
        &[
            "sign",
            p(&response),
            p(&carol),
            "carol",
            p(&sign_payload),
            p(&work),
        ],
    )
    .await;
    let report = ok(&rstuf(&svc, &["--json", "admin", "send", "sign", p(&sign_payload)]).await);
    assert_eq!(report["state"], "SUCCESS", "{report}");
    let (_, status) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(status["data"]["bootstrap"], true, "{status}");
    svc.verify(&[], &["nothing/here"], None).await;
}

/// Run the built `rstuf` with `-c CONFIG` and no server in the
/// environment, so only the configuration file can name it.
async fn rstuf_configured(config: &Path, args: &[&str]) -> Run {
    let bin = rstuf_tests::workspace_root().join("target/debug/rstuf");
    let out = tokio::process::Command::new(bin)
        .arg("-c")
        .arg(config)
        .args(args)
        .env_remove("RSTUF_API_SERVER")
        .env_remove("RSTUF_METADATA_URL")
        .env_remove("RSTUF_ARTIFACTS_URL")
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

/// The official CLI with `-c CONFIG` (its HOME kept out of the way).
async fn official(config: &Path, home: &Path, args: &[&str]) -> (bool, String) {
    let mut all = vec!["-c".to_string(), config.display().to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    let home = home.to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("rstuf")
            .args(&all)
            .env("HOME", &home)
            .env("COLUMNS", "200")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// One `~/.rstuf.yml` serves both tools: repositories our CLI adds the
/// official CLI shows, and the official CLI's become ours; the current
/// repository gives `artifact info|download` their URLs and trusted root,
/// its `server` and `headers` reach a token-protected API, and `task info
/// -a` prints the whole task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_configuration_file_serves_both_clis() {
    let token = "profile-token-0123456789";
    let svc = rstuf_tests::service::start_with(&[(
        "RSTUF_AUTH_TOKENS",
        &format!("{token}=write:bootstrap,read:bootstrap,write:targets,read:tasks"),
    )])
    .await;
    let bearer = format!("Authorization: Bearer {token}");
    let payload = svc.ceremony(&[]);
    let (status, _) = {
        let r = svc
            .http
            .post(format!("{}/api/v1/bootstrap/", svc.base))
            .header("Authorization", format!("Bearer {token}"))
            .json(&payload)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), ())
    };
    assert_eq!(status, 202);
    let home = svc.work().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let config = home.join(".rstuf.yml");
    let artifacts = Artifacts::start().await;
    let root = svc.trusted_root().await;

    // Ours writes the repository, with the server for this profile.
    let run = rstuf_configured(
        &config,
        &[
            "artifact",
            "repository",
            "add",
            "-n",
            "local",
            "-r",
            p(&root),
            "-m",
            &svc.metadata_url(),
            "-a",
            &artifacts.url(),
            "--server",
            &svc.base,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.stderr, run.stdout);
    assert!(run
        .stdout
        .contains("Successfully added local repository to config"));
    let run = rstuf_configured(&config, &["artifact", "repository", "set", "local"]).await;
    assert!(
        run.stdout.contains("Current repository changed to local"),
        "{}",
        run.stdout
    );

    // The official CLI reads what ours wrote.
    let (ok_, shown) = official(&config, &home, &["artifact", "repository", "show", "local"]).await;
    assert!(ok_, "{shown}");
    assert!(
        shown.contains("CURRENT REPOSITORY") && shown.contains(&svc.metadata_url()),
        "{shown}"
    );

    // Without headers the protected API refuses; with the profile's
    // headers (added to the file by hand, as a user would) it answers.
    let file = artifacts.put("profile/app-1.0.tar.gz", b"bytes from a profile");
    let add = [
        "artifact",
        "add",
        "--json",
        p(&file),
        "--path",
        "profile",
        "--wait",
    ];
    let run = rstuf_configured(&config, &add).await;
    assert_eq!(run.code, 3, "{}{}", run.stderr, run.stdout);
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replacen(
        "    server:",
        &format!("    headers:\n    - '{bearer}'\n    server:"),
        1,
    );
    std::fs::write(&config, text).unwrap();
    let run = rstuf_configured(&config, &add).await;
    assert_eq!(run.code, 0, "{}{}", run.stderr, run.stdout);
    let added: Value = serde_json::from_str(&run.stdout).unwrap();
    let task_id = added["task_id"].as_str().unwrap().to_string();
    let run = rstuf_configured(&config, &["task", "info", "-a", &task_id]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(all["data"]["state"], "SUCCESS", "{all}");
    assert!(all.get("message").is_some(), "the whole response: {all}");

    // artifact info and download from the current repository alone.
    let state = svc.work().join("tuf-state");
    let run = rstuf_configured(
        &config,
        &[
            "--json",
            "artifact",
            "info",
            "profile/app-1.0.tar.gz",
            "--state-dir",
            p(&state),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.stderr, run.stdout);
    let info: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(info["info"]["length"], 20, "{info}");
    let downloads = svc.work().join("profile-downloads");
    let run = rstuf_configured(
        &config,
        &[
            "artifact",
            "download",
            "profile/app-1.0.tar.gz",
            "--state-dir",
            p(&state),
            "-P",
            p(&downloads),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.stderr, run.stdout);
    assert_eq!(
        std::fs::read(downloads.join("app-1.0.tar.gz")).unwrap(),
        b"bytes from a profile"
    );

    // The official CLI adds a repository; ours lists and uses it.
    let (ok_, out) = official(
        &config,
        &home,
        &[
            "artifact",
            "repository",
            "add",
            "-n",
            "upstream-made",
            "-r",
            p(&root),
            "-m",
            &svc.metadata_url(),
            "-a",
            &artifacts.url(),
        ],
    )
    .await;
    assert!(ok_, "{out}");
    let run = rstuf_configured(&config, &["--json", "artifact", "repository", "show"]).await;
    let listed: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        listed["repositories"],
        json!(["local", "upstream-made"]),
        "{listed}"
    );
    assert_eq!(listed["current"], "local");
    let run = rstuf_configured(
        &config,
        &["artifact", "repository", "update", "upstream-made", "-p"],
    )
    .await;
    assert!(
        run.stdout
            .contains("Successfully updated repository upstream-made"),
        "{}",
        run.stdout
    );
    let run = rstuf_configured(
        &config,
        &["--json", "artifact", "repository", "show", "upstream-made"],
    )
    .await;
    let shown: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(shown["upstream-made"]["hash_prefix"], true, "{shown}");
    let run = rstuf_configured(
        &config,
        &["artifact", "repository", "delete", "upstream-made"],
    )
    .await;
    assert!(
        run.stdout
            .contains("Successfully deleted repository upstream-made"),
        "{}",
        run.stdout
    );
    let (ok_, out) = official(&config, &home, &["artifact", "repository", "show"]).await;
    assert!(
        ok_ && out.contains("local") && !out.contains("upstream-made"),
        "{out}"
    );

    // Mistakes are named.
    let run = rstuf_configured(&config, &["artifact", "repository", "set", "nope"]).await;
    failed(&run, 2, "Repository nope is missing in your configuration.");
    let run = rstuf_configured(
        &config,
        &[
            "artifact",
            "repository",
            "add",
            "-n",
            "x",
            "-r",
            p(&config),
            "-m",
            "http://m",
            "-a",
            "http://a",
        ],
    )
    .await;
    failed(&run, 2, "Error reading root file");
    let broken = home.join("broken.yml");
    std::fs::write(&broken, "REPOSITORIES: [\n").unwrap();
    let run = rstuf_configured(&broken, &["artifact", "repository", "show"]).await;
    failed(&run, 2, "is not valid YAML");
    svc.service.shutdown().await;
}

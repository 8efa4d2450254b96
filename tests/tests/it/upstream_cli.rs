//! The official RSTUF CLI (PyPI `repository-service-tuf`, command `rstuf`)
//! drives our embedded server end to end: it sends a DAS bootstrap payload,
//! a second key holder signs root interactively in a real pseudo terminal,
//! it adds an artifact and follows the task, and python-tuf then finds the
//! artifact in the published metadata. Its own interactive ceremony and
//! offline root update (answered in a real terminal) write payloads that
//! our server and our CLI accept.

use rstuf_tests::service::{artifact, python_script_async, start};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_cli_bootstraps_signs_adds_and_python_tuf_verifies() {
    let svc = start().await;
    // Root threshold 2, signed by root-1 only: a DAS bootstrap.
    let payload = svc.ceremony(&["--sign", "1", "--bins", "16"]);
    let payload_path = svc.work().join("ceremony-payload.json");
    std::fs::write(&payload_path, serde_json::to_vec_pretty(&payload).unwrap()).unwrap();
    let artifact = svc.work().join("hello-1.0.tar.gz");
    std::fs::write(&artifact, b"hello from the official CLI\n").unwrap();
    let root2 = svc.work().join("root2.pem");
    assert!(root2.exists(), "ceremony.py writes root2.pem");

    let report = python_script_async(
        "upstream_cli.py",
        &[
            &svc.base,
            payload_path.to_str().unwrap(),
            root2.to_str().unwrap(),
            artifact.to_str().unwrap(),
            "releases",
            svc.work().join("cli").to_str().unwrap(),
        ],
    )
    .await;
    let report: Value = serde_json::from_str(&report).unwrap();
    let outputs = &report["outputs"];
    assert!(
        outputs["bootstrap"].as_str().unwrap().contains("SUCCESS"),
        "{report}"
    );
    assert!(
        outputs["task_info"].as_str().unwrap().contains("SUCCESS"),
        "{report}"
    );

    // Root is fully signed now: the repository is bootstrapped and serves v1.
    let (_, status) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(status["data"]["bootstrap"], true, "{status}");
    let (_, pending) = svc.get("/api/v1/metadata/sign/").await;
    assert!(
        pending["data"]["metadata"].get("root").is_none(),
        "root is no longer pending: {pending}"
    );

    // The upstream CLI hashes with blake2b-256; the artifact is published.
    let done = svc.wait(report["task_id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "SUCCESS", "{done}");
    let path = report["artifact"].as_str().unwrap();
    assert_eq!(path, "releases/hello-1.0.tar.gz");
    let verified = svc.verify(&[path], &["releases/absent.tar.gz"], None).await;
    assert_eq!(verified["found"][path], 28, "{verified}");
}

/// The official CLI's interactive ceremony (tests/python/upstream_ceremony.py)
/// with two root keys, threshold 2, signed by `sign` of them; its report.
async fn official_ceremony(
    out: &std::path::Path,
    work: &std::path::Path,
    roots: [&std::path::Path; 2],
    online: &std::path::Path,
    sign: &str,
    bins: &str,
) -> Value {
    use rstuf_tests::cli::p;
    serde_json::from_str(
        &python_script_async(
            "upstream_ceremony.py",
            &[
                "ceremony",
                p(out),
                p(work),
                "--root-key",
                &format!("{}::root1", p(roots[0])),
                "--root-key",
                &format!("{}::root2", p(roots[1])),
                "--threshold",
                "2",
                "--sign",
                sign,
                "--online-pub",
                &format!("{}.pub", p(online)),
                "--bins",
                bins,
            ],
        )
        .await,
    )
    .unwrap()
}

/// The key vault finds `fn:<keyid>` under the key directory.
fn install_online_key(svc: &rstuf_tests::service::TestService, pem: &std::path::Path, uri: &str) {
    let name = uri.strip_prefix("fn:").expect("a file key URI");
    std::fs::copy(pem, svc.keys().join(name)).unwrap();
}

/// The official CLI's own interactive ceremony (answered in a real
/// terminal) writes the bootstrap payload, and its `send bootstrap` sends
/// it to our server; its offline `metadata update` (a new online key)
/// writes the update payload, and OUR `rstuf admin send update` sends it;
/// a DAS ceremony of the official CLI goes through OUR `send bootstrap`
/// and `metadata sign`. python-tuf follows every root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_ceremony_and_update_payloads_drive_our_server_and_cli() {
    use rstuf_tests::cli::{keygen, ok, p, rstuf};
    let svc = start().await;
    let (root1, root2, online1, online2) = (
        keygen(&svc, "root1").await,
        keygen(&svc, "root2").await,
        keygen(&svc, "online1").await,
        keygen(&svc, "online2").await,
    );
    let up = svc.work().join("upstream");
    let payload = svc.work().join("official-ceremony.json");
    let ceremony = official_ceremony(&payload, &up, [&root1, &root2], &online1, "2", "16").await;
    install_online_key(&svc, &online1, ceremony["online_uri"].as_str().unwrap());
    // The official CLI sends its own payload (it fails the script on error).
    python_script_async(
        "upstream_interop.py",
        &["bootstrap", &svc.base, p(&payload), p(&up)],
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, state) = svc.get("/api/v1/bootstrap/").await;
        if state["data"]["state"] == "finished" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{state}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("official/1.tgz", 1)] }),
    )
    .await;
    svc.verify(&["official/1.tgz"], &[], None).await;

    // Root v2 from the official offline update, sent by our CLI.
    let current = svc.trusted_root().await;
    let update = svc.work().join("official-update.json");
    let rotated: Value = serde_json::from_str(
        &python_script_async(
            "upstream_ceremony.py",
            &[
                "update",
                p(&current),
                p(&update),
                p(&up),
                "--sign-key",
                &format!("{}:root1", p(&root1)),
                "--sign-key",
                &format!("{}:root2", p(&root2)),
                "--new-online-pub",
                &format!("{}.pub", p(&online2)),
            ],
        )
        .await,
    )
    .unwrap();
    install_online_key(&svc, &online2, rotated["online_uri"].as_str().unwrap());
    let done = ok(&rstuf(&svc, &["--json", "admin", "send", "update", p(&update)]).await);
    assert_eq!(done["state"], "SUCCESS", "{done}");
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("official/2.tgz", 2)] }),
    )
    .await;
    let report = svc
        .verify(&["official/1.tgz", "official/2.tgz"], &[], None)
        .await;
    assert_eq!(report["root"], 2, "{report}");
    svc.service.shutdown().await;

    // An official DAS ceremony (one of two signatures) through our CLI.
    let svc = start().await;
    let das = svc.work().join("official-das.json");
    let up = svc.work().join("upstream");
    let ceremony = official_ceremony(&das, &up, [&root1, &root2], &online1, "1", "4").await;
    install_online_key(&svc, &online1, ceremony["online_uri"].as_str().unwrap());
    let sent = ok(&rstuf(&svc, &["--json", "admin", "send", "bootstrap", p(&das)]).await);
    assert_eq!(sent["state"], "SUCCESS", "{sent}");
    let (_, state) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(state["data"]["state"], "signing", "{state}");
    // The official CLI's key names are what the status shows.
    let status = rstuf_tests::cli::signing_status(&svc).await;
    assert_eq!(status[0]["kind"], "bootstrap", "{status:?}");
    assert_eq!(
        rstuf_tests::cli::signers(&status[0]["against"][0]),
        (
            "pending root".into(),
            2,
            vec!["root1".into()],
            vec!["root2".into()],
            1
        )
    );
    ok(&rstuf(
        &svc,
        &["--json", "admin", "metadata", "sign", "--key", p(&root2)],
    )
    .await);
    let (_, state) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(state["data"]["state"], "finished", "{state}");
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("das/1.tgz", 1)] }),
    )
    .await;
    svc.verify(&["das/1.tgz"], &[], None).await;
    svc.service.shutdown().await;
}

/// The official `rstuf admin import-artifacts` writes rows straight into
/// the upstream-compatible tables of our PostgreSQL database (SQLAlchemy,
/// as upstream) and asks our API to publish: python-tuf then finds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_import_artifacts_writes_our_tables_directly() {
    let db = rstuf_tests::cluster::ScratchDb::create("rstuf_import");
    let url = db.url();
    let svc = rstuf_tests::service::start_with(&[("RSTUF_DB_SERVER", url.as_str())]).await;
    let payload = svc.ceremony(&["--bins", "16"]);
    svc.run("/api/v1/bootstrap/", &payload).await;
    let csv = svc.work().join("export.csv");
    let lines: Vec<String> = (0..3000)
        .map(|i| format!("imported/{i}.whl;{};sha256;{:064x}", 1000 + i, i))
        .collect();
    std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
    // SQLAlchemy's own URL form for the psycopg2 driver.
    let sqlalchemy_url = url.replacen("postgresql://", "postgresql+psycopg2://", 1);
    python_script_async(
        "upstream_interop.py",
        &[
            "import",
            &svc.base,
            &sqlalchemy_url,
            csv.to_str().unwrap(),
            svc.work().join("up").to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(
        db.sql(
            "SELECT count(*) FROM rstuf_target_files WHERE published AND path LIKE 'imported/%'"
        ),
        "3000"
    );
    let report = svc
        .verify(
            &["imported/0.whl", "imported/1234.whl", "imported/2999.whl"],
            &[],
            None,
        )
        .await;
    assert_eq!(report["found"]["imported/2999.whl"], 3999, "{report}");
    svc.service.shutdown().await;
}

//! The official RSTUF CLI (PyPI `repository-service-tuf`, command `rstuf`)
//! drives our embedded server end to end: it sends a DAS bootstrap payload,
//! a second key holder signs root interactively in a real pseudo terminal,
//! it adds an artifact and follows the task, and python-tuf then finds the
//! artifact in the published metadata.

use rstuf_tests::service::{python_script_async, start};
use serde_json::Value;

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

//! The embedded service end to end: bootstrap with a ceremony payload, add
//! and remove artifacts, re-sign on expiry, DAS and root rotation, each
//! checked with python-tuf's ngclient against the published metadata.

use rstuf_tests::service::{artifact, start, TestService};
use serde_json::{json, Value};

async fn bootstrap(svc: &TestService, args: &[&str]) -> Value {
    let payload = svc.ceremony(args);
    svc.run("/api/v1/bootstrap/", &payload).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn succinct_bins_add_remove_and_resign_verify_with_python_tuf() {
    let svc = start().await;
    let (status, state) = svc.get("/api/v1/bootstrap").await;
    assert_eq!(status, 200);
    assert_eq!(state["message"], "System available for bootstrap.");

    let result = bootstrap(&svc, &["--bins", "16"]).await;
    assert!(result["details"]["bootstrap"].as_str().unwrap().starts_with("Bootstrap finished"), "{result}");
    let (_, state) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(state["data"]["state"], "finished");
    let (_, config) = svc.get("/api/v1/config").await;
    assert_eq!(config["data"]["number_of_delegated_bins"], 16);

    let paths = ["file1.tar.gz", "v1/file2.whl", "deep/nested/path/file3.zip"];
    let added = svc
        .run(
            "/api/v1/artifacts/",
            &json!({ "artifacts": paths.iter().enumerate().map(|(i, p)| artifact(p, i as u64 + 10)).collect::<Vec<_>>() }),
        )
        .await;
    assert_eq!(added["message"], "Artifact(s) Added");
    assert_eq!(added["details"]["added_artifacts"].as_array().unwrap().len(), 3);
    let report = svc.verify(&paths, &[], None).await;
    assert_eq!(report["found"]["v1/file2.whl"], 11);

    // Invalid paths are reported, not stored.
    let mixed = svc
        .run("/api/v1/artifacts", &json!({ "artifacts": [artifact("ok.txt", 1), artifact("../escape", 1), artifact("/abs", 1)] }))
        .await;
    assert_eq!(mixed["details"]["invalid_paths"], json!(["../escape", "/abs"]));

    let removed = svc
        .run("/api/v1/artifacts/delete", &json!({ "artifacts": ["file1.tar.gz", "never-added"] }))
        .await;
    assert_eq!(removed["details"]["deleted_artifacts"], json!(["file1.tar.gz"]));
    assert_eq!(removed["details"]["not_found_artifacts"], json!(["never-added"]));
    let before = svc.verify(&["v1/file2.whl", "ok.txt"], &["file1.tar.gz"], None).await;

    // A day later every online role (bins, targets near expiry or not,
    // snapshot, timestamp) would have expired; the periodic job re-signs.
    svc.clock.advance(chrono::Duration::hours(23) + chrono::Duration::minutes(30));
    let later = (chrono::Utc::now() + chrono::Duration::hours(30)).to_rfc3339();
    let bumped = rstuf_host::worker::bump(&svc.service.ctx).await.unwrap();
    let updated = bumped.details.unwrap()["updated_roles"].clone();
    assert!(updated.as_array().unwrap().len() >= 2 + 16, "{updated}");
    let after = svc.verify(&["v1/file2.whl", "ok.txt"], &["file1.tar.gz"], Some(&later)).await;
    assert!(after["timestamp"].as_i64() > before["timestamp"].as_i64());
    assert!(after["snapshot"].as_i64() > before["snapshot"].as_i64());
    svc.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_bins_and_custom_delegations_verify_with_python_tuf() {
    let svc = start().await;
    bootstrap(&svc, &["--layout", "classic", "--bins", "32"]).await;
    svc.run("/api/v1/artifacts/", &json!({ "artifacts": [artifact("a/b.tgz", 5), artifact("c.tgz", 6)] }))
        .await;
    let targets: Value = reqwest::get(format!("{}/1.targets.json", svc.metadata_url())).await.unwrap().json().await.unwrap();
    let roles = targets["signed"]["delegations"]["roles"].as_array().unwrap();
    assert_eq!(roles.len(), 32);
    assert!(roles[0]["path_hash_prefixes"].is_array());
    svc.verify(&["a/b.tgz", "c.tgz"], &[], None).await;
    svc.service.shutdown().await;

    let svc = start().await;
    bootstrap(&svc, &["--layout", "custom"]).await;
    let added = svc
        .run(
            "/api/v1/artifacts/",
            &json!({ "artifacts": [artifact("production/app.tgz", 1), artifact("dev.tgz", 2), artifact("x/y/z.tgz", 3)] }),
        )
        .await;
    assert_eq!(added["details"]["artifact_roles"], json!(["default", "production"]));
    assert_eq!(added["details"]["invalid_paths"], json!(["x/y/z.tgz"]));
    svc.verify(&["production/app.tgz", "dev.tgz"], &["x/y/z.tgz"], None).await;
    svc.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn das_bootstrap_then_root_rotation_with_a_new_online_key() {
    let svc = start().await;
    let pending = bootstrap(&svc, &["--sign", "1"]).await;
    assert_eq!(pending["details"]["bootstrap"], "Root v1 is pending signature");
    let (_, state) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(state["data"]["state"], "signing");
    // Writes wait for the bootstrap to finish.
    let (status, body) = svc.post("/api/v1/artifacts/", &json!({ "artifacts": [artifact("x", 1)] })).await;
    assert_eq!(status, 404);
    assert_eq!(body["detail"]["message"], "Task not accepted.");

    let (status, to_sign) = svc.get("/api/v1/metadata/sign/").await;
    assert_eq!(status, 200, "{to_sign}");
    assert_eq!(to_sign["message"], "Metadata role(s) pending signing");
    let response_file = svc.work().join("pending.json");
    std::fs::write(&response_file, to_sign.to_string()).unwrap();
    let key2 = svc.work().join("root2.pem");
    let sign_payload: Value = serde_json::from_str(
        &rstuf_tests::service::python_script_async("sign.py", &[response_file.to_str().unwrap(), key2.to_str().unwrap()]).await,
    )
    .unwrap();

    // A signature by a key that is not in root is refused.
    let mut forged = sign_payload.clone();
    forged["signature"]["keyid"] = json!("ab".repeat(32));
    let bad = svc.submit("/api/v1/metadata/sign/", &forged).await;
    let bad = svc.wait(&bad).await;
    assert_eq!(bad["state"], "ERRORED", "{bad}");

    let done = svc.run("/api/v1/metadata/sign", &sign_payload).await;
    assert_eq!(done["details"]["bootstrap"], "Bootstrap Finished");
    svc.run("/api/v1/artifacts/", &json!({ "artifacts": [artifact("before-rotation.txt", 1)] })).await;
    svc.verify(&["before-rotation.txt"], &[], None).await;

    // Root v2, both root keys, and a new online key.
    let current = svc.work().join("current-root.json");
    let bytes = reqwest::get(format!("{}/1.root.json", svc.metadata_url())).await.unwrap().bytes().await.unwrap();
    std::fs::write(&current, bytes).unwrap();

    // A version that skips is refused.
    let mut skip = svc.ceremony(&["--from-root", current.to_str().unwrap(), "--new-online-key"]);
    skip["metadata"]["root"]["signed"]["version"] = json!(3);
    let id = svc.submit("/api/v1/metadata/", &skip).await;
    let refused = svc.wait(&id).await;
    assert_eq!(refused["state"], "ERRORED");
    assert!(refused["result"]["error"].as_str().unwrap().contains("Failed to verify the trust"));

    let update = svc.ceremony(&["--from-root", current.to_str().unwrap(), "--new-online-key"]);
    let rotated = svc.run("/api/v1/metadata/", &update).await;
    assert_eq!(rotated["message"], "Metadata Update Processed");
    svc.run("/api/v1/artifacts/", &json!({ "artifacts": [artifact("after-rotation.txt", 2)] })).await;
    let report = svc.verify(&["before-rotation.txt", "after-rotation.txt"], &[], None).await;
    assert_eq!(report["root"], 2);
    svc.service.shutdown().await;
}

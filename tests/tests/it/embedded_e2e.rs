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

    let payload = svc.ceremony(&["--bins", "16"]);
    let result = svc.run("/api/v1/bootstrap/", &payload).await;
    assert!(
        result["details"]["bootstrap"]
            .as_str()
            .unwrap()
            .starts_with("Bootstrap finished"),
        "{result}"
    );
    let (_, state) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(state["data"]["state"], "finished");
    let (_, config) = svc.get("/api/v1/config").await;
    assert_eq!(config["data"]["number_of_delegated_bins"], 16);
    // Root is published exactly as the ceremony signed it: every field,
    // custom `x-` ones included, in keys and in `signed`.
    let (_, published_root) = svc.get("/metadata/1.root.json").await;
    assert_eq!(published_root, payload["metadata"]["root"]);
    assert!(
        published_root["signed"]["keys"]
            .as_object()
            .unwrap()
            .values()
            .any(|k| k.get("x-rstuf-key-name").is_some()),
        "custom key fields survive: {published_root}"
    );

    let paths = ["file1.tar.gz", "v1/file2.whl", "deep/nested/path/file3.zip"];
    let added = svc
        .run(
            "/api/v1/artifacts/",
            &json!({ "artifacts": paths.iter().enumerate().map(|(i, p)| artifact(p, i as u64 + 10)).collect::<Vec<_>>() }),
        )
        .await;
    assert_eq!(added["message"], "Artifact(s) Added");
    assert_eq!(
        added["details"]["added_artifacts"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let report = svc.verify(&paths, &[], None).await;
    assert_eq!(report["found"]["v1/file2.whl"], 11);

    // Invalid paths are reported, not stored.
    let mixed = svc
        .run("/api/v1/artifacts", &json!({ "artifacts": [artifact("ok.txt", 1), artifact("../escape", 1), artifact("/abs", 1)] }))
        .await;
    assert_eq!(
        mixed["details"]["invalid_paths"],
        json!(["../escape", "/abs"])
    );

    let removed = svc
        .run(
            "/api/v1/artifacts/delete",
            &json!({ "artifacts": ["file1.tar.gz", "never-added"] }),
        )
        .await;
    assert_eq!(
        removed["details"]["deleted_artifacts"],
        json!(["file1.tar.gz"])
    );
    assert_eq!(
        removed["details"]["not_found_artifacts"],
        json!(["never-added"])
    );
    let before = svc
        .verify(&["v1/file2.whl", "ok.txt"], &["file1.tar.gz"], None)
        .await;

    // A new expiry policy, then new versions of every online role on
    // demand: the timestamp now lasts a week, and python-tuf still
    // verifies everything.
    let settings = svc
        .run_put(
            "/api/v1/config/",
            &json!({ "settings": { "expiration": { "timestamp": 7, "nope": 1 } } }),
        )
        .await;
    assert_eq!(settings["message"], "Update Settings Succeded");
    assert_eq!(settings["details"]["updated_roles"], json!(["timestamp"]));
    assert_eq!(settings["details"]["invalid_roles"], json!(["nope"]));
    let (_, config) = svc.get("/api/v1/config/").await;
    assert_eq!(config["data"]["timestamp_expiration"], 7, "{config}");
    let forced = svc
        .run("/api/v1/metadata/online", &json!({ "roles": [] }))
        .await;
    assert_eq!(
        forced["message"],
        "Force new online metadata update succeeded"
    );
    let updated = forced["details"]["updated_roles"].as_array().unwrap();
    assert_eq!(
        updated.len(),
        3 + 16,
        "snapshot, timestamp, targets and 16 bins: {forced}"
    );
    let (_, ts) = svc.get("/metadata/timestamp.json").await;
    let expires =
        chrono::DateTime::parse_from_rfc3339(ts["signed"]["expires"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - svc.clock.now()).num_hours();
    assert!(
        (7 * 24 - 1..=7 * 24).contains(&days),
        "timestamp expires in {days} h"
    );
    let forced_once = svc
        .verify(&["v1/file2.whl", "ok.txt"], &["file1.tar.gz"], None)
        .await;
    assert!(forced_once["timestamp"].as_i64() > before["timestamp"].as_i64());
    let before = forced_once;
    let (status, resp) = svc
        .post(
            "/api/v1/metadata/online",
            &json!({ "roles": ["production"] }),
        )
        .await;
    assert_eq!(
        status, 404,
        "custom roles cannot be bumped on a bins repository: {resp}"
    );

    // A day later every online role (bins, targets near expiry or not,
    // snapshot, timestamp) would have expired; the periodic job re-signs.
    svc.clock
        .advance(chrono::Duration::hours(23) + chrono::Duration::minutes(30));
    let later = (chrono::Utc::now() + chrono::Duration::hours(30)).to_rfc3339();
    let bumped = rstuf_host::worker::bump(&svc.service.ctx).await.unwrap();
    let updated = bumped.details.unwrap()["updated_roles"].clone();
    assert!(updated.as_array().unwrap().len() >= 2 + 16, "{updated}");
    let after = svc
        .verify(&["v1/file2.whl", "ok.txt"], &["file1.tar.gz"], Some(&later))
        .await;
    assert!(after["timestamp"].as_i64() > before["timestamp"].as_i64());
    assert!(after["snapshot"].as_i64() > before["snapshot"].as_i64());

    // What all that cost shows in the metrics: plugin calls by operation,
    // tasks by state, publish latency.
    let metrics = svc.text("/metrics").await;
    for wanted in [
        "rstuf_plugin_call_duration_seconds_count{plugin=\"storage\",op=\"put_many\"}",
        "op=\"sign\"}",
        "rstuf_tasks{state=\"SUCCESS\"}",
        "rstuf_worker_tasks_running 0",
        "rstuf_publish_duration_seconds_count",
        "rstuf_http_request_duration_seconds_count{route=\"/api/v1/artifacts\",method=\"POST\",status=\"202\"}",
    ] {
        assert!(metrics.contains(wanted), "{wanted} not in /metrics:\n{metrics}");
    }
    svc.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_bins_and_custom_delegations_verify_with_python_tuf() {
    let svc = start().await;
    bootstrap(&svc, &["--layout", "classic", "--bins", "32"]).await;
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("a/b.tgz", 5), artifact("c.tgz", 6)] }),
    )
    .await;
    let targets: Value = reqwest::get(format!("{}/1.targets.json", svc.metadata_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let roles = targets["signed"]["delegations"]["roles"]
        .as_array()
        .unwrap();
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
    assert_eq!(
        added["details"]["artifact_roles"],
        json!(["default", "production"])
    );
    assert_eq!(added["details"]["invalid_paths"], json!(["x/y/z.tgz"]));
    svc.verify(&["production/app.tgz", "dev.tgz"], &["x/y/z.tgz"], None)
        .await;
    svc.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn das_bootstrap_then_root_rotation_with_a_new_online_key() {
    let svc = start().await;
    let pending = bootstrap(&svc, &["--sign", "1"]).await;
    assert_eq!(
        pending["details"]["bootstrap"],
        "Root v1 is pending signature"
    );
    let (_, state) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(state["data"]["state"], "signing");
    // Writes wait for the bootstrap to finish.
    let (status, body) = svc
        .post(
            "/api/v1/artifacts/",
            &json!({ "artifacts": [artifact("x", 1)] }),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["detail"]["message"], "Task not accepted.");

    let (status, to_sign) = svc.get("/api/v1/metadata/sign/").await;
    assert_eq!(status, 200, "{to_sign}");
    assert_eq!(to_sign["message"], "Metadata role(s) pending signing");
    let response_file = svc.work().join("pending.json");
    std::fs::write(&response_file, to_sign.to_string()).unwrap();
    let key2 = svc.work().join("root2.pem");
    let sign_payload: Value = serde_json::from_str(
        &rstuf_tests::service::python_script_async(
            "sign.py",
            &[response_file.to_str().unwrap(), key2.to_str().unwrap()],
        )
        .await,
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
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("before-rotation.txt", 1)] }),
    )
    .await;
    svc.verify(&["before-rotation.txt"], &[], None).await;

    // Root v2, both root keys, and a new online key.
    let current = svc.work().join("current-root.json");
    let bytes = reqwest::get(format!("{}/1.root.json", svc.metadata_url()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::write(&current, bytes).unwrap();

    // A version that skips is refused.
    let mut skip = svc.ceremony(&["--from-root", current.to_str().unwrap(), "--new-online-key"]);
    skip["metadata"]["root"]["signed"]["version"] = json!(3);
    let id = svc.submit("/api/v1/metadata/", &skip).await;
    let refused = svc.wait(&id).await;
    assert_eq!(refused["state"], "ERRORED");
    assert!(refused["result"]["error"]
        .as_str()
        .unwrap()
        .contains("Failed to verify the trust"));

    let update = svc.ceremony(&["--from-root", current.to_str().unwrap(), "--new-online-key"]);
    // Fully signed, plus one signature that must not be there: by a key of
    // neither root, or one that does not verify. Both are refused whole.
    let mut stranger = update.clone();
    let good_sig = stranger["metadata"]["root"]["signatures"][0]["sig"].clone();
    stranger["metadata"]["root"]["signatures"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "keyid": "cd".repeat(32), "sig": good_sig }));
    let mut corrupt = update.clone();
    let sig = corrupt["metadata"]["root"]["signatures"][1]["sig"]
        .as_str()
        .unwrap()
        .to_string();
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    corrupt["metadata"]["root"]["signatures"][1]["sig"] = json!(format!("{flipped}{}", &sig[1..]));
    for (payload, expected) in [(&stranger, "of neither"), (&corrupt, "do not verify")] {
        let id = svc.submit("/api/v1/metadata/", payload).await;
        let refused = svc.wait(&id).await;
        assert_eq!(refused["state"], "ERRORED", "{refused}");
        let error = refused["result"]["error"].as_str().unwrap();
        assert!(error.contains(expected), "{error}");
    }
    let (_, pending) = svc.get("/api/v1/metadata/sign/").await;
    assert!(pending.get("data").is_none(), "nothing pending: {pending}");
    let rotated = svc.run("/api/v1/metadata/", &update).await;
    assert_eq!(rotated["message"], "Metadata Update Processed");
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("after-rotation.txt", 2)] }),
    )
    .await;
    let report = svc
        .verify(&["before-rotation.txt", "after-rotation.txt"], &[], None)
        .await;
    assert_eq!(report["root"], 2);
    svc.service.shutdown().await;
}

/// A TUF key from tests/python/keygen.py: (keyid, key); the private key
/// is written to `pem`.
async fn keygen(pem: &std::path::Path, name: &str) -> (String, Value) {
    let out =
        rstuf_tests::service::python_script_async("keygen.py", &[pem.to_str().unwrap(), name])
            .await;
    let v: Value = serde_json::from_str(&out).unwrap();
    (v["keyid"].as_str().unwrap().to_string(), v["key"].clone())
}

async fn snapshot_version(svc: &TestService) -> i64 {
    let ts: Value = reqwest::get(format!("{}/timestamp.json", svc.metadata_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ts["signed"]["meta"]["snapshot.json"]["version"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_delegations_added_signed_offline_updated_and_deleted() {
    let svc = start().await;
    bootstrap(&svc, &["--layout", "custom"]).await;
    // The ceremony's catch-all role would win for every path (first match
    // wins and new roles are appended): delete it first.
    let deleted = svc
        .run(
            "/api/v1/delegations/delete",
            &json!({ "delegations": { "roles": [{ "name": "default" }, { "name": "missing" }] } }),
        )
        .await;
    assert_eq!(deleted["details"]["delegated_roles"], json!(["default"]));
    assert_eq!(deleted["details"]["failed_roles"][0]["role"], "missing");
    let pem = svc.work().join("release.pem");
    let (keyid, key) = keygen(&pem, "release-team").await;

    // One online role and one held by an offline key; one name that clashes.
    let added = svc
        .run(
            "/api/v1/delegations/",
            &json!({ "delegations": {
                "keys": { keyid.clone(): key },
                "roles": [
                    { "name": "nightly", "terminating": true, "keyids": [], "threshold": 1,
                      "paths": ["nightly/*"], "x-rstuf-expire-policy": 2 },
                    { "name": "release", "terminating": true, "keyids": [keyid], "threshold": 1,
                      "paths": ["release/*"], "x-rstuf-expire-policy": 30 },
                    { "name": "production", "terminating": true, "keyids": [], "threshold": 1,
                      "paths": ["other/*"], "x-rstuf-expire-policy": 3 }
                ]
            }}),
        )
        .await;
    assert_eq!(
        added["details"]["delegated_roles"],
        json!(["nightly", "release"]),
        "{added}"
    );
    assert_eq!(
        added["details"]["failed_roles"][0]["role"], "production",
        "{added}"
    );

    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("nightly/app.tgz", 7), artifact("release/app-1.0.tgz", 8)] }),
    )
    .await;
    // The online role is published at once; the offline one waits.
    svc.verify(&["nightly/app.tgz"], &[], None).await;
    let (status, to_sign) = svc.get("/api/v1/metadata/sign").await;
    assert_eq!(status, 200, "{to_sign}");
    let draft = &to_sign["data"]["metadata"]["release"];
    assert_eq!(draft["signed"]["version"], 1, "{to_sign}");
    assert!(draft["signed"]["targets"]["release/app-1.0.tgz"].is_object());
    let response_file = svc.work().join("pending-release.json");
    std::fs::write(&response_file, to_sign.to_string()).unwrap();

    // A signature from a key the role does not trust is refused and
    // changes nothing published.
    let before = snapshot_version(&svc).await;
    let stranger = svc.work().join("stranger.pem");
    keygen(&stranger, "stranger").await;
    let mut forged: Value = serde_json::from_str(
        &rstuf_tests::service::python_script_async(
            "sign.py",
            &[
                response_file.to_str().unwrap(),
                pem.to_str().unwrap(),
                "release",
            ],
        )
        .await,
    )
    .unwrap();
    let good = forged.clone();
    forged["signature"]["sig"] = json!("00".repeat(64));
    let id = svc.submit("/api/v1/metadata/sign", &forged).await;
    let refused = svc.wait(&id).await;
    assert_eq!(refused["state"], "ERRORED", "{refused}");
    assert_eq!(refused["result"]["error"], "Invalid signature");
    assert_eq!(snapshot_version(&svc).await, before);

    let signed = svc.run("/api/v1/metadata/sign", &good).await;
    assert_eq!(
        signed["details"]["update"], "Role release signing complete",
        "{signed}"
    );
    svc.verify(&["nightly/app.tgz", "release/app-1.0.tgz"], &[], None)
        .await;
    let (_, none_left) = svc.get("/api/v1/metadata/sign").await;
    assert!(
        none_left["data"].is_null() || none_left["data"]["metadata"].get("release").is_none(),
        "{none_left}"
    );

    // A second release waits for its holders; they abandon this signing
    // event: the draft is gone, clients still see release v1 only.
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("release/app-2.0.tgz", 10)] }),
    )
    .await;
    let (_, to_sign) = svc.get("/api/v1/metadata/sign").await;
    assert_eq!(
        to_sign["data"]["metadata"]["release"]["signed"]["version"], 2,
        "{to_sign}"
    );
    let stopped = svc
        .run(
            "/api/v1/metadata/sign/delete",
            &json!({ "role": "release" }),
        )
        .await;
    assert_eq!(stopped["task"], "delete_sign_metadata", "{stopped}");
    let (_, none_left) = svc.get("/api/v1/metadata/sign").await;
    assert!(
        none_left["data"].is_null() || none_left["data"]["metadata"].get("release").is_none(),
        "{none_left}"
    );
    let (status, resp) = svc
        .post(
            "/api/v1/metadata/sign/delete",
            &json!({ "role": "release" }),
        )
        .await;
    assert_eq!(status, 404, "nothing left to stop: {resp}");
    svc.verify(&["release/app-1.0.tgz"], &["release/app-2.0.tgz"], None)
        .await;

    // Update: nightly now also covers snapshots/*.
    // PUT is the update verb; POST with an existing name fails.
    let id = svc
        .submit(
            "/api/v1/delegations",
            &json!({ "delegations": { "keys": {}, "roles": [
                { "name": "nightly", "terminating": true, "keyids": [], "threshold": 1,
                  "paths": ["nightly/*", "snapshots/*"], "x-rstuf-expire-policy": 2 }
            ]}}),
        )
        .await;
    let updated = svc.wait(&id).await;
    assert_eq!(updated["state"], "ERRORED", "{updated}");
    let updated = &updated["result"];
    assert_eq!(
        updated["details"]["failed_roles"][0]["role"], "nightly",
        "{updated}"
    );
    let r = svc
        .http
        .put(format!("{}/api/v1/delegations/", svc.base))
        .json(&json!({ "delegations": { "keys": {}, "roles": [
            { "name": "nightly", "terminating": true, "keyids": [], "threshold": 1,
              "paths": ["nightly/*", "snapshots/*"], "x-rstuf-expire-policy": 2 }
        ]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let body: Value = r.json().await.unwrap();
    let done = svc.wait(body["data"]["task_id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "SUCCESS", "{done}");
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("snapshots/s.tgz", 9)] }),
    )
    .await;
    svc.verify(
        &["nightly/app.tgz", "snapshots/s.tgz", "release/app-1.0.tgz"],
        &[],
        None,
    )
    .await;

    // Delete: the role's artifacts are no longer reachable, the rest is.
    let deleted = svc
        .run(
            "/api/v1/delegations/delete",
            &json!({ "delegations": { "roles": [{ "name": "nightly" }] } }),
        )
        .await;
    assert_eq!(deleted["details"]["delegated_roles"], json!(["nightly"]));
    svc.verify(
        &["release/app-1.0.tgz"],
        &["nightly/app.tgz", "snapshots/s.tgz"],
        None,
    )
    .await;
    // A deleted name can never be used again.
    let again = svc
        .submit(
            "/api/v1/delegations/",
            &json!({ "delegations": { "keys": {}, "roles": [
                { "name": "nightly", "terminating": true, "keyids": [], "threshold": 1, "paths": ["n/*"], "x-rstuf-expire-policy": 2 }
            ]}}),
        )
        .await;
    let again = svc.wait(&again).await;
    assert_eq!(again["state"], "ERRORED", "{again}");
    assert_eq!(
        again["result"]["details"]["failed_roles"][0]["reason"][0],
        "role already exists or name used in the past"
    );
    svc.service.shutdown().await;
}

/// A key vault that signs with the wrong key (here: the online key's file
/// replaced by another key) never gets its signatures published: the task
/// says which plugin and key, and clients keep the last good repository.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_that_do_not_verify_are_never_published() {
    let svc = start().await;
    bootstrap(&svc, &["--bins", "4"]).await;
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("good.tgz", 1)] }),
    )
    .await;
    let (_, before) = svc.get("/metadata/timestamp.json").await;
    let key_file = std::fs::read_dir(svc.keys())
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .expect("the online key file");
    keygen(&svc.work().join("other.pem"), "other").await;
    std::fs::copy(svc.work().join("other.pem"), &key_file).unwrap();
    let svc = svc.restart().await;
    let id = svc
        .submit(
            "/api/v1/artifacts/",
            &json!({ "artifacts": [artifact("bad.tgz", 2)] }),
        )
        .await;
    let done = svc.wait(&id).await;
    assert_eq!(done["state"], "ERRORED", "{done}");
    let error = done["result"]["error"].as_str().unwrap();
    assert!(
        error.contains("does not verify with the online key"),
        "{error}"
    );
    let (_, after) = svc.get("/metadata/timestamp.json").await;
    assert_eq!(before, after, "nothing was published");
    svc.verify(&["good.tgz"], &["bad.tgz"], None).await;
    svc.service.shutdown().await;
}

/// Task results are kept for `RSTUF_TASK_RESULT_TTL` seconds, then
/// dropped by the periodic job (as upstream's Celery results expire): the
/// task then reads as PENDING, like any unknown id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_results_expire_after_their_retention_time() {
    let svc = rstuf_tests::service::start_with(&[
        ("RSTUF_TASK_RESULT_TTL", "1"),
        ("RSTUF_BUMP_ONLINE_ROLES_INTERVAL", "1"),
    ])
    .await;
    let id = svc.submit("/api/v1/artifacts/publish/", &json!({})).await;
    assert_eq!(svc.wait(&id).await["state"], "SUCCESS");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, task) = svc.get(&format!("/api/v1/task/?task_id={id}")).await;
        if task["data"]["state"] == "PENDING" {
            assert!(task["data"].get("result").is_none(), "{task}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still kept: {task}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    svc.service.shutdown().await;
}

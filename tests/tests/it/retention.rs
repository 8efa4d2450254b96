//! Metadata retention against the real storage plugins: storage-fs, and
//! storage-s3 on SeaweedFS. With 3 snapshot generations kept and no grace
//! period, 200 publishes leave a bounded number of files (never a root
//! version removed), and a python-tuf client holding metadata cached
//! before the clean-up still refreshes and finds its artifacts, as does a
//! new client starting from root v1.

use rstuf_host::config::PluginEntry;
use rstuf_plugins::Grants;
use rstuf_tests::servers::SeaweedFs;
use rstuf_tests::service::{artifact, start_configured, TestService};
use serde_json::json;
use std::time::{Duration, Instant};

const ENV: [(&str, &str); 3] = [
    ("RSTUF_RETENTION_KEEP_SNAPSHOTS", "3"),
    ("RSTUF_RETENTION_GRACE_SECS", "0"),
    ("RSTUF_BUMP_ONLINE_ROLES_INTERVAL", "1"),
];

/// Every object in the service's storage, through its plugin.
async fn stored(svc: &TestService) -> Vec<String> {
    let storage = &svc.service.ctx.backends.storage;
    let mut names: Vec<String> = storage
        .list_objects("")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    names.sort();
    names
}

async fn two_hundred_publishes_stay_bounded(svc: &TestService) {
    let payload = svc.ceremony(&["--bins", "4"]);
    svc.run("/api/v1/bootstrap/", &payload).await;
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("keep/first.tgz", 5)] }),
    )
    .await;
    let cache = svc.work().join("client-cache");
    let before = svc.verify_cached(&["keep/first.tgz"], &cache).await;

    for i in 0..200 {
        svc.run(
            "/api/v1/artifacts/",
            &json!({ "artifacts": [artifact(&format!("churn/{i}.tgz"), i + 1)] }),
        )
        .await;
    }
    // Each publish writes a snapshot and a bin (400 files without
    // retention); the sweeps keep 3 generations: 3 snapshots, at most 4
    // versions of each of 5 roles, root and timestamp.
    let deadline = Instant::now() + Duration::from_secs(60);
    let files = loop {
        let files = stored(svc).await;
        let snapshots = files
            .iter()
            .filter(|f| f.ends_with(".snapshot.json"))
            .count();
        if files.len() <= 25 && snapshots <= 3 {
            break files;
        }
        assert!(
            Instant::now() < deadline,
            "{} files remain: {files:?}",
            files.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(files.contains(&"1.root.json".to_string()), "{files:?}");
    assert!(files.contains(&"timestamp.json".to_string()), "{files:?}");
    let snapshots = files
        .iter()
        .filter(|f| f.ends_with(".snapshot.json"))
        .count();
    assert!((1..=3).contains(&snapshots), "{files:?}");

    let after = svc
        .verify_cached(&["keep/first.tgz", "churn/0.tgz", "churn/199.tgz"], &cache)
        .await;
    assert!(
        after["snapshot"].as_i64() > before["snapshot"].as_i64(),
        "the cached client moved on: {before} → {after}"
    );
    svc.verify(&["keep/first.tgz", "churn/199.tgz"], &[], None)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_on_storage_fs_keeps_files_bounded_and_clients_working() {
    let svc = start_configured(&ENV, |_| {}).await;
    two_hundred_publishes_stay_bounded(&svc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_on_storage_s3_keeps_files_bounded_and_clients_working() {
    let s3 = SeaweedFs::start().await;
    s3.create_bucket("retention").await;
    let storage = PluginEntry {
        name: "storage".into(),
        file: "storage-s3.wasm".into(),
        config: json!({
            "endpoint": s3.endpoint(), "bucket": "retention", "region": "us-east-1",
            "access_key_id": s3.access_key, "secret_access_key": s3.secret_key,
            "path_style": true, "prefix": "metadata",
        }),
        grants: Grants {
            http_hosts: vec![s3.authority()],
            ..Grants::default()
        },
    };
    let svc = start_configured(&ENV, |c| c.plugins.storage = storage).await;
    two_hundred_publishes_stay_bounded(&svc).await;
    assert!(s3
        .object("retention", "metadata/1.root.json")
        .await
        .is_some());
}

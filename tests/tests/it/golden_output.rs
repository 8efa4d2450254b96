//! Published bytes are reproducible: a fixed bootstrap payload, fixed
//! artifacts, a fixed online key (ed25519 signatures are deterministic) and
//! a pinned worker clock must publish exactly the files whose SHA-256
//! digests are checked in beside the payload. This guards refactors of the
//! metadata model and the publisher: a change that alters one published
//! byte fails here, and is either a bug or a deliberate format change (then
//! bless the new digests with `RSTUF_GOLDEN_BLESS=1` and say why in the
//! commit).

use chrono::TimeZone;
use rstuf_host::worker::clock::Clock;
use rstuf_tests::service::{artifact, start_clocked};
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::Path;

fn fixture(layout: &str) -> std::path::PathBuf {
    rstuf_tests::workspace_root()
        .join("tests/fixtures/golden")
        .join(layout)
}

/// `name → sha256` of every file in `dir`.
fn digests(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                hex::encode(sha2::Sha256::digest(&bytes)),
            )
        })
        .collect()
}

/// What runs after the artifacts: nothing, or custom delegation changes.
type After = for<'a> fn(
    &'a rstuf_tests::service::TestService,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

async fn publish_fixed_repository(
    layout: &str,
    paths: &[&str],
    removed: &[&str],
    after: Option<After>,
) {
    let at = chrono::Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap();
    let svc = start_clocked(&[], |_| {}, Clock::pinned(at)).await;
    let dir = fixture(layout);
    for key in std::fs::read_dir(dir.join("keys")).unwrap() {
        let key = key.unwrap();
        std::fs::copy(key.path(), svc.keys().join(key.file_name())).unwrap();
    }
    let payload: Value =
        serde_json::from_slice(&std::fs::read(dir.join("bootstrap.json")).unwrap()).unwrap();
    svc.run("/api/v1/bootstrap/", &payload).await;
    let artifacts: Vec<Value> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| artifact(p, 100 + i as u64))
        .collect();
    svc.run("/api/v1/artifacts/", &json!({ "artifacts": artifacts }))
        .await;
    svc.run("/api/v1/artifacts/delete", &json!({ "artifacts": removed }))
        .await;
    if let Some(after) = after {
        after(&svc).await;
    }

    let got = digests(&svc.metadata_dir());
    let expected_file = dir.join("digests.json");
    if std::env::var_os("RSTUF_GOLDEN_BLESS").is_some() {
        std::fs::write(
            &expected_file,
            serde_json::to_string_pretty(&got).unwrap() + "\n",
        )
        .unwrap();
        return;
    }
    let expected: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(&expected_file).unwrap()).unwrap();
    let differing: Vec<&String> = expected
        .keys()
        .chain(got.keys())
        .filter(|name| expected.get(*name) != got.get(*name))
        .collect();
    assert!(
        differing.is_empty(),
        "{layout}: published files differ from {}: {differing:?}",
        expected_file.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn succinct_bins_publish_the_checked_in_bytes() {
    publish_fixed_repository(
        "succinct",
        &[
            "a.tar.gz",
            "pkg/b-1.0.whl",
            "pkg/c-2.0.whl",
            "deep/x/y/z.zip",
        ],
        &["pkg/c-2.0.whl"],
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_delegations_publish_the_checked_in_bytes() {
    publish_fixed_repository(
        "custom",
        &[
            "production/app-1.0.tar.gz",
            "production/app-1.1.tar.gz",
            "dev/tool.zip",
        ],
        &["production/app-1.0.tar.gz"],
        Some(|svc| Box::pin(change_delegations(svc))),
    )
    .await;
}

/// Add an online and an offline role, change one, delete one: the
/// `metadata_delegation` task's targets, snapshot and timestamp bytes.
async fn change_delegations(svc: &rstuf_tests::service::TestService) {
    // root-1's key from bootstrap.json, delegated to as an offline key.
    let keyid = "6e1fd7fc14b77800c3b29c60f929cca689096fca75506d32a4a49e537ad264ed";
    let key = json!({
        "keytype": "ed25519",
        "scheme": "ed25519",
        "keyval": { "public": "91e451e0120dd1163f3f72d37c2b0be00e793839690067213d8bd11bdb9cc375" },
        "x-rstuf-key-name": "team"
    });
    svc.run(
        "/api/v1/delegations/",
        &json!({ "delegations": { "keys": { keyid: key }, "roles": [
            { "name": "nightly", "terminating": false, "keyids": [], "threshold": 1,
              "paths": ["nightly/*"], "x-rstuf-expire-policy": 3 },
            { "name": "team", "terminating": true, "keyids": [keyid], "threshold": 1,
              "path_hash_prefixes": ["0a", "ff"], "x-rstuf-expire-policy": 30 }
        ] } }),
    )
    .await;
    svc.run_put(
        "/api/v1/delegations/",
        &json!({ "delegations": { "keys": {}, "roles": [
            { "name": "production", "terminating": true, "keyids": [], "threshold": 1,
              "paths": ["production/*", "prod/*"], "x-rstuf-expire-policy": 14 }
        ] } }),
    )
    .await;
    svc.run(
        "/api/v1/delegations/delete",
        &json!({ "delegations": { "roles": [{ "name": "nightly" }] } }),
    )
    .await;
}

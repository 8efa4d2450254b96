//! The whole service on operator backends: the same host, switched only by
//! configuration to the storage-s3 plugin (SeaweedFS) and the
//! keyvault-vault plugin (OpenBao transit, `hv:` online key). Bootstrap,
//! add, remove and publish, then python-tuf verifies what the API serves
//! from S3. Then S3 goes away mid-work: the task reports a clear error,
//! clients still see the last complete repository, and the pending work is
//! published once S3 is back. And S3 stopped in the middle of writing a
//! publish pass, then Vault stopped while a pass needs signatures: the
//! task retries on its own, clients never see a half-written repository,
//! no file is rewritten, and the work completes when each server returns.

use base64::Engine;
use rstuf_host::config::PluginEntry;
use rstuf_plugins::Grants;
use rstuf_tests::servers::{OpenBao, SeaweedFs};
use rstuf_tests::service::{artifact, start_configured, TestService};
use serde_json::{json, Value};

const BUCKET: &str = "tuf-metadata";

async fn vault_ed25519_public(bao: &OpenBao, name: &str) -> String {
    let key = bao.api("GET", &format!("transit/keys/{name}"), None).await;
    let b64 = key["data"]["keys"]["1"]["public_key"].as_str().unwrap();
    hex::encode(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
}

fn entry(name: &str, file: &str, config: Value, host: String) -> PluginEntry {
    PluginEntry {
        name: name.into(),
        file: file.into(),
        config,
        grants: Grants {
            http_hosts: vec![host],
            ..Grants::default()
        },
    }
}

/// The service on storage-s3 (bucket `BUCKET`, prefix `metadata`) and
/// keyvault-vault, each granted only its server's host and retrying a
/// failed call `retries` times, bootstrapped with `bins` hash bins and the
/// transit key `rstuf-online` (hex `public`) as online key; a failed task
/// runs `attempts` times, the first retry after `retry_ms` (doubling after
/// that). With the bootstrap payload.
async fn s3_vault_service(
    s3: &SeaweedFs,
    bao: &OpenBao,
    public: &str,
    bins: u32,
    retries: u32,
    (attempts, retry_ms): (u32, u64),
) -> (TestService, Value) {
    let storage = entry(
        "storage",
        "storage-s3.wasm",
        json!({
            "endpoint": s3.endpoint(), "bucket": BUCKET, "region": "us-east-1",
            "access_key_id": s3.access_key, "secret_access_key": s3.secret_key,
            "path_style": true, "prefix": "metadata", "max_retries": retries,
        }),
        s3.authority(),
    );
    let vault = entry(
        "online-keys",
        "keyvault-vault.wasm",
        json!({ "address": bao.address(), "token": bao.root_token, "max_retries": retries }),
        bao.authority(),
    );
    let svc = start_configured(&[], |c| {
        c.plugins.storage = storage;
        c.plugins.keyvaults = vec![vault];
        c.queue.max_attempts = attempts;
        c.queue.retry_delay_ms = retry_ms;
    })
    .await;
    let payload = svc.ceremony(&[
        "--bins",
        &bins.to_string(),
        "--online-vault-key",
        &format!("rstuf-online:{public}"),
    ]);
    svc.run("/api/v1/bootstrap/", &payload).await;
    (svc, payload)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_and_vault_backends_publish_a_verifiable_repository() {
    let mut s3 = SeaweedFs::start().await;
    s3.create_bucket(BUCKET).await;
    let bao = OpenBao::start_dev().await;
    bao.enable_transit().await;
    bao.create_key("rstuf-online", "ed25519").await;
    let public = vault_ed25519_public(&bao, "rstuf-online").await;

    // A task that cannot publish fails after a second, quick attempt.
    let (svc, payload) = s3_vault_service(&s3, &bao, &public, 8, 1, (2, 100)).await;
    let adds: Vec<Value> = (0..6)
        .map(|i| artifact(&format!("pkg/{i}.tar.gz"), 100 + i))
        .collect();
    svc.run("/api/v1/artifacts/", &json!({ "artifacts": adds }))
        .await;
    svc.run(
        "/api/v1/artifacts/delete",
        &json!({ "artifacts": ["pkg/5.tar.gz"] }),
    )
    .await;

    // Everything lives in the bucket; nothing went to the local directory.
    assert!(s3.object(BUCKET, "metadata/timestamp.json").await.is_some());
    assert!(s3.object(BUCKET, "metadata/1.root.json").await.is_some());
    let local = svc.dir.path().join("data/metadata");
    assert!(
        !local.exists() || std::fs::read_dir(&local).unwrap().next().is_none(),
        "the local storage plugin was not used"
    );
    // The online key signs in OpenBao: timestamp carries its signature.
    let ts: Value =
        serde_json::from_slice(&s3.object(BUCKET, "metadata/timestamp.json").await.unwrap())
            .unwrap();
    let online_keyid = payload["metadata"]["root"]["signed"]["roles"]["timestamp"]["keyids"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(ts["signatures"][0]["keyid"], online_keyid.as_str());

    let present: Vec<String> = (0..5).map(|i| format!("pkg/{i}.tar.gz")).collect();
    let refs: Vec<&str> = present.iter().map(String::as_str).collect();
    svc.verify(&refs, &["pkg/5.tar.gz"], None).await;

    // S3 goes away: the add is recorded but cannot be published.
    let before = s3.object(BUCKET, "metadata/timestamp.json").await.unwrap();
    s3.stop();
    let id = svc
        .submit(
            "/api/v1/artifacts/",
            &json!({ "artifacts": [artifact("pkg/late.tar.gz", 7)] }),
        )
        .await;
    let done = svc.wait(&id).await;
    assert_ne!(done["state"], "SUCCESS", "{done}");
    let text = done.to_string();
    assert!(
        text.contains("unavailable") || text.contains("storage"),
        "the task says what failed: {done}"
    );
    assert!(
        !text.contains(&s3.secret_key) && !text.contains(&bao.root_token),
        "no secrets in task results: {done}"
    );

    // Back again: the last complete repository is intact, and the pending
    // artifact is published by the next pass.
    s3.restart().await;
    assert_eq!(
        s3.object(BUCKET, "metadata/timestamp.json").await.unwrap(),
        before
    );
    svc.run("/api/v1/artifacts/publish/", &json!({})).await;
    let mut present = refs.clone();
    present.push("pkg/late.tar.gz");
    svc.verify(&present, &["pkg/5.tar.gz"], None).await;
}

/// The snapshot `timestamp.json` in the bucket points to.
async fn current_snapshot(s3: &SeaweedFs) -> Value {
    let ts: Value =
        serde_json::from_slice(&s3.object(BUCKET, "metadata/timestamp.json").await.unwrap())
            .unwrap();
    let v = ts["signed"]["meta"]["snapshot.json"]["version"]
        .as_i64()
        .unwrap();
    serde_json::from_slice(
        &s3.object(BUCKET, &format!("metadata/{v}.snapshot.json"))
            .await
            .unwrap(),
    )
    .unwrap()
}

async fn metric(svc: &TestService, series: &str) -> f64 {
    let text = svc.text("/metrics").await;
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .map(|v| v.trim().parse::<f64>().unwrap_or(0.0))
        })
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_and_vault_stopped_mid_publish_the_work_completes_when_they_return() {
    let mut s3 = SeaweedFs::start().await;
    s3.create_bucket(BUCKET).await;
    let mut bao = OpenBao::start_persistent().await;
    bao.enable_transit().await;
    bao.create_key("rstuf-online", "ed25519").await;
    let public = vault_ed25519_public(&bao, "rstuf-online").await;
    // Retried every few hundred milliseconds, for over a minute: the task
    // runs again soon after a server is back, and outlasts its restart.
    let (svc, _) = s3_vault_service(&s3, &bao, &public, 256, 0, (12, 200)).await;

    // One add touching every bin; S3 stops as soon as the first new bin
    // files appear, while the pass is still writing. Whether the stop lands
    // before the pass ends is a race (a pass writes for a fraction of a
    // second): up to three waves, until one is interrupted.
    let bins = rstuf_tuf::bins::Bins::from_number_of_bins(256).unwrap();
    let failures = || async {
        metric(
            &svc,
            "rstuf_plugin_errors_total{plugin=\"storage\",op=\"put_many\"}",
        )
        .await
            + metric(
                &svc,
                "rstuf_plugin_errors_total{plugin=\"storage\",op=\"put\"}",
            )
            .await
    };
    let mut published: Vec<String> = Vec::new();
    let mut interrupted = None;
    for attempt in 0..3 {
        let wave: Vec<String> = (0..2000)
            .map(|i| format!("wave{attempt}/{i}.tgz"))
            .collect();
        let before = s3.object(BUCKET, "metadata/timestamp.json").await.unwrap();
        let snapshot = current_snapshot(&s3).await;
        let watched: Vec<String> = wave[..4]
            .iter()
            .map(|p| {
                let role = bins.role_for(p);
                let v = snapshot["signed"]["meta"][format!("{role}.json")]["version"]
                    .as_i64()
                    .unwrap();
                format!("metadata/{}.{role}.json", v + 1)
            })
            .collect();
        let failed_before = failures().await;
        let id = svc
            .submit(
                "/api/v1/artifacts/",
                &json!({ "artifacts": wave.iter().enumerate().map(|(i, p)| artifact(p, i as u64 + 1)).collect::<Vec<_>>() }),
            )
            .await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let written = 'watch: loop {
            for name in &watched {
                if let Some(bytes) = s3.object(BUCKET, name).await {
                    s3.stop();
                    break 'watch (name.clone(), bytes);
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the pass never wrote a bin"
            );
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        };
        // Did the pass run into the stopped server?
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut hit = false;
        while std::time::Instant::now() < deadline {
            if failures().await > failed_before {
                hit = true;
                break;
            }
            if svc.get(&format!("/api/v1/task/?task_id={id}")).await.1["data"]["state"] == "SUCCESS"
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        s3.restart().await;
        if hit {
            // Clients still see the repository as it was before the pass.
            assert_eq!(
                s3.object(BUCKET, "metadata/timestamp.json").await.unwrap(),
                before
            );
            svc.verify(&[], &[&wave[0]], None).await;
        }
        // The task retries by itself and completes.
        let done = svc.wait(&id).await;
        assert_eq!(done["state"], "SUCCESS", "{done}");
        published.extend(wave);
        if hit {
            interrupted = Some(written);
            break;
        }
        eprintln!("wave {attempt} finished before S3 stopped; again");
    }
    let (name, bytes) =
        interrupted.expect("S3 stopped in the middle of a publish pass in one of three waves");
    assert_eq!(
        s3.object(BUCKET, &name).await.as_deref(),
        Some(&bytes[..]),
        "{name}, written by the interrupted pass, was never rewritten"
    );
    let snapshot = current_snapshot(&s3).await;
    let (version, role) = name
        .trim_start_matches("metadata/")
        .split_once('.')
        .map(|(v, r)| (v.parse::<i64>().unwrap(), r.to_string()))
        .unwrap();
    assert!(
        snapshot["signed"]["meta"][&role]["version"]
            .as_i64()
            .unwrap()
            > version,
        "the next pass used a fresh version for {role}: {}",
        snapshot["signed"]["meta"][&role]
    );
    // A sample of everything published (python-tuf resolves each path).
    let refs: Vec<&str> = published.iter().step_by(97).map(String::as_str).collect();
    svc.verify(&refs, &[], None).await;

    // Vault goes away: the next pass cannot sign, so it writes nothing;
    // when Vault is back (unsealed) the task completes on its own.
    bao.stop();
    let id = svc
        .submit(
            "/api/v1/artifacts/",
            &json!({ "artifacts": [artifact("after-vault/1.tgz", 1)] }),
        )
        .await;
    let sign_failures = "rstuf_plugin_errors_total{plugin=\"online-keys\",op=\"sign\"}";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while metric(&svc, sign_failures).await < 1.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no signing attempt failed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let published = s3.object(BUCKET, "metadata/timestamp.json").await.unwrap();
    bao.restart(true).await;
    let done = svc.wait(&id).await;
    assert_eq!(done["state"], "SUCCESS", "{done}");
    assert_ne!(
        s3.object(BUCKET, "metadata/timestamp.json").await.unwrap(),
        published
    );
    let mut present = refs.clone();
    present.push("after-vault/1.tgz");
    svc.verify(&present, &[], None).await;
    svc.service.shutdown().await;
}

//! Publish cost on operator backends versus the local plugins: the same
//! host, switched only by configuration to storage-s3 (SeaweedFS) and
//! keyvault-vault (OpenBao transit, ed25519 `hv:` key), both real servers
//! on loopback. For each backend pair: bootstrap 256 bins, ingest N
//! artifacts unpublished, one publish pass (timed; one signing call and
//! one storage write per touched role, plus snapshot and timestamp), then
//! 50 single-artifact adds one after another (POST→published latency).
//!
//! Usage: `make plugins setup && cargo run --release -p rstuf-bench --bin publish-backends [ARTIFACTS]`
//! (needs `weed` and `bao` on PATH; default 10000 artifacts).

use base64::Engine;
use rstuf_bench::client::artifact;
use rstuf_bench::{embedded, percentile};
use rstuf_host::config::{Config, PluginEntry};
use rstuf_plugins::Grants;
use rstuf_tests::servers::{OpenBao, SeaweedFs};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(3600);

struct Row {
    publish: Duration,
    roles: usize,
    single: Vec<Duration>,
}

async fn measure(
    label: &str,
    artifacts: u64,
    ceremony_args: &[&str],
    adjust: impl FnOnce(&mut Config),
) -> anyhow::Result<Row> {
    let svc = embedded::start_configured(&[], adjust).await?;
    svc.bootstrap_with(256, ceremony_args).await?;
    let api = &svc.api;
    let mut tasks = Vec::new();
    for chunk in (0..artifacts).step_by(5000) {
        let items: Vec<Value> = (chunk..(chunk + 5000).min(artifacts))
            .map(|i| artifact(label, i))
            .collect();
        tasks.push(
            api.submit(
                "/api/v1/artifacts/",
                &json!({"artifacts": items, "publish_artifacts": false}),
            )
            .await?,
        );
    }
    for t in &tasks {
        api.wait(t, LONG).await?;
    }
    let started = Instant::now();
    let done = api
        .run("/api/v1/artifacts/publish/", &json!({}), LONG)
        .await?;
    let publish = started.elapsed();
    let roles = done["result"]["details"]["artifact_roles"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    let mut single = Vec::new();
    for i in 0..50 {
        let t = Instant::now();
        api.run(
            "/api/v1/artifacts/",
            &json!({"artifacts": [artifact(&format!("{label}-single"), i)]}),
            LONG,
        )
        .await?;
        single.push(t.elapsed());
    }
    single.sort();
    svc.service.shutdown().await;
    Ok(Row {
        publish,
        roles,
        single,
    })
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let artifacts: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let local = measure("local", artifacts, &[], |_| {}).await?;

    let s3 = SeaweedFs::start().await;
    s3.create_bucket("bench").await;
    let bao = OpenBao::start_dev().await;
    bao.enable_transit().await;
    bao.create_key("bench-online", "ed25519").await;
    let key = bao.api("GET", "transit/keys/bench-online", None).await;
    let public = hex::encode(
        base64::engine::general_purpose::STANDARD.decode(
            key["data"]["keys"]["1"]["public_key"]
                .as_str()
                .unwrap_or(""),
        )?,
    );
    let storage = entry(
        "storage",
        "storage-s3.wasm",
        json!({"endpoint": s3.endpoint(), "bucket": "bench", "region": "us-east-1",
               "access_key_id": s3.access_key, "secret_access_key": s3.secret_key,
               "path_style": true}),
        s3.authority(),
    );
    let vault = entry(
        "online-keys",
        "keyvault-vault.wasm",
        json!({"address": bao.address(), "token": bao.root_token}),
        bao.authority(),
    );
    let vault_key = format!("bench-online:{public}");
    let remote = measure(
        "remote",
        artifacts,
        &["--online-vault-key", &vault_key],
        |c| {
            c.plugins.storage = storage;
            c.plugins.keyvaults = vec![vault];
        },
    )
    .await?;

    let ms = |d: Duration| format!("{:.0}", d.as_secs_f64() * 1e3);
    println!("| backends | publish {artifacts} artifacts, s | roles written | single add p50 ms | p95 ms |");
    println!("|---|---|---|---|---|");
    for (name, r) in [
        ("storage-fs + keyvault-file", &local),
        ("storage-s3 + keyvault-vault", &remote),
    ] {
        println!(
            "| {name} | {:.2} | {} | {} | {} |",
            r.publish.as_secs_f64(),
            r.roles,
            ms(percentile(&r.single, 50.0)),
            ms(percentile(&r.single, 95.0)),
        );
    }
    println!(
        "| ratio remote/local | {:.2}× | | {:.2}× | |",
        remote.publish.as_secs_f64() / local.publish.as_secs_f64(),
        percentile(&remote.single, 50.0).as_secs_f64()
            / percentile(&local.single, 50.0).as_secs_f64()
    );
    Ok(())
}

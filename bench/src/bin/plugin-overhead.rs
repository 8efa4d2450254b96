//! Plugin call overhead: storage-fs through the wasmtime runtime versus the
//! same atomic write (temp file, fsync, rename) done natively, for 1 KiB and
//! 1 MiB objects; plus per-call latency of a tiny call and the cost of
//! compiling, loading from cache and instantiating a plugin.
//!
//! Usage: `make plugins && cargo run --release -p rstuf-bench --bin plugin-overhead [iterations]`

use rstuf_bench::{micros, percentile, sample};
use rstuf_plugins::{DirGrant, Grants, PluginKind, PluginSpec, Runtime, RuntimeOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn native_put(dir: &Path, name: &str, data: &[u8]) -> anyhow::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    Ok(())
}

fn row(what: &str, samples: &[Duration]) {
    println!(
        "| {what} | {} | {} | {} |",
        micros(percentile(samples, 50.0)),
        micros(percentile(samples, 95.0)),
        micros(percentile(samples, 99.0))
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let iterations: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(200);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let wasm = root.join("dist/plugins/storage-fs.wasm");
    anyhow::ensure!(
        wasm.is_file(),
        "{} missing: run `make plugins`",
        wasm.display()
    );

    let data_dir = tempfile::tempdir()?;
    let native_dir = tempfile::tempdir()?;
    let cache_dir = tempfile::tempdir()?;
    let spec = PluginSpec {
        name: "storage".into(),
        kind: PluginKind::Storage,
        file: wasm,
        config: serde_json::json!({ "path": "/data" }),
        grants: Grants {
            dirs: vec![DirGrant {
                host: data_dir.path().to_path_buf(),
                guest: "/data".into(),
                read_only: false,
            }],
            ..Grants::default()
        },
    };

    println!("| operation | p50 µs | p95 µs | p99 µs |");
    println!("|---|---|---|---|");

    let started = Instant::now();
    let cold = Runtime::new(RuntimeOptions {
        cache_dir: Some(cache_dir.path().to_path_buf()),
        ..Default::default()
    })?;
    cold.load_storage(&spec).await?;
    row(
        "load plugin, cold (compile + instantiate + configure)",
        &[started.elapsed()],
    );

    let warm = Runtime::new(RuntimeOptions {
        cache_dir: Some(cache_dir.path().to_path_buf()),
        ..Default::default()
    })?;
    let loads = sample(10, |_| async {
        warm.load_storage(&spec).await?;
        Ok(())
    })
    .await?;
    row("load plugin, compile cache hit", &loads);

    let storage = warm.load_storage(&spec).await?;
    let probes = sample(iterations, |_| async {
        storage.probe().await?;
        Ok(())
    })
    .await?;
    row("instantiate + configure a fresh instance", &probes);

    storage.put("tiny.json", b"{}").await?;
    let gets = sample(iterations, |_| async {
        storage.get("tiny.json").await?;
        Ok(())
    })
    .await?;
    row("call: get 2-byte object (pooled instance)", &gets);

    for (label, size) in [("1 KiB", 1024usize), ("1 MiB", 1 << 20)] {
        let data = vec![0x5a_u8; size];
        let plugin = sample(iterations, |i| {
            let (storage, data) = (&storage, &data);
            async move {
                storage.put(&format!("{i}.bins-00.json"), data).await?;
                Ok(())
            }
        })
        .await?;
        let native = sample(iterations, |i| {
            let (dir, data) = (native_dir.path(), &data);
            async move { native_put(dir, &format!("{i}.bins-00.json"), data) }
        })
        .await?;
        row(
            &format!("put {label}: native (tmp + fsync + rename)"),
            &native,
        );
        row(&format!("put {label}: storage-fs plugin"), &plugin);
        let ratio =
            percentile(&plugin, 50.0).as_secs_f64() / percentile(&native, 50.0).as_secs_f64();
        println!("| put {label}: plugin / native (p50) | {ratio:.2}× | | |");
    }
    Ok(())
}

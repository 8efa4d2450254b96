//! Publish throughput of the embedded service: for each bin count, a fresh
//! repository is bootstrapped (timed), then N artifacts are added through
//! the v1 API with `publish_artifacts: false` in chunks (ingest, timed) and
//! one `artifacts/publish` task folds them all into new bin versions, one
//! snapshot and one timestamp (publish, timed). Also canonical JSON
//! throughput on a large targets document, against securesystemslib.
//!
//! Usage: `make plugins setup && cargo run --release -p rstuf-bench --bin publish [ARTIFACTS,..] [BINS,..]`
//! (defaults: `10000,100000 256,16384`).

use rstuf_bench::client::artifact;
use rstuf_bench::embedded;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const CHUNK: u64 = 5_000;
const LONG: Duration = Duration::from_secs(3600);

fn list(arg: Option<String>, default: &[u64]) -> anyhow::Result<Vec<u64>> {
    match arg {
        None => Ok(default.to_vec()),
        Some(s) => s.split(',').map(|n| Ok(n.trim().parse()?)).collect(),
    }
}

async fn one_run(bins: u64, artifacts: u64) -> anyhow::Result<()> {
    let service = embedded::start(&[]).await?;
    let bootstrap = service.bootstrap(bins as u32).await?;
    let api = &service.api;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chunk in (0..artifacts).step_by(CHUNK as usize) {
        let items: Vec<Value> = (chunk..(chunk + CHUNK).min(artifacts))
            .map(|i| artifact("bench", i))
            .collect();
        let body = json!({"artifacts": items, "publish_artifacts": false});
        tasks.push(api.submit("/api/v1/artifacts/", &body).await?);
    }
    for t in &tasks {
        api.wait(t, LONG).await?;
    }
    let ingest = started.elapsed();
    let started = Instant::now();
    api.run("/api/v1/artifacts/publish/", &json!({}), LONG)
        .await?;
    let publish = started.elapsed();
    println!(
        "| {bins} | {artifacts} | {:.2} | {:.2} ({:.0}/s) | {:.2} ({:.0}/s) | {:.0}/s |",
        bootstrap.as_secs_f64(),
        ingest.as_secs_f64(),
        artifacts as f64 / ingest.as_secs_f64(),
        publish.as_secs_f64(),
        artifacts as f64 / publish.as_secs_f64(),
        artifacts as f64 / (ingest + publish).as_secs_f64(),
    );
    service.service.shutdown().await;
    Ok(())
}

/// A targets document with `n` entries, like a large bin.
fn big_targets(n: u64) -> Value {
    let targets: serde_json::Map<String, Value> = (0..n)
        .map(|i| {
            let a = artifact("bench", i);
            (a["path"].as_str().unwrap().to_string(), a["info"].clone())
        })
        .collect();
    json!({"_type": "targets", "spec_version": "1.0.31", "version": 7,
           "expires": "2030-01-01T00:00:00Z", "targets": targets})
}

fn canonical_json() -> anyhow::Result<()> {
    let doc = big_targets(100_000);
    let bytes = rstuf_tuf::canonical::to_canonical_vec(&doc)?;
    let rounds = 10;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(rstuf_tuf::canonical::to_canonical_vec(&doc)?);
    }
    let ours = (bytes.len() * rounds) as f64 / started.elapsed().as_secs_f64() / 1e6;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(serde_json::to_vec(&doc)?);
    }
    let plain = (bytes.len() * rounds) as f64 / started.elapsed().as_secs_f64() / 1e6;
    let python = securesystemslib_mb_s(&doc)?;
    println!(
        "| canonical JSON, 100k-entry targets ({:.1} MB) | ours {ours:.0} MB/s | serde_json (not canonical) {plain:.0} MB/s | securesystemslib {python} | ratio ours/securesystemslib {} |",
        bytes.len() as f64 / 1e6,
        python
            .parse::<f64>()
            .map(|p| format!("{:.0}x", ours / p))
            .unwrap_or_else(|_| "n/a".into())
    );
    Ok(())
}

/// securesystemslib's encode_canonical on the same document, in MB/s.
fn securesystemslib_mb_s(doc: &Value) -> anyhow::Result<String> {
    let file = tempfile::NamedTempFile::new()?;
    std::fs::write(file.path(), serde_json::to_vec(doc)?)?;
    let script = "import json,sys,time\n\
from securesystemslib.formats import encode_canonical\n\
d=json.load(open(sys.argv[1]))\n\
n=len(encode_canonical(d).encode())\n\
t=time.perf_counter()\n\
for _ in range(3): encode_canonical(d)\n\
print(round(3*n/(time.perf_counter()-t)/1e6,2))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(file.path())
        .output()?;
    Ok(if out.status.success() {
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    } else {
        "n/a (pip install securesystemslib)".into()
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let counts = list(args.next(), &[10_000, 100_000])?;
    let bins = list(args.next(), &[256, 16_384])?;
    canonical_json()?;
    println!();
    println!("| bins | artifacts | bootstrap s | ingest s (artifacts/s) | publish s (artifacts/s) | end to end |");
    println!("|---|---|---|---|---|---|");
    for &b in &bins {
        for &n in &counts {
            one_run(b, n).await?;
        }
    }
    Ok(())
}

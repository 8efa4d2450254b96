//! Load generator for the RSTUF v1 API: C concurrent clients each add one
//! artifact at a time (`POST /api/v1/artifacts/`, publishing on) and poll
//! the task until it succeeds, which upstream and we both report only after
//! the artifact is in published metadata. Prints artifacts/s and the
//! POST→published latency percentiles per concurrency level.
//!
//! Usage:
//!   cargo run --release -p rstuf-bench --bin loadgen -- URL|embedded [CONCURRENCY,..] [REQUESTS_PER_LEVEL]
//! `URL` is any bootstrapped RSTUF server (e.g. http://127.0.0.1:8080);
//! `embedded` starts ours in-process with a fresh 256-bin repository.

use rstuf_bench::client::{artifact, Api};
use rstuf_bench::{embedded, percentile};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn level(api: &Api, tag: &str, concurrency: u64, requests: u64) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..concurrency {
        let (api, next, tag) = (api.clone(), next.clone(), tag.to_string());
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let t = Instant::now();
                let body = json!({"artifacts": [artifact(&tag, i)]});
                api.run("/api/v1/artifacts/", &body, Duration::from_secs(600))
                    .await?;
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::new();
    for c in clients {
        all.extend(c.await??);
    }
    let elapsed = started.elapsed();
    all.sort();
    let ms = |d: Duration| format!("{:.0}", d.as_secs_f64() * 1e3);
    println!(
        "| {concurrency} | {requests} | {:.1} | {} | {} | {} |",
        requests as f64 / elapsed.as_secs_f64(),
        ms(percentile(&all, 50.0)),
        ms(percentile(&all, 95.0)),
        ms(percentile(&all, 99.0)),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: loadgen URL|embedded [C1,C2,..] [REQUESTS]"))?;
    let levels: Vec<u64> = args
        .next()
        .unwrap_or_else(|| "1,8,32".into())
        .split(',')
        .map(|c| c.trim().parse())
        .collect::<Result<_, _>>()?;
    let requests: u64 = args.next().map(|r| r.parse()).transpose()?.unwrap_or(400);

    let mut service = None;
    let api = if target == "embedded" {
        let s = embedded::start(&[]).await?;
        s.bootstrap(256).await?;
        let api = s.api.clone();
        service = Some(s);
        api
    } else {
        let api = Api::new(&target);
        anyhow::ensure!(api.bootstrapped().await?, "{target} is not bootstrapped");
        api
    };
    // Distinct paths per run so repeated runs against one server add new artifacts.
    let run = format!("load-{}", chrono_free_stamp());
    println!("| clients | artifacts | artifacts/s | p50 ms | p95 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    for (i, &c) in levels.iter().enumerate() {
        level(&api, &format!("{run}-{i}"), c, requests).await?;
    }
    if let Some(s) = service {
        s.service.shutdown().await;
    }
    Ok(())
}

fn chrono_free_stamp() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

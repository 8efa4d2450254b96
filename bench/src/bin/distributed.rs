//! Distributed-mode throughput versus the number of workers: for W in
//! 1, 2, 4 worker processes (plus 2 API processes) on the machine's
//! PostgreSQL, RabbitMQ and Redis, bootstrap 256 succinct bins, then run
//! the v1 load generator (C clients, single-artifact adds, each waiting
//! until published) through both APIs.
//!
//! Usage: `make plugins && cargo build -p rstuf-host -p rstuf-bench &&
//! ./target/debug/distributed [WORKERS,..] [CLIENTS] [REQUESTS]`
//! (defaults 1,2,4 / 32 / 600). Uses target/debug/rstuf-host.

use rstuf_bench::client::Api;
use rstuf_bench::load;
use rstuf_tests::cluster::Cluster;
use rstuf_tests::service::python_script;
use serde_json::Value;
use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let workers: Vec<usize> = args
        .next()
        .unwrap_or_else(|| "1,2,4".into())
        .split(',')
        .map(|w| w.trim().parse())
        .collect::<Result<_, _>>()?;
    let clients: u64 = args.next().map(|c| c.parse()).transpose()?.unwrap_or(32);
    let requests: u64 = args.next().map(|r| r.parse()).transpose()?.unwrap_or(600);
    println!("| workers | clients | artifacts | artifacts/s | p50 ms | p95 ms | p99 ms |");
    println!("|---|---|---|---|---|---|---|");
    for w in workers {
        let cluster = Cluster::start(2, w, &[]).await;
        let (work, keys) = (
            cluster.work().display().to_string(),
            cluster.keys().display().to_string(),
        );
        let payload: Value = serde_json::from_str(&python_script(
            "ceremony.py",
            &["--out", &work, "--key-dir", &keys, "--bins", "256"],
        ))?;
        let apis = [Api::new(&cluster.api(0)), Api::new(&cluster.api(1))];
        apis[0]
            .run("/api/v1/bootstrap/", &payload, Duration::from_secs(600))
            .await?;
        let row = load::level_on(&apis, &format!("w{w}"), clients, requests).await?;
        println!("| {w} {}", row.markdown());
    }
    Ok(())
}

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

use rstuf_bench::client::Api;
use rstuf_bench::{embedded, load};

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
        let row = load::level(&api, &format!("{run}-{i}"), c, requests).await?;
        println!("{}", row.markdown());
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

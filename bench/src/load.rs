//! The v1 load generator's core: C concurrent clients each add one artifact
//! at a time and wait for its task, which finishes only once the artifact
//! is in published metadata.

use crate::client::{artifact, Api};
use crate::percentile;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One load level's result.
pub struct Row {
    pub clients: u64,
    pub artifacts: u64,
    pub per_second: f64,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
}

impl Row {
    /// `| clients | artifacts | artifacts/s | p50 ms | p95 ms | p99 ms |`
    pub fn markdown(&self) -> String {
        let ms = |d: Duration| format!("{:.0}", d.as_secs_f64() * 1e3);
        format!(
            "| {} | {} | {:.1} | {} | {} | {} |",
            self.clients,
            self.artifacts,
            self.per_second,
            ms(self.p50),
            ms(self.p95),
            ms(self.p99)
        )
    }
}

/// Run `requests` single-artifact adds with `concurrency` clients spread
/// over `apis` (round robin).
pub async fn level_on(
    apis: &[Api],
    tag: &str,
    concurrency: u64,
    requests: u64,
) -> anyhow::Result<Row> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for c in 0..concurrency {
        let api = apis[(c as usize) % apis.len()].clone();
        let (next, tag) = (next.clone(), tag.to_string());
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
    Ok(Row {
        clients: concurrency,
        artifacts: requests,
        per_second: requests as f64 / elapsed.as_secs_f64(),
        p50: percentile(&all, 50.0),
        p95: percentile(&all, 95.0),
        p99: percentile(&all, 99.0),
    })
}

/// [`level_on`] with one API.
pub async fn level(api: &Api, tag: &str, concurrency: u64, requests: u64) -> anyhow::Result<Row> {
    level_on(std::slice::from_ref(api), tag, concurrency, requests).await
}

//! Small timing helpers shared by the benchmark binaries. Benchmarks print
//! their results as Markdown table rows so they can be pasted into
//! docs/benchmarks.md together with the command that produced them.

use std::time::{Duration, Instant};

/// Run `f` `iterations` times and return per-iteration durations, sorted.
pub async fn sample<F, Fut>(iterations: usize, mut f: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let started = Instant::now();
        f(i).await?;
        samples.push(started.elapsed());
    }
    samples.sort();
    Ok(samples)
}

/// The `p`-th percentile (0..=100) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Format a duration in microseconds with one decimal.
pub fn micros(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

pub mod client;
pub mod embedded;
pub mod load;

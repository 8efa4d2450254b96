//! Prometheus metrics in the text exposition format: request latency,
//! accepted tasks, task outcomes, queue depth, publish latency, and plugin
//! call latency and errors. A small registry of our own keeps the hot path
//! to one short mutex section per observation.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

type Labels = Vec<(&'static str, String)>;

/// HTTP methods get their own label value; any other method (clients can
/// send any token) is counted as `other`.
fn bounded_method(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

#[derive(Default)]
pub struct Metrics {
    histograms: Mutex<BTreeMap<(&'static str, Labels), Histogram>>,
    counters: Mutex<BTreeMap<(&'static str, Labels), u64>>,
    queue_depth: AtomicU64,
    /// Tasks this process's worker is running now.
    running: AtomicI64,
    /// Tasks by state in the task store, as of the last scrape (embedded
    /// mode; distributed mode keeps task state in Redis, by key only).
    tasks_by_state: Mutex<BTreeMap<String, u64>>,
}

/// Counts a running task for as long as it lives.
pub struct Running<'a>(&'a AtomicI64);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    fn histogram(&self, name: &'static str, labels: Labels, d: Duration) {
        if let Ok(mut h) = self.histograms.lock() {
            h.entry((name, labels))
                .or_default()
                .observe(d.as_secs_f64());
        }
    }

    fn count(&self, name: &'static str, labels: Labels) {
        if let Ok(mut c) = self.counters.lock() {
            *c.entry((name, labels)).or_default() += 1;
        }
    }

    /// One HTTP request. Every label comes from a bounded set, whatever a
    /// client sends: `route` is the matched route template (or
    /// `unmatched`), `method` one of the standard methods (or `other`),
    /// `status` a valid status code.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, d: Duration) {
        self.histogram(
            "rstuf_http_request_duration_seconds",
            vec![
                ("route", route.into()),
                ("method", bounded_method(method).into()),
                ("status", status.to_string()),
            ],
            d,
        );
    }

    pub fn task_accepted(&self, action: rstuf_api::task::TaskName) {
        self.count(
            "rstuf_tasks_accepted_total",
            vec![("action", action.as_str().into())],
        );
    }

    pub fn task_finished(&self, action: &str, state: &str, d: Duration) {
        // Actions and states come from queued messages: known ones only.
        let action = rstuf_api::task::TaskName::parse(action).map_or("unknown", |a| a.as_str());
        let state = rstuf_api::task::TaskState::parse(state).map_or("unknown", |s| s.as_str());
        self.count(
            "rstuf_tasks_finished_total",
            vec![("action", action.into()), ("state", state.into())],
        );
        self.histogram(
            "rstuf_task_duration_seconds",
            vec![("action", action.into())],
            d,
        );
    }

    pub fn publish(&self, roles: usize, d: Duration) {
        self.histogram("rstuf_publish_duration_seconds", vec![], d);
        if let Ok(mut c) = self.counters.lock() {
            *c.entry(("rstuf_published_roles_total", vec![]))
                .or_default() += roles as u64;
        }
    }

    fn record_plugin_call(&self, plugin: &str, op: &str, d: Duration, ok: bool) {
        self.histogram(
            "rstuf_plugin_call_duration_seconds",
            vec![("plugin", plugin.into()), ("op", op.into())],
            d,
        );
        if !ok {
            self.count(
                "rstuf_plugin_errors_total",
                vec![("plugin", plugin.into()), ("op", op.into())],
            );
        }
    }

    /// One publish event handed to a notifier: `delivered`, `failed`
    /// (the plugin gave up) or `dropped` (its outbox was full).
    pub fn notify(&self, plugin: &str, outcome: &'static str) {
        self.count(
            "rstuf_notify_events_total",
            vec![("plugin", plugin.into()), ("outcome", outcome.into())],
        );
    }

    pub fn set_queue_depth(&self, depth: u64) {
        self.queue_depth.store(depth, Ordering::Relaxed);
    }

    /// A task starts running in this process; it stops when the guard goes.
    pub fn task_running(&self) -> Running<'_> {
        self.running.fetch_add(1, Ordering::Relaxed);
        Running(&self.running)
    }

    pub fn set_tasks_by_state(&self, counts: BTreeMap<String, u64>) {
        if let Ok(mut t) = self.tasks_by_state.lock() {
            *t = counts;
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# TYPE rstuf_queue_depth gauge\nrstuf_queue_depth {}",
            self.queue_depth.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE rstuf_worker_tasks_running gauge\nrstuf_worker_tasks_running {}",
            self.running.load(Ordering::Relaxed).max(0)
        );
        if let Ok(by_state) = self.tasks_by_state.lock() {
            if !by_state.is_empty() {
                let _ = writeln!(out, "# TYPE rstuf_tasks gauge");
            }
            for (state, n) in by_state.iter() {
                let labels = vec![("state", state.clone())];
                let _ = writeln!(out, "rstuf_tasks{} {n}", fmt_labels(&labels, None));
            }
        }
        if let Ok(counters) = self.counters.lock() {
            let mut last = "";
            for ((name, labels), value) in counters.iter() {
                if *name != last {
                    let _ = writeln!(out, "# TYPE {name} counter");
                    last = name;
                }
                let _ = writeln!(out, "{name}{} {value}", fmt_labels(labels, None));
            }
        }
        if let Ok(histograms) = self.histograms.lock() {
            let mut last = "";
            for ((name, labels), h) in histograms.iter() {
                if *name != last {
                    let _ = writeln!(out, "# TYPE {name} histogram");
                    last = name;
                }
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "{name}_bucket{} {}",
                        fmt_labels(labels, Some(&b.to_string())),
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {}",
                    fmt_labels(labels, Some("+Inf")),
                    h.count
                );
                let _ = writeln!(out, "{name}_sum{} {}", fmt_labels(labels, None), h.sum);
                let _ = writeln!(out, "{name}_count{} {}", fmt_labels(labels, None), h.count);
            }
        }
        out
    }
}

impl rstuf_plugins::CallObserver for Metrics {
    fn plugin_call(&self, plugin: &str, op: &'static str, elapsed: Duration, ok: bool) {
        self.record_plugin_call(plugin, op, elapsed, ok);
    }
}

fn fmt_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}=\"{}\"",
                v.replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n")
            )
        })
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstuf_plugins::CallObserver;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::new();
        m.observe_request("/api/v1/task", "GET", 200, Duration::from_millis(3));
        m.task_accepted(rstuf_api::task::TaskName::AddArtifacts);
        m.set_queue_depth(7);
        m.set_tasks_by_state([("PENDING".to_string(), 2), ("SUCCESS".to_string(), 5)].into());
        let running = m.task_running();
        m.plugin_call("storage", "put", Duration::from_millis(2), false);
        let text = m.render();
        assert!(text.contains("rstuf_worker_tasks_running 1"), "{text}");
        drop(running);
        assert!(m.render().contains("rstuf_worker_tasks_running 0"));
        assert!(text.contains("rstuf_tasks{state=\"PENDING\"} 2"), "{text}");
        assert!(
            text.contains("rstuf_plugin_errors_total{plugin=\"storage\",op=\"put\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "rstuf_plugin_call_duration_seconds_count{plugin=\"storage\",op=\"put\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("rstuf_queue_depth 7"));
        assert!(text.contains("rstuf_tasks_accepted_total{action=\"add_artifacts\"} 1"));
        assert!(text.contains("rstuf_http_request_duration_seconds_bucket{route=\"/api/v1/task\",method=\"GET\",status=\"200\",le=\"0.005\"} 1"));
        assert!(text.contains("rstuf_http_request_duration_seconds_count{route=\"/api/v1/task\",method=\"GET\",status=\"200\"} 1"));
    }
}

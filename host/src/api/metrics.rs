//! Prometheus metrics: request latency, accepted tasks, task outcomes, queue
//! depth, publish latency, plugin call latency and errors, notify outcomes.
//! Kept with `prometheus-client` (the Prometheus project's Rust client) and
//! exposed in the OpenMetrics text format. Every label value comes from a
//! bounded set (route templates, known methods, status codes, task names and
//! states, configured plugin names), whatever clients send.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// Seconds: 1 ms to 10 s.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    action: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoleLabels {
    role: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: String,
    op: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotifyLabels {
    plugin: String,
    outcome: &'static str,
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Histograms<RequestLabels>,
    accepted: Family<ActionLabels, Counter>,
    finished: Family<OutcomeLabels, Counter>,
    task_duration: Histograms<ActionLabels>,
    publish_duration: Histogram,
    published_roles: Counter,
    plugin_calls: Histograms<PluginLabels>,
    plugin_errors: Family<PluginLabels, Counter>,
    notify: Family<NotifyLabels, Counter>,
    /// Audit entries that could not be appended (see `crate::audit`).
    audit_failures: Counter,
    /// When each role expires, as of the last scrape (`crate::expiry`).
    role_expires: Family<RoleLabels, Gauge>,
    queue_depth: Gauge<u64, AtomicU64>,
    /// Tasks this process's worker is running now.
    running: Gauge,
    /// Tasks by state in the task store, as of the last scrape (embedded
    /// mode; distributed mode keeps task state in Redis, by key only).
    tasks_by_state: Family<StateLabels, Gauge<u64, AtomicU64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts a running task for as long as it lives.
pub struct Running<'a>(&'a Gauge);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let m = Metrics {
            requests: Family::new_with_constructor(histogram),
            accepted: Family::default(),
            finished: Family::default(),
            task_duration: Family::new_with_constructor(histogram),
            publish_duration: histogram(),
            published_roles: Counter::default(),
            plugin_calls: Family::new_with_constructor(histogram),
            plugin_errors: Family::default(),
            notify: Family::default(),
            audit_failures: Counter::default(),
            role_expires: Family::default(),
            queue_depth: Gauge::default(),
            running: Gauge::default(),
            tasks_by_state: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "rstuf_queue_depth",
            "Tasks waiting in the queue",
            m.queue_depth.clone(),
        );
        registry.register(
            "rstuf_worker_tasks_running",
            "Tasks this process is running",
            m.running.clone(),
        );
        registry.register(
            "rstuf_tasks",
            "Tasks in the task store by state",
            m.tasks_by_state.clone(),
        );
        registry.register(
            "rstuf_tasks_accepted",
            "Tasks accepted by the API",
            m.accepted.clone(),
        );
        registry.register(
            "rstuf_tasks_finished",
            "Tasks finished by the worker, by final state",
            m.finished.clone(),
        );
        registry.register(
            "rstuf_published_roles",
            "Role files written by publish passes",
            m.published_roles.clone(),
        );
        registry.register(
            "rstuf_plugin_errors",
            "Plugin calls that failed",
            m.plugin_errors.clone(),
        );
        registry.register(
            "rstuf_notify_events",
            "Publish events handed to notifiers: delivered, failed or dropped",
            m.notify.clone(),
        );
        registry.register(
            "rstuf_role_expires_timestamp_seconds",
            "When each role's current metadata expires (Unix time): root, targets, snapshot, timestamp, each offline delegated role, bins (the earliest online delegated role)",
            m.role_expires.clone(),
        );
        registry.register(
            "rstuf_audit_append_failures",
            "Audit log entries that could not be appended (the database stayed unreachable)",
            m.audit_failures.clone(),
        );
        registry.register(
            "rstuf_http_request_duration_seconds",
            "HTTP request latency",
            m.requests.clone(),
        );
        registry.register(
            "rstuf_task_duration_seconds",
            "Task run time",
            m.task_duration.clone(),
        );
        registry.register(
            "rstuf_publish_duration_seconds",
            "Publish pass latency",
            m.publish_duration.clone(),
        );
        registry.register(
            "rstuf_plugin_call_duration_seconds",
            "Plugin call latency",
            m.plugin_calls.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Role expiries as of now; signings under way are not roles yet and
    /// are left out (they show on `/ready`).
    pub fn set_role_expiries(&self, expiries: &[crate::expiry::Expiry]) {
        self.role_expires.clear();
        for e in expiries
            .iter()
            .filter(|e| e.renewal != crate::expiry::Renewal::PendingSigning)
        {
            self.role_expires
                .get_or_create(&RoleLabels {
                    role: e.role.clone(),
                })
                .set(e.expires.timestamp());
        }
    }

    /// An audit entry that could not be appended.
    pub fn audit_failed(&self) {
        self.audit_failures.inc();
    }

    /// One HTTP request. Every label comes from a bounded set, whatever a
    /// client sends: `route` is the matched route template (or
    /// `unmatched`), `method` one of the standard methods (or `other`),
    /// `status` a valid status code.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, d: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method: bounded_method(method),
                status,
            })
            .observe(d.as_secs_f64());
    }

    pub fn task_accepted(&self, action: rstuf_api::task::TaskName) {
        self.accepted
            .get_or_create(&ActionLabels {
                action: action.as_str(),
            })
            .inc();
    }

    pub fn task_finished(&self, action: &str, state: &str, d: Duration) {
        // Actions and states come from queued messages: known ones only.
        let action = rstuf_api::task::TaskName::parse(action).map_or("unknown", |a| a.as_str());
        let state = rstuf_api::task::TaskState::parse(state).map_or("unknown", |s| s.as_str());
        self.finished
            .get_or_create(&OutcomeLabels { action, state })
            .inc();
        self.task_duration
            .get_or_create(&ActionLabels { action })
            .observe(d.as_secs_f64());
    }

    pub fn publish(&self, roles: usize, d: Duration) {
        self.publish_duration.observe(d.as_secs_f64());
        self.published_roles.inc_by(roles as u64);
    }

    fn record_plugin_call(&self, plugin: &str, op: &'static str, d: Duration, ok: bool) {
        let labels = PluginLabels {
            plugin: plugin.to_string(),
            op,
        };
        self.plugin_calls
            .get_or_create(&labels)
            .observe(d.as_secs_f64());
        if !ok {
            self.plugin_errors.get_or_create(&labels).inc();
        }
    }

    /// One publish event handed to a notifier: `delivered`, `failed`
    /// (the plugin gave up) or `dropped` (its outbox was full).
    pub fn notify(&self, plugin: &str, outcome: &'static str) {
        self.notify
            .get_or_create(&NotifyLabels {
                plugin: plugin.to_string(),
                outcome,
            })
            .inc();
    }

    pub fn set_queue_depth(&self, depth: u64) {
        self.queue_depth.set(depth);
    }

    /// A task starts running in this process; it stops when the guard goes.
    pub fn task_running(&self) -> Running<'_> {
        self.running.inc();
        Running(&self.running)
    }

    /// The store's task counts by state (states the store no longer has
    /// disappear from the output).
    pub fn set_tasks_by_state(&self, counts: BTreeMap<String, u64>) {
        self.tasks_by_state.clear();
        for (state, n) in counts {
            self.tasks_by_state
                .get_or_create(&StateLabels { state })
                .set(n);
        }
    }

    /// The OpenMetrics text exposition of every metric ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!("encoding metrics failed: {e}");
        }
        out
    }
}

impl rstuf_plugins::CallObserver for Metrics {
    fn plugin_call(&self, plugin: &str, op: &'static str, elapsed: Duration, ok: bool) {
        self.record_plugin_call(plugin, op, elapsed, ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstuf_plugins::CallObserver;

    #[test]
    fn renders_openmetrics_text() {
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
        assert!(text.ends_with("# EOF\n"), "{text}");
        // A state the store no longer reports disappears.
        m.set_tasks_by_state([("SUCCESS".to_string(), 6)].into());
        let later = m.render();
        assert!(!later.contains("state=\"PENDING\""), "{later}");
        assert!(
            later.contains("rstuf_tasks{state=\"SUCCESS\"} 6"),
            "{later}"
        );
        assert!(text.contains("rstuf_tasks_accepted_total{action=\"add_artifacts\"} 1"));
        assert!(text.contains("rstuf_http_request_duration_seconds_bucket{le=\"0.005\",route=\"/api/v1/task\",method=\"GET\",status=\"200\"} 1"));
        assert!(text.contains("rstuf_http_request_duration_seconds_count{route=\"/api/v1/task\",method=\"GET\",status=\"200\"} 1"));
    }
}

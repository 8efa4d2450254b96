//! Publish notifications: one bounded outbox per notify plugin, drained by
//! its own task, so a slow or unreachable receiver never delays publishing.
//!
//! The publisher hands every committed pass to [`Outbox::publish`], which
//! never waits: when a notifier's outbox is full the new event is dropped,
//! logged and counted (`rstuf_notify_events_total{outcome="dropped"}`).
//! The outbox lives in memory, so events still waiting when the process
//! stops are lost; notifications are a signal to look, and the metadata in
//! storage stays the source of truth (an event carries the versions it
//! announces, so receivers can tell what they missed).

use crate::api::Metrics;
use rstuf_plugins::{Event, Notifier};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// CloudEvents `type` of a publish event.
pub const PUBLISHED: &str = "dev.rstuf.metadata.published";

/// Most artifact paths listed in one event (added and removed together);
/// a bigger pass sets `artifacts.truncated` and gives the counts.
pub const MAX_EVENT_ARTIFACTS: usize = 10_000;

/// Queues of the configured notifiers.
#[derive(Clone, Default)]
pub struct Outbox {
    queues: Vec<(String, mpsc::Sender<Event>)>,
    metrics: Option<Arc<Metrics>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field(
                "notifiers",
                &self.queues.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Outbox {
    /// Start one delivery task per notifier, each with room for
    /// `capacity` waiting events.
    pub fn start(notifiers: &[Notifier], capacity: usize, metrics: Arc<Metrics>) -> Outbox {
        let queues = notifiers
            .iter()
            .map(|n| {
                let (tx, rx) = mpsc::channel(capacity.max(1));
                tokio::spawn(drain(n.clone(), rx, metrics.clone()));
                (n.name().to_string(), tx)
            })
            .collect();
        Outbox {
            queues,
            metrics: Some(metrics),
        }
    }

    /// Whether any notifier is configured (events need not be built).
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Queue `event` for every notifier without waiting.
    pub fn publish(&self, event: Event) {
        for (name, tx) in &self.queues {
            match tx.try_send(event.clone()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(
                        notifier = %name,
                        event = %event.id,
                        "notification outbox full (receiver too slow); event dropped"
                    );
                    if let Some(m) = &self.metrics {
                        m.notify(name, "dropped");
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    tracing::warn!(notifier = %name, "notification task stopped; event dropped");
                }
            }
        }
    }
}

async fn drain(notifier: Notifier, mut rx: mpsc::Receiver<Event>, metrics: Arc<Metrics>) {
    while let Some(event) = rx.recv().await {
        match notifier.deliver(&event).await {
            Ok(()) => metrics.notify(notifier.name(), "delivered"),
            Err(e) => {
                // Plugin errors name the plugin and the problem, never the
                // configuration's secrets.
                tracing::warn!(notifier = %notifier.name(), event = %event.id, "notification not delivered: {e}");
                metrics.notify(notifier.name(), "failed");
            }
        }
    }
}

/// What one publish pass changed, for its event.
#[derive(Debug, Default)]
pub struct Published {
    /// New version of every role written (`timestamp` and `snapshot` included).
    pub roles: BTreeMap<String, i64>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl Published {
    /// The event announcing this pass, at `time` (RFC 3339).
    pub fn event(mut self, time: String) -> Event {
        let (added_count, removed_count) = (self.added.len(), self.removed.len());
        let truncated = added_count + removed_count > MAX_EVENT_ARTIFACTS;
        if truncated {
            self.added.truncate(MAX_EVENT_ARTIFACTS);
            self.removed
                .truncate(MAX_EVENT_ARTIFACTS - self.added.len());
        }
        let data: Value = json!({
            "roles": self.roles,
            "artifacts": {
                "added": self.added,
                "removed": self.removed,
                "added_count": added_count,
                "removed_count": removed_count,
                "truncated": truncated,
            },
        });
        Event {
            id: uuid::Uuid::new_v4().to_string(),
            kind: PUBLISHED.to_string(),
            time,
            data: data.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_list_roles_and_bound_artifacts() {
        let mut p = Published::default();
        p.roles.insert("bins-0".into(), 3);
        p.roles.insert("snapshot".into(), 7);
        p.added = vec!["a.tar.gz".into()];
        p.removed = vec!["old.whl".into()];
        let e = p.event("2026-01-01T00:00:00Z".into());
        assert_eq!(e.kind, PUBLISHED);
        let d: Value = serde_json::from_str(&e.data).unwrap();
        assert_eq!(d["roles"]["bins-0"], 3);
        assert_eq!(d["artifacts"]["added"][0], "a.tar.gz");
        assert_eq!(d["artifacts"]["removed"][0], "old.whl");
        assert_eq!(d["artifacts"]["truncated"], false);

        let p = Published {
            added: (0..MAX_EVENT_ARTIFACTS + 5)
                .map(|i| format!("f{i}"))
                .collect(),
            removed: vec!["x".into()],
            ..Published::default()
        };
        let d: Value = serde_json::from_str(&p.event("t".into()).data).unwrap();
        assert_eq!(d["artifacts"]["truncated"], true);
        assert_eq!(d["artifacts"]["added_count"], MAX_EVENT_ARTIFACTS + 5);
        assert_eq!(d["artifacts"]["removed_count"], 1);
        assert_eq!(
            d["artifacts"]["added"].as_array().unwrap().len()
                + d["artifacts"]["removed"].as_array().unwrap().len(),
            MAX_EVENT_ARTIFACTS
        );
    }
}

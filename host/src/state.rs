//! The seam between the API/worker and where tasks, task state and
//! repository settings live. Embedded mode implements it on the SQLite
//! database (a durable in-process queue); distributed mode on PostgreSQL,
//! RabbitMQ and Redis. The API and worker code above it are the same.

use rstuf_api::task::{TaskName, TaskResult, TaskState};
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{what}: {message}")]
    Backend { what: &'static str, message: String },
}

impl StateError {
    pub fn backend(what: &'static str, e: impl std::fmt::Display) -> Self {
        StateError::Backend {
            what,
            message: e.to_string(),
        }
    }
}

/// A task the API accepted.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub task_id: String,
    pub action: TaskName,
    /// The worker payload; `None` for publish.
    pub payload: Option<Value>,
}

/// A task as `GET /api/v1/task` reports it.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub task_id: String,
    pub state: TaskState,
    /// The worker's result: a [`TaskResult`] for finished tasks, progress
    /// details while running, `{"message": …}` for failures.
    pub result: Option<Value>,
}

/// The settings key that holds the bootstrap state.
pub const BOOTSTRAP: &str = "BOOTSTRAP";

/// Settings, task queue and task state.
pub trait StateStore: Send + Sync + 'static {
    fn setting<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Value>, StateError>>;
    fn settings(&self) -> BoxFuture<'_, Result<BTreeMap<String, Value>, StateError>>;
    /// Set `BOOTSTRAP = pre-<task_id>` only if no bootstrap is under way or
    /// done; returns the lock's time stamp, or the current value when it
    /// refused.
    fn lock_bootstrap<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Result<chrono::NaiveDateTime, Option<String>>, StateError>>;
    /// Undo [`StateStore::lock_bootstrap`] of `task_id` if the state is
    /// still `pre-<task_id>` (and, with `stamped`, no worker has claimed
    /// the lock since); true if it was released.
    fn unlock_bootstrap<'a>(
        &'a self,
        task_id: &'a str,
        stamped: Option<chrono::NaiveDateTime>,
    ) -> BoxFuture<'a, Result<bool, StateError>>;
    /// Durably accept a task: when this returns, a crash does not lose it.
    fn enqueue(&self, task: NewTask) -> BoxFuture<'_, Result<(), StateError>>;
    fn task<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, StateError>>;
    /// Tasks waiting to run.
    fn queue_depth(&self) -> BoxFuture<'_, Result<u64, StateError>>;
    /// Tasks by state, where the store can count them cheaply (`None`:
    /// it cannot; distributed mode keeps task state as Redis keys).
    fn task_counts(&self) -> BoxFuture<'_, Result<Option<BTreeMap<String, u64>>, StateError>>;
    /// Are the dependencies reachable?
    fn ready(&self) -> BoxFuture<'_, Result<(), StateError>>;
    /// When each role expires (see `crate::expiry`).
    fn expiries(&self) -> BoxFuture<'_, Result<Vec<crate::expiry::Expiry>, StateError>>;
    /// A page of the audit log (in the database in both modes).
    fn audit_page(
        &self,
        after: i64,
        limit: u64,
    ) -> BoxFuture<'_, Result<rstuf_api::audit::AuditPage, StateError>>;
}

/// Where the repository's bootstrap stands (upstream `bootstrap_state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootstrapState {
    /// Never bootstrapped (or a failed bootstrap was released).
    None,
    /// A bootstrap task was accepted and is running.
    Pre(String),
    /// Root v1 waits for more signatures (DAS).
    Signing(String),
    /// Bootstrapped by this task.
    Finished(String),
    /// A value this service does not understand.
    Unknown,
}

impl BootstrapState {
    pub fn from_setting(value: Option<&Value>) -> Self {
        match value.and_then(Value::as_str) {
            None | Some("") => BootstrapState::None,
            Some(v) => match v.split('-').collect::<Vec<_>>().as_slice() {
                [id] => BootstrapState::Finished(id.to_string()),
                ["pre", id] => BootstrapState::Pre(id.to_string()),
                ["signing", id] => BootstrapState::Signing(id.to_string()),
                _ => BootstrapState::Unknown,
            },
        }
    }

    /// The state word upstream puts in messages ("State: …").
    pub fn word(&self) -> &'static str {
        match self {
            BootstrapState::None => "None",
            BootstrapState::Pre(_) => "pre",
            BootstrapState::Signing(_) => "signing",
            BootstrapState::Finished(_) => "finished",
            BootstrapState::Unknown => "unknown",
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(self, BootstrapState::Finished(_))
    }
}

/// Convert a finished worker result to the state the API reports: SUCCESS
/// with `status: false` is ERRORED (upstream's rule).
pub fn final_state(result: &TaskResult) -> TaskState {
    if result.status {
        TaskState::Success
    } else {
        TaskState::Errored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bootstrap_state_parses_like_upstream() {
        assert_eq!(BootstrapState::from_setting(None), BootstrapState::None);
        assert_eq!(
            BootstrapState::from_setting(Some(&Value::Null)),
            BootstrapState::None
        );
        let id = "82281613dba54b8ea88dc86211c77d0a";
        assert_eq!(
            BootstrapState::from_setting(Some(&json!(id))),
            BootstrapState::Finished(id.into())
        );
        assert_eq!(
            BootstrapState::from_setting(Some(&json!(format!("pre-{id}")))),
            BootstrapState::Pre(id.into())
        );
        assert_eq!(
            BootstrapState::from_setting(Some(&json!(format!("signing-{id}")))),
            BootstrapState::Signing(id.into())
        );
        assert_eq!(
            BootstrapState::from_setting(Some(&json!("a-b-c"))),
            BootstrapState::Unknown
        );
    }
}

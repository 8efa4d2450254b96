//! The task model shared by the API (which accepts tasks) and the worker
//! (which runs them): upstream RSTUF's action names, queue names, states and
//! result shape, so the official CLI and tests read our task results
//! unchanged.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Upstream's worker actions (`TaskName`), the `action` of a queued task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskName {
    AddArtifacts,
    RemoveArtifacts,
    Bootstrap,
    UpdateSettings,
    PublishArtifacts,
    ForceOnlineMetadataUpdate,
    MetadataUpdate,
    MetadataDelegation,
    SignMetadata,
    DeleteSignMetadata,
    /// The periodic re-sign of online roles (upstream's beat job).
    BumpOnlineRoles,
}

impl TaskName {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskName::AddArtifacts => "add_artifacts",
            TaskName::RemoveArtifacts => "remove_artifacts",
            TaskName::Bootstrap => "bootstrap",
            TaskName::UpdateSettings => "update_settings",
            TaskName::PublishArtifacts => "publish_artifacts",
            TaskName::ForceOnlineMetadataUpdate => "force_online_metadata_update",
            TaskName::MetadataUpdate => "metadata_update",
            TaskName::MetadataDelegation => "metadata_delegation",
            TaskName::SignMetadata => "sign_metadata",
            TaskName::DeleteSignMetadata => "delete_sign_metadata",
            TaskName::BumpOnlineRoles => "bump_online_roles",
        }
    }

    pub fn parse(s: &str) -> Option<TaskName> {
        serde_json::from_value(Value::String(s.to_string())).ok()
    }

    /// Upstream's queue for this action.
    pub fn queue(self) -> &'static str {
        match self {
            TaskName::PublishArtifacts | TaskName::BumpOnlineRoles => QUEUE_INTERNALS,
            _ => QUEUE_REPOSITORY,
        }
    }
}

impl std::fmt::Display for TaskName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const QUEUE_REPOSITORY: &str = "metadata_repository";
pub const QUEUE_INTERNALS: &str = "rstuf_internals";

/// Task states as `GET /api/v1/task` reports them: ours, and the Celery
/// states an upstream server can also report (the CLI and the load
/// generator talk to both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskState {
    /// Unknown id, or accepted and not yet picked up.
    Pending,
    /// Picked up by a worker.
    Received,
    /// Upstream only: about to run (Celery's `task_prerun`).
    PreRun,
    Started,
    /// Waiting for its artifacts to be published.
    Running,
    Success,
    /// Finished with `status: false` (the API's rewrite of SUCCESS).
    Errored,
    /// Failed with an exception, or gave up after retries.
    Failure,
    Retry,
    /// Upstream only: Celery revoked the task.
    Revoked,
    /// Upstream only: a worker rejected the message.
    Rejected,
    /// Upstream only: Celery ignored the result.
    Ignored,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "PENDING",
            TaskState::Received => "RECEIVED",
            TaskState::Started => "STARTED",
            TaskState::Running => "RUNNING",
            TaskState::Success => "SUCCESS",
            TaskState::Errored => "ERRORED",
            TaskState::Failure => "FAILURE",
            TaskState::Retry => "RETRY",
            TaskState::PreRun => "PRE_RUN",
            TaskState::Revoked => "REVOKED",
            TaskState::Rejected => "REJECTED",
            TaskState::Ignored => "IGNORED",
        }
    }

    pub fn parse(s: &str) -> Option<TaskState> {
        serde_json::from_value(Value::String(s.to_string())).ok()
    }

    /// No further change will happen.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskState::Success
                | TaskState::Errored
                | TaskState::Failure
                | TaskState::Revoked
                | TaskState::Rejected
                | TaskState::Ignored
        )
    }
}

impl std::fmt::Display for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The worker's result object (upstream `TaskResult`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    pub task: String,
    pub status: bool,
    pub last_update: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl TaskResult {
    pub fn ok(task: TaskName, message: impl Into<String>, details: Value) -> Self {
        TaskResult {
            task: task.as_str().into(),
            status: true,
            last_update: now_naive_iso(),
            message: message.into(),
            error: None,
            details: Some(details),
        }
    }

    pub fn error(
        task: TaskName,
        message: impl Into<String>,
        error: impl Into<String>,
        details: Option<Value>,
    ) -> Self {
        TaskResult {
            task: task.as_str().into(),
            status: false,
            last_update: now_naive_iso(),
            message: message.into(),
            error: Some(error.into()),
            details,
        }
    }
}

/// A new upstream-style task id: uuid4 hex, 32 lowercase characters.
pub fn new_task_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Is `s` a well-formed task id (32 lowercase hex characters)?
pub fn is_task_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The worker's `last_update`: `datetime.now()` isoformat, UTC, no offset.
pub fn now_naive_iso() -> String {
    chrono::Utc::now()
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

/// The API's `last_update`: timezone-aware, e.g. `2024-05-01T10:11:12.123456Z`.
pub fn now_utc_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_states_use_upstream_spelling() {
        assert_eq!(
            TaskName::parse("add_artifacts"),
            Some(TaskName::AddArtifacts)
        );
        assert_eq!(TaskName::PublishArtifacts.queue(), "rstuf_internals");
        assert_eq!(TaskName::Bootstrap.queue(), "metadata_repository");
        assert_eq!(
            serde_json::to_string(&TaskState::Errored).unwrap(),
            "\"ERRORED\""
        );
        assert_eq!(TaskState::parse("RUNNING"), Some(TaskState::Running));
        assert_eq!(TaskState::parse("PRE_RUN"), Some(TaskState::PreRun));
        for s in [
            "PENDING", "RECEIVED", "PRE_RUN", "STARTED", "RUNNING", "SUCCESS", "ERRORED",
            "FAILURE", "RETRY", "REVOKED", "REJECTED", "IGNORED",
        ] {
            let state = TaskState::parse(s).unwrap();
            assert_eq!(state.as_str(), s);
            assert_eq!(serde_json::to_value(state).unwrap(), s);
        }
    }

    #[test]
    fn task_ids_are_32_hex() {
        let id = new_task_id();
        assert!(is_task_id(&id), "{id}");
        assert!(!is_task_id("06EE6DB3CBAB4B26BE505352C2F2E2C3"));
        assert!(!is_task_id("../../etc/passwd"));
        assert!(now_utc_iso().ends_with('Z'));
    }
}

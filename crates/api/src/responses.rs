//! Response bodies of the v1 API, as upstream (FastAPI) produces them:
//! success envelopes `{"data": …, "message": …}` with null members omitted
//! (`response_model_exclude_none`), and error bodies `{"detail": …}`.

use crate::task::{TaskResult, TaskState};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A success body: `{"data": data, "message": message}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Envelope<T> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    pub message: String,
}

/// The `data` of every `202 Accepted`: the queued task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    /// uuid4 hex, 32 lowercase characters.
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub task_id: String,
    /// When the task was accepted, timezone-aware ISO 8601.
    #[schema(format = DateTime)]
    pub last_update: String,
    /// The paths an artifact add or remove was asked for (upstream's field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Vec<String>>,
}

impl Accepted {
    /// A task accepted now.
    pub fn now(task_id: &str) -> Accepted {
        Accepted {
            task_id: task_id.to_string(),
            last_update: crate::task::now_utc_iso(),
            artifacts: None,
        }
    }
}

/// `GET /api/v1/bootstrap/`: whether the repository can be bootstrapped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BootstrapStatus {
    /// True once a bootstrap finished.
    pub bootstrap: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<BootstrapPhase>,
    /// The task holding the bootstrap lock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Where a bootstrap is (upstream's `state` words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BootstrapPhase {
    /// Accepted, not finished.
    Pre,
    /// Waiting for more root signatures (distributed signing).
    Signing,
    Finished,
    /// A lock whose state cannot be read.
    Unknown,
}

/// `GET /api/v1/task/?task_id=`: a task's state and, once it has one, its
/// result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskStatus {
    pub task_id: String,
    pub state: TaskState,
    /// The worker's result ([`TaskResult`]) once the task ran; upstream's
    /// clients also read it while a task retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
}

impl TaskStatus {
    /// The result as the worker's `TaskResult`, when it is one.
    pub fn task_result(&self) -> Option<TaskResult> {
        self.result
            .as_ref()
            .and_then(|r| serde_json::from_value(r.clone()).ok())
    }
}

/// Every error body: `{"detail": …}`, a message, an object
/// `{"message", "error"}` or, for 422, a list of pydantic-style issues
/// (`{"type", "loc", "msg", "input"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    #[schema(schema_with = crate::openapi::error_detail)]
    pub detail: Value,
}

/// What every write operation with a body can answer: accepted, refused in
/// the repository's current state, too large, or invalid.
#[derive(utoipa::IntoResponses)]
pub enum WriteResponses {
    /// The task was recorded durably and will run.
    #[response(status = 202, description = "Accepted: a task was queued")]
    Accepted(Envelope<Accepted>),
    #[response(
        status = 404,
        description = "Not accepted in the repository's current state (not bootstrapped, already bootstrapped, nothing to sign); `detail` says which"
    )]
    NotAccepted(ErrorBody),
    #[response(status = 413, description = "Body larger than the configured limit")]
    TooLarge(ErrorBody),
    #[response(
        status = 422,
        description = "Validation error: the body, a field or a rule it breaks"
    )]
    Invalid(ErrorBody),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_members_are_omitted_as_upstream_does() {
        let body = Envelope {
            data: Some(BootstrapStatus {
                bootstrap: false,
                state: None,
                id: None,
            }),
            message: "System available for bootstrap.".into(),
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"data": {"bootstrap": false}, "message": "System available for bootstrap."})
        );
        let status: TaskStatus = serde_json::from_value(
            json!({"task_id": "ab", "state": "SUCCESS", "result": {"task": "bootstrap", "status": true, "last_update": "x", "message": "m"}}),
        )
        .unwrap();
        assert_eq!(status.state, TaskState::Success);
        assert!(status.task_result().unwrap().status);
    }
}

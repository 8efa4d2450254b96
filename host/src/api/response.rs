//! Response shapes of the v1 API, as upstream (FastAPI) produces them:
//! success envelopes `{"data": …, "message": …}` with null fields omitted,
//! error bodies `{"detail": …}`, and pydantic-style 422 validation errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// Success: `{"data": data, "message": message}`; `data` omitted when `None`.
pub fn envelope(status: StatusCode, message: &str, data: Option<Value>) -> Response {
    let mut body = serde_json::Map::new();
    if let Some(data) = data {
        body.insert("data".into(), strip_nulls(data));
    }
    body.insert("message".into(), Value::String(message.into()));
    (status, Json(Value::Object(body))).into_response()
}

/// `202 Accepted` with the task id and a timezone-aware `last_update`.
pub fn accepted(message: &str, task_id: &str, extra: Option<(&str, Value)>) -> Response {
    let mut data = json!({ "task_id": task_id, "last_update": crate::tasks::now_utc_iso() });
    if let Some((k, v)) = extra {
        data[k] = v;
    }
    envelope(StatusCode::ACCEPTED, message, Some(data))
}

/// `response_model_exclude_none=True`: drop null members, recursively.
fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// One entry of a 422 `detail` list (pydantic v2 shape).
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub kind: &'static str,
    pub loc: Vec<Value>,
    pub msg: String,
    /// The offending value, as pydantic reports it (`input`).
    pub input: Option<Value>,
}

impl Issue {
    pub fn new(kind: &'static str, loc: &[&str], msg: impl Into<String>) -> Self {
        Issue {
            kind,
            loc: std::iter::once("body")
                .chain(loc.iter().copied())
                .map(|s| Value::String(s.into()))
                .collect(),
            msg: msg.into(),
            input: None,
        }
    }

    /// The same issue, reporting `input` as the offending value.
    pub fn with_input(mut self, input: Value) -> Self {
        self.input = Some(input);
        self
    }

    fn to_json(&self) -> Value {
        let mut v = json!({ "type": self.kind, "loc": self.loc, "msg": self.msg });
        if let Some(input) = &self.input {
            v["input"] = input.clone();
        }
        v
    }
}

/// An error response. Never a 500 for bad input: every path that can be
/// reached by a request maps to a 4xx with a readable message, and failures
/// of the service's own dependencies to 503.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
}

impl ApiError {
    /// `{"detail": detail}` with `status`.
    pub fn detail(status: StatusCode, detail: Value) -> Self {
        ApiError {
            status,
            body: json!({ "detail": detail }),
        }
    }

    /// Upstream's `{"detail": {"message": …, "error": …}}`.
    pub fn rejected(status: StatusCode, message: &str, error: impl Into<String>) -> Self {
        ApiError::detail(status, json!({ "message": message, "error": error.into() }))
    }

    /// 422 with pydantic-style issues.
    pub fn validation(issues: Vec<Issue>) -> Self {
        ApiError::detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            Value::Array(issues.iter().map(Issue::to_json).collect()),
        )
    }

    pub fn invalid(kind: &'static str, loc: &[&str], msg: impl Into<String>) -> Self {
        ApiError::validation(vec![Issue::new(kind, loc, msg)])
    }

    /// A dependency (database, queue) failed: 503, logged, no internals
    /// leaked to the client.
    pub fn unavailable(what: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!("{what} failed: {error}");
        ApiError::detail(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "message": "Service temporarily unavailable", "error": format!("{what} is not available; retry later") }),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

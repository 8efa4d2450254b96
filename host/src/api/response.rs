//! Response shapes of the v1 API, as upstream (FastAPI) produces them:
//! success envelopes `{"data": …, "message": …}` with null fields omitted,
//! error bodies `{"detail": …}`, and pydantic-style 422 validation errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rstuf_api::body::Rejected;
use rstuf_api::responses::Accepted;
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

/// `202 Accepted` with the task id, a timezone-aware `last_update` and,
/// for artifact adds and removes, the paths asked for.
pub fn accepted(message: &str, task_id: &str, artifacts: Option<Vec<String>>) -> Response {
    let data = Accepted {
        artifacts,
        ..Accepted::now(task_id)
    };
    let data = serde_json::to_value(&data).unwrap_or(Value::Null);
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

    pub fn invalid(kind: &'static str, loc: &[&str], msg: impl Into<String>) -> Self {
        Rejected::invalid(kind, loc, msg).into()
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

/// A refused body is 422 with pydantic-style issues.
impl From<Rejected> for ApiError {
    fn from(rejected: Rejected) -> Self {
        ApiError::detail(StatusCode::UNPROCESSABLE_ENTITY, rejected.to_json())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

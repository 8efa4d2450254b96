//! `GET /api/v1/audit/`: the audit log, page by page. An extension of
//! upstream's API (upstream has no audit log); its token scope is
//! `read:audit`, which no upstream token carries.

use super::response::ApiError;
use super::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rstuf_api::audit::{AuditPage, MAX_PAGE};
use rstuf_api::responses::{Envelope, ErrorBody};
use serde_json::json;
use std::collections::HashMap;

/// Entries per page when `limit` is not given.
const DEFAULT_PAGE: u64 = 500;

/// The query, as documented (the handler reads it itself, to name a bad
/// parameter in its 422).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct AuditQuery {
    /// Entries after this sequence number (default 0).
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Most entries to return (default 500).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// `GET /api/v1/audit/?after=&limit=`
#[utoipa::path(
    get,
    path = "/api/v1/audit/",
    summary = "Audit log (rstuf extension)",
    tag = "rstuf extensions",
    description = "The hash-chained log of state-changing actions, oldest first. Follow `next_after` \
        until it is absent; `rstuf admin audit verify` checks the chain. Needs the `read:audit` scope \
        when tokens are configured.",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries and the log's head", body = Envelope<AuditPage>),
        (status = 422, description = "`after` or `limit` is not a number in range", body = ErrorBody),
    )
)]
pub async fn get_audit(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let after = number(&query, "after", 0, 0, i64::MAX)?;
    let limit = number(&query, "limit", DEFAULT_PAGE as i64, 1, MAX_PAGE as i64)? as u64;
    let page = state
        .store
        .audit_page(after, limit)
        .await
        .map_err(|e| ApiError::unavailable("audit log", &e))?;
    // Not `envelope`: it drops null members, and the entries' hashes cover
    // them.
    let body = Envelope {
        data: Some(page),
        message: "Audit log entries".into(),
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// An integer query parameter in `min..=max`, or 422 naming it.
fn number(
    query: &HashMap<String, String>,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ApiError> {
    let Some(text) = query.get(name) else {
        return Ok(default);
    };
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            let shown: String = text.chars().take(40).collect();
            ApiError::detail(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!([{ "type": "int_parsing", "loc": ["query", name],
                         "msg": format!("{name} must be an integer from {min} to {max}, not '{shown}'") }]),
            )
        })
}

//! The REST API: upstream RSTUF's `/api/v1` surface (both trailing-slash
//! forms of every route), our `/api/v1/audit/` extension, plus `/health`, `/ready`, Prometheus `/metrics`,
//! the OpenAPI document with a browsable UI, the `/status` page for
//! operators, and a read-only view of the published metadata with a
//! directory listing.
//!
//! Cross-cutting rules live here: the body-size limit, optional bearer-token
//! auth with scopes, upstream's `RSTUF_DISABLE_ENDPOINTS`, and request
//! metrics.

mod audit;
pub mod extract;
mod metadata;
pub mod metrics;
mod openapi;
pub mod response;
pub mod server;
mod status_page;
pub mod tls;
mod v1;

use crate::config::ServerConfig;
use crate::state::StateStore;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use response::ApiError;
use rstuf_plugins::Storage;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

pub use metrics::Metrics;
pub use v1::signing_key;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn StateStore>,
    pub metrics: Arc<Metrics>,
    /// Present when this process serves the published metadata.
    pub storage: Option<Storage>,
    pub server: Arc<ServerConfig>,
    /// The service's clock (expiry warnings are relative to it).
    pub clock: crate::worker::clock::Clock,
    /// How long before expiry `/ready` warns about a role needing people.
    pub expiry_warning: chrono::Duration,
}

/// Register `route` under `path` with and without its trailing slash
/// (upstream's clients use both forms).
fn both(router: Router<AppState>, path: &str, route: MethodRouter<AppState>) -> Router<AppState> {
    let trimmed = path.trim_end_matches('/');
    router
        .route(trimmed, route.clone())
        .route(&format!("{trimmed}/"), route)
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let mut api = Router::new();
    api = both(
        api,
        "/api/v1/bootstrap/",
        get(v1::get_bootstrap).post(v1::post_bootstrap),
    );
    api = both(
        api,
        "/api/v1/config/",
        get(v1::get_config).put(v1::put_config),
    );
    api = both(api, "/api/v1/metadata/", post(v1::post_metadata));
    api = both(
        api,
        "/api/v1/metadata/online",
        post(v1::post_metadata_online),
    );
    api = both(
        api,
        "/api/v1/metadata/sign",
        get(v1::get_metadata_sign).post(v1::post_metadata_sign),
    );
    api = both(
        api,
        "/api/v1/metadata/sign/delete",
        post(v1::post_metadata_sign_delete),
    );
    api = both(
        api,
        "/api/v1/delegations/",
        post(v1::post_delegations).put(v1::put_delegations),
    );
    api = both(
        api,
        "/api/v1/delegations/delete",
        post(v1::delete_delegations),
    );
    api = both(api, "/api/v1/artifacts/", post(v1::post_artifacts));
    api = both(
        api,
        "/api/v1/artifacts/delete",
        post(v1::post_artifacts_delete),
    );
    api = both(
        api,
        "/api/v1/artifacts/publish/",
        post(v1::post_artifacts_publish),
    );
    api = both(api, "/api/v1/task/", get(v1::get_task));
    api = both(api, "/api/v1/audit/", get(audit::get_audit));
    let api = api
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            disabled_endpoints,
        ));

    let mut app = Router::new()
        .merge(api)
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_endpoint))
        .route("/openapi.json", get(openapi::document))
        .route("/", get(openapi::swagger_ui))
        .route("/docs", get(openapi::swagger_ui))
        .route("/status", get(status_page::status_page))
        .route("/docs/assets/{file}", get(openapi::swagger_asset));
    if state.storage.is_some() {
        app = app
            .route("/metadata", get(metadata::listing))
            .route("/metadata/", get(metadata::listing))
            .route("/metadata/{name}", get(metadata::file));
    }
    app.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::map_response(close_after_too_large))
        .layer(DefaultBodyLimit::max(state.server.body_limit))
        .with_state(state)
}

/// A 413 is answered before the body is read, so the rest of the body is
/// still on the connection: close it, and say so (`Connection: close`),
/// so the client opens a new one for its next request instead of failing
/// on a connection the server dropped.
async fn close_after_too_large(mut response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    response
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "detail": "Not Found" })),
    )
        .into_response()
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({ "detail": "Method Not Allowed" })),
    )
        .into_response()
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/health",
    summary = "Liveness",
    responses((status = 200, description = "The process answers", body = Value))
)]
async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// How long `/ready` waits for the dependencies: a database that is down
/// can hold a connection attempt for much longer (the pool waits up to 30 s
/// for a connection), and a readiness probe must answer quickly.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Readiness: the database/queue/state store answer.
#[utoipa::path(
    get,
    path = "/ready",
    summary = "Readiness",
    responses(
        (status = 200, description = "Ready; `warnings` lists roles that need their key holders soon (RSTUF_EXPIRY_WARNING_DAYS)", body = Value),
        (status = 503, description = "A dependency is down", body = Value),
    )
)]
async fn ready(State(state): State<AppState>) -> Response {
    let checked = tokio::time::timeout(READY_TIMEOUT, state.store.ready()).await;
    let error = match checked {
        Ok(Ok(())) => return Json(ready_body(&state).await).into_response(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!(
            "the dependencies did not answer within {} s",
            READY_TIMEOUT.as_secs()
        ),
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "error": error })),
    )
        .into_response()
}

/// `{"status": "ready"}`, with `warnings` while a role that needs people
/// (root, an offline delegated role, a signing under way) is inside its
/// warning window: the service is ready, but someone has to act.
async fn ready_body(state: &AppState) -> serde_json::Value {
    let mut body = json!({ "status": "ready" });
    if state.expiry_warning <= chrono::Duration::zero() {
        return body;
    }
    let Ok(Ok(all)) = tokio::time::timeout(READY_TIMEOUT, state.store.expiries()).await else {
        return body;
    };
    let now = state.clock.now();
    let warnings: Vec<_> = crate::expiry::warnings(&all, now, state.expiry_warning)
        .into_iter()
        .map(|e| {
            json!({
                "role": e.role,
                "version": e.version,
                "expires": rstuf_tuf::format::format_time(e.expires),
                "renewal": e.renewal,
                "message": e.message(now),
            })
        })
        .collect();
    if !warnings.is_empty() {
        body["warnings"] = json!(warnings);
    }
    body
}

/// Prometheus metrics, text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    summary = "Prometheus metrics",
    responses((status = 200, description = "OK", content_type = "application/openmetrics-text", body = String))
)]
async fn metrics_endpoint(State(state): State<AppState>) -> Response {
    if let Ok(depth) = state.store.queue_depth().await {
        state.metrics.set_queue_depth(depth);
    }
    if let Ok(Some(counts)) = state.store.task_counts().await {
        state.metrics.set_tasks_by_state(counts);
    }
    if let Ok(expiries) = state.store.expiries().await {
        state.metrics.set_role_expiries(&expiries);
    }
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

/// Record latency by matched route, method and status.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().trim_end_matches('/').to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    state.metrics.observe_request(
        &route,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Upstream's `RSTUF_DISABLE_ENDPOINTS`: `/api/v1/artifacts/` disables a
/// whole router, `{'POST'}/api/v1/artifacts/publish/` one method of a route.
async fn disabled_endpoints(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !state.server.disable_endpoints.is_empty()
        && is_disabled(
            &state.server.disable_endpoints,
            request.method(),
            request.uri().path(),
        )
    {
        return not_found().await;
    }
    next.run(request).await
}

fn normalize(path: &str) -> String {
    format!("{}/", path.trim_end_matches('/'))
}

pub(crate) fn is_disabled(rules: &[String], method: &Method, path: &str) -> bool {
    let path = normalize(path);
    rules.iter().any(|rule| {
        if let Some(rest) = rule.strip_prefix("{'") {
            // {'POST'}/api/v1/...  or {'GET', 'POST'}/api/...
            let Some((methods, route)) = rest.split_once("'}") else {
                return false;
            };
            let listed = methods
                .split(',')
                .map(|m| m.trim().trim_matches('\''))
                .any(|m| m.eq_ignore_ascii_case(method.as_str()));
            listed && normalize(route) == path
        } else {
            let prefix = normalize(rule);
            path.starts_with(&prefix)
        }
    })
}

/// The scope a v1 request needs when token auth is on.
fn required_scope(method: &Method, path: &str) -> &'static str {
    let p = normalize(path);
    let write = *method != Method::GET;
    match p.as_str() {
        "/api/v1/bootstrap/" if write => "write:bootstrap",
        "/api/v1/bootstrap/" => "read:bootstrap",
        "/api/v1/config/" if write => "write:settings",
        "/api/v1/config/" => "read:settings",
        "/api/v1/metadata/sign/" if write => "write:metadata_sign",
        "/api/v1/metadata/sign/" => "read:metadata_sign",
        "/api/v1/metadata/sign/delete/" => "delete:metadata_sign",
        "/api/v1/artifacts/delete/" => "delete:targets",
        p if p.starts_with("/api/v1/artifacts/") => "write:targets",
        p if p.starts_with("/api/v1/delegations/") => "write:delegations",
        p if p.starts_with("/api/v1/metadata/") => "write:metadata",
        "/api/v1/audit/" => "read:audit",
        _ => "read:tasks",
    }
}

/// Optional bearer-token auth (off unless tokens are configured, as
/// upstream, which expects a gateway in front).
async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let tokens = &state.server.auth_tokens;
    if tokens.is_empty() {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(scopes) = presented.and_then(|t| find_token(tokens, t)) else {
        let mut response = ApiError::detail(
            StatusCode::UNAUTHORIZED,
            json!("Missing or invalid bearer token"),
        )
        .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            "Bearer".parse().expect("static header"),
        );
        return response;
    };
    let needed = required_scope(request.method(), request.uri().path());
    if !scopes.iter().any(|s| s == needed) {
        return ApiError::detail(
            StatusCode::FORBIDDEN,
            json!(format!("Token lacks the '{needed}' scope")),
        )
        .into_response();
    }
    next.run(request).await
}

/// Constant-time comparison against every configured token.
fn find_token<'a>(
    tokens: &'a std::collections::BTreeMap<String, Vec<String>>,
    presented: &str,
) -> Option<&'a Vec<String>> {
    let mut found = None;
    for (token, scopes) in tokens {
        let a = token.as_bytes();
        let b = presented.as_bytes();
        // Compare every byte of the configured token whatever the input,
        // and never truncate the length difference (a token followed by
        // extra bytes must not match).
        let mut diff = 0u8;
        for (i, x) in a.iter().enumerate() {
            diff |= x ^ b.get(i).copied().unwrap_or(0);
        }
        if diff == 0 && a.len() == b.len() {
            found = Some(scopes);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disable_rules_follow_upstream_syntax() {
        let rules = vec![
            "/api/v1/artifacts/".to_string(),
            "{'POST'}/api/v1/bootstrap/".to_string(),
        ];
        assert!(is_disabled(&rules, &Method::POST, "/api/v1/artifacts"));
        assert!(is_disabled(
            &rules,
            &Method::POST,
            "/api/v1/artifacts/delete"
        ));
        assert!(is_disabled(&rules, &Method::POST, "/api/v1/bootstrap"));
        assert!(!is_disabled(&rules, &Method::GET, "/api/v1/bootstrap/"));
        assert!(!is_disabled(&rules, &Method::GET, "/api/v1/task/"));
    }

    #[test]
    fn scopes_map_routes() {
        assert_eq!(
            required_scope(&Method::POST, "/api/v1/artifacts"),
            "write:targets"
        );
        assert_eq!(
            required_scope(&Method::POST, "/api/v1/artifacts/delete"),
            "delete:targets"
        );
        assert_eq!(required_scope(&Method::GET, "/api/v1/task/"), "read:tasks");
        assert_eq!(required_scope(&Method::GET, "/api/v1/audit"), "read:audit");
        assert_eq!(
            required_scope(&Method::POST, "/api/v1/metadata/sign/"),
            "write:metadata_sign"
        );
    }

    #[test]
    fn tokens_match_exactly() {
        let mut tokens = std::collections::BTreeMap::new();
        tokens.insert("s3cret".to_string(), vec!["read:tasks".to_string()]);
        assert!(find_token(&tokens, "s3cret").is_some());
        assert!(find_token(&tokens, "s3cre").is_none());
        assert!(find_token(&tokens, "s3cret!").is_none());
        // A length difference of 256 must not wrap to "equal".
        let long = format!("s3cret{}", "x".repeat(256));
        assert!(find_token(&tokens, &long).is_none());
        assert!(find_token(&tokens, "").is_none());
    }
}

//! The OpenAPI 3.1 document of the API, and a Swagger UI page for it (its
//! assets are vendored in `host/assets`, so it works offline).

use super::v1;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use rstuf_api::requests::*;
use rstuf_api::responses::{Accepted, BootstrapPhase, BootstrapStatus, ErrorBody, TaskStatus};
use rstuf_api::task::TaskState;
use serde_json::{json, Value};
use utoipa::OpenApi;

/// The document: derived from the handlers' `#[utoipa::path]` attributes
/// and the request and response types of `rstuf-api`, so it cannot drift
/// from what the handlers parse and answer.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Repository Service for TUF API",
        description = "RSTUF v1 API (compatible with upstream RSTUF 1.0), served by the Rust RSTUF host. \
            Any operation answers 503 while the database or the queue is unavailable, and 401/403 when \
            bearer tokens are configured and the request lacks one with the operation's scope."
    ),
    paths(
        v1::get_bootstrap,
        v1::post_bootstrap,
        v1::get_config,
        v1::put_config,
        v1::post_metadata,
        v1::post_metadata_online,
        v1::get_metadata_sign,
        v1::post_metadata_sign,
        v1::post_metadata_sign_delete,
        v1::post_delegations,
        v1::put_delegations,
        v1::delete_delegations,
        v1::post_artifacts,
        v1::post_artifacts_delete,
        v1::post_artifacts_publish,
        v1::get_task,
        super::audit::get_audit,
        super::health,
        super::ready,
        super::metrics_endpoint,
    ),
    components(schemas(
        Accepted,
        BootstrapStatus,
        BootstrapPhase,
        TaskStatus,
        TaskState,
        rstuf_api::audit::AuditPage,
        rstuf_api::audit::AuditEntry,
        rstuf_api::audit::AuditHead,
        ErrorBody,
        BootstrapPayload,
        SettingsPayload,
        MetadataUpdatePayload,
        OnlinePayload,
        SignPayload,
        SignDeletePayload,
        DelegationsPayload,
        DelegationsDeletePayload,
        AddArtifactsPayload,
        RemoveArtifactsPayload,
    ))
)]
struct ApiDoc;

/// The OpenAPI document, with this build's version (built once).
pub fn spec() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_string();
        serde_json::to_value(&doc).expect("the OpenAPI document encodes as JSON")
    })
}

pub async fn document() -> Response {
    Json(spec()).into_response()
}

pub async fn swagger_ui() -> Response {
    Html(
        r##"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Repository Service for TUF API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });</script>
<noscript>The OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
</body></html>"##,
    )
    .into_response()
}

/// Swagger UI's own files (swagger-ui-dist, vendored in `host/assets`), so
/// the browsable API works without reaching a CDN.
pub async fn swagger_asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    use axum::http::{header, StatusCode};
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        "swagger-ui-bundle.js" => (
            include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
            "text/javascript; charset=utf-8",
        ),
        "swagger-ui.css" => (
            include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
            "text/css; charset=utf-8",
        ),
        _ => {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({ "detail": "Not Found" })),
            )
                .into_response()
        }
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

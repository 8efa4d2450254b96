//! The OpenAPI 3.0 document of the API, and a Swagger UI page for it (the UI
//! assets load from a public CDN in the operator's browser).

use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

fn accepted() -> Value {
    json!({ "description": "Accepted: a task was queued", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Accepted" } } } })
}

fn err(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn write_op(summary: &str, schema: Option<&str>) -> Value {
    let mut op = json!({
        "summary": summary,
        "responses": {
            "202": accepted(),
            "404": err("Not accepted in the current bootstrap state"),
            "413": err("Body larger than the configured limit"),
            "422": err("Validation error"),
        }
    });
    if let Some(schema) = schema {
        op["requestBody"] = body(schema);
    }
    op
}

fn read_op(summary: &str) -> Value {
    json!({ "summary": summary, "responses": { "200": { "description": "OK", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Envelope" } } } }, "404": err("Not available in the current bootstrap state") } })
}

/// An integer field as upstream's pydantic (lax mode) takes it, and so do
/// we (`api::lax`): the integer, or a numeric string, or (where 1 or 0 is
/// in range) a boolean. The document describes every form accepted, so
/// that what it calls invalid really is refused.
fn lax_int(int: Value, booleans: bool) -> Value {
    let mut forms = vec![
        int,
        json!({ "type": "string", "pattern": "^\\s*[+-]?[0-9]+(_[0-9]+)*(\\.0+)?\\s*$", "description": "a decimal integer as text" }),
    ];
    if booleans {
        forms.push(json!({ "type": "boolean", "description": "true is 1, false is 0" }));
    }
    json!({ "anyOf": forms })
}

/// A boolean field as upstream's pydantic (lax mode) takes it: also 0 and
/// 1, and the words pydantic knows, in any case.
fn lax_bool() -> Value {
    json!({ "anyOf": [
        { "type": "boolean" },
        { "type": "integer", "enum": [0, 1] },
        { "type": "string", "pattern": "^([01]|[tT]|[fF]|[yY]|[nN]|[oO][nN]|[oO][fF][fF]|[nN][oO]|[yY][eE][sS]|[tT][rR][uU][eE]|[fF][aA][lL][sS][eE])$" }
    ] })
}

/// The document, built once per request (it is small).
pub fn spec() -> Value {
    let days = || {
        lax_int(
            json!({ "type": "integer", "minimum": 1, "maximum": 36600 }),
            true,
        )
    };
    let expiration = json!({ "type": "object", "required": ["expiration"], "properties": { "expiration": days() } });
    // As upstream: keyid and sig are strings here; whether they are hex, name
    // a key and verify is the task's check, reported in its result.
    let signature = json!({ "type": "object", "required": ["keyid", "sig"], "properties": { "keyid": { "type": "string" }, "sig": { "type": "string" } } });
    let metadata = json!({ "type": "object", "required": ["signatures", "signed"], "properties": { "signatures": { "type": "array", "items": signature }, "signed": { "type": "object" } } });
    let delegated_role = json!({
        "type": "object", "required": ["name", "x-rstuf-expire-policy"],
        "properties": {
            "name": { "type": "string", "pattern": "^[a-zA-Z0-9_-]+$" },
            "terminating": lax_bool(),
            "keyids": { "type": "array", "items": { "type": "string" } },
            "threshold": lax_int(json!({ "type": "integer", "minimum": 1 }), true),
            "paths": { "type": "array", "minItems": 1, "items": { "type": "string", "minLength": 1 } },
            "x-rstuf-expire-policy": days()
        }
    });
    let delegations = json!({ "type": "object", "required": ["roles"], "properties": { "keys": { "type": "object" }, "roles": { "type": "array", "minItems": 1, "items": delegated_role } } });
    let artifact = json!({
        "type": "object", "required": ["path", "info"],
        "properties": {
            "path": { "type": "string" },
            "info": { "type": "object", "required": ["length", "hashes"], "properties": {
                "length": lax_int(json!({ "type": "integer", "minimum": 0 }), true),
                "hashes": { "type": "object", "minProperties": 1, "additionalProperties": { "type": "string", "pattern": "^[0-9a-fA-F]+$" } },
                "custom": { "type": "object", "nullable": true }
            } }
        }
    });
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Repository Service for TUF API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "RSTUF v1 API (compatible with upstream RSTUF 1.0), served by the Rust RSTUF host."
        },
        "paths": {
            "/api/v1/bootstrap/": {
                "get": read_op("Bootstrap state"),
                "post": write_op("Bootstrap the repository from a ceremony payload", Some("BootstrapPayload"))
            },
            "/api/v1/config/": {
                "get": read_op("Repository settings"),
                "put": write_op("Update expiration policy", Some("SettingsPayload"))
            },
            "/api/v1/metadata/": { "post": write_op("Root metadata update (rotation)", Some("MetadataUpdatePayload")) },
            "/api/v1/metadata/online": { "post": write_op("Force new versions of online roles", Some("OnlinePayload")) },
            "/api/v1/metadata/sign": {
                "get": read_op("Metadata pending signatures"),
                "post": write_op("Add a signature to pending metadata", Some("SignPayload"))
            },
            "/api/v1/metadata/sign/delete": { "post": write_op("Abort a signing process", Some("SignDeletePayload")) },
            "/api/v1/delegations/": {
                "post": write_op("Add delegated roles", Some("DelegationsPayload")),
                "put": write_op("Update delegated roles", Some("DelegationsPayload"))
            },
            "/api/v1/delegations/delete": { "post": write_op("Delete delegated roles", Some("DelegationsDeletePayload")) },
            "/api/v1/artifacts/": { "post": write_op("Add artifacts", Some("AddArtifactsPayload")) },
            "/api/v1/artifacts/delete": { "post": write_op("Remove artifacts", Some("RemoveArtifactsPayload")) },
            "/api/v1/artifacts/publish/": { "post": write_op("Publish all pending artifacts", None) },
            "/api/v1/task/": { "get": {
                "summary": "Task state",
                "parameters": [{ "name": "task_id", "in": "query", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "OK", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Envelope" } } } }, "422": err("Missing task_id") }
            } },
            "/health": { "get": { "summary": "Liveness", "responses": { "200": { "description": "OK" } } } },
            "/ready": { "get": { "summary": "Readiness", "responses": { "200": { "description": "Ready" }, "503": { "description": "A dependency is down" } } } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "responses": { "200": { "description": "OK" } } } }
        },
        "components": { "schemas": {
            "Envelope": { "type": "object", "required": ["message"], "properties": { "data": { "type": "object" }, "message": { "type": "string" } } },
            "Accepted": { "type": "object", "required": ["data", "message"], "properties": { "data": { "type": "object", "required": ["task_id", "last_update"], "properties": { "task_id": { "type": "string", "pattern": "^[0-9a-f]{32}$" }, "last_update": { "type": "string", "format": "date-time" }, "artifacts": { "type": "array", "items": { "type": "string" } } } }, "message": { "type": "string" } } },
            "Error": { "type": "object", "required": ["detail"], "properties": { "detail": {} } },
            "BootstrapPayload": { "type": "object", "required": ["settings", "metadata"], "properties": {
                "settings": { "type": "object", "required": ["roles"], "properties": { "roles": { "type": "object", "required": ["root", "targets", "snapshot", "timestamp"], "properties": {
                    "root": expiration, "targets": expiration, "snapshot": expiration, "timestamp": expiration,
                    "bins": { "type": "object", "nullable": true, "required": ["expiration", "number_of_delegated_bins"], "properties": { "expiration": days(), "number_of_delegated_bins": lax_int(json!({ "type": "integer", "enum": [2,4,8,16,32,64,128,256,512,1024,2048,4096,8192,16384] }), false), "x-rstuf-bins-layout": { "type": "string", "nullable": true, "enum": ["succinct", "classic", null], "description": "Hash-bin layout; null or absent means succinct (TAP 15)." } } },
                    "delegations": { "allOf": [delegations], "nullable": true }
                } } } },
                "metadata": { "type": "object", "required": ["root"], "properties": { "root": metadata } },
                "timeout": { "allOf": [lax_int(json!({ "type": "integer", "minimum": 1 }), true)], "nullable": true }
            } },
            "SettingsPayload": { "type": "object", "required": ["settings"], "properties": { "settings": { "type": "object", "required": ["expiration"], "properties": { "expiration": { "type": "object", "minProperties": 1, "additionalProperties": days() } } } } },
            "MetadataUpdatePayload": { "type": "object", "required": ["metadata"], "properties": { "metadata": { "type": "object", "required": ["root"], "properties": { "root": metadata }, "additionalProperties": false } } },
            "OnlinePayload": { "type": "object", "properties": { "roles": { "type": "array", "items": { "type": "string" } } } },
            "SignPayload": { "type": "object", "required": ["role", "signature"], "properties": { "role": { "type": "string" }, "signature": signature } },
            "SignDeletePayload": { "type": "object", "required": ["role"], "properties": { "role": { "type": "string" } } },
            "DelegationsPayload": { "type": "object", "required": ["delegations"], "properties": { "delegations": delegations } },
            "DelegationsDeletePayload": { "type": "object", "required": ["delegations"], "properties": { "delegations": { "type": "object", "required": ["roles"], "properties": { "roles": { "type": "array", "minItems": 1, "items": { "type": "object", "required": ["name"], "properties": { "name": { "type": "string" } } } } } } } },
            "AddArtifactsPayload": { "type": "object", "required": ["artifacts"], "properties": { "artifacts": { "type": "array", "items": artifact }, "add_task_id_to_custom": lax_bool(), "publish_artifacts": lax_bool() } },
            "RemoveArtifactsPayload": { "type": "object", "required": ["artifacts"], "properties": { "artifacts": { "type": "array", "items": { "type": "string" } }, "publish_artifacts": lax_bool() } }
        } }
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

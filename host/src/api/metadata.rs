//! Read-only view of the published metadata through the storage plugin, so
//! an embedded deployment needs no separate web server: `GET /metadata/` is
//! an HTML directory listing (upstream's functional tests read one) and
//! `GET /metadata/<file>` serves a file.

use super::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

pub async fn listing(State(state): State<AppState>) -> Response {
    let Some(storage) = &state.storage else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match storage.list_objects("").await {
        Ok(objects) => {
            let mut html = String::from("<!DOCTYPE html>\n<html><head><title>Directory listing for /metadata/</title></head><body>\n<h1>Directory listing for /metadata/</h1>\n<hr>\n<ul>\n");
            for o in objects.iter().filter(|o| valid_name(&o.name)) {
                html.push_str(&format!("<li><a href=\"{0}\">{0}</a></li>\n", o.name));
            }
            html.push_str("</ul>\n<hr>\n</body></html>\n");
            Html(html).into_response()
        }
        Err(e) => {
            tracing::error!("metadata listing failed: {e}");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

pub async fn file(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let Some(storage) = &state.storage else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !valid_name(&name) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match storage.get(&name).await {
        Ok(Some(bytes)) => {
            // timestamp.json changes in place; versioned files never do.
            let cache = if name == "timestamp.json" {
                "no-cache"
            } else {
                "public, max-age=31536000, immutable"
            };
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CACHE_CONTROL, cache),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!("reading metadata file {name} failed: {e}");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

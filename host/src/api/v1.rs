//! Handlers of the 16 `/api/v1` operations, with upstream's status codes and
//! exact message strings (rstuf-contract §1.3). Every write only validates,
//! records a task durably and answers 202; the worker does the rest.

use super::extract::ApiJson;
use super::response::{accepted, envelope, ApiError};
use super::AppState;
use crate::state::{BootstrapState, NewTask, BOOTSTRAP};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use rstuf_api::requests::*;
use rstuf_api::responses::{
    Accepted, BootstrapPhase, BootstrapStatus, Envelope, ErrorBody, TaskStatus, WriteResponses,
};
use rstuf_api::task::{is_task_id, new_task_id, TaskName, TaskState};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

type ApiResult = Result<Response, ApiError>;

async fn bootstrap_state(state: &AppState) -> Result<BootstrapState, ApiError> {
    let value = state
        .store
        .setting(BOOTSTRAP)
        .await
        .map_err(|e| ApiError::unavailable("settings store", &e))?;
    Ok(BootstrapState::from_setting(value.as_ref()))
}

async fn require_finished(state: &AppState, error_prefix: &str) -> Result<(), ApiError> {
    let bs = bootstrap_state(state).await?;
    if bs.is_finished() {
        Ok(())
    } else {
        Err(ApiError::rejected(
            StatusCode::NOT_FOUND,
            "Task not accepted.",
            format!("{error_prefix} State: {}", bs.word()),
        ))
    }
}

async fn submit(
    state: &AppState,
    action: TaskName,
    payload: Option<Value>,
) -> Result<String, ApiError> {
    let task_id = new_task_id();
    submit_with_id(state, &task_id, action, payload).await?;
    Ok(task_id)
}

async fn submit_with_id(
    state: &AppState,
    task_id: &str,
    action: TaskName,
    payload: Option<Value>,
) -> Result<(), ApiError> {
    state
        .store
        .enqueue(NewTask {
            task_id: task_id.to_string(),
            action,
            payload,
        })
        .await
        .map_err(|e| ApiError::unavailable("task queue", &e))?;
    state.metrics.task_accepted(action);
    Ok(())
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// `GET /api/v1/bootstrap/`
#[utoipa::path(
    get,
    path = "/api/v1/bootstrap/",
    summary = "Bootstrap state",
    responses(
        (status = 200, description = "Whether the repository can be bootstrapped", body = Envelope<BootstrapStatus>),
    )
)]
pub async fn get_bootstrap(State(state): State<AppState>) -> ApiResult {
    let bs = bootstrap_state(&state).await?;
    let status = |bootstrap, phase, id: Option<&String>| BootstrapStatus {
        bootstrap,
        state: phase,
        id: id.cloned(),
    };
    let (data, message) = match &bs {
        BootstrapState::None => (status(false, None, None), "System available for bootstrap."),
        BootstrapState::Finished(id) => (
            status(true, Some(BootstrapPhase::Finished), Some(id)),
            "System LOCKED for bootstrap.",
        ),
        BootstrapState::Pre(id) => (
            status(false, Some(BootstrapPhase::Pre), Some(id)),
            "System LOCKED for bootstrap.",
        ),
        BootstrapState::Signing(id) => (
            status(false, Some(BootstrapPhase::Signing), Some(id)),
            "System LOCKED for bootstrap.",
        ),
        BootstrapState::Unknown => (
            status(false, Some(BootstrapPhase::Unknown), None),
            "System available for bootstrap.",
        ),
    };
    Ok(envelope(StatusCode::OK, message, Some(to_value(&data))))
}

/// `POST /api/v1/bootstrap/`
#[utoipa::path(
    post,
    path = "/api/v1/bootstrap/",
    summary = "Bootstrap the repository from a ceremony payload",
    request_body = BootstrapPayload,
    responses(WriteResponses)
)]
pub async fn post_bootstrap(
    State(state): State<AppState>,
    ApiJson(payload): ApiJson<BootstrapPayload>,
) -> ApiResult {
    let task_id = new_task_id();
    let locked = state
        .store
        .lock_bootstrap(&task_id)
        .await
        .map_err(|e| ApiError::unavailable("settings store", &e))?;
    let stamped = match locked {
        Ok(stamped) => stamped,
        Err(current) => {
            let bs = BootstrapState::from_setting(current.map(Value::String).as_ref());
            return Err(ApiError::detail(
                StatusCode::NOT_FOUND,
                json!({ "error": format!("System already has a Metadata. State: {}", bs.word()) }),
            ));
        }
    };
    let mut body = to_value(&payload);
    if body.get("timeout").is_none_or(Value::is_null) {
        body["timeout"] = json!(300);
    }
    let timeout = body["timeout"].as_u64().unwrap_or(300);
    if let Err(e) = submit_with_id(&state, &task_id, TaskName::Bootstrap, Some(body)).await {
        // Not accepted: the lock must not outlive the request.
        if let Err(unlock) = state.store.unlock_bootstrap(&task_id, None).await {
            tracing::error!(task_id, "cannot release the bootstrap lock: {unlock}");
        }
        return Err(e);
    }
    spawn_bootstrap_watchdog(&state, task_id.clone(), stamped, timeout);
    Ok(accepted("Bootstrap accepted.", &task_id, None))
}

/// Upstream's bootstrap `timeout`: if no worker has started the bootstrap
/// `timeout` seconds after it was accepted, release the lock so the
/// operator can try again. A worker starting a bootstrap claims the lock
/// (re-stamping it) in one statement on the same row as this release, so
/// exactly one of them wins: a bootstrap that runs is never unlocked under
/// it, and a worker that picks the task up after the release finds the
/// lock gone and reports it failed, changing nothing.
fn spawn_bootstrap_watchdog(
    state: &AppState,
    task_id: String,
    stamped: chrono::NaiveDateTime,
    timeout_secs: u64,
) {
    let state = state.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(timeout_secs)).await;
        match state.store.unlock_bootstrap(&task_id, Some(stamped)).await {
            Ok(true) => tracing::warn!(
                task_id,
                timeout_secs,
                "no worker started the bootstrap in time; the bootstrap lock is released"
            ),
            Ok(false) => {}
            Err(e) => tracing::warn!(task_id, "bootstrap watchdog: {e}"),
        }
    });
}

/// `GET /api/v1/config/`
#[utoipa::path(
    get,
    path = "/api/v1/config/",
    summary = "Repository settings",
    responses(
        (status = 200, description = "The repository's settings", body = Envelope<Value>),
        (status = 404, description = "Not bootstrapped yet", body = ErrorBody),
    )
)]
pub async fn get_config(State(state): State<AppState>) -> ApiResult {
    let bs = bootstrap_state(&state).await?;
    // As upstream: the settings are shown once the bootstrap has finished.
    if !bs.is_finished() {
        return Err(ApiError::rejected(
            StatusCode::NOT_FOUND,
            "No Repository Settings/Config found.",
            format!("It requires bootstrap. State: {}", bs.word()),
        ));
    }
    let settings = state
        .store
        .settings()
        .await
        .map_err(|e| ApiError::unavailable("settings store", &e))?;
    let mut data = Map::new();
    for (key, value) in settings {
        if key == crate::expiry::NOTIFIED {
            continue;
        }
        let value = match value {
            Value::Null => continue,
            Value::String(s) if s.eq_ignore_ascii_case("none") => continue,
            Value::String(s) => Value::String(s.to_lowercase()),
            other => other,
        };
        data.insert(key.to_lowercase(), value);
    }
    Ok(envelope(
        StatusCode::OK,
        "Current Settings",
        Some(Value::Object(data)),
    ))
}

/// `PUT /api/v1/config/`
#[utoipa::path(
    put,
    path = "/api/v1/config/",
    summary = "Update expiration policy",
    request_body = SettingsPayload,
    responses(WriteResponses)
)]
pub async fn put_config(
    State(state): State<AppState>,
    ApiJson(payload): ApiJson<SettingsPayload>,
) -> ApiResult {
    let bs = bootstrap_state(&state).await?;
    if !bs.is_finished() {
        return Err(ApiError::rejected(
            StatusCode::NOT_FOUND,
            "No Repository Settings/Config found.",
            format!("It requires bootstrap. State: {}", bs.word()),
        ));
    }
    let task_id = submit(&state, TaskName::UpdateSettings, Some(to_value(&payload))).await?;
    Ok(accepted("Settings successfully submitted.", &task_id, None))
}

/// `POST /api/v1/metadata/`
#[utoipa::path(
    post,
    path = "/api/v1/metadata/",
    summary = "Root metadata update (rotation)",
    request_body = MetadataUpdatePayload,
    responses(WriteResponses)
)]
pub async fn post_metadata(
    State(state): State<AppState>,
    ApiJson(payload): ApiJson<MetadataUpdatePayload>,
) -> ApiResult {
    require_finished(&state, "Requires bootstrap finished.").await?;
    let task_id = submit(&state, TaskName::MetadataUpdate, Some(to_value(&payload))).await?;
    Ok(accepted("Metadata update accepted.", &task_id, None))
}

/// `POST /api/v1/metadata/online`
#[utoipa::path(
    post,
    path = "/api/v1/metadata/online",
    summary = "Force new versions of online roles",
    request_body = OnlinePayload,
    responses(WriteResponses)
)]
pub async fn post_metadata_online(
    State(state): State<AppState>,
    ApiJson(payload): ApiJson<OnlinePayload>,
) -> ApiResult {
    require_finished(&state, "Requires bootstrap finished.").await?;
    let reject = |error: &str| {
        Err(ApiError::rejected(
            StatusCode::NOT_FOUND,
            "Task not accepted.",
            error,
        ))
    };
    let settings = state
        .store
        .settings()
        .await
        .map_err(|e| ApiError::unavailable("settings store", &e))?;
    let targets_online = settings
        .get("TARGETS_ONLINE_KEY")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if payload.roles.iter().any(|r| r == "targets") && !targets_online {
        return reject("Targets is an offline role - use other endpoint to update");
    }
    // Upstream read DELEGATED_ROLES_NAMES, which its worker no longer
    // writes; we derive the layout from the settings the worker does write.
    let uses_bins = settings
        .get("NUMBER_OF_DELEGATED_BINS")
        .is_some_and(|v| !v.is_null());
    // The delegated roles as they are now (delegations change after
    // bootstrap), from the trusted targets metadata.
    let custom_roles: Vec<String> = settings
        .get("TRUSTED_TARGETS")
        .and_then(|t| t.pointer("/signed/delegations/roles"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("name").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    for role in &payload.roles {
        let top = ["root", "targets", "snapshot", "timestamp"].contains(&role.as_str());
        if uses_bins && !(top || role == "bins") {
            return reject("Hash bin delegation is used and only root, targets, snapshot, timestamp and bins roles can be bumped");
        }
        if !uses_bins && role == "bins" {
            return reject("Custom target delegation used and bins cannot be bumped");
        }
        if !uses_bins && !top && !custom_roles.contains(role) {
            return reject(&format!(
                "Role '{role}' is not a delegated role of this repository"
            ));
        }
    }
    let roles: Vec<String> = if payload.roles.is_empty() {
        let mut all = vec!["snapshot".to_string(), "timestamp".to_string()];
        if targets_online {
            all.push("targets".into());
        }
        if uses_bins {
            all.push("bins".into());
        } else {
            all.extend(custom_roles);
        }
        all
    } else {
        payload.roles
    };
    let task_id = submit(
        &state,
        TaskName::ForceOnlineMetadataUpdate,
        Some(json!({ "roles": roles })),
    )
    .await?;
    Ok(accepted(
        "Force online metadata update accepted.",
        &task_id,
        None,
    ))
}

/// The settings key holding metadata of `role` that waits for signatures.
pub fn signing_key(role: &str) -> String {
    if role == "root" {
        "ROOT_SIGNING".to_string()
    } else {
        format!("{role}_SIGNING")
    }
}

fn role_of_signing_key(key: &str) -> Option<String> {
    let role = key.strip_suffix("_SIGNING")?;
    Some(if role == "ROOT" {
        "root".into()
    } else {
        role.to_string()
    })
}

/// `GET /api/v1/metadata/sign`
#[utoipa::path(
    get,
    path = "/api/v1/metadata/sign",
    summary = "Metadata pending signatures",
    responses(
        (status = 200, description = "The metadata waiting for signatures, if any", body = Envelope<Value>),
        (status = 404, description = "Not bootstrapped or signing yet", body = ErrorBody),
    )
)]
pub async fn get_metadata_sign(State(state): State<AppState>) -> ApiResult {
    let bs = bootstrap_state(&state).await?;
    if !matches!(bs, BootstrapState::Finished(_) | BootstrapState::Signing(_)) {
        return Err(ApiError::rejected(
            StatusCode::NOT_FOUND,
            "No metadata pending signing available",
            format!("Requires bootstrap started. State: {}", bs.word()),
        ));
    }
    let settings = state
        .store
        .settings()
        .await
        .map_err(|e| ApiError::unavailable("settings store", &e))?;
    let mut pending = Map::new();
    for (key, value) in &settings {
        if value.is_null() {
            continue;
        }
        if let Some(role) = role_of_signing_key(key) {
            pending.insert(role, value.clone());
        }
    }
    if pending.is_empty() {
        return Ok(envelope(
            StatusCode::OK,
            "No metadata pending signing available",
            None,
        ));
    }
    if pending.contains_key("root") {
        if let Some(root) = settings.get("TRUSTED_ROOT").filter(|v| !v.is_null()) {
            pending.insert("trusted_root".into(), root.clone());
        }
    }
    let any_targets = pending
        .values()
        .any(|md| md.pointer("/signed/_type").and_then(Value::as_str) == Some("targets"));
    if any_targets {
        if let Some(targets) = settings.get("TRUSTED_TARGETS").filter(|v| !v.is_null()) {
            pending.insert("trusted_targets".into(), targets.clone());
        }
    }
    Ok(envelope(
        StatusCode::OK,
        "Metadata role(s) pending signing",
        Some(json!({ "metadata": pending })),
    ))
}

/// `POST /api/v1/metadata/sign`
#[utoipa::path(
    post,
    path = "/api/v1/metadata/sign",
    summary = "Add a signature to pending metadata",
    request_body = SignPayload,
    responses(WriteResponses)
)]
pub async fn post_metadata_sign(
    State(state): State<AppState>,
    ApiJson(payload): ApiJson<SignPayload>,
) -> ApiResult {
    let bs = bootstrap_state(&state).await?;
    if !matches!(bs, BootstrapState::Finished(_) | BootstrapState::Signing(_)) {
        return Err(ApiError::rejected(
            StatusCode::NOT_FOUND,
            "No signing pending.",
            format!("Requires bootstrap in signing state. State: {}", bs.word()),
        ));
    }
    let task_id = submit(&state, TaskName::SignMetadata, Some(to_value(&payload))).await?;
    Ok(accepted("Metadata sign accepted.", &task_id, None))
}

/// `POST /api/v1/metadata/sign/delete`
#[utoipa::path(
    post,
    path = "/api/v1/metadata/sign/delete",
    summary = "Abort a signing process",
    request_body = SignDeletePayload,
    responses(WriteResponses)
)]
pub async fn post_metadata_sign_delete(
    State(state): State<AppState>,
    ApiJson(payload): ApiJson<SignDeletePayload>,
) -> ApiResult {
    let pending = state
        .store
        .setting(&signing_key(&payload.role))
        .await
        .map_err(|e| ApiError::unavailable("settings store", &e))?;
    if pending.is_none_or(|v| v.is_null()) {
        return Err(ApiError::rejected(
            StatusCode::NOT_FOUND,
            &format!("No signing process for {}.", payload.role),
            format!("The {} role is not in a signing process.", payload.role),
        ));
    }
    let task_id = submit(
        &state,
        TaskName::DeleteSignMetadata,
        Some(to_value(&payload)),
    )
    .await?;
    Ok(accepted("Metadata sign delete accepted.", &task_id, None))
}

async fn delegation(state: &AppState, task: DelegationTask, message: &str) -> ApiResult {
    // Upstream answers 200 here (a bug, contract §8); we answer 404 like the
    // other write endpoints.
    require_finished(state, "Requires bootstrap finished.").await?;
    let task_id = submit(state, TaskName::MetadataDelegation, Some(to_value(&task))).await?;
    Ok(accepted(message, &task_id, None))
}

/// `POST /api/v1/delegations/`
#[utoipa::path(
    post,
    path = "/api/v1/delegations/",
    summary = "Add delegated roles",
    request_body = DelegationsPayload,
    responses(WriteResponses)
)]
pub async fn post_delegations(
    State(state): State<AppState>,
    ApiJson(p): ApiJson<DelegationsPayload>,
) -> ApiResult {
    let task = DelegationTask::Add {
        delegations: p.delegations,
    };
    delegation(&state, task, "Metadata delegation add accepted.").await
}

/// `PUT /api/v1/delegations/`
#[utoipa::path(
    put,
    path = "/api/v1/delegations/",
    summary = "Update delegated roles",
    request_body = DelegationsPayload,
    responses(WriteResponses)
)]
pub async fn put_delegations(
    State(state): State<AppState>,
    ApiJson(p): ApiJson<DelegationsPayload>,
) -> ApiResult {
    let task = DelegationTask::Update {
        delegations: p.delegations,
    };
    delegation(&state, task, "Metadata delegation update accepted.").await
}

/// `POST /api/v1/delegations/delete`
#[utoipa::path(
    post,
    path = "/api/v1/delegations/delete",
    summary = "Delete delegated roles",
    request_body = DelegationsDeletePayload,
    responses(WriteResponses)
)]
pub async fn delete_delegations(
    State(state): State<AppState>,
    ApiJson(p): ApiJson<DelegationsDeletePayload>,
) -> ApiResult {
    let task = DelegationTask::Delete {
        delegations: p.delegations,
    };
    delegation(&state, task, "Metadata delegation delete accepted.").await
}

fn skip_suffix(publish: bool) -> &'static str {
    if publish {
        ""
    } else {
        " Publishing will be skipped."
    }
}

/// `POST /api/v1/artifacts/`
#[utoipa::path(
    post,
    path = "/api/v1/artifacts/",
    summary = "Add artifacts",
    request_body = AddArtifactsPayload,
    responses(WriteResponses)
)]
pub async fn post_artifacts(
    State(state): State<AppState>,
    ApiJson(payload): ApiJson<AddArtifactsPayload>,
) -> ApiResult {
    require_finished(&state, "It requires bootstrap finished.").await?;
    let paths: Vec<String> = payload.artifacts.iter().map(|a| a.path.clone()).collect();
    let message = format!(
        "New Artifact(s) successfully submitted.{}",
        skip_suffix(payload.publish_artifacts)
    );
    let task_id = submit(&state, TaskName::AddArtifacts, Some(to_value(&payload))).await?;
    Ok(accepted(&message, &task_id, Some(paths)))
}

/// `POST /api/v1/artifacts/delete`
#[utoipa::path(
    post,
    path = "/api/v1/artifacts/delete",
    summary = "Remove artifacts",
    request_body = RemoveArtifactsPayload,
    responses(WriteResponses)
)]
pub async fn post_artifacts_delete(
    State(state): State<AppState>,
    ApiJson(payload): ApiJson<RemoveArtifactsPayload>,
) -> ApiResult {
    require_finished(&state, "It requires bootstrap finished.").await?;
    let paths = payload.artifacts.clone();
    let message = format!(
        "Remove Artifact(s) successfully submitted.{}",
        skip_suffix(payload.publish_artifacts)
    );
    let task_id = submit(&state, TaskName::RemoveArtifacts, Some(to_value(&payload))).await?;
    Ok(accepted(&message, &task_id, Some(paths)))
}

/// `POST /api/v1/artifacts/publish/`
#[utoipa::path(
    post,
    path = "/api/v1/artifacts/publish/",
    summary = "Publish all pending artifacts",
    responses(
        (status = 202, description = "Accepted: a task was queued", body = Envelope<Accepted>),
    )
)]
pub async fn post_artifacts_publish(State(state): State<AppState>) -> ApiResult {
    let task_id = submit(&state, TaskName::PublishArtifacts, None).await?;
    Ok(accepted(
        "Publish artifacts successfully submitted.",
        &task_id,
        Some(Vec::new()),
    ))
}

/// `GET /api/v1/task/?task_id=`
#[utoipa::path(
    get,
    path = "/api/v1/task/",
    summary = "Task state",
    params(("task_id" = String, Query, description = "The id a 202 answer gave")),
    responses(
        (status = 200, description = "The task's state and result (PENDING for an unknown id, as upstream)", body = Envelope<TaskStatus>),
        (status = 422, description = "Missing or malformed task_id", body = ErrorBody),
    )
)]
pub async fn get_task(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let Some(task_id) = query.get("task_id") else {
        return Err(ApiError::detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!([{ "type": "missing", "loc": ["query", "task_id"], "msg": "Field required" }]),
        ));
    };
    // Any plausible id is PENDING until known (as upstream); anything that
    // cannot be a task id is refused rather than echoed back.
    if task_id.is_empty()
        || task_id.len() > 128
        || !task_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!([{ "type": "string_pattern_mismatch", "loc": ["query", "task_id"],
                     "msg": "task_id must be 1 to 128 letters, digits, '-' or '_' (task ids are 32 hex characters)" }]),
        ));
    }
    let record = if is_task_id(task_id) {
        state
            .store
            .task(task_id)
            .await
            .map_err(|e| ApiError::unavailable("task store", &e))?
    } else {
        None
    };
    let data = match record {
        Some(record) => TaskStatus {
            task_id: task_id.clone(),
            state: record.state,
            result: record.result,
        },
        None => TaskStatus {
            task_id: task_id.clone(),
            state: TaskState::Pending,
            result: None,
        },
    };
    Ok(envelope(
        StatusCode::OK,
        "Task state.",
        Some(to_value(&data)),
    ))
}

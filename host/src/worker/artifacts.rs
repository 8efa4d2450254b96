//! Adding and removing artifacts: the database first, then a batched
//! publish. A task finishes (SUCCESS) only once its artifacts are published,
//! like upstream, so a client polling the task can fetch the artifact right
//! after. With `publish_artifacts: false` the task finishes after the
//! database write; a later publish picks the changes up.

use super::publish::{offline_roles, publish, publish_if_free, timestamp_written, PublishOptions};
use super::{Ctx, Settings, WorkError};
use rstuf_api::requests::{AddArtifactsPayload, RemoveArtifactsPayload};
use rstuf_api::task::{TaskName, TaskResult};
use rstuf_store::NewFile;
use rstuf_tuf::bins::Bins;
use rstuf_tuf::paths::{find_role, invalid_path_reason};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Which delegated role an artifact path belongs to.
enum Layout {
    Bins(Bins),
    Custom(Vec<Value>),
}

impl Layout {
    fn from_settings(settings: &Settings) -> Result<Layout, WorkError> {
        if let Some(n) = settings.int("NUMBER_OF_DELEGATED_BINS") {
            return Bins::from_number_of_bins(n as u64)
                .map(Layout::Bins)
                .map_err(|e| WorkError::invalid(e.to_string()));
        }
        let roles = settings
            .get("TRUSTED_TARGETS")
            .and_then(|t| t.pointer("/signed/delegations/roles"))
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| WorkError::invalid("the repository is not bootstrapped"))?;
        Ok(Layout::Custom(roles))
    }

    fn role_for(&self, path: &str) -> Option<String> {
        match self {
            Layout::Bins(b) => Some(b.role_for(path)),
            Layout::Custom(roles) => find_role(roles, path).map(String::from),
        }
    }
}

/// A publish failure after this task's rows are committed: the rows stay
/// (they are the repository's new state, published by the next pass that
/// succeeds), and the task's error says so, so that a task recorded as
/// failed never hides artifacts a later pass publishes.
fn recorded(e: WorkError) -> WorkError {
    const NOTE: &str = "the artifact changes are recorded and will be published by the next successful publish pass";
    match e {
        WorkError::Retry(m) => WorkError::Retry(format!("publishing failed: {m}; {NOTE}")),
        WorkError::Invalid(m) => WorkError::Invalid(format!("publishing failed: {m}; {NOTE}")),
        refused => refused,
    }
}

/// Publish, then wait until every path in `paths` is published (another
/// worker's pass may publish them first) or set aside as unpublishable.
async fn publish_and_wait(
    ctx: &Ctx,
    task_id: &str,
    paths: &[String],
    roles: &[String],
) -> Result<(), WorkError> {
    let _ = ctx
        .store
        .set_state(
            task_id,
            "RUNNING",
            Some(json!({ "message": "Publishing", "details": { "published_roles": [], "roles_to_publish": format!("{roles:?}") } })),
        )
        .await;
    // Group commit: run a pass when nobody else is, otherwise wait for the
    // running pass (which folds in every pending row, ours included).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut wait = std::time::Duration::from_millis(5);
    loop {
        let ran = publish_if_free(ctx).await.map_err(recorded)?.is_some();
        let state = ctx.store.publish_state(paths).await?;
        // Published means clients can see it: the pass that committed our
        // rows (maybe another worker's) must also have written the
        // timestamp that references them. A pass that died in between is
        // repaired by the next `publish_if_free`.
        if state.pending == 0 && timestamp_written(ctx).await.map_err(recorded)? {
            if state.rejected.is_empty() {
                return Ok(());
            }
            let refused: Vec<String> = state
                .rejected
                .iter()
                .map(|(path, why)| format!("'{path}' ({why})"))
                .collect();
            return Err(WorkError::Refused(format!(
                "{} of {} artifact(s) could not be published and were set aside: {}; the others are published",
                refused.len(),
                paths.len(),
                refused.join(", ")
            )));
        }
        if std::time::Instant::now() > deadline {
            return Err(WorkError::Retry(
                "artifacts were not published in time; the task will be retried".into(),
            ));
        }
        if ran {
            wait = std::time::Duration::from_millis(5);
        } else {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(std::time::Duration::from_millis(50));
        }
    }
}

/// The `add_artifacts` task.
pub async fn add(ctx: &Ctx, payload: &Value, task_id: &str) -> Result<TaskResult, WorkError> {
    let settings = Settings::load(&ctx.store).await?;
    let layout = Layout::from_settings(&settings)?;
    let offline = offline_roles(&settings);
    let role_ids: BTreeMap<String, i64> = ctx
        .store
        .active_roles()
        .await?
        .into_iter()
        .map(|r| (r.rolename, r.id))
        .collect();
    let payload = AddArtifactsPayload::deserialize(payload).map_err(|e| {
        WorkError::Refused(format!(
            "no artifact of this task was added: the task is not an add_artifacts request: {e}"
        ))
    })?;

    let mut files = Vec::new();
    let mut added = Vec::new();
    let mut invalid = Vec::new();
    let mut refused = Vec::new();
    let mut roles = BTreeSet::new();
    for artifact in payload.artifacts {
        let path = artifact.path;
        let role = if invalid_path_reason(&path).is_some() {
            None
        } else {
            layout.role_for(&path)
        };
        let Some((role, role_id)) = role.and_then(|r| role_ids.get(&r).map(|id| (r, *id))) else {
            invalid.push(path);
            continue;
        };
        let mut info = serde_json::to_value(&artifact.info).unwrap_or(Value::Null);
        // The API checked this at the door; a task queued around it (an
        // older version, a hand-made message) is refused whole, before
        // anything is written.
        if let Err(e) = rstuf_tuf::schema::check_target_info(&info) {
            refused.push(format!("'{path}' ({e})"));
            continue;
        }
        if payload.add_task_id_to_custom {
            let mut custom = Map::new();
            custom.insert("added_by_task_id".into(), json!(task_id));
            if let Some(existing) = info.get("custom").and_then(Value::as_object) {
                custom.extend(existing.clone());
            }
            info["custom"] = Value::Object(custom);
        }
        if let Some(obj) = info.as_object_mut() {
            obj.retain(|_, v| !v.is_null());
        }
        files.push(NewFile {
            path: path.clone(),
            info,
            role_id,
        });
        added.push(path);
        roles.insert(role);
    }
    if !refused.is_empty() {
        return Err(WorkError::Refused(format!(
            "no artifact of this task was added: {} artifact(s) have target info that cannot be published: {}",
            refused.len(),
            refused.join(", ")
        )));
    }
    // Once per task: a redelivered task goes straight to publishing.
    ctx.store.upsert_files_once(task_id, &files).await?;
    let roles: Vec<String> = roles.into_iter().collect();
    let online_paths: Vec<String> = files
        .iter()
        .filter(|f| {
            !role_ids
                .iter()
                .any(|(name, id)| *id == f.role_id && offline.contains(name))
        })
        .map(|f| f.path.clone())
        .collect();
    if payload.publish_artifacts && !online_paths.is_empty() {
        publish_and_wait(ctx, task_id, &online_paths, &roles).await?;
    } else if payload.publish_artifacts && !files.is_empty() {
        // Only offline roles changed: a pass writes their signing drafts
        // (`<role>_SIGNING`) for the key holders; nothing is published.
        publish(ctx, PublishOptions::default())
            .await
            .map_err(recorded)?;
    }
    Ok(TaskResult::ok(
        TaskName::AddArtifacts,
        "Artifact(s) Added",
        json!({ "added_artifacts": added, "invalid_paths": invalid, "artifact_roles": roles }),
    ))
}

/// The `remove_artifacts` task.
pub async fn remove(ctx: &Ctx, payload: &Value, task_id: &str) -> Result<TaskResult, WorkError> {
    let payload = RemoveArtifactsPayload::deserialize(payload).map_err(|e| {
        WorkError::Refused(format!(
            "no artifact was removed: the task is not a remove_artifacts request: {e}"
        ))
    })?;
    let paths = payload.artifacts;
    if paths.is_empty() {
        return Ok(TaskResult::error(
            TaskName::RemoveArtifacts,
            "Artifact(s) not removed",
            "At list one artifact is required",
            None,
        ));
    }
    let (valid, mut not_found): (Vec<String>, Vec<String>) = paths
        .into_iter()
        .partition(|p| invalid_path_reason(p).is_none());
    let (removed, missing) = ctx.store.mark_removed_once(task_id, &valid).await?;
    not_found.extend(missing);
    if payload.publish_artifacts && !removed.is_empty() {
        publish_and_wait(ctx, task_id, &removed, &[]).await?;
    }
    Ok(TaskResult::ok(
        TaskName::RemoveArtifacts,
        "Artifact(s) removed",
        json!({ "deleted_artifacts": removed, "not_found_artifacts": not_found }),
    ))
}

/// The `publish_artifacts` task.
pub async fn publish_task(ctx: &Ctx) -> Result<TaskResult, WorkError> {
    let settings = Settings::load(&ctx.store).await?;
    if settings.get("TRUSTED_ROOT").is_none() {
        return Ok(TaskResult::ok(
            TaskName::PublishArtifacts,
            "Publish artifacts skipped: not bootstrapped",
            json!({ "artifact_roles": null }),
        ));
    }
    let outcome = publish(ctx, PublishOptions::default()).await?;
    let roles = if outcome.roles.is_empty() {
        Value::Null
    } else {
        json!(outcome.roles)
    };
    Ok(TaskResult::ok(
        TaskName::PublishArtifacts,
        "Artifact(s) Published",
        json!({ "artifact_roles": roles }),
    ))
}

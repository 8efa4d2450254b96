//! The `update_settings` task: change the expiry policy of existing roles.

use super::{expiration_key, Ctx, Settings, WorkError};
use rstuf_api::requests::SettingsPayload;
use rstuf_api::task::{TaskName, TaskResult};
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn update_settings(ctx: &Ctx, payload: &Value) -> Result<TaskResult, WorkError> {
    let payload = SettingsPayload::deserialize(payload).map_err(|e| {
        WorkError::Refused(format!(
            "no setting was changed: the task is not an update_settings request: {e}"
        ))
    })?;
    let settings = Settings::load(&ctx.store).await?;
    let mut updated = Vec::new();
    let mut invalid = Vec::new();
    let mut items = Vec::new();
    for (role, days) in payload.settings.expiration {
        let key = expiration_key(&role);
        if days > 0 && settings.get(&key).is_some() {
            items.push((key, json!(days)));
            updated.push(role);
        } else {
            invalid.push(role);
        }
    }
    ctx.store.put_settings(&items).await?;
    Ok(TaskResult::ok(
        TaskName::UpdateSettings,
        "Update Settings Succeded",
        json!({ "updated_roles": updated, "invalid_roles": invalid }),
    ))
}

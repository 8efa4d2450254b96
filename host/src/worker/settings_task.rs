//! The `update_settings` task: change the expiry policy of existing roles.

use super::{expiration_key, Ctx, Settings, WorkError};
use crate::tasks::{TaskName, TaskResult};
use serde_json::{json, Value};

pub async fn update_settings(ctx: &Ctx, payload: &Value) -> Result<TaskResult, WorkError> {
    let settings = Settings::load(&ctx.store).await?;
    let mut updated = Vec::new();
    let mut invalid = Vec::new();
    let mut items = Vec::new();
    for (role, days) in payload
        .pointer("/settings/expiration")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let key = expiration_key(role);
        match days.as_i64() {
            Some(d) if d > 0 && settings.get(&key).is_some() => {
                items.push((key, json!(d)));
                updated.push(role.clone());
            }
            _ => invalid.push(role.clone()),
        }
    }
    ctx.store.put_settings(&items).await?;
    Ok(TaskResult::ok(
        TaskName::UpdateSettings,
        "Update Settings Succeded",
        json!({ "updated_roles": updated, "invalid_roles": invalid }),
    ))
}

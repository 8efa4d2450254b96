//! Custom delegations after bootstrap (`metadata_delegation`) and the
//! signing of delegated roles held by offline keys (`sign_metadata` for a
//! role other than root).
//!
//! Every change goes through one publish pass: the new top-level targets
//! (with the changed `delegations`), the new or re-signed roles, the
//! snapshot and the timestamp are committed together under the publisher's
//! fencing token, so clients never see targets delegating to a role the
//! snapshot does not list. Role names become file names, so they are
//! checked before anything else.

use super::publish::{offline_draft, offline_roles_of, publish, PublishOptions};
use super::signer::OnlineKey;
use super::{expiration_key, Ctx, Settings, WorkError};
use crate::api::signing_key;
use rstuf_api::requests::DelegationTask;
use rstuf_api::task::{TaskName, TaskResult};
use rstuf_store::NewRole;
use rstuf_tuf::format::{expires_in, parse_time};
use rstuf_tuf::keys::Key;
use rstuf_tuf::metadata::{parse_signed, Signed, Targets};
use rstuf_tuf::verify::verify_with;
use serde::Deserialize as _;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

const TOP_LEVEL: [&str; 4] = ["root", "targets", "snapshot", "timestamp"];
/// Expiry policy (days) of a custom role that does not set one.
const DEFAULT_EXPIRE_DAYS: i64 = 365;

/// Why a role name cannot be used, if it cannot.
pub fn invalid_role_name(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 128 {
        return Some("role name must be 1 to 128 characters");
    }
    if TOP_LEVEL.contains(&name) {
        return Some("role name is a top-level role");
    }
    if name.starts_with("bins-") {
        return Some("role names starting with 'bins-' are reserved for hash bins");
    }
    if name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Some("role name may contain only letters, digits, '-', '_' and '.' and must not start with '.'");
    }
    None
}

fn failed(name: &str, reason: impl Into<String>) -> Value {
    json!({ "role": name, "reason": [reason.into()] })
}

fn result(action: &str, done: Vec<String>, failures: Vec<Value>) -> TaskResult {
    let details = json!({ "delegated_roles": done, "failed_roles": failures });
    if done.is_empty() && !failures.is_empty() {
        TaskResult::error(
            TaskName::MetadataDelegation,
            format!("Metadata delegation {action} failed"),
            "no role was changed; see failed_roles",
            Some(details),
        )
    } else {
        TaskResult::ok(
            TaskName::MetadataDelegation,
            format!("Metadata delegation {action} processed"),
            details,
        )
    }
}

/// The `metadata_delegation` task.
pub async fn metadata_delegation(ctx: &Ctx, payload: &Value) -> Result<TaskResult, WorkError> {
    let settings = Settings::load(&ctx.store).await?;
    let root = settings.trusted_root()?;
    if settings.int("NUMBER_OF_DELEGATED_BINS").is_some() {
        return Ok(TaskResult::error(
            TaskName::MetadataDelegation,
            "Metadata delegation failed",
            "this repository uses hash bins; custom delegations can only be changed on a repository bootstrapped with custom delegations",
            None,
        ));
    }
    let online = OnlineKey::from_root(&root["signed"])?;
    let mut targets = settings
        .get("TRUSTED_TARGETS")
        .and_then(|t| t.get("signed"))
        .cloned()
        .ok_or_else(|| WorkError::invalid("no trusted targets metadata"))?;
    let task = DelegationTask::deserialize(payload).map_err(|e| {
        WorkError::Refused(format!(
            "no delegation was changed: the task is not a metadata_delegation request: {e}"
        ))
    })?;
    let action = task.action();
    let delegations = match &task {
        DelegationTask::Add { delegations } | DelegationTask::Update { delegations } => {
            serde_json::to_value(delegations)
        }
        DelegationTask::Delete { delegations } => serde_json::to_value(delegations),
    }
    .map_err(|e| WorkError::invalid(format!("delegations: {e}")))?;
    let requested = delegations
        .get("roles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if requested.is_empty() {
        return Ok(TaskResult::error(
            TaskName::MetadataDelegation,
            "Metadata delegation failed",
            "at least one role is required in delegations.roles",
            None,
        ));
    }
    match task {
        DelegationTask::Add { .. } | DelegationTask::Update { .. } => {
            change(ctx, &online, &mut targets, &delegations, &requested, action).await
        }
        DelegationTask::Delete { .. } => delete(ctx, &mut targets, &requested).await,
    }
}

/// A role definition from the payload, checked against the keys it may use;
/// returns the definition to store (empty keyids → the online key).
fn checked_role(
    role: &Value,
    keys: &Map<String, Value>,
    online: &OnlineKey,
) -> Result<(String, Value), (String, String)> {
    let name = role
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if let Some(reason) = invalid_role_name(&name) {
        return Err((name, reason.into()));
    }
    let mut def = role.clone();
    if let Some(fields) = def.as_object_mut() {
        fields.retain(|_, v| !v.is_null());
    }
    let role = &def.clone();
    let keyids: Vec<String> = match role.get("keyids") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => {
            let ids: Option<Vec<String>> = a.iter().map(|k| k.as_str().map(String::from)).collect();
            ids.ok_or_else(|| (name.clone(), "keyids must be a list of strings".to_string()))?
        }
        Some(_) => return Err((name, "keyids must be a list of strings".into())),
    };
    // Required at the door (upstream's model has no default); a task
    // queued around the API without one is refused, not given 1.
    let Some(threshold) = role.get("threshold").and_then(Value::as_i64) else {
        return Err((
            name,
            "threshold is required (an integer of at least 1)".into(),
        ));
    };
    if threshold < 1 {
        return Err((name, "threshold must be at least 1".into()));
    }
    if keyids.is_empty() {
        if threshold != 1 {
            return Err((name, "If no keys assigned threshold must be 1".into()));
        }
        def["keyids"] = json!([online.keyid]);
        def["threshold"] = json!(1);
    } else {
        let unique: BTreeSet<&String> = keyids.iter().collect();
        if unique.len() != keyids.len() {
            return Err((name, "keyids must not repeat".into()));
        }
        if threshold as usize > keyids.len() {
            return Err((
                name,
                format!(
                    "threshold {threshold} is more than the {} keys assigned",
                    keyids.len()
                ),
            ));
        }
        for id in &keyids {
            if id != &online.keyid && !keys.contains_key(id) {
                return Err((name, format!("key {id} is not in delegations.keys")));
            }
        }
    }
    let paths_ok = match (role.get("paths"), role.get("path_hash_prefixes")) {
        (Some(Value::Array(p)), None) => {
            !p.is_empty() && p.iter().all(|s| s.as_str().is_some_and(|s| !s.is_empty()))
        }
        (None, Some(Value::Array(p))) => {
            !p.is_empty()
                && p.iter().all(|s| {
                    s.as_str()
                        .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit()))
                })
        }
        _ => false,
    };
    if !paths_ok {
        return Err((
            name,
            "exactly one of 'paths' (non-empty patterns) or 'path_hash_prefixes' (hex) is required"
                .into(),
        ));
    }
    if !role.get("terminating").is_none_or(Value::is_boolean) {
        return Err((name, "terminating must be true or false".into()));
    }
    if let Some(days) = role.get("x-rstuf-expire-policy") {
        if days.as_i64().is_none_or(|d| d < 1) {
            return Err((
                name,
                "x-rstuf-expire-policy must be a whole number of days ≥ 1".into(),
            ));
        }
    }
    def["terminating"] = json!(role
        .get("terminating")
        .and_then(Value::as_bool)
        .unwrap_or(false));
    Ok((name, def))
}

/// Keys from the payload, each parsed (and so checked) before use.
fn payload_keys(delegations: &Value) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (id, key) in delegations
        .get("keys")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        Key::from_value(key).map_err(|e| format!("key {id} is invalid: {e}"))?;
        out.insert(id.clone(), key.clone());
    }
    Ok(out)
}

fn expire_policy(def: &Value) -> i64 {
    def.get("x-rstuf-expire-policy")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_EXPIRE_DAYS)
}

/// Remove from `delegations.keys` every key no role uses any more.
fn prune_keys(targets: &mut Value) {
    let used: BTreeSet<String> = targets
        .pointer("/delegations/roles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|r| {
            r.get("keyids")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|k| k.as_str().map(String::from))
        .collect();
    if let Some(keys) = targets
        .pointer_mut("/delegations/keys")
        .and_then(Value::as_object_mut)
    {
        keys.retain(|id, _| used.contains(id));
    }
}

async fn change(
    ctx: &Ctx,
    online: &OnlineKey,
    targets: &mut Value,
    delegations: &Value,
    requested: &[Value],
    action: &str,
) -> Result<TaskResult, WorkError> {
    let new_keys = match payload_keys(delegations) {
        Ok(k) => k,
        Err(e) => {
            return Ok(TaskResult::error(
                TaskName::MetadataDelegation,
                format!("Metadata delegation {action} failed"),
                e,
                None,
            ))
        }
    };
    let mut usable = targets
        .pointer("/delegations/keys")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    usable.extend(new_keys.clone());
    if targets.pointer("/delegations/roles").is_none() {
        targets["delegations"] = json!({ "keys": {}, "roles": [] });
    }
    let existing: Vec<String> = targets
        .pointer("/delegations/roles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("name").and_then(Value::as_str).map(String::from))
        .collect();

    let mut done = Vec::new();
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    let mut expirations = Vec::new();
    let mut new_rows = Vec::new();
    for role in requested {
        let (name, def) = match checked_role(role, &usable, online) {
            Ok(ok) => ok,
            Err((name, reason)) => {
                failures.push(failed(&name, reason));
                continue;
            }
        };
        if !seen.insert(name.clone()) {
            failures.push(failed(&name, "role appears more than once in the request"));
            continue;
        }
        let row = ctx.store.role_by_name(&name).await?;
        let roles = targets
            .pointer_mut("/delegations/roles")
            .and_then(Value::as_array_mut)
            .expect("delegations.roles was ensured above");
        if action == "add" {
            // A leftover active row that targets does not delegate to is
            // from an add that crashed before publishing: reuse it.
            if existing.contains(&name) || row.as_ref().is_some_and(|r| !r.active) {
                failures.push(failed(
                    &name,
                    "role already exists or name used in the past",
                ));
                continue;
            }
            roles.push(def.clone());
            if row.is_none() {
                let expires = expires_in(ctx.clock.now(), expire_policy(&def));
                new_rows.push(NewRole {
                    rolename: name.clone(),
                    version: 0,
                    expires: parse_time(&expires)
                        .map(|t| t.naive_utc())
                        .unwrap_or_default(),
                });
            }
        } else {
            let Some(slot) = roles
                .iter_mut()
                .find(|r| r.get("name").and_then(Value::as_str) == Some(name.as_str()))
            else {
                failures.push(failed(
                    &name,
                    "role does not exist (renaming is not supported)",
                ));
                continue;
            };
            *slot = def.clone();
        }
        expirations.push((expiration_key(&name), json!(expire_policy(&def))));
        done.push(name);
    }
    if done.is_empty() {
        return Ok(result(action, done, failures));
    }
    // Keys: add those now used, drop those no role uses.
    if let Some(keys) = targets
        .pointer_mut("/delegations/keys")
        .and_then(Value::as_object_mut)
    {
        for (id, key) in &usable {
            keys.entry(id.clone()).or_insert_with(|| key.clone());
        }
        keys.entry(online.keyid.clone())
            .or_insert_with(|| online.key.to_value());
    }
    prune_keys(targets);

    ctx.store.create_roles(&new_rows).await?;
    // Expiry policies are read while the pass builds the roles.
    ctx.store.put_settings(&expirations).await?;
    let offline = offline_roles_of(targets, &online.keyid);
    let mut force_roles = Vec::new();
    let mut drafts = Vec::new();
    for name in &done {
        let role = ctx
            .store
            .role_by_name(name)
            .await?
            .ok_or_else(|| WorkError::Retry(format!("role {name} vanished")))?;
        if offline.contains(name) {
            // The key holders sign the next version of this role.
            let days = expirations
                .iter()
                .find(|(k, _)| *k == expiration_key(name))
                .and_then(|(_, v)| v.as_i64())
                .unwrap_or(DEFAULT_EXPIRE_DAYS);
            let draft = offline_draft(ctx, &role, days).await?;
            drafts.push((
                signing_key(name),
                json!({ "signatures": [], "signed": draft }),
            ));
        } else {
            force_roles.push(name.clone());
            // Not waiting for signatures any more (offline → online).
            drafts.push((signing_key(name), Value::Null));
        }
    }
    publish(
        ctx,
        PublishOptions {
            force_roles,
            targets_signed: Some(targets.clone()),
            force_snapshot: true,
            settings: drafts,
            ..Default::default()
        },
    )
    .await?;
    Ok(result(action, done, failures))
}

async fn delete(
    ctx: &Ctx,
    targets: &mut Value,
    requested: &[Value],
) -> Result<TaskResult, WorkError> {
    let mut done = Vec::new();
    let mut failures = Vec::new();
    let mut settings = Vec::new();
    for role in requested {
        let name = role
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let Some(roles) = targets
            .pointer_mut("/delegations/roles")
            .and_then(Value::as_array_mut)
        else {
            failures.push(failed(&name, "role does not exist"));
            continue;
        };
        let before = roles.len();
        roles.retain(|r| r.get("name").and_then(Value::as_str) != Some(name.as_str()));
        if roles.len() == before {
            failures.push(failed(&name, "role does not exist"));
            continue;
        }
        settings.push((signing_key(&name), Value::Null));
        done.push(name);
    }
    if done.is_empty() {
        return Ok(result("delete", done, failures));
    }
    prune_keys(targets);
    publish(
        ctx,
        PublishOptions {
            targets_signed: Some(targets.clone()),
            force_snapshot: true,
            settings,
            deactivate: done.clone(),
            ..Default::default()
        },
    )
    .await?;
    Ok(result("delete", done, failures))
}

fn sign_error(error: impl Into<String>) -> TaskResult {
    TaskResult::error(TaskName::SignMetadata, "Signature Failed", error, None)
}

/// `sign_metadata` for a delegated role waiting in `<role>_SIGNING`: add the
/// signature if one of the role's keys made it; publish the role once its
/// threshold is met.
pub async fn sign_delegated(
    ctx: &Ctx,
    settings: &Settings,
    role: &str,
    mut pending: Value,
    signature: &Value,
) -> Result<TaskResult, WorkError> {
    let targets = settings
        .get("TRUSTED_TARGETS")
        .and_then(|t| t.get("signed"))
        .cloned()
        .unwrap_or(Value::Null);
    let Some(role_def) = targets
        .pointer("/delegations/roles")
        .and_then(Value::as_array)
        .and_then(|roles| {
            roles
                .iter()
                .find(|r| r.get("name").and_then(Value::as_str) == Some(role))
        })
        .cloned()
    else {
        return Ok(sign_error(format!(
            "{role} is not delegated by the trusted targets metadata"
        )));
    };
    let keyid = signature
        .get("keyid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let only_this = json!({ "signatures": [signature], "signed": pending["signed"] });
    let check = verify_with(&targets, &role_def, &only_this)
        .map_err(|e| WorkError::invalid(e.to_string()))?;
    if !check.valid.contains(&keyid) {
        return Ok(sign_error("Invalid signature"));
    }
    let sigs = pending["signatures"].as_array_mut();
    match sigs {
        Some(sigs) => {
            sigs.retain(|s| s.get("keyid").and_then(Value::as_str) != Some(keyid.as_str()));
            sigs.push(signature.clone());
        }
        None => pending["signatures"] = json!([signature]),
    }
    let version = parse_signed::<Targets>(&pending["signed"])
        .map_err(|e| WorkError::invalid(format!("invalid pending {role} metadata: {e}")))?
        .version();
    let all = verify_with(&targets, &role_def, &pending)
        .map_err(|e| WorkError::invalid(e.to_string()))?;
    if !all.is_satisfied() {
        ctx.store
            .put_settings(&[(signing_key(role), pending)])
            .await?;
        return Ok(TaskResult::ok(
            TaskName::SignMetadata,
            "Metadata sign accepted",
            json!({ "update": format!("{role} v{version} is pending signatures") }),
        ));
    }
    publish(
        ctx,
        PublishOptions {
            offline_signed: vec![(role.to_string(), pending)],
            force_snapshot: true,
            ..Default::default()
        },
    )
    .await?;
    Ok(TaskResult::ok(
        TaskName::SignMetadata,
        "Metadata sign accepted",
        json!({ "update": format!("Role {role} signing complete") }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_that_would_escape_or_clash_are_refused() {
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "a\\b",
            ".hidden",
            "root",
            "timestamp",
            "bins-0",
            "x y",
            &"a".repeat(129),
        ] {
            assert!(invalid_role_name(bad).is_some(), "{bad:?} accepted");
        }
        for good in ["dev", "prod-1", "team_a.release", "A9"] {
            assert_eq!(invalid_role_name(good), None, "{good:?} refused");
        }
    }

    #[test]
    fn prune_keeps_only_keys_in_use() {
        let mut t = json!({ "delegations": {
            "keys": { "a": {}, "b": {}, "c": {} },
            "roles": [ { "name": "x", "keyids": ["a"] }, { "name": "y", "keyids": ["a", "c"] } ]
        }});
        prune_keys(&mut t);
        let keys: Vec<&String> = t["delegations"]["keys"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, ["a", "c"]);
    }
}

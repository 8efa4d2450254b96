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
use rstuf_api::requests::{
    DelegatedRolePayload, DelegationTask, Delegations as DelegationsRequest, RoleName,
};
use rstuf_api::task::{TaskName, TaskResult};
use rstuf_store::NewRole;
use rstuf_tuf::format::{expires_in, parse_time};
use rstuf_tuf::keys::Key;
use rstuf_tuf::metadata::{
    parse_signed, DelegatedRole, Delegations, KeyIds, PublicKey, Signature, Signed, Targets,
    Threshold,
};
use rstuf_tuf::verify::verify_delegated;
use serde::Deserialize as _;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

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

/// The trusted targets `signed`, typed: unknown fields are kept, so it
/// serializes back to the same bytes.
fn trusted_targets(settings: &Settings) -> Result<Targets, WorkError> {
    let signed = settings
        .get("TRUSTED_TARGETS")
        .and_then(|t| t.get("signed"))
        .ok_or_else(|| WorkError::invalid("no trusted targets metadata"))?;
    parse_signed::<Targets>(signed)
        .map_err(|e| WorkError::invalid(format!("trusted targets metadata: {e}")))
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
    let mut targets = trusted_targets(&settings)?;
    let task = DelegationTask::deserialize(payload).map_err(|e| {
        WorkError::Refused(format!(
            "no delegation was changed: the task is not a metadata_delegation request: {e}"
        ))
    })?;
    let action = task.action();
    let requested = match &task {
        DelegationTask::Add { delegations } | DelegationTask::Update { delegations } => {
            delegations.roles.len()
        }
        DelegationTask::Delete { delegations } => delegations.roles.len(),
    };
    if requested == 0 {
        return Ok(TaskResult::error(
            TaskName::MetadataDelegation,
            "Metadata delegation failed",
            "at least one role is required in delegations.roles",
            None,
        ));
    }
    match task {
        DelegationTask::Add { delegations } | DelegationTask::Update { delegations } => {
            change(ctx, &online, &mut targets, &delegations, action).await
        }
        DelegationTask::Delete { delegations } => {
            delete(ctx, &mut targets, &delegations.roles).await
        }
    }
}

/// A role definition from the request, checked against the keys it may
/// use: the role to delegate to (no keyids → the online key) and its expiry
/// policy in days; or the role's name and why it is refused.
fn checked_role(
    role: &DelegatedRolePayload,
    keys: &BTreeMap<String, PublicKey>,
    online: &OnlineKey,
) -> Result<(DelegatedRole, i64), (String, String)> {
    let name = role.name.clone();
    let refuse = |reason: String| Err((name.clone(), reason));
    if let Some(reason) = invalid_role_name(&name) {
        return refuse(reason.into());
    }
    if role.threshold < 1 {
        return refuse("threshold must be at least 1".into());
    }
    let (keyids, threshold) = if role.keyids.is_empty() {
        if role.threshold != 1 {
            return refuse("If no keys assigned threshold must be 1".into());
        }
        (vec![online.keyid.clone()], 1)
    } else {
        let unique: BTreeSet<&String> = role.keyids.iter().collect();
        if unique.len() != role.keyids.len() {
            return refuse("keyids must not repeat".into());
        }
        if role.threshold as usize > role.keyids.len() {
            return refuse(format!(
                "threshold {} is more than the {} keys assigned",
                role.threshold,
                role.keyids.len()
            ));
        }
        if let Some(id) = role
            .keyids
            .iter()
            .find(|id| **id != online.keyid && !keys.contains_key(*id))
        {
            return refuse(format!("key {id} is not in delegations.keys"));
        }
        (role.keyids.clone(), role.threshold as u64)
    };
    let non_empty = |p: &[String], hex: bool| {
        !p.is_empty()
            && p.iter()
                .all(|s| !s.is_empty() && (!hex || s.chars().all(|c| c.is_ascii_hexdigit())))
    };
    let paths_ok = match (&role.paths, &role.path_hash_prefixes) {
        (Some(p), None) => non_empty(p, false),
        (None, Some(p)) => non_empty(p, true),
        _ => false,
    };
    if !paths_ok {
        return refuse(
            "exactly one of 'paths' (non-empty patterns) or 'path_hash_prefixes' (hex) is required"
                .into(),
        );
    }
    let mut extra = Map::new();
    if let Some(days) = role.expire_policy {
        if days < 1 {
            return refuse("x-rstuf-expire-policy must be a whole number of days ≥ 1".into());
        }
        extra.insert("x-rstuf-expire-policy".into(), json!(days));
    }
    let (Ok(keyids), Some(threshold)) = (KeyIds::new(keyids), Threshold::new(threshold)) else {
        return refuse("keyids must not repeat and threshold must be at least 1".into());
    };
    let delegated = DelegatedRole {
        name: name.clone(),
        keyids,
        threshold,
        terminating: role.terminating,
        paths: role.paths.clone(),
        path_hash_prefixes: role.path_hash_prefixes.clone(),
        extra,
    };
    Ok((delegated, role.expire_policy.unwrap_or(DEFAULT_EXPIRE_DAYS)))
}

/// Keys from the request, each parsed (and so checked) before use.
fn payload_keys(
    keys: &BTreeMap<String, Map<String, Value>>,
) -> Result<BTreeMap<String, PublicKey>, String> {
    keys.iter()
        .map(|(id, key)| {
            let key = Value::Object(key.clone());
            Key::from_value(&key).map_err(|e| format!("key {id} is invalid: {e}"))?;
            let key =
                PublicKey::deserialize(&key).map_err(|e| format!("key {id} is invalid: {e}"))?;
            Ok((id.clone(), key))
        })
        .collect()
}

/// Remove from `delegations.keys` every key no role uses any more.
fn prune_keys(delegations: &mut Delegations) {
    let used: BTreeSet<String> = delegations
        .roles
        .iter()
        .flatten()
        .flat_map(|r| r.keyids.as_slice().iter().cloned())
        .collect();
    delegations.keys.retain(|id, _| used.contains(id));
}

/// The targets' classic delegations, created empty when there are none.
fn classic_delegations(targets: &mut Targets) -> &mut Delegations {
    let delegations = targets.delegations.get_or_insert_with(|| Delegations {
        keys: BTreeMap::new(),
        roles: Some(Vec::new()),
        succinct_roles: None,
        extra: Map::new(),
    });
    if delegations.roles.is_none() {
        *delegations = Delegations {
            keys: BTreeMap::new(),
            roles: Some(Vec::new()),
            succinct_roles: None,
            extra: Map::new(),
        };
    }
    delegations
}

fn targets_value(targets: &Targets) -> Result<Value, WorkError> {
    serde_json::to_value(targets).map_err(|e| WorkError::invalid(format!("targets: {e}")))
}

async fn change(
    ctx: &Ctx,
    online: &OnlineKey,
    targets: &mut Targets,
    request: &DelegationsRequest,
    action: &str,
) -> Result<TaskResult, WorkError> {
    let new_keys = match payload_keys(&request.keys) {
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
    let online_key = PublicKey::deserialize(online.key.to_value())
        .map_err(|e| WorkError::invalid(format!("online key: {e}")))?;
    let delegations = classic_delegations(targets);
    let mut usable = delegations.keys.clone();
    usable.extend(new_keys);
    let existing: BTreeSet<String> = delegations
        .roles
        .iter()
        .flatten()
        .map(|r| r.name.clone())
        .collect();

    let mut done = Vec::new();
    let mut failures = Vec::new();
    let mut days_of = BTreeMap::new();
    let mut new_rows = Vec::new();
    for role in &request.roles {
        let (def, days) = match checked_role(role, &usable, online) {
            Ok(ok) => ok,
            Err((name, reason)) => {
                failures.push(failed(&name, reason));
                continue;
            }
        };
        let name = def.name.clone();
        if days_of.contains_key(&name) {
            failures.push(failed(&name, "role appears more than once in the request"));
            continue;
        }
        let row = ctx.store.role_by_name(&name).await?;
        let roles = classic_delegations(targets)
            .roles
            .get_or_insert_with(Vec::new);
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
            roles.push(def);
            if row.is_none() {
                let expires = expires_in(ctx.clock.now(), days);
                new_rows.push(NewRole {
                    rolename: name.clone(),
                    version: 0,
                    expires: parse_time(&expires)
                        .map(|t| t.naive_utc())
                        .unwrap_or_default(),
                });
            }
        } else {
            let Some(slot) = roles.iter_mut().find(|r| r.name == name) else {
                failures.push(failed(
                    &name,
                    "role does not exist (renaming is not supported)",
                ));
                continue;
            };
            *slot = def;
        }
        days_of.insert(name.clone(), days);
        done.push(name);
    }
    if done.is_empty() {
        return Ok(result(action, done, failures));
    }
    // Keys: add those now used, drop those no role uses.
    let delegations = classic_delegations(targets);
    for (id, key) in usable {
        delegations.keys.entry(id).or_insert(key);
    }
    delegations
        .keys
        .entry(online.keyid.clone())
        .or_insert(online_key);
    prune_keys(delegations);

    ctx.store.create_roles(&new_rows).await?;
    // Expiry policies are read while the pass builds the roles.
    let expirations: Vec<(String, Value)> = done
        .iter()
        .map(|name| (expiration_key(name), json!(days_of[name])))
        .collect();
    ctx.store.put_settings(&expirations).await?;
    let targets_signed = targets_value(targets)?;
    let offline = offline_roles_of(&targets_signed, &online.keyid);
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
            let draft = offline_draft(ctx, &role, days_of[name]).await?;
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
            targets_signed: Some(targets_signed),
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
    targets: &mut Targets,
    requested: &[RoleName],
) -> Result<TaskResult, WorkError> {
    let mut done = Vec::new();
    let mut failures = Vec::new();
    let mut settings = Vec::new();
    for RoleName { name } in requested {
        let Some(roles) = targets.delegations.as_mut().and_then(|d| d.roles.as_mut()) else {
            failures.push(failed(name, "role does not exist"));
            continue;
        };
        let before = roles.len();
        roles.retain(|r| r.name != *name);
        if roles.len() == before {
            failures.push(failed(name, "role does not exist"));
            continue;
        }
        settings.push((signing_key(name), Value::Null));
        done.push(name.clone());
    }
    if done.is_empty() {
        return Ok(result("delete", done, failures));
    }
    if let Some(delegations) = targets.delegations.as_mut() {
        prune_keys(delegations);
    }
    publish(
        ctx,
        PublishOptions {
            targets_signed: Some(targets_value(targets)?),
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
    let not_delegated = || {
        Ok(sign_error(format!(
            "{role} is not delegated by the trusted targets metadata"
        )))
    };
    let Ok(targets) = trusted_targets(settings) else {
        return not_delegated();
    };
    let Some(delegations) = targets.delegations.as_ref() else {
        return not_delegated();
    };
    let Some(role_def) = delegations.roles.iter().flatten().find(|r| r.name == role) else {
        return not_delegated();
    };
    let Ok(Signature { keyid, .. }) = Signature::deserialize(signature) else {
        return Ok(sign_error("Invalid signature"));
    };
    let only_this = json!({ "signatures": [signature], "signed": pending["signed"] });
    let check = verify_delegated(delegations, role_def, &only_this)
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
    let all = verify_delegated(delegations, role_def, &pending)
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
        let mut d: Delegations = serde_json::from_value(json!({
            "keys": { "a": key(), "b": key(), "c": key() },
            "roles": [ role("x", &["a"]), role("y", &["a", "c"]) ]
        }))
        .unwrap();
        prune_keys(&mut d);
        assert_eq!(d.keys.keys().collect::<Vec<_>>(), ["a", "c"]);
    }

    fn key() -> Value {
        json!({ "keytype": "ed25519", "scheme": "ed25519", "keyval": { "public": "00" } })
    }

    fn role(name: &str, keyids: &[&str]) -> Value {
        json!({ "name": name, "keyids": keyids, "threshold": 1, "terminating": false, "paths": ["*"] })
    }
}

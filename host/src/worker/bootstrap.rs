//! Bootstrap (signed and DAS), adding signatures to pending root metadata,
//! abandoning a signing process, and root rotation including a change of
//! online key. User-supplied root metadata is verified over the canonical
//! form of exactly the JSON received.

use super::publish::{publish, put_unordered, PublishOptions};
use super::signer::OnlineKey;
use super::{expiration_key, Ctx, Settings, WorkError};
use crate::api::signing_key;
use rstuf_api::requests::{
    BootstrapPayload, MetadataUpdatePayload, SignDeletePayload, SignPayload,
};
use rstuf_api::task::{TaskName, TaskResult};
use rstuf_store::NewRole;
use rstuf_tuf::bins::Bins;
use rstuf_tuf::format::{expires_in, file_name, parse_time, to_file_bytes};
use rstuf_tuf::metadata::{parse_signed, Metadata, Root, Signed};
use rstuf_tuf::verify::{keys_of, mismatched_keyids, verify_delegate, verify_top_level};
use rstuf_tuf::SPEC_VERSION;
use serde::Deserialize;
use serde_json::{json, Map, Value};

fn bootstrap_state(settings: &Settings) -> String {
    settings.str("BOOTSTRAP").unwrap_or("").to_string()
}

/// The `bootstrap` task.
pub async fn bootstrap(ctx: &Ctx, payload: &Value, task_id: &str) -> Result<TaskResult, WorkError> {
    let settings = Settings::load(&ctx.store).await?;
    let state = bootstrap_state(&settings);
    if state == task_id {
        // Redelivered after it finished: nothing to do again.
        return Ok(TaskResult::ok(
            TaskName::Bootstrap,
            "Bootstrap finished",
            json!({ "bootstrap": format!("Bootstrap finished {task_id}") }),
        ));
    }
    // Claim the lock (as one statement, against the API's watchdog).
    if state != format!("pre-{task_id}") || !ctx.store.claim_bootstrap(task_id).await? {
        let state = bootstrap_state(&Settings::load(&ctx.store).await?);
        return Ok(TaskResult::error(
            TaskName::Bootstrap,
            "Bootstrap failed",
            format!(
                "Bootstrap state is {}",
                if state.is_empty() { "None" } else { &state }
            ),
            None,
        ));
    }
    match run_bootstrap(ctx, payload, task_id).await {
        Ok(result) => Ok(result),
        Err(e) => {
            // Release the lock so the operator can try again.
            ctx.store.unlock_bootstrap(task_id, None).await?;
            Ok(TaskResult::error(
                TaskName::Bootstrap,
                "Bootstrap failed",
                e.to_string(),
                None,
            ))
        }
    }
}

async fn run_bootstrap(ctx: &Ctx, payload: &Value, task_id: &str) -> Result<TaskResult, WorkError> {
    let request = BootstrapPayload::deserialize(payload)
        .map_err(|e| WorkError::invalid(format!("the bootstrap request is malformed: {e}")))?;
    let roles = &request.settings.roles;
    // The root document stays the JSON received: its signatures are
    // verified over the canonical form of exactly these bytes.
    let root = &Value::Object(
        request
            .metadata
            .get("root")
            .cloned()
            .ok_or_else(|| WorkError::invalid("payload has no metadata.root"))?,
    );
    let signed = root
        .get("signed")
        .ok_or_else(|| WorkError::invalid("root metadata has no 'signed'"))?;
    if signed.get("_type").and_then(Value::as_str) != Some("root")
        || signed.get("version").and_then(Value::as_i64) != Some(1)
    {
        return Err(WorkError::invalid(
            "bootstrap needs root metadata of _type 'root' and version 1",
        ));
    }
    check_root_shape(signed, ctx.clock.now())?;
    let typed: Metadata<Root> = Metadata::from_value(root)
        .map_err(|e| WorkError::invalid(format!("invalid root metadata: {e}")))?;
    if typed.signatures.is_empty() {
        return Err(WorkError::invalid(
            "Metadata requires at least one valid signature",
        ));
    }
    let root_role = typed
        .signed
        .role("root")
        .ok_or_else(|| WorkError::invalid("root has no root role"))?;
    let v = verify_top_level(&typed.signed, "root", root)
        .map_err(|e| WorkError::invalid(e.to_string()))?;
    if !v.invalid.is_empty() || !v.unauthorized.is_empty() {
        return Err(WorkError::invalid("Bootstrap has invalid signature(s)"));
    }
    let online = OnlineKey::from_root(signed)?;
    online.check(&ctx.backends).await?;

    let mut items: Vec<(String, Value)> = Vec::new();
    for (role, days) in [
        ("root", &roles.root),
        ("targets", &roles.targets),
        ("snapshot", &roles.snapshot),
        ("timestamp", &roles.timestamp),
    ] {
        items.push((expiration_key(role), json!(days.expiration)));
    }
    items.push(("ROOT_THRESHOLD".into(), json!(root_role.threshold.get())));
    items.push((
        "ROOT_NUM_KEYS".into(),
        json!(root_role.keyids.as_slice().len()),
    ));
    for role in ["TARGETS", "SNAPSHOT", "TIMESTAMP"] {
        items.push((format!("{role}_THRESHOLD"), json!(1)));
        items.push((format!("{role}_NUM_KEYS"), json!(1)));
    }
    items.push(("TARGETS_ONLINE_KEY".into(), json!(true)));
    if let Some(bins) = &roles.bins {
        let n = u64::try_from(bins.number_of_delegated_bins).map_err(|_| {
            WorkError::invalid(format!(
                "number_of_delegated_bins must be a power of two from 2 to 16384, got {}",
                bins.number_of_delegated_bins
            ))
        })?;
        Bins::from_number_of_bins(n).map_err(|e| WorkError::invalid(e.to_string()))?;
        items.push(("BINS_EXPIRATION".into(), json!(bins.expiration)));
        items.push(("BINS_THRESHOLD".into(), json!(1)));
        items.push(("BINS_NUM_KEYS".into(), json!(1)));
        items.push(("NUMBER_OF_DELEGATED_BINS".into(), json!(n)));
        let layout = bins.layout.as_deref().unwrap_or("succinct");
        items.push(("BINS_LAYOUT".into(), json!(layout)));
    } else if let Some(delegations) = &roles.delegations {
        let names: Vec<Value> = delegations
            .roles
            .iter()
            .map(|r| Value::String(r.name.clone()))
            .collect();
        for role in &delegations.roles {
            if let Some(days) = role.expire_policy {
                items.push((expiration_key(&role.name), json!(days)));
            }
        }
        let delegations = serde_json::to_value(delegations)
            .map_err(|e| WorkError::invalid(format!("delegations: {e}")))?;
        items.push(("DELEGATIONS".into(), delegations));
        items.push(("DELEGATED_ROLES".into(), Value::Array(names)));
    } else {
        return Err(WorkError::invalid(
            "Exactly one of 'bins' and 'delegations' must be set",
        ));
    }
    ctx.store.put_settings(&items).await?;

    let mut details = if v.is_satisfied() {
        finalize(ctx, root, task_id).await?;
        json!({ "bootstrap": format!("Bootstrap finished {task_id}") })
    } else {
        ctx.store
            .put_settings(&[
                ("ROOT_SIGNING".into(), root.clone()),
                ("BOOTSTRAP".into(), json!(format!("signing-{task_id}"))),
            ])
            .await?;
        json!({ "bootstrap": "Root v1 is pending signature" })
    };
    let warnings = keyid_warnings(signed);
    if !warnings.is_empty() {
        details["warnings"] = json!([format!(
            "keyid(s) {} are not the SHA-256 of their canonical key JSON; the tough client will reject this repository",
            warnings.join(", ")
        )]);
    }
    let message = if v.is_satisfied() {
        "Bootstrap finished"
    } else {
        "Bootstrap pending signatures"
    };
    Ok(TaskResult::ok(TaskName::Bootstrap, message, details))
}

/// Keyids that are not the SHA-256 of their canonical key (upstream's CLI
/// computes them before adding `x-rstuf-*` fields). Accepted for
/// compatibility, but clients such as tough reject such metadata, so the
/// task result says so.
fn keyid_warnings(signed: &Value) -> Vec<String> {
    keys_of(signed)
        .map(|k| mismatched_keyids(&k))
        .unwrap_or_default()
}

/// Structural checks that keep clients working: consistent snapshots (the
/// only way this service publishes), not already expired, and a single
/// online key (threshold 1) for timestamp, snapshot and targets.
fn check_root_shape(signed: &Value, now: chrono::DateTime<chrono::Utc>) -> Result<(), WorkError> {
    // What clients enforce on load (the API checks this at the door; a
    // task queued around it is refused here).
    match rstuf_tuf::schema::check_signed(signed) {
        Ok("root") => {}
        Ok(other) => {
            return Err(WorkError::invalid(format!(
                "expected root metadata, got {other}"
            )))
        }
        Err(e) => return Err(WorkError::invalid(format!("invalid root metadata: {e}"))),
    }
    keys_of(signed).map_err(|e| WorkError::invalid(e.to_string()))?;
    let root: Root = parse_signed(signed)
        .map_err(|e| WorkError::invalid(format!("invalid root metadata: {e}")))?;
    if root.consistent_snapshot != Some(true) {
        return Err(WorkError::invalid(
            "root must set consistent_snapshot: true (this service publishes consistent snapshots: N.role.json files)",
        ));
    }
    let expires = root.expires();
    if expires <= now {
        return Err(WorkError::invalid(format!(
            "root expired at {expires}; clients would refuse it"
        )));
    }
    // The schema requires all four top-level roles, each with a threshold
    // of at least 1 (the types cannot hold 0).
    let role = |name: &str| {
        root.role(name)
            .ok_or_else(|| WorkError::invalid(format!("root has no {name} role")))
    };
    let online = role("timestamp")?.keyids.as_slice().first();
    for name in ["timestamp", "snapshot", "targets"] {
        let r = role(name)?;
        let ok = r.keyids.as_slice().len() == 1
            && r.keyids.as_slice().first() == online
            && r.threshold.get() == 1;
        if !ok {
            return Err(WorkError::invalid(format!(
                "role '{name}' must be signed by the single online key with threshold 1"
            )));
        }
    }
    role("root")?;
    Ok(())
}

/// Create and publish version 1 of every role once root v1 is signed.
async fn finalize(ctx: &Ctx, root: &Value, task_id: &str) -> Result<(), WorkError> {
    let settings = Settings::load(&ctx.store).await?;
    let online = OnlineKey::from_root(&root["signed"])?;
    online.check(&ctx.backends).await?;
    let now = ctx.clock.now();
    let mut keys = Map::new();
    keys.insert(online.keyid.clone(), online.key.to_value());
    let online_ids = vec![online.keyid.clone()];

    let mut role_docs: Vec<(String, Value)> = Vec::new();
    let mut new_roles = Vec::new();
    let mut pending: Vec<(String, Value)> = Vec::new();
    let delegations = if let Some(n) = settings.int("NUMBER_OF_DELEGATED_BINS") {
        let bins =
            Bins::from_number_of_bins(n as u64).map_err(|e| WorkError::invalid(e.to_string()))?;
        let expires = expires_in(now, settings.expiration("bins"));
        for name in bins.all_role_names() {
            new_roles.push(NewRole {
                rolename: name.clone(),
                version: 1,
                expires: parse_time(&expires)
                    .map(|t| t.naive_utc())
                    .unwrap_or_default(),
            });
            role_docs.push((name, empty_targets(&expires)));
        }
        if settings.str("BINS_LAYOUT") == Some("classic") {
            json!({ "keys": keys, "roles": bins.classic_roles(&online_ids, 1) })
        } else {
            json!({ "keys": keys, "succinct_roles": bins.succinct_roles(&online_ids, 1) })
        }
    } else {
        let d = settings.get("DELEGATIONS").cloned().unwrap_or(json!({}));
        if let Some(extra) = d.get("keys").and_then(Value::as_object) {
            for (k, v) in extra {
                keys.insert(k.clone(), v.clone());
            }
        }
        let mut roles = Vec::new();
        for mut role in d
            .get("roles")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let name = role
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let keyids_empty = role
                .get("keyids")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
            if keyids_empty {
                role["keyids"] = json!(online_ids);
                role["threshold"] = json!(1);
            }
            let is_online = role
                .get("keyids")
                .and_then(Value::as_array)
                .is_some_and(|k| k.len() == 1 && k[0] == json!(online.keyid));
            let expires = expires_in(now, settings.expiration(&name));
            let naive = parse_time(&expires)
                .map(|t| t.naive_utc())
                .unwrap_or_default();
            if is_online {
                new_roles.push(NewRole {
                    rolename: name.clone(),
                    version: 1,
                    expires: naive,
                });
                role_docs.push((name.clone(), empty_targets(&expires)));
            } else {
                new_roles.push(NewRole {
                    rolename: name.clone(),
                    version: 0,
                    expires: naive,
                });
                pending.push((
                    signing_key(&name),
                    json!({ "signatures": [], "signed": empty_targets(&expires) }),
                ));
            }
            roles.push(role);
        }
        json!({ "keys": keys, "roles": roles })
    };

    ctx.store.create_roles(&new_roles).await?;
    let mut files = Vec::with_capacity(role_docs.len() + 3);
    {
        use futures::stream::{self, StreamExt, TryStreamExt};
        let signed: Vec<(String, Value)> = stream::iter(role_docs)
            .map(|(name, signed)| {
                let online = &online;
                async move {
                    Ok::<_, WorkError>((name, online.sign_document(&ctx.backends, signed).await?))
                }
            })
            .buffer_unordered(16)
            .try_collect()
            .await?;
        for (name, doc) in &signed {
            files.push((file_name(name, 1), to_file_bytes(doc)));
        }
    }
    let targets_expires = expires_in(now, settings.expiration("targets"));
    let targets = online
        .sign_document(
            &ctx.backends,
            json!({ "_type": "targets", "spec_version": SPEC_VERSION, "version": 1, "expires": targets_expires, "targets": {}, "delegations": delegations }),
        )
        .await?;
    files.push(("1.targets.json".into(), to_file_bytes(&targets)));
    let mut meta = Map::new();
    meta.insert("targets.json".into(), json!({ "version": 1 }));
    for r in &new_roles {
        if r.version >= 1 {
            meta.insert(format!("{}.json", r.rolename), json!({ "version": 1 }));
        }
    }
    let snapshot_expires = expires_in(now, settings.expiration("snapshot"));
    let snapshot = online
        .sign_document(&ctx.backends, json!({ "_type": "snapshot", "spec_version": SPEC_VERSION, "version": 1, "expires": snapshot_expires, "meta": meta }))
        .await?;
    files.push(("1.snapshot.json".into(), to_file_bytes(&snapshot)));
    files.push(("1.root.json".into(), to_file_bytes(root)));
    put_unordered(ctx, &files).await?;
    let timestamp_expires = expires_in(now, settings.expiration("timestamp"));
    let mut items = vec![
        ("TRUSTED_ROOT".to_string(), root.clone()),
        ("TRUSTED_TARGETS".into(), targets),
        ("TARGETS_VERSION".into(), json!(1)),
        ("TARGETS_EXPIRES".into(), json!(targets_expires)),
        ("SNAPSHOT_VERSION".into(), json!(1)),
        ("SNAPSHOT_EXPIRES".into(), json!(snapshot_expires)),
        ("TIMESTAMP_VERSION".into(), json!(1)),
        ("TIMESTAMP_EXPIRES".into(), json!(timestamp_expires)),
        ("ONLINE_KEY".into(), {
            let mut k = online.key.to_value();
            k["keyid"] = json!(online.keyid);
            k
        }),
        ("ROOT_SIGNING".into(), Value::Null),
        ("BOOTSTRAP".into(), json!(task_id)),
    ];
    items.extend(pending);
    ctx.store.put_settings(&items).await?;
    let timestamp = online
        .sign_document(
            &ctx.backends,
            json!({ "_type": "timestamp", "spec_version": SPEC_VERSION, "version": 1, "expires": timestamp_expires, "meta": { "snapshot.json": { "version": 1 } } }),
        )
        .await?;
    ctx.backends
        .storage
        .put("timestamp.json", &to_file_bytes(&timestamp))
        .await
        .map_err(WorkError::plugin)
}

fn empty_targets(expires: &str) -> Value {
    json!({ "_type": "targets", "spec_version": SPEC_VERSION, "version": 1, "expires": expires, "targets": {} })
}

/// Add or replace one signature on a pending document.
fn add_signature(doc: &mut Value, signature: &Value) {
    let keyid = signature.get("keyid").cloned();
    let sigs = doc.get_mut("signatures").and_then(Value::as_array_mut);
    if let Some(sigs) = sigs {
        sigs.retain(|s| s.get("keyid") != keyid.as_ref());
        sigs.push(signature.clone());
    } else {
        doc["signatures"] = json!([signature]);
    }
}

/// The `sign_metadata` task.
pub async fn sign_metadata(ctx: &Ctx, payload: &Value) -> Result<TaskResult, WorkError> {
    let request = SignPayload::deserialize(payload)
        .map_err(|e| WorkError::invalid(format!("the sign request is malformed: {e}")))?;
    let role = request.role;
    // Forwarded as received (with any extra members), as upstream does.
    let signature = serde_json::to_value(&request.signature)
        .map_err(|e| WorkError::invalid(format!("signature: {e}")))?;
    let settings = Settings::load(&ctx.store).await?;
    let Some(mut pending) = settings.get(&signing_key(&role)).cloned() else {
        return Ok(TaskResult::error(
            TaskName::SignMetadata,
            "Signature Failed",
            format!("No signatures pending for {role}"),
            None,
        ));
    };
    if role != "root" {
        return super::delegations::sign_delegated(ctx, &settings, &role, pending, &signature)
            .await;
    }
    let keyid = signature
        .get("keyid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let state = bootstrap_state(&settings);
    let mut candidate = pending.clone();
    add_signature(&mut candidate, &signature);
    let only_this = json!({ "signatures": [signature], "signed": pending["signed"] });
    if let Some(bootstrap_task) = state.strip_prefix("signing-") {
        let check = verify_delegate(&pending["signed"], "root", &only_this)
            .map_err(|e| WorkError::invalid(e.to_string()))?;
        if !check.valid.contains(&keyid) {
            return Ok(TaskResult::error(
                TaskName::SignMetadata,
                "Signature Failed",
                "Invalid signature",
                None,
            ));
        }
        let v = verify_delegate(&candidate["signed"], "root", &candidate)
            .map_err(|e| WorkError::invalid(e.to_string()))?;
        if v.is_satisfied() {
            finalize(ctx, &candidate, bootstrap_task).await?;
            return Ok(TaskResult::ok(
                TaskName::SignMetadata,
                "Metadata sign accepted",
                json!({ "bootstrap": "Bootstrap Finished" }),
            ));
        }
        ctx.store
            .put_settings(&[(signing_key("root"), candidate)])
            .await?;
        return Ok(TaskResult::ok(
            TaskName::SignMetadata,
            "Metadata sign accepted",
            json!({ "bootstrap": "Root v1 is pending signatures" }),
        ));
    }
    // Root rotation: the signature must come from the trusted or the new root.
    let trusted = settings.trusted_root()?.clone();
    let by_old = verify_delegate(&trusted["signed"], "root", &only_this)
        .map_err(|e| WorkError::invalid(e.to_string()))?;
    let by_new = verify_delegate(&pending["signed"], "root", &only_this)
        .map_err(|e| WorkError::invalid(e.to_string()))?;
    if !by_old.valid.contains(&keyid) && !by_new.valid.contains(&keyid) {
        return Ok(TaskResult::error(
            TaskName::SignMetadata,
            "Signature Failed",
            "Invalid signature",
            None,
        ));
    }
    pending = candidate;
    let version = parse_signed::<Root>(&pending["signed"])
        .map_err(|e| WorkError::invalid(format!("invalid pending root: {e}")))?
        .version();
    let old_ok = verify_delegate(&trusted["signed"], "root", &pending)
        .map_err(|e| WorkError::invalid(e.to_string()))?;
    let new_ok = verify_delegate(&pending["signed"], "root", &pending)
        .map_err(|e| WorkError::invalid(e.to_string()))?;
    if old_ok.is_satisfied() && new_ok.is_satisfied() {
        finalize_root_update(ctx, &trusted, &pending).await?;
        return Ok(TaskResult::ok(
            TaskName::SignMetadata,
            "Metadata sign accepted",
            json!({ "update": "Metadata update finished" }),
        ));
    }
    ctx.store
        .put_settings(&[(signing_key("root"), pending)])
        .await?;
    Ok(TaskResult::ok(
        TaskName::SignMetadata,
        "Metadata sign accepted",
        json!({ "update": format!("Root v{version} is pending signatures") }),
    ))
}

/// The `delete_sign_metadata` task.
pub async fn delete_sign(ctx: &Ctx, payload: &Value) -> Result<TaskResult, WorkError> {
    let role = SignDeletePayload::deserialize(payload)
        .map_err(|e| WorkError::invalid(format!("the request is malformed: {e}")))?
        .role;
    let settings = Settings::load(&ctx.store).await?;
    let mut items = vec![(signing_key(&role), Value::Null)];
    let mut details = json!({});
    if role == "root" && bootstrap_state(&settings).starts_with("signing-") {
        items.push(("BOOTSTRAP".into(), Value::Null));
        details = json!({ "bootstrap": "Bootstrap process has been stopped" });
    }
    ctx.store.put_settings(&items).await?;
    Ok(TaskResult::ok(
        TaskName::DeleteSignMetadata,
        format!("Deletion of {role} metadata successful, signing process stopped"),
        details,
    ))
}

/// The `metadata_update` task (root rotation).
pub async fn metadata_update(ctx: &Ctx, payload: &Value) -> Result<TaskResult, WorkError> {
    let settings = Settings::load(&ctx.store).await?;
    let state = bootstrap_state(&settings);
    if state.is_empty() || state.starts_with("pre-") {
        return Ok(TaskResult::error(
            TaskName::MetadataUpdate,
            "Metadata Update Failed",
            "Bootstrap is not finished",
            None,
        ));
    }
    let request = MetadataUpdatePayload::deserialize(payload).map_err(|e| {
        WorkError::invalid(format!("the metadata update request is malformed: {e}"))
    })?;
    // As received: its signatures are verified over these bytes.
    let new_root = request.metadata.get("root").cloned().unwrap_or(Value::Null);
    let trusted = settings.trusted_root()?.clone();
    let fail = |e: String| {
        Ok(TaskResult::error(
            TaskName::MetadataUpdate,
            "Metadata Update Failed",
            format!("Failed to verify the trust: {e}"),
            None,
        ))
    };
    let signed = &new_root["signed"];
    if signed.get("_type").and_then(Value::as_str) != Some("root") {
        return fail("metadata is not of type root".into());
    }
    let trusted_version = match Metadata::<Root>::from_value(&trusted) {
        Ok(t) => t.version(),
        Err(e) => return fail(format!("the trusted root is unreadable: {e}")),
    };
    let version = match Metadata::<Root>::from_value(&new_root) {
        Ok(n) => n.version(),
        Err(e) => return fail(format!("invalid root metadata: {e}")),
    };
    if version != trusted_version + 1 {
        return fail(format!(
            "new root version {version} must be {}",
            trusted_version + 1
        ));
    }
    if let Err(e) = check_root_shape(signed, ctx.clock.now()) {
        return fail(e.to_string());
    }
    let old_ok = match verify_delegate(&trusted["signed"], "root", &new_root) {
        Ok(v) => v,
        Err(e) => return fail(e.to_string()),
    };
    let new_ok = match verify_delegate(signed, "root", &new_root) {
        Ok(v) => v,
        Err(e) => return fail(e.to_string()),
    };
    if let Err(e) = check_rotation_signatures(&old_ok, &new_ok) {
        return fail(e);
    }
    if !(old_ok.is_satisfied() && new_ok.is_satisfied()) {
        ctx.store
            .put_settings(&[(signing_key("root"), new_root)])
            .await?;
        return Ok(TaskResult::ok(
            TaskName::MetadataUpdate,
            "Metadata Update Processed",
            json!({ "role": "root", "update": format!("Root v{version} is pending signatures") }),
        ));
    }
    finalize_root_update(ctx, &trusted, &new_root).await?;
    Ok(TaskResult::ok(
        TaskName::MetadataUpdate,
        "Metadata Update Processed",
        json!({ "role": "root" }),
    ))
}

/// Every signature on a new root must be by a key of the trusted or the new
/// root, and must verify: a bad signature is refused rather than published
/// (clients would ignore it, but it says the payload is not what its key
/// holders signed).
fn check_rotation_signatures(
    by_old: &rstuf_tuf::verify::Verification,
    by_new: &rstuf_tuf::verify::Verification,
) -> Result<(), String> {
    let bad: Vec<&String> = by_old.invalid.union(&by_new.invalid).collect();
    if !bad.is_empty() {
        return Err(format!(
            "the signature(s) of key(s) {} do not verify",
            join(&bad)
        ));
    }
    let strangers: Vec<&String> = by_old
        .unauthorized
        .intersection(&by_new.unauthorized)
        .collect();
    if !strangers.is_empty() {
        return Err(format!(
            "signature(s) by key(s) {} that are root keys of neither the trusted nor the new root",
            join(&strangers)
        ));
    }
    Ok(())
}

fn join(ids: &[&String]) -> String {
    ids.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Persist a fully signed new root; if the online key changed, move every
/// online role to the new key.
async fn finalize_root_update(
    ctx: &Ctx,
    trusted: &Value,
    new_root: &Value,
) -> Result<(), WorkError> {
    let old = OnlineKey::from_root(&trusted["signed"])?;
    let new = OnlineKey::from_root(&new_root["signed"])?;
    let version = Metadata::<Root>::from_value(new_root)
        .map_err(|e| WorkError::invalid(format!("invalid root metadata: {e}")))?
        .version();
    let key_changed = old.keyid != new.keyid;
    if key_changed {
        new.check(&ctx.backends).await?;
    }
    ctx.backends
        .storage
        .put(&file_name("root", version), &to_file_bytes(new_root))
        .await
        .map_err(WorkError::plugin)?;
    let mut items = vec![
        ("TRUSTED_ROOT".to_string(), new_root.clone()),
        (signing_key("root"), Value::Null),
    ];
    if key_changed {
        let settings = Settings::load(&ctx.store).await?;
        let mut targets = settings
            .get("TRUSTED_TARGETS")
            .cloned()
            .unwrap_or(json!({}));
        rekey_delegations(&mut targets["signed"], &old.keyid, &new);
        items.push(("TRUSTED_TARGETS".into(), targets));
        items.push(("ONLINE_KEY".into(), {
            let mut k = new.key.to_value();
            k["keyid"] = json!(new.keyid);
            k
        }));
    }
    ctx.store.put_settings(&items).await?;
    if key_changed {
        let all: Vec<String> = ctx
            .store
            .active_roles()
            .await?
            .into_iter()
            .map(|r| r.rolename)
            .collect();
        publish(
            ctx,
            PublishOptions {
                force_roles: all,
                bump_targets: true,
                force_snapshot: true,
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// Replace the old online key by the new one in targets' delegations.
fn rekey_delegations(targets_signed: &mut Value, old: &str, new: &OnlineKey) {
    let Some(d) = targets_signed.get_mut("delegations") else {
        return;
    };
    if let Some(keys) = d.get_mut("keys").and_then(Value::as_object_mut) {
        keys.remove(old);
        keys.insert(new.keyid.clone(), new.key.to_value());
    }
    let swap = |role: &mut Value| {
        if let Some(ids) = role.get_mut("keyids").and_then(Value::as_array_mut) {
            for id in ids.iter_mut() {
                if id.as_str() == Some(old) {
                    *id = json!(new.keyid);
                }
            }
        }
    };
    if let Some(s) = d.get_mut("succinct_roles") {
        swap(s);
    }
    if let Some(roles) = d.get_mut("roles").and_then(Value::as_array_mut) {
        roles.iter_mut().for_each(swap);
    }
}

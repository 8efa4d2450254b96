//! Metadata pending signatures, as `GET /api/v1/metadata/sign/` gives it
//! (upstream's response: `data.metadata` maps each pending role to its
//! document, plus `trusted_root` / `trusted_targets` to check against).
//! `metadata sign` picks a role from it and `metadata status` reports on
//! all of them; both find a role's signers here.
//!
//! Which keys may sign: a pending root → its own root role, and the trusted
//! root's too when one is given (a rotation needs both thresholds); a
//! delegated role → the trusted targets' delegation of it.

use crate::client::Client;
use crate::error::{local, CliError, CliResult};
use crate::keys::KEY_NAME_FIELD;
use crate::output::Output;
use crate::send;
use serde_json::{json, Map, Value};
use std::path::Path;

/// The pending metadata map (`data.metadata`) of a sign response, saved
/// whole or as its `data` part.
pub fn pending_of(response: &Value) -> Option<&Map<String, Value>> {
    response
        .pointer("/data/metadata")
        .or_else(|| response.get("metadata"))
        .and_then(Value::as_object)
}

/// The roles waiting for signatures (not the `trusted_*` context).
pub fn roles(pending: &Map<String, Value>) -> Vec<&str> {
    pending
        .keys()
        .map(String::as_str)
        .filter(|r| !r.starts_with("trusted_"))
        .collect()
}

/// Where the keys of `role` are defined: `(label, document)` of each
/// delegator whose threshold the role must meet.
pub fn delegators<'a>(
    pending: &'a Map<String, Value>,
    role: &str,
    source: &str,
) -> CliResult<Vec<(&'static str, &'a Value)>> {
    let mut delegators = Vec::new();
    if role == "root" {
        if let Some(p) = pending.get("root") {
            delegators.push(("pending root", p));
        }
        if let Some(t) = pending.get("trusted_root") {
            delegators.push(("trusted root", t));
        }
    } else {
        let trusted = pending.get("trusted_targets").ok_or_else(|| {
            local(format!(
                "{source}: trusted_targets is missing; it is needed to find the keys of {role}"
            ))
        })?;
        delegators.push(("trusted targets", trusted));
    }
    Ok(delegators)
}

/// `role`'s definition (`keyids`, `threshold`) in a delegator.
pub fn role_def<'a>(holder: &'a Value, role: &str) -> Option<&'a Value> {
    if role == "root" {
        return holder.pointer("/signed/roles/root");
    }
    holder
        .pointer("/signed/delegations/roles")?
        .as_array()?
        .iter()
        .find(|r| r.get("name").and_then(Value::as_str) == Some(role))
}

/// The `keys` map a delegator defines its roles' keys in.
pub fn keys_map<'a>(holder: &'a Value, role: &str) -> Option<&'a Map<String, Value>> {
    let pointer = if role == "root" {
        "/signed/keys"
    } else {
        "/signed/delegations/keys"
    };
    holder.pointer(pointer)?.as_object()
}

/// A role's key ids and threshold in a delegator, read as a typed role: a
/// definition without a threshold, or with 0 or repeated keyids, names no
/// signers rather than a default of 1.
pub fn role_keys<'a>(
    holder: &'a Value,
    role: &str,
) -> Option<(Vec<String>, u64, &'a Map<String, Value>)> {
    use serde::Deserialize as _;
    let def = rstuf_tuf::metadata::RoleKeys::deserialize(role_def(holder, role)?).ok()?;
    Some((
        def.keyids.as_slice().to_vec(),
        def.threshold.get(),
        keys_map(holder, role)?,
    ))
}

/// Read the pending metadata from a saved response or the server.
pub async fn fetch(input: Option<&Path>, client: Option<&Client>) -> CliResult<(Value, String)> {
    match input {
        Some(file) => Ok((send::read_payload(file)?, file.display().to_string())),
        None => {
            let client = client.ok_or_else(|| CliError::Usage("no server to ask".into()))?;
            let (status, body) = client.get("api/v1/metadata/sign/").await?;
            if status != 200 {
                return Err(CliError::Server(format!(
                    "Error {status}: {}",
                    crate::client::describe(&body)
                )));
            }
            Ok((body, "the server".to_string()))
        }
    }
}

/// One pending role's report: for each delegator, which of its keys have
/// signed (with valid signatures), which have not, and how many more are
/// needed.
fn report(pending: &Map<String, Value>, role: &str, source: &str) -> CliResult<Value> {
    let metadata = &pending[role];
    let signed = metadata.get("signed").unwrap_or(&Value::Null);
    let version = signed.get("version").cloned().unwrap_or(Value::Null);
    let kind = match (role, version.as_i64()) {
        ("root", Some(1)) => "bootstrap",
        ("root", _) => "root update",
        _ => "delegated role",
    };
    let expires = signed.get("expires").and_then(Value::as_str);
    let expired = expires
        .and_then(rstuf_tuf::format::parse_time)
        .map(|t| t <= chrono::Utc::now());
    let mut against = Vec::new();
    for (label, holder) in delegators(pending, role, source)? {
        let Some(def) = role_def(holder, role) else {
            continue;
        };
        let v = rstuf_tuf::verify::verify_with(&holder["signed"], def, metadata).map_err(|e| {
            local(format!(
                "{source}: checking {role} against the {label}: {e}"
            ))
        })?;
        let (keyids, _, keys) = role_keys(holder, role)
            .ok_or_else(|| local(format!("{source}: the {label}'s {role} role is malformed")))?;
        let named = |id: &String| {
            json!({
                "keyid": id,
                "name": keys.get(id).and_then(|k| k.get(KEY_NAME_FIELD)).cloned().unwrap_or(Value::Null),
            })
        };
        let (have, missing): (Vec<&String>, Vec<&String>) =
            keyids.iter().partition(|id| v.valid.contains(*id));
        against.push(json!({
            "delegator": label,
            "threshold": v.threshold,
            "signed": have.into_iter().map(named).collect::<Vec<_>>(),
            "missing": missing.into_iter().map(named).collect::<Vec<_>>(),
            "invalid": v.invalid.iter().collect::<Vec<_>>(),
            "unauthorized": v.unauthorized.iter().collect::<Vec<_>>(),
            "needed": v.missing(),
        }));
    }
    let complete = against.iter().all(|a| a["needed"] == 0);
    Ok(json!({
        "role": role,
        "kind": kind,
        "version": version,
        "expires": expires,
        "expired": expired,
        "against": against,
        "complete": complete,
    }))
}

/// `rstuf admin metadata status`: every signing under way.
pub async fn status(input: Option<&Path>, client: Option<&Client>, out: &Output) -> CliResult<()> {
    let (response, source) = fetch(input, client).await?;
    let empty = Map::new();
    let pending = match pending_of(&response) {
        Some(p) => p,
        None if input.is_some() && response.get("message").is_none() => {
            return Err(local(format!(
                "{source} is not a GET /api/v1/metadata/sign/ response (needs data.metadata)"
            )))
        }
        None => &empty,
    };
    let reports = roles(pending)
        .into_iter()
        .map(|role| report(pending, role, &source))
        .collect::<CliResult<Vec<Value>>>()?;
    if out.json {
        out.print_json(&json!({ "pending": reports }));
        return Ok(());
    }
    if reports.is_empty() {
        out.success(&format!("No metadata pending signatures (from {source})"));
        return Ok(());
    }
    for r in &reports {
        print_text(r);
    }
    Ok(())
}

fn print_text(r: &Value) {
    let expiry = match (r["expires"].as_str(), r["expired"].as_bool()) {
        (Some(e), Some(true)) => format!("expired {e}: it can no longer be completed"),
        (Some(e), _) => format!("expires {e}"),
        _ => "no expiry".into(),
    };
    println!(
        "{} v{} ({}), {expiry}",
        r["role"].as_str().unwrap_or(""),
        r["version"],
        r["kind"].as_str().unwrap_or("")
    );
    let who = |k: &Value| match k["name"].as_str() {
        Some(name) => format!("{name} ({})", k["keyid"].as_str().unwrap_or("")),
        None => k["keyid"].as_str().unwrap_or("").to_string(),
    };
    for a in r["against"].as_array().into_iter().flatten() {
        let signed = a["signed"].as_array().map(Vec::len).unwrap_or(0);
        println!(
            "  {}: {signed} of {} signatures{}",
            a["delegator"].as_str().unwrap_or(""),
            a["threshold"],
            match a["needed"].as_u64() {
                Some(0) => ", complete".to_string(),
                Some(n) => format!(", {n} more needed"),
                None => String::new(),
            }
        );
        for k in a["signed"].as_array().into_iter().flatten() {
            println!("    signed:  {}", who(k));
        }
        for k in a["missing"].as_array().into_iter().flatten() {
            println!("    missing: {}", who(k));
        }
        for id in a["invalid"].as_array().into_iter().flatten() {
            println!("    invalid signature: {}", id.as_str().unwrap_or(""));
        }
    }
}

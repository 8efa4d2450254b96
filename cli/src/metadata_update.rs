//! `rstuf admin metadata update`: the next root version (root rotation),
//! scriptable. Starts from the current root (a file, or the latest root the
//! repository publishes, each version checked against the one before), then
//! changes expiry, root keys, threshold and the online key as asked, signs
//! with local keys, and writes upstream's update payload
//! (`{"metadata": {"root": …}}`) and optionally sends it.
//!
//! A rotation needs the threshold of the *current* root and of the *new*
//! root. Signing with fewer keys gives a pending update: the server keeps
//! it and the other holders add their signatures with
//! `rstuf admin metadata sign`, each in their own run.

use crate::ceremony::{sign_checked, split_file_arg, SignatureOut};
use crate::client::Client;
use crate::error::{local, CliError, CliResult};
use crate::keys::{
    default_name, load_private_key, load_public_key, write_atomic, PasswordSource, TufKeyForm as _,
};
use crate::output::Output;
use crate::send;
use rstuf_tuf::verify::verify_delegate;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// Roles signed by the online key.
const ONLINE_ROLES: [&str; 3] = ["timestamp", "snapshot", "targets"];
/// Most root versions walked when fetching the latest root.
const MAX_ROOT_VERSIONS: u64 = 10_000;

#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    /// The current root metadata file (trusted as given).
    #[arg(long = "in", value_name = "FILE", group = "source")]
    pub input: Option<PathBuf>,
    /// Fetch the latest root from this metadata URL: 1.root.json (or
    /// --trusted-root), then each next version, each verified by the one
    /// before.
    #[arg(long, value_name = "URL", group = "source")]
    pub metadata_url: Option<String>,
    /// With --metadata-url: start from this root instead of trusting the
    /// server's 1.root.json on first use.
    #[arg(long, value_name = "FILE", requires = "metadata_url")]
    pub trusted_root: Option<PathBuf>,
    /// The new root expires this many days from now (default: unchanged).
    #[arg(long, value_name = "DAYS")]
    pub expires_days: Option<u32>,
    /// Add a root key: PEM public key or private key file; `FILE:NAME` names it.
    #[arg(long = "add-key", value_name = "FILE[:NAME]")]
    pub add_keys: Vec<String>,
    /// Remove a root key, by keyid or by key file.
    #[arg(long = "remove-key", value_name = "KEYID|FILE")]
    pub remove_keys: Vec<String>,
    /// Signatures the new root needs (at least 2).
    #[arg(long, value_name = "N")]
    pub root_threshold: Option<u64>,
    /// Rotate the online key to this public key (PEM; a private key file works too).
    #[arg(long, value_name = "PEM")]
    pub online_key: Option<PathBuf>,
    /// URI of the new online key (default `fn:<keyid>`).
    #[arg(long, value_name = "URI", requires = "online_key")]
    pub online_key_uri: Option<String>,
    /// Name of the new online key.
    #[arg(long, default_value = "online", requires = "online_key")]
    pub online_key_name: String,
    /// Sign with this private key file (a key of the current or the new
    /// root); `KEYFILE:ENV` reads its password from environment variable
    /// ENV. Repeatable; too few signatures leave the update pending.
    #[arg(long = "sign", value_name = "KEYFILE[:PASSWORD_ENV]")]
    pub sign: Vec<String>,
    /// Where to write the payload (`--out` alone: the default name).
    #[arg(long, default_value = "update-payload.json", num_args = 0..=1, default_missing_value = "update-payload.json")]
    pub out: PathBuf,
    /// POST the payload to /api/v1/metadata/ and wait for the task.
    #[arg(long)]
    pub send: bool,
    /// Write the payload only, do not send it (the default; upstream's
    /// name for it).
    #[arg(long, conflicts_with = "send")]
    pub dry_run: bool,
}

/// Read a root document (`{signatures, signed}`), or a payload holding one.
fn root_document(value: Value, source: &str) -> CliResult<Value> {
    let doc = value.pointer("/metadata/root").cloned().unwrap_or(value);
    if doc.pointer("/signed/_type").and_then(Value::as_str) != Some("root") {
        return Err(local(format!("{source} is not root metadata")));
    }
    Ok(doc)
}

async fn fetch(http: &reqwest::Client, url: &str) -> CliResult<Option<Value>> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| CliError::Server(format!("Failed to fetch {url}: {e}")))?;
    match response.status().as_u16() {
        200 => response
            .json()
            .await
            .map(Some)
            .map_err(|e| CliError::Server(format!("{url} is not JSON: {e}"))),
        403 | 404 => Ok(None),
        s => Err(CliError::Server(format!("{url}: HTTP {s}"))),
    }
}

/// The latest root at `base`, each version verified against the previous
/// one (threshold of both), as a TUF client updates root.
async fn latest_root(base: &str, start: Option<Value>) -> CliResult<Value> {
    let base = base.trim_end_matches('/');
    let http = crate::client::http_builder()?
        .build()
        .map_err(|e| CliError::Local(format!("HTTP client: {e}")))?;
    let mut current = match start {
        Some(root) => root,
        None => root_document(
            fetch(&http, &format!("{base}/1.root.json"))
                .await?
                .ok_or_else(|| CliError::Server(format!("{base}/1.root.json does not exist")))?,
            "1.root.json",
        )?,
    };
    loop {
        let version = root_version(&current)?;
        if version >= MAX_ROOT_VERSIONS {
            return Ok(current);
        }
        let next_name = format!("{}.root.json", version + 1);
        let Some(next) = fetch(&http, &format!("{base}/{next_name}")).await? else {
            return Ok(current);
        };
        let next = root_document(next, &next_name)?;
        let bad = |why: String| CliError::Server(format!("{next_name} does not verify: {why}"));
        if next.pointer("/signed/version").and_then(Value::as_u64) != Some(version + 1) {
            return Err(bad("wrong version".into()));
        }
        let by_old =
            verify_delegate(&current["signed"], "root", &next).map_err(|e| bad(e.to_string()))?;
        let by_new =
            verify_delegate(&next["signed"], "root", &next).map_err(|e| bad(e.to_string()))?;
        if !by_old.is_satisfied() || !by_new.is_satisfied() {
            return Err(bad("not signed by the threshold of both versions".into()));
        }
        current = next;
    }
}

fn root_keyids(signed: &Value) -> Vec<String> {
    signed
        .pointer("/roles/root/keyids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|k| k.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Drop keys no role uses any more.
fn prune_keys(signed: &mut Value) {
    let used: Vec<String> = signed
        .get("roles")
        .and_then(Value::as_object)
        .map(|roles| {
            roles
                .values()
                .filter_map(|r| r.get("keyids").and_then(Value::as_array))
                .flatten()
                .filter_map(|k| k.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if let Some(keys) = signed.get_mut("keys").and_then(Value::as_object_mut) {
        keys.retain(|id, _| used.contains(id));
    }
}

fn set_root_keyids(signed: &mut Value, ids: Vec<String>) {
    signed["roles"]["root"]["keyids"] = json!(ids);
}

fn keys_mut(signed: &mut Value) -> CliResult<&mut Map<String, Value>> {
    signed
        .get_mut("keys")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| local("root has no 'keys' object"))
}

pub async fn update(args: &UpdateArgs, client: Option<&Client>, out: &Output) -> CliResult<()> {
    if let Some(t) = args.root_threshold {
        if t < 2 {
            return Err(CliError::Usage(format!(
                "--root-threshold must be at least 2 (root is signed offline by several key holders), got {t}"
            )));
        }
    }
    if let Some(uri) = &args.online_key_uri {
        if !uri
            .split_once(':')
            .is_some_and(|(s, r)| !s.is_empty() && !r.is_empty())
        {
            return Err(CliError::Usage(format!(
                "--online-key-uri must look like SCHEME:NAME, got '{uri}'"
            )));
        }
    }
    let current = match (&args.input, &args.metadata_url) {
        (Some(file), _) => root_document(send::read_payload(file)?, &file.display().to_string())?,
        (None, Some(url)) => {
            let start = args
                .trusted_root
                .as_ref()
                .map(|f| {
                    send::read_payload(f).and_then(|v| root_document(v, &f.display().to_string()))
                })
                .transpose()?;
            latest_root(url, start).await?
        }
        (None, None) => {
            return Err(CliError::Usage(
                "say where the current root is: --in FILE or --metadata-url URL".into(),
            ))
        }
    };
    let old_version = root_version(&current)?;
    let old = &current["signed"];
    let mut signed = old.clone();
    signed["version"] = json!(old_version + 1);
    if let Some(days) = args.expires_days {
        if !(1..=36600).contains(&days) {
            return Err(CliError::Usage(format!(
                "--expires-days must be from 1 to 36600, got {days}"
            )));
        }
        let expires = chrono::Utc::now() + chrono::Duration::days(i64::from(days));
        signed["expires"] = json!(expires.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }

    // Root keys out, then in.
    let mut ids = root_keyids(&signed);
    for item in &args.remove_keys {
        let keyid = if std::path::Path::new(item).exists() {
            let public = load_public_key(std::path::Path::new(item), None)?;
            let keys = keys_mut(&mut signed)?;
            ids.iter()
                .find(|id| keys.get(*id).is_some_and(|k| public.matches(k)))
                .cloned()
                .ok_or_else(|| local(format!("{item} is not a root key of v{old_version}")))?
        } else {
            item.clone()
        };
        if !ids.contains(&keyid) {
            return Err(CliError::Usage(format!(
                "--remove-key {item}: no such root key in v{old_version} (root keys: {})",
                ids.join(", ")
            )));
        }
        ids.retain(|id| id != &keyid);
    }
    for item in &args.add_keys {
        let (file, name) = split_file_arg(item);
        let public = load_public_key(&file, None)?;
        let name = name.unwrap_or_else(|| default_name(&file));
        let keys = keys_mut(&mut signed)?;
        if ids
            .iter()
            .any(|id| keys.get(id).is_some_and(|k| public.matches(k)))
        {
            return Err(CliError::Usage(format!(
                "{} is already a root key",
                file.display()
            )));
        }
        let keyid = public.keyid(Some(name.as_str()), None);
        keys.insert(keyid.clone(), public.tuf_key(Some(name.as_str()), None));
        ids.push(keyid);
    }
    let threshold = match args.root_threshold {
        Some(t) => t,
        None => rstuf_tuf::metadata::parse_signed::<rstuf_tuf::metadata::Root>(old)
            .ok()
            .and_then(|r| r.role("root").map(|r| r.threshold.get()))
            .ok_or_else(|| local("the current root has no valid root role threshold"))?,
    };
    if (ids.len() as u64) < threshold {
        return Err(CliError::Usage(format!(
            "the new root would have {} root keys but needs {threshold} signatures: add keys or lower --root-threshold",
            ids.len()
        )));
    }
    set_root_keyids(&mut signed, ids);
    signed["roles"]["root"]["threshold"] = json!(threshold);

    // Online key rotation.
    let mut online = None;
    if let Some(file) = &args.online_key {
        let public = load_public_key(file, None)?;
        let uri = args
            .online_key_uri
            .clone()
            .unwrap_or_else(|| format!("fn:{}", public.bare_keyid()));
        let name = args.online_key_name.as_str();
        let keyid = public.keyid(Some(name), Some(uri.as_str()));
        if root_keyids(&signed).contains(&keyid) {
            return Err(CliError::Usage(
                "the online key cannot be a root key".into(),
            ));
        }
        keys_mut(&mut signed)?.insert(
            keyid.clone(),
            public.tuf_key(Some(name), Some(uri.as_str())),
        );
        for role in ONLINE_ROLES {
            signed["roles"][role] = json!({ "keyids": [keyid], "threshold": 1 });
        }
        online = Some(json!({ "keyid": keyid, "uri": uri }));
    }
    prune_keys(&mut signed);

    // Signatures: keys of the current or the new root.
    let mut signatures: Vec<SignatureOut> = Vec::new();
    for s in &args.sign {
        let (file, env) = split_file_arg(s);
        let password = env.map(PasswordSource::Env);
        let key = load_private_key(
            &file,
            password.as_ref(),
            &format!("--sign {}:ENV_VAR", file.display()),
        )?;
        let public = key.public()?;
        let found = [&signed, old].into_iter().find_map(|holder| {
            root_keyids(holder).into_iter().find_map(|id| {
                holder
                    .pointer(&format!("/keys/{id}"))
                    .filter(|k| public.matches(k))
                    .map(|k| (id.clone(), k.clone()))
            })
        });
        let Some((keyid, tuf_key)) = found else {
            return Err(local(format!(
                "key {} ({}) is not a root key of v{old_version} or v{}",
                public.bare_keyid(),
                file.display(),
                old_version + 1
            )));
        };
        if signatures.iter().any(|s| s.keyid == keyid) {
            return Err(CliError::Usage(format!(
                "root key {keyid} ({}) is given to --sign twice",
                file.display()
            )));
        }
        let sig = sign_checked(&key, &tuf_key, &signed)?;
        signatures.push(SignatureOut { keyid, sig });
    }
    let doc = json!({
        "signatures": signatures.iter().map(|s| json!({"keyid": s.keyid, "sig": s.sig})).collect::<Vec<_>>(),
        "signed": signed,
    });
    let by_old = verify_delegate(old, "root", &doc).map_err(|e| local(format!("checking: {e}")))?;
    let by_new = verify_delegate(&doc["signed"], "root", &doc)
        .map_err(|e| local(format!("checking: {e}")))?;
    let payload = json!({ "metadata": { "root": doc } });
    let text = serde_json::to_string_pretty(&payload)
        .map_err(|e| local(format!("encoding the payload: {e}")))?;
    write_atomic(&args.out, format!("{text}\n").as_bytes(), 0o644, true)?;

    let complete = by_old.is_satisfied() && by_new.is_satisfied();
    let summary = json!({
        "out": args.out.display().to_string(),
        "version": old_version + 1,
        "root_keys": root_keyids(&doc["signed"]),
        "root_threshold": threshold,
        "online_key": online,
        "signatures": {
            "current_root": { "valid": by_old.valid.len(), "threshold": by_old.threshold },
            "new_root": { "valid": by_new.valid.len(), "threshold": by_new.threshold },
        },
        "complete": complete,
    });
    if !out.json {
        out.success(&format!(
            "Wrote {} (root v{})",
            args.out.display(),
            old_version + 1
        ));
        println!(
            "  current root v{old_version}: {} of {} signatures",
            by_old.valid.len(),
            by_old.threshold
        );
        println!(
            "  new root v{}: {} of {} signatures",
            old_version + 1,
            by_new.valid.len(),
            by_new.threshold
        );
        if !complete {
            println!("  not enough signatures yet: once sent, the other key holders sign with `rstuf admin metadata sign`");
        }
    }
    let Some(client) = client.filter(|_| args.send) else {
        if out.json {
            out.print_json(&summary);
        }
        return Ok(());
    };
    let (task_id, outcome) = send::submit_and_wait_outcome(
        client,
        "api/v1/metadata/",
        &payload,
        "Metadata update accepted.",
        out,
    )
    .await?;
    if out.json {
        let mut summary = summary;
        summary["task"] = send::outcome_json(&task_id, &outcome);
        out.print_json(&summary);
    } else {
        send::print_outcome_text(out, &outcome);
    }
    Ok(())
}

/// `rstuf admin metadata stop-sign ROLE`: abandon metadata pending
/// signatures (a root update, a DAS bootstrap, an offline role's changes).
pub async fn stop_sign(client: &Client, role: &str, out: &Output) -> CliResult<()> {
    let (status, body) = client.get("api/v1/metadata/sign/").await?;
    if status != 200 {
        return Err(CliError::Server(format!(
            "Error {status}: {}",
            crate::client::describe(&body)
        )));
    }
    let pending: Vec<String> = body
        .pointer("/data/metadata")
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .filter(|k| !k.starts_with("trusted_"))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if !pending.iter().any(|r| r == role) {
        return Err(CliError::Usage(format!(
            "role '{role}' is not pending signatures (pending: {})",
            if pending.is_empty() {
                "none".to_string()
            } else {
                pending.join(", ")
            }
        )));
    }
    let (task_id, outcome) = send::submit_and_wait_outcome(
        client,
        "api/v1/metadata/sign/delete",
        &json!({ "role": role }),
        "Metadata sign delete accepted.",
        out,
    )
    .await?;
    if out.json {
        out.print_json(&json!({ "role": role, "task": send::outcome_json(&task_id, &outcome) }));
    } else {
        send::print_outcome_text(out, &outcome);
    }
    Ok(())
}

/// The version of a root document, read as typed metadata (a root without
/// a valid version is refused, not read as 0).
fn root_version(doc: &Value) -> CliResult<u64> {
    use rstuf_tuf::metadata::{parse_signed, Root, Signed};
    parse_signed::<Root>(&doc["signed"])
        .map(|r| r.version())
        .map_err(|e| CliError::Server(format!("the current root is not valid root metadata: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unused_keys_are_pruned() {
        let mut signed = json!({
            "keys": {"a": {}, "b": {}, "online": {}},
            "roles": {"root": {"keyids": ["a"]}, "timestamp": {"keyids": ["online"]}},
        });
        prune_keys(&mut signed);
        let keys: Vec<&String> = signed["keys"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["a", "online"]);
        assert_eq!(crate::keys::keyid_of(&json!({})), "");
    }

    #[test]
    fn root_documents_are_found_in_payloads() {
        let root = json!({"signatures": [], "signed": {"_type": "root", "version": 3}});
        assert_eq!(
            root_document(json!({"metadata": {"root": root.clone()}}), "x").unwrap(),
            root
        );
        assert_eq!(root_document(root.clone(), "x").unwrap(), root);
        assert!(
            root_document(json!({"signed": {"_type": "targets"}}), "t.json")
                .unwrap_err()
                .to_string()
                .contains("t.json")
        );
    }
}

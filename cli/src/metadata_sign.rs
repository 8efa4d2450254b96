//! `rstuf admin metadata sign`: add one signature to metadata pending
//! signatures (a DAS bootstrap's root, a root update, an offline delegated
//! role) with a local private key, checked locally before it is sent.

use crate::ceremony::{sign_checked, SignatureOut};
use crate::client::Client;
use crate::error::{local, CliError, CliResult};
use crate::keys::{load_private_key, write_atomic, PasswordSource, TufKeyForm as _};
use crate::output::Output;
use crate::{pending, send};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct SignArgs {
    /// The private key file to sign with (PKCS#8 PEM, encrypted or not).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Read the key's password from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Read the key's password from this file.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// The role to sign (default: root if pending, else the only pending role).
    #[arg(long)]
    pub role: Option<String>,
    /// A saved GET /api/v1/metadata/sign/ response instead of asking the server.
    #[arg(long = "in", value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Also write the sign payload here (with --dry-run, or `--out` alone:
    /// sign-payload.json).
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "sign-payload.json")]
    pub out: Option<PathBuf>,
    /// Write the payload only; do not send it.
    #[arg(long)]
    pub dry_run: bool,
}

/// The sign payload, in upstream's key order.
#[derive(Serialize)]
struct SignPayload<'a> {
    signature: &'a SignatureOut,
    role: &'a str,
}

pub async fn sign(args: &SignArgs, client: Option<&Client>, out: &Output) -> CliResult<()> {
    let password =
        PasswordSource::from_options(args.password_env.as_ref(), args.password_file.as_ref())?;
    let (response, source) = pending::fetch(args.input.as_deref(), client).await?;
    let no_pending = || {
        let msg = format!("No metadata pending signing available (from {source})");
        if args.input.is_some() {
            local(msg)
        } else {
            CliError::Server(msg)
        }
    };
    let pending = match pending::pending_of(&response) {
        Some(p) => p,
        None if args.input.is_some() && response.get("message").is_none() => {
            return Err(local(format!(
                "{source} is not a GET /api/v1/metadata/sign/ response (needs data.metadata)"
            )))
        }
        None => return Err(no_pending()),
    };
    let roles = pending::roles(pending);
    if roles.is_empty() {
        return Err(no_pending());
    }
    let role = match &args.role {
        Some(r) => r.as_str(),
        None if roles.contains(&"root") => "root",
        None if roles.len() == 1 => roles[0],
        None => {
            return Err(CliError::Usage(format!(
                "several roles are pending signatures ({}): choose one with --role",
                roles.join(", ")
            )))
        }
    };
    let metadata = pending
        .get(role)
        .filter(|_| roles.contains(&role))
        .ok_or_else(|| {
            CliError::Usage(format!(
                "role '{role}' is not pending signatures (pending: {})",
                roles.join(", ")
            ))
        })?;
    let signed = metadata
        .get("signed")
        .filter(|s| s.is_object())
        .ok_or_else(|| local(format!("{source}: pending {role} has no 'signed' object")))?;
    let kind = signed.get("_type").and_then(Value::as_str).unwrap_or("");
    if kind != "root" && kind != "targets" {
        return Err(local(format!(
            "{source}: pending {role} has type '{kind}'; only root and targets metadata are signed offline"
        )));
    }

    let delegators = pending::delegators(pending, role, &source)?;

    let key = load_private_key(
        &args.key,
        password.as_ref(),
        "--password-env VAR or --password-file FILE",
    )?;
    let public = key.public()?;
    let mut found: Option<(String, Value)> = None;
    for (_, holder) in &delegators {
        let Some((keyids, _, keys)) = pending::role_keys(holder, role) else {
            continue;
        };
        if let Some(id) = keyids
            .iter()
            .find(|id| keys.get(*id).is_some_and(|k| public.matches(k)))
        {
            found = Some((id.clone(), keys[id].clone()));
            break;
        }
    }
    let Some((keyid, tuf_key)) = found else {
        return Err(local(format!(
            "key {} is not a {role} key ({})",
            public.bare_keyid(),
            args.key.display()
        )));
    };
    let already = metadata
        .get("signatures")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|s| s.get("keyid").and_then(Value::as_str) == Some(keyid.as_str()))
        });
    if already && !out.json {
        eprintln!("note: {role} already has a signature by key {keyid}; it is replaced");
    }
    let sig = sign_checked(&key, &tuf_key, signed)?;
    let signature = SignatureOut {
        keyid: keyid.clone(),
        sig,
    };

    // How far this gets the role (against each delegator).
    let mut with_sig = metadata.clone();
    let sigs = with_sig
        .as_object_mut()
        .and_then(|m| m.get_mut("signatures"))
        .and_then(Value::as_array_mut);
    if let Some(sigs) = sigs {
        sigs.retain(|s| s.get("keyid").and_then(Value::as_str) != Some(keyid.as_str()));
        sigs.push(json!({ "keyid": signature.keyid, "sig": signature.sig }));
    }
    let mut progress = Vec::new();
    for (label, holder) in &delegators {
        let def = pending::role_def(holder, role);
        let Some(def) = def else { continue };
        let v = rstuf_tuf::verify::verify_with(&holder["signed"], def, &with_sig)
            .map_err(|e| local(format!("checking {role}: {e}")))?;
        progress.push(json!({
            "against": label, "valid": v.valid.len(), "threshold": v.threshold,
        }));
    }

    let payload = SignPayload {
        signature: &signature,
        role,
    };
    let text = serde_json::to_string_pretty(&payload)
        .map_err(|e| local(format!("encoding the payload: {e}")))?;
    let out_file: Option<PathBuf> = match (&args.out, args.dry_run) {
        (Some(f), _) => Some(f.clone()),
        (None, true) => Some(PathBuf::from("sign-payload.json")),
        (None, false) => None,
    };
    if let Some(f) = &out_file {
        write_atomic(f, format!("{text}\n").as_bytes(), 0o644, true)?;
    }
    let mut summary = json!({
        "role": role,
        "keyid": keyid,
        "progress": progress,
        "out": out_file.as_deref().map(Path::display).map(|d| d.to_string()),
        "payload": serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
    });
    if !out.json {
        out.success(&format!("Signed {role} with key {keyid}"));
        for p in &progress {
            println!(
                "  {}: {} of {} signatures",
                p["against"].as_str().unwrap_or(""),
                p["valid"],
                p["threshold"]
            );
        }
        if let Some(f) = &out_file {
            println!("Wrote {}", f.display());
        }
    }
    if args.dry_run {
        if out.json {
            out.print_json(&summary);
        }
        return Ok(());
    }
    let client = client.ok_or_else(|| CliError::Usage("no server to send to".into()))?;
    let body = serde_json::to_value(&payload).map_err(|e| local(e.to_string()))?;
    let (task_id, outcome) = send::submit_and_wait_outcome(
        client,
        "api/v1/metadata/sign/",
        &body,
        "Metadata sign accepted.",
        out,
    )
    .await?;
    if out.json {
        summary["task"] = send::outcome_json(&task_id, &outcome);
        out.print_json(&summary);
    } else {
        send::print_outcome_text(out, &outcome);
    }
    Ok(())
}

//! `rstuf admin delegations new|update|delete`: custom delegated roles of a
//! repository bootstrapped with custom delegations (not hash bins). A role
//! is described by flags (one role) or by a delegations JSON file (any
//! number), checked the same way the ceremony checks its layout, then
//! sent to `/api/v1/delegations/`.

use crate::ceremony::{check_delegations, read_delegations, split_file_arg};
use crate::client::Client;
use crate::error::{local, CliError, CliResult};
use crate::keys::{default_name, load_public_key, write_atomic, TufKeyForm as _};
use crate::output::Output;
use crate::send;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct RoleArgs {
    /// A delegations JSON file (`{"keys": {…}, "roles": [{…}, …]}`) instead
    /// of describing one role with the flags below.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["role", "paths", "keys"])]
    pub file: Option<PathBuf>,
    /// Role name.
    #[arg(long, value_name = "NAME", required_unless_present = "file")]
    pub role: Option<String>,
    /// Path patterns the role is trusted for, e.g. `project/*` (repeatable).
    #[arg(
        long = "path",
        value_name = "PATTERN",
        required_unless_present = "file"
    )]
    pub paths: Vec<String>,
    /// A key of the role (PEM public or private key file; `FILE:NAME`
    /// names it). None: the role is signed by the online key.
    #[arg(long = "key", value_name = "FILE[:NAME]")]
    pub keys: Vec<String>,
    /// Signatures the role needs.
    #[arg(long, default_value_t = 1)]
    pub threshold: u64,
    /// Days each new version of the role is valid.
    #[arg(long, default_value_t = 365)]
    pub expires_days: u64,
    /// Let later roles serve paths this role does not have (default: terminating).
    #[arg(long)]
    pub non_terminating: bool,
    /// Also write the payload to this file (`--out` alone: delegations-new.json).
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "delegations-new.json")]
    pub out: Option<PathBuf>,
    /// Write the payload (default delegations-<new|update>.json) without sending it.
    #[arg(long)]
    pub dry_run: bool,
}

/// The `delegations` object for `args`.
fn delegations_of(args: &RoleArgs) -> CliResult<Value> {
    if let Some(file) = &args.file {
        return read_delegations(file);
    }
    let name = args.role.clone().unwrap_or_default();
    let mut keys = Map::new();
    let mut keyids = Vec::new();
    for item in &args.keys {
        let (file, key_name) = split_file_arg(item);
        let public = load_public_key(&file, None)?;
        let key_name = key_name.unwrap_or_else(|| default_name(&file));
        let keyid = public.keyid(Some(key_name.as_str()), None);
        if keyids.contains(&keyid) {
            return Err(CliError::Usage(format!(
                "{} is given twice",
                file.display()
            )));
        }
        keys.insert(keyid.clone(), public.tuf_key(Some(key_name.as_str()), None));
        keyids.push(keyid);
    }
    check_delegations(
        json!({
            "keys": keys,
            "roles": [{
                "name": name,
                "keyids": keyids,
                "threshold": args.threshold,
                "terminating": !args.non_terminating,
                "paths": args.paths,
                "x-rstuf-expire-policy": args.expires_days,
            }],
        }),
        &format!("role '{name}'"),
    )
}

async fn send_payload(
    client: Option<&Client>,
    method: reqwest::Method,
    path: &str,
    payload: &Value,
    message: &str,
    out: &Output,
) -> CliResult<()> {
    let client = client.ok_or_else(|| CliError::Usage("no server to send to".into()))?;
    let (task_id, outcome) =
        send::submit_with_and_wait(client, method, path, payload, message, out).await?;
    if out.json {
        out.print_json(
            &json!({ "payload": payload, "task": send::outcome_json(&task_id, &outcome) }),
        );
    } else {
        send::print_outcome_text(out, &outcome);
    }
    Ok(())
}

fn write_out(
    file: &Option<PathBuf>,
    dry_run: bool,
    default: &str,
    payload: &Value,
    out: &Output,
) -> CliResult<()> {
    let target = match (file, dry_run) {
        (Some(f), _) => Some(f.clone()),
        (None, true) => Some(PathBuf::from(default)),
        (None, false) => None,
    };
    if let Some(f) = target {
        let text = serde_json::to_string_pretty(payload).map_err(|e| local(e.to_string()))?;
        write_atomic(&f, format!("{text}\n").as_bytes(), 0o644, true)?;
        if !out.json {
            out.success(&format!("Wrote {}", f.display()));
        } else if dry_run {
            out.print_json(&json!({ "out": f.display().to_string(), "payload": payload }));
        }
    }
    Ok(())
}

/// `new` (POST) or `update` (PUT).
pub async fn new_or_update(
    args: &RoleArgs,
    update: bool,
    client: Option<&Client>,
    out: &Output,
) -> CliResult<()> {
    let payload = json!({ "delegations": delegations_of(args)? });
    let default = if update {
        "delegations-update.json"
    } else {
        "delegations-new.json"
    };
    write_out(&args.out, args.dry_run, default, &payload, out)?;
    if args.dry_run {
        return Ok(());
    }
    if update {
        send_payload(
            client,
            reqwest::Method::PUT,
            "api/v1/delegations/",
            &payload,
            "Metadata delegation update accepted.",
            out,
        )
        .await
    } else {
        send_payload(
            client,
            reqwest::Method::POST,
            "api/v1/delegations/",
            &payload,
            "Metadata delegation add accepted.",
            out,
        )
        .await
    }
}

#[derive(clap::Args, Debug)]
pub struct DeleteArgs {
    /// Role to delete (repeatable).
    #[arg(long = "role", value_name = "NAME", required = true)]
    pub roles: Vec<String>,
    /// Also write the payload to this file (`--out` alone: delegations-delete.json).
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "delegations-delete.json")]
    pub out: Option<PathBuf>,
    /// Write the payload (default delegations-delete.json) without sending it.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn delete(args: &DeleteArgs, client: Option<&Client>, out: &Output) -> CliResult<()> {
    for r in &args.roles {
        if r.is_empty()
            || !r
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            || ["root", "targets", "snapshot", "timestamp"].contains(&r.as_str())
        {
            return Err(CliError::Usage(format!(
                "'{r}' is not a delegated role name (letters, digits, '-', '_', '.'; not a top-level role)"
            )));
        }
    }
    let roles: Vec<Value> = args.roles.iter().map(|r| json!({ "name": r })).collect();
    let payload = json!({ "delegations": { "roles": roles } });
    write_out(
        &args.out,
        args.dry_run,
        "delegations-delete.json",
        &payload,
        out,
    )?;
    if args.dry_run {
        return Ok(());
    }
    send_payload(
        client,
        reqwest::Method::POST,
        "api/v1/delegations/delete",
        &payload,
        "Metadata delegation delete accepted.",
        out,
    )
    .await
}

//! `rstuf admin ceremony`, scriptable: root v1 from local key files, signed
//! natively with the administrators' private keys, written as upstream's
//! ceremony (bootstrap) payload and optionally sent to the server.
//!
//! Signing with fewer keys than the root threshold gives a DAS payload: the
//! other holders sign later with `rstuf admin metadata sign`.

use crate::client::Client;
use crate::error::{local, CliError, CliResult};
use crate::keys::{
    default_name, load_private_key, load_public_key, write_atomic, PasswordSource, PrivateKey,
    PublicKey, TufKeyForm as _,
};
use crate::output::Output;
use crate::send;
use rstuf_api::requests::{
    BinsSettings, BootstrapPayload, BootstrapSettings, Delegations, Expiration, RolesData,
};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Days per role when `--expires` does not say (upstream's defaults).
const DEFAULT_EXPIRES: [(&str, u32); 5] = [
    ("root", 365),
    ("timestamp", 1),
    ("snapshot", 1),
    ("targets", 365),
    ("bins", 1),
];
const MAX_DAYS: u32 = 36600;
const DEFAULT_BINS: u32 = 256;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct CeremonyArgs {
    /// Ask for everything at the terminal, with upstream's defaults.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Read answers from a TOML file: each key is one of these options
    /// without its dashes (`root-key = ["a.pem"]`, `bins = 256`, `expires =
    /// { root = 365 }`); options after it on the command line win.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// A root key: a PEM public key, or a private key file (its public half
    /// is used; an encrypted one through FILE.pub). `FILE:NAME` sets the key
    /// name (default: the file name). Repeat for each root key.
    #[arg(
        long = "root-key",
        value_name = "FILE[:NAME]",
        required_unless_present = "interactive"
    )]
    pub root_keys: Vec<String>,
    /// Signatures root needs (at least 2).
    #[arg(long, value_name = "N", required_unless_present = "interactive")]
    pub root_threshold: Option<u64>,
    /// The online key's public half (PEM; a private key file works too).
    #[arg(
        long,
        alias = "online-public-key",
        value_name = "PEM",
        required_unless_present_any = ["interactive", "online_key_vault"],
        conflicts_with = "online_key_vault"
    )]
    pub online_key: Option<PathBuf>,
    /// Take the online key from a key service instead of a file: a TOML file
    /// describing the key-vault plugin exactly as the service's
    /// `[[plugins.keyvaults]]` entry does (`file`, `config`, `grants`;
    /// `file` relative to this TOML file). The public key is read through
    /// the plugin for `--online-key-uri` (e.g. `hv:rstuf-online`,
    /// `awskms:alias/rstuf-online`), which is then required.
    #[arg(long, value_name = "TOML", requires = "online_key_uri")]
    pub online_key_vault: Option<PathBuf>,
    /// Where the service finds the online key's private half (default
    /// `fn:<keyid>`: the file named so in the key-vault directory).
    #[arg(long, value_name = "URI")]
    pub online_key_uri: Option<String>,
    /// Name of the online key.
    #[arg(long, default_value = "online")]
    pub online_key_name: String,
    /// Expiry in days per role, e.g. `root=365,timestamp=1,snapshot=1,targets=365,bins=1`.
    #[arg(long, value_name = "ROLE=DAYS,...")]
    pub expires: Vec<String>,
    /// Succinct hash bins (TAP 15): a power of two from 2 to 16384 (default 256).
    #[arg(long, value_name = "N", group = "layout")]
    pub bins: Option<u32>,
    /// Classic hash bins (`path_hash_prefixes` delegations): a power of two.
    #[arg(long, value_name = "N", group = "layout")]
    pub classic_bins: Option<u32>,
    /// Custom delegations: a JSON file `{"keys": {…}, "roles": [{"name", "paths",
    /// "keyids", "threshold", "terminating", "x-rstuf-expire-policy"}, …]}`.
    #[arg(long, value_name = "FILE", group = "layout")]
    pub delegations: Option<PathBuf>,
    /// Sign root v1 with this private key file; `KEYFILE:ENV` reads its
    /// password from environment variable ENV. Repeatable; fewer than the
    /// threshold makes a DAS bootstrap.
    #[arg(long = "sign", value_name = "KEYFILE[:PASSWORD_ENV]")]
    pub sign: Vec<String>,
    /// Where to write the payload (`--out` alone: the default name, as
    /// upstream's flag).
    #[arg(long, default_value = "ceremony-payload.json", num_args = 0..=1, default_missing_value = "ceremony-payload.json")]
    pub out: PathBuf,
    /// Seconds the server gives the bootstrap before giving up.
    #[arg(short = 't', long, default_value_t = 300)]
    pub timeout: u64,
    /// POST the payload to /api/v1/bootstrap/ and wait for the task.
    #[arg(long)]
    pub send: bool,
    /// Write the payload only, do not send it (the default; upstream's
    /// name for it).
    #[arg(long, conflicts_with = "send")]
    pub dry_run: bool,
    /// Passwords typed at the interactive prompts, per key file.
    #[arg(skip)]
    pub passwords: Vec<(PathBuf, PasswordSource)>,
}

// The root document, in upstream's key order (serde keeps struct field
// order); the payload around it is the API's own `BootstrapPayload`.

#[derive(Serialize)]
struct RootMetadata {
    signatures: Vec<SignatureOut>,
    signed: RootSigned,
}

#[derive(Serialize, Clone)]
pub struct SignatureOut {
    pub keyid: String,
    pub sig: String,
}

#[derive(Serialize)]
struct RootSigned {
    #[serde(rename = "_type")]
    type_: &'static str,
    version: u64,
    spec_version: &'static str,
    expires: String,
    consistent_snapshot: bool,
    keys: BTreeMap<String, KeyOut>,
    roles: TopRoles,
}

#[derive(Serialize)]
struct KeyOut {
    keytype: &'static str,
    scheme: &'static str,
    keyval: KeyVal,
    #[serde(rename = "x-rstuf-key-name")]
    name: String,
    #[serde(
        rename = "x-rstuf-online-key-uri",
        skip_serializing_if = "Option::is_none"
    )]
    uri: Option<String>,
}

#[derive(Serialize)]
struct KeyVal {
    public: String,
}

#[derive(Serialize)]
struct TopRoles {
    root: RoleKeys,
    timestamp: RoleKeys,
    snapshot: RoleKeys,
    targets: RoleKeys,
}

#[derive(Serialize, Clone)]
struct RoleKeys {
    keyids: Vec<String>,
    threshold: u64,
}

fn key_out(public: &PublicKey, name: &str, uri: Option<&str>) -> KeyOut {
    KeyOut {
        keytype: public.keytype,
        scheme: public.scheme,
        keyval: KeyVal {
            public: public.public.clone(),
        },
        name: name.to_string(),
        uri: uri.map(String::from),
    }
}

/// `FILE` if it exists as given, else `FILE:SUFFIX` split at the last `:`.
pub(crate) fn split_file_arg(arg: &str) -> (PathBuf, Option<String>) {
    let whole = PathBuf::from(arg);
    if whole.exists() {
        return (whole, None);
    }
    match arg.rsplit_once(':') {
        Some((file, suffix)) if !file.is_empty() && !suffix.is_empty() => {
            (PathBuf::from(file), Some(suffix.to_string()))
        }
        _ => (whole, None),
    }
}

/// `root=365,timestamp=1,…` (also given as several `--expires`).
fn parse_expires(items: &[String], bins_layout: bool) -> CliResult<BTreeMap<&'static str, u32>> {
    let mut days: BTreeMap<&'static str, u32> = DEFAULT_EXPIRES.into_iter().collect();
    for part in items
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (role, value) = part.split_once('=').ok_or_else(|| {
            CliError::Usage(format!(
                "--expires: '{part}' must look like ROLE=DAYS (e.g. root=365)"
            ))
        })?;
        let role = DEFAULT_EXPIRES
            .iter()
            .map(|(r, _)| *r)
            .find(|r| *r == role.trim())
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "--expires: unknown role '{}' (roles: root, timestamp, snapshot, targets, bins)",
                    role.trim()
                ))
            })?;
        if role == "bins" && !bins_layout {
            return Err(CliError::Usage(
                "--expires bins=… applies to hash-bin layouts only; custom delegations set x-rstuf-expire-policy per role".into(),
            ));
        }
        let n: u32 = value.trim().parse().map_err(|_| {
            CliError::Usage(format!(
                "--expires: '{}' is not a number of days for {role}",
                value.trim()
            ))
        })?;
        if n == 0 || n > MAX_DAYS {
            return Err(CliError::Usage(format!(
                "--expires: {role} must expire in 1 to {MAX_DAYS} days, got {n}"
            )));
        }
        days.insert(role, n);
    }
    Ok(days)
}

fn check_bins(n: u32, option: &str) -> CliResult<u32> {
    if !(2..=16384).contains(&n) || !n.is_power_of_two() {
        return Err(CliError::Usage(format!(
            "{option} must be a power of two from 2 to 16384, got {n}"
        )));
    }
    Ok(n)
}

fn valid_role_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !["root", "targets", "snapshot", "timestamp"].contains(&name)
}

/// Read and check a custom delegations file; fill upstream's defaults
/// (`terminating: true`, `threshold: 1`, `keyids: []`).
pub fn read_delegations(file: &Path) -> CliResult<Value> {
    check_delegations(send::read_payload(file)?, &file.display().to_string())
}

/// Check a delegations object (or a payload holding one) and fill
/// upstream's defaults; errors start with `label`.
pub fn check_delegations(payload: Value, label: &str) -> CliResult<Value> {
    let mut d = match payload.get("delegations") {
        Some(inner) => inner.clone(),
        None => payload,
    };
    let bad = |why: String| local(format!("{label}: {why}"));
    let obj = d
        .as_object_mut()
        .ok_or_else(|| bad("delegations must be a JSON object".into()))?;
    let keys = obj.entry("keys").or_insert_with(|| json!({})).clone();
    let keys = keys
        .as_object()
        .ok_or_else(|| bad("'keys' must be an object of keyid → key".into()))?;
    let parsed =
        rstuf_tuf::verify::keys_of(&json!({ "keys": keys })).map_err(|e| bad(e.to_string()))?;
    if let Some(id) = rstuf_tuf::verify::mismatched_keyids(&parsed).first() {
        return Err(bad(format!(
            "keyid {id} is not the SHA-256 of its canonical key JSON (expected {})",
            parsed[id].keyid()
        )));
    }
    let roles = obj
        .get_mut("roles")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| bad("'roles' must be a list of delegated roles".into()))?;
    if roles.is_empty() {
        return Err(bad("'roles' needs at least one delegated role".into()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for role in roles.iter_mut() {
        let role = role
            .as_object_mut()
            .ok_or_else(|| bad("each role must be an object".into()))?;
        let name = role
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("a role has no 'name'".into()))?
            .to_string();
        if !valid_role_name(&name) {
            return Err(bad(format!(
                "role name '{name}' must match [a-zA-Z0-9_-]+ and not be a top-level role"
            )));
        }
        if !seen.insert(name.clone()) {
            return Err(bad(format!("role '{name}' is listed twice")));
        }
        role.entry("terminating").or_insert(Value::Bool(true));
        role.entry("threshold").or_insert(json!(1));
        role.entry("keyids").or_insert(json!([]));
        let keyids: Vec<&str> = role["keyids"]
            .as_array()
            .ok_or_else(|| bad(format!("role '{name}': 'keyids' must be a list")))?
            .iter()
            .map(|k| k.as_str().unwrap_or(""))
            .collect();
        if let Some(missing) = keyids.iter().find(|k| !keys.contains_key(**k)) {
            return Err(bad(format!(
                "role '{name}': keyid '{missing}' is not in 'keys'"
            )));
        }
        let threshold = role["threshold"]
            .as_u64()
            .filter(|t| *t >= 1)
            .ok_or_else(|| bad(format!("role '{name}': 'threshold' must be at least 1")))?;
        if threshold as usize > keyids.len().max(1) {
            return Err(bad(format!(
                "role '{name}': threshold {threshold} exceeds its {} keys",
                keyids.len()
            )));
        }
        let paths_ok = role
            .get("paths")
            .and_then(Value::as_array)
            .is_some_and(|p| {
                !p.is_empty() && p.iter().all(|s| s.as_str().is_some_and(|s| !s.is_empty()))
            });
        if !paths_ok && role.get("path_hash_prefixes").is_none() {
            return Err(bad(format!(
                "role '{name}': 'paths' needs at least one non-empty pattern"
            )));
        }
        match role.get("x-rstuf-expire-policy").and_then(Value::as_u64) {
            Some(days) if (1..=u64::from(MAX_DAYS)).contains(&days) => {}
            _ => {
                return Err(bad(format!(
                    "role '{name}': 'x-rstuf-expire-policy' (days until it expires, 1 to {MAX_DAYS}) is required"
                )))
            }
        }
    }
    Ok(d)
}

struct RootKeyEntry {
    public: PublicKey,
    name: String,
    keyid: String,
    file: PathBuf,
}

/// Sign the canonical form of `signed` with `key`, check the signature
/// against `tuf_key` locally, and return it.
pub fn sign_checked(key: &PrivateKey, tuf_key: &Value, signed: &Value) -> CliResult<String> {
    let canonical = rstuf_tuf::canonical::to_canonical_vec(signed)
        .map_err(|e| local(format!("metadata cannot be signed: {e}")))?;
    let k = rstuf_tuf::keys::Key::from_value(tuf_key)
        .map_err(|e| local(format!("key cannot verify: {e}")))?;
    // With the scheme the metadata lists the key under (an RSA key file
    // serves PSS and PKCS#1 v1.5 alike).
    let sig = hex::encode(key.sign_as(k.scheme_name(), &canonical)?);
    k.verify(&canonical, &sig)
        .map_err(|e| local(format!("the new signature does not verify locally: {e}")))?;
    Ok(sig)
}

pub async fn ceremony(args: &CeremonyArgs, client: Option<&Client>, out: &Output) -> CliResult<()> {
    // Usage checks first, before any key is read.
    if args.online_key.is_none() && args.online_key_vault.is_none() {
        return Err(CliError::Usage(
            "--online-key (or --online-key-vault with --online-key-uri) is required".into(),
        ));
    }
    let root_threshold = args
        .root_threshold
        .ok_or_else(|| CliError::Usage("--root-threshold is required".into()))?;
    if root_threshold < 2 {
        return Err(CliError::Usage(format!(
            "--root-threshold must be at least 2 (root is signed offline by several key holders), got {}",
            root_threshold
        )));
    }
    if (args.root_keys.len() as u64) < root_threshold {
        return Err(CliError::Usage(format!(
            "--root-threshold {} needs at least that many --root-key, got {}",
            root_threshold,
            args.root_keys.len()
        )));
    }
    let bins_layout = args.delegations.is_none();
    let days = parse_expires(&args.expires, bins_layout)?;
    let bins = match (args.bins, args.classic_bins) {
        (Some(n), _) => Some(check_bins(n, "--bins")?),
        (None, Some(n)) => Some(check_bins(n, "--classic-bins")?),
        (None, None) if bins_layout => Some(DEFAULT_BINS),
        (None, None) => None,
    };
    if let Some(uri) = &args.online_key_uri {
        let ok = uri
            .split_once(':')
            .is_some_and(|(s, rest)| !s.is_empty() && !rest.is_empty())
            && !uri.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(CliError::Usage(format!(
                "--online-key-uri must look like SCHEME:NAME (e.g. fn:<keyid>), got '{uri}'"
            )));
        }
    }
    let signers: Vec<(PathBuf, Option<PasswordSource>)> = args
        .sign
        .iter()
        .map(|s| {
            let (file, env) = split_file_arg(s);
            let typed = args
                .passwords
                .iter()
                .find(|(f, _)| f == &file)
                .map(|(_, p)| p.clone());
            let password = env.map(PasswordSource::Env).or(typed);
            (file, password)
        })
        .collect();
    let delegations = args
        .delegations
        .as_deref()
        .map(read_delegations)
        .transpose()?;

    // Root keys.
    let mut root_keys: Vec<RootKeyEntry> = Vec::new();
    for arg in &args.root_keys {
        let (file, name) = split_file_arg(arg);
        let password = signers
            .iter()
            .find(|(f, _)| f == &file)
            .and_then(|(_, p)| p.as_ref());
        let public = load_public_key(&file, password)?;
        let name = name.unwrap_or_else(|| default_name(&file));
        if let Some(other) = root_keys.iter().find(|k| k.public == public) {
            return Err(CliError::Usage(format!(
                "{} and {} are the same root key",
                other.file.display(),
                file.display()
            )));
        }
        let keyid = public.keyid(Some(name.as_str()), None);
        root_keys.push(RootKeyEntry {
            public,
            name,
            keyid,
            file,
        });
    }

    // The online key: a file, or the key service's public half.
    let (online, online_source) = match (&args.online_key, &args.online_key_vault) {
        (Some(file), _) => (load_public_key(file, None)?, file.display().to_string()),
        (None, Some(vault)) => {
            let uri = args.online_key_uri.as_deref().unwrap_or_default();
            (
                crate::plugin::vault_public_key(vault, uri).await?,
                uri.to_string(),
            )
        }
        (None, None) => unreachable!("checked above"),
    };
    if let Some(k) = root_keys.iter().find(|k| k.public == online) {
        return Err(CliError::Usage(format!(
            "the online key {online_source} is also a root key ({}): root keys must stay offline",
            k.file.display()
        )));
    }
    let online_uri = args
        .online_key_uri
        .clone()
        .unwrap_or_else(|| format!("fn:{}", online.bare_keyid()));
    let online_keyid = online.keyid(
        Some(args.online_key_name.as_str()),
        Some(online_uri.as_str()),
    );

    let now = chrono::Utc::now();
    let expires = rstuf_tuf::format::expires_in(now, i64::from(days["root"]));
    let mut keys = BTreeMap::new();
    for k in &root_keys {
        keys.insert(k.keyid.clone(), key_out(&k.public, &k.name, None));
    }
    keys.insert(
        online_keyid.clone(),
        key_out(&online, &args.online_key_name, Some(online_uri.as_str())),
    );
    let online_role = RoleKeys {
        keyids: vec![online_keyid.clone()],
        threshold: 1,
    };
    let signed = RootSigned {
        type_: "root",
        version: 1,
        spec_version: rstuf_tuf::SPEC_VERSION,
        expires: expires.clone(),
        consistent_snapshot: true,
        keys,
        roles: TopRoles {
            root: RoleKeys {
                keyids: root_keys.iter().map(|k| k.keyid.clone()).collect(),
                threshold: root_threshold,
            },
            timestamp: online_role.clone(),
            snapshot: online_role.clone(),
            targets: online_role,
        },
    };
    let signed_value =
        serde_json::to_value(&signed).map_err(|e| local(format!("building root: {e}")))?;

    // Signatures, each checked locally.
    let mut signatures: Vec<SignatureOut> = Vec::new();
    for (file, password) in &signers {
        let key = load_private_key(
            file,
            password.as_ref(),
            &format!("--sign {}:ENV_VAR", file.display()),
        )?;
        let public = key.public()?;
        let entry = root_keys
            .iter()
            .find(|k| k.public == public)
            .ok_or_else(|| {
                local(format!(
                    "key {} is not a root key ({})",
                    public.bare_keyid(),
                    file.display()
                ))
            })?;
        if signatures.iter().any(|s| s.keyid == entry.keyid) {
            return Err(CliError::Usage(format!(
                "root key {} ({}) is given to --sign twice",
                entry.keyid,
                file.display()
            )));
        }
        let tuf_key = entry.public.tuf_key(Some(entry.name.as_str()), None);
        let sig = sign_checked(&key, &tuf_key, &signed_value)?;
        signatures.push(SignatureOut {
            keyid: entry.keyid.clone(),
            sig,
        });
    }

    let root_doc = RootMetadata {
        signatures: signatures.clone(),
        signed,
    };
    let root_doc = match serde_json::to_value(&root_doc) {
        Ok(Value::Object(map)) => map,
        _ => return Err(local("encoding root metadata as a JSON object")),
    };
    let expiration = |role: &str| Expiration {
        expiration: i64::from(days[role]),
    };
    let delegations = delegations
        .map(serde_json::from_value::<Delegations>)
        .transpose()
        .map_err(|e| CliError::Usage(format!("delegations: {e}")))?;
    let payload = BootstrapPayload {
        settings: BootstrapSettings {
            roles: RolesData {
                root: expiration("root"),
                timestamp: expiration("timestamp"),
                snapshot: expiration("snapshot"),
                targets: expiration("targets"),
                bins: bins.map(|n| BinsSettings {
                    expiration: i64::from(days["bins"]),
                    number_of_delegated_bins: i64::from(n),
                    layout: args.classic_bins.map(|_| "classic".to_string()),
                }),
                delegations,
            },
        },
        metadata: BTreeMap::from([("root".to_string(), root_doc)]),
        timeout: Some(i64::try_from(args.timeout).unwrap_or(i64::MAX)),
    };
    let text = serde_json::to_string_pretty(&payload)
        .map_err(|e| local(format!("encoding the payload: {e}")))?;
    // The API's own rules, before anything is written or sent.
    rstuf_api::body::parse_body::<BootstrapPayload>(text.as_bytes()).map_err(|rejected| {
        CliError::Usage(format!("the bootstrap payload is invalid: {rejected}"))
    })?;

    // Check the whole document the way a TUF client will.
    let payload_value: Value =
        serde_json::from_str(&text).map_err(|e| local(format!("re-reading the payload: {e}")))?;
    let root_doc = &payload_value["metadata"]["root"];
    let verification = rstuf_tuf::verify::verify_delegate(&root_doc["signed"], "root", root_doc)
        .map_err(|e| local(format!("checking root: {e}")))?;
    if !verification.invalid.is_empty() || !verification.unauthorized.is_empty() {
        return Err(local(format!(
            "root v1 does not verify: invalid {:?}, unauthorized {:?}",
            verification.invalid, verification.unauthorized
        )));
    }
    write_atomic(&args.out, format!("{text}\n").as_bytes(), 0o644, true)?;

    let das = !verification.is_satisfied();
    let summary = json!({
        "out": args.out.display().to_string(),
        "root_keys": root_keys.iter().map(|k| json!({"keyid": k.keyid, "name": k.name})).collect::<Vec<_>>(),
        "root_threshold": root_threshold,
        "online_key": { "keyid": online_keyid, "uri": online_uri },
        "signatures": verification.valid.len(),
        "das": das,
        "expires": expires,
    });
    if !out.json {
        out.success(&format!("Wrote {}", args.out.display()));
        println!(
            "root v1: {} root keys, threshold {}, expires {expires}",
            root_keys.len(),
            root_threshold
        );
        println!("online key: {online_keyid} ({online_uri})");
        if let Some(file) = online_uri.strip_prefix("fn:") {
            println!("  the service's key vault must hold its private key as the file '{file}'");
        }
        if das {
            println!(
                "signed by {} of {} required keys: a DAS bootstrap; the other key holders sign with `rstuf admin metadata sign` after it is sent",
                verification.valid.len(),
                root_threshold
            );
        } else {
            println!(
                "signed by {} keys (threshold met)",
                verification.valid.len()
            );
        }
    }
    let Some(client) = client.filter(|_| args.send) else {
        if out.json {
            out.print_json(&summary);
        }
        return Ok(());
    };
    send::check_bootstrap_available(client).await?;
    let (task_id, outcome) = send::submit_and_wait_outcome(
        client,
        "api/v1/bootstrap/",
        &payload_value,
        "Bootstrap accepted.",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_defaults_and_overrides() {
        let d = parse_expires(&["root=30, timestamp=2".into(), "bins=3".into()], true).unwrap();
        assert_eq!(d["root"], 30);
        assert_eq!(d["timestamp"], 2);
        assert_eq!(d["snapshot"], 1);
        assert_eq!(d["targets"], 365);
        assert_eq!(d["bins"], 3);
        assert!(parse_expires(&["root=0".into()], true).is_err());
        assert!(parse_expires(&["rooot=1".into()], true).is_err());
        assert!(parse_expires(&["bins=1".into()], false).is_err());
        assert!(parse_expires(&["root".into()], true).is_err());
    }

    #[test]
    fn bins_must_be_a_power_of_two_in_range() {
        assert!(check_bins(2, "--bins").is_ok());
        assert!(check_bins(16384, "--bins").is_ok());
        assert!(check_bins(1, "--bins").is_err());
        assert!(check_bins(12, "--bins").is_err());
        assert!(check_bins(32768, "--bins").is_err());
    }

    #[test]
    fn delegation_files_are_checked_and_completed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("d.json");
        std::fs::write(
            &f,
            r#"{"roles": [{"name": "prod", "paths": ["prod/*"], "x-rstuf-expire-policy": 7}]}"#,
        )
        .unwrap();
        let d = read_delegations(&f).unwrap();
        assert_eq!(d["roles"][0]["terminating"], true);
        assert_eq!(d["roles"][0]["keyids"], json!([]));
        assert_eq!(d["keys"], json!({}));
        std::fs::write(&f, r#"{"roles": [{"name": "prod", "paths": ["prod/*"]}]}"#).unwrap();
        let e = read_delegations(&f).err().unwrap().to_string();
        assert!(
            e.contains("x-rstuf-expire-policy") && e.contains("d.json"),
            "{e}"
        );
        std::fs::write(&f, r#"{"roles": [{"name": "prod", "paths": ["prod/*"], "keyids": ["ab"], "x-rstuf-expire-policy": 1}]}"#).unwrap();
        let e = read_delegations(&f).err().unwrap().to_string();
        assert!(e.contains("not in 'keys'"), "{e}");
        std::fs::write(&f, "{nope").unwrap();
        let e = read_delegations(&f).err().unwrap().to_string();
        assert!(e.contains("d.json") && e.contains("not valid JSON"), "{e}");
    }
}

//! The rules a piece of metadata must follow before we sign or accept it,
//! checked on the JSON as received (which stays the bytes that are signed
//! and verified). These are the rules TUF clients enforce when they load
//! metadata (python-tuf's `Metadata.from_dict`, tough's schema), so that
//! nothing we publish or forward is refused by a client later, plus the
//! spec's rules clients happen not to check (a threshold no set of keys
//! can meet).
//!
//! Each check names the member at fault (`path`) so the API can answer
//! with the field to fix, and the worker can name the artifact it sets
//! aside.

use crate::canonical;
use crate::hashes::digest_problem;
use serde_json::{Map, Value};

/// A rule a document breaks: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() { String::new() } else { format!("{}: ", path.join(".")) })]
pub struct SchemaError {
    /// Member names and array indexes from the document's root.
    pub path: Vec<String>,
    pub message: String,
}

impl SchemaError {
    fn at(path: &[&str], message: impl Into<String>) -> SchemaError {
        SchemaError {
            path: path.iter().map(|s| s.to_string()).collect(),
            message: message.into(),
        }
    }

    /// The same error, located under `prefix`.
    pub fn under(mut self, prefix: &[&str]) -> SchemaError {
        let mut path: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
        path.append(&mut self.path);
        self.path = path;
        self
    }
}

/// An integer member (JSON booleans are not integers here, as in
/// python-tuf, which refuses `True` for a version).
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// The target info of one artifact (`{"length", "hashes", "custom"?}`),
/// as a targets role lists it: a non-negative integer `length`, a
/// non-empty `hashes` map of hex digests, an object `custom` if present,
/// and nothing canonical JSON cannot sign.
pub fn check_target_info(info: &Value) -> Result<(), SchemaError> {
    let Some(obj) = info.as_object() else {
        return Err(SchemaError::at(&[], "target info must be an object"));
    };
    match obj.get("length") {
        None => return Err(SchemaError::at(&["length"], "length is required")),
        Some(v) => match int(v) {
            Some(n) if n >= 0 => {}
            Some(n) => {
                return Err(SchemaError::at(
                    &["length"],
                    format!("length must be >= 0, got {n}"),
                ))
            }
            None => {
                return Err(SchemaError::at(
                    &["length"],
                    format!("length must be an integer, got {v}"),
                ))
            }
        },
    }
    check_hashes(obj, &["hashes"], true)?;
    if let Some(custom) = obj.get("custom") {
        if !custom.is_object() {
            return Err(SchemaError::at(&["custom"], "custom must be an object"));
        }
    }
    canonical::check(info).map_err(|e| SchemaError {
        path: e.path,
        message: e.error.to_string(),
    })
}

/// `hashes`: a non-empty object of hex digest strings (python-tuf:
/// "Hashes must be a non empty dictionary", "Hashes items must be strings").
fn check_hashes(obj: &Map<String, Value>, at: &[&str], required: bool) -> Result<(), SchemaError> {
    let name = at[at.len() - 1];
    let Some(hashes) = obj.get(name) else {
        return if required {
            Err(SchemaError::at(at, "hashes is required"))
        } else {
            Ok(())
        };
    };
    let Some(hashes) = hashes.as_object().filter(|h| !h.is_empty()) else {
        return Err(SchemaError::at(at, "hashes must be a non-empty object"));
    };
    for (alg, digest) in hashes {
        let Some(digest) = digest.as_str() else {
            return Err(SchemaError::at(
                at,
                format!("hash '{alg}' must be a string"),
            ));
        };
        if let Some(problem) = digest_problem(alg, digest) {
            return Err(SchemaError::at(at, format!("hash '{alg}' {problem}")));
        }
    }
    Ok(())
}

/// The four top-level roles.
pub const TOP_LEVEL_ROLES: [&str; 4] = ["root", "targets", "snapshot", "timestamp"];

/// `(keytype, scheme)` pairs securesystemslib registers for TUF keys; a
/// key of any other pair makes python-tuf refuse the whole document
/// ("Unsupported public key").
const KEY_PAIRS: &[(&str, &str)] = &[
    ("ed25519", "ed25519"),
    ("ecdsa", "ecdsa-sha2-nistp256"),
    ("ecdsa", "ecdsa-sha2-nistp384"),
    ("ecdsa", "ecdsa-sha2-nistp521"),
    ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"),
    ("ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384"),
    ("ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521"),
    ("rsa", "rsassa-pss-sha256"),
    ("rsa", "rsassa-pss-sha384"),
    ("rsa", "rsassa-pss-sha512"),
    ("rsa", "rsa-pkcs1v15-sha256"),
    ("rsa", "rsa-pkcs1v15-sha384"),
    ("rsa", "rsa-pkcs1v15-sha512"),
];

/// Check a whole metadata document (`{"signatures": [...], "signed":
/// {...}}`) against the rules python-tuf enforces when it loads one
/// (`Metadata.from_dict`), made strict where the specification is: JSON
/// types are what the spec says (python-tuf lets `version: true` or
/// `2.0` through, which other clients refuse), `expires` is exactly
/// `YYYY-MM-DDTHH:MM:SSZ`, and a role's threshold can be met by its own
/// keys, which must be listed in the document. Unknown fields are allowed
/// everywhere, as the spec allows. Returns the document's `_type`.
pub fn check_metadata(doc: &Value) -> Result<&str, SchemaError> {
    let obj = object(doc, &[])?;
    let signatures = obj
        .get("signatures")
        .ok_or_else(|| SchemaError::at(&["signatures"], "signatures is required"))?;
    check_signatures(signatures).map_err(|e| e.under(&["signatures"]))?;
    let signed = obj
        .get("signed")
        .ok_or_else(|| SchemaError::at(&["signed"], "signed is required"))?;
    check_signed(signed).map_err(|e| e.under(&["signed"]))
}

/// `signed` of any of the four kinds; returns its `_type`.
pub fn check_signed(signed: &Value) -> Result<&str, SchemaError> {
    let obj = object(signed, &[])?;
    let kind = match obj.get("_type") {
        Some(Value::String(t)) if TOP_LEVEL_ROLES.contains(&t.as_str()) => t.as_str(),
        Some(t) => {
            return Err(SchemaError::at(
                &["_type"],
                format!(
                "unrecognized metadata type {t}: must be one of root, targets, snapshot, timestamp"
            ),
            ))
        }
        None => return Err(SchemaError::at(&["_type"], "_type is required")),
    };
    check_spec_version(obj.get("spec_version"))?;
    positive(obj, "version", "version")?;
    check_expires(obj.get("expires"))?;
    match kind {
        "root" => check_root(obj)?,
        "targets" => check_targets(obj)?,
        "snapshot" => {
            let meta = object_member(obj, "meta")?;
            for (name, file) in meta {
                check_meta_file(file).map_err(|e| e.under(&["meta", name]))?;
            }
        }
        _ => {
            let meta = object_member(obj, "meta")?;
            let file = meta.get("snapshot.json").ok_or_else(|| {
                SchemaError::at(
                    &["meta", "snapshot.json"],
                    "timestamp meta must list snapshot.json",
                )
            })?;
            check_meta_file(file).map_err(|e| e.under(&["meta", "snapshot.json"]))?;
        }
    }
    Ok(kind)
}

fn object<'a>(v: &'a Value, at: &[&str]) -> Result<&'a Map<String, Value>, SchemaError> {
    v.as_object()
        .ok_or_else(|| SchemaError::at(at, format!("must be an object, got {}", kind_of(v))))
}

fn object_member<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
) -> Result<&'a Map<String, Value>, SchemaError> {
    let v = obj
        .get(name)
        .ok_or_else(|| SchemaError::at(&[name], format!("{name} is required")))?;
    object(v, &[name])
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `obj[name]` is an integer >= 1.
fn positive(obj: &Map<String, Value>, name: &str, what: &str) -> Result<i64, SchemaError> {
    match obj.get(name) {
        None => Err(SchemaError::at(&[name], format!("{what} is required"))),
        Some(v) => match int(v) {
            Some(n) if n >= 1 => Ok(n),
            Some(n) => Err(SchemaError::at(
                &[name],
                format!("{what} must be > 0, got {n}"),
            )),
            None => Err(SchemaError::at(
                &[name],
                format!("{what} must be an integer, got {}", kind_of(v)),
            )),
        },
    }
}

fn check_signatures(v: &Value) -> Result<(), SchemaError> {
    let Some(list) = v.as_array() else {
        return Err(SchemaError::at(
            &[],
            format!("must be an array, got {}", kind_of(v)),
        ));
    };
    let mut seen = std::collections::BTreeSet::new();
    for (i, sig) in list.iter().enumerate() {
        let idx = i.to_string();
        let obj = object(sig, &[&idx])?;
        for field in ["keyid", "sig"] {
            if !obj.get(field).is_some_and(Value::is_string) {
                return Err(SchemaError::at(
                    &[&idx, field],
                    format!("{field} must be a string"),
                ));
            }
        }
        let keyid = obj["keyid"].as_str().unwrap_or_default();
        if !seen.insert(keyid) {
            return Err(SchemaError::at(
                &[&idx, "keyid"],
                format!("multiple signatures found for keyid {keyid}"),
            ));
        }
    }
    Ok(())
}

/// `1.x` or `1.x.y`, ASCII digits (python-tuf: "Failed to parse
/// spec_version", "Unsupported spec_version").
fn check_spec_version(v: Option<&Value>) -> Result<(), SchemaError> {
    let at = ["spec_version"];
    let Some(v) = v else {
        return Err(SchemaError::at(&at, "spec_version is required"));
    };
    let Some(text) = v.as_str() else {
        return Err(SchemaError::at(
            &at,
            format!("spec_version must be a string, got {}", kind_of(v)),
        ));
    };
    let parts: Vec<&str> = text.split('.').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(SchemaError::at(
            &at,
            format!("failed to parse spec_version '{text}'"),
        ));
    }
    if parts[0] != "1" {
        return Err(SchemaError::at(
            &at,
            format!("unsupported spec_version '{text}': the major version must be 1"),
        ));
    }
    Ok(())
}

/// Exactly `YYYY-MM-DDTHH:MM:SSZ`, a real UTC time.
fn check_expires(v: Option<&Value>) -> Result<(), SchemaError> {
    let at = ["expires"];
    let Some(v) = v else {
        return Err(SchemaError::at(&at, "expires is required"));
    };
    let Some(text) = v.as_str() else {
        return Err(SchemaError::at(
            &at,
            format!("expires must be a string, got {}", kind_of(v)),
        ));
    };
    // One definition of the format: `metadata::Expires` (no fraction, no
    // offset, no leap second, as python-tuf's `strptime` reads it).
    if crate::metadata::Expires::parse(text).is_none() {
        return Err(SchemaError::at(
            &at,
            format!("expires '{text}' is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ"),
        ));
    }
    Ok(())
}

fn check_key(key: &Value) -> Result<(), SchemaError> {
    let obj = object(key, &[])?;
    for field in ["keytype", "scheme"] {
        if !obj.get(field).is_some_and(Value::is_string) {
            return Err(SchemaError::at(
                &[field],
                format!("{field} must be a string"),
            ));
        }
    }
    let (keytype, scheme) = (
        obj["keytype"].as_str().unwrap_or_default(),
        obj["scheme"].as_str().unwrap_or_default(),
    );
    if !KEY_PAIRS.contains(&(keytype, scheme)) {
        return Err(SchemaError::at(
            &["scheme"],
            format!("unsupported public key {keytype}/{scheme}"),
        ));
    }
    let keyval = object_member(obj, "keyval")?;
    if !keyval.get("public").is_some_and(Value::is_string) {
        return Err(SchemaError::at(
            &["keyval", "public"],
            format!("public key string required for scheme {scheme}"),
        ));
    }
    Ok(())
}

fn check_keys(keys: &Map<String, Value>) -> Result<(), SchemaError> {
    for (keyid, key) in keys {
        check_key(key).map_err(|e| e.under(&[keyid]))?;
    }
    Ok(())
}

/// `keyids` (unique strings, each in `keys`) and a `threshold` from 1 to
/// the number of keyids. An empty keyid list is allowed only where
/// `allow_empty` (RSTUF's custom delegations use it for "the online key").
fn check_role(role: &Value, keys: &Map<String, Value>) -> Result<(), SchemaError> {
    let obj = object(role, &[])?;
    let Some(keyids) = obj.get("keyids").and_then(Value::as_array) else {
        return Err(SchemaError::at(
            &["keyids"],
            "keyids must be an array of key ids",
        ));
    };
    let mut seen = std::collections::BTreeSet::new();
    for (i, keyid) in keyids.iter().enumerate() {
        let Some(keyid) = keyid.as_str() else {
            return Err(SchemaError::at(
                &["keyids", &i.to_string()],
                "key ids must be strings",
            ));
        };
        if !seen.insert(keyid) {
            return Err(SchemaError::at(
                &["keyids"],
                format!("nonunique keyids: {keyid} is listed twice"),
            ));
        }
        if !keys.contains_key(keyid) {
            return Err(SchemaError::at(
                &["keyids"],
                format!("keyid {keyid} is not one of the listed keys"),
            ));
        }
    }
    let threshold = positive(obj, "threshold", "threshold")?;
    if threshold as u64 > keyids.len() as u64 {
        return Err(SchemaError::at(
            &["threshold"],
            format!(
                "threshold {threshold} can never be met by the role's {} key(s)",
                keyids.len()
            ),
        ));
    }
    Ok(())
}

fn check_root(obj: &Map<String, Value>) -> Result<(), SchemaError> {
    let keys = object_member(obj, "keys")?;
    check_keys(keys).map_err(|e| e.under(&["keys"]))?;
    let roles = object_member(obj, "roles")?;
    for name in roles.keys() {
        if !TOP_LEVEL_ROLES.contains(&name.as_str()) {
            return Err(SchemaError::at(
                &["roles", name],
                "role names must be the top-level metadata roles",
            ));
        }
    }
    for name in TOP_LEVEL_ROLES {
        let role = roles.get(name).ok_or_else(|| {
            SchemaError::at(&["roles", name], format!("the {name} role is required"))
        })?;
        check_role(role, keys).map_err(|e| e.under(&["roles", name]))?;
    }
    if let Some(v) = obj.get("consistent_snapshot") {
        if !v.is_boolean() {
            return Err(SchemaError::at(
                &["consistent_snapshot"],
                "consistent_snapshot must be a boolean",
            ));
        }
    }
    Ok(())
}

fn check_targets(obj: &Map<String, Value>) -> Result<(), SchemaError> {
    let targets = object_member(obj, "targets")?;
    for (path, info) in targets {
        check_target_info(info).map_err(|e| e.under(&["targets", path]))?;
    }
    if let Some(delegations) = obj.get("delegations") {
        check_delegations(delegations).map_err(|e| e.under(&["delegations"]))?;
    }
    Ok(())
}

fn check_delegations(v: &Value) -> Result<(), SchemaError> {
    let obj = object(v, &[])?;
    let keys = object_member(obj, "keys")?;
    check_keys(keys).map_err(|e| e.under(&["keys"]))?;
    let roles = obj.get("roles").filter(|r| !r.is_null());
    let succinct = obj.get("succinct_roles").filter(|r| !r.is_null());
    match (roles, succinct) {
        (Some(roles), None) => {
            let Some(list) = roles.as_array() else {
                return Err(SchemaError::at(&["roles"], "roles must be an array"));
            };
            let mut names = std::collections::BTreeSet::new();
            for (i, role) in list.iter().enumerate() {
                let idx = i.to_string();
                check_delegated_role(role, keys).map_err(|e| e.under(&["roles", &idx]))?;
                let name = role["name"].as_str().unwrap_or_default();
                if !names.insert(name) {
                    return Err(SchemaError::at(
                        &["roles", &idx, "name"],
                        format!("duplicate role {name}"),
                    ));
                }
            }
            Ok(())
        }
        (None, Some(succinct)) => {
            check_role(succinct, keys).map_err(|e| e.under(&["succinct_roles"]))?;
            let s = object(succinct, &["succinct_roles"])?;
            match s.get("bit_length").and_then(int) {
                Some(1..=32) => {}
                _ => {
                    return Err(SchemaError::at(
                        &["succinct_roles", "bit_length"],
                        "bit_length must be an integer from 1 to 32",
                    ))
                }
            }
            if !s.get("name_prefix").is_some_and(Value::is_string) {
                return Err(SchemaError::at(
                    &["succinct_roles", "name_prefix"],
                    "name_prefix must be a string",
                ));
            }
            Ok(())
        }
        _ => Err(SchemaError::at(
            &[],
            "exactly one of roles and succinct_roles must be set",
        )),
    }
}

fn check_delegated_role(v: &Value, keys: &Map<String, Value>) -> Result<(), SchemaError> {
    let obj = object(v, &[])?;
    match obj.get("name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() && !TOP_LEVEL_ROLES.contains(&name) => {}
        _ => {
            return Err(SchemaError::at(
                &["name"],
                "delegated roles need a name that is not empty and not a top-level role name",
            ))
        }
    }
    if !obj.get("terminating").is_some_and(Value::is_boolean) {
        return Err(SchemaError::at(
            &["terminating"],
            "terminating must be a boolean",
        ));
    }
    check_role(v, keys)?;
    let paths = obj.get("paths").filter(|p| !p.is_null());
    let prefixes = obj.get("path_hash_prefixes").filter(|p| !p.is_null());
    let (field, list) = match (paths, prefixes) {
        (Some(p), None) => ("paths", p),
        (None, Some(p)) => ("path_hash_prefixes", p),
        _ => {
            return Err(SchemaError::at(
                &[],
                "only one of (paths, path_hash_prefixes) must be set",
            ))
        }
    };
    if !list
        .as_array()
        .is_some_and(|a| a.iter().all(Value::is_string))
    {
        return Err(SchemaError::at(
            &[field],
            format!("{field} must be an array of strings"),
        ));
    }
    Ok(())
}

/// A snapshot or timestamp `meta` entry.
fn check_meta_file(v: &Value) -> Result<(), SchemaError> {
    let obj = object(v, &[])?;
    positive(obj, "version", "metafile version")?;
    if let Some(length) = obj.get("length") {
        if int(length).is_none_or(|n| n < 0) {
            return Err(SchemaError::at(
                &["length"],
                "length must be an integer >= 0",
            ));
        }
    }
    check_hashes(obj, &["hashes"], false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn target_info_rules() {
        let sha = "ab".repeat(32);
        assert_eq!(
            check_target_info(
                &json!({"length": 1, "hashes": {"sha256": sha}, "custom": {"a": [1]}})
            ),
            Ok(())
        );
        for (info, at, words) in [
            (json!(42), "", "must be an object"),
            (json!({"hashes": {"sha256": sha}}), "length", "required"),
            (
                json!({"length": -1, "hashes": {"sha256": sha}}),
                "length",
                ">= 0",
            ),
            (
                json!({"length": "1", "hashes": {"sha256": sha}}),
                "length",
                "integer",
            ),
            (
                json!({"length": true, "hashes": {"sha256": sha}}),
                "length",
                "integer",
            ),
            (
                json!({"length": 1.5, "hashes": {"sha256": sha}}),
                "length",
                "integer",
            ),
            (json!({"length": 1, "hashes": {}}), "hashes", "non-empty"),
            (
                json!({"length": 1, "hashes": {"sha256": 1}}),
                "hashes",
                "string",
            ),
            (
                json!({"length": 1, "hashes": {"sha256": "zz"}}),
                "hashes",
                "hex",
            ),
            (
                json!({"length": 1, "hashes": {"sha256": sha}, "custom": 3}),
                "custom",
                "object",
            ),
            (
                json!({"length": 1, "hashes": {"sha256": sha}, "custom": {"x": 1.5}}),
                "custom.x",
                "only integers",
            ),
        ] {
            let err = check_target_info(&info).unwrap_err();
            assert_eq!(err.path.join("."), at, "{info}");
            assert!(err.message.contains(words), "{info}: {err}");
        }
    }

    /// python-tuf's verdict (`Metadata.from_dict`) on each document, from
    /// one python3 process: `None` if it loads, else the error.
    fn python_tuf_load(docs: &[Value]) -> Vec<Option<String>> {
        let input = serde_json::to_string(docs).unwrap();
        let script = "import sys, json, copy\nfrom tuf.api.metadata import Metadata\nout = []\nfor d in json.loads(sys.stdin.read()):\n    try:\n        Metadata.from_dict(copy.deepcopy(d)); out.append(None)\n    except Exception as e:\n        out.append(type(e).__name__ + ': ' + str(e))\nprint(json.dumps(out))\n";
        let mut child = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 is required for the python-tuf differential test");
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success(), "python-tuf missing? run `make setup`");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn root() -> Value {
        let key = |n: u8| json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": format!("{n:02x}").repeat(32)}});
        json!({
            "signatures": [{"keyid": "aa", "sig": "00"}],
            "signed": {
                "_type": "root", "spec_version": "1.0.31", "version": 1,
                "expires": "2030-01-01T00:00:00Z", "consistent_snapshot": true,
                "keys": {"aa": key(1), "bb": key(2)},
                "roles": {
                    "root": {"keyids": ["aa"], "threshold": 1},
                    "targets": {"keyids": ["bb"], "threshold": 1},
                    "snapshot": {"keyids": ["bb"], "threshold": 1},
                    "timestamp": {"keyids": ["bb"], "threshold": 1},
                },
            }
        })
    }

    fn targets() -> Value {
        json!({
            "signatures": [],
            "signed": {
                "_type": "targets", "spec_version": "1.0", "version": 3,
                "expires": "2030-01-01T00:00:00Z",
                "targets": {"a.txt": {"length": 1, "hashes": {"sha256": "ab".repeat(32)}, "custom": {"k": [1]}}},
                "delegations": {
                    "keys": {"bb": {"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": "PEM"}}},
                    "roles": [{"name": "r", "keyids": ["bb"], "threshold": 1, "terminating": true, "paths": ["a/*"]}],
                },
            }
        })
    }

    fn succinct() -> Value {
        let mut t = targets();
        t["signed"]["delegations"] = json!({
            "keys": {"bb": {"keytype": "rsa", "scheme": "rsassa-pss-sha256", "keyval": {"public": "PEM"}}},
            "succinct_roles": {"keyids": ["bb"], "threshold": 1, "bit_length": 4, "name_prefix": "bins"},
        });
        t
    }

    fn snapshot() -> Value {
        json!({"signatures": [], "signed": {"_type": "snapshot", "spec_version": "1.0.31", "version": 2,
            "expires": "2030-01-01T00:00:00Z", "meta": {"targets.json": {"version": 1}, "bins-0.json": {"version": 4, "length": 9, "hashes": {"sha256": "ab".repeat(32)}}}}})
    }

    fn timestamp() -> Value {
        json!({"signatures": [], "signed": {"_type": "timestamp", "spec_version": "1.0.31", "version": 2,
            "expires": "2030-01-01T00:00:00Z", "meta": {"snapshot.json": {"version": 2}}}})
    }

    /// Every load rule of python-tuf, one mutation each: whatever
    /// python-tuf refuses, we refuse (we are stricter on types, so not the
    /// other way round), and the unmutated documents load in both.
    #[test]
    fn refuses_everything_python_tuf_refuses() {
        type Edit = fn(&mut Value);
        type Base = fn() -> Value;
        let edits: Vec<(Base, &str, Edit)> = vec![
            (root, "base", |_| {}),
            (targets, "base", |_| {}),
            (succinct, "base", |_| {}),
            (snapshot, "base", |_| {}),
            (timestamp, "base", |_| {}),
            (root, "unknown _type", |d| {
                d["signed"]["_type"] = json!("mirrors")
            }),
            (root, "_type case", |d| d["signed"]["_type"] = json!("Root")),
            (root, "no signatures", |d| {
                d.as_object_mut().unwrap().remove("signatures");
            }),
            (root, "no signed", |d| {
                d.as_object_mut().unwrap().remove("signed");
            }),
            (
                root,
                "dup signature",
                |d| {
                    d["signatures"] =
                        json!([{"keyid": "aa", "sig": "00"}, {"keyid": "aa", "sig": "11"}])
                },
            ),
            (root, "signature without sig", |d| {
                d["signatures"] = json!([{"keyid": "aa"}])
            }),
            (root, "signature not object", |d| {
                d["signatures"] = json!(["x"])
            }),
            (root, "no version", |d| {
                d["signed"].as_object_mut().unwrap().remove("version");
            }),
            (root, "version 0", |d| d["signed"]["version"] = json!(0)),
            (root, "version -1", |d| d["signed"]["version"] = json!(-1)),
            (root, "version string", |d| {
                d["signed"]["version"] = json!("2")
            }),
            (root, "version false", |d| {
                d["signed"]["version"] = json!(false)
            }),
            (root, "no spec_version", |d| {
                d["signed"].as_object_mut().unwrap().remove("spec_version");
            }),
            (root, "spec 1", |d| d["signed"]["spec_version"] = json!("1")),
            (root, "spec 4 parts", |d| {
                d["signed"]["spec_version"] = json!("1.0.0.0")
            }),
            (root, "spec rc", |d| {
                d["signed"]["spec_version"] = json!("1.0.0-rc1")
            }),
            (root, "spec 2", |d| {
                d["signed"]["spec_version"] = json!("2.0.0")
            }),
            (root, "spec 01", |d| {
                d["signed"]["spec_version"] = json!("01.0.0")
            }),
            (root, "spec int", |d| d["signed"]["spec_version"] = json!(1)),
            (root, "no expires", |d| {
                d["signed"].as_object_mut().unwrap().remove("expires");
            }),
            (root, "expires fraction", |d| {
                d["signed"]["expires"] = json!("2030-01-01T00:00:00.5Z")
            }),
            (root, "expires offset", |d| {
                d["signed"]["expires"] = json!("2030-01-01T00:00:00+00:00")
            }),
            (root, "expires no Z", |d| {
                d["signed"]["expires"] = json!("2030-01-01T00:00:00")
            }),
            (root, "expires 60s", |d| {
                d["signed"]["expires"] = json!("2030-01-01T00:00:60Z")
            }),
            (root, "expires Feb 30", |d| {
                d["signed"]["expires"] = json!("2030-02-30T00:00:00Z")
            }),
            (root, "expires int", |d| d["signed"]["expires"] = json!(1)),
            (root, "unknown key pair", |d| {
                d["signed"]["keys"]["aa"]["keytype"] = json!("foo")
            }),
            (root, "pss sha224", |d| {
                d["signed"]["keys"]["aa"]["keytype"] = json!("rsa");
                d["signed"]["keys"]["aa"]["scheme"] = json!("rsassa-pss-sha224");
            }),
            (root, "no keyval", |d| {
                d["signed"]["keys"]["aa"]
                    .as_object_mut()
                    .unwrap()
                    .remove("keyval");
            }),
            (root, "keyval string", |d| {
                d["signed"]["keys"]["aa"]["keyval"] = json!("x")
            }),
            (root, "public int", |d| {
                d["signed"]["keys"]["aa"]["keyval"] = json!({"public": 1})
            }),
            (root, "no public", |d| {
                d["signed"]["keys"]["aa"]["keyval"] = json!({})
            }),
            (root, "no keys", |d| {
                d["signed"].as_object_mut().unwrap().remove("keys");
            }),
            (root, "no roles", |d| {
                d["signed"].as_object_mut().unwrap().remove("roles");
            }),
            (root, "extra role", |d| {
                d["signed"]["roles"]["mirror"] = json!({"keyids": [], "threshold": 1})
            }),
            (root, "missing role", |d| {
                d["signed"]["roles"]
                    .as_object_mut()
                    .unwrap()
                    .remove("timestamp");
            }),
            (root, "no threshold", |d| {
                d["signed"]["roles"]["root"]
                    .as_object_mut()
                    .unwrap()
                    .remove("threshold");
            }),
            (root, "no keyids", |d| {
                d["signed"]["roles"]["root"]
                    .as_object_mut()
                    .unwrap()
                    .remove("keyids");
            }),
            (root, "dup keyids", |d| {
                d["signed"]["roles"]["root"]["keyids"] = json!(["aa", "aa"])
            }),
            (root, "threshold 0", |d| {
                d["signed"]["roles"]["root"]["threshold"] = json!(0)
            }),
            (root, "threshold string", |d| {
                d["signed"]["roles"]["root"]["threshold"] = json!("1")
            }),
            (root, "threshold 0.5", |d| {
                d["signed"]["roles"]["root"]["threshold"] = json!(0.5)
            }),
            (targets, "no targets", |d| {
                d["signed"].as_object_mut().unwrap().remove("targets");
            }),
            (targets, "targets null", |d| {
                d["signed"]["targets"] = json!(null)
            }),
            (targets, "delegations null", |d| {
                d["signed"]["delegations"] = json!(null)
            }),
            (targets, "no length", |d| {
                d["signed"]["targets"]["a.txt"]
                    .as_object_mut()
                    .unwrap()
                    .remove("length");
            }),
            (targets, "length -1", |d| {
                d["signed"]["targets"]["a.txt"]["length"] = json!(-1)
            }),
            (targets, "length string", |d| {
                d["signed"]["targets"]["a.txt"]["length"] = json!("1")
            }),
            (targets, "no hashes", |d| {
                d["signed"]["targets"]["a.txt"]
                    .as_object_mut()
                    .unwrap()
                    .remove("hashes");
            }),
            (targets, "empty hashes", |d| {
                d["signed"]["targets"]["a.txt"]["hashes"] = json!({})
            }),
            (targets, "hash int", |d| {
                d["signed"]["targets"]["a.txt"]["hashes"] = json!({"sha256": 1})
            }),
            (targets, "no delegation keys", |d| {
                d["signed"]["delegations"]
                    .as_object_mut()
                    .unwrap()
                    .remove("keys");
            }),
            (targets, "roles and succinct", |d| {
                d["signed"]["delegations"]["succinct_roles"] =
                    json!({"keyids": [], "threshold": 1, "bit_length": 1, "name_prefix": "b"})
            }),
            (targets, "roles null", |d| {
                d["signed"]["delegations"]["roles"] = json!(null)
            }),
            (targets, "dup role", |d| {
                let r = d["signed"]["delegations"]["roles"][0].clone();
                d["signed"]["delegations"]["roles"]
                    .as_array_mut()
                    .unwrap()
                    .push(r);
            }),
            (targets, "role named root", |d| {
                d["signed"]["delegations"]["roles"][0]["name"] = json!("root")
            }),
            (targets, "role unnamed", |d| {
                d["signed"]["delegations"]["roles"][0]["name"] = json!("")
            }),
            (targets, "no terminating", |d| {
                d["signed"]["delegations"]["roles"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("terminating");
            }),
            (targets, "paths and prefixes", |d| {
                d["signed"]["delegations"]["roles"][0]["path_hash_prefixes"] = json!(["ab"])
            }),
            (targets, "no paths", |d| {
                d["signed"]["delegations"]["roles"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("paths");
            }),
            (targets, "path int", |d| {
                d["signed"]["delegations"]["roles"][0]["paths"] = json!([1])
            }),
            (targets, "role dup keyids", |d| {
                d["signed"]["delegations"]["roles"][0]["keyids"] = json!(["bb", "bb"])
            }),
            (targets, "role threshold 0", |d| {
                d["signed"]["delegations"]["roles"][0]["threshold"] = json!(0)
            }),
            (succinct, "bit_length 0", |d| {
                d["signed"]["delegations"]["succinct_roles"]["bit_length"] = json!(0)
            }),
            (succinct, "bit_length 33", |d| {
                d["signed"]["delegations"]["succinct_roles"]["bit_length"] = json!(33)
            }),
            (succinct, "no name_prefix", |d| {
                d["signed"]["delegations"]["succinct_roles"]
                    .as_object_mut()
                    .unwrap()
                    .remove("name_prefix");
            }),
            (succinct, "name_prefix int", |d| {
                d["signed"]["delegations"]["succinct_roles"]["name_prefix"] = json!(1)
            }),
            (snapshot, "no meta", |d| {
                d["signed"].as_object_mut().unwrap().remove("meta");
            }),
            (snapshot, "meta version 0", |d| {
                d["signed"]["meta"]["targets.json"]["version"] = json!(0)
            }),
            (snapshot, "meta no version", |d| {
                d["signed"]["meta"]["targets.json"] = json!({})
            }),
            (snapshot, "meta length -1", |d| {
                d["signed"]["meta"]["bins-0.json"]["length"] = json!(-1)
            }),
            (snapshot, "meta empty hashes", |d| {
                d["signed"]["meta"]["bins-0.json"]["hashes"] = json!({})
            }),
            (timestamp, "no snapshot.json", |d| {
                d["signed"]["meta"] = json!({"snapshot": {"version": 1}})
            }),
            (timestamp, "snapshot version 0", |d| {
                d["signed"]["meta"]["snapshot.json"]["version"] = json!(0)
            }),
        ];
        let docs: Vec<Value> = edits
            .iter()
            .map(|(base, _, edit)| {
                let mut d = base();
                edit(&mut d);
                d
            })
            .collect();
        let verdicts = python_tuf_load(&docs);
        for (((_, name, _), doc), theirs) in edits.iter().zip(&docs).zip(verdicts) {
            let ours = check_metadata(doc);
            match theirs {
                None if *name == "base" => assert!(ours.is_ok(), "{name}: {ours:?}"),
                None => {}
                Some(why) => assert!(
                    ours.is_err(),
                    "{name}: python-tuf refuses ({why}), we accept"
                ),
            }
        }
        // Cases python-tuf lets through that the spec does not allow.
        for (base, edit) in [
            (
                root as fn() -> Value,
                (|d: &mut Value| d["signed"]["version"] = json!(true)) as Edit,
            ),
            (root, |d| d["signed"]["version"] = json!(2.0)),
            (root, |d| {
                d["signed"]["roles"]["root"]["threshold"] = json!(5)
            }),
            (root, |d| {
                d["signed"]["roles"]["root"]["keyids"] = json!(["zz"])
            }),
            (root, |d| d["signed"]["consistent_snapshot"] = json!("true")),
            (targets, |d| {
                d["signed"]["targets"]["a.txt"]["length"] = json!(1.5)
            }),
        ] {
            let mut d = base();
            edit(&mut d);
            assert!(check_metadata(&d).is_err(), "{d}");
        }
    }
}

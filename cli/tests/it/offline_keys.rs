//! `rstuf admin keygen`, `rstuf admin ceremony` and `rstuf admin metadata
//! sign` without a server: key files python `cryptography` reads, payloads
//! python-tuf verifies, and clear failures (exit code and message) for bad
//! input. The end-to-end runs against a real server are in
//! tests/tests/it/cli_ceremony.rs.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PASSWORD: &str = "correct horse battery staple";

fn rstuf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rstuf"))
        .args(args)
        .env("RSTUF_TEST_PW", PASSWORD)
        .env("RSTUF_WRONG_PW", "not the password")
        .env_remove("RSTUF_API_SERVER")
        .output()
        .expect("rstuf runs")
}

fn ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "rstuf failed ({:?}): {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Exit code and error text of a failed run (stderr, or the JSON error
/// document on stdout with `--json`).
fn failed(out: &Output) -> (i32, String) {
    assert!(
        !out.status.success(),
        "expected a failure: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if let Ok(doc) = serde_json::from_slice::<Value>(&out.stdout) {
        assert_eq!(doc["exit_code"], code, "{doc}");
        return (
            code,
            format!("{stderr}{}", doc["error"].as_str().unwrap_or("")),
        );
    }
    (code, stderr)
}

fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        script
    );
    String::from_utf8(out.stdout).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `keygen --json` for a key `name` in `dir`.
fn keygen(dir: &Path, name: &str, kind: &str, password: bool) -> (PathBuf, Value) {
    let file = dir.join(format!("{name}.pem"));
    let mut args = vec![
        "admin",
        "keygen",
        "--json",
        "--type",
        kind,
        "--out",
        p(&file),
        "--name",
        name,
    ];
    if password {
        args.extend(["--password-env", "RSTUF_TEST_PW"]);
    }
    (file.clone(), ok(&rstuf(&args)))
}

/// python: load the private key (with the password), print securesystemslib's
/// key dict for its public half and whether a signature by our key verifies.
const PY_KEYCHECK: &str = r#"
import hashlib, json, sys
from cryptography.hazmat.primitives import serialization as s
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import SSlibKey
priv_path, pub_path, password = sys.argv[1], sys.argv[2], sys.argv[3]
priv = s.load_pem_private_key(open(priv_path, "rb").read(), password.encode() if password else None)
pub = s.load_pem_public_key(open(pub_path, "rb").read())
k = SSlibKey.from_crypto(priv.public_key())
k2 = SSlibKey.from_crypto(pub)
d = k.to_dict()
print(json.dumps({"key": d, "same_pub": d == k2.to_dict(),
                  "bare_keyid": hashlib.sha256(encode_canonical(d).encode()).hexdigest()}))
"#;

#[test]
fn keygen_writes_keys_python_reads_for_every_type() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, name, password) in [
        ("ed25519", "alice", false),
        ("ecdsa", "bob", true),
        ("rsa", "carol", true),
    ] {
        let (file, report) = keygen(dir.path(), name, kind, password);
        let pub_file = dir.path().join(format!("{name}.pem.pub"));
        assert!(file.is_file() && pub_file.is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{kind}: private key mode");
        }
        let pem = std::fs::read_to_string(&file).unwrap();
        let label = if password {
            "-----BEGIN ENCRYPTED PRIVATE KEY-----"
        } else {
            "-----BEGIN PRIVATE KEY-----"
        };
        assert!(pem.starts_with(label), "{kind}: {pem}");
        assert_eq!(report["encrypted"], password);

        let py: Value = serde_json::from_str(&python(
            PY_KEYCHECK,
            &[p(&file), p(&pub_file), if password { PASSWORD } else { "" }],
        ))
        .unwrap();
        assert_eq!(py["same_pub"], true, "{kind}");
        // Our key JSON is securesystemslib's plus the name, and the keyid
        // covers the name.
        let mut ours = report["key"].clone();
        assert_eq!(ours["x-rstuf-key-name"], name);
        ours.as_object_mut().unwrap().remove("x-rstuf-key-name");
        assert_eq!(ours, py["key"], "{kind}");
        assert_eq!(report["bare_keyid"], py["bare_keyid"], "{kind}");
        let keyid = python(
            "import hashlib, json, sys\nfrom securesystemslib.formats import encode_canonical\nprint(hashlib.sha256(encode_canonical(json.loads(sys.argv[1])).encode()).hexdigest())",
            &[&report["key"].to_string()],
        );
        assert_eq!(report["keyid"], keyid.trim(), "{kind}");
    }

    // Never overwrites: the existing file stays as it was.
    let before = std::fs::read(dir.path().join("alice.pem")).unwrap();
    let (code, err) = failed(&rstuf(&[
        "admin",
        "keygen",
        "--type",
        "ed25519",
        "--out",
        p(&dir.path().join("alice.pem")),
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(dir.path().join("alice.pem")).unwrap(), before);

    // Password from a file works; both sources at once is a usage error.
    let pw = dir.path().join("pw.txt");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let dave = dir.path().join("dave.pem");
    ok(&rstuf(&[
        "admin",
        "keygen",
        "--type",
        "ed25519",
        "--out",
        p(&dave),
        "--password-file",
        p(&pw),
    ]));
    python(
        PY_KEYCHECK,
        &[p(&dave), &format!("{}.pub", p(&dave)), PASSWORD],
    );
    let (code, err) = failed(&rstuf(&[
        "admin",
        "keygen",
        "--type",
        "ed25519",
        "--out",
        p(&dir.path().join("eve.pem")),
        "--password-file",
        p(&pw),
        "--password-env",
        "RSTUF_TEST_PW",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(!dir.path().join("eve.pem").exists());
    let (code, err) = failed(&rstuf(&[
        "admin",
        "keygen",
        "--type",
        "ed25519",
        "--out",
        p(&dir.path().join("eve.pem")),
        "--password-env",
        "RSTUF_UNSET_VARIABLE_FOR_TESTS",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("RSTUF_UNSET_VARIABLE_FOR_TESTS"), "{err}");
    assert!(!dir.path().join("eve.pem").exists());
}

/// Three root keys (ed25519, ecdsa encrypted, rsa) and an online key.
struct Keys {
    dir: tempfile::TempDir,
    alice: PathBuf,
    bob: PathBuf,
    carol: PathBuf,
    online: PathBuf,
}

fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let (alice, _) = keygen(dir.path(), "alice", "ed25519", false);
    let (bob, _) = keygen(dir.path(), "bob", "ecdsa", true);
    let (carol, _) = keygen(dir.path(), "carol", "rsa", false);
    let (online, _) = keygen(dir.path(), "online", "ed25519", false);
    Keys {
        dir,
        alice,
        bob,
        carol,
        online,
    }
}

impl Keys {
    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Ceremony arguments for 2-of-3 root keys, signing with `sign`.
    fn ceremony_args(&self, out: &Path, sign: &[String]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "admin".into(),
            "ceremony".into(),
            "--json".into(),
            "--root-key".into(),
            format!("{}:Alice's Key", p(&self.alice)),
            // Encrypted: its public half is read from bob.pem.pub.
            "--root-key".into(),
            p(&self.bob).into(),
            "--root-key".into(),
            format!("{}.pub", p(&self.carol)),
            "--root-threshold".into(),
            "2".into(),
            "--online-key".into(),
            format!("{}.pub", p(&self.online)),
            "--expires".into(),
            "root=30,timestamp=2".into(),
            "--bins".into(),
            "16".into(),
            "--out".into(),
            p(out).into(),
        ];
        for s in sign {
            args.push("--sign".into());
            args.push(s.clone());
        }
        args
    }
}

fn run(args: &[String]) -> Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    rstuf(&refs)
}

/// python-tuf: parse root and report how its own root role verifies.
const PY_ROOT: &str = r#"
import json, sys
from tuf.api.metadata import Metadata, Root
payload = json.load(open(sys.argv[1]))
md = Metadata[Root].from_dict(payload["metadata"]["root"])
root = md.signed
res = root.get_verification_result("root", md.signed_bytes, md.signatures)
try:
    root.verify_delegate("root", md.signed_bytes, md.signatures)
    verified = True
except Exception:
    verified = False
print(json.dumps({"verified": verified, "signed": sorted(res.signed), "unsigned": sorted(res.unsigned),
                  "threshold": root.roles["root"].threshold, "online": root.roles["timestamp"].keyids,
                  "expires": root.expires.isoformat(), "version": root.version}))
"#;

#[test]
fn ceremony_payload_matches_upstream_and_python_tuf_verifies_it() {
    let k = keys();
    let out = k.out("ceremony-payload.json");
    let summary = ok(&run(&k.ceremony_args(
        &out,
        &[
            p(&k.alice).to_string(),
            format!("{}:RSTUF_TEST_PW", p(&k.bob)),
        ],
    )));
    assert_eq!(summary["das"], false, "{summary}");
    assert_eq!(summary["signatures"], 2);

    let text = std::fs::read_to_string(&out).unwrap();
    // Upstream's key order: settings, metadata, timeout; roles root,
    // timestamp, snapshot, targets, bins, delegations (null when unused).
    let pos = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(pos("\"settings\"") < pos("\"metadata\"") && pos("\"metadata\"") < pos("\"timeout\""));
    let order = [
        "\"root\": {\n        \"expiration\"",
        "\"timestamp\": {",
        "\"snapshot\": {",
        "\"targets\": {",
        "\"bins\": {",
        "\"delegations\": null",
    ];
    for pair in order.windows(2) {
        assert!(
            pos(pair[0]) < pos(pair[1]),
            "{} before {}",
            pair[0],
            pair[1]
        );
    }
    let payload: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(payload["timeout"], 300);
    let roles = &payload["settings"]["roles"];
    assert_eq!(roles["root"], json!({"expiration": 30}));
    assert_eq!(roles["timestamp"], json!({"expiration": 2}));
    assert_eq!(roles["snapshot"], json!({"expiration": 1}));
    assert_eq!(roles["targets"], json!({"expiration": 365}));
    assert_eq!(
        roles["bins"],
        json!({"expiration": 1, "number_of_delegated_bins": 16})
    );
    let signed = &payload["metadata"]["root"]["signed"];
    assert_eq!(signed["_type"], "root");
    assert_eq!(signed["version"], 1);
    assert_eq!(signed["consistent_snapshot"], true);
    let expires = signed["expires"].as_str().unwrap();
    assert!(
        expires.ends_with('Z') && expires.len() == 20 && !expires.contains('.'),
        "{expires}"
    );
    let keys = signed["keys"].as_object().unwrap();
    assert_eq!(keys.len(), 4);
    assert!(keys.values().all(|k| k["x-rstuf-key-name"].is_string()));
    let names: Vec<&str> = keys
        .values()
        .map(|k| k["x-rstuf-key-name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Alice's Key") && names.contains(&"bob") && names.contains(&"carol"));
    let online_id = summary["online_key"]["keyid"].as_str().unwrap();
    let online = &keys[online_id];
    assert_eq!(online["x-rstuf-key-name"], "online");
    let uri = online["x-rstuf-online-key-uri"].as_str().unwrap();
    assert!(uri.starts_with("fn:") && uri.len() == 3 + 64, "{uri}");
    assert!(keys
        .iter()
        .filter(|(id, _)| id.as_str() != online_id)
        .all(|(_, k)| k.get("x-rstuf-online-key-uri").is_none()));
    for role in ["timestamp", "snapshot", "targets"] {
        assert_eq!(
            signed["roles"][role],
            json!({"keyids": [online_id], "threshold": 1})
        );
    }
    assert_eq!(signed["roles"]["root"]["threshold"], 2);
    assert_eq!(
        signed["roles"]["root"]["keyids"].as_array().unwrap().len(),
        3
    );

    let py: Value = serde_json::from_str(&python(PY_ROOT, &[p(&out)])).unwrap();
    assert_eq!(py["verified"], true, "{py}");
    assert_eq!(py["signed"].as_array().unwrap().len(), 2, "{py}");
    assert_eq!(py["online"], json!([online_id]));

    // The RSA key signs too (3 of 3), and classic bins are written as the
    // server's extension.
    let out3 = k.out("three.json");
    let mut args = k.ceremony_args(
        &out3,
        &[
            p(&k.alice).to_string(),
            format!("{}:RSTUF_TEST_PW", p(&k.bob)),
            p(&k.carol).to_string(),
        ],
    );
    let bins_at = args.iter().position(|a| a == "--bins").unwrap();
    args[bins_at] = "--classic-bins".into();
    ok(&run(&args));
    let py: Value = serde_json::from_str(&python(PY_ROOT, &[p(&out3)])).unwrap();
    assert_eq!(py["signed"].as_array().unwrap().len(), 3, "{py}");
    let payload: Value = serde_json::from_slice(&std::fs::read(&out3).unwrap()).unwrap();
    assert_eq!(
        payload["settings"]["roles"]["bins"]["x-rstuf-bins-layout"],
        "classic"
    );
}

#[test]
fn das_ceremony_then_offline_metadata_sign() {
    let k = keys();
    let out = k.out("das.json");
    let summary = ok(&run(&k.ceremony_args(&out, &[p(&k.alice).to_string()])));
    assert_eq!(summary["das"], true);
    let py: Value = serde_json::from_str(&python(PY_ROOT, &[p(&out)])).unwrap();
    assert_eq!(py["verified"], false, "{py}");
    assert_eq!(py["signed"].as_array().unwrap().len(), 1, "{py}");

    // What GET /api/v1/metadata/sign/ answers during a DAS bootstrap.
    let payload: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let root = payload["metadata"]["root"].clone();
    let response = json!({"data": {"metadata": {"root": root}}, "message": "Metadata role(s) pending signing"});
    let pending = k.out("pending.json");
    std::fs::write(&pending, response.to_string()).unwrap();

    let sign_out = k.out("sign-payload.json");
    let report = ok(&rstuf(&[
        "admin",
        "metadata",
        "sign",
        "--json",
        "--key",
        p(&k.bob),
        "--password-env",
        "RSTUF_TEST_PW",
        "--in",
        p(&pending),
        "--out",
        p(&sign_out),
        "--dry-run",
    ]));
    assert_eq!(report["progress"][0]["valid"], 2, "{report}");
    let text = std::fs::read_to_string(&sign_out).unwrap();
    assert!(text.find("\"signature\"").unwrap() < text.find("\"role\"").unwrap());
    let sign: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(sign["role"], "root");
    assert_eq!(
        sign["signature"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["keyid", "sig"]
    );
    // python-tuf accepts root with both signatures.
    let mut full = payload.clone();
    full["metadata"]["root"]["signatures"]
        .as_array_mut()
        .unwrap()
        .push(sign["signature"].clone());
    let full_file = k.out("full.json");
    std::fs::write(&full_file, full.to_string()).unwrap();
    let py: Value = serde_json::from_str(&python(PY_ROOT, &[p(&full_file)])).unwrap();
    assert_eq!(py["verified"], true, "{py}");

    // The RSA key (public file given in the ceremony, private here) too.
    let report = ok(&rstuf(&[
        "admin",
        "metadata",
        "sign",
        "--json",
        "--key",
        p(&k.carol),
        "--in",
        p(&pending),
        "--dry-run",
        "--out",
        p(&k.out("carol-sign.json")),
    ]));
    assert_eq!(report["role"], "root");

    // A key that is not a root key.
    let (code, err) = failed(&rstuf(&[
        "admin",
        "metadata",
        "sign",
        "--key",
        p(&k.online),
        "--in",
        p(&pending),
        "--dry-run",
        "--out",
        p(&k.out("nope.json")),
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("is not a root key") && err.contains("key "),
        "{err}"
    );
    assert!(!k.out("nope.json").exists());

    // Wrong password: clear message, nothing written.
    let (code, err) = failed(&rstuf(&[
        "admin",
        "metadata",
        "sign",
        "--key",
        p(&k.bob),
        "--password-env",
        "RSTUF_WRONG_PW",
        "--in",
        p(&pending),
        "--dry-run",
        "--out",
        p(&k.out("wrong.json")),
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("wrong password for key file"), "{err}");
    assert!(!err.contains("not the password"), "{err}");
    assert!(!k.out("wrong.json").exists());

    // Encrypted key without a password.
    let (code, err) = failed(&rstuf(&[
        "admin",
        "metadata",
        "sign",
        "--key",
        p(&k.bob),
        "--in",
        p(&pending),
        "--dry-run",
        "--out",
        p(&k.out("nopw.json")),
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("encrypted") && err.contains("--password-env"),
        "{err}"
    );

    // A malformed pending file is named in the error.
    let bad = k.out("bad-pending.json");
    std::fs::write(&bad, "{\"data\": ").unwrap();
    let (code, err) = failed(&rstuf(&[
        "admin",
        "metadata",
        "sign",
        "--key",
        p(&k.alice),
        "--in",
        p(&bad),
        "--dry-run",
        "--out",
        p(&k.out("x.json")),
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("bad-pending.json") && err.contains("not valid JSON"),
        "{err}"
    );
    std::fs::write(&bad, "{\"something\": 1}").unwrap();
    let (code, err) = failed(&rstuf(&[
        "admin",
        "metadata",
        "sign",
        "--key",
        p(&k.alice),
        "--in",
        p(&bad),
        "--dry-run",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("bad-pending.json"), "{err}");
}

#[test]
fn ceremony_bad_inputs_fail_clearly_without_writing() {
    let k = keys();
    let out = k.out("never.json");

    // Threshold 1.
    let mut args = k.ceremony_args(&out, &[p(&k.alice).to_string()]);
    let t = args.iter().position(|a| a == "--root-threshold").unwrap();
    args[t + 1] = "1".into();
    let (code, err) = failed(&run(&args));
    assert_eq!(code, 2);
    assert!(err.contains("--root-threshold must be at least 2"), "{err}");

    // Threshold above the number of keys.
    args[t + 1] = "4".into();
    let (code, err) = failed(&run(&args));
    assert_eq!(code, 2);
    assert!(err.contains("needs at least that many --root-key"), "{err}");

    // Wrong password for a signing key.
    let (code, err) = failed(&run(
        &k.ceremony_args(&out, &[format!("{}:RSTUF_WRONG_PW", p(&k.bob))])
    ));
    assert_eq!(code, 1);
    assert!(err.contains("wrong password for key file"), "{err}");

    // Signing with a key that is not a root key.
    let (code, err) = failed(&run(&k.ceremony_args(&out, &[p(&k.online).to_string()])));
    assert_eq!(code, 1);
    assert!(err.contains("is not a root key"), "{err}");

    // Bins that are not a power of two; an unknown role in --expires.
    let mut args = k.ceremony_args(&out, &[]);
    let b = args.iter().position(|a| a == "--bins").unwrap();
    args[b + 1] = "12".into();
    let (code, err) = failed(&run(&args));
    assert_eq!(code, 2);
    assert!(err.contains("power of two"), "{err}");
    let mut args = k.ceremony_args(&out, &[]);
    let e = args.iter().position(|a| a == "--expires").unwrap();
    args[e + 1] = "roots=3".into();
    let (code, err) = failed(&run(&args));
    assert_eq!(code, 2);
    assert!(err.contains("unknown role 'roots'"), "{err}");

    // The online key may not be a root key.
    let mut args = k.ceremony_args(&out, &[]);
    let o = args.iter().position(|a| a == "--online-key").unwrap();
    args[o + 1] = p(&k.alice).into();
    let (code, err) = failed(&run(&args));
    assert_eq!(code, 2);
    assert!(err.contains("is also a root key"), "{err}");

    // A malformed delegations file is named.
    let d = k.out("delegations.json");
    std::fs::write(&d, "[1, 2").unwrap();
    let mut args = k.ceremony_args(&out, &[]);
    let b = args.iter().position(|a| a == "--bins").unwrap();
    args[b] = "--delegations".into();
    args[b + 1] = p(&d).into();
    let (code, err) = failed(&run(&args));
    assert_eq!(code, 1);
    assert!(err.contains("delegations.json"), "{err}");

    // A key file that is not a key.
    let junk = k.out("junk.pem");
    std::fs::write(&junk, "hello").unwrap();
    let mut args = k.ceremony_args(&out, &[]);
    let r = args.iter().position(|a| a == "--root-key").unwrap();
    args[r + 1] = p(&junk).into();
    let (code, err) = failed(&run(&args));
    assert_eq!(code, 1);
    assert!(
        err.contains("junk.pem") && err.contains("no PEM block"),
        "{err}"
    );

    assert!(!out.exists(), "no payload is written on failure");

    // Custom delegations are carried through.
    std::fs::write(
        &d,
        r#"{"roles": [{"name": "prod", "paths": ["prod/*"], "x-rstuf-expire-policy": 7},
                      {"name": "default", "paths": ["*"], "x-rstuf-expire-policy": 1}]}"#,
    )
    .unwrap();
    let custom = k.out("custom.json");
    let mut args = k.ceremony_args(&custom, &[]);
    let b = args.iter().position(|a| a == "--bins").unwrap();
    args[b] = "--delegations".into();
    args[b + 1] = p(&d).into();
    ok(&run(&args));
    let payload: Value = serde_json::from_slice(&std::fs::read(&custom).unwrap()).unwrap();
    assert_eq!(payload["settings"]["roles"]["bins"], Value::Null);
    assert_eq!(
        payload["settings"]["roles"]["delegations"]["roles"][0]["name"],
        "prod"
    );
}

#[test]
fn unreachable_server_is_exit_3() {
    let k = keys();
    let out = k.out("payload.json");
    let mut args = k.ceremony_args(&out, &[p(&k.alice).to_string()]);
    args.extend([
        "--send".into(),
        "--api-server".into(),
        "http://127.0.0.1:9".into(),
    ]);
    let (code, err) = failed(&run(&args));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("Failed to connect to http://127.0.0.1:9"),
        "{err}"
    );
    // The payload was written before sending, so it can be sent later.
    assert!(out.is_file());

    let (code, err) = failed(&rstuf(&[
        "admin",
        "metadata",
        "sign",
        "--key",
        p(&k.alice),
        "--api-server",
        "http://127.0.0.1:9",
    ]));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("Failed to connect"), "{err}");
}

//! Python-backed test helpers: key files made by python `cryptography`
//! (and the `openssl` CLI when installed), and signatures checked the way
//! securesystemslib checks them. For this crate's tests and, with the
//! `testing` feature, for the tests of crates that hold keys.

use std::path::Path;
use std::process::{Command, Stdio};

pub const PASSWORD: &str = "correct horse battery staple";

/// Writes key files into `dir` with python `cryptography` (and the
/// `openssl` CLI for the other PKCS#8 encryption schemes), and prints
/// `{file: {"kind", "public", "encrypted"}}` with python's encoding of
/// each public key.
const GENERATE: &str = r#"
import json, os, shutil, subprocess, sys
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import ed25519, ec, rsa
out, pw = sys.argv[1], sys.argv[2]
keys = {"ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ecdsa": ec.generate_private_key(ec.SECP256R1()),
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
files = {}
def public(kind, k):
    pub = k.public_key()
    if kind == "ed25519":
        return pub.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw).hex()
    return pub.public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode()
def write(name, kind, k, fmt, enc, encrypted):
    with open(os.path.join(out, name), "wb") as f:
        f.write(k.private_bytes(s.Encoding.PEM, fmt, enc))
    files[name] = {"kind": kind, "public": public(kind, k), "encrypted": encrypted}
for kind, k in keys.items():
    write(kind, kind, k, s.PrivateFormat.PKCS8, s.NoEncryption(), False)
    write(kind + "-enc", kind, k, s.PrivateFormat.PKCS8, s.BestAvailableEncryption(pw.encode()), True)
    if kind != "ed25519":
        write(kind + "-trad", kind, k, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption(), False)
if shutil.which("openssl"):
    for name, kind, args in (("ed25519-scrypt", "ed25519", ["-scrypt"]),
                             ("ecdsa-sha1prf", "ecdsa", ["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"]),
                             ("rsa-3des", "rsa", ["-v2", "des3"])):
        subprocess.run(["openssl", "pkcs8", "-topk8", "-in", os.path.join(out, kind),
                        "-out", os.path.join(out, name), "-passout", "pass:" + pw] + args, check=True)
        files[name] = {"kind": kind, "public": files[kind]["public"], "encrypted": True}
print(json.dumps(files))
"#;

/// Reads `[{kind, public, msg, sig}]` (hex) on stdin and prints one
/// `ok`/`bad` per item, verifying exactly as securesystemslib does.
const VERIFY: &str = r#"
import json, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization as s
from cryptography.hazmat.primitives.asymmetric import ed25519, ec, padding
for item in json.load(sys.stdin):
    kind, public = item["kind"], item["public"]
    msg, sig = bytes.fromhex(item["msg"]), bytes.fromhex(item["sig"])
    try:
        if kind == "ed25519":
            ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(sig, msg)
        elif kind == "ecdsa":
            s.load_pem_public_key(public.encode()).verify(sig, msg, ec.ECDSA(hashes.SHA256()))
        else:
            s.load_pem_public_key(public.encode()).verify(
                sig, msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
        print("ok")
    except InvalidSignature:
        print("bad")
"#;

pub fn python(script: &str, args: &[&str], stdin: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Key files generated into `dir`: file name → (kind, python's public, encrypted).
pub fn generate_keys(dir: &Path) -> Vec<(String, String, String, bool)> {
    let out = python(GENERATE, &[dir.to_str().unwrap(), PASSWORD], "");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(file, k)| {
            (
                file.clone(),
                k["kind"].as_str().unwrap().to_string(),
                k["public"].as_str().unwrap().to_string(),
                k["encrypted"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Python's verdict on each (kind, public, message, signature).
pub fn python_verifies(items: &[(String, String, Vec<u8>, Vec<u8>)]) -> Vec<bool> {
    let json: Vec<_> = items
        .iter()
        .map(|(kind, public, msg, sig)| serde_json::json!({"kind": kind, "public": public, "msg": crate::hex(msg), "sig": crate::hex(sig)}))
        .collect();
    let out = python(VERIFY, &[], &serde_json::Value::from(json).to_string());
    out.lines().map(|l| l == "ok").collect()
}

//! The keyvault-file plugin signs with PEM keys inside the sandbox; python's
//! `cryptography` (an independent implementation) generates the keys and
//! verifies every signature.

use rstuf_plugins::{BackendErrorKind, KeyVault};
use rstuf_tests::{keyvault_file_spec, python, runtime};
use std::collections::BTreeMap;
use std::path::Path;

const PASSWORD: &str = "hunter2";

/// Generate one key of each type, unencrypted (`<type>`) and encrypted with
/// PASSWORD (`<type>-enc`); return the TUF `keyval.public` of each.
fn generate_keys(dir: &Path) -> BTreeMap<String, String> {
    let script = r#"
import json, sys, os
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import ed25519, ec, rsa
out = sys.argv[1]; pw = sys.argv[2].encode()
keys = {"ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ecdsa": ec.generate_private_key(ec.SECP256R1()),
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=3072)}
public = {}
for name, k in keys.items():
    for suffix, enc in (("", s.NoEncryption()), ("-enc", s.BestAvailableEncryption(pw))):
        with open(os.path.join(out, name + suffix), "wb") as f:
            f.write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, enc))
        pub = k.public_key()
        if name == "ed25519":
            public[name + suffix] = pub.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw).hex()
        else:
            public[name + suffix] = pub.public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode()
with open(os.path.join(out, "README.txt"), "w") as f:
    f.write("not a key")
print(json.dumps(public))
"#;
    let out = python(script, &[dir.to_str().unwrap(), PASSWORD]);
    serde_json::from_str(&out).unwrap()
}

/// Verify with python cryptography exactly as securesystemslib does.
fn python_verifies(keytype: &str, public: &str, message: &[u8], sig: &[u8]) -> bool {
    let script = r#"
import sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization as s
from cryptography.hazmat.primitives.asymmetric import ed25519, ec, padding
keytype, public, msg, sig = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), bytes.fromhex(sys.argv[4])
try:
    if keytype == "ed25519":
        ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(sig, msg)
    elif keytype == "ecdsa":
        s.load_pem_public_key(public.encode()).verify(sig, msg, ec.ECDSA(hashes.SHA256()))
    else:
        s.load_pem_public_key(public.encode()).verify(
            sig, msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO), hashes.SHA256())
    print("ok")
except InvalidSignature:
    print("bad")
"#;
    python(
        script,
        &[keytype, public, &hex::encode(message), &hex::encode(sig)],
    )
    .trim()
        == "ok"
}

async fn vault(dir: &Path, config: serde_json::Value) -> KeyVault {
    runtime()
        .load_keyvault(&keyvault_file_spec(dir, config))
        .await
        .unwrap()
}

#[tokio::test]
async fn signatures_of_all_three_key_types_verify_with_python_cryptography() {
    let dir = tempfile::tempdir().unwrap();
    let expected = generate_keys(dir.path());
    let vault = vault(
        dir.path(),
        serde_json::json!({ "dir": "/keys", "default_password": PASSWORD }),
    )
    .await;
    assert_eq!(vault.schemes(), ["fn"]);
    assert!(vault.serves("fn:ed25519") && !vault.serves("hv:online"));

    let message = br#"{"_type":"timestamp","expires":"2030-01-01T00:00:00Z","version":7}"#;
    for (file, public) in &expected {
        let uri = format!("fn:{file}");
        let key = vault.get_key(&uri).await.unwrap();
        let keytype = file.trim_end_matches("-enc");
        assert_eq!(key.keytype, keytype);
        assert_eq!(
            &key.public, public,
            "public key of {file} matches python's encoding"
        );
        let scheme = match keytype {
            "ed25519" => "ed25519",
            "ecdsa" => "ecdsa-sha2-nistp256",
            _ => "rsassa-pss-sha256",
        };
        assert_eq!(key.scheme, scheme);

        let sig = vault.sign(&uri, message).await.unwrap();
        assert!(
            python_verifies(keytype, public, message, &sig),
            "{file} signature verifies"
        );
        assert!(
            !python_verifies(keytype, public, b"tampered", &sig),
            "{file} binds the message"
        );
    }

    let listed: Vec<String> = vault
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.uri)
        .collect();
    assert_eq!(listed.len(), 6, "README.txt is skipped: {listed:?}");
}

#[tokio::test]
async fn wrong_password_and_hostile_uris_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    generate_keys(dir.path());
    let vault = vault(
        dir.path(),
        serde_json::json!({ "dir": "/keys", "passwords": { "rsa-enc": "not-the-password" } }),
    )
    .await;

    let err = vault.sign("fn:rsa-enc", b"m").await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("rsa-enc") && !msg.contains("not-the-password"),
        "{msg}"
    );

    for uri in [
        "fn:../etc/passwd",
        "fn:/etc/passwd",
        "fn:",
        "hv:online",
        "no-scheme",
    ] {
        let err = vault.sign(uri, b"m").await.unwrap_err();
        assert!(
            matches!(
                err.backend_kind(),
                Some(BackendErrorKind::InvalidInput | BackendErrorKind::NotFound)
            ),
            "{uri}: {err}"
        );
    }
    let err = vault.sign("fn:absent", b"m").await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::NotFound),
        "{err}"
    );

    // Unencrypted keys still sign after all those failures.
    assert_eq!(vault.sign("fn:ed25519", b"m").await.unwrap().len(), 64);
}

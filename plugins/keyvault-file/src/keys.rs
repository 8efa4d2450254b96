//! Private keys from PEM files and signing per TUF scheme, kept free of
//! WebAssembly bindings so it is tested natively against python
//! `cryptography` (what upstream RSTUF and securesystemslib sign with).
//!
//! Accepted PEM blocks:
//! - `PRIVATE KEY` (unencrypted PKCS#8): upstream RSTUF's `fn:` key files;
//! - `ENCRYPTED PRIVATE KEY` (PKCS#8, PBES2 with PBKDF2 or scrypt, AES-CBC
//!   or 3DES): python `cryptography`'s `BestAvailableEncryption` and
//!   `openssl pkcs8 -topk8` output;
//! - `RSA PRIVATE KEY` (PKCS#1) and `EC PRIVATE KEY` (SEC1), unencrypted,
//!   because upstream loads keys with `load_pem_private_key`, which takes
//!   these "traditional" encodings too.
//!
//! Key types: Ed25519, ECDSA on P-256, RSA. Signatures follow the TUF
//! schemes exactly: raw 64-byte Ed25519; DER-encoded ECDSA over SHA-256
//! (`ecdsa-sha2-nistp256`); RSASSA-PSS with SHA-256, MGF1-SHA-256 and a
//! 32-byte salt (`rsassa-pss-sha256`).
//!
//! Error texts name the file and the problem, never a password or key
//! material.

use ed25519_dalek::pkcs8::DecodePrivateKey;
use p256::pkcs8::{EncodePublicKey, LineEnding};
use pkcs8::der::{Decode, SecretDocument};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use sha2::Sha256;

/// Key files larger than this are not keys (an RSA-8192 PEM is ~6.5 KiB);
/// refusing them keeps a stray large file from eating the memory budget.
pub const MAX_KEY_FILE: u64 = 64 * 1024;

/// RSA-PSS salt length of the `rsassa-pss-sha256` scheme.
const PSS_SALT_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The file is not a private key this plugin understands.
    Unsupported(String),
    /// Encrypted, and no password or the wrong one is configured.
    Password(String),
    /// Signing or encoding failed for a reason other than the input.
    Internal(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Unsupported(m) | KeyError::Password(m) | KeyError::Internal(m) => {
                f.write_str(m)
            }
        }
    }
}

/// A loaded private key, ready to sign.
pub enum PrivateKey {
    Ed25519(ed25519_dalek::SigningKey),
    Ecdsa(p256::ecdsa::SigningKey),
    Rsa(Box<rsa::pss::SigningKey<Sha256>>),
}

impl std::fmt::Debug for PrivateKey {
    /// Names the key type only: no key material in logs or panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.keytype())
    }
}

/// TUF's view of the public half: `keytype`, `scheme` and `keyval.public`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Public {
    pub keytype: &'static str,
    pub scheme: &'static str,
    pub public: String,
}

const OID_ED25519: &str = "1.3.101.112";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_RSA: &str = "1.2.840.113549.1.1.1";

/// The first PEM block in `text` (from its `-----BEGIN ` line to the end of
/// its `-----END ` line), so that explanatory text around it, as
/// `openssl` sometimes writes, does not matter.
fn first_pem_block(text: &str) -> Option<&str> {
    let start = text.find("-----BEGIN ")?;
    let end_marker = start + text[start..].find("-----END ")?;
    let end = text[end_marker..]
        .find('\n')
        .map_or(text.len(), |i| end_marker + i + 1);
    Some(&text[start..end])
}

impl PrivateKey {
    /// Parse a PEM key file named `name` (used in error texts only).
    /// `password` is used only when the file is encrypted.
    pub fn from_pem(
        name: &str,
        pem: &[u8],
        password: Option<&str>,
    ) -> Result<PrivateKey, KeyError> {
        let text = std::str::from_utf8(pem)
            .map_err(|_| KeyError::Unsupported(format!("{name}: not a PEM text file")))?;
        let block = first_pem_block(text)
            .ok_or_else(|| KeyError::Unsupported(format!("{name}: no PEM block found")))?;
        if block.contains("Proc-Type:") {
            return Err(KeyError::Unsupported(format!(
                "{name}: legacy OpenSSL-encrypted PEM is not supported; \
                 convert it to encrypted PKCS#8 (openssl pkcs8 -topk8)"
            )));
        }
        let (label, doc) = SecretDocument::from_pem(block)
            .map_err(|e| KeyError::Unsupported(format!("{name}: malformed PEM ({e})")))?;
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(name, doc.as_bytes()),
            "ENCRYPTED PRIVATE KEY" => {
                let password = password.ok_or_else(|| {
                    KeyError::Password(format!(
                        "key file {name} is encrypted and no password is configured"
                    ))
                })?;
                let info =
                    pkcs8::EncryptedPrivateKeyInfo::from_der(doc.as_bytes()).map_err(|e| {
                        KeyError::Unsupported(format!("{name}: malformed encrypted key ({e})"))
                    })?;
                let wrong_password =
                    || KeyError::Password(format!("wrong password for key file {name}"));
                let decrypted = match info.decrypt(password) {
                    Ok(d) => d,
                    // pkcs5 0.7 reports a bad CBC padding (the usual
                    // symptom of a wrong password) as `EncryptFailed`.
                    Err(pkcs8::Error::EncryptedPrivateKey(
                        pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed,
                    )) => return Err(wrong_password()),
                    // A wrong password can also yield bytes that pass the
                    // padding check but are not DER.
                    Err(pkcs8::Error::Asn1(_)) => return Err(wrong_password()),
                    Err(e) => {
                        return Err(KeyError::Unsupported(format!(
                            "{name}: unsupported key encryption ({e})"
                        )))
                    }
                };
                if pkcs8::PrivateKeyInfo::from_der(decrypted.as_bytes()).is_err() {
                    return Err(wrong_password());
                }
                Self::from_pkcs8_der(name, decrypted.as_bytes())
            }
            "RSA PRIVATE KEY" => {
                use rsa::pkcs1::DecodeRsaPrivateKey as _;
                rsa::RsaPrivateKey::from_pkcs1_der(doc.as_bytes())
                    .map(Self::rsa)
                    .map_err(|e| {
                        KeyError::Unsupported(format!("{name}: malformed PKCS#1 RSA key ({e})"))
                    })
            }
            "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(doc.as_bytes())
                .map(|k| PrivateKey::Ecdsa(k.into()))
                .map_err(|_| {
                    KeyError::Unsupported(format!(
                        "{name}: not a SEC1 private key on the P-256 curve"
                    ))
                }),
            other => Err(KeyError::Unsupported(format!(
                "{name}: PEM label '{other}' is not a private key this plugin supports"
            ))),
        }
    }

    fn rsa(key: rsa::RsaPrivateKey) -> PrivateKey {
        PrivateKey::Rsa(Box::new(rsa::pss::SigningKey::new_with_salt_len(
            key,
            PSS_SALT_LEN,
        )))
    }

    fn from_pkcs8_der(name: &str, der: &[u8]) -> Result<PrivateKey, KeyError> {
        let info = pkcs8::PrivateKeyInfo::from_der(der)
            .map_err(|e| KeyError::Unsupported(format!("{name}: malformed PKCS#8 ({e})")))?;
        let oid = info.algorithm.oid.to_string();
        let bad = |e: &dyn std::fmt::Display| KeyError::Unsupported(format!("{name}: {e}"));
        match oid.as_str() {
            OID_ED25519 => ed25519_dalek::SigningKey::from_pkcs8_der(der)
                .map(PrivateKey::Ed25519)
                .map_err(|e| bad(&e)),
            OID_EC => {
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map(|o| o.to_string())
                    .unwrap_or_default();
                if curve != OID_P256 {
                    return Err(KeyError::Unsupported(format!(
                        "{name}: only ECDSA keys on P-256 (ecdsa-sha2-nistp256) are supported, not curve {curve}"
                    )));
                }
                p256::SecretKey::from_pkcs8_der(der)
                    .map(|k| PrivateKey::Ecdsa(k.into()))
                    .map_err(|e| bad(&e))
            }
            OID_RSA => {
                use rsa::pkcs8::DecodePrivateKey as _;
                rsa::RsaPrivateKey::from_pkcs8_der(der)
                    .map(Self::rsa)
                    .map_err(|e| bad(&e))
            }
            other => Err(KeyError::Unsupported(format!(
                "{name}: key algorithm {other} is not supported (ed25519, ecdsa P-256, rsa)"
            ))),
        }
    }

    /// TUF key type.
    pub fn keytype(&self) -> &'static str {
        match self {
            PrivateKey::Ed25519(_) => "ed25519",
            PrivateKey::Ecdsa(_) => "ecdsa",
            PrivateKey::Rsa(_) => "rsa",
        }
    }

    /// keytype, scheme and `keyval.public` exactly as securesystemslib
    /// writes them: lowercase hex of the raw key for Ed25519, PEM
    /// SubjectPublicKeyInfo with `\n` line endings (and a final newline)
    /// otherwise, as python `cryptography` produces it.
    pub fn public(&self) -> Result<Public, KeyError> {
        let pem_err =
            |e: &dyn std::fmt::Display| KeyError::Internal(format!("encoding public key: {e}"));
        Ok(match self {
            PrivateKey::Ed25519(k) => Public {
                keytype: "ed25519",
                scheme: "ed25519",
                public: hex(k.verifying_key().as_bytes()),
            },
            PrivateKey::Ecdsa(k) => Public {
                keytype: "ecdsa",
                scheme: "ecdsa-sha2-nistp256",
                public: k
                    .verifying_key()
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| pem_err(&e))?,
            },
            PrivateKey::Rsa(k) => Public {
                keytype: "rsa",
                scheme: "rsassa-pss-sha256",
                public: rsa::RsaPublicKey::from(k.as_ref().as_ref())
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| pem_err(&e))?,
            },
        })
    }

    /// Sign `message` per the key's TUF scheme.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        Ok(match self {
            PrivateKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            PrivateKey::Ecdsa(k) => {
                // RFC 6979 deterministic nonce; SHA-256 of the message.
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            PrivateKey::Rsa(k) => {
                let mut rng = SystemRng::new().map_err(KeyError::Internal)?;
                k.try_sign_with_rng(&mut rng, message)
                    .map_err(|e| KeyError::Internal(format!("RSA-PSS signing failed: {e}")))?
                    .to_vec()
            }
        })
    }
}

/// The system's secure random source (wasi:random on wasm32-wasip2), as the
/// `rand_core` 0.6 generator the `rsa` crate takes for the PSS salt and
/// blinding.
struct SystemRng;

impl SystemRng {
    /// Checks the source works, so that the infallible `fill_bytes` below
    /// cannot fail in practice (wasi:random cannot fail at all).
    fn new() -> Result<SystemRng, String> {
        getrandom::fill(&mut [0u8; 1])
            .map_err(|e| format!("no secure randomness available: {e}"))?;
        Ok(SystemRng)
    }
}

impl rand_core::RngCore for SystemRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // Signing with predictable randomness is worse than aborting the
        // call, and `SystemRng::new` already proved the source works.
        if let Err(e) = getrandom::fill(dest) {
            panic!("secure random source failed after working: {e}");
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        const CODE: std::num::NonZeroU32 =
            match std::num::NonZeroU32::new(rand_core::Error::CUSTOM_START) {
                Some(code) => code,
                None => std::num::NonZeroU32::MIN,
            };
        getrandom::fill(dest).map_err(|_| rand_core::Error::from(CODE))
    }
}

impl rand_core::CryptoRng for SystemRng {}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
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

    fn python(script: &str, args: &[&str], stdin: &str) -> String {
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
            .map(|(kind, public, msg, sig)| serde_json::json!({"kind": kind, "public": public, "msg": hex(msg), "sig": hex(sig)}))
            .collect();
        let out = python(VERIFY, &[], &serde_json::Value::from(json).to_string());
        out.lines().map(|l| l == "ok").collect()
    }

    #[test]
    fn every_supported_file_signs_verifiably_and_matches_python_public_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let keys = generate_keys(dir.path());
        // 8 from python, 3 more from the openssl CLI when it is installed.
        assert!(keys.len() >= 8, "{keys:?}");
        let msg = br#"{"_type":"timestamp","spec_version":"1.0.31","version":7}"#.to_vec();
        let mut items = Vec::new();
        for (file, kind, public, encrypted) in &keys {
            let pem = std::fs::read(dir.path().join(file)).unwrap();
            let password = encrypted.then_some(PASSWORD);
            let key = PrivateKey::from_pem(file, &pem, password)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            let p = key.public().unwrap();
            assert_eq!(p.keytype, kind, "{file}");
            assert_eq!(
                &p.public, public,
                "{file}: public key encoding matches python byte for byte"
            );
            let scheme = match kind.as_str() {
                "ed25519" => "ed25519",
                "ecdsa" => "ecdsa-sha2-nistp256",
                _ => "rsassa-pss-sha256",
            };
            assert_eq!(p.scheme, scheme, "{file}");
            let sig = key.sign(&msg).unwrap();
            if kind == "ed25519" {
                assert_eq!(sig.len(), 64, "raw Ed25519 signature");
            }
            if kind == "ecdsa" {
                assert_eq!(sig[0], 0x30, "DER SEQUENCE");
            }
            items.push((kind.clone(), public.clone(), msg.clone(), sig.clone()));
            // The signature binds the message.
            items.push((kind.clone(), public.clone(), b"tampered".to_vec(), sig));
        }
        let verdicts = python_verifies(&items);
        assert_eq!(verdicts.len(), items.len());
        for (i, (file, ..)) in keys.iter().enumerate() {
            assert!(verdicts[2 * i], "{file}: python verifies our signature");
            assert!(
                !verdicts[2 * i + 1],
                "{file}: python rejects it for another message"
            );
        }
    }

    #[test]
    fn rsa_pss_signatures_are_randomized_with_a_32_byte_salt() {
        let dir = tempfile::tempdir().unwrap();
        let keys = generate_keys(dir.path());
        let (_, _, public, _) = keys.iter().find(|k| k.0 == "rsa").unwrap();
        let key =
            PrivateKey::from_pem("rsa", &std::fs::read(dir.path().join("rsa")).unwrap(), None)
                .unwrap();
        let a = key.sign(b"m").unwrap();
        let b = key.sign(b"m").unwrap();
        assert_ne!(a, b, "fresh salt per signature");
        assert_eq!(a.len(), 256);
        let v = python_verifies(&[("rsa".into(), public.clone(), b"m".to_vec(), a)]);
        assert_eq!(v, [true]);
    }

    #[test]
    fn wrong_or_missing_password_is_reported_without_the_password() {
        let dir = tempfile::tempdir().unwrap();
        generate_keys(dir.path());
        for file in [
            "ed25519-enc",
            "ecdsa-enc",
            "rsa-enc",
            "ed25519-scrypt",
            "rsa-3des",
        ] {
            let Ok(pem) = std::fs::read(dir.path().join(file)) else {
                continue; // openssl-made files are absent without the openssl CLI
            };
            match PrivateKey::from_pem(file, &pem, Some("not-the-password")) {
                Err(KeyError::Password(m)) => {
                    assert_eq!(m, format!("wrong password for key file {file}"));
                }
                other => panic!("{file}: {:?}", other.err()),
            }
            match PrivateKey::from_pem(file, &pem, None) {
                Err(KeyError::Password(m)) => {
                    assert!(m.contains(file) && m.contains("no password"), "{m}")
                }
                other => panic!("{file}: {:?}", other.err()),
            }
        }
    }

    #[test]
    fn files_that_are_not_supported_keys_are_clear_errors_not_panics() {
        let p384 = python(
            r#"
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import ec
k = ec.generate_private_key(ec.SECP384R1())
print("===".join([
    k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode(),
    k.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()).decode(),
    k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode()]))
"#,
            &[],
            "",
        );
        let blocks: Vec<&str> = p384.split("===").collect();
        assert_eq!(blocks.len(), 3, "{p384}");
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("p384-pkcs8", blocks[0].as_bytes().to_vec(), "P-256"),
            ("p384-sec1", blocks[1].as_bytes().to_vec(), "P-256"),
            ("public", blocks[2].as_bytes().to_vec(), "PUBLIC KEY"),
            ("text", b"not a pem".to_vec(), "no PEM block"),
            ("binary", vec![0xff, 0xfe, 0x00], "not a PEM text file"),
            ("empty", vec![], "no PEM block"),
            (
                "truncated",
                b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n".to_vec(),
                "truncated",
            ),
            (
                "garbage-der",
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec(),
                "garbage-der",
            ),
            (
                "legacy-enc",
                b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"
                    .to_vec(),
                "legacy",
            ),
        ];
        for (name, pem, expect) in cases {
            match PrivateKey::from_pem(name, &pem, Some(PASSWORD)) {
                Err(KeyError::Unsupported(m)) => {
                    assert!(m.starts_with(name), "{m}");
                    if expect != name && expect != "truncated" {
                        assert!(m.contains(expect), "{name}: {m}");
                    }
                }
                other => panic!("{name}: {:?}", other.map(|k| k.keytype())),
            }
        }
    }

    #[test]
    fn text_around_the_pem_block_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        generate_keys(dir.path());
        let pem = std::fs::read_to_string(dir.path().join("ecdsa")).unwrap();
        let wrapped = format!("Bag Attributes\n    friendlyName: online\n{pem}trailing notes\n");
        let key = PrivateKey::from_pem("ecdsa", wrapped.as_bytes(), None).unwrap();
        assert_eq!(key.keytype(), "ecdsa");
        assert_eq!(
            format!("{key:?}"),
            "PrivateKey(ecdsa)",
            "Debug shows no key material"
        );
        // Files edited on Windows.
        let crlf = pem.replace('\n', "\r\n");
        assert!(PrivateKey::from_pem("crlf", crlf.as_bytes(), None).is_ok());
    }
}

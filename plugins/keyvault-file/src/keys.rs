//! Private keys from PEM files and signing per TUF scheme, independent of
//! WebAssembly so it is tested natively against python `cryptography`.
//!
//! Accepted files: PKCS#8 `PRIVATE KEY` (upstream RSTUF's `fn:` keys) and
//! `ENCRYPTED PRIVATE KEY` (PBES2, as python `cryptography` writes with
//! `BestAvailableEncryption`), for Ed25519, ECDSA P-256 and RSA.

use ed25519_dalek::pkcs8::DecodePrivateKey;
use p256::pkcs8::{EncodePublicKey, LineEnding};
use pkcs8::der::Decode;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use zeroize::Zeroizing;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The file is not a private key we understand.
    Unsupported(String),
    /// Encrypted and no (or the wrong) password.
    Password(String),
    Internal(String),
}

/// A loaded private key.
pub enum PrivateKey {
    Ed25519(ed25519_dalek::SigningKey),
    Ecdsa(p256::ecdsa::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

/// TUF's view of the public half.
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

impl PrivateKey {
    /// Parse a PEM file; `password` is used only for encrypted keys.
    pub fn from_pem(name: &str, pem: &str, password: Option<&str>) -> Result<PrivateKey, KeyError> {
        let (label, der) = pkcs8::Document::from_pem(pem)
            .map_err(|e| KeyError::Unsupported(format!("{name}: not a PEM private key ({e})")))?;
        let der: Zeroizing<Vec<u8>> = match label {
            "PRIVATE KEY" => Zeroizing::new(der.as_bytes().to_vec()),
            "ENCRYPTED PRIVATE KEY" => {
                let password = password
                    .ok_or_else(|| KeyError::Password(format!("key file {name} is encrypted and no password is configured")))?;
                let info = pkcs8::EncryptedPrivateKeyInfo::from_der(der.as_bytes())
                    .map_err(|e| KeyError::Unsupported(format!("{name}: malformed encrypted key ({e})")))?;
                let doc = info
                    .decrypt(password)
                    .map_err(|_| KeyError::Password(format!("wrong password for key file {name}")))?;
                Zeroizing::new(doc.as_bytes().to_vec())
            }
            other => return Err(KeyError::Unsupported(format!("{name}: PEM label '{other}' is not a PKCS#8 private key"))),
        };
        Self::from_pkcs8_der(name, &der)
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
                    return Err(KeyError::Unsupported(format!("{name}: only the P-256 curve is supported (got {curve})")));
                }
                p256::SecretKey::from_pkcs8_der(der)
                    .map(|k| PrivateKey::Ecdsa(k.into()))
                    .map_err(|e| bad(&e))
            }
            OID_RSA => {
                use rsa::pkcs8::DecodePrivateKey as _;
                rsa::RsaPrivateKey::from_pkcs8_der(der)
                    .map(|k| PrivateKey::Rsa(Box::new(k)))
                    .map_err(|e| bad(&e))
            }
            other => Err(KeyError::Unsupported(format!("{name}: key algorithm {other} is not supported"))),
        }
    }

    /// keytype, scheme and `keyval.public` as securesystemslib writes them.
    pub fn public(&self) -> Result<Public, KeyError> {
        let pem_err = |e: &dyn std::fmt::Display| KeyError::Internal(format!("encoding public key: {e}"));
        Ok(match self {
            PrivateKey::Ed25519(k) => Public {
                keytype: "ed25519",
                scheme: "ed25519",
                public: hex(k.verifying_key().as_bytes()),
            },
            PrivateKey::Ecdsa(k) => Public {
                keytype: "ecdsa",
                scheme: "ecdsa-sha2-nistp256",
                public: k.verifying_key().to_public_key_pem(LineEnding::LF).map_err(|e| pem_err(&e))?,
            },
            PrivateKey::Rsa(k) => Public {
                keytype: "rsa",
                scheme: "rsassa-pss-sha256",
                public: rsa::RsaPublicKey::from(k.as_ref())
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| pem_err(&e))?,
            },
        })
    }

    /// Sign per the key's TUF scheme: raw Ed25519; DER ECDSA over SHA-256;
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        Ok(match self {
            PrivateKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            PrivateKey::Ecdsa(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            PrivateKey::Rsa(k) => {
                let signer = rsa::pss::SigningKey::<sha2::Sha256>::new_with_salt_len(k.as_ref().clone(), 32);
                let mut rng = rand_core::OsRng;
                signer
                    .try_sign_with_rng(&mut rng, message)
                    .map_err(|e| KeyError::Internal(format!("RSA-PSS signing failed: {e}")))?
                    .to_vec()
            }
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn python(script: &str, args: &[&str]) -> String {
        let out = Command::new("python3").arg("-c").arg(script).args(args).output().expect("python3");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    const GEN: &str = r#"
import sys, json
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import ed25519, ec, rsa
kind, pw = sys.argv[1], sys.argv[2].encode()
k = {"ed25519": lambda: ed25519.Ed25519PrivateKey.generate(),
     "ecdsa": lambda: ec.generate_private_key(ec.SECP256R1()),
     "rsa": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)}[kind]()
enc = s.BestAvailableEncryption(pw) if pw else s.NoEncryption()
pub = k.public_key()
public = pub.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw).hex() if kind == "ed25519" else pub.public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode()
print(json.dumps({"pem": k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, enc).decode(), "public": public}))
"#;

    const VERIFY: &str = r#"
import sys
from cryptography.hazmat.primitives import hashes, serialization as s
from cryptography.hazmat.primitives.asymmetric import ed25519, ec, padding
kind, public, msg, sig = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), bytes.fromhex(sys.argv[4])
if kind == "ed25519":
    ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(sig, msg)
elif kind == "ecdsa":
    s.load_pem_public_key(public.encode()).verify(sig, msg, ec.ECDSA(hashes.SHA256()))
else:
    s.load_pem_public_key(public.encode()).verify(sig, msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
print("ok")
"#;

    #[test]
    fn all_key_types_sign_verifiably_and_match_python_public_encoding() {
        for kind in ["ed25519", "ecdsa", "rsa"] {
            for pw in ["", "hunter2"] {
                let gen: serde_json::Value = serde_json::from_str(&python(GEN, &[kind, pw])).unwrap();
                let pem = gen["pem"].as_str().unwrap();
                let key = PrivateKey::from_pem("k", pem, Some(pw).filter(|p| !p.is_empty())).unwrap();
                let public = key.public().unwrap();
                assert_eq!(public.keytype, kind);
                assert_eq!(public.public, gen["public"].as_str().unwrap(), "{kind} public encoding");
                let msg = b"canonical signed bytes";
                let sig = key.sign(msg).unwrap();
                let out = python(VERIFY, &[kind, &public.public, &hex(msg), &hex(&sig)]);
                assert_eq!(out.trim(), "ok", "{kind}");
            }
        }
    }

    #[test]
    fn wrong_or_missing_password_is_reported_without_the_password() {
        let gen: serde_json::Value = serde_json::from_str(&python(GEN, &["ed25519", "right-one"])).unwrap();
        let pem = gen["pem"].as_str().unwrap();
        match PrivateKey::from_pem("k", pem, Some("wrong-one")) {
            Err(KeyError::Password(m)) => assert!(!m.contains("wrong-one") && m.contains("k")),
            other => panic!("{:?}", other.err()),
        }
        assert!(matches!(PrivateKey::from_pem("k", pem, None), Err(KeyError::Password(_))));
        assert!(matches!(PrivateKey::from_pem("k", "not a pem", None), Err(KeyError::Unsupported(_))));
    }
}

//! TUF keys: spec-exact keyids and signature verification.
//!
//! A key is kept as the JSON object it arrived as, so custom fields such as
//! `x-rstuf-key-name` and `x-rstuf-online-key-uri` survive, and the keyid is
//! the hex SHA-256 of the canonical JSON of that whole object, custom fields
//! included (the tough client rejects anything else).

use crate::canonical::to_canonical_vec;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("key is not a JSON object")]
    NotObject,
    #[error("key field '{0}' is missing or not a string")]
    Field(&'static str),
    #[error("key type '{keytype}' with scheme '{scheme}' is not supported (supported: ed25519/ed25519, ecdsa/ecdsa-sha2-nistp256|384|521, rsa/rsassa-pss-sha256|384|512, rsa/rsa-pkcs1v15-sha256|384|512)")]
    Unsupported { keytype: String, scheme: String },
    #[error("malformed public key: {0}")]
    Public(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("signature is not valid hex")]
    Hex,
    #[error("malformed signature: {0}")]
    Malformed(String),
    #[error("signature does not verify")]
    Invalid,
}

/// The signature schemes this engine verifies: securesystemslib's, but
/// for SHA-224 RSA and ML-DSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Ed25519,
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    RsaPssSha256,
    RsaPss(Sha),
    RsaPkcs1v15(Sha),
}

/// The digest of an RSA scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sha {
    Sha256,
    Sha384,
    Sha512,
}

impl Scheme {
    /// The scheme of a `keytype`/`scheme` pair (`ecdsa` keys may also
    /// carry the scheme as their keytype, as older securesystemslib wrote).
    pub fn of(keytype: &str, scheme: &str) -> Option<Scheme> {
        let ecdsa = |name: &str| keytype == "ecdsa" || keytype == name;
        Some(match scheme {
            "ed25519" if keytype == "ed25519" => Scheme::Ed25519,
            "ecdsa-sha2-nistp256" if ecdsa(scheme) => Scheme::EcdsaP256,
            "ecdsa-sha2-nistp384" if ecdsa(scheme) => Scheme::EcdsaP384,
            "ecdsa-sha2-nistp521" if ecdsa(scheme) => Scheme::EcdsaP521,
            _ if keytype != "rsa" => return None,
            "rsassa-pss-sha256" => Scheme::RsaPssSha256,
            "rsassa-pss-sha384" => Scheme::RsaPss(Sha::Sha384),
            "rsassa-pss-sha512" => Scheme::RsaPss(Sha::Sha512),
            "rsa-pkcs1v15-sha256" => Scheme::RsaPkcs1v15(Sha::Sha256),
            "rsa-pkcs1v15-sha384" => Scheme::RsaPkcs1v15(Sha::Sha384),
            "rsa-pkcs1v15-sha512" => Scheme::RsaPkcs1v15(Sha::Sha512),
            _ => return None,
        })
    }
}

/// A TUF public key.
#[derive(Debug, Clone)]
pub struct Key {
    value: Map<String, Value>,
    scheme: Scheme,
    /// The decoded public key, parsed on first use and shared by clones
    /// (PEM and DER decoding cost more than an Ed25519 verification).
    parsed: Arc<OnceLock<Result<Public, KeyError>>>,
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.scheme == other.scheme && self.value == other.value
    }
}

/// Decoded public key material.
enum Public {
    Ed25519(ed25519_dalek::VerifyingKey),
    EcdsaP256(p256::ecdsa::VerifyingKey),
    EcdsaP384(p384::ecdsa::VerifyingKey),
    EcdsaP521(Box<p521::ecdsa::VerifyingKey>),
    Rsa(rsa::RsaPublicKey),
}

impl std::fmt::Debug for Public {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // p521's key has no Debug; the material is public anyway, the
        // variant is what matters in a message.
        let name = match self {
            Public::Ed25519(_) => "ed25519",
            Public::EcdsaP256(_) => "ecdsa-p256",
            Public::EcdsaP384(_) => "ecdsa-p384",
            Public::EcdsaP521(_) => "ecdsa-p521",
            Public::Rsa(_) => "rsa",
        };
        f.write_str(name)
    }
}

impl Public {
    fn parse(scheme: Scheme, public: &str) -> Result<Public, KeyError> {
        match scheme {
            Scheme::Ed25519 => {
                let bytes = hex::decode(public)
                    .map_err(|_| KeyError::Public("ed25519 public key is not hex".into()))?;
                let bytes: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| KeyError::Public("ed25519 public key must be 32 bytes".into()))?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map(Public::Ed25519)
                    .map_err(|e| KeyError::Public(e.to_string()))
            }
            Scheme::EcdsaP256 => {
                use p256::pkcs8::DecodePublicKey;
                p256::ecdsa::VerifyingKey::from_public_key_pem(public)
                    .map(Public::EcdsaP256)
                    .map_err(|e| KeyError::Public(format!("ecdsa: {e}")))
            }
            Scheme::EcdsaP384 => {
                use p384::pkcs8::DecodePublicKey;
                p384::ecdsa::VerifyingKey::from_public_key_pem(public)
                    .map(Public::EcdsaP384)
                    .map_err(|e| KeyError::Public(format!("ecdsa p384: {e}")))
            }
            Scheme::EcdsaP521 => {
                use p521::pkcs8::DecodePublicKey;
                let point = p521::PublicKey::from_public_key_pem(public)
                    .map_err(|e| KeyError::Public(format!("ecdsa p521: {e}")))?;
                p521::ecdsa::VerifyingKey::from_affine(*point.as_affine())
                    .map(|k| Public::EcdsaP521(Box::new(k)))
                    .map_err(|e| KeyError::Public(format!("ecdsa p521: {e}")))
            }
            Scheme::RsaPssSha256 | Scheme::RsaPss(_) | Scheme::RsaPkcs1v15(_) => {
                use rsa::pkcs8::DecodePublicKey;
                rsa::RsaPublicKey::from_public_key_pem(public)
                    .map(Public::Rsa)
                    .map_err(|e| KeyError::Public(format!("rsa: {e}")))
            }
        }
    }
}

impl Key {
    /// Parse a key object, keeping every field.
    pub fn from_value(v: &Value) -> Result<Key, KeyError> {
        let value = v.as_object().ok_or(KeyError::NotObject)?.clone();
        let text = |f: &'static str| {
            value
                .get(f)
                .and_then(Value::as_str)
                .ok_or(KeyError::Field(f))
        };
        let keytype = text("keytype")?;
        let scheme = text("scheme")?;
        value
            .get("keyval")
            .and_then(|k| k.get("public"))
            .and_then(Value::as_str)
            .ok_or(KeyError::Field("keyval.public"))?;
        let scheme = Scheme::of(keytype, scheme).ok_or_else(|| KeyError::Unsupported {
            keytype: keytype.into(),
            scheme: scheme.into(),
        })?;
        Ok(Key {
            value,
            scheme,
            parsed: Arc::default(),
        })
    }

    /// Build a key from the parts a key vault reports.
    pub fn new(
        keytype: &str,
        scheme: &str,
        public: &str,
        extra: Map<String, Value>,
    ) -> Result<Key, KeyError> {
        let mut value = extra;
        value.insert("keytype".into(), keytype.into());
        value.insert("scheme".into(), scheme.into());
        value.insert("keyval".into(), serde_json::json!({ "public": public }));
        Key::from_value(&Value::Object(value))
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    pub fn keytype(&self) -> &str {
        self.value
            .get("keytype")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn scheme_name(&self) -> &str {
        self.value
            .get("scheme")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn public(&self) -> &str {
        self.value
            .get("keyval")
            .and_then(|k| k.get("public"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// A custom field such as `x-rstuf-online-key-uri`.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.value.get(name)
    }

    /// `x-rstuf-online-key-uri`: where the online key's private half lives.
    pub fn online_uri(&self) -> Option<&str> {
        self.field("x-rstuf-online-key-uri").and_then(Value::as_str)
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.value.clone())
    }

    /// Hex SHA-256 of the canonical JSON of the whole key object.
    pub fn keyid(&self) -> String {
        let bytes = to_canonical_vec(&Value::Object(self.value.clone())).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))
    }

    /// Is `public` the same key material (ignoring PEM line-ending noise)?
    pub fn same_material(&self, other: &Key) -> bool {
        self.scheme == other.scheme && self.public().trim() == other.public().trim()
    }

    /// Verify `sig_hex` over `message` per the key's scheme.
    pub fn verify(&self, message: &[u8], sig_hex: &str) -> Result<(), VerifyError> {
        let sig = hex::decode(sig_hex).map_err(|_| VerifyError::Hex)?;
        let public = self
            .parsed
            .get_or_init(|| Public::parse(self.scheme, self.public()))
            .as_ref()
            .map_err(|e| VerifyError::Key(e.clone()))?;
        match public {
            Public::Ed25519(vk) => {
                let sig = ed25519_dalek::Signature::from_slice(&sig)
                    .map_err(|e| VerifyError::Malformed(e.to_string()))?;
                vk.verify_strict(message, &sig)
                    .map_err(|_| VerifyError::Invalid)
            }
            Public::EcdsaP256(vk) => {
                use p256::ecdsa::signature::Verifier;
                let sig = p256::ecdsa::Signature::from_der(&sig)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(&sig))
                    .map_err(|e| VerifyError::Malformed(e.to_string()))?;
                vk.verify(message, &sig).map_err(|_| VerifyError::Invalid)
            }
            Public::EcdsaP384(vk) => {
                use p384::ecdsa::signature::Verifier;
                let sig = p384::ecdsa::Signature::from_der(&sig)
                    .or_else(|_| p384::ecdsa::Signature::from_slice(&sig))
                    .map_err(|e| VerifyError::Malformed(e.to_string()))?;
                vk.verify(message, &sig).map_err(|_| VerifyError::Invalid)
            }
            Public::EcdsaP521(vk) => {
                use p521::ecdsa::signature::Verifier;
                let sig = p521::ecdsa::Signature::from_der(&sig)
                    .or_else(|_| p521::ecdsa::Signature::from_slice(&sig))
                    .map_err(|e| VerifyError::Malformed(e.to_string()))?;
                vk.verify(message, &sig).map_err(|_| VerifyError::Invalid)
            }
            Public::Rsa(pk) => match self.scheme {
                Scheme::RsaPkcs1v15(sha) => {
                    let (digest, padding) = match sha {
                        Sha::Sha256 => (
                            digest::<Sha256>(message),
                            rsa::Pkcs1v15Sign::new::<Sha256>(),
                        ),
                        Sha::Sha384 => (
                            digest::<sha2::Sha384>(message),
                            rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                        ),
                        Sha::Sha512 => (
                            digest::<sha2::Sha512>(message),
                            rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                        ),
                    };
                    pk.verify(padding, &digest, &sig)
                        .map_err(|_| VerifyError::Invalid)
                }
                Scheme::RsaPss(Sha::Sha384) => verify_pss::<sha2::Sha384>(pk, message, &sig),
                Scheme::RsaPss(Sha::Sha512) => verify_pss::<sha2::Sha512>(pk, message, &sig),
                _ => verify_pss::<Sha256>(pk, message, &sig),
            },
        }
    }
}

fn digest<D: Digest>(message: &[u8]) -> Vec<u8> {
    D::digest(message).to_vec()
}

/// RSASSA-PSS with MGF1 over the same digest. securesystemslib verifies
/// with PSS.AUTO: any salt length the signer chose (Vault signs with the
/// maximum, most signers with the digest length). The salt length is read
/// off the signature, then the crate verifies with it.
fn verify_pss<D>(pk: &rsa::RsaPublicKey, message: &[u8], sig: &[u8]) -> Result<(), VerifyError>
where
    D: Digest + rsa::signature::digest::DynDigest + Send + Sync + 'static,
{
    let digest = D::digest(message);
    let salt_len = pss_salt_len::<D>(pk, sig).ok_or(VerifyError::Invalid)?;
    pk.verify(rsa::Pss::new_with_salt::<D>(salt_len), &digest, sig)
        .map_err(|_| VerifyError::Invalid)
}

/// The salt length of an RSASSA-PSS (digest `D`, MGF1 with `D`) signature:
/// steps 1-10 of EMSA-PSS-VERIFY (RFC 8017 §9.1.2) up to locating the
/// `0x01` separator. `None` when the encoding is malformed. This only picks
/// the salt length; the signature itself is verified by `rsa`.
fn pss_salt_len<D: Digest>(pk: &rsa::RsaPublicKey, sig: &[u8]) -> Option<usize> {
    use rsa::traits::PublicKeyParts;
    let h_len: usize = <D as Digest>::output_size();
    let key_bits = pk.n().bits();
    let key_len = key_bits.div_ceil(8);
    if sig.len() != key_len {
        return None;
    }
    let s = rsa::BigUint::from_bytes_be(sig);
    if &s >= pk.n() {
        return None;
    }
    let m = rsa::hazmat::rsa_encrypt(pk, &s).ok()?.to_bytes_be();
    let em_bits = key_bits - 1;
    let em_len = em_bits.div_ceil(8);
    if m.len() > em_len || em_len < h_len + 2 {
        return None;
    }
    let mut em = vec![0u8; em_len - m.len()];
    em.extend_from_slice(&m);
    if em[em_len - 1] != 0xbc {
        return None;
    }
    let (masked_db, rest) = em.split_at(em_len - h_len - 1);
    let h = &rest[..h_len];
    let mut db = masked_db.to_vec();
    mgf1_xor::<D>(&mut db, h);
    db[0] &= 0xff >> (8 * em_len - em_bits);
    let one = db.iter().position(|&b| b != 0)?;
    (db[one] == 0x01).then(|| db.len() - one - 1)
}

fn mgf1_xor<D: Digest>(out: &mut [u8], seed: &[u8]) {
    for (counter, chunk) in out.chunks_mut(<D as Digest>::output_size()).enumerate() {
        let mask = D::new()
            .chain_update(seed)
            .chain_update((counter as u32).to_be_bytes())
            .finalize();
        chunk.iter_mut().zip(mask).for_each(|(b, m)| *b ^= m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keyid_covers_custom_fields() {
        let a = Key::from_value(
            &json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "00"}}),
        )
        .unwrap();
        let b = Key::from_value(&json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "00"}, "x-rstuf-key-name": "k"})).unwrap();
        assert_ne!(a.keyid(), b.keyid());
        // sha256 of {"keytype":"ed25519","keyval":{"public":"00"},"scheme":"ed25519"}
        let expected = hex::encode(Sha256::digest(
            br#"{"keytype":"ed25519","keyval":{"public":"00"},"scheme":"ed25519"}"#,
        ));
        assert_eq!(a.keyid(), expected);
    }

    #[test]
    fn ed25519_round_trip_and_rejection() {
        use ed25519_dalek::Signer;
        let sk = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let key = Key::new(
            "ed25519",
            "ed25519",
            &hex::encode(sk.verifying_key().as_bytes()),
            Map::new(),
        )
        .unwrap();
        let sig = hex::encode(sk.sign(b"msg").to_bytes());
        assert_eq!(key.verify(b"msg", &sig), Ok(()));
        assert_eq!(key.verify(b"other", &sig), Err(VerifyError::Invalid));
        assert_eq!(key.verify(b"msg", "zz"), Err(VerifyError::Hex));
        assert!(matches!(
            key.verify(b"msg", "00"),
            Err(VerifyError::Malformed(_))
        ));
    }

    #[test]
    fn unsupported_and_malformed_keys_are_errors() {
        assert!(matches!(
            Key::from_value(&json!({"keytype": "dsa", "scheme": "x", "keyval": {"public": "00"}})),
            Err(KeyError::Unsupported { .. })
        ));
        assert_eq!(
            Key::from_value(&json!({"keytype": "ed25519"})),
            Err(KeyError::Field("scheme"))
        );
        let k = Key::from_value(
            &json!({"keytype": "rsa", "scheme": "rsassa-pss-sha256", "keyval": {"public": "nope"}}),
        )
        .unwrap();
        assert!(matches!(
            k.verify(b"m", "00"),
            Err(VerifyError::Key(KeyError::Public(_)))
        ));
    }

    /// Signatures made by python securesystemslib (`CryptoSigner`: Ed25519,
    /// ECDSA on P-256, P-384 and P-521, RSA with PSS and PKCS#1 v1.5 over
    /// SHA-256/384/512) and by `cryptography` with other PSS salt lengths
    /// (maximum, as Vault signs; zero) verify here, and fail on another
    /// message.
    #[test]
    fn python_made_signatures_verify() {
        let script = r#"
import json
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from securesystemslib.signer import CryptoSigner, SSlibKey
msg = b'{"_type":"targets","version":7}'
out = []
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
for priv in (ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1()),
             ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP521R1()),
             rsa_key):
    signer = CryptoSigner(priv)
    key = signer.public_key.to_dict()
    out.append({"key": key, "sig": signer.sign(msg).signature})
    if isinstance(priv, rsa.RSAPrivateKey):
        for salt in (padding.PSS.MAX_LENGTH, 0):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)
            out.append({"key": key, "sig": priv.sign(msg, pss, hashes.SHA256()).hex()})
for scheme in ("rsassa-pss-sha384", "rsassa-pss-sha512", "rsa-pkcs1v15-sha256",
               "rsa-pkcs1v15-sha384", "rsa-pkcs1v15-sha512"):
    public = SSlibKey.from_crypto(rsa_key.public_key(), scheme=scheme)
    signer = CryptoSigner(rsa_key, public)
    out.append({"key": public.to_dict(), "sig": signer.sign(msg).signature})
print(json.dumps({"msg": msg.hex(), "cases": out}))
"#;
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .output()
            .expect("python3 is required for the cross-implementation signature test");
        assert!(
            out.status.success(),
            "securesystemslib/cryptography missing? run `make setup`: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let msg = hex::decode(report["msg"].as_str().unwrap()).unwrap();
        let cases = report["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 12);
        let schemes: Vec<&str> = cases
            .iter()
            .map(|c| c["key"]["scheme"].as_str().unwrap())
            .collect();
        for s in [
            "ecdsa-sha2-nistp384",
            "ecdsa-sha2-nistp521",
            "rsa-pkcs1v15-sha256",
            "rsassa-pss-sha512",
        ] {
            assert!(schemes.contains(&s), "{schemes:?}");
        }
        for case in cases {
            let key = Key::from_value(&case["key"]).unwrap();
            let sig = case["sig"].as_str().unwrap();
            assert_eq!(key.verify(&msg, sig), Ok(()), "{case}");
            assert_eq!(
                key.verify(b"another message", sig),
                Err(VerifyError::Invalid),
                "{case}"
            );
        }
    }
}

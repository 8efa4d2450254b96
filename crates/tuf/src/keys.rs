//! TUF keys: spec-exact keyids and signature verification.
//!
//! A key is kept as the JSON object it arrived as, so custom fields such as
//! `x-rstuf-key-name` and `x-rstuf-online-key-uri` survive, and the keyid is
//! the hex SHA-256 of the canonical JSON of that whole object, custom fields
//! included (the tough client rejects anything else).

use crate::canonical::to_canonical_vec;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("key is not a JSON object")]
    NotObject,
    #[error("key field '{0}' is missing or not a string")]
    Field(&'static str),
    #[error("key type '{keytype}' with scheme '{scheme}' is not supported (supported: ed25519/ed25519, ecdsa/ecdsa-sha2-nistp256, rsa/rsassa-pss-sha256)")]
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

/// The signature schemes this engine verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Ed25519,
    EcdsaP256,
    RsaPssSha256,
}

/// A TUF public key.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    value: Map<String, Value>,
    scheme: Scheme,
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
        let scheme = match (keytype, scheme) {
            ("ed25519", "ed25519") => Scheme::Ed25519,
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => Scheme::EcdsaP256,
            ("rsa", "rsassa-pss-sha256") => Scheme::RsaPssSha256,
            _ => {
                return Err(KeyError::Unsupported {
                    keytype: keytype.into(),
                    scheme: scheme.into(),
                })
            }
        };
        Ok(Key { value, scheme })
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
        match self.scheme {
            Scheme::Ed25519 => {
                let public = hex::decode(self.public())
                    .map_err(|_| KeyError::Public("ed25519 public key is not hex".into()))?;
                let public: [u8; 32] = public
                    .try_into()
                    .map_err(|_| KeyError::Public("ed25519 public key must be 32 bytes".into()))?;
                let vk = ed25519_dalek::VerifyingKey::from_bytes(&public)
                    .map_err(|e| KeyError::Public(e.to_string()))?;
                let sig = ed25519_dalek::Signature::from_slice(&sig)
                    .map_err(|e| VerifyError::Malformed(e.to_string()))?;
                vk.verify_strict(message, &sig)
                    .map_err(|_| VerifyError::Invalid)
            }
            Scheme::EcdsaP256 => {
                use p256::ecdsa::signature::Verifier;
                use p256::pkcs8::DecodePublicKey;
                let vk = p256::ecdsa::VerifyingKey::from_public_key_pem(self.public())
                    .map_err(|e| KeyError::Public(format!("ecdsa: {e}")))?;
                let sig = p256::ecdsa::Signature::from_der(&sig)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(&sig))
                    .map_err(|e| VerifyError::Malformed(e.to_string()))?;
                vk.verify(message, &sig).map_err(|_| VerifyError::Invalid)
            }
            Scheme::RsaPssSha256 => {
                use rsa::pkcs8::DecodePublicKey;
                let pk = rsa::RsaPublicKey::from_public_key_pem(self.public())
                    .map_err(|e| KeyError::Public(format!("rsa: {e}")))?;
                let digest = Sha256::digest(message);
                pk.verify(rsa::Pss::new::<Sha256>(), &digest, &sig)
                    .map_err(|_| VerifyError::Invalid)
            }
        }
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
}

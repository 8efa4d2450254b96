//! Threshold verification of signed metadata: which authorized keys signed,
//! counted once each, and whether the threshold is met.

use crate::canonical::{to_canonical_vec, CanonicalError};
use crate::keys::{Key, KeyError};
use crate::metadata::{Authorizes, Delegations, PublicKey, RoleKeys, Root, Signature};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetadataError {
    #[error("metadata must be an object with 'signatures' (list) and 'signed' (object)")]
    Shape,
    #[error("'{0}' is not a role of the delegating metadata")]
    UnknownRole(String),
    #[error("key {keyid} in the delegating metadata is invalid: {source}")]
    Key { keyid: String, source: KeyError },
    #[error("the delegating metadata is not valid root metadata: {0}")]
    Delegator(String),
    #[error("the role definition is invalid: {0}")]
    Role(String),
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
}

/// The outcome of checking one role's signatures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    pub threshold: u64,
    /// Authorized keyids whose signature verified, one per distinct key.
    pub valid: BTreeSet<String>,
    /// Authorized keyids whose signature did not verify.
    pub invalid: BTreeSet<String>,
    /// Signatures by keyids not authorized for the role.
    pub unauthorized: BTreeSet<String>,
}

impl Verification {
    pub fn is_satisfied(&self) -> bool {
        self.valid.len() as u64 >= self.threshold
    }

    /// Signatures still needed.
    pub fn missing(&self) -> u64 {
        self.threshold.saturating_sub(self.valid.len() as u64)
    }
}

/// Check `signatures` over `signed_canonical` against `role`'s keyids and
/// threshold, with keys looked up in `keys`.
pub fn verify_role(
    keys: &BTreeMap<String, Key>,
    role: &impl Authorizes,
    signed_canonical: &[u8],
    signatures: &[Signature],
) -> Verification {
    let mut v = Verification {
        threshold: role.threshold().get(),
        ..Default::default()
    };
    for sig in signatures {
        let keyid = sig.keyid.as_str();
        if !role.keyids().contains(keyid) {
            v.unauthorized.insert(keyid.to_string());
            continue;
        }
        match keys.get(keyid) {
            Some(key) if key.verify(signed_canonical, &sig.sig).is_ok() => {
                // One key counts once, even when listed under several
                // keyids (a keyid that is not the key's hash is accepted
                // for compatibility, so it cannot be what makes it one).
                let counted = v
                    .valid
                    .iter()
                    .any(|k| keys.get(k).is_some_and(|other| other.same_material(key)));
                if !counted {
                    v.valid.insert(keyid.to_string());
                }
            }
            _ => {
                v.invalid.insert(keyid.to_string());
            }
        }
    }
    v.invalid.retain(|k| !v.valid.contains(k));
    v
}

/// What is checked of a received document: the canonical form of its
/// `signed` exactly as received, and its signatures.
struct Received {
    canonical: Vec<u8>,
    signatures: Vec<Signature>,
}

fn received(metadata: &Value) -> Result<Received, MetadataError> {
    let signed = metadata
        .get("signed")
        .filter(|s| s.is_object())
        .ok_or(MetadataError::Shape)?;
    let signatures = metadata.get("signatures").ok_or(MetadataError::Shape)?;
    let signatures = Vec::<Signature>::deserialize(signatures).map_err(|_| MetadataError::Shape)?;
    Ok(Received {
        canonical: to_canonical_vec(signed)?,
        signatures,
    })
}

/// The verification keys of a `keys` map (root or delegations).
pub fn parse_keys(
    keys: &BTreeMap<String, PublicKey>,
) -> Result<BTreeMap<String, Key>, MetadataError> {
    keys.iter()
        .map(|(keyid, key)| {
            key.to_key()
                .map(|k| (keyid.clone(), k))
                .map_err(|source| MetadataError::Key {
                    keyid: keyid.clone(),
                    source,
                })
        })
        .collect()
}

/// The keys of a root or targets `signed` object.
pub fn keys_of(signed: &Value) -> Result<BTreeMap<String, Key>, MetadataError> {
    let mut out = BTreeMap::new();
    let keys = signed
        .get("keys")
        .or_else(|| signed.get("delegations").and_then(|d| d.get("keys")))
        .and_then(Value::as_object);
    for (keyid, key) in keys.into_iter().flatten() {
        let key = Key::from_value(key).map_err(|source| MetadataError::Key {
            keyid: keyid.clone(),
            source,
        })?;
        out.insert(keyid.clone(), key);
    }
    Ok(out)
}

/// python-tuf's `verify_delegate` for top-level roles: verify `metadata`
/// (a `{signatures, signed}` document, exactly as received) for `role`
/// against the keys and threshold in `root`.
pub fn verify_top_level(
    root: &Root,
    role: &str,
    metadata: &Value,
) -> Result<Verification, MetadataError> {
    let role_keys = root
        .role(role)
        .ok_or_else(|| MetadataError::UnknownRole(role.into()))?;
    let keys = parse_keys(&root.keys)?;
    let received = received(metadata)?;
    Ok(verify_role(
        &keys,
        role_keys,
        &received.canonical,
        &received.signatures,
    ))
}

/// Verify `metadata` (as received) for a role delegated by `delegations`.
pub fn verify_delegated(
    delegations: &Delegations,
    role: &impl Authorizes,
    metadata: &Value,
) -> Result<Verification, MetadataError> {
    let keys = parse_keys(&delegations.keys)?;
    let received = received(metadata)?;
    Ok(verify_role(
        &keys,
        role,
        &received.canonical,
        &received.signatures,
    ))
}

/// [`verify_top_level`] with the root's `signed` as JSON. The root is read
/// as a typed [`Root`], so a role without a threshold, with a threshold of
/// 0 or with repeated keyids is an error, never a default.
pub fn verify_delegate(
    delegator_signed: &Value,
    role: &str,
    metadata: &Value,
) -> Result<Verification, MetadataError> {
    let root =
        Root::deserialize(delegator_signed).map_err(|e| MetadataError::Delegator(e.to_string()))?;
    verify_top_level(&root, role, metadata)
}

/// Verify `metadata` against a role definition (`keyids`, `threshold`) whose
/// keys are in `keys_holder` (root `keys` or targets `delegations.keys`).
/// The definition is read as a typed [`RoleKeys`]: a missing or zero
/// threshold is an error.
pub fn verify_with(
    keys_holder: &Value,
    role_def: &Value,
    metadata: &Value,
) -> Result<Verification, MetadataError> {
    let keys = keys_of(keys_holder)?;
    let role = RoleKeys::deserialize(role_def).map_err(|e| MetadataError::Role(e.to_string()))?;
    let received = received(metadata)?;
    Ok(verify_role(
        &keys,
        &role,
        &received.canonical,
        &received.signatures,
    ))
}

/// Keyids in `keys` whose id is not the SHA-256 of the canonical key.
pub fn mismatched_keyids(keys: &BTreeMap<String, Key>) -> Vec<String> {
    keys.iter()
        .filter(|(id, k)| k.keyid() != **id)
        .map(|(id, _)| id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer;
    use serde_json::json;

    fn signing_key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[7; 32])
    }

    fn public_key() -> Value {
        json!({"keytype": "ed25519", "scheme": "ed25519",
               "keyval": {"public": hex::encode(signing_key().verifying_key().to_bytes())}})
    }

    fn keyid() -> String {
        Key::from_value(&public_key()).unwrap().keyid()
    }

    fn root_signed(role: Value) -> Value {
        json!({"_type": "root", "spec_version": "1.0.31", "version": 1,
               "expires": "2030-01-01T00:00:00Z", "keys": {keyid(): public_key()},
               "roles": {"root": role.clone(), "targets": role.clone(),
                         "snapshot": role.clone(), "timestamp": role}})
    }

    fn signed_doc(signed: &Value, times: usize) -> Value {
        let sig = hex::encode(
            signing_key()
                .sign(&to_canonical_vec(signed).unwrap())
                .to_bytes(),
        );
        let sigs: Vec<Value> = (0..times)
            .map(|_| json!({"keyid": keyid(), "sig": sig}))
            .collect();
        json!({"signatures": sigs, "signed": signed})
    }

    #[test]
    fn a_good_signature_meets_the_threshold_once() {
        let signed = root_signed(json!({"keyids": [keyid()], "threshold": 1}));
        let v = verify_delegate(&signed, "root", &signed_doc(&signed, 2)).unwrap();
        assert!(v.is_satisfied());
        assert_eq!(v.valid.len(), 1, "a key's signatures count once");
    }

    #[test]
    fn one_key_under_two_keyids_counts_once() {
        let fake = "f".repeat(64);
        let mut signed = root_signed(json!({"keyids": [keyid(), fake], "threshold": 2}));
        signed["keys"][&fake] = public_key();
        let mut doc = signed_doc(&signed, 1);
        let mut again = doc["signatures"][0].clone();
        again["keyid"] = json!(fake);
        doc["signatures"].as_array_mut().unwrap().push(again);
        let v = verify_delegate(&signed, "root", &doc).unwrap();
        assert_eq!(v.valid.len(), 1);
        assert!(!v.is_satisfied());
        assert_eq!(v.missing(), 1);
    }

    #[test]
    fn a_missing_or_zero_threshold_is_an_error_not_a_default() {
        for role in [
            json!({"keyids": [keyid()]}),
            json!({"keyids": [keyid()], "threshold": 0}),
            json!({"keyids": [keyid(), keyid()], "threshold": 1}),
        ] {
            let signed = root_signed(role.clone());
            let doc = signed_doc(&signed, 1);
            let err = verify_delegate(&signed, "root", &doc).unwrap_err();
            assert!(matches!(err, MetadataError::Delegator(_)), "{role}: {err}");
            let err = verify_with(&signed, &role, &doc).unwrap_err();
            assert!(matches!(err, MetadataError::Role(_)), "{role}: {err}");
        }
    }

    #[test]
    fn unauthorized_and_malformed_signatures() {
        let signed = root_signed(json!({"keyids": [keyid()], "threshold": 1}));
        let mut doc = signed_doc(&signed, 1);
        doc["signatures"][0]["keyid"] = json!("someone-else");
        let v = verify_delegate(&signed, "root", &doc).unwrap();
        assert!(!v.is_satisfied());
        assert!(v.unauthorized.contains("someone-else"));
        doc["signatures"] = json!([{"keyid": 1}]);
        assert_eq!(
            verify_delegate(&signed, "root", &doc).unwrap_err(),
            MetadataError::Shape
        );
    }
}

//! Threshold verification of signed metadata: which authorized keys signed,
//! counted once each, and whether the threshold is met.

use crate::canonical::{to_canonical_vec, CanonicalError};
use crate::keys::{Key, KeyError};
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
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
}

/// The outcome of checking one role's signatures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    pub threshold: u64,
    /// Authorized keyids whose signature verified (each counted once).
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

/// Check `signatures` over `signed_canonical` against the role's `keyids`
/// and `threshold`, with keys looked up in `keys`.
pub fn verify_role(
    keys: &BTreeMap<String, Key>,
    keyids: &[String],
    threshold: u64,
    signed_canonical: &[u8],
    signatures: &[Value],
) -> Verification {
    let mut v = Verification {
        threshold,
        ..Default::default()
    };
    for sig in signatures {
        let (Some(keyid), Some(sig_hex)) = (
            sig.get("keyid").and_then(Value::as_str),
            sig.get("sig").and_then(Value::as_str),
        ) else {
            continue;
        };
        if !keyids.iter().any(|k| k == keyid) {
            v.unauthorized.insert(keyid.to_string());
            continue;
        }
        match keys.get(keyid) {
            Some(key) if key.verify(signed_canonical, sig_hex).is_ok() => {
                v.valid.insert(keyid.to_string());
            }
            _ => {
                v.invalid.insert(keyid.to_string());
            }
        }
    }
    v.invalid.retain(|k| !v.valid.contains(k));
    v
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
/// against the keys and threshold in the root `delegator_signed`.
pub fn verify_delegate(
    delegator_signed: &Value,
    role: &str,
    metadata: &Value,
) -> Result<Verification, MetadataError> {
    let role_def = delegator_signed
        .get("roles")
        .and_then(|r| r.get(role))
        .ok_or_else(|| MetadataError::UnknownRole(role.into()))?;
    verify_with(delegator_signed, role_def, metadata)
}

/// Verify `metadata` against a role definition (`keyids`, `threshold`) whose
/// keys are in `keys_holder` (root `keys` or targets `delegations.keys`).
pub fn verify_with(
    keys_holder: &Value,
    role_def: &Value,
    metadata: &Value,
) -> Result<Verification, MetadataError> {
    let keys = keys_of(keys_holder)?;
    let keyids: Vec<String> = role_def
        .get("keyids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|k| k.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let threshold = role_def
        .get("threshold")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let signed = metadata
        .get("signed")
        .filter(|s| s.is_object())
        .ok_or(MetadataError::Shape)?;
    let signatures = metadata
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or(MetadataError::Shape)?;
    let canonical = to_canonical_vec(signed)?;
    Ok(verify_role(
        &keys, &keyids, threshold, &canonical, signatures,
    ))
}

/// Keyids in `keys` whose id is not the SHA-256 of the canonical key.
pub fn mismatched_keyids(keys: &BTreeMap<String, Key>) -> Vec<String> {
    keys.iter()
        .filter(|(id, k)| k.keyid() != **id)
        .map(|(id, _)| id.clone())
        .collect()
}

//! Signing with the online key through the key-vault plugin. The online key
//! is the first timestamp key of the trusted root; its private half is
//! found by the URI in its `x-rstuf-online-key-uri` field. Only canonical
//! bytes go to the plugin; only the signature comes back, and it is
//! verified with the public key in root before anything is published.

use crate::backends::Backends;
use rstuf_tuf::canonical::to_canonical_vec;
use rstuf_tuf::keys::Key;
use serde_json::{json, Value};

use super::WorkError;

#[derive(Clone, Debug)]
pub struct OnlineKey {
    pub keyid: String,
    pub key: Key,
    pub uri: String,
}

impl OnlineKey {
    /// The online key of a root `signed` object.
    pub fn from_root(root_signed: &Value) -> Result<OnlineKey, WorkError> {
        let keyid = root_signed
            .pointer("/roles/timestamp/keyids/0")
            .and_then(Value::as_str)
            .ok_or_else(|| WorkError::invalid("root has no timestamp key (the online key)"))?
            .to_string();
        let key_value = root_signed
            .get("keys")
            .and_then(|k| k.get(&keyid))
            .ok_or_else(|| WorkError::invalid(format!("online key {keyid} is not in root keys")))?;
        let key = Key::from_value(key_value)
            .map_err(|e| WorkError::invalid(format!("online key {keyid}: {e}")))?;
        let uri = key
            .online_uri()
            .ok_or_else(|| {
                WorkError::invalid(format!("online key {keyid} has no x-rstuf-online-key-uri"))
            })?
            .to_string();
        Ok(OnlineKey { keyid, key, uri })
    }

    /// Check that a configured vault holds this key and that its public half
    /// is the one in root.
    pub async fn check(&self, backends: &Backends) -> Result<(), WorkError> {
        let vault = backends
            .vault_for(&self.uri)
            .map_err(|e| WorkError::invalid(e.to_string()))?;
        let public = vault.get_key(&self.uri).await.map_err(WorkError::plugin)?;
        let theirs = Key::new(
            &public.keytype,
            &public.scheme,
            &public.public,
            Default::default(),
        )
        .map_err(|e| {
            WorkError::invalid(format!(
                "key vault returned an unusable key for {}: {e}",
                self.uri
            ))
        })?;
        if !theirs.same_material(&self.key) {
            return Err(WorkError::invalid(format!(
                "the key at {} in plugin '{}' is not the online key {} in root",
                self.uri,
                vault.name(),
                self.keyid
            )));
        }
        Ok(())
    }

    /// A signature object over the canonical form of `signed`.
    pub async fn sign(&self, backends: &Backends, signed: &Value) -> Result<Value, WorkError> {
        let bytes = to_canonical_vec(signed).map_err(|e| WorkError::invalid(e.to_string()))?;
        let vault = backends
            .vault_for(&self.uri)
            .map_err(|e| WorkError::invalid(e.to_string()))?;
        let sig = vault
            .sign(&self.uri, &bytes)
            .await
            .map_err(WorkError::plugin)?;
        let sig = hex::encode(sig);
        // A plugin is untrusted code, and a URI can name the wrong key: a
        // signature that clients would reject is never published.
        self.key.verify(&bytes, &sig).map_err(|e| {
            WorkError::invalid(format!(
                "key vault plugin '{}' returned a signature for {} that does not verify with the online key {}: {e}",
                vault.name(),
                self.uri,
                self.keyid
            ))
        })?;
        Ok(json!({ "keyid": self.keyid, "sig": sig }))
    }

    /// `{"signatures": [sig], "signed": signed}`.
    pub async fn sign_document(
        &self,
        backends: &Backends,
        signed: Value,
    ) -> Result<Value, WorkError> {
        let sig = self.sign(backends, &signed).await?;
        Ok(json!({ "signatures": [sig], "signed": signed }))
    }
}

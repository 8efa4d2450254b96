//! What a plugin implements: [`Plugin`] (who it is, how it is configured)
//! and one of [`Storage`], [`Keyvault`], [`Notify`]. These are plain Rust
//! traits over plain records, so a backend is unit-tested natively; the
//! export macros ([`crate::export_storage!`] and its siblings) connect a
//! type implementing them to the WIT world.

use crate::Error;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// Identity and configuration, shared by every world. The host calls
/// `configure` once per instance, before any backend call; the SDK keeps
/// the value it returns and hands it to every later call.
pub trait Plugin: Sized + Send + 'static {
    /// Short machine name, e.g. `storage-fs`.
    const NAME: &'static str;
    /// Semantic version of the plugin: `env!("CARGO_PKG_VERSION")` in its crate.
    const VERSION: &'static str;
    /// One line for people.
    const DESCRIPTION: &'static str;
    /// The configuration object; `#[serde(deny_unknown_fields)]`, with its
    /// JSON Schema derived (`schemars`). Secrets are [`crate::Secret`]s.
    type Config: DeserializeOwned + JsonSchema;

    /// Build the backend from its parsed configuration: check what serde
    /// cannot (a URL, a combination of keys), open what must be opened.
    fn configure(config: Self::Config) -> Result<Self, Error>;
}

/// One object of a storage listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub name: String,
    pub size: u64,
    /// Seconds since the Unix epoch of the last write, when the backend knows it.
    pub modified: Option<u64>,
}

/// Metadata storage (WIT `storage`); see `wit/plugin.wit` for each call's
/// contract (atomic, durable puts; names checked by the plugin).
pub trait Storage: Plugin {
    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), Error>;

    /// Each object atomically, in order, stopping at the first failure.
    /// The default is one `put` after another; backends that can share the
    /// cost of durability across objects override it.
    fn put_many(&mut self, objects: &[(String, Vec<u8>)]) -> Result<(), Error> {
        objects
            .iter()
            .try_for_each(|(name, data)| self.put(name, data))
    }

    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, Error>;

    /// Objects whose names start with `prefix`, in name order.
    fn list_objects(&mut self, prefix: &str) -> Result<Vec<ObjectInfo>, Error>;

    /// `false` when `name` did not exist.
    fn delete(&mut self, name: &str) -> Result<bool, Error>;
}

/// The public half of a signing key, as TUF writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The key's URI, as it appears in `x-rstuf-online-key-uri`.
    pub uri: String,
    /// `ed25519`, `ecdsa` or `rsa`.
    pub keytype: String,
    /// `ed25519`, `ecdsa-sha2-nistp256` or `rsassa-pss-sha256`.
    pub scheme: String,
    /// `keyval.public`: hex for ed25519, PEM SPKI otherwise.
    pub public: String,
}

/// Signing keys (WIT `keyvault`); private keys never leave the plugin.
pub trait Keyvault: Plugin {
    /// URI schemes served, without the colon (e.g. `["fn"]`); callable
    /// before `configure`.
    fn schemes() -> Vec<String>;

    fn list_keys(&mut self) -> Result<Vec<PublicKey>, Error>;

    fn get_key(&mut self, uri: &str) -> Result<PublicKey, Error>;

    /// Sign the canonical bytes per the key's TUF scheme.
    fn sign(&mut self, uri: &str, message: &[u8]) -> Result<Vec<u8>, Error>;
}

/// One publish event (WIT `notify.event`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    /// e.g. `dev.rstuf.metadata.published`.
    pub kind: String,
    /// RFC 3339 UTC.
    pub time: String,
    /// JSON payload.
    pub data: String,
}

/// Notifications (WIT `notify`).
pub trait Notify: Plugin {
    /// Deliver (or durably queue) `event`; must return quickly.
    fn deliver(&mut self, event: &Event) -> Result<(), Error>;
}

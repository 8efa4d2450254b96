//! What an operator writes to configure one plugin: which file, which
//! backend kind, its configuration, and what the sandbox grants it.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The backend kinds the host knows; each is one WIT world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Storage,
    Keyvault,
    Notify,
}

impl PluginKind {
    /// The backend interface a component of this kind must export.
    pub fn interface(self) -> &'static str {
        match self {
            PluginKind::Storage => "storage",
            PluginKind::Keyvault => "keyvault",
            PluginKind::Notify => "notify",
        }
    }

    /// The WIT world a component of this kind is built against.
    pub fn world(self) -> &'static str {
        match self {
            PluginKind::Storage => "storage-backend",
            PluginKind::Keyvault => "keyvault-backend",
            PluginKind::Notify => "notify-backend",
        }
    }

    pub const ALL: [PluginKind; 3] = [
        PluginKind::Storage,
        PluginKind::Keyvault,
        PluginKind::Notify,
    ];
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.interface())
    }
}

/// One configured plugin.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSpec {
    /// Name used in logs and errors (e.g. `storage`, `online-keys`).
    pub name: String,
    /// Which backend this plugin provides.
    pub kind: PluginKind,
    /// Path of the `.wasm` component.
    pub file: PathBuf,
    /// Handed to the plugin's `configure` as JSON. May hold secrets: it is
    /// never logged.
    #[serde(default = "empty_object")]
    pub config: serde_json::Value,
    /// What the sandbox lets the plugin reach.
    #[serde(default)]
    pub grants: Grants,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// A host directory made visible inside the sandbox.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DirGrant {
    /// Directory on the host. Must exist.
    pub host: PathBuf,
    /// Where the plugin sees it, e.g. `/data`.
    pub guest: String,
    /// Grant read access only.
    #[serde(default)]
    pub read_only: bool,
}

/// Sandbox limits and grants. Everything not granted is denied: no
/// environment variables, no stdio, no sockets, no directories, no HTTP.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Grants {
    /// Directories the plugin may open.
    pub dirs: Vec<DirGrant>,
    /// Hosts the plugin may send HTTP requests to, as `host` (any port) or
    /// `host:port`. Empty: no outgoing HTTP at all.
    pub http_hosts: Vec<String>,
    /// Linear-memory cap per instance, in MiB.
    pub memory_mib: u64,
    /// Execution-time budget of one call, in milliseconds of running wasm
    /// (time spent waiting on host I/O does not count).
    pub cpu_ms: u64,
    /// Wall-clock limit of one call, in milliseconds, I/O included.
    pub timeout_ms: u64,
    /// Most instances kept alive (and calls in flight) at once.
    pub max_instances: usize,
}

impl Default for Grants {
    fn default() -> Self {
        Grants {
            dirs: Vec::new(),
            http_hosts: Vec::new(),
            memory_mib: 128,
            cpu_ms: 10_000,
            timeout_ms: 60_000,
            max_instances: 16,
        }
    }
}

/// `config` may hold secrets: debug output shows its keys only.
impl std::fmt::Debug for PluginSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginSpec")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("file", &self.file)
            .field("config", &RedactedConfig(&self.config))
            .field("grants", &self.grants)
            .finish()
    }
}

/// A plugin configuration shown as its keys, every value hidden.
pub struct RedactedConfig<'a>(pub &'a serde_json::Value);

impl std::fmt::Debug for RedactedConfig<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_object() {
            Some(map) => f
                .debug_map()
                .entries(map.keys().map(|k| (k, "***")))
                .finish(),
            None => f.write_str("***"),
        }
    }
}

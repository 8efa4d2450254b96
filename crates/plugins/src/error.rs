//! Errors from loading and calling plugins. Every message names the plugin
//! (its configured name) so an operator knows which configuration to fix.

use std::path::PathBuf;

/// The kinds of failure a plugin reports through the WIT `plugin-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendErrorKind {
    InvalidConfig,
    InvalidInput,
    NotFound,
    Denied,
    Unavailable,
    Internal,
}

impl std::fmt::Display for BackendErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackendErrorKind::InvalidConfig => "invalid configuration",
            BackendErrorKind::InvalidInput => "invalid input",
            BackendErrorKind::NotFound => "not found",
            BackendErrorKind::Denied => "denied",
            BackendErrorKind::Unavailable => "backend unavailable",
            BackendErrorKind::Internal => "internal error",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("plugin '{plugin}': cannot read plugin file {}: {source}", path.display())]
    ReadFile {
        plugin: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("plugin '{plugin}': {} is not a WebAssembly component: {reason}", path.display())]
    NotAComponent {
        plugin: String,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "plugin '{plugin}': {} does not implement {expected}; it exports [{found}]. \
         Rebuild it against wit/plugin.wit of this host, or point the configuration at a {kind} plugin",
        path.display()
    )]
    WrongWorld {
        plugin: String,
        path: PathBuf,
        kind: String,
        expected: String,
        found: String,
    },
    #[error("plugin '{plugin}': {} cannot be linked by this host: {reason}", path.display())]
    Link {
        plugin: String,
        path: PathBuf,
        reason: String,
    },
    #[error("plugin '{plugin}': invalid sandbox grant: {reason}")]
    Grant { plugin: String, reason: String },
    #[error("plugin '{plugin}': invalid configuration: {message}")]
    InvalidConfig { plugin: String, message: String },
    #[error("plugin '{plugin}' exceeded its memory limit of {limit_mib} MiB and was stopped")]
    MemoryLimit { plugin: String, limit_mib: u64 },
    #[error("plugin '{plugin}' ran longer than its CPU budget of {cpu_ms} ms and was interrupted")]
    CpuLimit { plugin: String, cpu_ms: u64 },
    #[error("plugin '{plugin}' did not answer within {timeout_ms} ms")]
    Timeout { plugin: String, timeout_ms: u64 },
    #[error("plugin '{plugin}' crashed: {message}")]
    Trap { plugin: String, message: String },
    #[error("plugin '{plugin}': {kind}: {message}")]
    Backend {
        plugin: String,
        kind: BackendErrorKind,
        message: String,
    },
    #[error("plugin '{plugin}': compile cache: {message}")]
    Cache { plugin: String, message: String },
}

impl PluginError {
    /// The backend kind, when the plugin itself reported the error.
    pub fn backend_kind(&self) -> Option<BackendErrorKind> {
        match self {
            PluginError::Backend { kind, .. } => Some(*kind),
            PluginError::InvalidConfig { .. } => Some(BackendErrorKind::InvalidConfig),
            _ => None,
        }
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PluginError::Timeout { .. }
                | PluginError::Backend {
                    kind: BackendErrorKind::Unavailable,
                    ..
                }
        )
    }
}

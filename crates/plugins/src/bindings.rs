//! Host-side bindings generated from `wit/plugin.wit`, one module per world
//! sharing one copy of the WIT `types` and `host-log`, plus the glue every
//! world shares: the `host-log` import and the mapping of the WIT
//! `plugin-error` onto [`PluginError`].

use crate::error::{BackendErrorKind, PluginError};
use crate::inspect::PluginInfo;
use crate::sandbox::{HostState, LogLevel};

pub(crate) mod storage {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rstuf:plugin/storage-backend",
        exports: { default: async },
    });
}

pub(crate) mod keyvault {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rstuf:plugin/keyvault-backend",
        exports: { default: async },
        with: {
            "rstuf:plugin/types": crate::bindings::storage::rstuf::plugin::types,
            "rstuf:plugin/host-log": crate::bindings::storage::rstuf::plugin::host_log,
        },
    });
}

pub(crate) mod notify {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rstuf:plugin/notify-backend",
        exports: { default: async },
        with: {
            "rstuf:plugin/types": crate::bindings::storage::rstuf::plugin::types,
            "rstuf:plugin/host-log": crate::bindings::storage::rstuf::plugin::host_log,
        },
    });
}

/// The shared WIT `types` and `host-log`, generated once (in the storage
/// world's module) and used by the other two worlds through `with:`.
use storage::rstuf::plugin::{host_log, types};

impl host_log::Host for HostState {
    fn log(&mut self, level: types::LogLevel, message: String) {
        use types::LogLevel as L;
        let level = match level {
            L::Trace => LogLevel::Trace,
            L::Debug => LogLevel::Debug,
            L::Info => LogLevel::Info,
            L::Warn => LogLevel::Warn,
            L::Error => LogLevel::Error,
        };
        HostState::log(self, level, &message);
    }
}

impl types::Host for HostState {}

impl From<types::PluginError> for WitError {
    fn from(e: types::PluginError) -> Self {
        use types::PluginError as E;
        match e {
            E::InvalidConfig(m) => WitError(BackendErrorKind::InvalidConfig, m),
            E::InvalidInput(m) => WitError(BackendErrorKind::InvalidInput, m),
            E::NotFound(m) => WitError(BackendErrorKind::NotFound, m),
            E::Denied(m) => WitError(BackendErrorKind::Denied, m),
            E::Unavailable(m) => WitError(BackendErrorKind::Unavailable, m),
            E::Internal(m) => WitError(BackendErrorKind::Internal, m),
        }
    }
}

impl From<types::PluginInfo> for PluginInfo {
    fn from(i: types::PluginInfo) -> Self {
        PluginInfo {
            name: i.name,
            version: i.version,
            description: i.description,
            config_schema: i.config_schema,
        }
    }
}

/// A `plugin-error` from any world, before it is tied to a plugin name.
pub(crate) struct WitError(pub BackendErrorKind, pub String);

impl WitError {
    pub(crate) fn into_plugin_error(self, plugin: &str) -> PluginError {
        match self.0 {
            BackendErrorKind::InvalidConfig => PluginError::InvalidConfig {
                plugin: plugin.to_string(),
                message: self.1,
            },
            kind => PluginError::Backend {
                plugin: plugin.to_string(),
                kind,
                message: self.1,
            },
        }
    }
}

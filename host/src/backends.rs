//! The backends this process uses, loaded from the plugin configuration:
//! one storage plugin, one or more key vaults (picked per key by the URI
//! scheme of `x-rstuf-online-key-uri`), and any number of notifiers.

use crate::config::Config;
use rstuf_plugins::{
    CallObserver, KeyVault, Notifier, PluginError, PluginKind, Runtime, RuntimeOptions, Storage,
};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error("plugin runtime: {0}")]
    Runtime(String),
    #[error("no key-vault plugin serves key URI '{uri}' (configured vaults serve: {served})")]
    NoVaultFor { uri: String, served: String },
}

/// Loaded plugins, shared by the API and the worker.
#[derive(Clone, Debug)]
pub struct Backends {
    pub storage: Storage,
    pub keyvaults: Vec<KeyVault>,
    pub notifiers: Vec<Notifier>,
}

impl Backends {
    /// Load every configured plugin. Fails on the first plugin that cannot
    /// be loaded or configured, naming it.
    /// `observer` is told about every plugin call (the service's metrics).
    pub async fn load(
        config: &Config,
        observer: Option<Arc<dyn CallObserver>>,
    ) -> Result<Backends, BackendError> {
        let runtime = Runtime::new(RuntimeOptions {
            cache_dir: Some(config.plugins.cache_dir.clone()),
            observer,
        })
        .map_err(|e| BackendError::Runtime(format!("{e:#}")))?;
        let mut storage = None;
        let mut keyvaults = Vec::new();
        let mut notifiers = Vec::new();
        for spec in config.plugin_specs() {
            match spec.kind {
                PluginKind::Storage => storage = Some(runtime.load_storage(&spec).await?),
                PluginKind::Keyvault => keyvaults.push(runtime.load_keyvault(&spec).await?),
                PluginKind::Notify => notifiers.push(runtime.load_notify(&spec).await?),
            }
        }
        let storage =
            storage.ok_or_else(|| BackendError::Runtime("no storage plugin configured".into()))?;
        Ok(Backends {
            storage,
            keyvaults,
            notifiers,
        })
    }

    /// The vault that holds the key with this URI.
    pub fn vault_for(&self, uri: &str) -> Result<&KeyVault, BackendError> {
        self.keyvaults
            .iter()
            .find(|v| v.serves(uri))
            .ok_or_else(|| BackendError::NoVaultFor {
                uri: uri.to_string(),
                served: self
                    .keyvaults
                    .iter()
                    .flat_map(|v| v.schemes().iter().map(|s| format!("{s}:")))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

//! Typed handle for key-vault plugins (`rstuf:plugin/keyvault`). Private keys
//! never leave the plugin: the host sends bytes to sign and gets a signature.

use crate::bindings::keyvault::{KeyvaultBackend, KeyvaultBackendPre};
use crate::bindings::WitError;
use crate::error::PluginError;
use crate::inspect::PluginInfo;
use crate::pool::{plugin_call, Pool, World};
use crate::sandbox::HostState;
use serde::Serialize;
use std::sync::Arc;
use wasmtime::component::{HasSelf, InstancePre, Linker};
use wasmtime::Store;

/// The public half of a vault key, in TUF terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicKey {
    pub uri: String,
    pub keytype: String,
    pub scheme: String,
    /// `keyval.public`: hex for ed25519, PEM SPKI otherwise.
    pub public: String,
}

/// A loaded key-vault plugin. Clone freely; calls may run concurrently.
#[derive(Clone)]
pub struct KeyVault {
    pool: Arc<Pool<KeyvaultBackend>>,
    schemes: Arc<Vec<String>>,
}

impl KeyVault {
    pub(crate) fn new(pool: Arc<Pool<KeyvaultBackend>>) -> Self {
        KeyVault {
            pool,
            schemes: Arc::new(Vec::new()),
        }
    }

    /// Ask the plugin which URI schemes it serves and remember the answer.
    pub(crate) async fn with_schemes(mut self) -> Result<Self, PluginError> {
        let schemes = plugin_call!(self.pool, |w, s| w.rstuf_plugin_keyvault().call_schemes(s))?;
        self.schemes = Arc::new(schemes);
        Ok(self)
    }

    pub fn name(&self) -> &str {
        &self.pool.name
    }

    pub fn info(&self) -> &PluginInfo {
        &self.pool.info
    }

    /// Instantiate and configure a fresh instance, then discard it; returns
    /// the time taken. Proves the plugin starts with its configuration.
    pub async fn probe(&self) -> Result<std::time::Duration, PluginError> {
        self.pool.probe().await
    }

    /// URI schemes this vault serves, e.g. `["fn"]`.
    pub fn schemes(&self) -> &[String] {
        &self.schemes
    }

    /// Whether this vault serves `uri` (by its scheme).
    pub fn serves(&self, uri: &str) -> bool {
        uri.split_once(':')
            .is_some_and(|(scheme, _)| self.schemes.iter().any(|s| s == scheme))
    }

    pub async fn list_keys(&self) -> Result<Vec<PublicKey>, PluginError> {
        self.pool
            .observe("list_keys", async {
                let r = plugin_call!(self.pool, |w, s| w
                    .rstuf_plugin_keyvault()
                    .call_list_keys(s))?;
                Ok(self.wit(r)?.into_iter().map(convert_key).collect())
            })
            .await
    }

    pub async fn get_key(&self, uri: &str) -> Result<PublicKey, PluginError> {
        self.pool
            .observe("get_key", async {
                let r = plugin_call!(self.pool, |w, s| w
                    .rstuf_plugin_keyvault()
                    .call_get_key(s, uri))?;
                self.wit(r).map(convert_key)
            })
            .await
    }

    /// Sign `message` with the key at `uri`; returns the raw signature bytes.
    pub async fn sign(&self, uri: &str, message: &[u8]) -> Result<Vec<u8>, PluginError> {
        self.pool
            .observe("sign", async {
                let r = plugin_call!(self.pool, |w, s| w
                    .rstuf_plugin_keyvault()
                    .call_sign(s, uri, message))?;
                self.wit(r)
            })
            .await
    }

    fn wit<T, E: Into<WitError>>(&self, r: Result<T, E>) -> Result<T, PluginError> {
        r.map_err(|e| e.into().into_plugin_error(&self.pool.name))
    }
}

fn convert_key(
    k: crate::bindings::keyvault::exports::rstuf::plugin::keyvault::PublicKey,
) -> PublicKey {
    PublicKey {
        uri: k.uri,
        keytype: k.keytype,
        scheme: k.scheme,
        public: k.public,
    }
}

impl World for KeyvaultBackend {
    type Pre = KeyvaultBackendPre<HostState>;

    fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        KeyvaultBackend::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)
    }

    fn new_pre(pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre> {
        KeyvaultBackendPre::new(pre)
    }

    async fn instantiate(pre: &Self::Pre, store: &mut Store<HostState>) -> wasmtime::Result<Self> {
        pre.instantiate_async(store).await
    }

    async fn info(&self, store: &mut Store<HostState>) -> wasmtime::Result<PluginInfo> {
        Ok(self.rstuf_plugin_plugin().call_info(store).await?.into())
    }

    async fn configure(
        &self,
        store: &mut Store<HostState>,
        config: &str,
    ) -> wasmtime::Result<Result<(), WitError>> {
        Ok(self
            .rstuf_plugin_plugin()
            .call_configure(store, config)
            .await?
            .map_err(Into::into))
    }
}

impl std::fmt::Debug for KeyVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVault")
            .field("name", &self.pool.name)
            .field("plugin", &self.pool.info.name)
            .field("version", &self.pool.info.version)
            .finish()
    }
}

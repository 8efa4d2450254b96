//! Typed handle for notification plugins (`rstuf:plugin/notify`).

use crate::bindings::notify::exports::rstuf::plugin::notify::Event as WitEvent;
use crate::bindings::notify::{NotifyBackend, NotifyBackendPre};
use crate::bindings::WitError;
use crate::error::PluginError;
use crate::inspect::PluginInfo;
use crate::pool::{plugin_call, Pool, World};
use crate::sandbox::HostState;
use std::sync::Arc;
use wasmtime::component::{HasSelf, InstancePre, Linker};
use wasmtime::Store;

/// A publish event handed to notification plugins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub kind: String,
    /// RFC 3339 UTC.
    pub time: String,
    /// JSON document.
    pub data: String,
}

/// A loaded notification plugin.
#[derive(Clone)]
pub struct Notifier {
    pool: Arc<Pool<NotifyBackend>>,
}

impl Notifier {
    pub(crate) fn new(pool: Arc<Pool<NotifyBackend>>) -> Self {
        Notifier { pool }
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

    pub async fn deliver(&self, event: &Event) -> Result<(), PluginError> {
        self.pool
            .observe("deliver", async {
                let wit = WitEvent {
                    id: event.id.clone(),
                    kind: event.kind.clone(),
                    time: event.time.clone(),
                    data: event.data.clone(),
                };
                let r = plugin_call!(self.pool, |w, s| w
                    .rstuf_plugin_notify()
                    .call_deliver(s, &wit))?;
                r.map_err(|e| WitError::from(e).into_plugin_error(&self.pool.name))
            })
            .await
    }
}

impl World for NotifyBackend {
    type Pre = NotifyBackendPre<HostState>;

    fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        NotifyBackend::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)
    }

    fn new_pre(pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre> {
        NotifyBackendPre::new(pre)
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

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("name", &self.pool.name)
            .field("plugin", &self.pool.info.name)
            .field("version", &self.pool.info.version)
            .finish()
    }
}

//! Typed handle for storage plugins (`rstuf:plugin/storage`).

use crate::bindings::storage::{StorageBackend, StorageBackendPre};
use crate::bindings::WitError;
use crate::error::PluginError;
use crate::inspect::PluginInfo;
use crate::pool::{plugin_call, Pool, World};
use crate::sandbox::HostState;
use std::sync::Arc;
use wasmtime::component::{HasSelf, InstancePre, Linker};
use wasmtime::Store;

/// One stored object, as `list` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub name: String,
    pub size: u64,
    /// Seconds since the Unix epoch, when the backend knows it.
    pub modified: Option<u64>,
}

/// A loaded storage plugin. Clone freely; calls may run concurrently.
#[derive(Clone)]
pub struct Storage {
    pool: Arc<Pool<StorageBackend>>,
}

impl Storage {
    pub(crate) fn new(pool: Arc<Pool<StorageBackend>>) -> Self {
        Storage { pool }
    }

    /// The configured name of this plugin.
    pub fn name(&self) -> &str {
        &self.pool.name
    }

    /// What the plugin reported about itself when loaded.
    pub fn info(&self) -> &PluginInfo {
        &self.pool.info
    }

    /// Instantiate and configure a fresh instance, then discard it; returns
    /// the time taken. Proves the plugin starts with its configuration.
    pub async fn probe(&self) -> Result<std::time::Duration, PluginError> {
        self.pool.probe().await
    }

    /// Atomically write one object.
    pub async fn put(&self, name: &str, data: &[u8]) -> Result<(), PluginError> {
        self.pool
            .observe("put", async {
                let r = plugin_call!(self.pool, |w, s| w
                    .rstuf_plugin_storage()
                    .call_put(s, name, data))?;
                self.wit(r)
            })
            .await
    }

    /// Atomically write each of several objects, in order.
    pub async fn put_many(&self, objects: &[(String, Vec<u8>)]) -> Result<(), PluginError> {
        self.pool
            .observe("put_many", async {
                let r = plugin_call!(self.pool, |w, s| w
                    .rstuf_plugin_storage()
                    .call_put_many(s, objects))?;
                self.wit(r)
            })
            .await
    }

    /// Read one object; `None` if it does not exist.
    pub async fn get(&self, name: &str) -> Result<Option<Vec<u8>>, PluginError> {
        self.pool
            .observe("get", async {
                let r = plugin_call!(self.pool, |w, s| w.rstuf_plugin_storage().call_get(s, name))?;
                self.wit(r)
            })
            .await
    }

    /// Objects whose names start with `prefix`, in name order.
    pub async fn list_objects(&self, prefix: &str) -> Result<Vec<ObjectInfo>, PluginError> {
        self.pool
            .observe("list_objects", async {
                let r = plugin_call!(self.pool, |w, s| w
                    .rstuf_plugin_storage()
                    .call_list_objects(s, prefix))?;
                Ok(self
                    .wit(r)?
                    .into_iter()
                    .map(|o| ObjectInfo {
                        name: o.name,
                        size: o.size,
                        modified: o.modified,
                    })
                    .collect())
            })
            .await
    }

    /// Delete one object; `false` if it did not exist.
    pub async fn delete(&self, name: &str) -> Result<bool, PluginError> {
        self.pool
            .observe("delete", async {
                let r = plugin_call!(self.pool, |w, s| w
                    .rstuf_plugin_storage()
                    .call_delete(s, name))?;
                self.wit(r)
            })
            .await
    }

    fn wit<T, E: Into<WitError>>(&self, r: Result<T, E>) -> Result<T, PluginError> {
        r.map_err(|e| e.into().into_plugin_error(&self.pool.name))
    }
}

impl World for StorageBackend {
    type Pre = StorageBackendPre<HostState>;

    fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        StorageBackend::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)
    }

    fn new_pre(pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre> {
        StorageBackendPre::new(pre)
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

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("name", &self.pool.name)
            .field("plugin", &self.pool.info.name)
            .field("version", &self.pool.info.version)
            .finish()
    }
}

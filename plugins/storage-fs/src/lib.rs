//! `storage-fs`: TUF metadata in a local directory, as a WebAssembly
//! component (world `rstuf:plugin/storage-backend@0.1.0`).
//!
//! The host grants the component exactly one directory (preopened at the
//! guest path named by the `path` key, `/data` by default), so even a bug
//! here cannot touch anything else on the machine. Upstream RSTUF's
//! `LocalStorage` wrote files in place; this plugin writes atomically
//! (temporary file, fsync, rename, directory fsync) because TUF clients
//! download metadata while the worker publishes it.
//!
//! The logic lives in [`store`], which is plain Rust and tested natively;
//! this file only adapts it to the generated bindings, which exist only when
//! compiling for `wasm32`.

pub mod store;

#[cfg(target_arch = "wasm32")]
mod component {
    use crate::store::{Error, FsStore, CONFIG_SCHEMA};
    use std::sync::Mutex;

    wit_bindgen::generate!({ world: "storage-backend", path: "../../wit" });

    use exports::rstuf::plugin::plugin::Guest as PluginGuest;
    use exports::rstuf::plugin::storage::{Guest as StorageGuest, ObjectInfo};
    use rstuf::plugin::host_log::log;
    use rstuf::plugin::types::{LogLevel, PluginError, PluginInfo};

    /// The configured store; instances are single-threaded, the mutex only
    /// satisfies `static`.
    static STORE: Mutex<Option<FsStore>> = Mutex::new(None);

    fn convert(e: Error) -> PluginError {
        match e {
            Error::InvalidConfig(m) => PluginError::InvalidConfig(m),
            Error::InvalidInput(m) => PluginError::InvalidInput(m),
            Error::NotFound(m) => PluginError::NotFound(m),
            Error::Denied(m) => PluginError::Denied(m),
            Error::Internal(m) => PluginError::Internal(m),
        }
    }

    fn with_store<T>(f: impl FnOnce(&FsStore) -> Result<T, Error>) -> Result<T, PluginError> {
        let guard = STORE
            .lock()
            .map_err(|_| PluginError::Internal("storage state poisoned".into()))?;
        let store = guard
            .as_ref()
            .ok_or_else(|| PluginError::InvalidConfig("storage-fs used before configure".into()))?;
        let result = f(store);
        if let Some(warning) = store.take_dir_sync_failure() {
            log(LogLevel::Warn, &format!("storage-fs: {warning}"));
        }
        result.map_err(convert)
    }

    struct Component;

    impl PluginGuest for Component {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "storage-fs".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                description: "TUF metadata in a local directory, written atomically".into(),
                config_schema: CONFIG_SCHEMA.into(),
            }
        }

        fn configure(config: String) -> Result<(), PluginError> {
            let path = crate::store::parse_config(&config).map_err(convert)?;
            let store = FsStore::open(&path).map_err(convert)?;
            log(
                LogLevel::Debug,
                &format!("storage-fs: storing metadata in {path}"),
            );
            *STORE
                .lock()
                .map_err(|_| PluginError::Internal("storage state poisoned".into()))? = Some(store);
            Ok(())
        }
    }

    impl StorageGuest for Component {
        fn put(name: String, data: Vec<u8>) -> Result<(), PluginError> {
            with_store(|s| s.put(&name, &data))
        }

        fn put_many(objects: Vec<(String, Vec<u8>)>) -> Result<(), PluginError> {
            with_store(|s| s.put_many(&objects))
        }

        fn get(name: String) -> Result<Option<Vec<u8>>, PluginError> {
            with_store(|s| s.get(&name))
        }

        fn list_objects(prefix: String) -> Result<Vec<ObjectInfo>, PluginError> {
            with_store(|s| s.list(&prefix)).map(|entries| {
                entries
                    .into_iter()
                    .map(|e| ObjectInfo {
                        name: e.name,
                        size: e.size,
                        modified: e.modified,
                    })
                    .collect()
            })
        }

        fn delete(name: String) -> Result<bool, PluginError> {
            with_store(|s| s.delete(&name))
        }
    }

    export!(Component);
}

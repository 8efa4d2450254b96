//! `storage-s3`: TUF metadata in an S3 bucket, as a WebAssembly component
//! (world `rstuf:plugin/storage-backend@0.1.0`).
//!
//! Upstream RSTUF's `S3Storage` used boto3 inside the worker. Here the
//! plugin speaks the S3 REST API itself over `wasi:http` (requests signed
//! with AWS Signature Version 4, [`sigv4`]), and the host lets it reach
//! only the hosts in its `http_hosts` grant.
//!
//! The logic lives in [`s3`] and [`sigv4`], plain Rust tested natively;
//! this file adapts them to the generated bindings and `wasi:http`, which
//! exist only when compiling for `wasm32`.

pub mod s3;
/// AWS Signature Version 4 (shared with `keyvault-awskms`).
pub use rstuf_plugin_sigv4 as sigv4;

#[cfg(target_arch = "wasm32")]
mod component {
    use crate::s3::{Config, Error, S3Store, CONFIG_SCHEMA};
    use rstuf_plugin_http::WasiTransport as Wasi;
    use std::sync::Mutex;

    wit_bindgen::generate!({ world: "storage-backend", path: "../../wit" });

    use exports::rstuf::plugin::plugin::Guest as PluginGuest;
    use exports::rstuf::plugin::storage::{Guest as StorageGuest, ObjectInfo};
    use rstuf::plugin::host_log::log;
    use rstuf::plugin::types::{LogLevel, PluginError, PluginInfo};

    /// The configured store; instances are single-threaded, the mutex only
    /// satisfies `static`.
    static STORE: Mutex<Option<S3Store<Wasi>>> = Mutex::new(None);

    fn convert(e: Error) -> PluginError {
        rstuf_plugin_http::to_plugin_error!(e)
    }

    fn with_store<T>(f: impl FnOnce(&S3Store<Wasi>) -> Result<T, Error>) -> Result<T, PluginError> {
        let guard = STORE
            .lock()
            .map_err(|_| PluginError::Internal("storage state poisoned".into()))?;
        let store = guard
            .as_ref()
            .ok_or_else(|| PluginError::InvalidConfig("storage-s3 used before configure".into()))?;
        let result = f(store);
        if let Err(Error::Unavailable(m)) = &result {
            log(LogLevel::Warn, &format!("storage-s3: {m}"));
        }
        result.map_err(convert)
    }

    struct Component;

    impl PluginGuest for Component {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "storage-s3".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                description:
                    "TUF metadata in an S3 bucket (atomic PutObject, SigV4) over wasi:http".into(),
                config_schema: CONFIG_SCHEMA.into(),
            }
        }

        fn configure(config: String) -> Result<(), PluginError> {
            let config = Config::parse(&config).map_err(convert)?;
            // Where, never the credentials.
            log(
                LogLevel::Debug,
                &format!("storage-s3: storing metadata in {}", config.describe()),
            );
            *STORE
                .lock()
                .map_err(|_| PluginError::Internal("storage state poisoned".into()))? =
                Some(S3Store::new(config, Wasi));
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

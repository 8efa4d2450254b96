//! `storage-fs`: TUF metadata in a local directory, as a WebAssembly
//! component (world `rstuf:plugin/storage-backend`). The host grants it one
//! directory; writes are atomic (temp file, fsync, rename).

pub mod store;

#[cfg(target_arch = "wasm32")]
mod component {
    use crate::store::{Error, FsStore};
    use std::sync::Mutex;

    wit_bindgen::generate!({ world: "storage-backend", path: "../../wit" });

    use exports::rstuf::plugin::plugin::Guest as PluginGuest;
    use exports::rstuf::plugin::storage::{Guest as StorageGuest, ObjectInfo};
    use rstuf::plugin::types::{PluginError, PluginInfo};

    static STORE: Mutex<Option<FsStore>> = Mutex::new(None);

    const SCHEMA: &str = r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,"properties":{"path":{"type":"string","description":"Directory inside the sandbox (the guest path of the granted directory)","default":"/data"}}}"#;

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
        let guard = STORE.lock().map_err(|_| PluginError::Internal("storage state poisoned".into()))?;
        let store = guard
            .as_ref()
            .ok_or_else(|| PluginError::InvalidConfig("storage-fs used before configure".into()))?;
        f(store).map_err(convert)
    }

    struct Component;

    impl PluginGuest for Component {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "storage-fs".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                description: "TUF metadata in a local directory, written atomically".into(),
                config_schema: SCHEMA.into(),
            }
        }

        fn configure(config: String) -> Result<(), PluginError> {
            let value: serde_json::Value = serde_json::from_str(&config)
                .map_err(|e| PluginError::InvalidConfig(format!("configuration is not JSON: {e}")))?;
            let obj = value
                .as_object()
                .ok_or_else(|| PluginError::InvalidConfig("configuration must be a JSON object".into()))?;
            if let Some(unknown) = obj.keys().find(|k| k.as_str() != "path") {
                return Err(PluginError::InvalidConfig(format!("unknown key '{unknown}' (known: path)")));
            }
            let path = match obj.get("path") {
                None => "/data",
                Some(serde_json::Value::String(p)) => p.as_str(),
                Some(_) => return Err(PluginError::InvalidConfig("path: must be a string".into())),
            };
            let store = FsStore::open(path).map_err(convert)?;
            *STORE.lock().map_err(|_| PluginError::Internal("storage state poisoned".into()))? = Some(store);
            Ok(())
        }
    }

    impl StorageGuest for Component {
        fn put(name: String, data: Vec<u8>) -> Result<(), PluginError> {
            with_store(|s| s.put(&name, &data))
        }

        fn put_many(objects: Vec<(String, Vec<u8>)>) -> Result<(), PluginError> {
            with_store(|s| objects.iter().try_for_each(|(name, data)| s.put(name, data)))
        }

        fn get(name: String) -> Result<Option<Vec<u8>>, PluginError> {
            with_store(|s| s.get(&name))
        }

        fn list_objects(prefix: String) -> Result<Vec<ObjectInfo>, PluginError> {
            with_store(|s| s.list(&prefix)).map(|items| {
                items
                    .into_iter()
                    .map(|(name, size, modified)| ObjectInfo { name, size, modified })
                    .collect()
            })
        }

        fn delete(name: String) -> Result<bool, PluginError> {
            with_store(|s| s.delete(&name))
        }
    }

    export!(Component);
}

//! `testbed`: a storage plugin (world `rstuf:plugin/storage-backend@0.1.0`)
//! that misbehaves on purpose, so the host's tests can show the sandbox
//! holds. `configure({"mode": …})` picks what `get(name)` does:
//!
//! - `ok`: returns `b"ok"` (a well-behaved plugin, used for swap tests);
//! - `escape`: reads `name` as a path (`/etc/passwd`, `/data/../x`,
//!   `../../x`) and returns the bytes if the sandbox lets it, else the OS
//!   error as `not-found`/`denied`;
//! - `alloc`: allocates and touches memory until the call traps;
//! - `spin`: loops forever without yielding.
//!
//! `put`, `put-many`, `list-objects` and `delete` fail with
//! `internal("testbed")`. Never deploy it.

pub mod hostile;

#[cfg(target_arch = "wasm32")]
mod component {
    use crate::hostile::{self, Failure, Mode};
    use std::sync::Mutex;

    wit_bindgen::generate!({ world: "storage-backend", path: "../../wit" });

    use exports::rstuf::plugin::plugin::Guest as PluginGuest;
    use exports::rstuf::plugin::storage::{Guest as StorageGuest, ObjectInfo};
    use rstuf::plugin::host_log::log;
    use rstuf::plugin::types::{LogLevel, PluginError, PluginInfo};

    static MODE: Mutex<Option<Mode>> = Mutex::new(None);

    fn convert(f: Failure) -> PluginError {
        match f {
            Failure::InvalidConfig(m) => PluginError::InvalidConfig(m),
            Failure::NotFound(m) => PluginError::NotFound(m),
            Failure::Denied(m) => PluginError::Denied(m),
        }
    }

    fn testbed<T>() -> Result<T, PluginError> {
        Err(PluginError::Internal("testbed".into()))
    }

    struct Component;

    impl PluginGuest for Component {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "testbed".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                description: "Hostile plugin for the host's sandbox tests; never deploy".into(),
                config_schema: hostile::CONFIG_SCHEMA.into(),
            }
        }

        fn configure(config: String) -> Result<(), PluginError> {
            let mode = hostile::parse_config(&config).map_err(convert)?;
            log(LogLevel::Debug, &format!("testbed: mode {mode:?}"));
            *MODE
                .lock()
                .map_err(|_| PluginError::Internal("testbed state poisoned".into()))? = Some(mode);
            Ok(())
        }
    }

    impl StorageGuest for Component {
        fn put(_name: String, _data: Vec<u8>) -> Result<(), PluginError> {
            testbed()
        }

        fn put_many(_objects: Vec<(String, Vec<u8>)>) -> Result<(), PluginError> {
            testbed()
        }

        fn get(name: String) -> Result<Option<Vec<u8>>, PluginError> {
            let mode = MODE
                .lock()
                .map_err(|_| PluginError::Internal("testbed state poisoned".into()))?
                .ok_or_else(|| {
                    PluginError::InvalidConfig("testbed used before configure".into())
                })?;
            match mode {
                Mode::Ok => Ok(Some(b"ok".to_vec())),
                Mode::Escape => hostile::escape(&name).map(Some).map_err(convert),
                Mode::Alloc => hostile::alloc_until_trap(),
                Mode::Spin => hostile::spin(),
            }
        }

        fn list_objects(_prefix: String) -> Result<Vec<ObjectInfo>, PluginError> {
            testbed()
        }

        fn delete(_name: String) -> Result<bool, PluginError> {
            testbed()
        }
    }

    export!(Component);
}

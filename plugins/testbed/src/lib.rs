//! `testbed`: a storage plugin that misbehaves on purpose, so the host's
//! tests can show the sandbox holds. `configure({"mode": …})` picks what
//! `get(name)` does:
//!
//! - `ok`: returns `b"ok"` (a well-behaved plugin, used for swap tests);
//! - `escape`: reads `name` as a path, e.g. `/etc/passwd` or `../../x`;
//! - `alloc`: allocates and touches memory until something stops it;
//! - `spin`: loops forever without yielding.
//!
//! Never deploy it.

#[cfg(target_arch = "wasm32")]
mod component {
    use std::sync::Mutex;

    wit_bindgen::generate!({ world: "storage-backend", path: "../../wit" });

    use exports::rstuf::plugin::plugin::Guest as PluginGuest;
    use exports::rstuf::plugin::storage::{Guest as StorageGuest, ObjectInfo};
    use rstuf::plugin::types::{PluginError, PluginInfo};

    static MODE: Mutex<String> = Mutex::new(String::new());

    struct Component;

    impl PluginGuest for Component {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "testbed".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                description: "Hostile plugin for sandbox tests; never deploy".into(),
                config_schema: r#"{"type":"object","properties":{"mode":{"enum":["ok","escape","alloc","spin"]}},"required":["mode"]}"#.into(),
            }
        }

        fn configure(config: String) -> Result<(), PluginError> {
            let value: serde_json::Value =
                serde_json::from_str(&config).map_err(|e| PluginError::InvalidConfig(e.to_string()))?;
            let mode = value
                .get("mode")
                .and_then(|m| m.as_str())
                .filter(|m| ["ok", "escape", "alloc", "spin"].contains(m))
                .ok_or_else(|| PluginError::InvalidConfig("mode: one of ok, escape, alloc, spin".into()))?;
            *MODE.lock().map_err(|_| PluginError::Internal("poisoned".into()))? = mode.to_string();
            Ok(())
        }
    }

    fn mode() -> String {
        MODE.lock().map(|m| m.clone()).unwrap_or_default()
    }

    impl StorageGuest for Component {
        fn put(_name: String, _data: Vec<u8>) -> Result<(), PluginError> {
            Err(PluginError::Internal("testbed".into()))
        }

        fn put_many(_objects: Vec<(String, Vec<u8>)>) -> Result<(), PluginError> {
            Err(PluginError::Internal("testbed".into()))
        }

        fn get(name: String) -> Result<Option<Vec<u8>>, PluginError> {
            match mode().as_str() {
                "ok" => Ok(Some(b"ok".to_vec())),
                "escape" => std::fs::read(&name)
                    .map(Some)
                    .map_err(|e| PluginError::Denied(format!("cannot read {name}: {e}"))),
                "alloc" => {
                    let mut hoard: Vec<Vec<u8>> = Vec::new();
                    loop {
                        let mut block = vec![0u8; 1 << 20];
                        block[0] = 1;
                        block[(1 << 20) - 1] = 1;
                        hoard.push(block);
                        std::hint::black_box(&hoard);
                    }
                }
                "spin" => {
                    let mut x: u64 = 0;
                    loop {
                        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                    }
                }
                other => Err(PluginError::InvalidConfig(format!("unknown mode {other}"))),
            }
        }

        fn list_objects(_prefix: String) -> Result<Vec<ObjectInfo>, PluginError> {
            Ok(Vec::new())
        }

        fn delete(_name: String) -> Result<bool, PluginError> {
            Ok(false)
        }
    }

    export!(Component);
}

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
//! The logic lives in [`store`], plain Rust tested natively; this file
//! makes it a plugin through the SDK.

pub mod store;

use rstuf_plugin_sdk::{log, Error, ObjectInfo, Plugin, Storage};
use store::{Config, FsStore};

/// The plugin: a configured [`FsStore`].
pub struct FsPlugin(FsStore);

impl FsPlugin {
    /// `result`, after logging a directory-fsync failure the store saw
    /// (once per store).
    fn reported<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        if let Some(warning) = self.0.take_dir_sync_failure() {
            log::warn(&format!("storage-fs: {warning}"));
        }
        result
    }
}

impl Plugin for FsPlugin {
    const NAME: &'static str = "storage-fs";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "TUF metadata in a local directory, written atomically";
    type Config = Config;

    fn configure(config: Config) -> Result<Self, Error> {
        let store = FsStore::open(&config.path)?;
        log::debug(&format!(
            "storage-fs: storing metadata in {}",
            config.path.as_str()
        ));
        Ok(FsPlugin(store))
    }
}

impl Storage for FsPlugin {
    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), Error> {
        let result = self.0.put(name, data);
        self.reported(result)
    }

    fn put_many(&mut self, objects: &[(String, Vec<u8>)]) -> Result<(), Error> {
        let result = self.0.put_many(objects);
        self.reported(result)
    }

    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        self.0.get(name)
    }

    fn list_objects(&mut self, prefix: &str) -> Result<Vec<ObjectInfo>, Error> {
        self.0.list(prefix)
    }

    fn delete(&mut self, name: &str) -> Result<bool, Error> {
        let result = self.0.delete(name);
        self.reported(result)
    }
}

rstuf_plugin_sdk::export_storage!(FsPlugin);

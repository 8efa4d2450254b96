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

use hostile::{Config, Mode};
use rstuf_plugin_sdk::{log, Error, ObjectInfo, Plugin, Storage};

/// The configured misbehaviour.
pub struct Testbed(Mode);

fn testbed<T>() -> Result<T, Error> {
    Err(Error::Internal("testbed".into()))
}

impl Plugin for Testbed {
    const NAME: &'static str = "testbed";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Hostile plugin for the host's sandbox tests; never deploy";
    type Config = Config;

    fn configure(config: Config) -> Result<Self, Error> {
        log::debug(&format!("testbed: mode {:?}", config.mode));
        Ok(Testbed(config.mode))
    }
}

impl Storage for Testbed {
    fn put(&mut self, _name: &str, _data: &[u8]) -> Result<(), Error> {
        testbed()
    }

    fn put_many(&mut self, _objects: &[(String, Vec<u8>)]) -> Result<(), Error> {
        testbed()
    }

    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        match self.0 {
            Mode::Ok => Ok(Some(b"ok".to_vec())),
            Mode::Escape => hostile::escape(name).map(Some),
            Mode::Alloc => hostile::alloc_until_trap(),
            Mode::Spin => hostile::spin(),
        }
    }

    fn list_objects(&mut self, _prefix: &str) -> Result<Vec<ObjectInfo>, Error> {
        testbed()
    }

    fn delete(&mut self, _name: &str) -> Result<bool, Error> {
        testbed()
    }
}

rstuf_plugin_sdk::export_storage!(Testbed);

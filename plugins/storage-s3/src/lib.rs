//! `storage-s3`: TUF metadata in an S3 bucket, as a WebAssembly component
//! (world `rstuf:plugin/storage-backend@0.1.0`).
//!
//! Upstream RSTUF's `S3Storage` used boto3 inside the worker. Here the
//! plugin speaks the S3 REST API itself over `wasi:http` (requests signed
//! with AWS Signature Version 4, [`sigv4`]), and the host lets it reach
//! only the hosts in its `http_hosts` grant.
//!
//! The logic lives in [`s3`] and [`sigv4`], plain Rust tested natively;
//! this file makes them a plugin through the SDK, over `wasi:http` in the
//! component.

pub mod s3;
/// AWS Signature Version 4 (shared with `keyvault-awskms`).
pub use rstuf_plugin_sigv4 as sigv4;

use rstuf_plugin_http::Transport;
use rstuf_plugin_sdk::{log, Error, ObjectInfo, Plugin, Storage};
use s3::{Config, S3Store, Settings};

impl<T: Transport + Default + Send + 'static> Plugin for S3Store<T> {
    const NAME: &'static str = "storage-s3";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "TUF metadata in an S3 bucket (atomic PutObject, SigV4) over wasi:http";
    type Config = Settings;

    fn configure(settings: Settings) -> Result<Self, Error> {
        let config = Config::from_settings(settings)?;
        // Where, never the credentials.
        log::debug(&format!(
            "storage-s3: storing metadata in {}",
            config.describe()
        ));
        Ok(S3Store::new(config, T::default()))
    }
}

impl<T: Transport + Default + Send + 'static> Storage for S3Store<T> {
    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), Error> {
        S3Store::put(self, name, data)
    }

    fn put_many(&mut self, objects: &[(String, Vec<u8>)]) -> Result<(), Error> {
        S3Store::put_many(self, objects)
    }

    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        S3Store::get(self, name)
    }

    fn list_objects(&mut self, prefix: &str) -> Result<Vec<ObjectInfo>, Error> {
        self.list(prefix)
    }

    fn delete(&mut self, name: &str) -> Result<bool, Error> {
        S3Store::delete(self, name)
    }
}

rstuf_plugin_sdk::export_storage!(S3Store<rstuf_plugin_http::WasiTransport>);

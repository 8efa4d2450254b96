//! `keyvault-awskms`: signs with AWS KMS asymmetric keys, as a WebAssembly
//! component (world `rstuf:plugin/keyvault-backend@0.1.0`).
//!
//! Serves upstream RSTUF's (securesystemslib's `AWSSigner`)
//! `awskms:<key id, ARN or alias>` online-key URIs. The private keys never
//! leave KMS: the plugin calls the KMS `Sign` API (JSON protocol, requests
//! signed with SigV4) and returns the signature; the host lets it reach
//! only the KMS endpoint in its `http_hosts` grant.
//!
//! The logic lives in [`kms`], plain Rust tested natively; this file makes
//! it a plugin through the SDK, over `wasi:http` in the component.

pub mod kms;

use kms::{Config, Kms, Settings, SCHEME};
use rstuf_plugin_http::Transport;
use rstuf_plugin_sdk::{log, Error, Keyvault, Plugin, PublicKey};

impl<T: Transport + Default + Send + 'static> Plugin for Kms<T> {
    const NAME: &'static str = "keyvault-awskms";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Signs with AWS KMS asymmetric keys (awskms: key URIs) over wasi:http";
    type Config = Settings;

    fn configure(settings: Settings) -> Result<Self, Error> {
        let config = Config::from_settings(settings)?;
        // Where, never a secret key or session token.
        log::debug(&format!(
            "keyvault-awskms: signing with {}",
            config.describe()
        ));
        Ok(Kms::new(config, T::default()))
    }
}

impl<T: Transport + Default + Send + 'static> Keyvault for Kms<T> {
    fn schemes() -> Vec<String> {
        vec![SCHEME.into()]
    }

    fn list_keys(&mut self) -> Result<Vec<PublicKey>, Error> {
        let listing = self.list()?;
        for (id, why) in &listing.skipped {
            log::debug(&format!(
                "keyvault-awskms: skipped key {id}: {}",
                why.message()
            ));
        }
        Ok(listing.keys)
    }

    fn get_key(&mut self, uri: &str) -> Result<PublicKey, Error> {
        self.public(uri)
    }

    fn sign(&mut self, uri: &str, message: &[u8]) -> Result<Vec<u8>, Error> {
        Kms::sign(self, uri, message)
    }
}

rstuf_plugin_sdk::export_keyvault!(Kms<rstuf_plugin_http::WasiTransport>);

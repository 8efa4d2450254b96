//! `keyvault-vault`: signs with HashiCorp Vault / OpenBao transit keys, as
//! a WebAssembly component (world `rstuf:plugin/keyvault-backend@0.1.0`).
//!
//! Serves upstream RSTUF's `hv:<transit key name>` online-key URIs (and
//! securesystemslib's `hv:<name>/<version>`). The private keys never leave
//! Vault: the plugin sends the canonical bytes to `/v1/<mount>/sign/<name>`
//! and returns the signature; the host lets it reach only the Vault address
//! in its `http_hosts` grant.
//!
//! The logic lives in [`vault`], plain Rust tested natively; this file makes
//! it a plugin through the SDK, over `wasi:http` in the component.

pub mod vault;

use rstuf_plugin_http::Transport;
use rstuf_plugin_sdk::{log, Error, Keyvault, Plugin, PublicKey};
use vault::{Config, Settings, Vault, SCHEME};

impl<T: Transport + Default + Send + 'static> Plugin for Vault<T> {
    const NAME: &'static str = "keyvault-vault";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Signs with HashiCorp Vault / OpenBao transit keys (hv: key URIs) over wasi:http";
    type Config = Settings;

    fn configure(settings: Settings) -> Result<Self, Error> {
        let config = Config::from_settings(settings)?;
        // Where and how, never a token or secret id.
        log::debug(&format!(
            "keyvault-vault: signing with {}",
            config.describe()
        ));
        Ok(Vault::new(config, T::default()))
    }
}

impl<T: Transport + Default + Send + 'static> Keyvault for Vault<T> {
    fn schemes() -> Vec<String> {
        vec![SCHEME.into()]
    }

    fn list_keys(&mut self) -> Result<Vec<PublicKey>, Error> {
        let listing = self.list()?;
        for (name, why) in &listing.skipped {
            log::debug(&format!(
                "keyvault-vault: skipped transit key {name}: {}",
                why.message()
            ));
        }
        Ok(listing.keys)
    }

    fn get_key(&mut self, uri: &str) -> Result<PublicKey, Error> {
        self.public(uri)
    }

    fn sign(&mut self, uri: &str, message: &[u8]) -> Result<Vec<u8>, Error> {
        Vault::sign(self, uri, message)
    }
}

rstuf_plugin_sdk::export_keyvault!(Vault<rstuf_plugin_http::WasiTransport>);

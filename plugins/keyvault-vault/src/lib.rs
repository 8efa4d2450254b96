//! `keyvault-vault`: signs with HashiCorp Vault / OpenBao transit keys, as
//! a WebAssembly component (world `rstuf:plugin/keyvault-backend@0.1.0`).
//!
//! Serves upstream RSTUF's `hv:<transit key name>` online-key URIs (and
//! securesystemslib's `hv:<name>/<version>`). The private keys never leave
//! Vault: the plugin sends the canonical bytes to `/v1/<mount>/sign/<name>`
//! and returns the signature; the host lets it reach only the Vault address
//! in its `http_hosts` grant.
//!
//! The logic lives in [`vault`], plain Rust tested natively; this file
//! adapts it to the generated bindings and `wasi:http`, which exist only
//! when compiling for `wasm32`.

pub mod vault;

#[cfg(target_arch = "wasm32")]
mod component {
    use crate::vault::{Config, Error, PublicKey as VaultKey, Vault, CONFIG_SCHEMA, SCHEME};
    use rstuf_plugin_http::WasiTransport;
    use std::sync::Mutex;

    wit_bindgen::generate!({ world: "keyvault-backend", path: "../../wit" });

    use exports::rstuf::plugin::keyvault::{Guest as VaultGuest, PublicKey};
    use exports::rstuf::plugin::plugin::Guest as PluginGuest;
    use rstuf::plugin::host_log::log;
    use rstuf::plugin::types::{LogLevel, PluginError, PluginInfo};

    /// The configured client with its cached token and key types;
    /// instances are single-threaded, the mutex only satisfies `static`.
    static VAULT: Mutex<Option<Vault<WasiTransport>>> = Mutex::new(None);

    fn convert(e: Error) -> PluginError {
        rstuf_plugin_http::to_plugin_error!(e)
    }

    fn with_vault<T>(
        f: impl FnOnce(&mut Vault<WasiTransport>) -> Result<T, Error>,
    ) -> Result<T, PluginError> {
        let mut guard = VAULT
            .lock()
            .map_err(|_| PluginError::Internal("vault state poisoned".into()))?;
        let vault = guard.as_mut().ok_or_else(|| {
            PluginError::InvalidConfig("keyvault-vault used before configure".into())
        })?;
        let result = f(vault);
        if let Err(Error::Unavailable(m)) = &result {
            log(LogLevel::Warn, &format!("keyvault-vault: {m}"));
        }
        result.map_err(convert)
    }

    fn public(k: VaultKey) -> PublicKey {
        PublicKey {
            uri: k.uri,
            keytype: k.keytype.into(),
            scheme: k.scheme.into(),
            public: k.public,
        }
    }

    struct Component;

    impl PluginGuest for Component {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "keyvault-vault".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                description:
                    "Signs with HashiCorp Vault / OpenBao transit keys (hv: key URIs) over wasi:http"
                        .into(),
                config_schema: CONFIG_SCHEMA.into(),
            }
        }

        fn configure(config: String) -> Result<(), PluginError> {
            let config = Config::parse(&config).map_err(convert)?;
            // Where and how, never a token or secret id.
            log(
                LogLevel::Debug,
                &format!("keyvault-vault: signing with {}", config.describe()),
            );
            *VAULT
                .lock()
                .map_err(|_| PluginError::Internal("vault state poisoned".into()))? =
                Some(Vault::new(config, WasiTransport));
            Ok(())
        }
    }

    impl VaultGuest for Component {
        fn schemes() -> Vec<String> {
            vec![SCHEME.into()]
        }

        fn list_keys() -> Result<Vec<PublicKey>, PluginError> {
            let listing = with_vault(|v| v.list())?;
            for (name, why) in &listing.skipped {
                log(
                    LogLevel::Debug,
                    &format!(
                        "keyvault-vault: skipped transit key {name}: {}",
                        why.message()
                    ),
                );
            }
            Ok(listing.keys.into_iter().map(public).collect())
        }

        fn get_key(uri: String) -> Result<PublicKey, PluginError> {
            with_vault(|v| v.public(&uri)).map(public)
        }

        fn sign(uri: String, message: Vec<u8>) -> Result<Vec<u8>, PluginError> {
            with_vault(|v| v.sign(&uri, &message))
        }
    }

    export!(Component);
}

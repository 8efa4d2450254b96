//! `keyvault-file`: signs with PEM private key files in a directory the host
//! grants (upstream RSTUF's `fn:<file>` online keys), as a WebAssembly
//! component (world `rstuf:plugin/keyvault-backend@0.1.0`).
//!
//! Upstream RSTUF loaded online keys from `$ONLINE_KEY_DIR/<file>` inside
//! the worker process. Here the keys and their passwords live inside the
//! sandboxed plugin: the host only ever receives public keys and
//! signatures, and the plugin sees only the key directory it is granted.
//!
//! The logic lives in `rstuf-keys` (PEM parsing, TUF schemes, shared with
//! the CLI) and [`vault`] (configuration, URIs, cache), which are plain
//! Rust tested natively against python `cryptography`; this file only
//! adapts them to the generated bindings, which exist only when compiling
//! for `wasm32`.

pub mod vault;

#[cfg(target_arch = "wasm32")]
mod component {
    use crate::vault::{Vault, VaultError, VaultKey, SCHEMA, SCHEME};
    use std::sync::Mutex;

    wit_bindgen::generate!({ world: "keyvault-backend", path: "../../wit" });

    use exports::rstuf::plugin::keyvault::{Guest as VaultGuest, PublicKey};
    use exports::rstuf::plugin::plugin::Guest as PluginGuest;
    use rstuf::plugin::host_log::log;
    use rstuf::plugin::types::{LogLevel, PluginError, PluginInfo};

    /// The configured vault and its key cache; instances are
    /// single-threaded, the mutex only satisfies `static`.
    static VAULT: Mutex<Option<Vault>> = Mutex::new(None);

    fn convert(e: VaultError) -> PluginError {
        match e {
            VaultError::InvalidConfig(m) => PluginError::InvalidConfig(m),
            VaultError::InvalidInput(m) => PluginError::InvalidInput(m),
            VaultError::NotFound(m) => PluginError::NotFound(m),
            VaultError::Denied(m) => PluginError::Denied(m),
            VaultError::Internal(m) => PluginError::Internal(m),
        }
    }

    fn with_vault<T>(
        f: impl FnOnce(&mut Vault) -> Result<T, VaultError>,
    ) -> Result<T, PluginError> {
        let mut guard = VAULT
            .lock()
            .map_err(|_| PluginError::Internal("vault state poisoned".into()))?;
        let vault = guard.as_mut().ok_or_else(|| {
            PluginError::InvalidConfig("keyvault-file used before configure".into())
        })?;
        f(vault).map_err(convert)
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
                name: "keyvault-file".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                description:
                    "Signs with PEM private key files (fn: key URIs); keys never leave the plugin"
                        .into(),
                config_schema: SCHEMA.into(),
            }
        }

        fn configure(config: String) -> Result<(), PluginError> {
            let vault = Vault::configure(&config).map_err(convert)?;
            // The directory and a count only: never a password.
            log(
                LogLevel::Debug,
                &format!(
                    "keyvault-file: keys in {}, {} password(s) configured",
                    vault.dir().display(),
                    vault.password_count()
                ),
            );
            *VAULT
                .lock()
                .map_err(|_| PluginError::Internal("vault state poisoned".into()))? = Some(vault);
            Ok(())
        }
    }

    impl VaultGuest for Component {
        fn schemes() -> Vec<String> {
            vec![SCHEME.into()]
        }

        fn list_keys() -> Result<Vec<PublicKey>, PluginError> {
            let listing = with_vault(|v| v.list())?;
            for (file, why) in &listing.skipped {
                // A wrong or missing password deserves attention; other
                // files in the directory (READMEs, certificates) do not.
                let level = match why {
                    VaultError::Denied(_) => LogLevel::Warn,
                    _ => LogLevel::Debug,
                };
                log(
                    level,
                    &format!("keyvault-file: skipped {file}: {}", why.message()),
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

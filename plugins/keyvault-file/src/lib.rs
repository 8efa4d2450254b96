//! `keyvault-file`: signs with PEM private key files in a directory the host
//! grants (upstream RSTUF's `fn:<file>` online keys), as a WebAssembly
//! component (world `rstuf:plugin/keyvault-backend`). Private keys and their
//! passwords never leave the plugin; the host only receives signatures.

pub mod keys;
pub mod vault;

#[cfg(target_arch = "wasm32")]
mod component {
    use crate::vault::{Vault, VaultError};
    use std::sync::Mutex;

    wit_bindgen::generate!({ world: "keyvault-backend", path: "../../wit" });

    use exports::rstuf::plugin::keyvault::{Guest as VaultGuest, PublicKey};
    use exports::rstuf::plugin::plugin::Guest as PluginGuest;
    use rstuf::plugin::types::{PluginError, PluginInfo};

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

    fn with_vault<T>(f: impl FnOnce(&mut Vault) -> Result<T, VaultError>) -> Result<T, PluginError> {
        let mut guard = VAULT.lock().map_err(|_| PluginError::Internal("vault state poisoned".into()))?;
        let vault = guard
            .as_mut()
            .ok_or_else(|| PluginError::InvalidConfig("keyvault-file used before configure".into()))?;
        f(vault).map_err(convert)
    }

    fn public(p: crate::vault::VaultKey) -> PublicKey {
        PublicKey {
            uri: p.uri,
            keytype: p.keytype.into(),
            scheme: p.scheme.into(),
            public: p.public,
        }
    }

    struct Component;

    impl PluginGuest for Component {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "keyvault-file".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                description: "Signs with PEM private key files (fn: key URIs)".into(),
                config_schema: crate::vault::SCHEMA.into(),
            }
        }

        fn configure(config: String) -> Result<(), PluginError> {
            let vault = Vault::configure(&config).map_err(convert)?;
            *VAULT.lock().map_err(|_| PluginError::Internal("vault state poisoned".into()))? = Some(vault);
            Ok(())
        }
    }

    impl VaultGuest for Component {
        fn schemes() -> Vec<String> {
            vec!["fn".into()]
        }

        fn list_keys() -> Result<Vec<PublicKey>, PluginError> {
            with_vault(|v| v.list()).map(|keys| keys.into_iter().map(public).collect())
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

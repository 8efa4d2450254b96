//! `keyvault-awskms`: signs with AWS KMS asymmetric keys, as a WebAssembly
//! component (world `rstuf:plugin/keyvault-backend@0.1.0`).
//!
//! Serves upstream RSTUF's (securesystemslib's `AWSSigner`)
//! `awskms:<key id, ARN or alias>` online-key URIs. The private keys never
//! leave KMS: the plugin calls the KMS `Sign` API (JSON protocol, requests
//! signed with SigV4) and returns the signature; the host lets it reach
//! only the KMS endpoint in its `http_hosts` grant.
//!
//! The logic lives in [`kms`], plain Rust tested natively; this file adapts
//! it to the generated bindings and `wasi:http`, which exist only when
//! compiling for `wasm32`.

pub mod kms;

#[cfg(target_arch = "wasm32")]
mod component {
    use crate::kms::{Config, Error, Kms, PublicKey as KmsKey, CONFIG_SCHEMA, SCHEME};
    use rstuf_plugin_http::WasiTransport;
    use std::sync::Mutex;

    wit_bindgen::generate!({ world: "keyvault-backend", path: "../../wit" });

    use exports::rstuf::plugin::keyvault::{Guest as VaultGuest, PublicKey};
    use exports::rstuf::plugin::plugin::Guest as PluginGuest;
    use rstuf::plugin::host_log::log;
    use rstuf::plugin::types::{LogLevel, PluginError, PluginInfo};

    /// The configured client with its cached key specs; instances are
    /// single-threaded, the mutex only satisfies `static`.
    static KMS: Mutex<Option<Kms<WasiTransport>>> = Mutex::new(None);

    fn convert(e: Error) -> PluginError {
        rstuf_plugin_http::to_plugin_error!(e)
    }

    fn with_kms<T>(
        f: impl FnOnce(&mut Kms<WasiTransport>) -> Result<T, Error>,
    ) -> Result<T, PluginError> {
        let mut guard = KMS
            .lock()
            .map_err(|_| PluginError::Internal("kms state poisoned".into()))?;
        let kms = guard.as_mut().ok_or_else(|| {
            PluginError::InvalidConfig("keyvault-awskms used before configure".into())
        })?;
        let result = f(kms);
        if let Err(Error::Unavailable(m)) = &result {
            log(LogLevel::Warn, &format!("keyvault-awskms: {m}"));
        }
        result.map_err(convert)
    }

    fn public(k: KmsKey) -> PublicKey {
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
                name: "keyvault-awskms".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                description: "Signs with AWS KMS asymmetric keys (awskms: key URIs) over wasi:http"
                    .into(),
                config_schema: CONFIG_SCHEMA.into(),
            }
        }

        fn configure(config: String) -> Result<(), PluginError> {
            let config = Config::parse(&config).map_err(convert)?;
            // Where, never a secret key or session token.
            log(
                LogLevel::Debug,
                &format!("keyvault-awskms: signing with {}", config.describe()),
            );
            *KMS.lock()
                .map_err(|_| PluginError::Internal("kms state poisoned".into()))? =
                Some(Kms::new(config, WasiTransport));
            Ok(())
        }
    }

    impl VaultGuest for Component {
        fn schemes() -> Vec<String> {
            vec![SCHEME.into()]
        }

        fn list_keys() -> Result<Vec<PublicKey>, PluginError> {
            let listing = with_kms(|k| k.list())?;
            for (id, why) in &listing.skipped {
                log(
                    LogLevel::Debug,
                    &format!("keyvault-awskms: skipped key {id}: {}", why.message()),
                );
            }
            Ok(listing.keys.into_iter().map(public).collect())
        }

        fn get_key(uri: String) -> Result<PublicKey, PluginError> {
            with_kms(|k| k.public(&uri)).map(public)
        }

        fn sign(uri: String, message: Vec<u8>) -> Result<Vec<u8>, PluginError> {
            with_kms(|k| k.sign(&uri, &message))
        }
    }

    export!(Component);
}

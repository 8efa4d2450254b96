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
//! Rust tested natively against python `cryptography`; this file makes
//! them a plugin through the SDK.

pub mod vault;

use rstuf_plugin_sdk::{log, Error, Keyvault, Plugin, PublicKey};
use vault::{Config, Vault, SCHEME};

impl Plugin for Vault {
    const NAME: &'static str = "keyvault-file";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Signs with PEM private key files (fn: key URIs); keys never leave the plugin";
    type Config = Config;

    fn configure(config: Config) -> Result<Self, Error> {
        let vault = Vault::open(config)?;
        // The directory and a count only: never a password.
        log::debug(&format!(
            "keyvault-file: keys in {}, {} password(s) configured",
            vault.dir().display(),
            vault.password_count()
        ));
        Ok(vault)
    }
}

impl Keyvault for Vault {
    fn schemes() -> Vec<String> {
        vec![SCHEME.into()]
    }

    fn list_keys(&mut self) -> Result<Vec<PublicKey>, Error> {
        let listing = self.list()?;
        for (file, why) in &listing.skipped {
            // A wrong or missing password deserves attention; other files
            // in the directory (READMEs, certificates) do not.
            let level = match why {
                Error::Denied(_) => log::Level::Warn,
                _ => log::Level::Debug,
            };
            log::log(
                level,
                &format!("keyvault-file: skipped {file}: {}", why.message()),
            );
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

rstuf_plugin_sdk::export_keyvault!(Vault);

//! The guest SDK: everything an rstuf plugin shares, so a plugin's
//! `lib.rs` is its backend type and one export macro.
//!
//! - [`Plugin`] plus one of [`Storage`], [`Keyvault`], [`Notify`]: plain
//!   Rust traits, unit-tested natively;
//! - [`export_storage!`], [`export_keyvault!`], [`export_notify!`]: the
//!   WIT bindings (`wit_bindgen::generate!` lives here, nowhere else), the
//!   configure-once state, and the conversion of [`Error`] onto the WIT
//!   `plugin-error`;
//! - [`config`]: the configuration as a `Deserialize` struct with unknown
//!   keys refused and its JSON Schema derived from the same struct, with
//!   value types ([`Secret`], [`config::NonEmpty`], [`config::Bounded`])
//!   that carry the rules;
//! - [`log`]: the host's log.
//!
//! ```ignore
//! struct Store { .. }
//! impl rstuf_plugin_sdk::Plugin for Store {
//!     const NAME: &'static str = "storage-example";
//!     const VERSION: &'static str = env!("CARGO_PKG_VERSION");
//!     const DESCRIPTION: &'static str = "...";
//!     type Config = StoreConfig;
//!     fn configure(config: StoreConfig) -> Result<Self, Error> { .. }
//! }
//! impl rstuf_plugin_sdk::Storage for Store { .. }
//! rstuf_plugin_sdk::export_storage!(Store);
//! ```

// The generated bindings name this crate by its absolute path, which the
// export macros need when they expand in a plugin crate.
extern crate self as rstuf_plugin_sdk;

mod backend;
#[cfg(target_arch = "wasm32")]
mod component;
pub mod config;
mod error;
pub mod log;

pub use backend::{Event, Keyvault, Notify, ObjectInfo, Plugin, PublicKey, Storage};
pub use config::Secret;
pub use error::Error;

/// Used by the export macros; not part of the API.
#[doc(hidden)]
pub mod __private {
    #[cfg(target_arch = "wasm32")]
    pub use crate::component::{base, keyvault, notify, storage, Export};
    #[cfg(target_arch = "wasm32")]
    pub use wit_bindgen;
}

/// Export `$backend` (a [`Storage`]) as world `rstuf:plugin/storage-backend`.
/// Expands to nothing when not compiling for `wasm32`.
#[macro_export]
macro_rules! export_storage {
    ($backend:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type RstufPluginExport = $crate::__private::Export<$backend>;
            $crate::__private::base::export_base!(RstufPluginExport with_types_in $crate::__private::base);
            $crate::__private::storage::export_storage_world!(RstufPluginExport with_types_in $crate::__private::storage);
        };
    };
}

/// Export `$backend` (a [`Keyvault`]) as world `rstuf:plugin/keyvault-backend`.
#[macro_export]
macro_rules! export_keyvault {
    ($backend:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type RstufPluginExport = $crate::__private::Export<$backend>;
            $crate::__private::base::export_base!(RstufPluginExport with_types_in $crate::__private::base);
            $crate::__private::keyvault::export_keyvault_world!(RstufPluginExport with_types_in $crate::__private::keyvault);
        };
    };
}

/// Export `$backend` (a [`Notify`]) as world `rstuf:plugin/notify-backend`.
#[macro_export]
macro_rules! export_notify {
    ($backend:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type RstufPluginExport = $crate::__private::Export<$backend>;
            $crate::__private::base::export_base!(RstufPluginExport with_types_in $crate::__private::base);
            $crate::__private::notify::export_notify_world!(RstufPluginExport with_types_in $crate::__private::notify);
        };
    };
}

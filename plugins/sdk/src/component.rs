//! The WIT side (compiled for `wasm32` only): bindings for each world, the
//! one configured backend instance, and generic implementations of the
//! generated `Guest` traits for [`Export<T>`], which the export macros in
//! the plugin crate name as the exported type.
//!
//! Why four `generate!` calls over small SDK worlds instead of one per
//! `rstuf:plugin` world: the bindings of every world export `plugin`, and
//! one crate cannot hold three public export macros of the same interface.
//! `base` (host-log + plugin) plus one world per backend interface, with
//! `types` shared through `with:`, gives each interface one macro; the
//! component a plugin builds still exports exactly `rstuf:plugin/plugin`
//! and its backend interface, the union of the two worlds it names.

use crate::backend::{Keyvault, Notify, Plugin, Storage};
use crate::log::Level;
use crate::Error;
use std::any::Any;
use std::marker::PhantomData;
use std::sync::Mutex;

pub mod base {
    wit_bindgen::generate!({
        path: "../../wit",
        inline: "package rstuf:plugin-sdk;
            world base { import rstuf:plugin/host-log@0.1.0; export rstuf:plugin/plugin@0.1.0; }",
        world: "rstuf:plugin-sdk/base",
        with: { "rstuf:plugin/types@0.1.0": generate, "rstuf:plugin/host-log@0.1.0": generate },
        pub_export_macro: true,
        export_macro_name: "export_base",
        default_bindings_module: "::rstuf_plugin_sdk::__private::base",
        runtime_path: "::rstuf_plugin_sdk::__private::wit_bindgen::rt",
    });
}

pub mod storage {
    wit_bindgen::generate!({
        path: "../../wit",
        inline: "package rstuf:plugin-sdk;
            world storage { export rstuf:plugin/storage@0.1.0; }",
        world: "rstuf:plugin-sdk/storage",
        with: { "rstuf:plugin/types@0.1.0": crate::component::base::rstuf::plugin::types },
        pub_export_macro: true,
        export_macro_name: "export_storage_world",
        default_bindings_module: "::rstuf_plugin_sdk::__private::storage",
        runtime_path: "::rstuf_plugin_sdk::__private::wit_bindgen::rt",
    });
}

pub mod keyvault {
    wit_bindgen::generate!({
        path: "../../wit",
        inline: "package rstuf:plugin-sdk;
            world keyvault { export rstuf:plugin/keyvault@0.1.0; }",
        world: "rstuf:plugin-sdk/keyvault",
        with: { "rstuf:plugin/types@0.1.0": crate::component::base::rstuf::plugin::types },
        pub_export_macro: true,
        export_macro_name: "export_keyvault_world",
        default_bindings_module: "::rstuf_plugin_sdk::__private::keyvault",
        runtime_path: "::rstuf_plugin_sdk::__private::wit_bindgen::rt",
    });
}

pub mod notify {
    wit_bindgen::generate!({
        path: "../../wit",
        inline: "package rstuf:plugin-sdk;
            world notify { export rstuf:plugin/notify@0.1.0; }",
        world: "rstuf:plugin-sdk/notify",
        with: { "rstuf:plugin/types@0.1.0": crate::component::base::rstuf::plugin::types },
        pub_export_macro: true,
        export_macro_name: "export_notify_world",
        default_bindings_module: "::rstuf_plugin_sdk::__private::notify",
        runtime_path: "::rstuf_plugin_sdk::__private::wit_bindgen::rt",
    });
}

use base::rstuf::plugin::types::{LogLevel, PluginError, PluginInfo};

impl From<Error> for PluginError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidConfig(m) => PluginError::InvalidConfig(m),
            Error::InvalidInput(m) => PluginError::InvalidInput(m),
            Error::NotFound(m) => PluginError::NotFound(m),
            Error::Denied(m) => PluginError::Denied(m),
            Error::Unavailable(m) => PluginError::Unavailable(m),
            Error::Internal(m) => PluginError::Internal(m),
        }
    }
}

pub(crate) fn log(level: Level, message: &str) {
    let level = match level {
        Level::Trace => LogLevel::Trace,
        Level::Debug => LogLevel::Debug,
        Level::Info => LogLevel::Info,
        Level::Warn => LogLevel::Warn,
        Level::Error => LogLevel::Error,
    };
    base::rstuf::plugin::host_log::log(level, message);
}

/// The configured backend of this instance. A component holds one plugin
/// and instances are single-threaded; the mutex only satisfies `static`.
static BACKEND: Mutex<Option<Box<dyn Any + Send>>> = Mutex::new(None);

/// Run `f` on the configured backend.
fn with_backend<T: Plugin, R>(
    f: impl FnOnce(&mut T) -> Result<R, Error>,
) -> Result<R, PluginError> {
    let mut guard = BACKEND
        .lock()
        .map_err(|_| PluginError::Internal(format!("{}: state poisoned", T::NAME)))?;
    let backend = guard
        .as_mut()
        .and_then(|b| b.downcast_mut::<T>())
        .ok_or_else(|| PluginError::InvalidConfig(format!("{} used before configure", T::NAME)))?;
    let result = f(backend);
    // The backend is sealed, standing by or unreachable: worth a line in
    // the host log even when the host retries and succeeds.
    if let Err(Error::Unavailable(m)) = &result {
        crate::log::warn(&format!("{}: {m}", T::NAME));
    }
    result.map_err(PluginError::from)
}

/// The type the export macros export: `Export<MyBackend>`.
pub struct Export<T>(PhantomData<T>);

impl<T: Plugin> base::exports::rstuf::plugin::plugin::Guest for Export<T> {
    fn info() -> PluginInfo {
        PluginInfo {
            name: T::NAME.into(),
            version: T::VERSION.into(),
            description: T::DESCRIPTION.into(),
            config_schema: crate::config::schema::<T::Config>(),
        }
    }

    fn configure(config: String) -> Result<(), PluginError> {
        let config = crate::config::parse::<T::Config>(&config)?;
        let backend = T::configure(config)?;
        *BACKEND
            .lock()
            .map_err(|_| PluginError::Internal(format!("{}: state poisoned", T::NAME)))? =
            Some(Box::new(backend));
        Ok(())
    }
}

impl<T: Storage> storage::exports::rstuf::plugin::storage::Guest for Export<T> {
    fn put(name: String, data: Vec<u8>) -> Result<(), PluginError> {
        with_backend(|b: &mut T| b.put(&name, &data))
    }

    fn put_many(objects: Vec<(String, Vec<u8>)>) -> Result<(), PluginError> {
        with_backend(|b: &mut T| b.put_many(&objects))
    }

    fn get(name: String) -> Result<Option<Vec<u8>>, PluginError> {
        with_backend(|b: &mut T| b.get(&name))
    }

    fn list_objects(
        prefix: String,
    ) -> Result<Vec<storage::exports::rstuf::plugin::storage::ObjectInfo>, PluginError> {
        let objects = with_backend(|b: &mut T| b.list_objects(&prefix))?;
        Ok(objects
            .into_iter()
            .map(|o| storage::exports::rstuf::plugin::storage::ObjectInfo {
                name: o.name,
                size: o.size,
                modified: o.modified,
            })
            .collect())
    }

    fn delete(name: String) -> Result<bool, PluginError> {
        with_backend(|b: &mut T| b.delete(&name))
    }
}

type WitPublicKey = keyvault::exports::rstuf::plugin::keyvault::PublicKey;

fn wit_key(k: crate::backend::PublicKey) -> WitPublicKey {
    WitPublicKey {
        uri: k.uri,
        keytype: k.keytype,
        scheme: k.scheme,
        public: k.public,
    }
}

impl<T: Keyvault> keyvault::exports::rstuf::plugin::keyvault::Guest for Export<T> {
    fn schemes() -> Vec<String> {
        T::schemes()
    }

    fn list_keys() -> Result<Vec<WitPublicKey>, PluginError> {
        with_backend(|b: &mut T| b.list_keys()).map(|keys| keys.into_iter().map(wit_key).collect())
    }

    fn get_key(uri: String) -> Result<WitPublicKey, PluginError> {
        with_backend(|b: &mut T| b.get_key(&uri)).map(wit_key)
    }

    fn sign(uri: String, message: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        with_backend(|b: &mut T| b.sign(&uri, &message))
    }
}

impl<T: Notify> notify::exports::rstuf::plugin::notify::Guest for Export<T> {
    fn deliver(event: notify::exports::rstuf::plugin::notify::Event) -> Result<(), PluginError> {
        let event = crate::backend::Event {
            id: event.id,
            kind: event.kind,
            time: event.time,
            data: event.data,
        };
        with_backend(|b: &mut T| b.deliver(&event))
    }
}

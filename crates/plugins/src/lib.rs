//! The WebAssembly plugin runtime.
//!
//! Storage, key-vault and notification backends are WebAssembly components
//! (WIT package `rstuf:plugin@0.1.0`, see `wit/plugin.wit`). This crate is
//! the only place that knows about wasmtime: it loads a component file named
//! by configuration, checks that it exports the interface the host expects,
//! compiles it once (caching the machine code by digest), and hands out typed
//! handles ([`Storage`], [`KeyVault`], [`Notifier`]) that many tokio tasks can
//! call at once.
//!
//! Every instance runs in a sandbox ([`Grants`]): it sees only the
//! directories and network hosts its configuration grants, its memory is
//! capped, and a call that computes for too long is interrupted and reported
//! as an error. A failed or interrupted instance is thrown away, never reused,
//! so one misbehaving call cannot poison the next.

mod bindings;
mod cache;
mod error;
mod inspect;
mod pool;
mod runtime;
mod sandbox;
mod spec;

pub mod keyvault;
pub mod notify;
pub mod storage;

pub use error::{BackendErrorKind, PluginError};
pub use inspect::{ComponentReport, PluginInfo};
pub use keyvault::{KeyVault, PublicKey};
pub use notify::{Event, Notifier};
pub use pool::CallObserver;
pub use runtime::{Runtime, RuntimeOptions};
pub use spec::{DirGrant, Grants, PluginKind, PluginSpec, RedactedConfig};
pub use storage::{ObjectInfo, Storage};

/// The WIT package version this host implements.
pub const WIT_PACKAGE: &str = "rstuf:plugin";
/// The WIT package version this host implements.
pub const WIT_VERSION: &str = "0.1.0";

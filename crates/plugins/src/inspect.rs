//! Looking inside a component file before trusting it: is it a component at
//! all, which `rstuf:plugin` interfaces does it export, and at which version.

use crate::error::PluginError;
use crate::spec::PluginKind;
use crate::{WIT_PACKAGE, WIT_VERSION};
use serde::Serialize;
use std::path::Path;
use wasmtime::component::Component;
use wasmtime::Engine;

/// What a plugin says about itself through `plugin.info`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    /// JSON Schema of the plugin's configuration.
    pub config_schema: String,
}

/// The static facts about a component file.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentReport {
    /// Hex SHA-256 of the file.
    pub sha256: String,
    pub size: u64,
    /// Every export name, e.g. `rstuf:plugin/storage@0.1.0`.
    pub exports: Vec<String>,
    /// Every import name, e.g. `wasi:filesystem/types@0.2.6`.
    pub imports: Vec<String>,
    /// The backend kind whose world the exports satisfy, if any.
    pub kind: Option<PluginKind>,
}

const WASM_MAGIC: &[u8; 4] = b"\0asm";
const CORE_MODULE_VERSION: [u8; 4] = [1, 0, 0, 0];

/// Reject files that are not components with a message that says what they
/// are instead.
pub(crate) fn check_header(plugin: &str, path: &Path, bytes: &[u8]) -> Result<(), PluginError> {
    let not = |reason: &str| PluginError::NotAComponent {
        plugin: plugin.to_string(),
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if bytes.len() < 8 || &bytes[..4] != WASM_MAGIC {
        return Err(not(
            "the file does not start with the WebAssembly magic bytes",
        ));
    }
    if bytes[4..8] == CORE_MODULE_VERSION {
        return Err(not(
            "it is a core WebAssembly module; build plugins with `--target wasm32-wasip2` so they are components",
        ));
    }
    Ok(())
}

pub(crate) fn export_name(interface: &str) -> String {
    format!("{WIT_PACKAGE}/{interface}@{WIT_VERSION}")
}

pub(crate) fn report(engine: &Engine, component: &Component, bytes: &[u8]) -> ComponentReport {
    use sha2::Digest;
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let kind = PluginKind::ALL
        .into_iter()
        .find(|k| satisfies(&exports, *k));
    ComponentReport {
        sha256: hex::encode(sha2::Sha256::digest(bytes)),
        size: bytes.len() as u64,
        exports,
        imports,
        kind,
    }
}

fn satisfies(exports: &[String], kind: PluginKind) -> bool {
    let need = [export_name("plugin"), export_name(kind.interface())];
    need.iter().all(|n| exports.contains(n))
}

/// Check that the component implements the world of `kind` at this host's
/// WIT version.
pub(crate) fn require_world(
    plugin: &str,
    path: &Path,
    report: &ComponentReport,
    kind: PluginKind,
) -> Result<(), PluginError> {
    if satisfies(&report.exports, kind) {
        return Ok(());
    }
    Err(PluginError::WrongWorld {
        plugin: plugin.to_string(),
        path: path.to_path_buf(),
        kind: kind.to_string(),
        expected: format!(
            "world {WIT_PACKAGE}/{}@{WIT_VERSION} (exports {} and {})",
            kind.world(),
            export_name("plugin"),
            export_name(kind.interface())
        ),
        found: if report.exports.is_empty() {
            "nothing".to_string()
        } else {
            report.exports.join(", ")
        },
    })
}

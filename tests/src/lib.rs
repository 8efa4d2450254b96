//! Shared helpers for the integration tests: where the built plugins are,
//! one plugin runtime per test binary, and running the real Python TUF
//! tooling (python-tuf, cryptography) that checks our output independently.
//! [`servers`] runs the real S3 (SeaweedFS) and Vault (OpenBao) servers the
//! network plugins talk to.

pub mod browser;
pub mod cli;
pub mod cluster;
pub mod servers;
pub mod service;
pub mod webhook;

use rstuf_plugins::{DirGrant, Grants, PluginKind, PluginSpec, Runtime, RuntimeOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Path of a built plugin component (`make plugins` puts them in dist/plugins).
pub fn plugin_file(name: &str) -> PathBuf {
    let path = workspace_root()
        .join("dist/plugins")
        .join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "plugin {} is not built: run `make plugins` first (expected {})",
        name,
        path.display()
    );
    path
}

/// A runtime shared by all tests of one test binary (compiling a component
/// once is the expensive part; the on-disk cache makes later runs fast).
pub fn runtime() -> Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Runtime::new(RuntimeOptions {
                cache_dir: Some(workspace_root().join("target/plugin-cache")),
                ..Default::default()
            })
            .expect("plugin runtime starts")
        })
        .clone()
}

/// A storage-fs plugin spec writing into `dir`.
pub fn storage_fs_spec(dir: &Path) -> PluginSpec {
    PluginSpec {
        name: "storage".into(),
        kind: PluginKind::Storage,
        file: plugin_file("storage-fs"),
        config: serde_json::json!({ "path": "/data" }),
        grants: Grants {
            dirs: vec![DirGrant {
                host: dir.to_path_buf(),
                guest: "/data".into(),
                read_only: false,
            }],
            ..Grants::default()
        },
    }
}

/// A storage-s3 plugin spec: `config` as given, HTTP granted to `hosts`.
pub fn storage_s3_spec(config: serde_json::Value, hosts: &[String]) -> PluginSpec {
    PluginSpec {
        name: "storage".into(),
        kind: PluginKind::Storage,
        file: plugin_file("storage-s3"),
        config,
        grants: Grants {
            http_hosts: hosts.to_vec(),
            ..Grants::default()
        },
    }
}

/// A keyvault-vault plugin spec: `config` as given, HTTP granted to `hosts`.
pub fn keyvault_vault_spec(config: serde_json::Value, hosts: &[String]) -> PluginSpec {
    PluginSpec {
        name: "online-keys".into(),
        kind: PluginKind::Keyvault,
        file: plugin_file("keyvault-vault"),
        config,
        grants: Grants {
            http_hosts: hosts.to_vec(),
            ..Grants::default()
        },
    }
}

/// A network plugin spec (`storage-s3`, `keyvault-*`, `notify-webhook`):
/// `config` as given, HTTP granted to `hosts` only.
pub fn network_spec(
    plugin: &str,
    kind: PluginKind,
    config: serde_json::Value,
    hosts: &[String],
) -> PluginSpec {
    PluginSpec {
        name: plugin.into(),
        kind,
        file: plugin_file(plugin),
        config,
        grants: Grants {
            http_hosts: hosts.to_vec(),
            ..Grants::default()
        },
    }
}

/// A keyvault-file plugin spec reading keys from `dir`.
pub fn keyvault_file_spec(dir: &Path, config: serde_json::Value) -> PluginSpec {
    PluginSpec {
        name: "online-keys".into(),
        kind: PluginKind::Keyvault,
        file: plugin_file("keyvault-file"),
        config,
        grants: Grants {
            dirs: vec![DirGrant {
                host: dir.to_path_buf(),
                guest: "/keys".into(),
                read_only: true,
            }],
            ..Grants::default()
        },
    }
}

/// Run a Python snippet with arguments; panics with its stderr on failure.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        script
    );
    String::from_utf8(out.stdout).expect("python prints UTF-8")
}

/// Versioned metadata files are immutable: a file, once seen, must keep
/// its bytes. Checked by (mtime, length), re-hashing when either moves.
#[derive(Default)]
pub struct ImmutableFiles {
    seen: std::collections::BTreeMap<String, (std::time::SystemTime, u64, String)>,
}

impl ImmutableFiles {
    /// Look at every versioned file in `dir`; a changed one is a problem.
    pub fn check(&mut self, dir: &std::path::Path, problems: &mut Vec<String>) {
        use sha2::{Digest, Sha256};
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "timestamp.json" || name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            let (Ok(mtime), len) = (meta.modified(), meta.len()) else {
                continue;
            };
            match self.seen.get(&name) {
                Some((m, l, _)) if *m == mtime && *l == len => {}
                previous => {
                    let Ok(bytes) = std::fs::read(entry.path()) else {
                        continue;
                    };
                    let digest = hex::encode(Sha256::digest(&bytes));
                    if let Some((_, _, before)) = previous {
                        if *before != digest {
                            problems.push(format!("{name} was rewritten with other bytes"));
                        }
                    }
                    self.seen.insert(name, (mtime, len, digest));
                }
            }
        }
    }
}

//! The engine that all plugins share: one wasmtime [`Engine`] configured for
//! async calls, epoch interruption and the component model; a background
//! thread that advances the epoch; one linker per backend kind; and the
//! compile cache.
//!
//! Compiling a component with Cranelift costs seconds, so the machine code is
//! cached on disk under the SHA-256 of the component bytes and the engine's
//! compatibility hash. Swapping a plugin file changes its digest and so
//! triggers a fresh compile; nothing is keyed by file name. The cache runs
//! unchecked native code, so it is only used where nobody else can write
//! (see [`crate::cache`]).

use crate::bindings;
use crate::cache::CodeCache;
use crate::error::PluginError;
use crate::inspect::{self, ComponentReport};
use crate::pool::{CallObserver, Pool, World};
use crate::sandbox::{HostState, TICK};
use crate::spec::{PluginKind, PluginSpec};
use crate::{KeyVault, Notifier, Storage};
use sha2::Digest;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

/// How the runtime is set up.
#[derive(Clone, Default)]
pub struct RuntimeOptions {
    /// Directory for compiled machine code. `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Told about every call of every plugin this runtime loads.
    pub observer: Option<Arc<dyn CallObserver>>,
}

/// Loads plugins. Cheap to clone; all clones share one engine.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    storage: Linker<HostState>,
    keyvault: Linker<HostState>,
    notify: Linker<HostState>,
    cache: Option<CodeCache>,
    observer: Option<Arc<dyn CallObserver>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    pub fn new(options: RuntimeOptions) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        let engine = Engine::new(&config)?;

        let cache = options
            .cache_dir
            .as_deref()
            .and_then(|dir| match CodeCache::open(dir) {
                Ok(cache) => Some(cache),
                Err(why) => {
                    tracing::warn!("{why}; plugins are compiled at every start");
                    None
                }
            });

        let stop = Arc::new(AtomicBool::new(false));
        spawn_ticker(engine.clone(), stop.clone());

        Ok(Runtime {
            inner: Arc::new(Inner {
                storage: linker::<bindings::storage::StorageBackend>(&engine)?,
                keyvault: linker::<bindings::keyvault::KeyvaultBackend>(&engine)?,
                notify: linker::<bindings::notify::NotifyBackend>(&engine)?,
                engine,
                cache,
                observer: options.observer,
                stop,
            }),
        })
    }

    /// Load a storage plugin and configure its first instance.
    pub async fn load_storage(&self, spec: &PluginSpec) -> Result<Storage, PluginError> {
        let pool = self
            .load::<bindings::storage::StorageBackend>(spec, PluginKind::Storage)
            .await?;
        Ok(Storage::new(pool))
    }

    /// Load a key-vault plugin and configure its first instance.
    pub async fn load_keyvault(&self, spec: &PluginSpec) -> Result<KeyVault, PluginError> {
        let pool = self
            .load::<bindings::keyvault::KeyvaultBackend>(spec, PluginKind::Keyvault)
            .await?;
        KeyVault::new(pool).with_schemes().await
    }

    /// Load a notification plugin and configure its first instance.
    pub async fn load_notify(&self, spec: &PluginSpec) -> Result<Notifier, PluginError> {
        let pool = self
            .load::<bindings::notify::NotifyBackend>(spec, PluginKind::Notify)
            .await?;
        Ok(Notifier::new(pool))
    }

    /// Describe a component file without configuring it: its digest, imports,
    /// exports and which backend kind it implements.
    pub async fn inspect(&self, path: &Path) -> Result<ComponentReport, PluginError> {
        let name = path.display().to_string();
        let bytes = read_file(&name, path).await?;
        let component = self.compile(&name, path, &bytes).await?;
        Ok(inspect::report(&self.inner.engine, &component, &bytes))
    }

    /// Describe a component file and, when it implements a known world, ask
    /// the plugin for its `info` (name, version, configuration schema)
    /// without configuring it.
    pub async fn describe(
        &self,
        path: &Path,
    ) -> Result<(ComponentReport, Option<crate::PluginInfo>), PluginError> {
        let name = path.display().to_string();
        let bytes = read_file(&name, path).await?;
        let component = self.compile(&name, path, &bytes).await?;
        let report = inspect::report(&self.inner.engine, &component, &bytes);
        let link_err = |e: wasmtime::Error| PluginError::Link {
            plugin: name.clone(),
            path: path.to_path_buf(),
            reason: format!("{e:#}"),
        };
        let info = match report.kind {
            Some(PluginKind::Storage) => {
                let pre = self
                    .inner
                    .storage
                    .instantiate_pre(&component)
                    .map_err(link_err)?;
                let pre = bindings::storage::StorageBackend::new_pre(pre).map_err(link_err)?;
                Some(
                    crate::pool::describe::<bindings::storage::StorageBackend>(
                        &name,
                        &self.inner.engine,
                        &pre,
                    )
                    .await?,
                )
            }
            Some(PluginKind::Keyvault) => {
                let pre = self
                    .inner
                    .keyvault
                    .instantiate_pre(&component)
                    .map_err(link_err)?;
                let pre = bindings::keyvault::KeyvaultBackend::new_pre(pre).map_err(link_err)?;
                Some(
                    crate::pool::describe::<bindings::keyvault::KeyvaultBackend>(
                        &name,
                        &self.inner.engine,
                        &pre,
                    )
                    .await?,
                )
            }
            Some(PluginKind::Notify) => {
                let pre = self
                    .inner
                    .notify
                    .instantiate_pre(&component)
                    .map_err(link_err)?;
                let pre = bindings::notify::NotifyBackend::new_pre(pre).map_err(link_err)?;
                Some(
                    crate::pool::describe::<bindings::notify::NotifyBackend>(
                        &name,
                        &self.inner.engine,
                        &pre,
                    )
                    .await?,
                )
            }
            None => None,
        };
        Ok((report, info))
    }

    async fn load<W: World>(
        &self,
        spec: &PluginSpec,
        kind: PluginKind,
    ) -> Result<Arc<Pool<W>>, PluginError> {
        if spec.kind != kind {
            return Err(PluginError::InvalidConfig {
                plugin: spec.name.clone(),
                message: format!("configured as a {} plugin but loaded as {kind}", spec.kind),
            });
        }
        validate_grants(spec)?;
        let bytes = read_file(&spec.name, &spec.file).await?;
        let component = self.compile(&spec.name, &spec.file, &bytes).await?;
        let report = inspect::report(&self.inner.engine, &component, &bytes);
        inspect::require_world(&spec.name, &spec.file, &report, kind)?;

        let linker = match kind {
            PluginKind::Storage => &self.inner.storage,
            PluginKind::Keyvault => &self.inner.keyvault,
            PluginKind::Notify => &self.inner.notify,
        };
        let link_err = |e: wasmtime::Error| PluginError::Link {
            plugin: spec.name.clone(),
            path: spec.file.clone(),
            reason: format!("{e:#}"),
        };
        let pre = linker.instantiate_pre(&component).map_err(link_err)?;
        let pre = W::new_pre(pre).map_err(link_err)?;
        let config =
            serde_json::to_string(&spec.config).map_err(|e| PluginError::InvalidConfig {
                plugin: spec.name.clone(),
                message: e.to_string(),
            })?;
        let pool = Pool::new(
            &spec.name,
            self.inner.engine.clone(),
            pre,
            spec.grants.clone(),
            config,
            self.inner.observer.clone(),
        )
        .await?;
        tracing::info!(
            plugin = %spec.name,
            kind = %kind,
            file = %spec.file.display(),
            sha256 = %report.sha256,
            plugin_name = %pool.info.name,
            plugin_version = %pool.info.version,
            "plugin loaded"
        );
        Ok(Arc::new(pool))
    }

    /// Compile (or load from cache) the component, off the async threads.
    async fn compile(
        &self,
        plugin: &str,
        path: &Path,
        bytes: &[u8],
    ) -> Result<Component, PluginError> {
        inspect::check_header(plugin, path, bytes)?;
        let engine = self.inner.engine.clone();
        let cache = self
            .inner
            .cache
            .clone()
            .map(|cache| (cache, cache_name(&engine, bytes)));
        let bytes = bytes.to_vec();
        let plugin_name = plugin.to_string();
        let path_buf = path.to_path_buf();
        tokio::task::spawn_blocking(move || {
            compile_cached(&engine, &plugin_name, &path_buf, &bytes, cache)
        })
        .await
        .map_err(|e| PluginError::Trap {
            plugin: plugin.to_string(),
            message: format!("compiler task failed: {e}"),
        })?
    }
}

fn linker<W: World>(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    W::add_to_linker(&mut linker)?;
    Ok(linker)
}

fn spawn_ticker(engine: Engine, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("plugin-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                engine.increment_epoch();
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::error!("cannot start the plugin epoch thread: {e}"));
}

fn validate_grants(spec: &PluginSpec) -> Result<(), PluginError> {
    let bad = |reason: String| PluginError::Grant {
        plugin: spec.name.clone(),
        reason,
    };
    let g = &spec.grants;
    if g.memory_mib == 0 || g.memory_mib > 16 * 1024 {
        return Err(bad(format!(
            "memory_mib must be between 1 and 16384, got {}",
            g.memory_mib
        )));
    }
    if g.cpu_ms == 0 || g.timeout_ms == 0 {
        return Err(bad("cpu_ms and timeout_ms must be positive".into()));
    }
    if g.max_instances == 0 || g.max_instances > 1024 {
        return Err(bad(format!(
            "max_instances must be between 1 and 1024, got {}",
            g.max_instances
        )));
    }
    for dir in &g.dirs {
        if !dir.guest.starts_with('/') {
            return Err(bad(format!("guest path '{}' must be absolute", dir.guest)));
        }
        if !dir.host.is_dir() {
            return Err(bad(format!(
                "granted directory {} does not exist",
                dir.host.display()
            )));
        }
    }
    for host in &g.http_hosts {
        if host.is_empty() || host.contains('/') || host.contains('*') {
            return Err(bad(format!("http host '{host}' must be `host` or `host:port`, without scheme, path or wildcards")));
        }
    }
    Ok(())
}

async fn read_file(plugin: &str, path: &Path) -> Result<Vec<u8>, PluginError> {
    tokio::fs::read(path)
        .await
        .map_err(|source| PluginError::ReadFile {
            plugin: plugin.to_string(),
            path: path.to_path_buf(),
            source,
        })
}

fn cache_name(engine: &Engine, bytes: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!(
        "{}-{:016x}.cwasm",
        hex::encode(sha2::Sha256::digest(bytes)),
        hasher.finish()
    )
}

fn compile_cached(
    engine: &Engine,
    plugin: &str,
    path: &Path,
    bytes: &[u8],
    cache: Option<(CodeCache, String)>,
) -> Result<Component, PluginError> {
    if let Some(code) = cache.as_ref().and_then(|(cache, name)| cache.read(name)) {
        // SAFETY: the bytes come from a file only this user can write (the
        // cache checks owner and mode on the open file), written by
        // `Component::serialize` of an engine with the same compatibility
        // hash (it is in the file name). wasmtime still checks the header
        // and refuses incompatible artifacts; on any error we recompile.
        match unsafe { Component::deserialize(engine, &code) } {
            Ok(component) => return Ok(component),
            Err(e) => {
                tracing::warn!(plugin, "ignoring unusable cached plugin code: {e}")
            }
        }
    }
    let component = Component::new(engine, bytes).map_err(|e| PluginError::NotAComponent {
        plugin: plugin.to_string(),
        path: path.to_path_buf(),
        reason: format!("{e:#}"),
    })?;
    if let Some((cache, name)) = &cache {
        let written = component
            .serialize()
            .map_err(|e| e.to_string())
            .and_then(|code| cache.write(name, &code).map_err(|e| e.to_string()));
        if let Err(e) = written {
            tracing::warn!(plugin, cache = %cache.path(name).display(), "cannot write plugin compile cache: {e}");
        }
    }
    Ok(component)
}

//! A pool of configured instances of one plugin.
//!
//! Instantiating a component is cheap, but configuring one may not be (a key
//! vault decrypts its key files, an S3 plugin resolves credentials), so
//! healthy instances are kept and reused. An instance that trapped, ran out
//! of memory or CPU, or was abandoned by a timeout is dropped instead: its
//! state can no longer be trusted. A semaphore bounds instances and calls in
//! flight to `Grants::max_instances`.

use crate::bindings::WitError;
use crate::error::PluginError;
use crate::inspect::PluginInfo;
use crate::sandbox::{on_epoch, HostState};
use crate::spec::Grants;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{InstancePre, Linker};
use wasmtime::{Engine, Store};

/// What the pool needs from one generated world.
pub(crate) trait World: Sized + Send + Sync + 'static {
    type Pre: Clone + Send + Sync + 'static;
    fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()>;
    fn new_pre(pre: InstancePre<HostState>) -> wasmtime::Result<Self::Pre>;
    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<HostState>,
    ) -> impl Future<Output = wasmtime::Result<Self>> + Send;
    fn info(
        &self,
        store: &mut Store<HostState>,
    ) -> impl Future<Output = wasmtime::Result<PluginInfo>> + Send;
    fn configure(
        &self,
        store: &mut Store<HostState>,
        config: &str,
    ) -> impl Future<Output = wasmtime::Result<Result<(), WitError>>> + Send;
}

pub(crate) struct Instance<W> {
    pub(crate) store: Store<HostState>,
    pub(crate) world: W,
}

pub(crate) struct Pool<W: World> {
    pub(crate) name: String,
    engine: Engine,
    pre: W::Pre,
    grants: Grants,
    /// The configuration JSON. Holds secrets; never logged.
    config: String,
    idle: Mutex<Vec<Instance<W>>>,
    permits: Arc<Semaphore>,
    pub(crate) info: PluginInfo,
    observer: Option<Arc<dyn CallObserver>>,
}

/// Told about every plugin call (the host's metrics): which plugin, which
/// operation, how long it took and whether it succeeded.
pub trait CallObserver: Send + Sync {
    fn plugin_call(&self, plugin: &str, op: &'static str, elapsed: Duration, ok: bool);
}

impl<W: World> Pool<W> {
    /// Create the pool and one configured instance, so that a bad
    /// configuration is reported at load time, not on first use.
    pub(crate) async fn new(
        name: &str,
        engine: Engine,
        pre: W::Pre,
        grants: Grants,
        config: String,
        observer: Option<Arc<dyn CallObserver>>,
    ) -> Result<Self, PluginError> {
        let permits = Arc::new(Semaphore::new(grants.max_instances.max(1)));
        let mut pool: Pool<W> = Pool {
            name: name.to_string(),
            engine,
            pre,
            grants,
            config,
            idle: Mutex::new(Vec::new()),
            permits,
            info: PluginInfo::default(),
            observer,
        };
        let mut first = pool.create().await?;
        first.store.data_mut().arm(pool.cpu_budget());
        let info = W::info(&first.world, &mut first.store).await;
        pool.info = pool.settle(&mut first, Ok(info))?;
        pool.idle_push(first);
        Ok(pool)
    }

    /// Run one operation (waiting for an instance included) and tell the
    /// observer how it went.
    pub(crate) async fn observe<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T, PluginError>>,
    ) -> Result<T, PluginError> {
        let started = std::time::Instant::now();
        let result = call.await;
        if let Some(observer) = &self.observer {
            observer.plugin_call(&self.name, op, started.elapsed(), result.is_ok());
        }
        result
    }

    fn cpu_budget(&self) -> Duration {
        Duration::from_millis(self.grants.cpu_ms)
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.grants.timeout_ms)
    }

    async fn create(&self) -> Result<Instance<W>, PluginError> {
        let state = HostState::new(&self.name, &self.grants)?;
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_callback(on_epoch);
        store.data_mut().arm(self.cpu_budget());
        store.set_epoch_deadline(1);
        let world =
            match tokio::time::timeout(self.timeout(), W::instantiate(&self.pre, &mut store)).await
            {
                Ok(Ok(world)) => world,
                Ok(Err(e)) => return Err(self.classify(&store, e)),
                Err(_) => return Err(self.timed_out()),
            };
        let mut instance = Instance { store, world };
        instance.store.data_mut().arm(self.cpu_budget());
        instance.store.set_epoch_deadline(1);
        let configured = tokio::time::timeout(
            self.timeout(),
            instance.world.configure(&mut instance.store, &self.config),
        )
        .await;
        match configured {
            Ok(Ok(Ok(()))) => Ok(instance),
            Ok(Ok(Err(wit))) => Err(wit.into_plugin_error(&self.name)),
            Ok(Err(e)) => Err(self.classify(&instance.store, e)),
            Err(_) => Err(self.timed_out()),
        }
    }

    /// Create and configure a fresh instance outside the pool, then drop it;
    /// returns how long that took. Used by `rstuf plugin verify` and the
    /// benchmarks to measure start-up cost.
    pub(crate) async fn probe(&self) -> Result<Duration, PluginError> {
        let started = std::time::Instant::now();
        let instance = self.create().await?;
        let elapsed = started.elapsed();
        drop(instance);
        Ok(elapsed)
    }

    fn idle_push(&self, instance: Instance<W>) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(instance);
        }
    }

    /// Take an instance for one call, waiting while all are busy.
    pub(crate) async fn checkout(&self) -> Result<Lease<W>, PluginError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PluginError::Trap {
                plugin: self.name.clone(),
                message: "plugin pool closed".into(),
            })?;
        let reused = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let mut instance = match reused {
            Some(i) => i,
            None => self.create().await?,
        };
        instance.store.data_mut().arm(self.cpu_budget());
        instance.store.set_epoch_deadline(1);
        Ok(Lease {
            instance,
            _permit: permit,
        })
    }

    /// Finish a call: give a healthy instance back, drop a broken one, and
    /// turn the outcome into the caller's result.
    pub(crate) fn finish<T>(
        &self,
        mut lease: Lease<W>,
        outcome: Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
    ) -> Result<T, PluginError> {
        let value = self.settle(&mut lease.instance, outcome)?;
        self.idle_push(lease.instance);
        Ok(value)
    }

    fn settle<T>(
        &self,
        instance: &mut Instance<W>,
        outcome: Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
    ) -> Result<T, PluginError> {
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.classify(&instance.store, e)),
            Err(_) => Err(self.timed_out()),
        }
    }

    fn timed_out(&self) -> PluginError {
        PluginError::Timeout {
            plugin: self.name.clone(),
            timeout_ms: self.grants.timeout_ms,
        }
    }

    /// Name a trap: memory cap, CPU budget, or a crash inside the plugin.
    fn classify(&self, store: &Store<HostState>, e: wasmtime::Error) -> PluginError {
        let state = store.data();
        if state.cpu_exhausted {
            PluginError::CpuLimit {
                plugin: self.name.clone(),
                cpu_ms: self.grants.cpu_ms,
            }
        } else if state.limits.hit {
            PluginError::MemoryLimit {
                plugin: self.name.clone(),
                limit_mib: self.grants.memory_mib,
            }
        } else {
            let message = match e.downcast_ref::<wasmtime::Trap>() {
                Some(trap) => format!("{trap} ({e})"),
                None => e.to_string(),
            };
            PluginError::Trap {
                plugin: self.name.clone(),
                message,
            }
        }
    }
}

/// Instantiate a component with an empty sandbox and ask it for `info`
/// without configuring it (for `rstuf plugin inspect`).
pub(crate) async fn describe<W: World>(
    name: &str,
    engine: &Engine,
    pre: &W::Pre,
) -> Result<PluginInfo, PluginError> {
    let grants = Grants::default();
    let state = HostState::new(name, &grants)?;
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    store.epoch_deadline_callback(on_epoch);
    store.data_mut().arm(Duration::from_millis(grants.cpu_ms));
    store.set_epoch_deadline(1);
    let trap = |e: wasmtime::Error| PluginError::Trap {
        plugin: name.to_string(),
        message: format!("{e:#}"),
    };
    let world = W::instantiate(pre, &mut store).await.map_err(trap)?;
    W::info(&world, &mut store).await.map_err(trap)
}

/// One instance checked out for a call. Dropping it without
/// [`Pool::finish`] discards the instance.
pub(crate) struct Lease<W> {
    pub(crate) instance: Instance<W>,
    _permit: OwnedSemaphorePermit,
}

/// Run one exported function on a pooled instance with the pool's time
/// limits, returning the function's own result or a [`PluginError`].
///
/// `$call` is an expression over `$world` (the generated bindings) and
/// `$store` (the instance's store).
macro_rules! plugin_call {
    ($pool:expr, |$world:ident, $store:ident| $call:expr) => {{
        let pool = &$pool;
        let mut lease = pool.checkout().await?;
        let outcome = {
            let $world = &lease.instance.world;
            let $store = &mut lease.instance.store;
            tokio::time::timeout(pool.timeout(), $call).await
        };
        pool.finish(lease, outcome)
    }};
}
pub(crate) use plugin_call;

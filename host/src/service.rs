//! Assembles the service from configuration: database, plugins, the API
//! and the worker, with the periodic jobs, and shuts it down gracefully.

use crate::api::{self, AppState, Metrics};
use crate::backends::Backends;
use crate::config::{redact_url, Config};
use crate::distributed::{DistributedState, Transport};
use crate::embedded::EmbeddedState;
use crate::worker::tokio_util_shutdown::Shutdown;
use crate::worker::{self, clock::Clock, Ctx};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A running service.
pub struct Service {
    /// Where the API listens (when this process runs it).
    pub addr: Option<SocketAddr>,
    pub ctx: Arc<Ctx>,
    shutdown: Shutdown,
    tasks: Vec<JoinHandle<()>>,
}

/// Start everything the configured role runs.
pub async fn start(config: Config, clock: Clock) -> anyhow::Result<Service> {
    for dir in config.directories_to_create() {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let store = connect_database(&config.database.url)
        .await
        .with_context(|| format!("database {}", redact_url(&config.database.url)))?;
    let transport = if config.is_distributed() {
        let states = rstuf_queue::TaskStates::connect(
            &config.queue.redis,
            &config.queue.name,
            config.queue.result_ttl_secs,
        )
        .await
        .with_context(|| format!("task state store {}", redact_url(&config.queue.redis)))?;
        Some(Transport {
            broker: Arc::new(rstuf_queue::Broker::new(rstuf_queue::BrokerConfig {
                url: config.queue.broker.clone(),
                queue: config.queue.name.clone(),
            })),
            states: Arc::new(states),
            max_attempts: config.queue.max_attempts,
        })
    } else {
        None
    };
    let metrics = Arc::new(Metrics::new());
    let backends = Backends::load(&config, Some(metrics.clone())).await?;
    let wake = Arc::new(tokio::sync::Notify::new());
    let ctx = Arc::new(Ctx {
        store: store.clone(),
        backends: backends.clone(),
        clock,
        publish_lock: tokio::sync::Mutex::new(()),
        wake: wake.clone(),
        worker_id: config.worker.id.clone(),
        lease: Duration::from_secs(config.worker.lock_timeout_secs),
        retry_delay: Duration::from_millis(config.queue.retry_delay_ms),
        hours_before_expire: config.worker.hours_before_expire as i64,
        metrics: metrics.clone(),
        outbox: crate::notify::Outbox::start(
            &backends.notifiers,
            config.plugins.notify_outbox,
            metrics.clone(),
        ),
    });
    let shutdown = Shutdown::default();
    let mut tasks = Vec::new();
    let mut addr = None;

    if config.server.role.runs_worker() {
        tasks.push(tokio::spawn(recover(ctx.clone(), shutdown.clone())));
        match &transport {
            Some(t) => tasks.push(tokio::spawn(crate::distributed::run(
                ctx.clone(),
                t.clone(),
                config.worker.concurrency,
                shutdown.clone(),
            ))),
            None => tasks.push(tokio::spawn(worker::run(
                ctx.clone(),
                config.worker.concurrency,
                shutdown.clone(),
            ))),
        }
        tasks.push(tokio::spawn(periodic(
            ctx.clone(),
            config.clone(),
            shutdown.clone(),
        )));
    }

    if config.server.role.runs_api() {
        let state_store: Arc<dyn crate::state::StateStore> = match &transport {
            Some(t) => Arc::new(DistributedState {
                settings: EmbeddedState {
                    store: store.clone(),
                    wake: None,
                    max_attempts: config.queue.max_attempts,
                },
                transport: t.clone(),
            }),
            None => Arc::new(EmbeddedState {
                store: store.clone(),
                wake: config.server.role.runs_worker().then(|| wake.clone()),
                max_attempts: config.queue.max_attempts,
            }),
        };
        let state = AppState {
            store: state_store,
            metrics,
            storage: config
                .server
                .serve_metadata
                .then(|| backends.storage.clone()),
            server: Arc::new(config.server.clone()),
            clock: ctx.clock.clone(),
            expiry_warning: chrono::Duration::days(config.worker.expiry_warning_days as i64),
        };
        let tls = match config.server.tls_files() {
            None => None,
            Some(files) => {
                let tls = Arc::new(api::tls::Tls::new(files)?);
                tls.reload_on_sighup().context(
                    "cannot install the SIGHUP handler that reloads the TLS certificate",
                )?;
                Some(tls)
            }
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.listen))?;
        addr = Some(listener.local_addr()?);
        let app = api::router(state);
        let stop = shutdown.clone();
        let limits = api::server::Limits {
            header_read_timeout: Duration::from_secs(config.server.header_read_timeout_secs),
            max_connections: config.server.max_connections,
        };
        tasks.push(tokio::spawn(async move {
            api::server::serve(listener, app, limits, tls, async move { stop.wait().await }).await;
        }));
        warn_if_open(&config, addr.unwrap_or(config.server.listen));
        tracing::info!(
            "API listening on {scheme}://{}",
            addr.unwrap_or(config.server.listen)
        );
    }
    Ok(Service {
        addr,
        ctx,
        shutdown,
        tasks,
    })
}

/// Upstream's default is no authentication (a gateway in front does it).
/// That is fine on loopback; on any other address say so loudly, once.
/// `RSTUF_AUTH_REQUIRED=true` makes it a start-up error instead (checked
/// with the configuration).
fn warn_if_open(config: &Config, addr: SocketAddr) {
    if config.server.auth_tokens.is_empty() && !addr.ip().is_loopback() {
        tracing::warn!(
            address = %addr,
            "the API listens on a non-loopback address without authentication: anyone who can reach {addr} \
             can add and remove artifacts; set RSTUF_AUTH_TOKENS (and RSTUF_AUTH_REQUIRED=true to make this an error), \
             or put an authenticating gateway in front"
        );
    }
}

/// How long a graceful stop waits for in-flight work in all.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(32);

/// How long start-up keeps trying a database it cannot reach.
const DATABASE_STARTUP_WAIT: Duration = Duration::from_secs(120);

/// Connect to the database, waiting (with backoff) while it cannot be
/// reached: a process started while PostgreSQL restarts waits for it, as a
/// running one reconnects, instead of exiting; so does one whose
/// connection breaks during the migrations. Errors the server answers
/// (credentials, a missing database, a failed statement) are reported at
/// once.
async fn connect_database(url: &str) -> Result<rstuf_store::Store, rstuf_store::StoreError> {
    let deadline = tokio::time::Instant::now() + DATABASE_STARTUP_WAIT;
    let mut delay = Duration::from_millis(200);
    loop {
        match rstuf_store::Store::connect(url).await {
            Err(e) if e.is_transient() && tokio::time::Instant::now() + delay < deadline => {
                tracing::warn!("{e}; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// How many times the start-up publish pass is retried after a failure
/// of a dependency (about six minutes with the default `queue.retry_delay_ms`).
const RECOVERY_ATTEMPTS: u32 = 12;

/// Finish what a crash left behind (a stale timestamp, pending rows) with a
/// publish pass at start-up. It runs beside the task consumer and retries
/// while the database, storage or key vault is away: a worker started just
/// as PostgreSQL restarts keeps going instead of exiting. A pass that
/// cannot be done (`Invalid`) is not retried; the next task's pass will
/// report it.
async fn recover(ctx: Arc<Ctx>, shutdown: Shutdown) {
    for attempt in 0..RECOVERY_ATTEMPTS {
        let outcome = match ctx.store.setting("TRUSTED_ROOT").await {
            Ok(None) => return,
            Ok(Some(_)) => worker::publish(&ctx, worker::PublishOptions::default())
                .await
                .map(|_| ()),
            Err(e) => Err(worker::WorkError::Retry(e.to_string())),
        };
        match outcome {
            Ok(()) => return,
            Err(e @ worker::WorkError::Invalid(_)) => {
                tracing::warn!("start-up publish pass failed: {e}");
                return;
            }
            Err(e) => tracing::warn!(attempt, "start-up publish pass failed, retrying: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(worker::retry_delay(ctx.retry_delay, attempt)) => {}
            _ = shutdown.wait() => return,
        }
    }
    tracing::warn!("start-up publish pass gave up; the next task's pass will publish");
}

/// Re-sign online roles near expiry, and drop old task results.
async fn periodic(ctx: Arc<Ctx>, config: Config, shutdown: Shutdown) {
    let every = Duration::from_secs(config.worker.bump_interval_secs);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait() => return,
        }
        match worker::bump(&ctx).await {
            Ok(result) => tracing::debug!(?result.details, "online roles checked"),
            Err(e) => tracing::warn!("re-signing online roles failed: {e}"),
        }
        if config.worker.retention_keep_snapshots > 0 {
            let policy = worker::retention::Retention {
                keep_snapshots: config.worker.retention_keep_snapshots,
                grace: Duration::from_secs(config.worker.retention_grace_secs),
            };
            if let Err(e) = worker::retention::sweep(&ctx, policy).await {
                tracing::warn!("deleting old metadata versions failed: {e}");
            }
        }
        let window = chrono::Duration::days(config.worker.expiry_warning_days as i64);
        if window > chrono::Duration::zero() {
            match crate::expiry::notify(&ctx.store, &ctx.outbox, ctx.clock.now(), window).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(warnings = n, "announced roles nearing expiry"),
                Err(e) => tracing::warn!("checking role expiries failed: {e}"),
            }
        }
        let cutoff = chrono::Utc::now().naive_utc()
            - chrono::Duration::seconds(config.queue.result_ttl_secs as i64);
        if let Err(e) = ctx.store.purge_finished_before(cutoff).await {
            tracing::warn!("purging old task results failed: {e}");
        }
        if let Err(e) = ctx.store.purge_applied_before(cutoff).await {
            tracing::warn!("purging old task effect records failed: {e}");
        }
    }
}

impl Service {
    /// Stop accepting work, let in-flight tasks finish, and return.
    pub async fn shutdown(self) {
        self.shutdown.trigger();
        // One deadline for everything, so the process is gone well within
        // the grace period orchestrators give (compose, Kubernetes: 45 s).
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        for t in self.tasks {
            let _ = tokio::time::timeout_at(deadline, t).await;
        }
    }
}

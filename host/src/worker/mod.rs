//! The worker: claims tasks from the queue and runs them against the
//! repository. Each action is one module; they share [`Ctx`] (database,
//! plugins, clock) and the publisher, which is the only code that writes new
//! metadata versions.

mod artifacts;
mod bootstrap;
pub mod clock;
mod delegations;
mod failpoint;
mod publish;
pub mod retention;
mod settings_task;
mod signer;

use crate::backends::Backends;
use clock::Clock;
use rstuf_api::task::{TaskName, TaskResult};
use rstuf_plugins::PluginError;
use rstuf_store::{Store, StoreError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Notify, Semaphore};

pub use publish::{bump_online_roles as bump, offline_roles, publish, PublishOptions};
pub use signer::OnlineKey;

/// How a task failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// The request cannot be done as asked: reported as ERRORED with this
    /// text in `error`; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// A dependency failed (database, storage, key vault): the task is
    /// retried with back-off and fails after its attempts are used.
    #[error("{0}")]
    Retry(String),
    /// The task's data cannot be published (an artifact whose metadata no
    /// client could load): recorded as FAILURE with this text, never
    /// retried. The message names what was refused and says what, if
    /// anything, of the task was applied.
    #[error("{0}")]
    Refused(String),
}

impl WorkError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        WorkError::Invalid(msg.into())
    }

    pub fn plugin(e: PluginError) -> Self {
        match e.backend_kind() {
            Some(
                rstuf_plugins::BackendErrorKind::InvalidInput
                | rstuf_plugins::BackendErrorKind::NotFound,
            ) => WorkError::Invalid(e.to_string()),
            _ => WorkError::Retry(e.to_string()),
        }
    }
}

impl From<StoreError> for WorkError {
    fn from(e: StoreError) -> Self {
        WorkError::Retry(e.to_string())
    }
}

/// What every task handler needs.
pub struct Ctx {
    pub store: Store,
    pub backends: Backends,
    pub clock: Clock,
    /// Serializes publish passes inside this process (the database lease
    /// serializes them across processes).
    pub publish_lock: Mutex<()>,
    /// Wakes the worker loop when a task is queued in this process.
    pub wake: Arc<Notify>,
    pub worker_id: String,
    pub lease: Duration,
    /// The first wait before a failed task runs again (see [`retry_delay`]).
    pub retry_delay: Duration,
    pub hours_before_expire: i64,
    pub metrics: Arc<crate::api::Metrics>,
    /// Where each committed publish pass is announced to notify plugins.
    pub outbox: crate::notify::Outbox,
}

/// Settings as read at the start of a task.
pub struct Settings(pub BTreeMap<String, Value>);

impl Settings {
    pub async fn load(store: &Store) -> Result<Settings, WorkError> {
        Ok(Settings(store.settings().await?))
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Value::as_i64)
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// Expiry policy of a role, in days.
    pub fn expiration(&self, role: &str) -> i64 {
        let key = expiration_key(role);
        self.int(&key).unwrap_or(match role {
            "root" | "targets" => 365,
            _ => 1,
        })
    }

    pub fn trusted_root(&self) -> Result<&Value, WorkError> {
        self.get("TRUSTED_ROOT")
            .ok_or_else(|| WorkError::invalid("the repository is not bootstrapped"))
    }
}

/// Settings key of a role's expiry policy (upstream: `<ROLE>_EXPIRATION`).
pub fn expiration_key(role: &str) -> String {
    format!("{}_EXPIRATION", role.to_uppercase())
}

/// The worker loop: claim, run with a renewed lease, record the outcome.
pub async fn run(ctx: Arc<Ctx>, concurrency: usize, shutdown: tokio_util_shutdown::Shutdown) {
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    loop {
        if shutdown.is_triggered() {
            break;
        }
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        match ctx.store.claim(&ctx.worker_id, ctx.lease).await {
            Ok(Some(task)) => {
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    run_one(&ctx, task).await;
                    drop(permit);
                });
                continue;
            }
            Ok(None) => drop(permit),
            Err(e) => {
                drop(permit);
                tracing::warn!("claiming tasks failed, retrying: {e}");
            }
        }
        tokio::select! {
            _ = ctx.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = shutdown.wait() => break,
        }
    }
    // Graceful shutdown: wait for in-flight tasks (their leases would hand
    // them to another worker anyway if we were killed).
    let _ = tokio::time::timeout(
        Duration::from_secs(30),
        slots.acquire_many(concurrency.max(1) as u32),
    )
    .await;
}

async fn run_one(ctx: &Arc<Ctx>, task: rstuf_store::Task) {
    let started = Instant::now();
    let heartbeat = {
        let ctx = ctx.clone();
        let task_id = task.task_id.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(ctx.lease / 3).await;
                if !matches!(
                    ctx.store
                        .extend_lease(&task_id, &ctx.worker_id, ctx.lease)
                        .await,
                    Ok(true)
                ) {
                    break;
                }
            }
        })
    };
    let _ = ctx.store.set_state(&task.task_id, "STARTED", None).await;
    let finish = execute(
        ctx,
        &task.action,
        &task.task_id,
        task.payload.clone().unwrap_or(Value::Null),
    )
    .await;
    heartbeat.abort();
    let (state, result) = match finish {
        Finish::Done { state, result } => (state.to_string(), result),
        Finish::Retry(error) => {
            tracing::warn!(task = %task.task_id, action = %task.action, "task failed, will retry: {error}");
            let delay = retry_delay(ctx.retry_delay, task.attempts.clamp(0, 6) as u32);
            match ctx.store.retry_or_fail(&task.task_id, &error, delay).await {
                Ok(state) => ctx
                    .metrics
                    .task_finished(&task.action, &state, started.elapsed()),
                Err(e) => tracing::error!(task = %task.task_id, "cannot record task failure: {e}"),
            }
            return;
        }
    };
    if let Err(e) = ctx.store.complete(&task.task_id, &state, result).await {
        tracing::error!(task = %task.task_id, "cannot record task result: {e}");
    }
    ctx.metrics
        .task_finished(&task.action, &state, started.elapsed());
    tracing::info!(task = %task.task_id, action = %task.action, state, elapsed_ms = started.elapsed().as_millis() as u64, "task finished");
}

/// How a task run ended.
#[derive(Debug)]
pub enum Finish {
    /// Final: the state to record (`SUCCESS`, `ERRORED` or `FAILURE`) and
    /// the result.
    Done {
        state: &'static str,
        result: Option<Value>,
    },
    /// A failure that may pass (a backend unavailable, the publisher lease
    /// held elsewhere): run the task again later.
    Retry(String),
}

/// Backoff before retry number `attempts + 1`: `first`, then doubling up
/// to 64 × `first` (1, 2, 4 … 64 s with the default `first` of 1 s).
pub fn retry_delay(first: Duration, attempts: u32) -> Duration {
    first.saturating_mul(2u32.pow(attempts.min(6)))
}

/// Run one task and say how it ended; the caller records it (the
/// embedded queue's row, or Redis and a RabbitMQ ack).
pub async fn execute(ctx: &Arc<Ctx>, action: &str, task_id: &str, payload: Value) -> Finish {
    let _running = ctx.metrics.task_running();
    let name = TaskName::parse(action);
    let outcome = match name {
        Some(name) => dispatch(ctx, name, task_id, &payload).await,
        None => Err(WorkError::invalid(format!(
            "unknown task action '{action}'"
        ))),
    };
    let finish = finish(action, outcome);
    if let (Some(name), Finish::Done { state, result }) = (name, &finish) {
        if crate::audit::audited(name) {
            audit_task(ctx, name, task_id, &payload, state, result.as_ref()).await;
        }
    }
    finish
}

/// Append the audit entry of a finished task.
async fn audit_task(
    ctx: &Ctx,
    name: TaskName,
    task_id: &str,
    payload: &Value,
    state: &str,
    result: Option<&Value>,
) {
    let detail = crate::audit::task_detail(name, state, payload, result);
    let entry = crate::audit::entry(ctx.clock.now(), name.as_str(), Some(task_id), &detail);
    if let Err(e) = crate::audit::append(&ctx.store, &entry).await {
        ctx.metrics.audit_failed();
        tracing::error!(task = %task_id, action = name.as_str(), "cannot append the audit entry: {e}");
    }
}

/// The [`Finish`] of a task's outcome.
fn finish(action: &str, outcome: Result<TaskResult, WorkError>) -> Finish {
    match outcome {
        Ok(result) => Finish::Done {
            state: if result.status { "SUCCESS" } else { "ERRORED" },
            result: serde_json::to_value(&result).ok(),
        },
        Err(WorkError::Invalid(error)) => {
            let name = TaskName::parse(action).unwrap_or(TaskName::PublishArtifacts);
            let result = TaskResult::error(name, "Task failed", error, None);
            Finish::Done {
                state: "ERRORED",
                result: serde_json::to_value(&result).ok(),
            }
        }
        Err(WorkError::Refused(error)) => {
            let name = TaskName::parse(action).unwrap_or(TaskName::PublishArtifacts);
            let result = TaskResult::error(name, "Task failed", error, None);
            Finish::Done {
                state: "FAILURE",
                result: serde_json::to_value(&result).ok(),
            }
        }
        Err(WorkError::Retry(error)) => Finish::Retry(error),
    }
}

async fn dispatch(
    ctx: &Arc<Ctx>,
    action: TaskName,
    task_id: &str,
    payload: &Value,
) -> Result<TaskResult, WorkError> {
    let payload = payload.clone();
    match action {
        TaskName::Bootstrap => bootstrap::bootstrap(ctx, &payload, task_id).await,
        TaskName::AddArtifacts => artifacts::add(ctx, &payload, task_id).await,
        TaskName::RemoveArtifacts => artifacts::remove(ctx, &payload, task_id).await,
        TaskName::PublishArtifacts => artifacts::publish_task(ctx).await,
        TaskName::UpdateSettings => settings_task::update_settings(ctx, &payload).await,
        TaskName::BumpOnlineRoles => publish::bump_online_roles(ctx).await,
        TaskName::ForceOnlineMetadataUpdate => publish::force_online(ctx, &payload).await,
        TaskName::SignMetadata => bootstrap::sign_metadata(ctx, &payload).await,
        TaskName::DeleteSignMetadata => bootstrap::delete_sign(ctx, &payload).await,
        TaskName::MetadataUpdate => bootstrap::metadata_update(ctx, &payload).await,
        TaskName::MetadataDelegation => delegations::metadata_delegation(ctx, &payload).await,
    }
}

/// A tiny shutdown signal shared by the service's loops.
pub mod tokio_util_shutdown {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tokio::sync::Notify;

    #[derive(Clone, Default)]
    pub struct Shutdown(Arc<(AtomicBool, Notify)>);

    impl Shutdown {
        pub fn trigger(&self) {
            self.0 .0.store(true, Ordering::SeqCst);
            self.0 .1.notify_waiters();
        }
        pub fn is_triggered(&self) -> bool {
            self.0 .0.load(Ordering::SeqCst)
        }
        pub async fn wait(&self) {
            while !self.is_triggered() {
                let notified = self.0 .1.notified();
                if self.is_triggered() {
                    break;
                }
                notified.await;
            }
        }
    }
}

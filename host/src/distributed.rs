//! Distributed mode: the same API and worker code over RabbitMQ (tasks),
//! Redis (task state and results) and PostgreSQL (settings, artifacts,
//! roles, the publisher lease). Any number of API and worker processes
//! share them.
//!
//! Delivery is at-least-once, and handling is idempotent:
//! - the API records `PENDING` in Redis, then publishes the task with a
//!   broker confirm; a `202` means RabbitMQ has the persistent message;
//! - a worker acknowledges a message only after the task's effects are
//!   committed and its result is in Redis; if it dies first, RabbitMQ
//!   redelivers the message to another worker;
//! - a delivered task whose recorded state is already final is
//!   acknowledged without running again (its first run finished, the ack
//!   was lost);
//! - tasks themselves are safe to repeat: adds and removes are upserts of
//!   rows, and every metadata write goes through the fenced publisher;
//! - a task that keeps failing with a retryable error is republished with
//!   a growing delay, and after `queue.max_attempts` runs it is recorded as
//!   `FAILURE` and dead-lettered to `<queue>.dead`.

use crate::embedded::EmbeddedState;
use crate::state::{BoxFuture, NewTask, StateError, StateStore, TaskRecord};
use crate::worker::tokio_util_shutdown::Shutdown;
use crate::worker::{execute, retry_delay, Ctx, Finish};
use futures::StreamExt;
use rstuf_api::task::TaskState;
use rstuf_queue::{Broker, QueueError, Received, TaskMessage, TaskStates, TaskStatus};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The queue and task-state clients one process uses.
#[derive(Clone)]
pub struct Transport {
    pub broker: Arc<Broker>,
    pub states: Arc<TaskStates>,
    pub max_attempts: u32,
}

fn err(what: &'static str) -> impl Fn(QueueError) -> StateError {
    move |e| StateError::backend(what, e)
}

/// The API's view: settings in PostgreSQL (read exactly as embedded mode
/// reads them), tasks through RabbitMQ, state in Redis.
pub struct DistributedState {
    pub settings: EmbeddedState,
    pub transport: Transport,
}

impl StateStore for DistributedState {
    fn expiries(&self) -> BoxFuture<'_, Result<Vec<crate::expiry::Expiry>, StateError>> {
        self.settings.expiries()
    }

    fn audit_page(
        &self,
        after: i64,
        limit: u64,
    ) -> BoxFuture<'_, Result<rstuf_api::audit::AuditPage, StateError>> {
        self.settings.audit_page(after, limit)
    }

    fn setting<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Value>, StateError>> {
        self.settings.setting(key)
    }

    fn settings(&self) -> BoxFuture<'_, Result<BTreeMap<String, Value>, StateError>> {
        self.settings.settings()
    }

    fn lock_bootstrap<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Result<chrono::NaiveDateTime, Option<String>>, StateError>> {
        self.settings.lock_bootstrap(task_id)
    }

    fn unlock_bootstrap<'a>(
        &'a self,
        task_id: &'a str,
        stamped: Option<chrono::NaiveDateTime>,
    ) -> BoxFuture<'a, Result<bool, StateError>> {
        self.settings.unlock_bootstrap(task_id, stamped)
    }

    fn enqueue(&self, task: NewTask) -> BoxFuture<'_, Result<(), StateError>> {
        Box::pin(async move {
            let t = &self.transport;
            t.states
                .set(
                    &task.task_id,
                    &TaskStatus {
                        state: "PENDING".into(),
                        result: None,
                    },
                )
                .await
                .map_err(err("task state"))?;
            t.broker
                .publish(&TaskMessage {
                    task_id: task.task_id,
                    action: task.action.as_str().to_string(),
                    payload: task.payload,
                    attempts: 0,
                })
                .await
                .map_err(err("task queue"))
        })
    }

    fn task<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, StateError>> {
        Box::pin(async move {
            let status = self
                .transport
                .states
                .get(task_id)
                .await
                .map_err(err("task state"))?;
            Ok(status.map(|s| TaskRecord {
                task_id: task_id.to_string(),
                state: TaskState::parse(&s.state).unwrap_or(TaskState::Pending),
                result: s.result,
            }))
        })
    }

    fn queue_depth(&self) -> BoxFuture<'_, Result<u64, StateError>> {
        Box::pin(async move {
            self.transport
                .broker
                .depth()
                .await
                .map_err(err("task queue"))
        })
    }

    fn task_counts(&self) -> BoxFuture<'_, Result<Option<BTreeMap<String, u64>>, StateError>> {
        Box::pin(async { Ok(None) })
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), StateError>> {
        Box::pin(async move {
            self.settings.ready().await?;
            self.transport
                .states
                .ping()
                .await
                .map_err(err("task state"))?;
            self.transport
                .broker
                .ping()
                .await
                .map_err(err("task queue"))
        })
    }
}

/// The worker loop of distributed mode: consume, run, record, ack;
/// reconnect with backoff whenever the broker connection drops.
pub async fn run(ctx: Arc<Ctx>, transport: Transport, concurrency: usize, shutdown: Shutdown) {
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut delay = Duration::from_millis(200);
    'outer: while !shutdown.is_triggered() {
        let stream = match transport
            .broker
            .consume(
                concurrency.clamp(1, u16::MAX as usize) as u16,
                &ctx.worker_id,
            )
            .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot consume tasks, retrying in {delay:?}: {e}");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.wait() => break,
                }
                delay = (delay * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        delay = Duration::from_millis(200);
        tracing::info!(queue = transport.broker.queue(), "consuming tasks");
        let mut stream = Box::pin(stream);
        loop {
            let next = tokio::select! {
                n = stream.next() => n,
                _ = shutdown.wait() => break 'outer,
            };
            match next {
                Some(Ok(received)) => {
                    let Ok(permit) = slots.clone().acquire_owned().await else {
                        break 'outer;
                    };
                    let (ctx, transport) = (ctx.clone(), transport.clone());
                    tokio::spawn(async move {
                        handle(&ctx, &transport, received).await;
                        drop(permit);
                    });
                }
                Some(Err(e)) => {
                    tracing::warn!("task stream failed, reconnecting: {e}");
                    break;
                }
                None => {
                    tracing::warn!("task stream ended, reconnecting");
                    break;
                }
            }
        }
    }
    // Graceful shutdown: in-flight tasks finish; unacknowledged messages go
    // back to the queue when the connection closes.
    let _ = tokio::time::timeout(
        Duration::from_secs(30),
        slots.acquire_many(concurrency.max(1) as u32),
    )
    .await;
}

/// Record `status`, retrying while Redis is away (bounded).
async fn record(transport: &Transport, task_id: &str, status: &TaskStatus) -> bool {
    let mut delay = Duration::from_millis(100);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match transport.states.set(task_id, status).await {
            Ok(()) => return true,
            Err(e) if Instant::now() < deadline => {
                tracing::warn!(task = task_id, "recording task state failed, retrying: {e}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                tracing::error!(task = task_id, "cannot record task state: {e}");
                return false;
            }
        }
    }
}

async fn handle(ctx: &Arc<Ctx>, transport: &Transport, received: Received) {
    let message = match &received.message {
        Ok(m) => m.clone(),
        Err(why) => {
            tracing::error!("dead-lettering a message that is not a task: {why}");
            let _ = received.dead_letter().await;
            return;
        }
    };
    let id = message.task_id.as_str();
    match transport.states.get(id).await {
        Ok(Some(s)) if s.is_final() => {
            tracing::info!(task = id, state = %s.state, "already finished; acknowledging the redelivery");
            let _ = received.ack().await;
            return;
        }
        Ok(_) => {}
        Err(e) => {
            // Without Redis the result could not be recorded: leave the
            // message for later.
            tracing::warn!(task = id, "task state unavailable, requeueing: {e}");
            tokio::time::sleep(Duration::from_secs(1)).await;
            let _ = received.requeue().await;
            return;
        }
    }
    let started = Instant::now();
    record(
        transport,
        id,
        &TaskStatus {
            state: "STARTED".into(),
            result: None,
        },
    )
    .await;
    let finish = execute(
        ctx,
        &message.action,
        id,
        message.payload.clone().unwrap_or(Value::Null),
    )
    .await;
    match finish {
        Finish::Done { state, result } => {
            if record(
                transport,
                id,
                &TaskStatus {
                    state: state.into(),
                    result,
                },
            )
            .await
            {
                let _ = received.ack().await;
            } else {
                let _ = received.requeue().await;
            }
            ctx.metrics
                .task_finished(&message.action, state, started.elapsed());
            tracing::info!(task = id, action = %message.action, state, elapsed_ms = started.elapsed().as_millis() as u64, "task finished");
        }
        Finish::Retry(error) => {
            let attempts = message.attempts + 1;
            if attempts >= transport.max_attempts {
                tracing::error!(
                    task = id,
                    attempts,
                    "task keeps failing; dead-lettering it: {error}"
                );
                let failure = TaskStatus {
                    state: "FAILURE".into(),
                    result: Some(json!({ "message": error, "attempts": attempts })),
                };
                if record(transport, id, &failure).await {
                    let _ = received.dead_letter().await;
                } else {
                    let _ = received.requeue().await;
                }
                ctx.metrics
                    .task_finished(&message.action, "FAILURE", started.elapsed());
                return;
            }
            tracing::warn!(task = id, attempts, "task failed, will retry: {error}");
            record(
                transport,
                id,
                &TaskStatus {
                    state: "RETRY".into(),
                    result: Some(json!({ "message": error, "attempts": attempts })),
                },
            )
            .await;
            tokio::time::sleep(retry_delay(ctx.retry_delay, attempts - 1)).await;
            let again = TaskMessage {
                attempts,
                ..message.clone()
            };
            // Publish the next attempt before acknowledging this one: a
            // crash in between repeats the task, never loses it.
            match transport.broker.publish(&again).await {
                Ok(()) => {
                    let _ = received.ack().await;
                }
                Err(e) => {
                    tracing::warn!(
                        task = id,
                        "cannot requeue the retry, returning the message: {e}"
                    );
                    let _ = received.requeue().await;
                }
            }
            ctx.metrics
                .task_finished(&message.action, "RETRY", started.elapsed());
        }
    }
}

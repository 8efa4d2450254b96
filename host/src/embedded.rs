//! The `StateStore` of embedded mode: settings, the task queue and task
//! state all in the service's database (SQLite by default). Enqueueing
//! commits the task row, then wakes the in-process worker.

use crate::state::{BoxFuture, NewTask, StateError, StateStore, TaskRecord};
use rstuf_api::task::TaskState;
use rstuf_store::Store;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Notify;

pub struct EmbeddedState {
    pub store: Store,
    /// Wakes this process's worker, when it runs one.
    pub wake: Option<Arc<Notify>>,
    /// `queue.max_attempts`, recorded on each task it enqueues.
    pub max_attempts: u32,
}

fn err(what: &'static str) -> impl Fn(rstuf_store::StoreError) -> StateError {
    move |e| StateError::backend(what, e)
}

impl StateStore for EmbeddedState {
    fn expiries(&self) -> BoxFuture<'_, Result<Vec<crate::expiry::Expiry>, StateError>> {
        Box::pin(async move {
            crate::expiry::collect(&self.store)
                .await
                .map_err(err("role expiries"))
        })
    }

    fn audit_page(
        &self,
        after: i64,
        limit: u64,
    ) -> BoxFuture<'_, Result<rstuf_api::audit::AuditPage, StateError>> {
        Box::pin(async move {
            crate::audit::page(&self.store, after, limit)
                .await
                .map_err(err("audit log"))
        })
    }

    fn setting<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Value>, StateError>> {
        Box::pin(async move { self.store.setting(key).await.map_err(err("settings")) })
    }

    fn settings(&self) -> BoxFuture<'_, Result<BTreeMap<String, Value>, StateError>> {
        Box::pin(async move { self.store.settings().await.map_err(err("settings")) })
    }

    fn lock_bootstrap<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Result<chrono::NaiveDateTime, Option<String>>, StateError>> {
        Box::pin(async move {
            self.store
                .lock_bootstrap(task_id)
                .await
                .map_err(err("settings"))
        })
    }

    fn unlock_bootstrap<'a>(
        &'a self,
        task_id: &'a str,
        stamped: Option<chrono::NaiveDateTime>,
    ) -> BoxFuture<'a, Result<bool, StateError>> {
        Box::pin(async move {
            self.store
                .unlock_bootstrap(task_id, stamped)
                .await
                .map_err(err("settings"))
        })
    }

    fn enqueue(&self, task: NewTask) -> BoxFuture<'_, Result<(), StateError>> {
        Box::pin(async move {
            self.store
                .enqueue(&rstuf_store::NewTask {
                    task_id: task.task_id,
                    action: task.action.as_str().to_string(),
                    queue: task.action.queue().to_string(),
                    payload: task.payload,
                    max_attempts: self.max_attempts,
                })
                .await
                .map_err(err("task queue"))?;
            if let Some(wake) = &self.wake {
                wake.notify_one();
            }
            Ok(())
        })
    }

    fn task<'a>(
        &'a self,
        task_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>, StateError>> {
        Box::pin(async move {
            let task = self.store.task(task_id).await.map_err(err("task store"))?;
            Ok(task.map(|t| TaskRecord {
                task_id: t.task_id,
                state: TaskState::parse(&t.state).unwrap_or(TaskState::Pending),
                result: t.result,
            }))
        })
    }

    fn queue_depth(&self) -> BoxFuture<'_, Result<u64, StateError>> {
        Box::pin(async move { self.store.queue_depth().await.map_err(err("task queue")) })
    }

    fn task_counts(&self) -> BoxFuture<'_, Result<Option<BTreeMap<String, u64>>, StateError>> {
        Box::pin(async move {
            self.store
                .task_counts()
                .await
                .map(Some)
                .map_err(err("task queue"))
        })
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), StateError>> {
        Box::pin(async move { self.store.ping().await.map_err(err("database")) })
    }
}

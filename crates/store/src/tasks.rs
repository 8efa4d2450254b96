//! The durable task queue (embedded mode) and task state (both modes).
//!
//! A task row is committed before the API answers 202. Workers claim rows
//! atomically with a lease; a worker that dies stops renewing, its lease
//! expires and the task is claimed again (at-least-once; task handlers are
//! idempotent). Tasks that keep failing end in FAILURE after `max_attempts`
//! (the dead-letter state), with the last error kept.

use crate::db::{now, q, Store, StoreError};
use chrono::{Duration, NaiveDateTime};
use sea_orm::{ConnectionTrait, QueryResult, Value};

#[derive(Debug, Clone)]
pub struct NewTask {
    pub task_id: String,
    pub action: String,
    pub queue: String,
    pub payload: Option<serde_json::Value>,
    /// Runs before a task that keeps failing is recorded FAILURE.
    pub max_attempts: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub task_id: String,
    pub action: String,
    pub payload: Option<serde_json::Value>,
    pub state: String,
    pub result: Option<serde_json::Value>,
    pub attempts: i64,
    pub max_attempts: i64,
    pub updated_at: NaiveDateTime,
}

const COLUMNS: &str = "task_id, action, payload, state, result, attempts, max_attempts, updated_at";
/// States in which a worker holds the task under a lease.
const LEASED: &str = "('RECEIVED', 'STARTED', 'RUNNING')";

fn json_opt(r: &QueryResult, col: &str) -> Result<Option<serde_json::Value>, StoreError> {
    let text: Option<String> = r.try_get("", col).map_err(q("read task"))?;
    let parsed: Option<serde_json::Value> = text
        .map(|t| {
            serde_json::from_str(&t).map_err(|e| StoreError::Data {
                what: "task",
                message: format!("{col}: {e}"),
            })
        })
        .transpose()?;
    Ok(parsed.filter(|v| !v.is_null()))
}

fn task_of(r: &QueryResult) -> Result<Task, StoreError> {
    let attempts: i32 = r.try_get("", "attempts").map_err(q("read task"))?;
    let max_attempts: i32 = r.try_get("", "max_attempts").map_err(q("read task"))?;
    Ok(Task {
        task_id: r.try_get("", "task_id").map_err(q("read task"))?,
        action: r.try_get("", "action").map_err(q("read task"))?,
        payload: json_opt(r, "payload")?,
        state: r.try_get("", "state").map_err(q("read task"))?,
        result: json_opt(r, "result")?,
        attempts: i64::from(attempts),
        max_attempts: i64::from(max_attempts),
        updated_at: r.try_get("", "updated_at").map_err(q("read task"))?,
    })
}

fn text(v: &Option<serde_json::Value>) -> Value {
    Value::from(v.as_ref().map(|v| v.to_string()))
}

impl Store {
    /// Commit a new PENDING task.
    pub async fn enqueue(&self, task: &NewTask) -> Result<(), StoreError> {
        let ts = now();
        self.db
            .execute_raw(self.stmt(
                "INSERT INTO rstuf_tasks (task_id, action, queue, payload, state, attempts, max_attempts, available_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'PENDING', 0, $5, $6, $6, $6)",
                vec![
                    task.task_id.clone().into(),
                    task.action.clone().into(),
                    task.queue.clone().into(),
                    text(&task.payload),
                    (task.max_attempts.clamp(1, i32::MAX as u32) as i32).into(),
                    ts.into(),
                ],
            ))
            .await
            .map_err(q("enqueue task"))?;
        Ok(())
    }

    /// Atomically claim the oldest runnable task: pending or due for retry,
    /// or held under an expired lease (its worker died).
    pub async fn claim(
        &self,
        worker: &str,
        lease: std::time::Duration,
    ) -> Result<Option<Task>, StoreError> {
        let ts = now();
        let until = ts + Duration::from_std(lease).unwrap_or(Duration::seconds(60));
        let lock = if self.is_postgres() {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE rstuf_tasks SET state = 'RECEIVED', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE task_id = (SELECT task_id FROM rstuf_tasks \
                WHERE (state IN ('PENDING', 'RETRY') AND available_at <= $3) \
                   OR (state IN {LEASED} AND lease_until < $3) \
                ORDER BY created_at LIMIT 1{lock}) \
             RETURNING {COLUMNS}"
        );
        let row = self
            .db
            .query_one_raw(self.stmt(&sql, vec![worker.into(), until.into(), ts.into()]))
            .await
            .map_err(q("claim task"))?;
        row.as_ref().map(task_of).transpose()
    }

    /// Extend a held lease; false if this worker no longer holds the task.
    pub async fn extend_lease(
        &self,
        task_id: &str,
        worker: &str,
        lease: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let until = now() + Duration::from_std(lease).unwrap_or(Duration::seconds(60));
        let r = self
            .db
            .execute_raw(self.stmt(
                &format!("UPDATE rstuf_tasks SET lease_until = $1 WHERE task_id = $2 AND lease_owner = $3 AND state IN {LEASED}"),
                vec![until.into(), task_id.into(), worker.into()],
            ))
            .await
            .map_err(q("extend lease"))?;
        Ok(r.rows_affected() > 0)
    }

    /// Record progress (e.g. RUNNING with details) while holding the task.
    pub async fn set_state(
        &self,
        task_id: &str,
        state: &str,
        result: Option<serde_json::Value>,
    ) -> Result<(), StoreError> {
        self.db
            .execute_raw(self.stmt(
                "UPDATE rstuf_tasks SET state = $1, result = $2, updated_at = $3 WHERE task_id = $4",
                vec![state.into(), text(&result), now().into(), task_id.into()],
            ))
            .await
            .map_err(q("update task"))?;
        Ok(())
    }

    /// Finish a task with a final state and result; releases the lease.
    pub async fn complete(
        &self,
        task_id: &str,
        state: &str,
        result: Option<serde_json::Value>,
    ) -> Result<(), StoreError> {
        self.db
            .execute_raw(self.stmt(
                "UPDATE rstuf_tasks SET state = $1, result = $2, lease_owner = NULL, lease_until = NULL, updated_at = $3 WHERE task_id = $4",
                vec![state.into(), text(&result), now().into(), task_id.into()],
            ))
            .await
            .map_err(q("complete task"))?;
        Ok(())
    }

    /// A handler failed with an infrastructure error: retry after `delay`,
    /// or give up (FAILURE) once the attempts are used. Returns the state set.
    pub async fn retry_or_fail(
        &self,
        task_id: &str,
        error: &str,
        delay: std::time::Duration,
    ) -> Result<String, StoreError> {
        let ts = now();
        let at = ts + Duration::from_std(delay).unwrap_or(Duration::seconds(5));
        let result = serde_json::json!({ "message": error }).to_string();
        let row = self
            .db
            .query_one_raw(self.stmt(
                "UPDATE rstuf_tasks SET state = CASE WHEN attempts >= max_attempts THEN 'FAILURE' ELSE 'RETRY' END, \
                 result = $1, available_at = $2, lease_owner = NULL, lease_until = NULL, updated_at = $3 \
                 WHERE task_id = $4 RETURNING state",
                vec![result.into(), at.into(), ts.into(), task_id.into()],
            ))
            .await
            .map_err(q("retry task"))?;
        Ok(row
            .map(|r| r.try_get::<String>("", "state"))
            .transpose()
            .map_err(q("retry task"))?
            .unwrap_or_else(|| "FAILURE".into()))
    }

    pub async fn task(&self, task_id: &str) -> Result<Option<Task>, StoreError> {
        let row = self
            .db
            .query_one_raw(self.stmt(
                &format!("SELECT {COLUMNS} FROM rstuf_tasks WHERE task_id = $1"),
                vec![task_id.into()],
            ))
            .await
            .map_err(q("read task"))?;
        row.as_ref().map(task_of).transpose()
    }

    /// Tasks waiting to run.
    pub async fn queue_depth(&self) -> Result<u64, StoreError> {
        let row = self
            .db
            .query_one_raw(self.stmt(
                "SELECT COUNT(*) AS n FROM rstuf_tasks WHERE state IN ('PENDING', 'RETRY')",
                vec![],
            ))
            .await
            .map_err(q("queue depth"))?;
        let n: i64 = row
            .map(|r| r.try_get("", "n"))
            .transpose()
            .map_err(q("queue depth"))?
            .unwrap_or(0);
        Ok(n.max(0) as u64)
    }

    /// Tasks by state (results are kept for the retention time only).
    pub async fn task_counts(&self) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT state, COUNT(*) AS n FROM rstuf_tasks GROUP BY state",
                vec![],
            ))
            .await
            .map_err(q("task counts"))?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("", "state").map_err(q("task counts"))?;
                let n: i64 = r.try_get("", "n").map_err(q("task counts"))?;
                Ok((state, n.max(0) as u64))
            })
            .collect()
    }

    /// Delete finished tasks last updated before `t` (result retention).
    pub async fn purge_finished_before(&self, t: NaiveDateTime) -> Result<u64, StoreError> {
        let r = self
            .db
            .execute_raw(self.stmt(
                "DELETE FROM rstuf_tasks WHERE state IN ('SUCCESS', 'ERRORED', 'FAILURE') AND updated_at < $1",
                vec![t.into()],
            ))
            .await
            .map_err(q("purge tasks"))?;
        Ok(r.rows_affected())
    }
}

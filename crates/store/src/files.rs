//! Artifacts (`rstuf_target_files`): one row per path, never deleted;
//! removal sets `action = 'REMOVE'`. `published = false` marks pending work
//! for the next publish pass.
//!
//! A pending row that cannot be published (its info is not valid target
//! metadata: a row written around the API, or by an older version) is set
//! aside by the pass that finds it: the row becomes a published removal,
//! so no later pass tries it again and no role lists it, and
//! `rstuf_rejected_files` records why, keyed by the row's `last_update`,
//! so the task waiting for that path can say so. Adding the path again
//! (a new `last_update`) makes it an ordinary pending row.

use crate::db::{now, q, Store, StoreError};
use crate::roles::{role_of, Role};
use chrono::NaiveDateTime;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

#[derive(Debug, Clone)]
pub struct NewFile {
    pub path: String,
    /// `{"length", "hashes", "custom"?}`.
    pub info: serde_json::Value,
    pub role_id: i64,
}

/// A file row as a publish pass reads it.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: i64,
    pub path: String,
    /// The stored info, or why it is not JSON (SQLite does not check).
    pub info: Result<serde_json::Value, String>,
    pub added: bool,
    pub published: bool,
    pub last_update: NaiveDateTime,
}

/// A row a publish pass set aside, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub id: i64,
    pub path: String,
    /// `last_update` as the pass read it: a row changed since is left alone.
    pub last_update: NaiveDateTime,
    pub reason: String,
}

/// How a set of paths stands after the publish passes so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishState {
    /// Paths still waiting for a pass.
    pub pending: usize,
    /// Paths set aside as unpublishable, with the reason.
    pub rejected: Vec<(String, String)>,
}

/// Inside a publish commit: turn rejected rows into published removals
/// (if unchanged since read) and record why.
pub(crate) async fn reject_on<C: ConnectionTrait>(
    conn: &C,
    store: &Store,
    rows: &[Rejected],
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE rstuf_target_files SET action = {}, published = true WHERE id = $2 AND COALESCE(last_update, $3) = $4",
        store.action(1)
    );
    let record = "INSERT INTO rstuf_rejected_files (path, last_update, reason, rejected_at) VALUES ($1, $2, $3, $4) \
                  ON CONFLICT (path) DO UPDATE SET last_update = excluded.last_update, reason = excluded.reason, rejected_at = excluded.rejected_at";
    for r in rows {
        let changed = conn
            .execute_raw(store.stmt(
                &sql,
                vec![
                    "REMOVE".into(),
                    (r.id as i32).into(),
                    epoch().into(),
                    r.last_update.into(),
                ],
            ))
            .await
            .map_err(q("set aside artifact"))?;
        if changed.rows_affected() > 0 {
            conn.execute_raw(store.stmt(
                record,
                vec![
                    r.path.clone().into(),
                    r.last_update.into(),
                    r.reason.clone().into(),
                    now().into(),
                ],
            ))
            .await
            .map_err(q("record rejected artifact"))?;
        }
    }
    Ok(())
}

fn epoch() -> NaiveDateTime {
    chrono::DateTime::UNIX_EPOCH.naive_utc()
}

/// Flip `published` for rows whose `last_update` is unchanged since the
/// publish pass read them: a row re-added meanwhile stays pending.
pub(crate) async fn mark_published_on<C: ConnectionTrait>(
    conn: &C,
    backend: DbBackend,
    rows: &[(i64, NaiveDateTime)],
) -> Result<u64, StoreError> {
    let mut changed = 0;
    for chunk in rows.chunks(1000) {
        let mut sql = String::from(
            "UPDATE rstuf_target_files SET published = true WHERE (id, COALESCE(last_update, $1)) IN (VALUES ",
        );
        let mut values = vec![Value::from(epoch())];
        for (i, (id, lu)) in chunk.iter().enumerate() {
            let b = 2 + i * 2;
            if i > 0 {
                sql.push(',');
            }
            if backend == DbBackend::Postgres {
                sql.push_str(&format!("(${b}::int, ${}::timestamp)", b + 1));
            } else {
                sql.push_str(&format!("(${b}, ${})", b + 1));
            }
            values.push(Value::from(*id as i32));
            values.push(Value::from(*lu));
        }
        sql.push(')');
        let r = conn
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(q("mark published"))?;
        changed += r.rows_affected();
    }
    Ok(changed)
}

impl Store {
    /// Add or replace artifacts in multi-row batches. Re-adding a path with
    /// identical info and role keeps its published state (so a redelivered
    /// task does not cause a republish); anything else makes it pending.
    pub async fn upsert_files(&self, files: &[NewFile]) -> Result<(), StoreError> {
        use sea_orm::TransactionTrait;
        let txn = self.db.begin().await.map_err(q("begin"))?;
        self.upsert_on(&txn, files).await?;
        txn.commit().await.map_err(q("commit artifacts"))
    }

    /// [`Store::upsert_files`] at most once for `task_id`: a redelivered
    /// task (its first run committed, then the worker died before the task
    /// was recorded done) changes nothing, so it cannot bring back an
    /// artifact a later task removed. True if applied now.
    pub async fn upsert_files_once(
        &self,
        task_id: &str,
        files: &[NewFile],
    ) -> Result<bool, StoreError> {
        use sea_orm::TransactionTrait;
        let txn = self.db.begin().await.map_err(q("begin"))?;
        if self.applied_before(&txn, task_id).await?.is_some() {
            txn.rollback().await.map_err(q("rollback"))?;
            return Ok(false);
        }
        self.upsert_on(&txn, files).await?;
        txn.commit().await.map_err(q("commit artifacts"))?;
        Ok(true)
    }

    async fn upsert_on<C: ConnectionTrait>(
        &self,
        txn: &C,
        files: &[NewFile],
    ) -> Result<(), StoreError> {
        let ts = now();
        let (json, text) = if self.is_postgres() {
            ("::json", "::text")
        } else {
            ("", "")
        };
        for chunk in files.chunks(1000) {
            let mut sql = String::from(
                "INSERT INTO rstuf_target_files (path, info, published, action, last_update, targets_role) VALUES ",
            );
            let mut values = Vec::with_capacity(chunk.len() * 4 + 1);
            values.push(Value::from("ADD"));
            for (i, f) in chunk.iter().enumerate() {
                let b = 2 + i * 4;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${b}, ${}{json}, false, {}, ${}, ${})",
                    b + 1,
                    self.action(1),
                    b + 2,
                    b + 3
                ));
                values.extend([
                    Value::from(f.path.clone()),
                    Value::from(f.info.to_string()),
                    Value::from(ts),
                    Value::from(f.role_id as i32),
                ]);
            }
            sql.push_str(&format!(
                " ON CONFLICT (path) DO UPDATE SET \
                 published = CASE WHEN rstuf_target_files.action = excluded.action \
                   AND rstuf_target_files.targets_role = excluded.targets_role \
                   AND rstuf_target_files.info{text} = excluded.info{text} \
                   THEN rstuf_target_files.published ELSE false END, \
                 info = excluded.info, action = excluded.action, \
                 targets_role = excluded.targets_role, last_update = excluded.last_update"
            ));
            txn.execute_raw(self.stmt(&sql, values))
                .await
                .map_err(q("upsert artifacts"))?;
        }
        Ok(())
    }

    /// Mark paths removed. Unknown paths, and paths already removed and
    /// published, are reported as not found (upstream's rule).
    pub async fn mark_removed(
        &self,
        paths: &[String],
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        use sea_orm::TransactionTrait;
        let txn = self.db.begin().await.map_err(q("begin"))?;
        let outcome = self.remove_on(&txn, paths).await?;
        txn.commit().await.map_err(q("commit removal"))?;
        Ok(outcome)
    }

    /// [`Store::mark_removed`] at most once for `task_id`; a redelivered
    /// task gets the outcome of its first run back and changes nothing.
    pub async fn mark_removed_once(
        &self,
        task_id: &str,
        paths: &[String],
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        use sea_orm::TransactionTrait;
        let txn = self.db.begin().await.map_err(q("begin"))?;
        if let Some(before) = self.applied_before(&txn, task_id).await? {
            txn.rollback().await.map_err(q("rollback"))?;
            return serde_json::from_value(before).map_err(|e| StoreError::Data {
                what: "applied task outcome",
                message: e.to_string(),
            });
        }
        let outcome = self.remove_on(&txn, paths).await?;
        let recorded = serde_json::to_value(&outcome).unwrap_or_default();
        txn.execute_raw(self.stmt(
            "UPDATE rstuf_applied_tasks SET outcome = $1 WHERE task_id = $2",
            vec![recorded.to_string().into(), task_id.into()],
        ))
        .await
        .map_err(q("record task outcome"))?;
        txn.commit().await.map_err(q("commit removal"))?;
        Ok(outcome)
    }

    /// Claim `task_id`'s effects inside `txn`: `None` if this is the first
    /// run (the claim commits with the effects), else the outcome the
    /// first run recorded. A concurrent duplicate waits on the unique key
    /// until the first commits.
    async fn applied_before<C: ConnectionTrait>(
        &self,
        txn: &C,
        task_id: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let r = txn
            .execute_raw(self.stmt(
                "INSERT INTO rstuf_applied_tasks (task_id, outcome, applied_at) VALUES ($1, 'null', $2) ON CONFLICT (task_id) DO NOTHING",
                vec![task_id.into(), now().into()],
            ))
            .await
            .map_err(q("claim task effects"))?;
        if r.rows_affected() > 0 {
            return Ok(None);
        }
        let row = txn
            .query_one_raw(self.stmt(
                "SELECT outcome FROM rstuf_applied_tasks WHERE task_id = $1",
                vec![task_id.into()],
            ))
            .await
            .map_err(q("read task outcome"))?;
        let text: String = row
            .map(|r| r.try_get("", "outcome"))
            .transpose()
            .map_err(q("read task outcome"))?
            .unwrap_or_else(|| "null".into());
        Ok(Some(
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        ))
    }

    /// Forget the effect claims of tasks applied before `t`.
    pub async fn purge_applied_before(&self, t: chrono::NaiveDateTime) -> Result<u64, StoreError> {
        let r = self
            .db
            .execute_raw(self.stmt(
                "DELETE FROM rstuf_applied_tasks WHERE applied_at < $1",
                vec![t.into()],
            ))
            .await
            .map_err(q("purge applied tasks"))?;
        Ok(r.rows_affected())
    }

    async fn remove_on<C: ConnectionTrait>(
        &self,
        txn: &C,
        paths: &[String],
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let ts = now();
        let mut removed = Vec::new();
        let mut not_found = Vec::new();
        for path in paths {
            let sql = format!(
                "UPDATE rstuf_target_files SET action = {}, published = false, last_update = $2 \
                 WHERE path = $3 AND NOT (action = {} AND published = true)",
                self.action(1),
                self.action(1)
            );
            let r = txn
                .execute_raw(self.stmt(&sql, vec!["REMOVE".into(), ts.into(), path.clone().into()]))
                .await
                .map_err(q("remove artifact"))?;
            if r.rows_affected() > 0 {
                removed.push(path.clone());
            } else {
                not_found.push(path.clone());
            }
        }
        Ok((removed, not_found))
    }

    /// Active roles that have pending (unpublished) artifacts.
    pub async fn roles_with_unpublished(&self) -> Result<Vec<Role>, StoreError> {
        let sql = "SELECT id, rolename, version, expires, active FROM rstuf_target_roles r WHERE active = true \
                   AND EXISTS (SELECT 1 FROM rstuf_target_files f WHERE f.targets_role = r.id AND f.published = false) \
                   ORDER BY rolename";
        let rows = self
            .db
            .query_all_raw(self.stmt(sql, vec![]))
            .await
            .map_err(q("read pending roles"))?;
        rows.iter().map(role_of).collect()
    }

    /// Every file row of a role (added and removed), ordered by path.
    pub async fn role_files(&self, role_id: i64) -> Result<Vec<FileRow>, StoreError> {
        let sql = format!(
            "SELECT id, path, {} AS info, action{} AS action, published, COALESCE(last_update, $1) AS last_update \
             FROM rstuf_target_files WHERE targets_role = $2 ORDER BY path",
            // Text whatever was stored: SQLite keeps a JSON column's `42`
            // as an INTEGER, which must not make the whole role unreadable.
            if self.is_postgres() { "info::text" } else { "CAST(info AS TEXT)" },
            if self.is_postgres() { "::text" } else { "" },
        );
        let rows = self
            .db
            .query_all_raw(self.stmt(&sql, vec![epoch().into(), (role_id as i32).into()]))
            .await
            .map_err(q("read role files"))?;
        rows.iter()
            .map(|r| {
                let id: i32 = r.try_get("", "id").map_err(q("read file"))?;
                let info: String = r.try_get("", "info").map_err(q("read file"))?;
                let action: String = r.try_get("", "action").map_err(q("read file"))?;
                Ok(FileRow {
                    id: i64::from(id),
                    path: r.try_get("", "path").map_err(q("read file"))?,
                    info: serde_json::from_str(&info)
                        .map_err(|e| format!("the stored info is not JSON: {e}")),
                    added: action == "ADD",
                    published: r.try_get("", "published").map_err(q("read file"))?,
                    last_update: r.try_get("", "last_update").map_err(q("read file"))?,
                })
            })
            .collect()
    }

    /// How `paths` stand: how many still wait for a pass, and which were
    /// set aside (since they were last written) and why.
    pub async fn publish_state(&self, paths: &[String]) -> Result<PublishState, StoreError> {
        let mut state = PublishState::default();
        for chunk in paths.chunks(1000) {
            let placeholders: Vec<String> =
                (2..=chunk.len() + 1).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT f.path AS path, f.published AS published, r.reason AS reason FROM rstuf_target_files f \
                 LEFT JOIN rstuf_rejected_files r ON r.path = f.path AND r.last_update = COALESCE(f.last_update, $1) \
                 WHERE f.path IN ({}) AND (f.published = false OR r.reason IS NOT NULL)",
                placeholders.join(",")
            );
            let mut values = vec![Value::from(epoch())];
            values.extend(chunk.iter().map(|p| Value::from(p.clone())));
            let rows = self
                .db
                .query_all_raw(self.stmt(&sql, values))
                .await
                .map_err(q("check published"))?;
            for row in rows {
                let published: bool = row.try_get("", "published").map_err(q("check published"))?;
                let reason: Option<String> =
                    row.try_get("", "reason").map_err(q("check published"))?;
                match reason {
                    Some(reason) if published => {
                        let path: String = row.try_get("", "path").map_err(q("check published"))?;
                        state.rejected.push((path, reason));
                    }
                    _ => state.pending += 1,
                }
            }
        }
        Ok(state)
    }

    /// Are all of these paths published (or set aside)?
    pub async fn all_published(&self, paths: &[String]) -> Result<bool, StoreError> {
        Ok(self.publish_state(paths).await?.pending == 0)
    }

    /// Pending artifact rows (for metrics).
    pub async fn pending_files(&self) -> Result<i64, StoreError> {
        let row = self
            .db
            .query_one_raw(self.stmt(
                "SELECT COUNT(*) AS n FROM rstuf_target_files WHERE published = false",
                vec![],
            ))
            .await
            .map_err(q("count pending"))?;
        Ok(row
            .map(|r| r.try_get("", "n"))
            .transpose()
            .map_err(q("count pending"))?
            .unwrap_or(0))
    }
}

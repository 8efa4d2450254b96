//! The audit log's tables: `rstuf_audit` (the entries, append-only) and
//! `rstuf_audit_head` (one row: the last sequence number and hash).
//!
//! Appending takes the head row first (`UPDATE … RETURNING`, a row lock on
//! PostgreSQL, the write lock on SQLite), so appends from any number of
//! processes form one chain without gaps; a publish pass appends inside
//! its own commit, so its entry exists exactly when its versions do. The
//! hash itself is the API's format (`rstuf_api::audit::chain_hash`), handed
//! in as [`ChainHash`] so this crate stays free of it.

use crate::db::{q, Store, StoreError};
use sea_orm::{ConnectionTrait, TransactionTrait};

/// The hash of an entry with sequence number `seq` after `prev`.
pub type ChainHash = fn(seq: i64, entry: &NewAuditEntry, prev: &str) -> String;

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// RFC 3339, UTC.
    pub at: String,
    pub action: String,
    pub task_id: Option<String>,
    /// The detail's JSON text.
    pub detail: String,
    pub hash: ChainHash,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub action: String,
    pub task_id: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Store {
    /// Append one entry in its own transaction; its sequence number.
    pub async fn append_audit(&self, entry: &NewAuditEntry) -> Result<i64, StoreError> {
        let txn = self.db.begin().await.map_err(q("begin audit append"))?;
        let seq = append_on(&txn, self, entry).await?;
        txn.commit().await.map_err(q("commit audit append"))?;
        Ok(seq)
    }

    /// Entries after `after`, oldest first, at most `limit`.
    pub async fn audit_page(&self, after: i64, limit: u64) -> Result<Vec<AuditRow>, StoreError> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT seq, appended_at, action, task_id, detail, prev_hash, hash FROM rstuf_audit WHERE seq > $1 ORDER BY seq LIMIT $2",
                vec![after.into(), (limit as i64).into()],
            ))
            .await
            .map_err(q("read audit log"))?;
        rows.iter()
            .map(|row| {
                let get = |e: sea_orm::DbErr| StoreError::Data {
                    what: "audit entry",
                    message: e.to_string(),
                };
                Ok(AuditRow {
                    seq: row.try_get("", "seq").map_err(get)?,
                    at: row.try_get("", "appended_at").map_err(get)?,
                    action: row.try_get("", "action").map_err(get)?,
                    task_id: row.try_get("", "task_id").map_err(get)?,
                    detail: row.try_get("", "detail").map_err(get)?,
                    prev_hash: row.try_get("", "prev_hash").map_err(get)?,
                    hash: row.try_get("", "hash").map_err(get)?,
                })
            })
            .collect()
    }

    /// The last sequence number and hash.
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        let row = self
            .db
            .query_one_raw(self.stmt(
                "SELECT seq, hash FROM rstuf_audit_head WHERE id = 1",
                vec![],
            ))
            .await
            .map_err(q("read audit head"))?
            .ok_or(StoreError::Data {
                what: "audit head",
                message: "the rstuf_audit_head row is missing".into(),
            })?;
        let get = |e: sea_orm::DbErr| StoreError::Data {
            what: "audit head",
            message: e.to_string(),
        };
        Ok((
            row.try_get("", "seq").map_err(get)?,
            row.try_get("", "hash").map_err(get)?,
        ))
    }
}

/// Append inside the caller's transaction (see the module docs).
pub(crate) async fn append_on<C: ConnectionTrait>(
    conn: &C,
    store: &Store,
    entry: &NewAuditEntry,
) -> Result<i64, StoreError> {
    let head = conn
        .query_one_raw(store.stmt(
            "UPDATE rstuf_audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
            vec![],
        ))
        .await
        .map_err(q("take audit head"))?
        .ok_or(StoreError::Data {
            what: "audit head",
            message: "the rstuf_audit_head row is missing".into(),
        })?;
    let get = |e: sea_orm::DbErr| StoreError::Data {
        what: "audit head",
        message: e.to_string(),
    };
    let seq: i64 = head.try_get("", "seq").map_err(get)?;
    let prev: String = head.try_get("", "hash").map_err(get)?;
    let hash = (entry.hash)(seq, entry, &prev);
    conn.execute_raw(store.stmt(
        "INSERT INTO rstuf_audit (seq, appended_at, action, task_id, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            seq.into(),
            entry.at.clone().into(),
            entry.action.clone().into(),
            entry.task_id.clone().into(),
            entry.detail.clone().into(),
            prev.into(),
            hash.clone().into(),
        ],
    ))
    .await
    .map_err(q("append audit entry"))?;
    conn.execute_raw(store.stmt(
        "UPDATE rstuf_audit_head SET hash = $1 WHERE id = 1",
        vec![hash.into()],
    ))
    .await
    .map_err(q("move audit head"))?;
    Ok(seq)
}

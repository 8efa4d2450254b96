//! Repository settings: upstream's `DYNACONF_MAIN` keys (`BOOTSTRAP`,
//! `ROOT_EXPIRATION`, `TRUSTED_ROOT`, `ROOT_SIGNING`, …), each a JSON value.

use crate::db::{now, q, Store, StoreError};
use chrono::NaiveDateTime;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use std::collections::BTreeMap;

fn parse(key: &str, text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Data {
        what: "setting",
        message: format!("{key}: {e}"),
    })
}

const UPSERT: &str = "INSERT INTO rstuf_settings (key, value, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";

/// Write settings on any connection (pool or transaction).
pub(crate) async fn put_on<C: ConnectionTrait>(
    conn: &C,
    backend: DbBackend,
    items: &[(String, serde_json::Value)],
) -> Result<(), StoreError> {
    let ts = now();
    for (key, value) in items {
        let stmt = Statement::from_sql_and_values(
            backend,
            UPSERT,
            vec![
                Value::from(key.clone()),
                Value::from(value.to_string()),
                Value::from(ts),
            ],
        );
        conn.execute_raw(stmt).await.map_err(q("write setting"))?;
    }
    Ok(())
}

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let row = self
            .db
            .query_one_raw(self.stmt(
                "SELECT value FROM rstuf_settings WHERE key = $1",
                vec![key.into()],
            ))
            .await
            .map_err(q("read setting"))?;
        match row {
            None => Ok(None),
            Some(r) => {
                let text: String = r.try_get("", "value").map_err(q("read setting"))?;
                let v = parse(key, &text)?;
                Ok(if v.is_null() { None } else { Some(v) })
            }
        }
    }

    /// Every setting whose value is not null.
    pub async fn settings(&self) -> Result<BTreeMap<String, serde_json::Value>, StoreError> {
        let rows = self
            .db
            .query_all_raw(self.stmt("SELECT key, value FROM rstuf_settings", vec![]))
            .await
            .map_err(q("read settings"))?;
        let mut out = BTreeMap::new();
        for r in rows {
            let key: String = r.try_get("", "key").map_err(q("read settings"))?;
            let text: String = r.try_get("", "value").map_err(q("read settings"))?;
            let v = parse(&key, &text)?;
            if !v.is_null() {
                out.insert(key, v);
            }
        }
        Ok(out)
    }

    /// Write several settings in one transaction (null clears a setting).
    pub async fn put_settings(
        &self,
        items: &[(String, serde_json::Value)],
    ) -> Result<(), StoreError> {
        use sea_orm::TransactionTrait;
        let txn = self.db.begin().await.map_err(q("begin"))?;
        put_on(&txn, self.backend, items).await?;
        txn.commit().await.map_err(q("commit settings"))
    }

    /// Set `BOOTSTRAP = "pre-<task_id>"` only if it is unset; otherwise
    /// return the current value. Atomic across processes. Returns the time
    /// stamped on the lock, which [`Store::unlock_bootstrap`] can require.
    pub async fn lock_bootstrap(
        &self,
        task_id: &str,
    ) -> Result<Result<NaiveDateTime, Option<String>>, StoreError> {
        let value = serde_json::Value::String(format!("pre-{task_id}")).to_string();
        let stamp = micros(now());
        let sql = "INSERT INTO rstuf_settings (key, value, updated_at) VALUES ('BOOTSTRAP', $1, $2) \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at \
                   WHERE rstuf_settings.value = 'null' RETURNING key";
        let row = self
            .db
            .query_one_raw(self.stmt(sql, vec![value.into(), stamp.into()]))
            .await
            .map_err(q("lock bootstrap"))?;
        if row.is_some() {
            return Ok(Ok(stamp));
        }
        let current = self.setting("BOOTSTRAP").await?;
        Ok(Err(current.and_then(|v| v.as_str().map(String::from))))
    }

    /// The worker starting the bootstrap `task_id` claims its lock: true
    /// if `BOOTSTRAP` is still `pre-<task_id>`. The claim re-stamps the
    /// lock, so a watchdog holding the old stamp can no longer release it.
    /// Both are single statements on the same row, so one of them wins.
    pub async fn claim_bootstrap(&self, task_id: &str) -> Result<bool, StoreError> {
        let value = serde_json::Value::String(format!("pre-{task_id}")).to_string();
        let r = self
            .db
            .execute_raw(self.stmt(
                "UPDATE rstuf_settings SET updated_at = $2 WHERE key = 'BOOTSTRAP' AND value = $1",
                vec![value.into(), micros(now()).into()],
            ))
            .await
            .map_err(q("claim bootstrap"))?;
        Ok(r.rows_affected() > 0)
    }

    /// Release the bootstrap lock of `task_id` (`BOOTSTRAP = "pre-<id>"`
    /// back to none); with `stamped`, only if nobody claimed it since it
    /// was locked at that time. False if the state moved on.
    pub async fn unlock_bootstrap(
        &self,
        task_id: &str,
        stamped: Option<NaiveDateTime>,
    ) -> Result<bool, StoreError> {
        let value = serde_json::Value::String(format!("pre-{task_id}")).to_string();
        let (sql, mut values) = (
            "UPDATE rstuf_settings SET value = 'null', updated_at = $2 WHERE key = 'BOOTSTRAP' AND value = $1",
            vec![value.into(), micros(now()).into()],
        );
        let sql = match stamped {
            Some(t) => {
                values.push(t.into());
                format!("{sql} AND updated_at = $3")
            }
            None => sql.to_string(),
        };
        let r = self
            .db
            .execute_raw(self.stmt(&sql, values))
            .await
            .map_err(q("unlock bootstrap"))?;
        Ok(r.rows_affected() > 0)
    }
}

/// Timestamps as both databases store them (microseconds), so one read
/// back compares equal to the one written.
fn micros(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::Timelike;
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

//! The publisher lease. One process at a time writes new metadata versions:
//! it holds the lease (renewed while it works) and every acquisition bumps a
//! fencing token. A publish pass commits its database changes only if its
//! token is still current, in the same transaction, so a publisher that
//! stalled past its lease cannot commit over a newer one.

use crate::db::{now, q, Store, StoreError};
use crate::files::mark_published_on;
use crate::roles::set_versions_on;
use crate::settings::put_on;
use chrono::{Duration, NaiveDateTime};
use sea_orm::{ConnectionTrait, TransactionTrait};

/// What one publish pass records when it commits.
#[derive(Debug, Default, Clone)]
pub struct PublishCommit {
    /// `(role id, new version, new expiry)`.
    pub role_versions: Vec<(i64, i64, NaiveDateTime)>,
    /// `(file id, last_update as read)` of rows now published.
    pub published: Vec<(i64, NaiveDateTime)>,
    /// Settings to write (snapshot/timestamp versions, trusted metadata …).
    pub settings: Vec<(String, serde_json::Value)>,
    /// Role names to mark deleted (`active = false`) with this pass.
    pub deactivate: Vec<String>,
}

impl Store {
    /// Take the lease if it is free, expired, or already ours; returns the
    /// new fencing token.
    pub async fn acquire_publisher(
        &self,
        holder: &str,
        lease: std::time::Duration,
    ) -> Result<Option<i64>, StoreError> {
        let ts = now();
        let until = ts + Duration::from_std(lease).unwrap_or(Duration::seconds(60));
        let row = self
            .db
            .query_one_raw(self.stmt(
                "UPDATE rstuf_publisher SET fencing_token = fencing_token + 1, holder = $1, lease_until = $2 \
                 WHERE id = 1 AND (holder IS NULL OR holder = $1 OR lease_until < $3) RETURNING fencing_token",
                vec![holder.into(), until.into(), ts.into()],
            ))
            .await
            .map_err(q("acquire publisher lease"))?;
        row.map(|r| r.try_get::<i64>("", "fencing_token"))
            .transpose()
            .map_err(q("acquire publisher lease"))
    }

    /// Extend the lease; false if it was lost.
    pub async fn renew_publisher(
        &self,
        holder: &str,
        token: i64,
        lease: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let until = now() + Duration::from_std(lease).unwrap_or(Duration::seconds(60));
        let r = self
            .db
            .execute_raw(self.stmt(
                "UPDATE rstuf_publisher SET lease_until = $1 WHERE id = 1 AND holder = $2 AND fencing_token = $3",
                vec![until.into(), holder.into(), token.into()],
            ))
            .await
            .map_err(q("renew publisher lease"))?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn release_publisher(&self, holder: &str, token: i64) -> Result<(), StoreError> {
        self.db
            .execute_raw(self.stmt(
                "UPDATE rstuf_publisher SET holder = NULL, lease_until = NULL WHERE id = 1 AND holder = $1 AND fencing_token = $2",
                vec![holder.into(), token.into()],
            ))
            .await
            .map_err(q("release publisher lease"))?;
        Ok(())
    }

    /// Apply a publish pass atomically if `token` is still the current
    /// fencing token; returns false (and changes nothing) otherwise.
    pub async fn commit_publish(
        &self,
        holder: &str,
        token: i64,
        commit: &PublishCommit,
    ) -> Result<bool, StoreError> {
        let txn = self.db.begin().await.map_err(q("begin publish"))?;
        // Taking the row lock (PostgreSQL) / write lock (SQLite) first keeps
        // a concurrent acquisition from slipping in before our commit.
        let check = txn
            .query_one_raw(self.stmt(
                "UPDATE rstuf_publisher SET lease_until = lease_until WHERE id = 1 AND holder = $1 AND fencing_token = $2 RETURNING id",
                vec![holder.into(), token.into()],
            ))
            .await
            .map_err(q("check fencing token"))?;
        if check.is_none() {
            txn.rollback().await.map_err(q("rollback publish"))?;
            return Ok(false);
        }
        set_versions_on(&txn, self.backend, &commit.role_versions).await?;
        mark_published_on(&txn, self.backend, &commit.published).await?;
        put_on(&txn, self.backend, &commit.settings).await?;
        for name in &commit.deactivate {
            txn.execute_raw(self.stmt(
                "UPDATE rstuf_target_roles SET active = false, last_update = $1 WHERE rolename = $2",
                vec![now().into(), name.clone().into()],
            ))
            .await
            .map_err(q("deactivate role"))?;
        }
        txn.commit().await.map_err(q("commit publish"))?;
        Ok(true)
    }
}

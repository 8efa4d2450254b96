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
    /// Rows the pass set aside because they cannot be published.
    pub rejected: Vec<crate::files::Rejected>,
    /// The pass's audit entry, appended in the same transaction.
    pub audit: Option<crate::audit::NewAuditEntry>,
}

/// A version wanted for one versioned file name (`bins-0a`, `targets`,
/// `snapshot` …) in a publish pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRequest {
    pub name: String,
    /// The committed version + 1.
    pub at_least: i64,
    /// The version is fixed (an offline-signed document): record it, never
    /// move it.
    pub exact: bool,
}

impl VersionRequest {
    pub fn next(name: impl Into<String>, at_least: i64) -> VersionRequest {
        VersionRequest {
            name: name.into(),
            at_least,
            exact: false,
        }
    }
}

const RESERVE_CHUNK: usize = 500;

impl Store {
    /// Hand out the versions a pass will write, fenced by `token`: each
    /// name gets `max(at_least, highest ever reserved + 1)` (or exactly
    /// `at_least` when fixed), and the new high-water marks are committed
    /// before any file is written. A pass that dies after writing files
    /// therefore burns its version numbers instead of leaving them to a
    /// later pass with different content. `None` if the token moved.
    pub async fn reserve_versions(
        &self,
        holder: &str,
        token: i64,
        requests: &[VersionRequest],
    ) -> Result<Option<std::collections::BTreeMap<String, i64>>, StoreError> {
        let txn = self.db.begin().await.map_err(q("begin reservation"))?;
        if !fenced(&txn, self, holder, token).await? {
            txn.rollback().await.map_err(q("rollback reservation"))?;
            return Ok(None);
        }
        // One request per name (a statement may not upsert a row twice).
        let mut unique: std::collections::BTreeMap<&str, VersionRequest> = Default::default();
        for r in requests {
            let entry = unique.entry(&r.name).or_insert_with(|| r.clone());
            entry.at_least = entry.at_least.max(r.at_least);
            entry.exact &= r.exact;
        }
        let requests: Vec<VersionRequest> = unique.into_values().collect();
        let mut out = std::collections::BTreeMap::new();
        for chunk in requests.chunks(RESERVE_CHUNK) {
            let reserved = reserved_on(&txn, self, chunk.iter().map(|r| r.name.as_str())).await?;
            let mut sql =
                String::from("INSERT INTO rstuf_version_reservations (name, version) VALUES ");
            let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 2);
            for (i, r) in chunk.iter().enumerate() {
                let previous = reserved.get(&r.name).copied().unwrap_or(0);
                let (version, mark) = if r.exact {
                    (r.at_least, r.at_least.max(previous))
                } else {
                    let v = r.at_least.max(previous + 1);
                    (v, v)
                };
                out.insert(r.name.clone(), version);
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("(${}, ${})", i * 2 + 1, i * 2 + 2));
                values.push(r.name.clone().into());
                values.push(mark.into());
            }
            sql.push_str(" ON CONFLICT (name) DO UPDATE SET version = excluded.version");
            txn.execute_raw(self.stmt(&sql, values))
                .await
                .map_err(q("reserve versions"))?;
        }
        txn.commit().await.map_err(q("commit reservation"))?;
        Ok(Some(out))
    }

    /// The highest versions ever reserved for `names` (absent: none).
    pub async fn reserved_versions(
        &self,
        names: &[&str],
    ) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        for chunk in names.chunks(RESERVE_CHUNK) {
            out.extend(reserved_on(&self.db, self, chunk.iter().copied()).await?);
        }
        Ok(out)
    }

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
        if !fenced(&txn, self, holder, token).await? {
            txn.rollback().await.map_err(q("rollback publish"))?;
            return Ok(false);
        }
        set_versions_on(&txn, self.backend, &commit.role_versions).await?;
        mark_published_on(&txn, self.backend, &commit.published).await?;
        crate::files::reject_on(&txn, self, &commit.rejected).await?;
        put_on(&txn, self.backend, &commit.settings).await?;
        for name in &commit.deactivate {
            txn.execute_raw(self.stmt(
                "UPDATE rstuf_target_roles SET active = false, last_update = $1 WHERE rolename = $2",
                vec![now().into(), name.clone().into()],
            ))
            .await
            .map_err(q("deactivate role"))?;
        }
        if let Some(entry) = &commit.audit {
            crate::audit::append_on(&txn, self, entry).await?;
        }
        txn.commit().await.map_err(q("commit publish"))?;
        Ok(true)
    }
}

/// Inside a transaction: is `token` still current? Taking the row lock
/// (PostgreSQL) / write lock (SQLite) first keeps a concurrent acquisition
/// from slipping in before the transaction commits.
async fn fenced<C: ConnectionTrait>(
    conn: &C,
    store: &Store,
    holder: &str,
    token: i64,
) -> Result<bool, StoreError> {
    let check = conn
        .query_one_raw(store.stmt(
            "UPDATE rstuf_publisher SET lease_until = lease_until WHERE id = 1 AND holder = $1 AND fencing_token = $2 RETURNING id",
            vec![holder.into(), token.into()],
        ))
        .await
        .map_err(q("check fencing token"))?;
    Ok(check.is_some())
}

async fn reserved_on<'a, C: ConnectionTrait>(
    conn: &C,
    store: &Store,
    names: impl Iterator<Item = &'a str>,
) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
    let names: Vec<sea_orm::Value> = names.map(|n| n.to_string().into()).collect();
    if names.is_empty() {
        return Ok(Default::default());
    }
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let rows = conn
        .query_all_raw(store.stmt(
            &format!(
                "SELECT name, version FROM rstuf_version_reservations WHERE name IN ({})",
                placeholders.join(",")
            ),
            names,
        ))
        .await
        .map_err(q("read version reservations"))?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String>("", "name")
                    .map_err(q("read version reservations"))?,
                r.try_get::<i64>("", "version")
                    .map_err(q("read version reservations"))?,
            ))
        })
        .collect()
}

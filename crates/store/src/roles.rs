//! Delegated roles (`rstuf_target_roles`): one row per bin or custom role,
//! with the version and expiry last published.

use crate::db::{now, q, Store, StoreError};
use chrono::NaiveDateTime;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub id: i64,
    pub rolename: String,
    pub version: i64,
    pub expires: NaiveDateTime,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct NewRole {
    pub rolename: String,
    pub version: i64,
    pub expires: NaiveDateTime,
}

const COLUMNS: &str = "id, rolename, version, expires, active";

pub(crate) fn role_of(r: &QueryResult) -> Result<Role, StoreError> {
    let id: i32 = r.try_get("", "id").map_err(q("read role"))?;
    let version: i32 = r.try_get("", "version").map_err(q("read role"))?;
    Ok(Role {
        id: i64::from(id),
        rolename: r.try_get("", "rolename").map_err(q("read role"))?,
        version: i64::from(version),
        expires: r.try_get("", "expires").map_err(q("read role"))?,
        active: r.try_get("", "active").map_err(q("read role"))?,
    })
}

/// Apply version/expiry updates on any connection.
pub(crate) async fn set_versions_on<C: ConnectionTrait>(
    conn: &C,
    backend: DbBackend,
    updates: &[(i64, i64, NaiveDateTime)],
) -> Result<(), StoreError> {
    let ts = now();
    for (id, version, expires) in updates {
        let stmt = Statement::from_sql_and_values(
            backend,
            "UPDATE rstuf_target_roles SET version = $1, expires = $2, last_update = $3 WHERE id = $4",
            vec![Value::from(*version as i32), Value::from(*expires), Value::from(ts), Value::from(*id as i32)],
        );
        conn.execute_raw(stmt)
            .await
            .map_err(q("update role version"))?;
    }
    Ok(())
}

impl Store {
    /// Insert roles in multi-row batches; existing names are left alone.
    pub async fn create_roles(&self, roles: &[NewRole]) -> Result<(), StoreError> {
        use sea_orm::TransactionTrait;
        let txn = self.db.begin().await.map_err(q("begin"))?;
        let ts = now();
        for chunk in roles.chunks(1000) {
            let mut sql = String::from("INSERT INTO rstuf_target_roles (rolename, expires, version, active, last_update) VALUES ");
            let mut values = Vec::with_capacity(chunk.len() * 4);
            for (i, r) in chunk.iter().enumerate() {
                let b = i * 4;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, true, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4
                ));
                values.extend([
                    Value::from(r.rolename.clone()),
                    Value::from(r.expires),
                    Value::from(r.version as i32),
                    Value::from(ts),
                ]);
            }
            sql.push_str(" ON CONFLICT (rolename) DO NOTHING");
            txn.execute_raw(self.stmt(&sql, values))
                .await
                .map_err(q("create roles"))?;
        }
        txn.commit().await.map_err(q("commit roles"))
    }

    /// A role by name, active or not.
    pub async fn role_by_name(&self, name: &str) -> Result<Option<Role>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM rstuf_target_roles WHERE rolename = $1");
        let row = self
            .db
            .query_one_raw(self.stmt(&sql, vec![name.into()]))
            .await
            .map_err(q("read role"))?;
        row.as_ref().map(role_of).transpose()
    }

    pub async fn active_roles(&self) -> Result<Vec<Role>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM rstuf_target_roles WHERE active = true ORDER BY rolename"
        );
        let rows = self
            .db
            .query_all_raw(self.stmt(&sql, vec![]))
            .await
            .map_err(q("read roles"))?;
        rows.iter().map(role_of).collect()
    }

    /// Deleted custom roles (their names are never reused), with the
    /// version they were last published at.
    pub async fn deleted_roles(&self) -> Result<Vec<Role>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM rstuf_target_roles WHERE active = false ORDER BY rolename"
        );
        let rows = self
            .db
            .query_all_raw(self.stmt(&sql, vec![]))
            .await
            .map_err(q("read deleted roles"))?;
        rows.iter().map(role_of).collect()
    }

    /// Active roles expiring before `t`.
    pub async fn roles_expiring_before(&self, t: NaiveDateTime) -> Result<Vec<Role>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM rstuf_target_roles WHERE active = true AND expires < $1 ORDER BY rolename");
        let rows = self
            .db
            .query_all_raw(self.stmt(&sql, vec![t.into()]))
            .await
            .map_err(q("read roles"))?;
        rows.iter().map(role_of).collect()
    }

    pub async fn set_role_versions(
        &self,
        updates: &[(i64, i64, NaiveDateTime)],
    ) -> Result<(), StoreError> {
        use sea_orm::TransactionTrait;
        let txn = self.db.begin().await.map_err(q("begin"))?;
        set_versions_on(&txn, self.backend, updates).await?;
        txn.commit().await.map_err(q("commit role versions"))
    }

    /// Mark a custom role deleted; its name can never be reused.
    pub async fn deactivate_role(&self, name: &str) -> Result<bool, StoreError> {
        let r = self
            .db
            .execute_raw(self.stmt(
                "UPDATE rstuf_target_roles SET active = false, last_update = $1 WHERE rolename = $2",
                vec![now().into(), name.into()],
            ))
            .await
            .map_err(q("deactivate role"))?;
        Ok(r.rows_affected() > 0)
    }
}

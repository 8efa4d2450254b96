//! Schema migrations, run at start. Every statement is idempotent, so the
//! migration also succeeds on a database where upstream RSTUF's alembic
//! already created its two tables.

use crate::db::{q, Store, StoreError};
use sea_orm::{ConnectionTrait, TransactionTrait};

const SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS rstuf_target_roles (id INTEGER PRIMARY KEY AUTOINCREMENT, rolename VARCHAR NOT NULL, expires TIMESTAMP NOT NULL, version INTEGER NOT NULL, active BOOLEAN NOT NULL DEFAULT 1, last_update TIMESTAMP)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ix_rstuf_target_roles_rolename ON rstuf_target_roles (rolename)",
    "CREATE TABLE IF NOT EXISTS rstuf_target_files (id INTEGER PRIMARY KEY AUTOINCREMENT, path VARCHAR NOT NULL, info JSON NOT NULL, published BOOLEAN NOT NULL, action VARCHAR(6) NOT NULL CHECK (action IN ('ADD','REMOVE')), last_update TIMESTAMP, targets_role INTEGER REFERENCES rstuf_target_roles(id))",
    "CREATE UNIQUE INDEX IF NOT EXISTS ix_rstuf_target_files_path ON rstuf_target_files (path)",
    "CREATE INDEX IF NOT EXISTS ix_rstuf_target_files_role_published ON rstuf_target_files (targets_role, published)",
    "CREATE TABLE IF NOT EXISTS rstuf_settings (key VARCHAR PRIMARY KEY, value TEXT NOT NULL, updated_at TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rstuf_tasks (task_id VARCHAR(64) PRIMARY KEY, action VARCHAR NOT NULL, queue VARCHAR NOT NULL, payload TEXT, state VARCHAR NOT NULL, result TEXT, attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 5, available_at TIMESTAMP NOT NULL, lease_owner VARCHAR, lease_until TIMESTAMP, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_rstuf_tasks_claim ON rstuf_tasks (state, available_at)",
    "CREATE TABLE IF NOT EXISTS rstuf_publisher (id INTEGER PRIMARY KEY, fencing_token BIGINT NOT NULL, holder VARCHAR, lease_until TIMESTAMP)",
    "INSERT INTO rstuf_publisher (id, fencing_token) VALUES (1, 0) ON CONFLICT DO NOTHING",
    "CREATE TABLE IF NOT EXISTS rstuf_version_reservations (name VARCHAR PRIMARY KEY, version BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rstuf_applied_tasks (task_id VARCHAR(64) PRIMARY KEY, outcome TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rstuf_rejected_files (path VARCHAR PRIMARY KEY, last_update TIMESTAMP NOT NULL, reason TEXT NOT NULL, rejected_at TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rstuf_audit (seq BIGINT PRIMARY KEY, appended_at VARCHAR NOT NULL, action VARCHAR NOT NULL, task_id VARCHAR(64), detail TEXT NOT NULL, prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rstuf_audit_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash VARCHAR(64) NOT NULL)",
    "INSERT INTO rstuf_audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000') ON CONFLICT DO NOTHING",
];

const POSTGRES: &[&str] = &[
    "DO $$ BEGIN CREATE TYPE targetaction AS ENUM ('ADD', 'REMOVE'); EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    "CREATE TABLE IF NOT EXISTS rstuf_target_roles (id SERIAL PRIMARY KEY, rolename VARCHAR NOT NULL, expires TIMESTAMP NOT NULL, version INTEGER NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE, last_update TIMESTAMP)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ix_rstuf_target_roles_rolename ON rstuf_target_roles (rolename)",
    "CREATE TABLE IF NOT EXISTS rstuf_target_files (id SERIAL PRIMARY KEY, path VARCHAR NOT NULL, info JSON NOT NULL, published BOOLEAN NOT NULL, action targetaction NOT NULL, last_update TIMESTAMP, targets_role INTEGER REFERENCES rstuf_target_roles(id))",
    "CREATE UNIQUE INDEX IF NOT EXISTS ix_rstuf_target_files_path ON rstuf_target_files (path)",
    "CREATE INDEX IF NOT EXISTS ix_rstuf_target_files_role_published ON rstuf_target_files (targets_role, published)",
    "CREATE TABLE IF NOT EXISTS rstuf_settings (key VARCHAR PRIMARY KEY, value TEXT NOT NULL, updated_at TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rstuf_tasks (task_id VARCHAR(64) PRIMARY KEY, action VARCHAR NOT NULL, queue VARCHAR NOT NULL, payload TEXT, state VARCHAR NOT NULL, result TEXT, attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 5, available_at TIMESTAMP NOT NULL, lease_owner VARCHAR, lease_until TIMESTAMP, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_rstuf_tasks_claim ON rstuf_tasks (state, available_at)",
    "CREATE TABLE IF NOT EXISTS rstuf_publisher (id INTEGER PRIMARY KEY, fencing_token BIGINT NOT NULL, holder VARCHAR, lease_until TIMESTAMP)",
    "INSERT INTO rstuf_publisher (id, fencing_token) VALUES (1, 0) ON CONFLICT DO NOTHING",
    "CREATE TABLE IF NOT EXISTS rstuf_version_reservations (name VARCHAR PRIMARY KEY, version BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rstuf_applied_tasks (task_id VARCHAR(64) PRIMARY KEY, outcome TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rstuf_rejected_files (path VARCHAR PRIMARY KEY, last_update TIMESTAMP NOT NULL, reason TEXT NOT NULL, rejected_at TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rstuf_audit (seq BIGINT PRIMARY KEY, appended_at VARCHAR NOT NULL, action VARCHAR NOT NULL, task_id VARCHAR(64), detail TEXT NOT NULL, prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rstuf_audit_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash VARCHAR(64) NOT NULL)",
    "INSERT INTO rstuf_audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000') ON CONFLICT DO NOTHING",
];

pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    let fail = |sql: &str, e: sea_orm::DbErr| StoreError::Migrate {
        transient: crate::db::is_transient(&e),
        message: format!("{e} (while running: {sql})"),
    };
    if store.is_postgres() {
        // One transaction holding an advisory lock, so processes starting
        // together migrate one after the other (PostgreSQL DDL is
        // transactional).
        let txn = store.db.begin().await.map_err(q("begin migration"))?;
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7263540011)")
            .await
            .map_err(q("migration lock"))?;
        for sql in POSTGRES {
            txn.execute_unprepared(sql)
                .await
                .map_err(|e| fail(sql, e))?;
        }
        txn.commit().await.map_err(q("commit migration"))?;
    } else {
        for sql in SQLITE {
            store
                .db
                .execute_unprepared(sql)
                .await
                .map_err(|e| fail(sql, e))?;
        }
    }
    Ok(())
}

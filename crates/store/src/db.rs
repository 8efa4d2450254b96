//! Connection, dialect helpers and errors.

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value,
};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to database {url}: {message}")]
    Connect {
        url: String,
        message: String,
        /// The server could not be reached (down, restarting, network):
        /// trying again later may succeed. False for refused credentials,
        /// a missing database or a bad URL.
        transient: bool,
    },
    #[error("database migration failed: {message}")]
    Migrate { message: String, transient: bool },
    #[error("database {op} failed: {message}")]
    Query {
        op: &'static str,
        message: String,
        /// The connection failed rather than the statement (see
        /// [`StoreError::is_transient`]).
        transient: bool,
    },
    #[error("stored data is malformed ({what}): {message}")]
    Data { what: &'static str, message: String },
}

impl StoreError {
    /// The database could not be reached or the connection broke (a
    /// restart, the network): the same call may succeed later. False when
    /// the server answered with an error.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Connect { transient, .. }
            | StoreError::Migrate { transient, .. }
            | StoreError::Query { transient, .. } => *transient,
            StoreError::Data { .. } => false,
        }
    }
}

pub(crate) fn q(op: &'static str) -> impl Fn(sea_orm::DbErr) -> StoreError {
    move |e| StoreError::Query {
        op,
        transient: is_transient(&e),
        message: e.to_string(),
    }
}

/// A connection pool plus its dialect.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    pub(crate) backend: DbBackend,
}

/// `url` with any password hidden.
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((auth, host)) => format!(
                "{scheme}://{}:***@{host}",
                auth.split(':').next().unwrap_or("")
            ),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl Store {
    /// Connect (creating an SQLite file if needed) and run migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let is_sqlite = url.starts_with("sqlite:");
        let url_with_mode = if is_sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
        } else {
            url.to_string()
        };
        let mut options = ConnectOptions::new(url_with_mode);
        options
            .max_connections(if is_sqlite { 8 } else { 16 })
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30))
            .sqlx_logging(false);
        let db = Database::connect(options)
            .await
            .map_err(|e| StoreError::Connect {
                url: redact(url),
                message: e.to_string(),
                transient: is_transient(&e),
            })?;
        let backend = db.get_database_backend();
        let store = Store { db, backend };
        if backend == DbBackend::Sqlite {
            for pragma in [
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=NORMAL",
                "PRAGMA foreign_keys=ON",
                "PRAGMA busy_timeout=10000",
            ] {
                store
                    .db
                    .execute_unprepared(pragma)
                    .await
                    .map_err(q("configure sqlite"))?;
            }
        }
        crate::migrate::run(&store).await?;
        Ok(store)
    }

    pub(crate) fn stmt(&self, sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, values)
    }

    pub fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }

    /// `$n` placeholder cast to the upstream enum on PostgreSQL.
    pub(crate) fn action(&self, n: usize) -> String {
        if self.is_postgres() {
            format!("${n}::targetaction")
        } else {
            format!("${n}")
        }
    }

    /// A quick round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .execute_unprepared("SELECT 1")
            .await
            .map_err(q("ping"))?;
        Ok(())
    }
}

/// An error of reaching the server, as opposed to one the server answered:
/// the connection could not be made or broke, or PostgreSQL is shutting
/// down or starting (SQLSTATE class 57P: admin/crash shutdown, cannot
/// connect now).
pub(crate) fn is_transient(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    let sqlx = match e {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e.as_ref(),
        _ => return false,
    };
    match sqlx {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::Tls(_) => true,
        Sqlx::Protocol(_) => matches!(e, DbErr::Conn(_)),
        Sqlx::Database(db) => db.code().is_some_and(|c| c.starts_with("57P")),
        _ => false,
    }
}

pub(crate) fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

#[cfg(test)]
mod tests {
    //! The classification against errors a real PostgreSQL server (the
    //! machine's, on 127.0.0.1:5432) produces.

    use super::*;
    use sea_orm::TransactionTrait;

    const PG: &str = "postgres://postgres@127.0.0.1:5432/test";

    #[tokio::test]
    async fn a_connection_killed_under_a_statement_is_transient_a_bad_statement_is_not() {
        let db = Database::connect(PG)
            .await
            .expect("PostgreSQL must be running on 127.0.0.1:5432 (see .ci/run)");
        let bad = db.execute_unprepared("SELEC 1").await.unwrap_err();
        assert!(!is_transient(&bad), "{bad:?}");

        let txn = db.begin().await.unwrap();
        let pid: i32 = txn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT pg_backend_pid() AS pid",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "pid")
            .unwrap();
        db.execute_unprepared(&format!("SELECT pg_terminate_backend({pid})"))
            .await
            .unwrap();
        let broken = txn.execute_unprepared("SELECT 1").await.unwrap_err();
        assert!(is_transient(&broken), "{broken:?}");
        let err = q("test")(broken);
        assert!(err.is_transient(), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_transient_a_missing_database_is_not() {
        // Port 9 (discard) is closed on loopback.
        let mut options = ConnectOptions::new("postgres://postgres@127.0.0.1:9/test");
        options
            .connect_timeout(Duration::from_secs(2))
            .acquire_timeout(Duration::from_secs(2));
        let down = Database::connect(options).await.unwrap_err();
        assert!(is_transient(&down), "{down:?}");
        let missing = Database::connect("postgres://postgres@127.0.0.1:5432/no_such_db_rstuf")
            .await
            .unwrap_err();
        assert!(!is_transient(&missing), "{missing:?}");
    }
}

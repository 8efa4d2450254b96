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
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("database {op} failed: {message}")]
    Query { op: &'static str, message: String },
    #[error("stored data is malformed ({what}): {message}")]
    Data { what: &'static str, message: String },
}

pub(crate) fn q(op: &'static str) -> impl Fn(sea_orm::DbErr) -> StoreError {
    move |e| StoreError::Query {
        op,
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

/// An error of reaching the server, as opposed to one the server answered.
fn is_transient(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(e)) => matches!(
            e.as_ref(),
            Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::Protocol(_) | Sqlx::Tls(_)
        ),
        DbErr::ConnectionAcquire(_) => true,
        _ => false,
    }
}

pub(crate) fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

//! The service configuration: one typed struct, read from an optional TOML
//! file and then from `RSTUF_*` environment variables (upstream RSTUF's names
//! where upstream has them), validated once at start with messages that say
//! which setting is wrong and how to fix it.
//!
//! Precedence: built-in defaults < file (`--config` or `RSTUF_CONFIG`) <
//! environment.

//!
//! [`file`] reads the TOML file, [`env`] applies the environment (and maps
//! upstream's backend variables onto plugins), [`validate`] checks the
//! result; this module holds the types and their defaults.

mod env;
mod file;
mod validate;

pub use env::{Env, ProcessEnv};

use rstuf_plugins::{DirGrant, Grants, PluginKind, PluginSpec};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("configuration: {0}")]
    Invalid(String),
}

/// Which parts of the service this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// REST API and worker (the default).
    All,
    /// REST API only.
    Api,
    /// Worker only.
    Worker,
}

impl Role {
    pub fn runs_api(self) -> bool {
        matches!(self, Role::All | Role::Api)
    }
    pub fn runs_worker(self) -> bool {
        matches!(self, Role::All | Role::Worker)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where state lives in embedded mode: database, metadata, keys, caches.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub queue: QueueConfig,
    pub worker: WorkerConfig,
    pub plugins: PluginsConfig,
    /// Log filter (`RSTUF_LOG_LEVEL`), e.g. `info` or `rstuf_host=debug`.
    pub log_level: String,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `RSTUF_LISTEN`.
    pub listen: SocketAddr,
    /// `RSTUF_ROLE`: `all`, `api` or `worker`.
    pub role: Role,
    /// Largest accepted request body in bytes (`RSTUF_BODY_LIMIT`).
    pub body_limit: usize,
    /// Serve the published metadata read-only under `/metadata/` (with a
    /// directory listing), so no separate web server is needed for trials.
    pub serve_metadata: bool,
    /// Upstream's `RSTUF_DISABLE_ENDPOINTS`: `:`-separated routes such as
    /// `/api/v1/artifacts/` or `{'POST'}/api/v1/artifacts/publish/`.
    pub disable_endpoints: Vec<String>,
    /// Bearer tokens with scopes. Empty: no authentication (as upstream; put
    /// a gateway in front). `RSTUF_AUTH_TOKENS` = `token=scope,scope;...`.
    pub auth_tokens: BTreeMap<String, Vec<String>>,
    /// Refuse to start without `auth_tokens` (`RSTUF_AUTH_REQUIRED`).
    pub auth_required: bool,
    /// Seconds a client has to send a request's headers before its
    /// connection is closed (`RSTUF_HEADER_READ_TIMEOUT`).
    pub header_read_timeout_secs: u64,
    /// Most client connections served at once (`RSTUF_MAX_CONNECTIONS`);
    /// past it only `/health` and `/ready` are answered, on a few spare
    /// connections (see `api::server`).
    pub max_connections: usize,
    /// Serve HTTPS with this PEM certificate chain (upstream's
    /// `SECRETS_RSTUF_SSL_CERT`); needs `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// Its PEM private key (`SECRETS_RSTUF_SSL_KEY`).
    pub tls_key: Option<PathBuf>,
}

#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `RSTUF_DB_SERVER`: `sqlite://<file>` (embedded) or `postgresql://…`.
    /// Empty: `sqlite://<data_dir>/rstuf.db`.
    pub url: String,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// `RSTUF_BROKER_SERVER`: `amqp://…` for RabbitMQ. Empty: the embedded
    /// durable queue in the database.
    pub broker: String,
    /// `RSTUF_REDIS_SERVER`: `redis://…` for task state and results in
    /// distributed mode (settings and the publisher lease stay in the
    /// database).
    pub redis: String,
    /// How long task results are kept, in seconds (upstream: one day).
    pub result_ttl_secs: u64,
    /// `RSTUF_QUEUE_NAME`: the RabbitMQ queue (upstream's
    /// `metadata_repository`); also namespaces the task keys in Redis, so
    /// several repositories can share one broker and one Redis.
    pub name: String,
    /// `RSTUF_TASK_MAX_ATTEMPTS`: runs of a task that keeps failing with a
    /// retryable error before it is dead-lettered.
    pub max_attempts: u32,
    /// `RSTUF_TASK_RETRY_DELAY_MS`: the first wait before a failed task
    /// runs again, in milliseconds; each later wait doubles it (six
    /// doublings at most).
    pub retry_delay_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// `RSTUF_WORKER_ID`; defaults to the host name and process id.
    pub id: String,
    /// Tasks run at once by this process.
    pub concurrency: usize,
    /// Seconds between checks for online roles near expiry (upstream: 300).
    pub bump_interval_secs: u64,
    /// Re-sign online roles this many hours before they expire (upstream
    /// setting `HOURS_BEFORE_EXPIRE`, default 1).
    pub hours_before_expire: u64,
    /// Seconds a worker may hold a task or the publisher lease without
    /// renewing it (`RSTUF_LOCK_TIMEOUT`).
    pub lock_timeout_secs: u64,
    /// Days before expiry that a role needing people (root, offline
    /// delegated roles, signings under way) shows on `/ready` and is
    /// announced to notify plugins (`RSTUF_EXPIRY_WARNING_DAYS`).
    pub expiry_warning_days: u64,
    /// Snapshot generations whose files are kept; older versioned metadata
    /// is deleted (`RSTUF_RETENTION_KEEP_SNAPSHOTS`; 0, the default, keeps
    /// everything, as upstream).
    pub retention_keep_snapshots: u32,
    /// Snapshots superseded less than this long ago are kept too
    /// (`RSTUF_RETENTION_GRACE_SECS`).
    pub retention_grace_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// Where plugin files named by relative paths are looked up.
    pub dir: PathBuf,
    /// Compiled-code cache. Empty: `<data_dir>/plugin-cache`.
    pub cache_dir: PathBuf,
    pub storage: PluginEntry,
    /// Key vaults, chosen per key by the URI scheme of
    /// `x-rstuf-online-key-uri` (`fn:`, `hv:`, `awskms:` …).
    pub keyvaults: Vec<PluginEntry>,
    pub notify: Vec<PluginEntry>,
    /// Events each notifier may have waiting for delivery; when a slow
    /// receiver lets more pile up, new events are dropped (and counted in
    /// `rstuf_notify_events_total{outcome="dropped"}`), never publishing
    /// delayed.
    pub notify_outbox: usize,
}

/// One plugin as configured.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PluginEntry {
    /// Name used in logs and errors.
    pub name: String,
    /// Component file, absolute or relative to `plugins.dir`.
    pub file: PathBuf,
    #[serde(default = "empty_object")]
    pub config: serde_json::Value,
    #[serde(default)]
    pub grants: Grants,
}

// Debug output of the configuration never shows a secret: plugin
// configuration values, tokens and URL passwords are hidden.

impl std::fmt::Debug for PluginEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEntry")
            .field("name", &self.name)
            .field("file", &self.file)
            .field("config", &rstuf_plugins::RedactedConfig(&self.config))
            .field("grants", &self.grants)
            .finish()
    }
}

impl ServerConfig {
    /// The certificate and key to serve HTTPS with, when both are set
    /// (validation refuses one without the other).
    pub fn tls_files(&self) -> Option<crate::api::tls::TlsFiles> {
        Some(crate::api::tls::TlsFiles {
            cert: self.tls_cert.clone()?,
            key: self.tls_key.clone()?,
        })
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tokens: Vec<&Vec<String>> = self.auth_tokens.values().collect();
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("role", &self.role)
            .field("body_limit", &self.body_limit)
            .field("serve_metadata", &self.serve_metadata)
            .field("disable_endpoints", &self.disable_endpoints)
            .field("auth_tokens (scopes only)", &tokens)
            .field("auth_required", &self.auth_required)
            .field("header_read_timeout_secs", &self.header_read_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .finish()
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

impl std::fmt::Debug for QueueConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueConfig")
            .field("broker", &redact_url(&self.broker))
            .field("redis", &redact_url(&self.redis))
            .field("result_ttl_secs", &self.result_ttl_secs)
            .field("name", &self.name)
            .field("max_attempts", &self.max_attempts)
            .field("retry_delay_ms", &self.retry_delay_ms)
            .finish()
    }
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

impl Default for Config {
    fn default() -> Self {
        let data_dir = PathBuf::from("var");
        Config {
            server: ServerConfig::default(),
            database: DatabaseConfig { url: String::new() },
            queue: QueueConfig::default(),
            worker: WorkerConfig::default(),
            plugins: PluginsConfig::defaults_for(&data_dir),
            log_level: "info".into(),
            data_dir,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            role: Role::All,
            body_limit: 16 << 20,
            serve_metadata: true,
            disable_endpoints: Vec::new(),
            auth_tokens: BTreeMap::new(),
            auth_required: false,
            header_read_timeout_secs: 10,
            max_connections: 1024,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            broker: String::new(),
            redis: String::new(),
            result_ttl_secs: 86_400,
            name: "metadata_repository".into(),
            max_attempts: 5,
            retry_delay_ms: 1000,
        }
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            id: String::new(),
            concurrency: 4,
            bump_interval_secs: 300,
            hours_before_expire: 1,
            lock_timeout_secs: 60,
            expiry_warning_days: 14,
            retention_keep_snapshots: 0,
            retention_grace_secs: 3600,
        }
    }
}

impl PluginsConfig {
    /// storage-fs into `<data_dir>/metadata`, keyvault-file over
    /// `<data_dir>/keys`: the embedded defaults.
    fn defaults_for(data_dir: &Path) -> Self {
        PluginsConfig {
            dir: PathBuf::from("dist/plugins"),
            cache_dir: PathBuf::new(),
            storage: local_storage_entry(&data_dir.join("metadata")),
            keyvaults: vec![file_keyvault_entry(&data_dir.join("keys"))],
            notify: Vec::new(),
            notify_outbox: 1000,
        }
    }
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig::defaults_for(Path::new("var"))
    }
}

fn local_storage_entry(dir: &Path) -> PluginEntry {
    PluginEntry {
        name: "storage".into(),
        file: "storage-fs.wasm".into(),
        config: serde_json::json!({ "path": "/data" }),
        grants: Grants {
            dirs: vec![DirGrant {
                host: dir.to_path_buf(),
                guest: "/data".into(),
                read_only: false,
            }],
            ..Grants::default()
        },
    }
}

fn file_keyvault_entry(dir: &Path) -> PluginEntry {
    PluginEntry {
        name: "online-key-files".into(),
        file: "keyvault-file.wasm".into(),
        config: serde_json::json!({ "dir": "/keys" }),
        grants: Grants {
            dirs: vec![DirGrant {
                host: dir.to_path_buf(),
                guest: "/keys".into(),
                read_only: true,
            }],
            ..Grants::default()
        },
    }
}

impl Config {
    /// Load defaults, then `file` (or `RSTUF_CONFIG`), then the environment,
    /// and validate.
    pub fn load(file: Option<&Path>, env: &dyn Env) -> Result<Config, ConfigError> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env.var("RSTUF_CONFIG").map(PathBuf::from));
        let mut config = match file {
            Some(path) => Config::from_file(&path)?,
            None => Config::default(),
        };
        config.apply_env(env)?;
        config.resolve();
        config.validate()?;
        Ok(config)
    }

    /// Fill in values derived from others.
    fn resolve(&mut self) {
        if self.database.url.is_empty() {
            self.database.url = format!("sqlite://{}", self.data_dir.join("rstuf.db").display());
        }
        if self.plugins.cache_dir.as_os_str().is_empty() {
            self.plugins.cache_dir = self.data_dir.join("plugin-cache");
        }
        if self.worker.id.is_empty() {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "rstuf".into());
            self.worker.id = format!("{host}-{}", std::process::id());
        }
    }

    /// Distributed mode: RabbitMQ + Redis + PostgreSQL.
    pub fn is_distributed(&self) -> bool {
        !self.queue.broker.is_empty()
    }

    /// The plugin specs to load, with files resolved against `plugins.dir`.
    pub fn plugin_specs(&self) -> Vec<PluginSpec> {
        let spec = |e: &PluginEntry, kind| PluginSpec {
            name: e.name.clone(),
            kind,
            file: if e.file.is_absolute() {
                e.file.clone()
            } else {
                self.plugins.dir.join(&e.file)
            },
            config: e.config.clone(),
            grants: e.grants.clone(),
        };
        std::iter::once(spec(&self.plugins.storage, PluginKind::Storage))
            .chain(
                self.plugins
                    .keyvaults
                    .iter()
                    .map(|e| spec(e, PluginKind::Keyvault)),
            )
            .chain(
                self.plugins
                    .notify
                    .iter()
                    .map(|e| spec(e, PluginKind::Notify)),
            )
            .collect()
    }

    /// Directories the embedded defaults write to; created at start.
    pub fn directories_to_create(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.data_dir.clone(), self.plugins.cache_dir.clone()];
        for spec in self.plugin_specs() {
            // Writable grants are ours to create; a read-only one (a key
            // directory) only when it lives in the data directory, so a
            // fresh install starts, while a mistyped external path still
            // fails with the grant's name.
            for grant in &spec.grants.dirs {
                if !grant.read_only || grant.host.starts_with(&self.data_dir) {
                    dirs.push(grant.host.clone());
                }
            }
        }
        if let Some(path) = self.database.url.strip_prefix("sqlite://") {
            if let Some(parent) = Path::new(path.split('?').next().unwrap_or(path)).parent() {
                if !parent.as_os_str().is_empty() {
                    dirs.push(parent.to_path_buf());
                }
            }
        }
        dirs
    }
}

/// Scopes understood by the optional bearer-token authentication (upstream's
/// pre-0.8 names, and `read:audit` for our audit log).
pub fn crate_scopes() -> &'static [&'static str] {
    &[
        "read:bootstrap",
        "read:settings",
        "read:tasks",
        "read:metadata_sign",
        "write:bootstrap",
        "write:settings",
        "write:metadata",
        "write:metadata_sign",
        "write:targets",
        "delete:targets",
        "delete:metadata_sign",
        "write:delegations",
        "read:audit",
    ]
}

/// A URL with any password replaced, safe to log or show.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((auth, host)) => {
            let user = auth.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An environment that answers from `vars` and records every name
    /// asked for.
    struct Recording<'a> {
        vars: &'a [(&'a str, &'a str)],
        asked: std::cell::RefCell<std::collections::BTreeSet<String>>,
    }

    impl Env for Recording<'_> {
        fn var(&self, name: &str) -> Option<String> {
            self.asked.borrow_mut().insert(name.to_string());
            self.vars
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    /// The `RSTUF_*` names of the first column of docs/configuration.md's
    /// environment table.
    fn documented_variables() -> std::collections::BTreeSet<String> {
        let docs = include_str!("../../../docs/configuration.md");
        let table = docs
            .split("## Environment variables")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("docs/configuration.md has an environment table");
        let mut names = std::collections::BTreeSet::new();
        for row in table.lines().filter(|l| l.starts_with("| `")) {
            let first = row.split('|').nth(1).unwrap_or_default();
            for part in first.split('`').skip(1).step_by(2) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if name.starts_with("RSTUF_")
                    || name.starts_with("SECRETS_RSTUF_")
                    || name.starts_with("VAULT_")
                {
                    names.insert(name);
                }
            }
        }
        names
    }

    /// An upstream worker's environment for S3 storage, `awskms:` and
    /// `hv:` online keys.
    const UPSTREAM_AWS_VAULT_ENV: [(&str, &str); 10] = [
        ("RSTUF_STORAGE_BACKEND", "AWSS3"),
        ("RSTUF_AWS_STORAGE_BUCKET", "tuf-metadata"),
        ("RSTUF_AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("RSTUF_AWS_SECRET_ACCESS_KEY", "aws-secret-value"),
        ("RSTUF_AWS_DEFAULT_REGION", "eu-west-1"),
        ("RSTUF_AWS_ENDPOINT_URL", "http://127.0.0.1:4566/"),
        ("RSTUF_AWS_S3_OBJECT_ACL", "private"),
        ("VAULT_ADDR", "http://127.0.0.1:8200"),
        ("VAULT_TOKEN", "vault-token-value"),
        ("VAULT_NAMESPACE", "team"),
    ];

    #[test]
    fn an_upstream_environment_selects_s3_kms_and_vault_plugins() {
        let c = Config::load(None, &UPSTREAM_AWS_VAULT_ENV).unwrap();
        let s3 = &c.plugins.storage;
        assert_eq!(s3.file, Path::new("storage-s3.wasm"));
        assert_eq!(s3.config["endpoint"], "http://127.0.0.1:4566");
        assert_eq!(s3.config["bucket"], "tuf-metadata");
        assert_eq!(s3.config["region"], "eu-west-1");
        assert_eq!(s3.config["path_style"], true);
        assert_eq!(s3.config["acl"], "private");
        assert_eq!(s3.grants.http_hosts, vec!["127.0.0.1:4566"]);
        let files: Vec<&str> = c
            .plugins
            .keyvaults
            .iter()
            .map(|k| k.file.to_str().unwrap())
            .collect();
        assert!(
            files.contains(&"keyvault-awskms.wasm") && files.contains(&"keyvault-vault.wasm"),
            "{files:?}"
        );
        let vault = c
            .plugins
            .keyvaults
            .iter()
            .find(|k| k.file == Path::new("keyvault-vault.wasm"))
            .unwrap();
        assert_eq!(vault.config["namespace"], "team");
        assert!(!format!("{c:?}").contains("aws-secret-value"));
        assert!(!format!("{c:?}").contains("vault-token-value"));

        // On AWS itself: virtual-host style, the bucket's host granted,
        // upstream's default ACL.
        let aws = Config::load(
            None,
            &[
                ("RSTUF_STORAGE_BACKEND", "awss3"),
                ("RSTUF_AWS_STORAGE_BUCKET", "tuf-metadata"),
                ("RSTUF_AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("RSTUF_AWS_SECRET_ACCESS_KEY", "aws-secret-value"),
                ("RSTUF_AWS_DEFAULT_REGION", "eu-west-1"),
            ],
        )
        .unwrap();
        let s3 = &aws.plugins.storage;
        assert_eq!(s3.config["endpoint"], "https://s3.eu-west-1.amazonaws.com");
        assert_eq!(s3.config["path_style"], false);
        assert_eq!(s3.config["acl"], "public-read");
        assert_eq!(
            s3.grants.http_hosts,
            vec!["tuf-metadata.s3.eu-west-1.amazonaws.com"]
        );
        let kms = aws
            .plugins
            .keyvaults
            .iter()
            .find(|k| k.file == Path::new("keyvault-awskms.wasm"))
            .unwrap();
        assert_eq!(
            kms.config["endpoint"],
            "https://kms.eu-west-1.amazonaws.com"
        );

        let err = Config::load(
            None,
            &[
                ("RSTUF_STORAGE_BACKEND", "AWSS3"),
                ("RSTUF_AWS_STORAGE_BUCKET", "b"),
                ("RSTUF_AWS_ACCESS_KEY_ID", "AK"),
            ],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("RSTUF_AWS_SECRET_ACCESS_KEY"),
            "{err}"
        );
    }

    /// The table in docs/configuration.md and the variables the loader
    /// reads are the same set: a new variable needs its row, a documented
    /// one must be read.
    #[test]
    fn the_documented_environment_table_is_what_the_loader_reads() {
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("metadata");
        let storage = storage.to_str().unwrap();
        let envs: [&[(&str, &str)]; 3] = [
            &[],
            &[
                ("RSTUF_STORAGE_BACKEND", "LocalStorage"),
                ("RSTUF_LOCAL_STORAGE_PATH", storage),
                ("RSTUF_DB_SERVER", "postgresql://db.example/rstuf"),
                ("RSTUF_DB_USER", "rstuf"),
                ("RSTUF_DB_PASSWORD", "secret"),
            ],
            &UPSTREAM_AWS_VAULT_ENV,
        ];
        let mut read = std::collections::BTreeSet::new();
        for vars in envs {
            let env = Recording {
                vars,
                asked: Default::default(),
            };
            // Whether the result validates does not matter here, only
            // which names were asked for on the way.
            let _ = Config::load(None, &env);
            read.extend(env.asked.into_inner());
        }
        assert_eq!(read, documented_variables());
    }

    #[test]
    fn defaults_are_embedded_and_valid() {
        let c = Config::load(None, &[("RSTUF_DATA_DIR", "/tmp/x")]).unwrap();
        assert!(!c.is_distributed());
        assert_eq!(c.database.url, "sqlite:///tmp/x/rstuf.db");
        assert_eq!(
            c.plugins.storage.grants.dirs[0].host,
            PathBuf::from("/tmp/x/metadata")
        );
        assert_eq!(c.server.role, Role::All);
        // A fresh data directory gets its metadata and (empty) key directories.
        let dirs = c.directories_to_create();
        assert!(dirs.contains(&PathBuf::from("/tmp/x/metadata")));
        assert!(dirs.contains(&PathBuf::from("/tmp/x/keys")));
        // A key directory elsewhere is the operator's to provide.
        let c = Config::load(
            None,
            &[
                ("RSTUF_DATA_DIR", "/tmp/x"),
                ("RSTUF_ONLINE_KEY_DIR", "/etc/rstuf/keys"),
            ],
        )
        .unwrap();
        assert!(!c
            .directories_to_create()
            .contains(&PathBuf::from("/etc/rstuf/keys")));
    }

    #[test]
    fn upstream_environment_names_are_honoured() {
        let env = [
            ("RSTUF_DB_SERVER", "postgresql://db.internal:5432/rstuf"),
            ("RSTUF_DB_USER", "rstuf"),
            ("RSTUF_DB_PASSWORD", "s3cret"),
            ("RSTUF_BROKER_SERVER", "amqp://guest:guest@127.0.0.1:5672"),
            ("RSTUF_REDIS_SERVER", "redis://127.0.0.1"),
            ("RSTUF_STORAGE_BACKEND", "LocalStorage"),
            ("RSTUF_LOCAL_STORAGE_BACKEND_PATH", "/srv/metadata"),
            ("RSTUF_ONLINE_KEY_DIR", "/srv/keys"),
            (
                "RSTUF_DISABLE_ENDPOINTS",
                "/api/v1/artifacts/:{'POST'}/api/v1/artifacts/publish/",
            ),
            ("RSTUF_LOCK_TIMEOUT", "500"),
        ];
        let c = Config::load(None, &env).unwrap();
        assert!(c.is_distributed());
        assert_eq!(
            c.database.url,
            "postgresql://rstuf:s3cret@db.internal:5432/rstuf"
        );
        assert_eq!(
            redact_url(&c.database.url),
            "postgresql://rstuf:***@db.internal:5432/rstuf"
        );
        assert_eq!(
            c.plugins.storage.grants.dirs[0].host,
            PathBuf::from("/srv/metadata")
        );
        assert_eq!(
            c.plugins.keyvaults[0].grants.dirs[0].host,
            PathBuf::from("/srv/keys")
        );
        assert_eq!(c.server.disable_endpoints.len(), 2);
        assert_eq!(c.worker.lock_timeout_secs, 500);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = Config::load(None, &[("RSTUF_ROLE", "both")]).unwrap_err();
        assert!(err.to_string().contains("RSTUF_ROLE"), "{err}");
        let err = Config::load(None, &[("RSTUF_DB_SERVER", "mysql://x")]).unwrap_err();
        assert!(err.to_string().contains("RSTUF_DB_SERVER"), "{err}");
        let err = Config::load(None, &[("RSTUF_BROKER_SERVER", "amqp://x")]).unwrap_err();
        assert!(err.to_string().contains("RSTUF_REDIS_SERVER"), "{err}");
        let err = Config::load(None, &[("RSTUF_LISTEN", "nowhere")]).unwrap_err();
        assert!(err.to_string().contains("RSTUF_LISTEN"), "{err}");
        let err = Config::load(None, &[("RSTUF_STORAGE_BACKEND", "AWSS3")]).unwrap_err();
        assert!(
            err.to_string().contains("RSTUF_AWS_STORAGE_BUCKET"),
            "{err}"
        );
        let err = Config::load(None, &[("RSTUF_STORAGE_BACKEND", "GCS")]).unwrap_err();
        assert!(err.to_string().contains("[plugins.storage]"), "{err}");
        // VAULT_ADDR alone (a Vault agent's) selects nothing.
        let c = Config::load(None, &[("VAULT_ADDR", "http://127.0.0.1:8200")]).unwrap();
        assert!(c
            .plugins
            .keyvaults
            .iter()
            .all(|k| k.file != Path::new("keyvault-vault.wasm")));
        // A bucket name with dots is addressed path-style on AWS.
        let dotted = Config::load(
            None,
            &[
                ("RSTUF_STORAGE_BACKEND", "AWSS3"),
                ("RSTUF_AWS_STORAGE_BUCKET", "tuf.example.com"),
                ("RSTUF_AWS_ACCESS_KEY_ID", "AK"),
                ("RSTUF_AWS_SECRET_ACCESS_KEY", "S"),
            ],
        )
        .unwrap();
        assert_eq!(dotted.plugins.storage.config["path_style"], true);
        assert_eq!(
            dotted.plugins.storage.grants.http_hosts,
            vec!["s3.us-east-1.amazonaws.com"]
        );
        for bad in ["0", "5", "600001", "soon"] {
            let err = Config::load(None, &[("RSTUF_TASK_RETRY_DELAY_MS", bad)]).unwrap_err();
            assert!(
                err.to_string().contains("RSTUF_TASK_RETRY_DELAY_MS"),
                "{err}"
            );
        }
        let c = Config::load(None, &[("RSTUF_TASK_RETRY_DELAY_MS", "50")]).unwrap();
        assert_eq!(c.queue.retry_delay_ms, 50);
    }

    #[test]
    fn data_dir_from_the_environment_keeps_plugins_the_file_configured() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rstuf.toml");
        std::fs::write(
            &path,
            r#"
[plugins.storage]
name = "storage"
file = "storage-s3.wasm"
config = { endpoint = "http://s3:8333", bucket = "b", access_key_id = "a", secret_access_key = "s" }
grants = { http_hosts = ["s3:8333"] }
"#,
        )
        .unwrap();
        let c = Config::load(Some(&path), &[("RSTUF_DATA_DIR", "/srv/rstuf")]).unwrap();
        assert!(
            c.plugins.storage.file.ends_with("storage-s3.wasm"),
            "{:?}",
            c.plugins.storage.file
        );
        // The default key vault follows the data directory.
        assert_eq!(
            c.plugins.keyvaults[0].grants.dirs[0].host,
            PathBuf::from("/srv/rstuf/keys")
        );
    }

    #[test]
    fn config_file_is_read_and_unknown_keys_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rstuf.toml");
        std::fs::write(
            &path,
            r#"
data_dir = "/srv/rstuf"
[server]
listen = "0.0.0.0:80"
role = "api"
[[plugins.notify]]
name = "hook"
file = "notify-webhook.wasm"
config = { url = "http://127.0.0.1:9000/hook" }
grants = { http_hosts = ["127.0.0.1:9000"] }
"#,
        )
        .unwrap();
        let c = Config::load(Some(&path), &[("RSTUF_LISTEN", "127.0.0.1:9999")]).unwrap();
        assert_eq!(
            c.server.listen.port(),
            9999,
            "environment wins over the file"
        );
        assert_eq!(c.server.role, Role::Api);
        assert_eq!(
            c.plugins.storage.grants.dirs[0].host,
            PathBuf::from("/srv/rstuf/metadata")
        );
        let specs = c.plugin_specs();
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[2].grants.http_hosts, ["127.0.0.1:9000"]);

        std::fs::write(&path, "[server]\nlisten_port = 80\n").unwrap();
        let err = Config::load(Some(&path), &[("X", "")]).unwrap_err();
        assert!(err.to_string().contains("listen_port"), "{err}");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rstuf.toml");
        std::fs::write(
            &path,
            r#"
[plugins.storage]
name = "storage"
file = "storage-s3.wasm"
config = { endpoint = "http://s3:8333", bucket = "b", access_key_id = "AKIDSECRET", secret_access_key = "s3cr3t-value" }
grants = { http_hosts = ["s3:8333"] }
"#,
        )
        .unwrap();
        let c = Config::load(
            Some(&path),
            &[
                (
                    "RSTUF_DB_SERVER",
                    "postgresql://rstuf:db-pass-123@db:5432/rstuf",
                ),
                ("RSTUF_AUTH_TOKENS", "tok-abcdef-1234567890=write:targets"),
            ],
        )
        .unwrap();
        let shown = format!("{c:?} {:?}", c.plugin_specs());
        for secret in [
            "s3cr3t-value",
            "AKIDSECRET",
            "db-pass-123",
            "tok-abcdef-1234567890",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("secret_access_key"),
            "keys stay visible: {shown}"
        );
    }
}

//! `RSTUF_*` environment variables, upstream RSTUF's names where upstream
//! has them; each value is parsed with a message naming the variable.

use super::{file_keyvault_entry, local_storage_entry, Config, ConfigError, Role};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Reads environment variables; a trait so tests need not touch the process
/// environment.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

impl Config {
    pub(super) fn apply_env(&mut self, env: &dyn Env) -> Result<(), ConfigError> {
        if let Some(dir) = env.var("RSTUF_DATA_DIR") {
            // Plugins still at their defaults under the old data directory
            // follow it; plugins the file configured stay as configured.
            let old_storage = local_storage_entry(&self.data_dir.join("metadata"));
            let old_keys = vec![file_keyvault_entry(&self.data_dir.join("keys"))];
            self.data_dir = PathBuf::from(dir);
            if self.plugins.storage == old_storage {
                self.plugins.storage = local_storage_entry(&self.data_dir.join("metadata"));
            }
            if self.plugins.keyvaults == old_keys {
                self.plugins.keyvaults = vec![file_keyvault_entry(&self.data_dir.join("keys"))];
            }
        }
        if let Some(v) = env.var("RSTUF_LISTEN") {
            self.server.listen = parse_env("RSTUF_LISTEN", &v)?;
        }
        if let Some(v) = env.var("RSTUF_ROLE") {
            self.server.role = match v.to_ascii_lowercase().as_str() {
                "all" => Role::All,
                "api" => Role::Api,
                "worker" => Role::Worker,
                _ => {
                    return Err(env_err(
                        "RSTUF_ROLE",
                        format!("'{v}' is not one of all, api, worker"),
                    ))
                }
            };
        }
        if let Some(v) = env.var("RSTUF_BODY_LIMIT") {
            self.server.body_limit = parse_env("RSTUF_BODY_LIMIT", &v)?;
        }
        if let Some(v) = env.var("RSTUF_SERVE_METADATA") {
            self.server.serve_metadata = parse_bool("RSTUF_SERVE_METADATA", &v)?;
        }
        // Upstream reads DISABLE_ENDPOINTS; its docs say DISABLED_ENDPOINTS.
        if let Some(v) = env
            .var("RSTUF_DISABLE_ENDPOINTS")
            .or_else(|| env.var("RSTUF_DISABLED_ENDPOINTS"))
        {
            self.server.disable_endpoints = v
                .split(':')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(v) = env.var("RSTUF_AUTH_TOKENS") {
            self.server.auth_tokens = parse_tokens(&v)?;
        }
        if let Some(v) = env.var("RSTUF_AUTH_REQUIRED") {
            self.server.auth_required = parse_bool("RSTUF_AUTH_REQUIRED", &v)?;
        }
        if let Some(v) = env.var("RSTUF_HEADER_READ_TIMEOUT") {
            self.server.header_read_timeout_secs = parse_env("RSTUF_HEADER_READ_TIMEOUT", &v)?;
        }
        if let Some(v) = env.var("RSTUF_MAX_CONNECTIONS") {
            self.server.max_connections = parse_env("RSTUF_MAX_CONNECTIONS", &v)?;
        }
        // Upstream's container reads these (paths, typically under
        // /run/secrets); an empty value is unset, as its entrypoint's -z.
        if let Some(v) = env.var("SECRETS_RSTUF_SSL_CERT").filter(|v| !v.is_empty()) {
            self.server.tls_cert = Some(PathBuf::from(v));
        }
        if let Some(v) = env.var("SECRETS_RSTUF_SSL_KEY").filter(|v| !v.is_empty()) {
            self.server.tls_key = Some(PathBuf::from(v));
        }
        if let Some(v) = env.var("RSTUF_DB_SERVER") {
            self.database.url = db_url_with_credentials(&v, env)?;
        }
        if let Some(v) = env.var("RSTUF_BROKER_SERVER") {
            self.queue.broker = v;
        }
        if let Some(v) = env.var("RSTUF_REDIS_SERVER") {
            self.queue.redis = v;
        }
        if let Some(v) = env.var("RSTUF_QUEUE_NAME") {
            self.queue.name = v;
        }
        if let Some(v) = env.var("RSTUF_TASK_MAX_ATTEMPTS") {
            self.queue.max_attempts = parse_env("RSTUF_TASK_MAX_ATTEMPTS", &v)?;
        }
        if let Some(v) = env.var("RSTUF_TASK_RETRY_DELAY_MS") {
            self.queue.retry_delay_ms = parse_env("RSTUF_TASK_RETRY_DELAY_MS", &v)?;
        }
        if let Some(v) = env.var("RSTUF_TASK_RESULT_TTL") {
            self.queue.result_ttl_secs = parse_env("RSTUF_TASK_RESULT_TTL", &v)?;
        }
        if let Some(v) = env.var("RSTUF_WORKER_ID") {
            self.worker.id = v;
        }
        if let Some(v) = env.var("RSTUF_WORKER_CONCURRENCY") {
            self.worker.concurrency = parse_env("RSTUF_WORKER_CONCURRENCY", &v)?;
        }
        if let Some(v) = env.var("RSTUF_LOCK_TIMEOUT") {
            self.worker.lock_timeout_secs = parse_env("RSTUF_LOCK_TIMEOUT", &v)?;
        }
        if let Some(v) = env.var("RSTUF_BUMP_ONLINE_ROLES_INTERVAL") {
            self.worker.bump_interval_secs = parse_env("RSTUF_BUMP_ONLINE_ROLES_INTERVAL", &v)?;
        }
        if let Some(v) = env.var("RSTUF_RETENTION_KEEP_SNAPSHOTS") {
            self.worker.retention_keep_snapshots = parse_env("RSTUF_RETENTION_KEEP_SNAPSHOTS", &v)?;
        }
        if let Some(v) = env.var("RSTUF_RETENTION_GRACE_SECS") {
            self.worker.retention_grace_secs = parse_env("RSTUF_RETENTION_GRACE_SECS", &v)?;
        }
        if let Some(v) = env.var("RSTUF_EXPIRY_WARNING_DAYS") {
            self.worker.expiry_warning_days = parse_env("RSTUF_EXPIRY_WARNING_DAYS", &v)?;
        }
        if let Some(v) = env.var("RSTUF_HOURS_BEFORE_EXPIRE") {
            self.worker.hours_before_expire = parse_env("RSTUF_HOURS_BEFORE_EXPIRE", &v)?;
        }
        if let Some(v) = env.var("RSTUF_LOG_LEVEL") {
            self.log_level = v.to_ascii_lowercase();
        }
        if let Some(v) = env.var("RSTUF_PLUGIN_DIR") {
            self.plugins.dir = PathBuf::from(v);
        }
        self.apply_upstream_backends(env)
    }

    /// Upstream selects backends with `RSTUF_STORAGE_BACKEND` and
    /// `RSTUF_ONLINE_KEY_DIR`; map those onto the equivalent plugins.
    fn apply_upstream_backends(&mut self, env: &dyn Env) -> Result<(), ConfigError> {
        if let Some(backend) = env.var("RSTUF_STORAGE_BACKEND") {
            match backend.to_ascii_lowercase().as_str() {
                "localstorage" => {
                    let path = env
                        .var("RSTUF_LOCAL_STORAGE_BACKEND_PATH")
                        .or_else(|| env.var("RSTUF_LOCAL_STORAGE_PATH"))
                        .ok_or_else(|| {
                            env_err(
                                "RSTUF_LOCAL_STORAGE_BACKEND_PATH",
                                "required when RSTUF_STORAGE_BACKEND=LocalStorage".into(),
                            )
                        })?;
                    self.plugins.storage = local_storage_entry(Path::new(&path));
                }
                other => {
                    return Err(env_err(
                        "RSTUF_STORAGE_BACKEND",
                        format!(
                            "'{other}' has no built-in mapping; configure [plugins.storage] in the \
                             configuration file to use another storage plugin"
                        ),
                    ))
                }
            }
        }
        if let Some(dir) = env.var("RSTUF_ONLINE_KEY_DIR") {
            let entry = file_keyvault_entry(Path::new(&dir));
            match self
                .plugins
                .keyvaults
                .iter_mut()
                .find(|k| k.file == entry.file)
            {
                Some(existing) => *existing = entry,
                None => self.plugins.keyvaults.push(entry),
            }
        }
        Ok(())
    }
}

fn env_err(name: &str, message: String) -> ConfigError {
    ConfigError::Env {
        name: name.to_string(),
        message,
    }
}

fn parse_env<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse()
        .map_err(|e| env_err(name, format!("cannot parse '{value}': {e}")))
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(env_err(
            name,
            format!("'{value}' is not a boolean (true/false)"),
        )),
    }
}

/// `token=scope,scope;token2=scope`.
fn parse_tokens(value: &str) -> Result<BTreeMap<String, Vec<String>>, ConfigError> {
    let mut tokens = BTreeMap::new();
    for item in value.split(';').filter(|s| !s.trim().is_empty()) {
        let (token, scopes) = item.split_once('=').ok_or_else(|| {
            env_err(
                "RSTUF_AUTH_TOKENS",
                "expected `token=scope,scope;token2=scope`".into(),
            )
        })?;
        tokens.insert(
            token.trim().to_string(),
            scopes
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        );
    }
    Ok(tokens)
}

/// Upstream passes the user and password separately (`RSTUF_DB_USER`,
/// `RSTUF_DB_PASSWORD`, which may name a `/run/secrets/…` file).
fn db_url_with_credentials(url: &str, env: &dyn Env) -> Result<String, ConfigError> {
    let Some(user) = env.var("RSTUF_DB_USER") else {
        return Ok(url.to_string());
    };
    let password = match env.var("RSTUF_DB_PASSWORD") {
        Some(p) if p.starts_with("/run/secrets/") => std::fs::read_to_string(&p)
            .map(|s| s.trim().to_string())
            .map_err(|e| {
                env_err(
                    "RSTUF_DB_PASSWORD",
                    format!("cannot read secret file {p}: {e}"),
                )
            })?,
        Some(p) => p,
        None => String::new(),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(env_err(
            "RSTUF_DB_SERVER",
            "must include a scheme such as postgresql://".into(),
        ));
    };
    let rest = rest.rsplit_once('@').map(|(_, host)| host).unwrap_or(rest);
    let auth = if password.is_empty() {
        user
    } else {
        format!("{user}:{password}")
    };
    Ok(format!("{scheme}://{auth}@{rest}"))
}

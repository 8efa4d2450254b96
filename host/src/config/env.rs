//! `RSTUF_*` environment variables, upstream RSTUF's names where upstream
//! has them; each value is parsed with a message naming the variable.

use super::{file_keyvault_entry, local_storage_entry, Config, ConfigError, PluginEntry, Role};
use rstuf_plugins::Grants;
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
                "awss3" => self.plugins.storage = aws_s3_entry(env)?,
                other => {
                    return Err(env_err(
                        "RSTUF_STORAGE_BACKEND",
                        format!(
                            "'{other}' has no built-in mapping (LocalStorage, AWSS3); configure \
                             [plugins.storage] in the configuration file to use another storage plugin"
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
        // Key services only where the configuration file has not set one
        // up itself: its entry is the deliberate one.
        for entry in aws_kms_entry(env)?.into_iter().chain(vault_entry(env)?) {
            if !self.plugins.keyvaults.iter().any(|k| k.file == entry.file) {
                self.plugins.keyvaults.push(entry);
            }
        }
        Ok(())
    }
}

/// Where upstream's containers mount secrets: a value under it names the
/// file holding the value (upstream reads `RSTUF_DB_PASSWORD` and the
/// `RSTUF_AWS_*` settings this way).
const SECRETS_DIR: &str = "/run/secrets/";

/// `name`'s value, read from the file it names when it is under
/// [`SECRETS_DIR`].
fn secret_var(env: &dyn Env, name: &str) -> Result<Option<String>, ConfigError> {
    secret_var_in(env, name, SECRETS_DIR)
}

fn secret_var_in(env: &dyn Env, name: &str, dir: &str) -> Result<Option<String>, ConfigError> {
    match env.var(name) {
        Some(v) if v.starts_with(dir) => std::fs::read_to_string(&v)
            .map(|s| Some(s.trim().to_string()))
            .map_err(|e| env_err(name, format!("cannot read secret file {v}: {e}"))),
        other => Ok(other),
    }
}

/// `host[:port]` of an `http(s)://` URL, for a plugin's `http_hosts`
/// grant.
fn authority_of(name: &str, url: &str) -> Result<String, ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| env_err(name, format!("'{url}' must be an http:// or https:// URL")))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(env_err(name, format!("'{url}' has no host")));
    }
    Ok(authority.to_string())
}

/// Upstream's `AWSS3` storage: `RSTUF_AWS_*` onto storage-s3 (objects at
/// the bucket's root, canned ACL `public-read` unless
/// `RSTUF_AWS_S3_OBJECT_ACL` says otherwise, as upstream puts them).
fn aws_s3_entry(env: &dyn Env) -> Result<PluginEntry, ConfigError> {
    let required = |name: &str| -> Result<String, ConfigError> {
        secret_var(env, name)?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| env_err(name, "required when RSTUF_STORAGE_BACKEND=AWSS3".into()))
    };
    let bucket = required("RSTUF_AWS_STORAGE_BUCKET")?;
    let access_key_id = required("RSTUF_AWS_ACCESS_KEY_ID")?;
    let secret_access_key = required("RSTUF_AWS_SECRET_ACCESS_KEY")?;
    let region = secret_var(env, "RSTUF_AWS_DEFAULT_REGION")?.unwrap_or_else(|| "us-east-1".into());
    let acl = secret_var(env, "RSTUF_AWS_S3_OBJECT_ACL")?.unwrap_or_else(|| "public-read".into());
    // A custom endpoint (MinIO, SeaweedFS, localstack, moto) is addressed
    // path-style, as boto3 does for most of them; AWS itself virtual-host.
    let (endpoint, path_style, host) = match secret_var(env, "RSTUF_AWS_ENDPOINT_URL")? {
        Some(url) => {
            let host = authority_of("RSTUF_AWS_ENDPOINT_URL", &url)?;
            (url.trim_end_matches('/').to_string(), true, host)
        }
        // A bucket name with dots breaks TLS in virtual-host style
        // (`*.s3…` covers one label): path style, as boto3 switches to.
        None if bucket.contains('.') => {
            let host = format!("s3.{region}.amazonaws.com");
            (format!("https://{host}"), true, host)
        }
        None => {
            let host = format!("s3.{region}.amazonaws.com");
            (format!("https://{host}"), false, format!("{bucket}.{host}"))
        }
    };
    Ok(PluginEntry {
        name: "storage".into(),
        file: "storage-s3.wasm".into(),
        config: serde_json::json!({
            "endpoint": endpoint, "bucket": bucket, "region": region,
            "access_key_id": access_key_id, "secret_access_key": secret_access_key,
            "path_style": path_style, "acl": acl,
        }),
        grants: Grants {
            http_hosts: vec![host],
            ..Grants::default()
        },
    })
}

/// `awskms:` online keys with the `RSTUF_AWS_*` credentials: upstream's
/// worker hands exactly these to securesystemslib's AWS signer.
fn aws_kms_entry(env: &dyn Env) -> Result<Option<PluginEntry>, ConfigError> {
    let (Some(access_key_id), Some(secret_access_key)) = (
        secret_var(env, "RSTUF_AWS_ACCESS_KEY_ID")?,
        secret_var(env, "RSTUF_AWS_SECRET_ACCESS_KEY")?,
    ) else {
        return Ok(None);
    };
    let region = secret_var(env, "RSTUF_AWS_DEFAULT_REGION")?.unwrap_or_else(|| "us-east-1".into());
    let endpoint = secret_var(env, "RSTUF_AWS_ENDPOINT_URL")?
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("https://kms.{region}.amazonaws.com"));
    let host = authority_of("RSTUF_AWS_ENDPOINT_URL", &endpoint)?;
    Ok(Some(PluginEntry {
        name: "aws-kms".into(),
        file: "keyvault-awskms.wasm".into(),
        config: serde_json::json!({
            "endpoint": endpoint, "region": region,
            "access_key_id": access_key_id, "secret_access_key": secret_access_key,
        }),
        grants: Grants {
            http_hosts: vec![host],
            ..Grants::default()
        },
    }))
}

/// `hv:` online keys in HashiCorp Vault or OpenBao, from the variables
/// securesystemslib's `VaultSigner` (hvac) reads: `VAULT_ADDR`,
/// `VAULT_TOKEN` (a `/run/secrets/` path is read), `VAULT_NAMESPACE`.
fn vault_entry(env: &dyn Env) -> Result<Option<PluginEntry>, ConfigError> {
    // Both or nothing: VAULT_ADDR alone is common for other tools (a
    // Vault agent, a token file) and selects nothing here.
    let (Some(address), Some(token)) = (env.var("VAULT_ADDR"), secret_var(env, "VAULT_TOKEN")?)
    else {
        return Ok(None);
    };
    let address = address.trim_end_matches('/').to_string();
    let host = authority_of("VAULT_ADDR", &address)?;
    let mut config = serde_json::json!({ "address": address, "token": token });
    if let Some(ns) = env.var("VAULT_NAMESPACE") {
        config["namespace"] = ns.into();
    }
    Ok(Some(PluginEntry {
        name: "vault".into(),
        file: "keyvault-vault.wasm".into(),
        config,
        grants: Grants {
            http_hosts: vec![host],
            ..Grants::default()
        },
    }))
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
    let password = secret_var(env, "RSTUF_DB_PASSWORD")?.unwrap_or_default();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_under_the_secrets_directory_is_read_from_that_file() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = format!("{}/", dir.path().display());
        let file = dir.path().join("AWS_SECRET");
        std::fs::write(&file, "from-the-file\n").unwrap();
        let path = file.display().to_string();
        let env = [
            ("RSTUF_AWS_SECRET_ACCESS_KEY", path.as_str()),
            ("PLAIN", "as-is"),
        ];
        assert_eq!(
            secret_var_in(&env, "RSTUF_AWS_SECRET_ACCESS_KEY", &prefix)
                .unwrap()
                .as_deref(),
            Some("from-the-file")
        );
        assert_eq!(
            secret_var_in(&env, "PLAIN", &prefix).unwrap().as_deref(),
            Some("as-is")
        );
        assert_eq!(secret_var_in(&env, "UNSET", &prefix).unwrap(), None);
        let missing = format!("{prefix}absent");
        let env = [("RSTUF_AWS_SECRET_ACCESS_KEY", missing.as_str())];
        let err = secret_var_in(&env, "RSTUF_AWS_SECRET_ACCESS_KEY", &prefix).unwrap_err();
        assert!(
            err.to_string().contains("RSTUF_AWS_SECRET_ACCESS_KEY"),
            "{err}"
        );
    }
}

//! Checks on the whole configuration, once, at start: each message names
//! the setting (and its variable) and the values it may take.

use super::{crate_scopes, redact_url, Config, ConfigError};

impl Config {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return invalid(format!(
                "database.url (RSTUF_DB_SERVER) must start with sqlite://, postgres:// or postgresql://, got '{}'",
                redact_url(url)
            ));
        }
        if !self.queue.broker.is_empty() && !self.queue.broker.starts_with("amqp") {
            return invalid(format!(
                "queue.broker (RSTUF_BROKER_SERVER) must be an amqp:// URL (RabbitMQ) or empty for the embedded queue, got '{}'",
                redact_url(&self.queue.broker)
            ));
        }
        if !self.queue.redis.is_empty() && !self.queue.redis.starts_with("redis") {
            return invalid(format!(
                "queue.redis (RSTUF_REDIS_SERVER) must start with redis://, got '{}'",
                redact_url(&self.queue.redis)
            ));
        }
        if self.queue.broker.is_empty() != self.queue.redis.is_empty() {
            return invalid(
                "distributed mode needs both RSTUF_BROKER_SERVER (RabbitMQ) and RSTUF_REDIS_SERVER; \
                 set both, or neither for embedded mode"
                    .into(),
            );
        }
        if self.is_distributed() && url.starts_with("sqlite:") {
            return invalid("distributed mode needs a shared database: set RSTUF_DB_SERVER to a postgresql:// URL".into());
        }
        if self.server.auth_required && self.server.auth_tokens.is_empty() {
            return invalid(
                "RSTUF_AUTH_REQUIRED is set but no API tokens are configured: set RSTUF_AUTH_TOKENS \
                 (token=scope,scope;...) or server.auth_tokens"
                    .into(),
            );
        }
        match (&self.server.tls_cert, &self.server.tls_key) {
            (Some(_), None) => {
                return invalid(
                    "Missing variable SECRETS_RSTUF_SSL_KEY: HTTPS (SECRETS_RSTUF_SSL_CERT, server.tls_cert) needs the certificate's private key file (server.tls_key)".into(),
                )
            }
            (None, Some(_)) => {
                return invalid(
                    "SECRETS_RSTUF_SSL_KEY (server.tls_key) is set without SECRETS_RSTUF_SSL_CERT (server.tls_cert): set the certificate file too, or neither for plain HTTP".into(),
                )
            }
            _ => {}
        }
        if !(1..=3600).contains(&self.server.header_read_timeout_secs) {
            return invalid(format!(
                "server.header_read_timeout_secs must be from 1 to 3600, got {}",
                self.server.header_read_timeout_secs
            ));
        }
        if !(1..=1_000_000).contains(&self.server.max_connections) {
            return invalid(format!(
                "server.max_connections must be from 1 to 1000000, got {}",
                self.server.max_connections
            ));
        }
        if self.server.body_limit < 1024 {
            return invalid(format!(
                "server.body_limit must be at least 1024 bytes, got {}",
                self.server.body_limit
            ));
        }
        if self.queue.name.is_empty()
            || self.queue.name.len() > 200
            || !self
                .queue
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return invalid(format!(
                "queue.name (RSTUF_QUEUE_NAME) must be 1-200 letters, digits, '-', '_' or '.', got '{}'",
                self.queue.name
            ));
        }
        if !(1..=100).contains(&self.queue.max_attempts) {
            return invalid(format!(
                "queue.max_attempts (RSTUF_TASK_MAX_ATTEMPTS) must be from 1 to 100, got {}",
                self.queue.max_attempts
            ));
        }
        if !(10..=600_000).contains(&self.queue.retry_delay_ms) {
            return invalid(format!(
                "queue.retry_delay_ms (RSTUF_TASK_RETRY_DELAY_MS) must be from 10 to 600000, got {}",
                self.queue.retry_delay_ms
            ));
        }
        if !(1..=100_000).contains(&self.plugins.notify_outbox) {
            return invalid(format!(
                "plugins.notify_outbox must be from 1 to 100000 events, got {}",
                self.plugins.notify_outbox
            ));
        }
        if self.worker.concurrency == 0 || self.worker.concurrency > 256 {
            return invalid(format!(
                "worker.concurrency must be 1..=256, got {}",
                self.worker.concurrency
            ));
        }
        if self.worker.lock_timeout_secs < 5 {
            return invalid(format!(
                "worker.lock_timeout_secs (RSTUF_LOCK_TIMEOUT) must be at least 5, got {}",
                self.worker.lock_timeout_secs
            ));
        }
        if self.worker.expiry_warning_days > 3660 {
            return invalid(format!(
                "worker.expiry_warning_days (RSTUF_EXPIRY_WARNING_DAYS) must be at most 3660 (ten years), got {}",
                self.worker.expiry_warning_days
            ));
        }
        if self.worker.bump_interval_secs == 0 {
            return invalid("worker.bump_interval_secs must be positive".into());
        }
        for (token, scopes) in &self.server.auth_tokens {
            if token.len() < 16 {
                return invalid("every auth token must be at least 16 characters long".into());
            }
            for scope in scopes {
                if !crate_scopes().contains(&scope.as_str()) {
                    return invalid(format!(
                        "unknown auth scope '{scope}'; known: {}",
                        crate_scopes().join(", ")
                    ));
                }
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for entry in std::iter::once(&self.plugins.storage)
            .chain(&self.plugins.keyvaults)
            .chain(&self.plugins.notify)
        {
            if !names.insert(entry.name.as_str()) {
                return invalid(format!(
                    "two plugins are named '{}'; plugin names must be unique",
                    entry.name
                ));
            }
        }
        if self.plugins.keyvaults.is_empty() {
            return invalid(
                "at least one key-vault plugin must be configured ([[plugins.keyvaults]])".into(),
            );
        }
        Ok(())
    }
}

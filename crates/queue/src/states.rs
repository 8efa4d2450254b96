//! Redis: task state and results of distributed mode, one JSON value per
//! task under `rstuf:<queue>:task:<id>`, expiring after the result TTL
//! (upstream keeps Celery results a day). The client reconnects by itself
//! with exponential backoff; each command gives up after a timeout so an
//! API request never hangs on a dead Redis.

use crate::{redact, QueueError};
use fred::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// Per-command timeout.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// A task's state as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    /// `PENDING`, `STARTED`, `RETRY`, `SUCCESS`, `ERRORED` or `FAILURE`.
    pub state: String,
    #[serde(default)]
    pub result: Option<Value>,
}

impl TaskStatus {
    /// Finished: a redelivered message of this task must not run it again.
    pub fn is_final(&self) -> bool {
        matches!(self.state.as_str(), "SUCCESS" | "ERRORED" | "FAILURE")
    }
}

pub struct TaskStates {
    client: Client,
    prefix: String,
    ttl: i64,
    at: String,
}

impl TaskStates {
    /// Connect to `url`; keys are namespaced by `namespace`, values expire
    /// after `ttl_secs`.
    pub async fn connect(
        url: &str,
        namespace: &str,
        ttl_secs: u64,
    ) -> Result<TaskStates, QueueError> {
        let at = redact(url);
        let err = |e: Error| QueueError::Redis {
            at: at.clone(),
            message: e.to_string(),
        };
        let mut config = Config::from_url(url).map_err(err)?;
        // Keep trying when Redis is down at start, as after a disconnect:
        // a process started during a Redis restart waits instead of exiting.
        config.fail_fast = false;
        let client = Builder::from_config(config)
            .with_connection_config(|c| {
                c.connection_timeout = Duration::from_secs(5);
                c.internal_command_timeout = Duration::from_secs(5);
                c.max_command_attempts = 3;
            })
            .with_performance_config(|p| {
                p.default_command_timeout = COMMAND_TIMEOUT;
            })
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
            .build()
            .map_err(err)?;
        let _driver = client.connect();
        if tokio::time::timeout(Duration::from_secs(10), client.wait_for_connect())
            .await
            .is_err()
        {
            tracing::warn!("Redis at {at} is not reachable yet; commands wait for it (5 s each)");
        }
        Ok(TaskStates {
            client,
            prefix: format!("rstuf:{namespace}:task:"),
            ttl: ttl_secs.max(1) as i64,
            at,
        })
    }

    fn err(&self, e: Error) -> QueueError {
        QueueError::Redis {
            at: self.at.clone(),
            message: e.to_string(),
        }
    }

    /// Record `status` for `task_id`.
    pub async fn set(&self, task_id: &str, status: &TaskStatus) -> Result<(), QueueError> {
        let value =
            serde_json::to_string(status).map_err(|e| QueueError::BadMessage(e.to_string()))?;
        self.client
            .set::<(), _, _>(
                format!("{}{task_id}", self.prefix),
                value,
                Some(Expiration::EX(self.ttl)),
                None,
                false,
            )
            .await
            .map_err(|e| self.err(e))
    }

    /// The recorded status of `task_id`, if any (and not expired).
    pub async fn get(&self, task_id: &str) -> Result<Option<TaskStatus>, QueueError> {
        let value: Option<String> = self
            .client
            .get(format!("{}{task_id}", self.prefix))
            .await
            .map_err(|e| self.err(e))?;
        Ok(value.and_then(|v| serde_json::from_str(&v).ok()))
    }

    /// Is Redis answering?
    pub async fn ping(&self) -> Result<(), QueueError> {
        self.client
            .ping::<String>(None)
            .await
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states() {
        for (s, f) in [
            ("PENDING", false),
            ("STARTED", false),
            ("RETRY", false),
            ("SUCCESS", true),
            ("ERRORED", true),
            ("FAILURE", true),
        ] {
            assert_eq!(
                TaskStatus {
                    state: s.into(),
                    result: None
                }
                .is_final(),
                f,
                "{s}"
            );
        }
    }
}

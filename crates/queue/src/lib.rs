//! Distributed mode's task transport and task state: tasks travel through
//! RabbitMQ ([`Broker`]: a durable queue, persistent messages, publisher
//! confirms, manual acknowledgement, a dead-letter queue) and their state
//! and results live in Redis ([`TaskStates`], with a TTL). Settings,
//! artifacts, roles and the publisher lease stay in PostgreSQL
//! (`rstuf-store`), so nothing here has to be durable beyond a task's life.
//!
//! Both clients reconnect on their own with exponential backoff: a
//! RabbitMQ or Redis restart costs retries, not lost tasks. A message is
//! acknowledged only after its task's effects and result are recorded; a
//! worker that dies before that leaves it unacknowledged, and RabbitMQ
//! hands it to another worker.

mod broker;
mod states;

pub use broker::{Broker, BrokerConfig, Received, TaskMessage};
pub use states::{TaskStates, TaskStatus};

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// RabbitMQ is unreachable or refused an operation.
    #[error("RabbitMQ ({at}): {message}")]
    Broker { at: String, message: String },
    /// Redis is unreachable or refused an operation.
    #[error("Redis ({at}): {message}")]
    Redis { at: String, message: String },
    /// A message on the queue is not a task (it is dead-lettered).
    #[error("not a task message: {0}")]
    BadMessage(String),
}

/// `scheme://host:port/…` with any password replaced, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            super::redact("amqp://guest:secret@rabbit:5672/%2f"),
            "amqp://guest:***@rabbit:5672/%2f"
        );
        assert_eq!(
            super::redact("redis://127.0.0.1:6379/2"),
            "redis://127.0.0.1:6379/2"
        );
    }
}

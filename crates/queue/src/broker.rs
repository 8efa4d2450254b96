//! RabbitMQ: the task queue of distributed mode.
//!
//! Topology, declared (idempotently) on every connection: a durable queue
//! (`metadata_repository`, upstream's name, by default) whose rejected
//! messages go through the `rstuf.dead-letter` exchange to `<queue>.dead`,
//! where an operator can inspect tasks that kept failing. Messages are
//! persistent JSON [`TaskMessage`]s published with confirms, so a publish
//! that returns `Ok` survives a broker restart.

use crate::{redact, QueueError};
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::Mutex;

/// The dead-letter exchange.
const DEAD_LETTER_EXCHANGE: &str = "rstuf.dead-letter";
/// How long `publish` keeps reconnecting before giving up.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// `amqp://user:password@host:port/vhost`.
    pub url: String,
    /// The task queue's name.
    pub queue: String,
}

/// A task on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskMessage {
    pub task_id: String,
    pub action: String,
    #[serde(default)]
    pub payload: Option<Value>,
    /// Runs that ended in a retryable failure so far.
    #[serde(default)]
    pub attempts: u32,
}

/// A live connection and its publishing channel (confirm mode).
struct Link {
    connection: Connection,
    channel: Channel,
}

/// The queue, reconnecting on demand.
pub struct Broker {
    config: BrokerConfig,
    link: Mutex<Option<Link>>,
}

fn broker_err(config: &BrokerConfig, e: impl std::fmt::Display) -> QueueError {
    QueueError::Broker {
        at: redact(&config.url),
        message: e.to_string(),
    }
}

impl Broker {
    /// A broker for `config`; nothing is connected until first use.
    pub fn new(config: BrokerConfig) -> Broker {
        Broker {
            config,
            link: Mutex::new(None),
        }
    }

    pub fn queue(&self) -> &str {
        &self.config.queue
    }

    fn dead_queue(&self) -> String {
        format!("{}.dead", self.config.queue)
    }

    /// Open a connection and declare the topology.
    async fn open(&self) -> Result<Link, QueueError> {
        let err = |e: lapin::Error| broker_err(&self.config, e);
        let connection = Connection::connect(&self.config.url, ConnectionProperties::default())
            .await
            .map_err(err)?;
        let channel = connection.create_channel().await.map_err(err)?;
        self.declare(&channel).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(err)?;
        Ok(Link {
            connection,
            channel,
        })
    }

    async fn declare(&self, channel: &Channel) -> Result<(), QueueError> {
        let err = |e: lapin::Error| broker_err(&self.config, e);
        channel
            .exchange_declare(
                DEAD_LETTER_EXCHANGE.into(),
                ExchangeKind::Direct,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(err)?;
        let dead = self.dead_queue();
        channel
            .queue_declare(
                dead.as_str().into(),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            )
            .await
            .map_err(err)?;
        channel
            .queue_bind(
                dead.as_str().into(),
                DEAD_LETTER_EXCHANGE.into(),
                self.config.queue.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(err)?;
        let mut args = FieldTable::default();
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(DEAD_LETTER_EXCHANGE.into()),
        );
        channel
            .queue_declare(
                self.config.queue.as_str().into(),
                QueueDeclareOptions::durable(),
                args,
            )
            .await
            .map_err(err)?;
        Ok(())
    }

    /// The publishing channel, reconnecting when the link is down.
    async fn channel(&self) -> Result<Channel, QueueError> {
        let mut link = self.link.lock().await;
        if let Some(l) = link.as_ref() {
            if l.connection.status().connected() && l.channel.status().connected() {
                return Ok(l.channel.clone());
            }
        }
        *link = None;
        let fresh = self.open().await?;
        let channel = fresh.channel.clone();
        *link = Some(fresh);
        Ok(channel)
    }

    async fn forget(&self) {
        *self.link.lock().await = None;
    }

    /// Is the broker reachable (connecting if needed)?
    pub async fn ping(&self) -> Result<(), QueueError> {
        self.channel().await.map(|_| ())
    }

    /// Publish `message` persistently and wait for the broker's confirm,
    /// reconnecting with backoff for up to 15 s.
    pub async fn publish(&self, message: &TaskMessage) -> Result<(), QueueError> {
        let body =
            serde_json::to_vec(message).map_err(|e| QueueError::BadMessage(e.to_string()))?;
        let deadline = tokio::time::Instant::now() + PUBLISH_PATIENCE;
        let mut delay = Duration::from_millis(100);
        loop {
            match self.publish_once(&body, &message.task_id).await {
                Ok(()) => return Ok(()),
                Err(e) if tokio::time::Instant::now() + delay < deadline => {
                    tracing::warn!("publishing task {} failed, retrying: {e}", message.task_id);
                    self.forget().await;
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn publish_once(&self, body: &[u8], task_id: &str) -> Result<(), QueueError> {
        let channel = self.channel().await?;
        let err = |e: lapin::Error| broker_err(&self.config, e);
        let confirm = channel
            .basic_publish(
                "".into(),
                self.config.queue.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                body,
                BasicProperties::default()
                    .with_delivery_mode(2)
                    .with_content_type(ShortString::from("application/json"))
                    .with_message_id(ShortString::from(task_id)),
            )
            .await
            .map_err(err)?
            .await
            .map_err(err)?;
        if confirm.is_ack() && confirm.take_message().is_none() {
            Ok(())
        } else {
            Err(broker_err(
                &self.config,
                format!("the broker did not take task {task_id} (nack or unroutable)"),
            ))
        }
    }

    /// Messages waiting in the queue.
    pub async fn depth(&self) -> Result<u64, QueueError> {
        let channel = self.channel().await?;
        let q = channel
            .queue_declare(
                self.config.queue.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| broker_err(&self.config, e))?;
        Ok(u64::from(q.message_count()))
    }

    /// Messages dead-lettered so far.
    pub async fn dead_letters(&self) -> Result<u64, QueueError> {
        let channel = self.channel().await?;
        let q = channel
            .queue_declare(
                self.dead_queue().as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| broker_err(&self.config, e))?;
        Ok(u64::from(q.message_count()))
    }

    /// Consume tasks with at most `prefetch` unacknowledged at once, on a
    /// connection of their own (so a dead worker's deliveries go back to
    /// the queue when it closes). The stream ends when the connection
    /// fails; call again to reconnect.
    pub async fn consume(
        &self,
        prefetch: u16,
        tag: &str,
    ) -> Result<impl futures::Stream<Item = Result<Received, QueueError>> + Send + use<>, QueueError>
    {
        let err = |e: lapin::Error| broker_err(&self.config, e);
        let connection = Connection::connect(&self.config.url, ConnectionProperties::default())
            .await
            .map_err(err)?;
        let channel = connection.create_channel().await.map_err(err)?;
        self.declare(&channel).await?;
        channel
            .basic_qos(prefetch.max(1), BasicQosOptions::default())
            .await
            .map_err(err)?;
        let consumer = channel
            .basic_consume(
                self.config.queue.as_str().into(),
                tag.into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(err)?;
        let config = self.config.clone();
        // The connection lives as long as the stream.
        let keep = std::sync::Arc::new(connection);
        Ok(consumer.map(move |delivery| {
            let _keep = &keep;
            let delivery = delivery.map_err(|e| broker_err(&config, e))?;
            let message =
                serde_json::from_slice::<TaskMessage>(&delivery.data).map_err(|e| e.to_string());
            Ok(Received { message, delivery })
        }))
    }
}

/// One delivered message, to be acknowledged once handled.
pub struct Received {
    /// The task, or why the body is not one.
    pub message: Result<TaskMessage, String>,
    delivery: lapin::message::Delivery,
}

impl Received {
    /// Was this message delivered before (to a worker that did not ack)?
    pub fn redelivered(&self) -> bool {
        self.delivery.redelivered
    }

    /// Done: remove the message from the queue.
    pub async fn ack(&self) -> Result<(), QueueError> {
        settled("ack", self.delivery.ack(BasicAckOptions::default()).await)
    }

    /// Give up on the message: it goes to the dead-letter queue.
    pub async fn dead_letter(&self) -> Result<(), QueueError> {
        self.nack(false).await
    }

    /// Put the message back for another worker (this one is stopping).
    pub async fn requeue(&self) -> Result<(), QueueError> {
        self.nack(true).await
    }

    async fn nack(&self, requeue: bool) -> Result<(), QueueError> {
        let options = BasicNackOptions {
            requeue,
            ..BasicNackOptions::default()
        };
        settled("nack", self.delivery.nack(options).await)
    }
}

fn settled(what: &str, result: lapin::Result<bool>) -> Result<(), QueueError> {
    result.map(|_| ()).map_err(|e| QueueError::Broker {
        at: what.into(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_default_attempts() {
        let m: TaskMessage =
            serde_json::from_str(r#"{"task_id":"t","action":"publish_artifacts"}"#).unwrap();
        assert_eq!(m.attempts, 0);
        assert_eq!(m.payload, None);
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<TaskMessage>(&text).unwrap(), m);
    }
}

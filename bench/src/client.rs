//! A minimal client for the RSTUF v1 API: what the load generator and the
//! publish benchmark need, and nothing specific to our server, so they can
//! be pointed at any RSTUF deployment.

use anyhow::{anyhow, bail, Context};
use rstuf_api::responses::{Accepted, Envelope, TaskStatus};
use rstuf_api::task::TaskState;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Api {
    pub base: String,
    http: reqwest::Client,
    /// How often to ask for a task's state while waiting.
    pub poll: Duration,
}

impl Api {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()
                .expect("HTTP client builds"),
            poll: Duration::from_millis(20),
        }
    }

    /// POST a write and return the accepted task id (the API answers 202).
    pub async fn submit(&self, path: &str, body: &Value) -> anyhow::Result<String> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status.as_u16() != 202 {
            bail!("POST {path}: {status}: {body}");
        }
        let accepted: Envelope<Accepted> = serde_json::from_value(body.clone())
            .with_context(|| format!("POST {path}: not an accepted task: {body}"))?;
        accepted
            .data
            .map(|a| a.task_id)
            .ok_or_else(|| anyhow!("POST {path}: no task id in {body}"))
    }

    /// Poll a task until it is final; errors unless it ended in SUCCESS.
    pub async fn wait(&self, task_id: &str, timeout: Duration) -> anyhow::Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self
                .http
                .get(format!("{}/api/v1/task/?task_id={task_id}", self.base))
                .send()
                .await
                .context("GET task")?;
            let body: Value = r.json().await.unwrap_or(Value::Null);
            let status: Envelope<TaskStatus> = serde_json::from_value(body.clone())
                .with_context(|| format!("task {task_id}: not a task state: {body}"))?;
            let status = status
                .data
                .ok_or_else(|| anyhow!("task {task_id}: no data in {body}"))?;
            if status.state.is_final() {
                if status.state != TaskState::Success {
                    bail!("task {task_id} ended {}: {body}", status.state.as_str());
                }
                return Ok(body["data"].clone());
            }
            if Instant::now() > deadline {
                bail!(
                    "task {task_id} still {} after {timeout:?}",
                    status.state.as_str()
                );
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Submit and wait for success.
    pub async fn run(&self, path: &str, body: &Value, timeout: Duration) -> anyhow::Result<Value> {
        let id = self.submit(path, body).await?;
        self.wait(&id, timeout).await
    }

    /// Whether the repository behind the API is bootstrapped already.
    pub async fn bootstrapped(&self) -> anyhow::Result<bool> {
        let r = self
            .http
            .get(format!("{}/api/v1/bootstrap/", self.base))
            .send()
            .await
            .context("GET bootstrap")?;
        let body: Value = r.json().await.unwrap_or(Value::Null);
        Ok(body["data"]["bootstrap"].as_bool().unwrap_or(false))
    }
}

/// One artifact entry with a deterministic, unique path and hash.
pub fn artifact(tag: &str, i: u64) -> Value {
    json!({
        "path": format!("{tag}/pkg-{i}/pkg-{i}-1.0.tar.gz"),
        "info": {"length": 1000 + i, "hashes": {"sha256": format!("{i:064x}")}}
    })
}

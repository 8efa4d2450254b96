//! A minimal client for the RSTUF v1 API: what the load generator and the
//! publish benchmark need, and nothing specific to our server, so they can
//! be pointed at any RSTUF deployment.

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// States after which a task no longer changes.
const FINAL: [&str; 3] = ["SUCCESS", "ERRORED", "FAILURE"];

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
        body["data"]["task_id"]
            .as_str()
            .map(str::to_string)
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
            let state = body["data"]["state"].as_str().unwrap_or("");
            if FINAL.contains(&state) {
                if state != "SUCCESS" {
                    bail!("task {task_id} ended {state}: {body}");
                }
                return Ok(body["data"].clone());
            }
            if Instant::now() > deadline {
                bail!("task {task_id} still {state} after {timeout:?}");
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

//! HTTP client for the v1 API (ours or upstream's): base URL, extra headers
//! (`-H 'Authorization: Bearer …'` for gateways), exact-message checks like
//! the upstream CLI, and task polling with back-off instead of a busy loop.

use crate::error::{CliError, CliResult};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rstuf_api::responses::{Envelope, TaskStatus};
use rstuf_api::task::TaskState;
use serde_json::Value;
use std::time::{Duration, Instant};

pub struct Client {
    base: String,
    http: reqwest::Client,
}

/// The outcome of a finished task.
#[derive(Debug)]
pub struct TaskOutcome {
    pub state: TaskState,
    pub result: Value,
}

impl Client {
    pub fn new(base: &str, headers: &[String], timeout: Duration) -> CliResult<Client> {
        let mut map = HeaderMap::new();
        for h in headers {
            for part in header_parts(h) {
                let (name, value) = part.split_once(':').ok_or_else(|| {
                    CliError::Usage(format!("header '{part}' must look like 'Name: value'"))
                })?;
                let name = HeaderName::from_bytes(name.trim().as_bytes())
                    .map_err(|e| CliError::Usage(format!("header name '{name}': {e}")))?;
                let value = HeaderValue::from_str(value.trim())
                    .map_err(|e| CliError::Usage(format!("header value for '{name}': {e}")))?;
                map.insert(name, value);
            }
        }
        let http = http_builder()?
            .default_headers(map)
            .timeout(timeout)
            .build()
            .map_err(|e| CliError::Local(format!("HTTP client: {e}")))?;
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(CliError::Usage(format!(
                "--api-server must be an http:// or https:// URL, got '{base}'"
            )));
        }
        Ok(Client { base, http })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    fn unreachable(&self, e: reqwest::Error) -> CliError {
        if e.is_connect() || e.is_timeout() {
            CliError::Server(format!("Failed to connect to {}: {}", self.base, e))
        } else {
            CliError::Server(format!("request to {} failed: {e}", self.base))
        }
    }

    async fn read(&self, response: reqwest::Response) -> CliResult<(u16, Value)> {
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| self.unreachable(e))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, body))
    }

    pub async fn get(&self, path: &str) -> CliResult<(u16, Value)> {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        self.read(response).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> CliResult<(u16, Value)> {
        let mut request = self.http.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        self.read(response).await
    }

    /// Submit a write and return the task id, insisting on 202 and the
    /// message upstream's CLI expects.
    pub async fn submit(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        expected: &str,
    ) -> CliResult<String> {
        let (status, body) = self.send(method, path, body).await?;
        let message = body.get("message").and_then(Value::as_str).unwrap_or("");
        if status != 202 || !message.starts_with(expected) {
            return Err(CliError::Server(format!(
                "Error {status}: {}",
                describe(&body)
            )));
        }
        body.pointer("/data/task_id")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| {
                CliError::Server(format!(
                    "the server accepted the request but sent no task id: {body}"
                ))
            })
    }

    /// One look at a task.
    pub async fn task(&self, task_id: &str) -> CliResult<Value> {
        let (status, body) = self.get(&format!("api/v1/task/?task_id={task_id}")).await?;
        if status != 200 {
            return Err(CliError::Server(format!(
                "Error {status}: {}",
                describe(&body)
            )));
        }
        Ok(body)
    }

    /// Poll a task until it finishes or `timeout` passes.
    pub async fn wait(
        &self,
        task_id: &str,
        timeout: Duration,
        mut progress: impl FnMut(&str),
    ) -> CliResult<TaskOutcome> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            let body = self.task(task_id).await?;
            let status = serde_json::from_value::<Envelope<TaskStatus>>(body.clone())
                .ok()
                .and_then(|e| e.data)
                .ok_or_else(|| CliError::Server(format!("not a task state: {body}")))?;
            let state = status.state;
            progress(state.as_str());
            let result = status.result.unwrap_or(Value::Null);
            match state {
                TaskState::Success
                    if result.get("status").and_then(Value::as_bool) == Some(true) =>
                {
                    return Ok(TaskOutcome { state, result })
                }
                TaskState::Success => {
                    return Err(CliError::Task(format!(
                        "Task status is not successful: {result}"
                    )))
                }
                TaskState::Errored => {
                    let error = result
                        .get("error")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown error");
                    return Err(CliError::Task(format!("Errored: {error}")));
                }
                TaskState::Failure => {
                    return Err(CliError::Task(format!("Failed: {}", describe(&result))))
                }
                other if other.is_final() => {
                    return Err(CliError::Task(format!(
                        "Task {other}: {}",
                        describe(&result)
                    )))
                }
                _ => {}
            }
            if started.elapsed() > timeout {
                return Err(CliError::Task(format!(
                    "task {task_id} still {state} after {}s",
                    timeout.as_secs()
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }
}

/// A readable one-line form of an error body.
pub fn describe(body: &Value) -> String {
    if let Some(detail) = body.get("detail") {
        if let Some(obj) = detail.as_object() {
            let msg = obj.get("message").and_then(Value::as_str).unwrap_or("");
            let err = obj.get("error").and_then(Value::as_str).unwrap_or("");
            return [msg, err]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
        }
        if let Some(items) = detail.as_array() {
            return items
                .iter()
                .map(|i| {
                    let loc: Vec<String> = i
                        .get("loc")
                        .and_then(Value::as_array)
                        .map(|l| {
                            l.iter()
                                .map(|p| p.to_string().trim_matches('"').to_string())
                                .collect()
                        })
                        .unwrap_or_default();
                    format!(
                        "{}: {}",
                        loc.join("."),
                        i.get("msg").and_then(Value::as_str).unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
        }
        return detail.to_string();
    }
    if let Some(m) = body.get("message").and_then(Value::as_str) {
        return m.to_string();
    }
    body.to_string()
}

/// Every HTTP client of the CLI (API, TUF client, validator, root
/// fetches) starts here, so all trust the same certificate authorities.
pub fn http_builder() -> CliResult<reqwest::ClientBuilder> {
    let mut builder = reqwest::Client::builder();
    for cert in extra_roots()? {
        builder = builder.add_root_certificate(cert);
    }
    Ok(builder)
}

/// Certificate authorities to trust besides the public ones, for servers
/// with a private CA: the PEM bundle in `REQUESTS_CA_BUNDLE` (what the
/// upstream CLI's `requests` reads, so one setting serves both tools; unlike
/// `requests`, the public roots stay trusted too) or `SSL_CERT_FILE`.
fn extra_roots() -> CliResult<Vec<reqwest::Certificate>> {
    let Some((var, path)) = ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"]
        .into_iter()
        .find_map(|v| {
            std::env::var_os(v)
                .filter(|p| !p.is_empty())
                .map(|p| (v, p))
        })
    else {
        return Ok(Vec::new());
    };
    let pem = std::fs::read(&path).map_err(|e| {
        CliError::Local(format!(
            "{var}: cannot read {}: {e}",
            std::path::Path::new(&path).display()
        ))
    })?;
    reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        CliError::Local(format!(
            "{var}: {} is not a PEM certificate bundle: {e}",
            std::path::Path::new(&path).display()
        ))
    })
}

/// Upstream splits one `-H` on `,` into `Name: value` headers; a value that
/// itself holds commas (`Accept: a, b`) stays whole when a part is not a
/// header of its own.
fn header_parts(h: &str) -> Vec<&str> {
    let parts: Vec<&str> = h
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let is_header = |p: &&str| {
        p.split_once(':').is_some_and(|(name, _)| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    };
    if parts.iter().all(is_header) {
        parts
    } else {
        vec![h.trim()]
    }
}

#[cfg(test)]
mod header_tests {
    #[test]
    fn one_dash_h_splits_like_upstream_unless_a_value_holds_commas() {
        assert_eq!(
            super::header_parts("Authorization: Bearer x,X-Team: a"),
            vec!["Authorization: Bearer x", "X-Team: a"]
        );
        assert_eq!(
            super::header_parts("Authorization: Bearer x, Content-Type: application/json"),
            vec!["Authorization: Bearer x", "Content-Type: application/json"]
        );
        assert_eq!(super::header_parts("Accept: a, b"), vec!["Accept: a, b"]);
    }
}

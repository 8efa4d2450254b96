//! `rstuf admin send …` and `rstuf task …`: submit payload files written by
//! a ceremony, update or signing session (ours or upstream's), and follow
//! the resulting tasks.

use crate::client::{Client, TaskOutcome};
use crate::error::{local, CliError, CliResult};
use crate::output::Output;
use reqwest::Method;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const TASK_TIMEOUT: Duration = Duration::from_secs(600);

/// Read a payload file: it must exist, be JSON and be an object.
pub fn read_payload(file: &Path) -> CliResult<Value> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| local(format!("cannot read {}: {e}", file.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| local(format!("{} is not valid JSON: {e}", file.display())))?;
    if !value.is_object() {
        return Err(local(format!(
            "{} must contain a JSON object",
            file.display()
        )));
    }
    Ok(value)
}

/// Submit a write, insist on 202 and `expected`, and wait for the task.
pub async fn submit_and_wait_outcome(
    client: &Client,
    path: &str,
    body: &Value,
    expected: &str,
    out: &Output,
) -> CliResult<(String, TaskOutcome)> {
    submit_with_and_wait(client, Method::POST, path, body, expected, out).await
}

/// [`submit_and_wait_outcome`] with another method (`PUT` for updates).
pub async fn submit_with_and_wait(
    client: &Client,
    method: Method,
    path: &str,
    body: &Value,
    expected: &str,
    out: &Output,
) -> CliResult<(String, TaskOutcome)> {
    let task_id = client.submit(method, path, Some(body), expected).await?;
    if !out.json {
        println!("{expected} task id: {task_id}");
    }
    let outcome = client.wait(&task_id, TASK_TIMEOUT, |_| {}).await?;
    Ok((task_id, outcome))
}

/// A finished task as JSON.
pub fn outcome_json(task_id: &str, outcome: &TaskOutcome) -> Value {
    serde_json::json!({ "task_id": task_id, "state": outcome.state, "result": outcome.result })
}

/// Print a finished task for people.
pub fn print_outcome_text(out: &Output, outcome: &TaskOutcome) {
    out.success(&format!(
        "{}: {}",
        outcome.state,
        outcome
            .result
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
    ));
    if let Some(details) = outcome.result.get("details").filter(|d| !d.is_null()) {
        println!(
            "{}",
            serde_json::to_string_pretty(details).unwrap_or_default()
        );
    }
}

async fn submit_and_wait(
    client: &Client,
    path: &str,
    body: &Value,
    expected: &str,
    out: &Output,
) -> CliResult<()> {
    let (task_id, outcome) = submit_and_wait_outcome(client, path, body, expected, out).await?;
    if out.json {
        out.print_json(&outcome_json(&task_id, &outcome));
    } else {
        print_outcome_text(out, &outcome);
    }
    Ok(())
}

/// Fail unless the server is available for a bootstrap.
pub async fn check_bootstrap_available(client: &Client) -> CliResult<()> {
    let (status, state) = client.get("api/v1/bootstrap/").await?;
    if status == 404 {
        return Err(CliError::Server(
            "the server does not allow bootstrap (endpoint disabled)".into(),
        ));
    }
    if state.pointer("/data/bootstrap").and_then(Value::as_bool) == Some(true) {
        return Err(CliError::Server(format!(
            "System already has a Metadata: {}",
            state.get("message").and_then(Value::as_str).unwrap_or("")
        )));
    }
    Ok(())
}

pub async fn bootstrap(client: &Client, file: &Path, out: &Output) -> CliResult<()> {
    let payload = read_payload(file)?;
    if payload.get("settings").is_none() || payload.get("metadata").is_none() {
        return Err(local(format!(
            "{} is not a ceremony payload (needs settings and metadata)",
            file.display()
        )));
    }
    check_bootstrap_available(client).await?;
    submit_and_wait(
        client,
        "api/v1/bootstrap/",
        &payload,
        "Bootstrap accepted.",
        out,
    )
    .await
}

pub async fn update(client: &Client, file: &Path, out: &Output) -> CliResult<()> {
    let payload = read_payload(file)?;
    if payload.pointer("/metadata/root").is_none() {
        return Err(local(format!(
            "{} is not a metadata update payload (needs metadata.root)",
            file.display()
        )));
    }
    submit_and_wait(
        client,
        "api/v1/metadata/",
        &payload,
        "Metadata update accepted.",
        out,
    )
    .await
}

pub async fn sign(client: &Client, file: &Path, out: &Output) -> CliResult<()> {
    let payload = read_payload(file)?;
    if payload.get("role").is_none() || payload.get("signature").is_none() {
        return Err(local(format!(
            "{} is not a sign payload (needs role and signature)",
            file.display()
        )));
    }
    submit_and_wait(
        client,
        "api/v1/metadata/sign/",
        &payload,
        "Metadata sign accepted.",
        out,
    )
    .await
}

/// `rstuf task info ID [-a]`: the task's state and result; with `--all`
/// the whole response, as upstream's `-a` prints it.
pub async fn task_info(client: &Client, task_id: &str, all: bool, out: &Output) -> CliResult<()> {
    let body = client.task(task_id).await?;
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    if all {
        out.print_json(&body);
    } else if out.json {
        out.print_json(&data);
    } else {
        println!("task:  {task_id}");
        println!(
            "state: {}",
            data.get("state").and_then(Value::as_str).unwrap_or("?")
        );
        if let Some(result) = data.get("result") {
            println!(
                "result:\n{}",
                serde_json::to_string_pretty(result).unwrap_or_default()
            );
        }
    }
    Ok(())
}

pub async fn task_wait(
    client: &Client,
    task_id: &str,
    timeout: Duration,
    out: &Output,
) -> CliResult<()> {
    let outcome = client.wait(task_id, timeout, |_| {}).await?;
    if out.json {
        out.print_json(&serde_json::json!({ "task_id": task_id, "state": outcome.state, "result": outcome.result }));
    } else {
        out.success(&format!("{task_id}: {}", outcome.state));
    }
    Ok(())
}

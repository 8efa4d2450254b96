//! `rstuf admin audit show|verify`: read the service's audit log
//! (`GET /api/v1/audit/`) and check its hash chain from the first entry
//! to the head the service reports, page by page in constant memory.

use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output::Output;
use rstuf_api::audit::{AuditHead, AuditPage, Verifier, MAX_PAGE};
use serde_json::{json, Value};

async fn page(client: &Client, after: i64, limit: u64) -> CliResult<AuditPage> {
    let (status, body) = client
        .get(&format!("/api/v1/audit/?after={after}&limit={limit}"))
        .await?;
    match status {
        200 => {}
        404 => {
            return Err(CliError::Server(
                "the server has no audit log (GET /api/v1/audit/ answered 404): it is not an rstuf-host, or the endpoint is disabled".into(),
            ))
        }
        401 | 403 => {
            return Err(CliError::Server(format!(
                "the server refused to show the audit log ({status}): send a token with the 'read:audit' scope (-H 'Authorization: Bearer …'): {}",
                crate::client::describe(&body)
            )))
        }
        _ => {
            return Err(CliError::Server(format!(
                "GET /api/v1/audit/ answered {status}: {}",
                crate::client::describe(&body)
            )))
        }
    }
    serde_json::from_value(body.get("data").cloned().unwrap_or(Value::Null)).map_err(|e| {
        CliError::Server(format!(
            "GET /api/v1/audit/ answered something that is not an audit page: {e}"
        ))
    })
}

/// Print entries after `after`, at most `limit`.
pub async fn show(client: &Client, after: i64, limit: u64, out: &Output) -> CliResult<()> {
    let page = page(client, after, limit.clamp(1, MAX_PAGE)).await?;
    if out.json {
        out.print_json(&serde_json::to_value(&page).unwrap_or(Value::Null));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = page
        .entries
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                e.at.clone(),
                e.action.clone(),
                e.task_id.clone().unwrap_or_default(),
                summary(&e.detail),
            ]
        })
        .collect();
    out.table(&["SEQ", "AT", "ACTION", "TASK", "DETAIL"], &rows);
    println!("head: {}", page.head);
    if let Some(next) = page.next_after {
        println!("more: rstuf admin audit show --after {next}");
    }
    Ok(())
}

fn summary(detail: &Value) -> String {
    let state = detail.get("state").and_then(Value::as_str);
    let versions = detail.get("versions").and_then(Value::as_object).map(|v| {
        v.iter()
            .map(|(role, version)| format!("{role}={version}"))
            .collect::<Vec<_>>()
            .join(" ")
    });
    match (state, versions) {
        (_, Some(versions)) => versions,
        (Some(state), None) => match detail.get("error").and_then(Value::as_str) {
            Some(error) => format!("{state}: {}", error.chars().take(60).collect::<String>()),
            None => state.to_string(),
        },
        (None, None) => String::new(),
    }
}

/// Check the whole chain; exit 5 naming the first entry changed or
/// removed.
pub async fn verify(client: &Client, pinned: Option<&str>, out: &Output) -> CliResult<()> {
    let pinned = pinned
        .map(AuditHead::parse)
        .transpose()
        .map_err(|e| CliError::Usage(format!("--head: {e}")))?;
    let mut verifier = Verifier::new(pinned);
    let mut after = 0;
    let mut checked = 0u64;
    let head = loop {
        let page = page(client, after, MAX_PAGE).await?;
        for entry in &page.entries {
            verifier.feed(entry).map_err(|b| broken(&b))?;
            checked += 1;
        }
        match page.next_after {
            Some(next) if next > after => after = next,
            _ => break page.head,
        }
    };
    let head = verifier.finish(&head).map_err(|b| broken(&b))?;
    if out.json {
        out.print_json(&json!({ "intact": true, "entries": checked, "head": head }));
    } else {
        out.success(&format!(
            "Audit log intact: {checked} entries, head {head} (record it to check later with --head)"
        ));
    }
    Ok(())
}

fn broken(b: &rstuf_api::audit::Break) -> CliError {
    CliError::Check(format!("audit log broken at entry {}: {b}", b.seq()))
}

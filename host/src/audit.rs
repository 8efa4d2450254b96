//! What the service writes to the audit log, and how the log is read back.
//!
//! Entries: one per finished task that can change the repository (its
//! final state, result and a digest of its request, plus the role and
//! keyid of a signature), and one per committed publish pass (the
//! versions it wrote, the online key that signed them, the rows it
//! published), appended inside the pass's own commit. The chain format is
//! `rstuf_api::audit`; the tables are `rstuf_store`'s.

use chrono::{DateTime, SecondsFormat, Utc};
use rstuf_api::audit::{chain_hash, stored_detail, AuditEntry, AuditHead, AuditPage};
use rstuf_api::task::TaskName;
use rstuf_store::{AuditRow, NewAuditEntry, Store, StoreError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// `action` of a publish pass's entry.
pub const PUBLISH: &str = "publish";

/// An entry for `action` at `at`.
pub fn entry(
    at: DateTime<Utc>,
    action: &str,
    task_id: Option<&str>,
    detail: &Value,
) -> NewAuditEntry {
    let (_, text) = stored_detail(detail);
    NewAuditEntry {
        at: at.to_rfc3339_opts(SecondsFormat::Micros, true),
        action: action.into(),
        task_id: task_id.map(str::to_string),
        detail: text,
        hash: hash_of,
    }
}

fn hash_of(seq: i64, entry: &NewAuditEntry, prev: &str) -> String {
    let detail: Value =
        serde_json::from_str(&entry.detail).unwrap_or_else(|_| Value::String(entry.detail.clone()));
    chain_hash(
        seq,
        &entry.at,
        &entry.action,
        entry.task_id.as_deref(),
        &detail,
        prev,
    )
}

/// Whether a finished task of this kind gets its own entry. Publishing and
/// the periodic re-signing change the repository only through publish
/// passes, which have theirs.
pub fn audited(action: TaskName) -> bool {
    !matches!(
        action,
        TaskName::PublishArtifacts | TaskName::BumpOnlineRoles
    )
}

/// The detail of a finished task: its state, its result, a digest of its
/// request and, for signatures, which role and key signed.
pub fn task_detail(
    action: TaskName,
    state: &str,
    payload: &Value,
    result: Option<&Value>,
) -> Value {
    let mut detail = json!({
        "state": state,
        "request_sha256": hex::encode(Sha256::digest(payload.to_string())),
    });
    if let Some(result) = result {
        for key in ["message", "error", "details"] {
            if let Some(v) = result.get(key).filter(|v| !v.is_null()) {
                detail[key] = v.clone();
            }
        }
    }
    match action {
        TaskName::SignMetadata => {
            detail["role"] = payload.get("role").cloned().unwrap_or(Value::Null);
            detail["keyid"] = payload
                .pointer("/signature/keyid")
                .cloned()
                .unwrap_or(Value::Null);
        }
        TaskName::DeleteSignMetadata => {
            detail["role"] = payload.get("role").cloned().unwrap_or(Value::Null);
        }
        TaskName::MetadataUpdate | TaskName::Bootstrap => {
            if let Some(root) = payload.pointer("/metadata/root/signed") {
                detail["root_version"] = root.get("version").cloned().unwrap_or(Value::Null);
            }
        }
        _ => {}
    }
    detail
}

/// Append, trying again for a few seconds when the database is briefly
/// unreachable. The task's outcome is already decided (and for most tasks
/// committed), so a failure here is logged and counted rather than undoing
/// it: the log then misses this entry, which the caller counts
/// (`rstuf_audit_append_failures_total`).
pub async fn append(store: &Store, entry: &NewAuditEntry) -> Result<i64, StoreError> {
    let mut delay = Duration::from_millis(100);
    loop {
        match store.append_audit(entry).await {
            Err(e) if e.is_transient() && delay < Duration::from_secs(3) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
}

/// A stored row as the API returns it. A detail that is no longer JSON
/// (a changed row) is returned as its text, so the verifier still sees it.
pub fn api_entry(row: AuditRow) -> AuditEntry {
    let detail =
        serde_json::from_str(&row.detail).unwrap_or_else(|_| Value::String(row.detail.clone()));
    AuditEntry {
        seq: row.seq,
        at: row.at,
        action: row.action,
        task_id: row.task_id,
        detail,
        prev: row.prev_hash,
        hash: row.hash,
    }
}

/// One page of the log after `after`.
pub async fn page(store: &Store, after: i64, limit: u64) -> Result<AuditPage, StoreError> {
    // The head first: entries appended meanwhile are on the next page, and
    // a page never ends past the head it reports.
    let (seq, hash) = store.audit_head().await?;
    let rows = store.audit_page(after, limit).await?;
    let entries: Vec<AuditEntry> = rows
        .into_iter()
        .filter(|r| r.seq <= seq)
        .map(api_entry)
        .collect();
    let next_after = match entries.last() {
        Some(last) if last.seq < seq && entries.len() as u64 == limit => Some(last.seq),
        _ => None,
    };
    Ok(AuditPage {
        entries,
        head: AuditHead { seq, hash },
        next_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_entry_names_role_and_key_and_hashes_as_the_verifier_does() {
        let payload = json!({ "role": "root", "signature": { "keyid": "ab12", "sig": "00" } });
        let result = json!({ "message": "Signature Processed", "details": null, "status": true });
        let detail = task_detail(TaskName::SignMetadata, "SUCCESS", &payload, Some(&result));
        assert_eq!(detail["role"], "root");
        assert_eq!(detail["keyid"], "ab12");
        assert_eq!(detail["message"], "Signature Processed");
        assert!(detail.get("details").is_none());
        let at = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
            .unwrap()
            .to_utc();
        let e = entry(at, "sign_metadata", Some("t1"), &detail);
        assert_eq!(e.at, "2026-12-03T10:00:00.000000Z");
        let prev = rstuf_api::audit::GENESIS;
        assert_eq!(
            (e.hash)(1, &e, prev),
            chain_hash(1, &e.at, "sign_metadata", Some("t1"), &detail, prev)
        );
    }
}

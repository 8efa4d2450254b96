//! The audit log's format: one entry per state-changing action, each
//! bound to the one before by a SHA-256 hash chain, so that changing or
//! removing an entry breaks every hash after it.
//!
//! The service appends entries (the database keeps the chain and its head),
//! `GET /api/v1/audit` hands them out page by page, and
//! `rstuf admin audit verify` recomputes the chain with [`Verifier`]. Both
//! sides use [`chain_hash`] from here, so what the service writes is what
//! the CLI checks.
//!
//! The hash of entry `n` is SHA-256 over the canonical JSON (the OLPC
//! form TUF uses) of `{action, at, detail, prev, seq, task_id}`, where
//! `prev` is the hash of entry `n - 1` ([`GENESIS`] for entry 1). A chain
//! only proves its own consistency: someone able to rewrite the database
//! can rewrite every hash after a change too. [`AuditHead`] (the last
//! sequence number and hash) is what an operator records elsewhere
//! (`rstuf admin audit verify --head SEQ:HASH` then proves the log still
//! contains that entry unchanged).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fmt;

/// `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Most entries one `GET /api/v1/audit` page returns.
pub const MAX_PAGE: u64 = 1000;

/// One entry as stored and as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// 1, 2, 3 … without gaps.
    pub seq: i64,
    /// When it was appended (RFC 3339, UTC).
    pub at: String,
    /// What happened: a task name (`bootstrap`, `add_artifacts`,
    /// `sign_metadata` …) or `publish` for a publish pass.
    pub action: String,
    /// The task that did it, when a task did.
    pub task_id: Option<String>,
    /// What it did: the task's outcome, the versions a pass wrote and the
    /// key that signed them.
    #[schema(value_type = Object)]
    pub detail: Value,
    /// Hash of the entry before (hex SHA-256).
    pub prev: String,
    /// Hash of this entry (hex SHA-256).
    pub hash: String,
}

/// The last entry's sequence number and hash (0 and [`GENESIS`] while the
/// log is empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

impl AuditHead {
    pub fn empty() -> AuditHead {
        AuditHead {
            seq: 0,
            hash: GENESIS.into(),
        }
    }

    /// `SEQ:HASH`, as `--head` takes it.
    pub fn parse(text: &str) -> Result<AuditHead, String> {
        let (seq, hash) = text
            .split_once(':')
            .ok_or_else(|| format!("'{text}' is not SEQ:HASH (e.g. 42:9f86d08…)"))?;
        let seq: i64 = seq
            .trim()
            .parse()
            .ok()
            .filter(|s| *s >= 1)
            .ok_or_else(|| format!("'{seq}' is not an entry number (1 or more)"))?;
        let hash = hash.trim().to_ascii_lowercase();
        if !is_hash(&hash) {
            return Err(format!(
                "'{hash}' is not a SHA-256 hash (64 hexadecimal digits)"
            ));
        }
        Ok(AuditHead { seq, hash })
    }
}

impl fmt::Display for AuditHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// One page of `GET /api/v1/audit?after=N&limit=M`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Entries with `seq > after`, oldest first.
    pub entries: Vec<AuditEntry>,
    /// The log's head when the page was read.
    pub head: AuditHead,
    /// `after` for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

/// The hash of an entry with these contents after `prev`.
pub fn chain_hash(
    seq: i64,
    at: &str,
    action: &str,
    task_id: Option<&str>,
    detail: &Value,
    prev: &str,
) -> String {
    let record = json!({
        "action": action,
        "at": at,
        "detail": detail,
        "prev": prev,
        "seq": seq,
        "task_id": task_id,
    });
    // Details are built from integers and strings; a float (which
    // canonical JSON cannot hold) would come from a changed row, and its
    // JSON text still binds the hash so the change is found.
    let bytes = rstuf_tuf::canonical::to_canonical_vec(&record)
        .unwrap_or_else(|_| record.to_string().into_bytes());
    hex::encode(Sha256::digest(bytes))
}

/// A detail as the service stores and hashes it, and its JSON text (compact,
/// keys sorted). Floats, which canonical JSON cannot hold, become their
/// decimal text. The text is plain JSON rather than canonical JSON: OLPC
/// canonical JSON leaves control characters unescaped, which no JSON
/// parser reads back (an artifact path may hold one).
pub fn stored_detail(detail: &Value) -> (Value, String) {
    let detail = floats_as_text(detail);
    let text = detail.to_string();
    (detail, text)
}

fn floats_as_text(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => Value::String(n.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(floats_as_text).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), floats_as_text(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The first place where the log is not what was appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Break {
    #[error("entry {seq} was changed: its contents no longer match its hash")]
    Changed { seq: i64 },
    #[error("entry {seq} was changed and its hash recomputed: entry {} no longer follows it", seq + 1)]
    Rehashed { seq: i64 },
    #[error("{}", removed(*first, *last))]
    Removed { first: i64, last: i64 },
    #[error("{}", removed(*first, *last))]
    RemovedAtEnd { first: i64, last: i64 },
    #[error("entry {seq} is out of order (after entry {after})")]
    OutOfOrder { seq: i64, after: i64 },
    #[error("entry {seq} is not the entry recorded as the head ({expected}): it was changed, or the log was rebuilt")]
    NotTheHead { seq: i64, expected: String },
}

fn removed(first: i64, last: i64) -> String {
    if first == last {
        format!("entry {first} was removed")
    } else {
        format!("entries {first} to {last} were removed")
    }
}

impl Break {
    /// The first entry affected.
    pub fn seq(&self) -> i64 {
        match self {
            Break::Changed { seq }
            | Break::Rehashed { seq }
            | Break::OutOfOrder { seq, .. }
            | Break::NotTheHead { seq, .. } => *seq,
            Break::Removed { first, .. } | Break::RemovedAtEnd { first, .. } => *first,
        }
    }
}

/// Checks a log entry by entry, oldest first, in constant memory.
#[derive(Debug)]
pub struct Verifier {
    last_seq: i64,
    last_hash: String,
    /// A head recorded earlier that the log must still contain.
    pinned: Option<AuditHead>,
    pinned_seen: bool,
}

impl Verifier {
    pub fn new(pinned: Option<AuditHead>) -> Verifier {
        Verifier {
            last_seq: 0,
            last_hash: GENESIS.into(),
            pinned,
            pinned_seen: false,
        }
    }

    /// Check the next entry.
    pub fn feed(&mut self, entry: &AuditEntry) -> Result<(), Break> {
        if entry.seq <= self.last_seq {
            return Err(Break::OutOfOrder {
                seq: entry.seq,
                after: self.last_seq,
            });
        }
        if entry.seq > self.last_seq + 1 {
            return Err(Break::Removed {
                first: self.last_seq + 1,
                last: entry.seq - 1,
            });
        }
        let hash = chain_hash(
            entry.seq,
            &entry.at,
            &entry.action,
            entry.task_id.as_deref(),
            &entry.detail,
            &entry.prev,
        );
        if hash != entry.hash {
            return Err(Break::Changed { seq: entry.seq });
        }
        if entry.prev != self.last_hash {
            // The entry is whole but follows another history: the entry
            // before it was rewritten (the first entry follows GENESIS).
            return Err(if entry.seq == 1 {
                Break::Changed { seq: 1 }
            } else {
                Break::Rehashed { seq: entry.seq - 1 }
            });
        }
        if let Some(pinned) = &self.pinned {
            if pinned.seq == entry.seq {
                if pinned.hash != entry.hash {
                    return Err(Break::NotTheHead {
                        seq: entry.seq,
                        expected: pinned.hash.clone(),
                    });
                }
                self.pinned_seen = true;
            }
        }
        self.last_seq = entry.seq;
        self.last_hash = entry.hash.clone();
        Ok(())
    }

    /// After the last entry: does the log end at `head`, the head the
    /// service recorded with its last append (and reach the pinned head)?
    pub fn finish(self, head: &AuditHead) -> Result<AuditHead, Break> {
        if head.seq > self.last_seq {
            return Err(Break::RemovedAtEnd {
                first: self.last_seq + 1,
                last: head.seq,
            });
        }
        if head.seq < self.last_seq || head.hash != self.last_hash {
            return Err(Break::NotTheHead {
                seq: self.last_seq,
                expected: head.to_string(),
            });
        }
        if let Some(pinned) = &self.pinned {
            if !self.pinned_seen {
                return Err(Break::RemovedAtEnd {
                    first: self.last_seq + 1,
                    last: pinned.seq,
                });
            }
        }
        Ok(AuditHead {
            seq: self.last_seq,
            hash: self.last_hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let detail = json!({ "n": seq, "paths": ["a/b.tgz"] });
                let at = format!("2026-12-03T10:00:{seq:02}Z");
                let hash = chain_hash(seq, &at, "add_artifacts", Some("t"), &detail, &prev);
                let entry = AuditEntry {
                    seq,
                    at,
                    action: "add_artifacts".into(),
                    task_id: Some("t".into()),
                    detail,
                    prev: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                entry
            })
            .collect()
    }

    fn head(entries: &[AuditEntry]) -> AuditHead {
        let last = entries.last().unwrap();
        AuditHead {
            seq: last.seq,
            hash: last.hash.clone(),
        }
    }

    fn verify(
        entries: &[AuditEntry],
        head: &AuditHead,
        pinned: Option<AuditHead>,
    ) -> Result<AuditHead, Break> {
        let mut v = Verifier::new(pinned);
        for e in entries {
            v.feed(e)?;
        }
        v.finish(head)
    }

    #[test]
    fn an_intact_log_verifies_to_its_head() {
        let entries = log(5);
        let h = head(&entries);
        assert_eq!(verify(&entries, &h, None), Ok(h.clone()));
        let pinned = AuditHead {
            seq: 3,
            hash: entries[2].hash.clone(),
        };
        assert_eq!(verify(&entries, &h, Some(pinned)), Ok(h));
        assert_eq!(
            verify(&[], &AuditHead::empty(), None),
            Ok(AuditHead::empty())
        );
    }

    #[test]
    fn a_changed_detail_action_time_or_task_names_its_entry() {
        let h = head(&log(5));
        for change in 0..4 {
            let mut entries = log(5);
            let e = &mut entries[2];
            match change {
                0 => e.detail["n"] = json!(99),
                1 => e.action = "remove_artifacts".into(),
                2 => e.at = "2025-01-01T00:00:00Z".into(),
                _ => e.task_id = None,
            }
            assert_eq!(verify(&entries, &h, None), Err(Break::Changed { seq: 3 }));
        }
    }

    #[test]
    fn a_rehashed_entry_is_found_by_the_next_link() {
        let mut entries = log(5);
        let e = &mut entries[1];
        e.detail = json!({ "forged": true });
        e.hash = chain_hash(
            e.seq,
            &e.at,
            &e.action,
            e.task_id.as_deref(),
            &e.detail,
            &e.prev,
        );
        let h = head(&log(5));
        assert_eq!(verify(&entries, &h, None), Err(Break::Rehashed { seq: 2 }));
    }

    #[test]
    fn removed_entries_are_named() {
        let full = log(6);
        let h = head(&full);
        let mut entries = full.clone();
        entries.remove(2);
        assert_eq!(
            verify(&entries, &h, None),
            Err(Break::Removed { first: 3, last: 3 })
        );
        entries.remove(2);
        assert_eq!(
            Break::Removed { first: 3, last: 4 }.to_string(),
            "entries 3 to 4 were removed"
        );
        assert_eq!(
            verify(&entries, &h, None),
            Err(Break::Removed { first: 3, last: 4 })
        );
        assert_eq!(
            verify(&full[1..], &h, None),
            Err(Break::Removed { first: 1, last: 1 })
        );
        assert_eq!(
            verify(&full[..4], &h, None),
            Err(Break::RemovedAtEnd { first: 5, last: 6 })
        );
    }

    #[test]
    fn a_truncated_log_with_a_rewritten_head_is_caught_by_a_pinned_head() {
        let full = log(6);
        let pinned = head(&full);
        let short = &full[..4];
        assert_eq!(
            verify(short, &head(short), Some(pinned.clone())),
            Err(Break::RemovedAtEnd { first: 5, last: 6 })
        );
        // A log rebuilt from entry 3 on with a new history.
        let mut other = log(6);
        other[5].detail["n"] = json!(0);
        let e = &mut other[5];
        e.hash = chain_hash(
            e.seq,
            &e.at,
            &e.action,
            e.task_id.as_deref(),
            &e.detail,
            &e.prev,
        );
        assert_eq!(
            verify(&other, &head(&other), Some(pinned))
                .unwrap_err()
                .seq(),
            6
        );
    }

    #[test]
    fn heads_parse_from_seq_colon_hash() {
        let h = AuditHead::parse(&format!("12:{}", "AB".repeat(32))).unwrap();
        assert_eq!(h.seq, 12);
        assert_eq!(h.hash, "ab".repeat(32));
        assert_eq!(AuditHead::parse(&h.to_string()), Ok(h));
        for bad in ["12", "0:ab", "x:ab", &format!("3:{}", "g".repeat(64))] {
            assert!(AuditHead::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stored_details_read_back_as_the_value_that_was_hashed() {
        let d = json!({ "b": 1, "a": [true, "x"], "f": 0.5, "path": "a\u{1}b\u{92}" });
        let (value, text) = stored_detail(&d);
        assert!(
            text.starts_with(r#"{"a":[true,"x"],"b":1,"f":"0.5","#),
            "{text}"
        );
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
        let hash = |v: &Value| chain_hash(1, "t", "a", None, v, GENESIS);
        assert_eq!(hash(&back), hash(&value));
    }
}

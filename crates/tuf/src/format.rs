//! The stored file format and TUF timestamps.
//!
//! Files are written like upstream's python-tuf `JSONSerializer`: sorted
//! keys, one-space indent, `", "`/`": "` separators. Expiry is whole seconds
//! in UTC with a `Z` suffix.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::Serialize;
use serde_json::Value;

/// Pretty bytes for storage (signatures are over canonical JSON, not these).
pub fn to_file_bytes(doc: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serializing a Value into a Vec cannot fail.
    let _ = doc.serialize(&mut ser);
    out
}

/// `now + days`, truncated to whole seconds, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn expires_in(now: DateTime<Utc>, days: i64) -> String {
    format_time(now.trunc_subsecs(0) + Duration::days(days))
}

pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parse a TUF `expires`.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Storage name of a role version: `N.role.json`, or `timestamp.json`.
pub fn file_name(role: &str, version: u64) -> String {
    if role == "timestamp" {
        "timestamp.json".into()
    } else {
        format!("{version}.{role}.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Stored files list keys sorted (python-tuf's `sort_keys=True`)
    /// because serde_json's map is a BTreeMap. Enabling serde_json's
    /// `preserve_order` anywhere in the build would silently change every
    /// published file; this fails first.
    #[test]
    fn json_maps_are_sorted_so_preserve_order_is_not_enabled() {
        let mut map = serde_json::Map::new();
        map.insert("b".into(), Value::Null);
        map.insert("a".into(), Value::Null);
        assert_eq!(
            map.keys().next().map(String::as_str),
            Some("a"),
            "serde_json's preserve_order feature is enabled in this build"
        );
    }

    #[test]
    fn formats_like_python_tuf() {
        let doc = json!({"signed": {"b": 1, "a": [1, 2]}, "signatures": []});
        let text = String::from_utf8(to_file_bytes(&doc)).unwrap();
        assert_eq!(text, "{\n \"signatures\": [],\n \"signed\": {\n  \"a\": [\n   1,\n   2\n  ],\n  \"b\": 1\n }\n}");
        let now = DateTime::parse_from_rfc3339("2026-11-24T10:11:12.345Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(expires_in(now, 1), "2026-11-25T10:11:12Z");
        assert_eq!(file_name("bins-0a", 3), "3.bins-0a.json");
        assert_eq!(file_name("timestamp", 9), "timestamp.json");
    }
}

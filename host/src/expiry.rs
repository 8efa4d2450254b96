//! When each role's metadata expires, and which expiries need people.
//!
//! The online roles (timestamp, snapshot, targets, the hash bins) are
//! re-signed by the service before they expire; root, delegated roles
//! signed by offline keys and signings under way (a DAS bootstrap, a root
//! update, an offline role's next version) expire unless their key holders
//! act. This module reads all of them from the database, for three users:
//! the `rstuf_role_expires_timestamp_seconds` metric (every role, bins as
//! their earliest), `/ready`'s warnings, and the `dev.rstuf.metadata.expiring`
//! notification the worker sends once per role version entering the
//! warning window.

use crate::worker::Settings;
use chrono::{DateTime, Duration, Utc};
use rstuf_plugins::Event;
use rstuf_store::{Store, StoreError};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// CloudEvents `type` of an expiry warning.
pub const EXPIRING: &str = "dev.rstuf.metadata.expiring";

/// Who renews a role before it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Renewal {
    /// The service, with the online key.
    Online,
    /// Its offline key holders (root, offline delegated roles).
    KeyHolders,
    /// A signing under way: it must be completed before it expires.
    PendingSigning,
}

/// One role's expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expiry {
    /// `root`, `targets`, `snapshot`, `timestamp`, an offline delegated
    /// role's name, `bins` (the earliest online delegated role), or the
    /// pending role's name for a signing under way.
    pub role: String,
    pub version: Option<i64>,
    pub expires: DateTime<Utc>,
    pub renewal: Renewal,
}

impl Expiry {
    /// Does this expiry need people (see [`Renewal`])?
    pub fn needs_people(&self) -> bool {
        self.renewal != Renewal::Online
    }

    /// What someone has to do, for warnings.
    pub fn message(&self, now: DateTime<Utc>) -> String {
        let left = self.expires - now;
        let when = if left <= Duration::zero() {
            format!("expired at {}", self.expires.to_rfc3339())
        } else if left < Duration::days(2) {
            format!("expires in {} hours", left.num_hours())
        } else {
            format!("expires in {} days", left.num_days())
        };
        let version = self.version.map(|v| format!(" v{v}")).unwrap_or_default();
        let action = match (self.renewal, self.role.as_str()) {
            (Renewal::PendingSigning, _) => {
                "its signing must be completed first (rstuf admin metadata status, rstuf admin metadata sign)"
            }
            (_, "root") => "its key holders must sign a new version (rstuf admin metadata update)",
            (Renewal::KeyHolders, _) => {
                "its key holders must sign a new version (rstuf admin metadata sign after a change or POST /api/v1/metadata/online)"
            }
            (Renewal::Online, _) => "the service re-signs it; check that the worker runs",
        };
        let what = if self.renewal == Renewal::PendingSigning {
            format!("pending {}{version}", self.role)
        } else {
            format!("{}{version}", self.role)
        };
        format!("{what} {when}; {action}")
    }
}

fn signed_expiry(doc: &Value) -> Option<(Option<i64>, DateTime<Utc>)> {
    let signed = doc.get("signed")?;
    let expires = rstuf_tuf::format::parse_time(signed.get("expires")?.as_str()?)?;
    Some((signed.get("version").and_then(Value::as_i64), expires))
}

/// Every expiry the repository has now (empty before bootstrap).
pub async fn collect(store: &Store) -> Result<Vec<Expiry>, StoreError> {
    let settings = Settings(store.settings().await?);
    let mut out = Vec::new();
    let mut push = |role: &str, found: Option<(Option<i64>, DateTime<Utc>)>, renewal| {
        if let Some((version, expires)) = found {
            out.push(Expiry {
                role: role.to_string(),
                version,
                expires,
                renewal,
            });
        }
    };
    for (key, doc) in &settings.0 {
        if let Some(role) = key.strip_suffix("_SIGNING") {
            let role = if role == "ROOT" { "root" } else { role };
            push(role, signed_expiry(doc), Renewal::PendingSigning);
        }
    }
    // A bootstrap waiting for signatures has nothing published yet.
    let Some(root) = settings.get("TRUSTED_ROOT") else {
        return Ok(out);
    };
    push("root", signed_expiry(root), Renewal::KeyHolders);
    push(
        "targets",
        settings.get("TRUSTED_TARGETS").and_then(signed_expiry),
        Renewal::Online,
    );
    for (role, key) in [("snapshot", "SNAPSHOT"), ("timestamp", "TIMESTAMP")] {
        let expires = settings
            .str(&format!("{key}_EXPIRES"))
            .and_then(rstuf_tuf::format::parse_time);
        let version = settings.int(&format!("{key}_VERSION"));
        push(role, expires.map(|e| (version, e)), Renewal::Online);
    }
    let offline = crate::worker::offline_roles(&settings);
    let mut earliest_online: Option<(i64, DateTime<Utc>)> = None;
    for role in store.active_roles().await? {
        let expires = role.expires.and_utc();
        if offline.contains(&role.rolename) {
            push(
                &role.rolename,
                Some((Some(role.version), expires)),
                Renewal::KeyHolders,
            );
        } else if earliest_online.is_none_or(|(_, e)| expires < e) {
            earliest_online = Some((role.version, expires));
        }
    }
    push(
        "bins",
        earliest_online.map(|(v, e)| (Some(v), e)),
        Renewal::Online,
    );
    Ok(out)
}

/// The expiries that need people and fall within `window` of `now` (or
/// are past).
pub fn warnings(all: &[Expiry], now: DateTime<Utc>, window: Duration) -> Vec<&Expiry> {
    all.iter()
        .filter(|e| e.needs_people() && e.expires - now <= window)
        .collect()
}

/// The warning event of one expiry. Its id is derived from the role,
/// version and expiry, so receivers can drop repeats (every worker
/// process sends it).
pub fn event(e: &Expiry, now: DateTime<Utc>) -> Event {
    let id = hex::encode(
        &Sha256::digest(format!(
            "{}:{:?}:{:?}:{}",
            e.role,
            e.renewal,
            e.version,
            e.expires.to_rfc3339()
        ))[..16],
    );
    Event {
        id,
        kind: EXPIRING.to_string(),
        time: rstuf_tuf::format::format_time(now),
        data: json!({
            "role": e.role,
            "version": e.version,
            "expires": rstuf_tuf::format::format_time(e.expires),
            "renewal": e.renewal,
            "seconds_left": (e.expires - now).num_seconds(),
            "message": e.message(now),
        })
        .to_string(),
    }
}

/// Settings key remembering which warnings were sent (`{event id: expires}`);
/// the service's own bookkeeping, not shown by `GET /api/v1/config/`.
pub const NOTIFIED: &str = "EXPIRY_NOTIFIED";

/// Send a warning for each expiry that entered the window since the last
/// check, once per role version; forget those no longer current.
pub async fn notify(
    store: &Store,
    outbox: &crate::notify::Outbox,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<usize, StoreError> {
    if outbox.is_empty() {
        return Ok(0);
    }
    let all = collect(store).await?;
    let due = warnings(&all, now, window);
    let sent: BTreeMap<String, Value> = store
        .setting(NOTIFIED)
        .await?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let mut kept = BTreeMap::new();
    let mut new = 0;
    for e in due {
        let event = event(e, now);
        let id = event.id.clone();
        if !sent.contains_key(&id) {
            outbox.publish(event);
            new += 1;
        }
        kept.insert(id, json!(rstuf_tuf::format::format_time(e.expires)));
    }
    if kept != sent {
        store
            .put_settings(&[(NOTIFIED.to_string(), json!(kept))])
            .await?;
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        rstuf_tuf::format::parse_time(s).unwrap()
    }

    #[test]
    fn only_expiries_that_need_people_inside_the_window_warn() {
        let now = at("2026-12-01T00:00:00Z");
        let e = |role: &str, expires: &str, renewal| Expiry {
            role: role.into(),
            version: Some(3),
            expires: at(expires),
            renewal,
        };
        let all = [
            e("root", "2026-12-10T00:00:00Z", Renewal::KeyHolders),
            e("timestamp", "2026-12-01T12:00:00Z", Renewal::Online),
            e("release", "2027-03-01T00:00:00Z", Renewal::KeyHolders),
            e("root", "2026-11-30T00:00:00Z", Renewal::PendingSigning),
        ];
        let due = warnings(&all, now, Duration::days(14));
        assert_eq!(due.len(), 2);
        assert!(due[0]
            .message(now)
            .starts_with("root v3 expires in 9 days;"));
        assert!(due[1]
            .message(now)
            .starts_with("pending root v3 expired at"));
        let a = event(due[0], now);
        assert_eq!(a.kind, EXPIRING);
        assert_eq!(a.id, event(due[0], now + Duration::hours(1)).id);
        let data: Value = serde_json::from_str(&a.data).unwrap();
        assert_eq!(data["role"], "root");
        assert_eq!(data["renewal"], "key_holders");
        assert_eq!(data["seconds_left"], 9 * 86400);
    }
}

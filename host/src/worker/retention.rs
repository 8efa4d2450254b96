//! Metadata retention: delete versioned metadata files no client can need
//! any more, through the storage plugin. Off unless
//! `RSTUF_RETENTION_KEEP_SNAPSHOTS` is set (upstream keeps everything;
//! its oldest open request is deleting old versions, repository-service-tuf#29).
//!
//! What is kept: the newest K snapshot versions up to the committed one,
//! every snapshot superseded less than the grace period ago (a client that
//! has just read a timestamp naming it may still be fetching it), every
//! role version those snapshots list, every version newer than what they
//! list (a pass may be writing it now, or a failed one left it and a later
//! commit will supersede it), every `N.root.json` (clients walk the root
//! chain from their trusted version) and every unversioned file.
//!
//! So a file is deleted only when a newer version of it is kept: versions
//! only go up, so no later pass can ever reference it again. That makes
//! the deletions safe beside running publish passes; the publisher lease
//! is held only while the plan is made (one sweeper at a time, after the
//! pass that holds it), then released, so publishing never waits on
//! deletions.

use super::{Ctx, Settings, WorkError};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The policy (service configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Snapshot generations kept (at least 1).
    pub keep_snapshots: u32,
    /// Snapshots superseded more recently than this are kept too.
    pub grace: Duration,
}

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    pub listed: usize,
    pub deleted: usize,
    /// The oldest snapshot version kept.
    pub oldest_snapshot: Option<i64>,
}

/// Most deletions one sweep makes (the next sweep goes on).
const MAX_DELETES: usize = 20_000;

/// `N.role.json` → `(role, N)`; `None` for unversioned files.
fn versioned(name: &str) -> Option<(&str, i64)> {
    let stem = name.strip_suffix(".json")?;
    let (version, role) = stem.split_once('.')?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) || role.is_empty() {
        return None;
    }
    Some((role, version.parse().ok()?))
}

/// The files to delete, given the listing, the snapshot versions kept and
/// the lowest version of each role they list.
fn plan(
    listing: &[rstuf_plugins::ObjectInfo],
    kept_snapshots: &BTreeSet<i64>,
    referenced: &BTreeMap<String, i64>,
) -> Vec<String> {
    let Some(&oldest) = kept_snapshots.iter().next() else {
        return Vec::new();
    };
    listing
        .iter()
        .filter(|o| match versioned(&o.name) {
            None | Some(("root", _)) => false,
            Some(("snapshot", v)) => v < oldest,
            // Kept: the listed version and anything newer; a role no kept
            // snapshot lists (a deleted role) keeps its few files.
            Some((role, v)) => referenced.get(role).is_some_and(|min| v < *min),
        })
        .map(|o| o.name.clone())
        .collect()
}

/// One sweep, when the policy is on and the lease is free.
pub async fn sweep(ctx: &Ctx, policy: Retention) -> Result<Option<Swept>, WorkError> {
    let Some(token) = ctx
        .store
        .acquire_publisher(&ctx.worker_id, ctx.lease)
        .await?
    else {
        return Ok(None);
    };
    let planned = make_plan(ctx, policy).await;
    let _ = ctx.store.release_publisher(&ctx.worker_id, token).await;
    let (mut swept, doomed) = planned?;
    for name in doomed.iter().take(MAX_DELETES) {
        if ctx
            .backends
            .storage
            .delete(name)
            .await
            .map_err(WorkError::plugin)?
        {
            swept.deleted += 1;
        }
    }
    if swept.deleted > 0 {
        tracing::info!(
            deleted = swept.deleted,
            oldest_snapshot = swept.oldest_snapshot,
            "retention: deleted old metadata versions"
        );
    }
    Ok(Some(swept))
}

async fn make_plan(ctx: &Ctx, policy: Retention) -> Result<(Swept, Vec<String>), WorkError> {
    let settings = Settings::load(&ctx.store).await?;
    let Some(committed) = settings.int("SNAPSHOT_VERSION") else {
        return Ok((Swept::default(), Vec::new()));
    };
    let storage = &ctx.backends.storage;
    let listing = storage.list_objects("").await.map_err(WorkError::plugin)?;
    let mut snapshots: Vec<(i64, Option<u64>)> = listing
        .iter()
        .filter_map(|o| match versioned(&o.name) {
            Some(("snapshot", v)) if v <= committed => Some((v, o.modified)),
            _ => None,
        })
        .collect();
    snapshots.sort();
    // Newest first: the K newest, then every one whose successor was
    // written within the grace period (or at an unknown time).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut kept = BTreeSet::new();
    let mut successor_written: Option<Option<u64>> = None;
    for (i, (v, modified)) in snapshots.iter().rev().enumerate() {
        let recent = match successor_written {
            None => true,
            Some(None) => !policy.grace.is_zero(),
            Some(Some(t)) => now.saturating_sub(t) < policy.grace.as_secs(),
        };
        if i < policy.keep_snapshots.max(1) as usize || recent {
            kept.insert(*v);
            successor_written = Some(*modified);
        } else {
            break;
        }
    }
    // The lowest version of each role the kept snapshots list.
    let mut referenced: BTreeMap<String, i64> = BTreeMap::new();
    for v in &kept {
        let name = format!("{v}.snapshot.json");
        let Some(bytes) = storage.get(&name).await.map_err(WorkError::plugin)? else {
            continue;
        };
        let doc: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| WorkError::Retry(format!("retention: {name} is not JSON: {e}")))?;
        let meta = doc
            .pointer("/signed/meta")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| WorkError::Retry(format!("retention: {name} has no signed.meta")))?;
        for (file, info) in meta {
            let (Some(role), Some(version)) = (
                file.strip_suffix(".json"),
                info.get("version").and_then(serde_json::Value::as_i64),
            ) else {
                continue;
            };
            referenced
                .entry(role.to_string())
                .and_modify(|m| *m = (*m).min(version))
                .or_insert(version);
        }
    }
    let doomed = plan(&listing, &kept, &referenced);
    Ok((
        Swept {
            listed: listing.len(),
            deleted: 0,
            oldest_snapshot: kept.iter().next().copied(),
        },
        doomed,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstuf_plugins::ObjectInfo;

    fn obj(name: &str) -> ObjectInfo {
        ObjectInfo {
            name: name.into(),
            size: 1,
            modified: Some(0),
        }
    }

    #[test]
    fn names_parse_as_versioned_or_not() {
        assert_eq!(versioned("12.bins-0a.json"), Some(("bins-0a", 12)));
        assert_eq!(versioned("3.my.role.json"), Some(("my.role", 3)));
        assert_eq!(versioned("timestamp.json"), None);
        assert_eq!(versioned("x1.targets.json"), None);
        assert_eq!(versioned("1.json"), None);
    }

    #[test]
    fn only_superseded_versions_go_and_root_never() {
        let listing: Vec<ObjectInfo> = [
            "1.root.json",
            "2.root.json",
            "timestamp.json",
            "1.snapshot.json",
            "2.snapshot.json",
            "3.snapshot.json",
            "4.snapshot.json",
            "1.targets.json",
            "2.targets.json",
            "1.bins-0.json",
            "2.bins-0.json",
            "3.bins-0.json",
            "9.bins-0.json",
            "1.bins-1.json",
            "5.gone.json",
        ]
        .iter()
        .map(|n| obj(n))
        .collect();
        let kept: BTreeSet<i64> = [3, 4].into();
        let referenced: BTreeMap<String, i64> = [
            ("targets".to_string(), 2),
            ("bins-0".to_string(), 2),
            ("bins-1".to_string(), 1),
        ]
        .into();
        let mut doomed = plan(&listing, &kept, &referenced);
        doomed.sort();
        assert_eq!(
            doomed,
            [
                "1.bins-0.json",
                "1.snapshot.json",
                "1.targets.json",
                "2.snapshot.json"
            ]
        );
        assert!(plan(&listing, &BTreeSet::new(), &referenced).is_empty());
    }
}

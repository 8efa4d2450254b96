//! The publisher: the only code that writes new metadata versions.
//!
//! One pass folds everything pending into one new version per touched
//! delegated role, one snapshot and one timestamp. Order keeps clients safe:
//! the versions are reserved first (a fenced commit of the highest number
//! each file name was ever given, so a file name is written by one pass
//! only), then role files and snapshot are written (nothing references them
//! yet), then the database commit (guarded by the publisher lease's fencing
//! token), then `timestamp.json`. A crash before the commit leaves the
//! published repository unchanged and the work pending, and the next pass
//! uses fresh version numbers; a crash after it leaves `timestamp.json` one
//! version behind, which the next pass (and start-up) repairs before doing
//! anything else.
//!
//! [`pass`] runs those steps as one function each, after [`plan`] decides
//! what the pass publishes: [`reserve`], [`build_and_sign`], [`write`],
//! [`commit`], [`write_committed_timestamp`].

use super::failpoint::failpoint;
use super::signer::OnlineKey;
use super::{Ctx, Settings, WorkError};
use chrono::Duration;
use rstuf_api::task::{TaskName, TaskResult};
use rstuf_store::{PublishCommit, Role, VersionRequest};
use rstuf_tuf::format::{expires_in, file_name, parse_time, to_file_bytes};
use rstuf_tuf::metadata::{parse_signed, Signed, Targets};
use rstuf_tuf::SPEC_VERSION;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// What a pass must do besides publishing pending artifacts.
#[derive(Debug, Default, Clone)]
pub struct PublishOptions {
    /// Delegated roles to re-sign even without changes (expiry, key change).
    pub force_roles: Vec<String>,
    /// Re-sign top-level targets.
    pub bump_targets: bool,
    /// Write a new snapshot and timestamp even if nothing else changed.
    pub force_snapshot: bool,
    /// A new top-level targets `signed` body (delegations changed); it is
    /// re-versioned, signed and committed with the pass. Implies
    /// `bump_targets`.
    pub targets_signed: Option<Value>,
    /// Offline-signed delegated roles (`{signatures, signed}`, threshold
    /// met) to publish with this pass.
    pub offline_signed: Vec<(String, Value)>,
    /// Settings committed atomically with the pass.
    pub settings: Vec<(String, Value)>,
    /// Delegated roles deleted with this pass.
    pub deactivate: Vec<String>,
}

impl PublishOptions {
    fn has_work(&self) -> bool {
        self.bump_targets
            || self.force_snapshot
            || self.targets_signed.is_some()
            || !self.offline_signed.is_empty()
            || !self.deactivate.is_empty()
    }
}

#[derive(Debug, Default, Clone)]
pub struct PublishOutcome {
    pub roles: Vec<String>,
    pub snapshot_version: Option<i64>,
}

/// Most objects in one `put-many` call.
const PUT_BATCH: usize = 256;

/// `put-many` calls in flight at once (each on its own plugin instance,
/// within the plugin's `max_instances`) while a pass writes its files. A
/// file system commits concurrent fsyncs together, one journal commit for
/// many files, where one call after another pays a commit per file; an
/// object store takes parallel uploads. The order among these files does
/// not matter: nothing references them until the timestamp, which is
/// written after all of them are durable.
const PUT_STREAMS: usize = 8;

/// One delegated role rebuilt and signed by a pass.
struct BuiltRole {
    role: Role,
    version: i64,
    /// The signed document.
    doc: Value,
    /// `(row id, last_update as read)` of the pending rows it publishes.
    published: Vec<(i64, chrono::NaiveDateTime)>,
    /// Pending rows it could not list (see [`publishable`]).
    rejected: Vec<rstuf_store::Rejected>,
    expires: chrono::NaiveDateTime,
    changes: Changes,
}

/// The target info of an artifact row, if a role can list it: the rules
/// clients enforce on load and canonical JSON (a float in `custom` would
/// make the whole role unsignable). Rows are checked when they enter, but
/// a row written around the API (upstream's `import-artifacts`, an older
/// version, a manual fix) must not stop every later pass: such a row is
/// set aside instead.
///
/// One repair is made: upstream's `rstuf admin import-artifacts` writes
/// each digest with the CSV line's newline still on it (it splits the
/// line without stripping it), which no client could ever match. A digest
/// that is hex once surrounding whitespace is trimmed is published
/// trimmed; anything else that breaks the rules is set aside.
fn publishable(row: &rstuf_store::FileRow) -> Result<Cow<'_, Value>, String> {
    let info = row.info.as_ref().map_err(Clone::clone)?;
    let Err(problem) = rstuf_tuf::schema::check_target_info(info) else {
        return Ok(Cow::Borrowed(info));
    };
    let mut trimmed = info.clone();
    let mut changed = false;
    if let Some(hashes) = trimmed.get_mut("hashes").and_then(Value::as_object_mut) {
        for digest in hashes.values_mut() {
            if let Some(d) = digest.as_str().filter(|d| d.trim() != *d) {
                *digest = Value::String(d.trim().to_string());
                changed = true;
            }
        }
    }
    if changed && rstuf_tuf::schema::check_target_info(&trimmed).is_ok() {
        return Ok(Cow::Owned(trimmed));
    }
    Err(problem.to_string())
}

/// Artifact paths a role's new version adds and removes.
#[derive(Debug, Default)]
struct Changes {
    added: Vec<String>,
    removed: Vec<String>,
}

/// Run one publish pass.
pub async fn publish(ctx: &Ctx, options: PublishOptions) -> Result<PublishOutcome, WorkError> {
    let _local = ctx.publish_lock.lock().await;
    let token = acquire_lease(ctx).await?;
    run_pass(ctx, token, options).await
}

/// Run a default publish pass if nobody is publishing right now; `None`
/// when another pass (in this process or elsewhere) holds the lease. Tasks
/// that only need their rows published use this to join the running pass
/// (group commit) instead of queueing behind it for the lease.
pub async fn publish_if_free(ctx: &Ctx) -> Result<Option<PublishOutcome>, WorkError> {
    let Ok(_local) = ctx.publish_lock.try_lock() else {
        return Ok(None);
    };
    match ctx
        .store
        .acquire_publisher(&ctx.worker_id, ctx.lease)
        .await?
    {
        Some(token) => run_pass(ctx, token, PublishOptions::default())
            .await
            .map(Some),
        None => Ok(None),
    }
}

/// A pass under the lease `token`, renewing it while the pass runs.
async fn run_pass(
    ctx: &Ctx,
    token: i64,
    options: PublishOptions,
) -> Result<PublishOutcome, WorkError> {
    let renew = {
        let store = ctx.store.clone();
        let holder = ctx.worker_id.clone();
        let lease = ctx.lease;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                if !matches!(store.renew_publisher(&holder, token, lease).await, Ok(true)) {
                    break;
                }
            }
        })
    };
    let result = pass(ctx, token, options).await;
    renew.abort();
    let _ = ctx.store.release_publisher(&ctx.worker_id, token).await;
    result
}

async fn acquire_lease(ctx: &Ctx) -> Result<i64, WorkError> {
    let deadline = Instant::now() + ctx.lease * 2;
    let mut delay = std::time::Duration::from_millis(20);
    loop {
        if let Some(token) = ctx
            .store
            .acquire_publisher(&ctx.worker_id, ctx.lease)
            .await?
        {
            return Ok(token);
        }
        if Instant::now() > deadline {
            return Err(WorkError::Retry(
                "another worker holds the publisher lease; will retry".into(),
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(std::time::Duration::from_millis(500));
    }
}

/// Has `timestamp.json` caught up with the committed state? A pass marks
/// its rows published when it commits, and writes `timestamp.json` just
/// after: until then, clients cannot see those rows yet.
pub async fn timestamp_written(ctx: &Ctx) -> Result<bool, WorkError> {
    let Some(wanted) = ctx
        .store
        .setting("TIMESTAMP_VERSION")
        .await?
        .and_then(|v| v.as_i64())
    else {
        return Ok(true);
    };
    Ok(stored_timestamp_version(ctx).await? >= wanted)
}

async fn stored_timestamp_version(ctx: &Ctx) -> Result<i64, WorkError> {
    Ok(ctx
        .backends
        .storage
        .get("timestamp.json")
        .await
        .map_err(WorkError::plugin)?
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.pointer("/signed/version").and_then(Value::as_i64))
        .unwrap_or(0))
}

/// Write `timestamp.json` if the database says a newer one was committed.
async fn repair_timestamp(
    ctx: &Ctx,
    settings: &Settings,
    online: &OnlineKey,
) -> Result<(), WorkError> {
    let Some(wanted) = settings.int("TIMESTAMP_VERSION") else {
        return Ok(());
    };
    let current = stored_timestamp_version(ctx).await?;
    if current >= wanted {
        return Ok(());
    }
    let snapshot_version = settings.int("SNAPSHOT_VERSION").unwrap_or(1);
    tracing::warn!(
        current,
        wanted,
        "timestamp.json is behind the committed state; rewriting it"
    );
    let expires = settings
        .str("TIMESTAMP_EXPIRES")
        .map(String::from)
        .unwrap_or_else(|| expires_in(ctx.clock.now(), settings.expiration("timestamp")));
    write_timestamp(ctx, online, wanted, snapshot_version, &expires).await
}

async fn write_timestamp(
    ctx: &Ctx,
    online: &OnlineKey,
    version: i64,
    snapshot_version: i64,
    expires: &str,
) -> Result<(), WorkError> {
    let signed = json!({
        "_type": "timestamp",
        "spec_version": SPEC_VERSION,
        "version": version,
        "expires": expires,
        "meta": { "snapshot.json": { "version": snapshot_version } },
    });
    let doc = online.sign_document(&ctx.backends, signed).await?;
    ctx.backends
        .storage
        .put("timestamp.json", &to_file_bytes(&doc))
        .await
        .map_err(WorkError::plugin)
}

/// The delegated-role document of `role` rebuilt from the database.
async fn build_role(
    ctx: &Ctx,
    online: &OnlineKey,
    role: Role,
    version: i64,
    settings: &Settings,
) -> Result<BuiltRole, WorkError> {
    let rows = ctx.store.role_files(role.id).await?;
    let mut targets = Map::new();
    let mut published = Vec::new();
    let mut rejected = Vec::new();
    let mut repaired = 0usize;
    let mut changes = Changes::default();
    // Only notifications need the paths: skip the copies otherwise.
    let announce = !ctx.outbox.is_empty();
    for row in &rows {
        if row.added {
            match publishable(row) {
                Ok(info) => {
                    repaired += usize::from(matches!(info, Cow::Owned(_)));
                    targets.insert(row.path.clone(), info.into_owned());
                }
                Err(reason) => {
                    tracing::warn!(
                        path = %row.path,
                        role = %role.rolename,
                        "artifact set aside: it cannot be published: {reason}"
                    );
                    rejected.push(rstuf_store::Rejected {
                        id: row.id,
                        path: row.path.clone(),
                        last_update: row.last_update,
                        reason,
                    });
                    continue;
                }
            }
        }
        if !row.published {
            published.push((row.id, row.last_update));
            if announce {
                let list = if row.added {
                    &mut changes.added
                } else {
                    &mut changes.removed
                };
                list.push(row.path.clone());
            }
        }
    }
    if repaired > 0 {
        tracing::warn!(
            role = %role.rolename,
            repaired,
            "artifact digests with surrounding whitespace (as upstream's import-artifacts writes them) published trimmed"
        );
    }
    let days = if role.rolename.starts_with("bins-") {
        settings.expiration("bins")
    } else {
        settings.expiration(&role.rolename)
    };
    let expires = expires_in(ctx.clock.now(), days);
    let signed = json!({
        "_type": "targets",
        "spec_version": SPEC_VERSION,
        "version": version,
        "expires": expires,
        "targets": targets,
    });
    let doc = online.sign_document(&ctx.backends, signed).await?;
    let expires = parse_time(&expires)
        .map(|t| t.naive_utc())
        .unwrap_or_default();
    Ok(BuiltRole {
        role,
        version,
        doc,
        published,
        rejected,
        expires,
        changes,
    })
}

/// What a pass publishes, decided before anything is reserved.
struct Plan {
    settings: Settings,
    online: OnlineKey,
    /// Delegated roles the online key re-signs, by name.
    roles: BTreeMap<String, Role>,
    /// The `signed` part of top-level targets as this pass publishes it.
    targets_signed: Value,
    /// Whether top-level targets gets a new version.
    bump_targets: bool,
}

/// Everything a pass built and signed: the files to write, and the
/// database commit that makes them current.
struct Built {
    files: Vec<(String, Vec<u8>)>,
    commit: PublishCommit,
    /// The new version of every delegated role the pass writes.
    roles: BTreeMap<String, i64>,
    announced: crate::notify::Published,
    targets_version: i64,
    snapshot_version: i64,
    snapshot_expires: String,
}

/// The `timestamp.json` a committed pass writes.
struct NextTimestamp {
    version: i64,
    expires: String,
}

/// One pass, in the five steps whose order keeps clients safe (see the
/// module docs): reserve, build and sign, write, commit, timestamp.
async fn pass(ctx: &Ctx, token: i64, options: PublishOptions) -> Result<PublishOutcome, WorkError> {
    let started = Instant::now();
    let Some(mut plan) = plan(ctx, &options).await? else {
        return Ok(PublishOutcome::default());
    };
    let versions = reserve(ctx, token, &plan, &options).await?;
    let roles = std::mem::take(&mut plan.roles);
    let mut built = build_and_sign(ctx, &plan, roles, &versions, &options).await?;
    write(ctx, token, &built.files).await?;
    let timestamp = commit(ctx, token, &plan, &mut built).await?;
    write_committed_timestamp(ctx, token, &plan.online, &timestamp, built.snapshot_version).await?;

    let roles: Vec<String> = built.roles.keys().cloned().collect();
    ctx.metrics.publish(roles.len(), started.elapsed());
    announce(ctx, &plan, built, timestamp.version);
    tracing::info!(
        roles = roles.len(),
        snapshot = versions["snapshot"],
        timestamp = timestamp.version,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "published"
    );
    Ok(PublishOutcome {
        roles,
        snapshot_version: Some(versions["snapshot"]),
    })
}

/// Decide what the pass publishes: every delegated role with pending
/// changes (and those `options` force), except roles signed by offline
/// keys, whose changes wait in `<role>_SIGNING` for their key holders.
/// `None` when there is nothing to do. Repairs a `timestamp.json` a
/// crashed pass left behind first.
async fn plan(ctx: &Ctx, options: &PublishOptions) -> Result<Option<Plan>, WorkError> {
    let settings = Settings::load(&ctx.store).await?;
    let online = OnlineKey::from_root(&settings.trusted_root()?["signed"])?;
    repair_timestamp(ctx, &settings, &online).await?;

    let mut roles: BTreeMap<String, Role> = ctx
        .store
        .roles_with_unpublished()
        .await?
        .into_iter()
        .map(|r| (r.rolename.clone(), r))
        .collect();
    let changed: BTreeSet<String> = roles.keys().cloned().collect();
    if !options.force_roles.is_empty() {
        let wanted: BTreeSet<&String> = options.force_roles.iter().collect();
        for r in ctx.store.active_roles().await? {
            if wanted.contains(&r.rolename) {
                roles.insert(r.rolename.clone(), r);
            }
        }
    }
    let targets_signed = options
        .targets_signed
        .clone()
        .or_else(|| {
            settings
                .get("TRUSTED_TARGETS")
                .and_then(|t| t.get("signed"))
                .cloned()
        })
        .unwrap_or(Value::Null);
    let offline = offline_roles_of(&targets_signed, &online.keyid);
    let gone: BTreeSet<&String> = options.deactivate.iter().collect();
    let mut waiting = Vec::new();
    roles.retain(|name, role| {
        if offline.contains(name) && changed.contains(name) {
            waiting.push(role.clone());
        }
        !offline.contains(name) && !gone.contains(name)
    });
    let pending_signing = offline_pending(ctx, &settings, &waiting).await?;
    if !pending_signing.is_empty() {
        ctx.store.put_settings(&pending_signing).await?;
    }
    if roles.is_empty() && !options.has_work() {
        return Ok(None);
    }
    Ok(Some(Plan {
        bump_targets: options.bump_targets || options.targets_signed.is_some(),
        settings,
        online,
        roles,
        targets_signed,
    }))
}

/// Step 1: reserve the version of every file name the pass writes (a
/// fenced commit before any write), so no file name is ever written by two
/// passes.
async fn reserve(
    ctx: &Ctx,
    token: i64,
    plan: &Plan,
    options: &PublishOptions,
) -> Result<BTreeMap<String, i64>, WorkError> {
    let mut requests: Vec<VersionRequest> = plan
        .roles
        .values()
        .map(|r| VersionRequest::next(&r.rolename, r.version + 1))
        .collect();
    for (name, doc) in &options.offline_signed {
        requests.push(VersionRequest {
            name: name.clone(),
            at_least: doc
                .pointer("/signed/version")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            exact: true,
        });
    }
    if plan.bump_targets {
        requests.push(VersionRequest::next(
            "targets",
            plan.settings.int("TARGETS_VERSION").unwrap_or(1) + 1,
        ));
    }
    requests.push(VersionRequest::next(
        "snapshot",
        plan.settings.int("SNAPSHOT_VERSION").unwrap_or(1) + 1,
    ));
    let Some(versions) = ctx
        .store
        .reserve_versions(&ctx.worker_id, token, &requests)
        .await?
    else {
        return Err(WorkError::Retry(
            "lost the publisher lease before writing; the pass will be redone".into(),
        ));
    };
    failpoint("publish-after-reserve");
    Ok(versions)
}

/// Step 2: build and sign the new version of every role the pass
/// publishes: the delegated roles (concurrently: the key vault pools
/// instances, each signature is one plugin call), the offline-signed
/// documents `options` brings, top-level targets when it changes, and the
/// snapshot listing them all.
async fn build_and_sign(
    ctx: &Ctx,
    plan: &Plan,
    roles: BTreeMap<String, Role>,
    versions: &BTreeMap<String, i64>,
    options: &PublishOptions,
) -> Result<Built, WorkError> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    let signed_roles: Vec<BuiltRole> = stream::iter(roles.into_values())
        .map(|role| {
            let version = versions[&role.rolename];
            build_role(ctx, &plan.online, role, version, &plan.settings)
        })
        .buffer_unordered(16)
        .try_collect()
        .await?;

    let mut files: Vec<(String, Vec<u8>)> = Vec::with_capacity(signed_roles.len() + 2);
    let mut commit = PublishCommit::default();
    let mut new_versions: BTreeMap<String, i64> = BTreeMap::new();
    let mut announced = crate::notify::Published::default();
    for b in signed_roles {
        files.push((
            file_name(&b.role.rolename, b.version as u64),
            to_file_bytes(&b.doc),
        ));
        commit.role_versions.push((b.role.id, b.version, b.expires));
        commit.published.extend(b.published);
        commit.rejected.extend(b.rejected);
        new_versions.insert(b.role.rolename.clone(), b.version);
        announced.added.extend(b.changes.added);
        announced.removed.extend(b.changes.removed);
    }
    for (name, doc) in &options.offline_signed {
        let (file, published, version_row) = offline_ready(ctx, name, doc).await?;
        files.push(file);
        commit.published.extend(published);
        commit.role_versions.push(version_row);
        commit
            .settings
            .push((crate::api::signing_key(name), Value::Null));
        new_versions.insert(name.clone(), version_row.1);
    }
    commit.settings.extend(options.settings.iter().cloned());
    commit.deactivate = options.deactivate.clone();

    let settings = &plan.settings;
    let mut targets_version = settings.int("TARGETS_VERSION").unwrap_or(1);
    if plan.bump_targets {
        let mut signed = plan.targets_signed.clone();
        if !signed.is_object() {
            return Err(WorkError::invalid("no trusted targets metadata"));
        }
        targets_version = versions["targets"];
        let expires = expires_in(ctx.clock.now(), settings.expiration("targets"));
        signed["version"] = json!(targets_version);
        signed["expires"] = json!(expires);
        let doc = plan.online.sign_document(&ctx.backends, signed).await?;
        files.push((
            file_name("targets", targets_version as u64),
            to_file_bytes(&doc),
        ));
        commit.settings.push(("TRUSTED_TARGETS".into(), doc));
        commit
            .settings
            .push(("TARGETS_VERSION".into(), json!(targets_version)));
        commit
            .settings
            .push(("TARGETS_EXPIRES".into(), json!(expires)));
    }

    // Snapshot: every published delegated role at its current version, and
    // every deleted one at the version it was last published at. Clients
    // refuse a snapshot that drops an entry their trusted snapshot lists
    // (spec §5.5.5; python-tuf: "New snapshot is missing info"), so a
    // deleted role's entry stays. Upstream pops it, and every python-tuf
    // client holding the previous snapshot then fails to update.
    let mut meta = Map::new();
    meta.insert("targets.json".into(), json!({ "version": targets_version }));
    let active = ctx.store.active_roles().await?;
    for r in active.into_iter().chain(ctx.store.deleted_roles().await?) {
        let version = new_versions.get(&r.rolename).copied().unwrap_or(r.version);
        if version >= 1 {
            meta.insert(
                format!("{}.json", r.rolename),
                json!({ "version": version }),
            );
        }
    }
    let snapshot_version = versions["snapshot"];
    let snapshot_expires = expires_in(ctx.clock.now(), settings.expiration("snapshot"));
    let snapshot = plan
        .online
        .sign_document(
            &ctx.backends,
            json!({
                "_type": "snapshot",
                "spec_version": SPEC_VERSION,
                "version": snapshot_version,
                "expires": snapshot_expires,
                "meta": meta,
            }),
        )
        .await?;
    files.push((
        file_name("snapshot", snapshot_version as u64),
        to_file_bytes(&snapshot),
    ));
    Ok(Built {
        files,
        commit,
        roles: new_versions,
        announced,
        targets_version,
        snapshot_version,
        snapshot_expires,
    })
}

/// Step 3: write the role files and the snapshot (nothing references them
/// yet). A publisher that stalled past its lease must not overwrite files
/// a newer pass wrote: the lease is checked (and extended) before each
/// batch.
async fn write(ctx: &Ctx, token: i64, files: &[(String, Vec<u8>)]) -> Result<(), WorkError> {
    for wave in files.chunks(PUT_BATCH * PUT_STREAMS) {
        if !ctx
            .store
            .renew_publisher(&ctx.worker_id, token, ctx.lease)
            .await?
        {
            return Err(WorkError::Retry(
                "lost the publisher lease while writing; the pass will be redone".into(),
            ));
        }
        put_unordered(ctx, wave).await?;
    }
    failpoint("publish-after-files");
    Ok(())
}

/// Write `files` atomically and durably, in up to [`PUT_STREAMS`]
/// concurrent `put-many` calls of at most [`PUT_BATCH`] objects, in no
/// particular order; the first failure is reported (the pass is redone).
pub(super) async fn put_unordered(ctx: &Ctx, files: &[(String, Vec<u8>)]) -> Result<(), WorkError> {
    let batch = files.len().div_ceil(PUT_STREAMS).clamp(1, PUT_BATCH);
    let storage = &ctx.backends.storage;
    let batches: Vec<&[(String, Vec<u8>)]> = files.chunks(batch).collect();
    for wave in batches.chunks(PUT_STREAMS) {
        // A plain loop, not an iterator adapter: the futures must stay
        // `Send` for every lifetime of `files` (see rust-lang/rust#102211).
        let mut calls = Vec::with_capacity(wave.len());
        for objects in wave {
            calls.push(storage.put_many(objects));
        }
        futures::future::try_join_all(calls)
            .await
            .map_err(WorkError::plugin)?;
    }
    Ok(())
}

/// Step 4: the database commit, fenced by the lease token: the new
/// versions become current, the rows they list published, and the
/// timestamp to write next is recorded (so a crash after this step is
/// repaired by the next pass).
async fn commit(
    ctx: &Ctx,
    token: i64,
    plan: &Plan,
    built: &mut Built,
) -> Result<NextTimestamp, WorkError> {
    let settings = &plan.settings;
    let timestamp = NextTimestamp {
        version: settings.int("TIMESTAMP_VERSION").unwrap_or(1) + 1,
        expires: expires_in(ctx.clock.now(), settings.expiration("timestamp")),
    };
    built.commit.audit = Some(audit_entry(ctx, token, plan, built, timestamp.version));
    let commit = &mut built.commit;
    commit
        .settings
        .push(("SNAPSHOT_VERSION".into(), json!(built.snapshot_version)));
    commit
        .settings
        .push(("SNAPSHOT_EXPIRES".into(), json!(built.snapshot_expires)));
    commit
        .settings
        .push(("TIMESTAMP_VERSION".into(), json!(timestamp.version)));
    commit
        .settings
        .push(("TIMESTAMP_EXPIRES".into(), json!(timestamp.expires)));
    if !ctx
        .store
        .commit_publish(&ctx.worker_id, token, commit)
        .await?
    {
        return Err(WorkError::Retry(
            "lost the publisher lease before committing; the pass will be redone".into(),
        ));
    }
    failpoint("publish-after-commit");
    Ok(timestamp)
}

/// The pass's audit entry: every version it writes, the key that signs
/// them, how many artifact rows it publishes or sets aside, and the
/// publisher lease's fencing token.
fn audit_entry(
    ctx: &Ctx,
    token: i64,
    plan: &Plan,
    built: &Built,
    timestamp_version: i64,
) -> rstuf_store::NewAuditEntry {
    let mut versions: BTreeMap<&str, i64> =
        built.roles.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    if plan.bump_targets {
        versions.insert("targets", built.targets_version);
    }
    versions.insert("snapshot", built.snapshot_version);
    versions.insert("timestamp", timestamp_version);
    let detail = json!({
        "versions": versions,
        "online_keyid": plan.online.keyid,
        "artifacts_published": built.commit.published.len(),
        "artifacts_rejected": built.commit.rejected.len(),
        "roles_deleted": built.commit.deactivate,
        "fencing_token": token,
        "publisher": ctx.worker_id,
    });
    crate::audit::entry(ctx.clock.now(), crate::audit::PUBLISH, None, &detail)
}

/// Step 5: `timestamp.json`, which makes the pass visible to clients. A
/// publisher that stalled past its lease after committing leaves it to the
/// next holder (which repairs it first) rather than overwrite a newer one.
async fn write_committed_timestamp(
    ctx: &Ctx,
    token: i64,
    online: &OnlineKey,
    timestamp: &NextTimestamp,
    snapshot_version: i64,
) -> Result<(), WorkError> {
    if ctx
        .store
        .renew_publisher(&ctx.worker_id, token, ctx.lease)
        .await?
    {
        write_timestamp(
            ctx,
            online,
            timestamp.version,
            snapshot_version,
            &timestamp.expires,
        )
        .await
    } else {
        tracing::warn!(
            timestamp = timestamp.version,
            "lost the publisher lease after committing; the next pass writes timestamp.json"
        );
        Ok(())
    }
}

/// Hand the committed pass to the notify plugins (when any is configured).
fn announce(ctx: &Ctx, plan: &Plan, built: Built, timestamp_version: i64) {
    if ctx.outbox.is_empty() {
        return;
    }
    let mut announced = built.announced;
    announced.roles = built.roles;
    if plan.bump_targets {
        announced
            .roles
            .insert("targets".into(), built.targets_version);
    }
    announced
        .roles
        .insert("snapshot".into(), built.snapshot_version);
    announced
        .roles
        .insert("timestamp".into(), timestamp_version);
    ctx.outbox
        .publish(announced.event(rstuf_tuf::format::format_time(ctx.clock.now())));
}

/// Custom roles whose keys are not just the online key (their new
/// versions are signed by their key holders).
pub fn offline_roles(settings: &Settings) -> BTreeSet<String> {
    let online = settings
        .trusted_root()
        .ok()
        .and_then(|r| r.pointer("/signed/roles/timestamp/keyids/0"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let targets = settings
        .get("TRUSTED_TARGETS")
        .and_then(|t| t.get("signed"))
        .cloned()
        .unwrap_or(Value::Null);
    offline_roles_of(&targets, &online)
}

/// [`offline_roles`] for a given targets `signed` body.
pub fn offline_roles_of(targets_signed: &Value, online_keyid: &str) -> BTreeSet<String> {
    targets_signed
        .pointer("/delegations/roles")
        .and_then(Value::as_array)
        .map(|roles| {
            roles
                .iter()
                .filter(|r| {
                    let keyids = r.get("keyids").and_then(Value::as_array);
                    !keyids.is_some_and(|k| k.len() == 1 && k[0].as_str() == Some(online_keyid))
                })
                .filter_map(|r| r.get("name").and_then(Value::as_str).map(String::from))
                .filter(|n| !n.starts_with("bins-"))
                .collect()
        })
        .unwrap_or_default()
}

/// The unsigned next version of an offline role, rebuilt from the
/// database, expiring in `days`. Its version is above every version ever
/// reserved for the role, so it never takes the name of a file an
/// interrupted pass may have written.
pub(super) async fn offline_draft(ctx: &Ctx, role: &Role, days: i64) -> Result<Value, WorkError> {
    let mut targets = Map::new();
    for row in ctx.store.role_files(role.id).await? {
        if row.added {
            match publishable(&row) {
                Ok(info) => {
                    targets.insert(row.path.clone(), info.into_owned());
                }
                Err(reason) => tracing::warn!(
                    path = %row.path,
                    role = %role.rolename,
                    "artifact left out of the signing draft: {reason}"
                ),
            }
        }
    }
    let reserved = ctx
        .store
        .reserved_versions(&[role.rolename.as_str()])
        .await?
        .get(&role.rolename)
        .copied()
        .unwrap_or(0);
    Ok(json!({
        "_type": "targets",
        "spec_version": SPEC_VERSION,
        "version": role.version.max(reserved) + 1,
        "expires": expires_in(ctx.clock.now(), days),
        "targets": targets,
    }))
}

/// `<role>_SIGNING` entries to (re)write for offline roles with unpublished
/// changes. A pending draft above the published version whose targets
/// already match is kept, with the signatures it has collected.
async fn offline_pending(
    ctx: &Ctx,
    settings: &Settings,
    roles: &[Role],
) -> Result<Vec<(String, Value)>, WorkError> {
    let mut out = Vec::new();
    for role in roles {
        let draft = offline_draft(ctx, role, settings.expiration(&role.rolename)).await?;
        let key = crate::api::signing_key(&role.rolename);
        // A pending draft with the same targets keeps its signatures, even
        // when a pass that tried to publish it failed and so burned its
        // version (the draft's own bytes are the only ones written there).
        let same = settings.get(&key).is_some_and(|p| {
            p.pointer("/signed/version")
                .and_then(Value::as_i64)
                .is_some_and(|v| v > role.version)
                && p.pointer("/signed/targets") == draft.get("targets")
        });
        if !same {
            out.push((key, json!({ "signatures": [], "signed": draft })));
        }
    }
    Ok(out)
}

/// An offline role whose signatures met its threshold: its file, the rows
/// it publishes (those whose state the signed document shows) and its new
/// version row.
async fn offline_ready(
    ctx: &Ctx,
    name: &str,
    doc: &Value,
) -> Result<
    (
        (String, Vec<u8>),
        Vec<(i64, chrono::NaiveDateTime)>,
        (i64, i64, chrono::NaiveDateTime),
    ),
    WorkError,
> {
    let role = ctx
        .store
        .role_by_name(name)
        .await?
        .filter(|r| r.active)
        .ok_or_else(|| WorkError::invalid(format!("{name} is not an active delegated role")))?;
    let signed = &doc["signed"];
    let typed: Targets = parse_signed(signed)
        .map_err(|e| WorkError::invalid(format!("{name} is not valid targets metadata: {e}")))?;
    // The schema keeps versions within i64.
    let version = i64::try_from(typed.version())
        .map_err(|_| WorkError::invalid(format!("{name}: version out of range")))?;
    if version <= role.version {
        return Err(WorkError::invalid(format!(
            "{name} v{version} cannot follow the published v{}",
            role.version
        )));
    }
    let expires = typed.expires().naive_utc();
    let empty = Map::new();
    let targets = signed
        .get("targets")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let published = ctx
        .store
        .role_files(role.id)
        .await?
        .into_iter()
        .filter(|row| !row.published)
        .filter(|row| {
            if row.added {
                publishable(row)
                    .ok()
                    .is_some_and(|info| targets.get(&row.path) == Some(&*info))
            } else {
                !targets.contains_key(&row.path)
            }
        })
        .map(|row| (row.id, row.last_update))
        .collect();
    Ok((
        (file_name(name, version as u64), to_file_bytes(doc)),
        published,
        (role.id, version, expires),
    ))
}

/// The periodic job: re-sign every online role that expires within
/// `hours_before_expire`, snapshot and timestamp included.
pub async fn bump_online_roles(ctx: &Ctx) -> Result<TaskResult, WorkError> {
    let settings = Settings::load(&ctx.store).await?;
    if settings.get("TRUSTED_ROOT").is_none()
        || settings.str("BOOTSTRAP").is_none_or(|b| b.contains('-'))
    {
        return Ok(TaskResult::ok(
            TaskName::BumpOnlineRoles,
            "Bootstrap not finished; nothing to bump",
            json!({}),
        ));
    }
    let horizon = ctx.clock.now() + Duration::hours(ctx.hours_before_expire);
    let near = |key: &str| {
        settings
            .str(key)
            .and_then(parse_time)
            .is_none_or(|t| t <= horizon)
    };
    let roles: Vec<String> = ctx
        .store
        .roles_expiring_before(horizon.naive_utc())
        .await?
        .into_iter()
        .filter(|r| r.version >= 1)
        .map(|r| r.rolename)
        .collect();
    let bump_targets = near("TARGETS_EXPIRES");
    let force_snapshot = near("SNAPSHOT_EXPIRES") || near("TIMESTAMP_EXPIRES");
    if roles.is_empty() && !bump_targets && !force_snapshot {
        return Ok(TaskResult::ok(
            TaskName::BumpOnlineRoles,
            "No online roles near expiry",
            json!({ "updated_roles": [] }),
        ));
    }
    let outcome = publish(
        ctx,
        PublishOptions {
            force_roles: roles,
            bump_targets,
            force_snapshot: true,
            ..Default::default()
        },
    )
    .await?;
    let mut updated = vec!["snapshot".to_string(), "timestamp".to_string()];
    if bump_targets {
        updated.push("targets".into());
    }
    updated.extend(outcome.roles);
    Ok(TaskResult::ok(
        TaskName::BumpOnlineRoles,
        "Online roles bumped",
        json!({ "updated_roles": updated }),
    ))
}

/// `POST /metadata/online`: new versions of the requested online roles.
pub async fn force_online(ctx: &Ctx, payload: &Value) -> Result<TaskResult, WorkError> {
    let requested = rstuf_api::requests::OnlinePayload::deserialize(payload)
        .map_err(|e| WorkError::invalid(format!("the request is malformed: {e}")))?
        .roles;
    let mut force_roles = Vec::new();
    let bump_targets = requested.iter().any(|r| r == "targets");
    for role in &requested {
        match role.as_str() {
            "snapshot" | "timestamp" | "targets" | "root" => {}
            "bins" => force_roles.extend(
                ctx.store
                    .active_roles()
                    .await?
                    .into_iter()
                    .filter(|r| r.version >= 1)
                    .map(|r| r.rolename),
            ),
            other => force_roles.push(other.to_string()),
        }
    }
    let outcome = publish(
        ctx,
        PublishOptions {
            force_roles,
            bump_targets,
            force_snapshot: true,
            ..Default::default()
        },
    )
    .await?;
    let mut updated = vec!["snapshot".to_string(), "timestamp".to_string()];
    if bump_targets {
        updated.push("targets".into());
    }
    updated.extend(outcome.roles);
    Ok(TaskResult::ok(
        TaskName::ForceOnlineMetadataUpdate,
        "Force new online metadata update succeeded",
        json!({ "updated_roles": updated }),
    ))
}

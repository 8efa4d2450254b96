//! The store against both backends it supports: an SQLite file and the real
//! PostgreSQL server on 127.0.0.1:5432 (a scratch database per test).

use chrono::{Duration, Utc};
use rstuf_store::{NewFile, NewRole, NewTask, PublishCommit, Store, VersionRequest};
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use std::time::Duration as StdDuration;

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh PostgreSQL database; fails (does not skip) when the server is down.
async fn postgres_url() -> String {
    let name = format!("rstuf_store_{}", uuid_like());
    let admin = Database::connect(PG_ADMIN)
        .await
        .expect("PostgreSQL must be running on 127.0.0.1:5432 (see .ci/run)");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    format!("postgres://postgres@127.0.0.1:5432/{name}")
}

fn uuid_like() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    )
}

async fn stores() -> Vec<(Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}/t.db", dir.path().display()))
        .await
        .unwrap();
    let pg = Store::connect(&postgres_url().await).await.unwrap();
    vec![(sqlite, dir), (pg, tempfile::tempdir().unwrap())]
}

#[tokio::test]
async fn migrations_are_idempotent_and_accept_upstream_tables() {
    // Upstream's alembic DDL created the tables first.
    let url = postgres_url().await;
    let raw = Database::connect(&url).await.unwrap();
    for sql in [
        "CREATE TABLE rstuf_target_roles (id SERIAL PRIMARY KEY, rolename VARCHAR NOT NULL, expires TIMESTAMP NOT NULL, version INTEGER NOT NULL, active BOOLEAN NOT NULL, last_update TIMESTAMP)",
        "CREATE UNIQUE INDEX ix_rstuf_target_roles_rolename ON rstuf_target_roles (rolename)",
        "CREATE TYPE targetaction AS ENUM ('ADD', 'REMOVE')",
        "CREATE TABLE rstuf_target_files (id SERIAL PRIMARY KEY, path VARCHAR NOT NULL, info JSON NOT NULL, published BOOLEAN NOT NULL, action targetaction NOT NULL, last_update TIMESTAMP, targets_role INTEGER REFERENCES rstuf_target_roles(id))",
        "CREATE UNIQUE INDEX ix_rstuf_target_files_path ON rstuf_target_files (path)",
    ] {
        raw.execute_unprepared(sql).await.unwrap();
    }
    Store::connect(&url).await.unwrap();
    let store = Store::connect(&url).await.unwrap();
    store.put_settings(&[("K".into(), json!(1))]).await.unwrap();
    assert_eq!(store.setting("K").await.unwrap(), Some(json!(1)));
}

#[tokio::test]
async fn settings_and_the_bootstrap_lock() {
    for (store, _dir) in stores().await {
        assert_eq!(store.setting("BOOTSTRAP").await.unwrap(), None);
        let stamped = store.lock_bootstrap("a1").await.unwrap().unwrap();
        assert_eq!(
            store.lock_bootstrap("b2").await.unwrap(),
            Err(Some("pre-a1".into()))
        );
        // A worker claims the lock: the watchdog's stamped release then
        // fails, the task's own release still works.
        tokio::time::sleep(StdDuration::from_millis(2)).await;
        assert!(store.claim_bootstrap("a1").await.unwrap());
        assert!(!store.claim_bootstrap("zz").await.unwrap());
        assert!(!store.unlock_bootstrap("a1", Some(stamped)).await.unwrap());
        assert_eq!(
            store.setting("BOOTSTRAP").await.unwrap(),
            Some(json!("pre-a1"))
        );
        assert!(store.unlock_bootstrap("a1", None).await.unwrap());
        // Unclaimed, the watchdog's release works, and a late worker can
        // no longer claim.
        let stamped = store.lock_bootstrap("b2").await.unwrap().unwrap();
        assert!(store.unlock_bootstrap("b2", Some(stamped)).await.unwrap());
        assert!(!store.claim_bootstrap("b2").await.unwrap());
        assert!(!store.unlock_bootstrap("b2", None).await.unwrap());
        store
            .put_settings(&[("BOOTSTRAP".into(), serde_json::Value::Null)])
            .await
            .unwrap();
        assert!(store.lock_bootstrap("c3").await.unwrap().is_ok());
        store
            .put_settings(&[
                ("ROOT_EXPIRATION".into(), json!(365)),
                ("TRUSTED_ROOT".into(), json!({"signed": {}})),
            ])
            .await
            .unwrap();
        let all = store.settings().await.unwrap();
        assert_eq!(all["ROOT_EXPIRATION"], json!(365));
        assert_eq!(all["BOOTSTRAP"], json!("pre-c3"));
    }
}

#[tokio::test]
async fn artifacts_flow_through_add_remove_and_guarded_publish() {
    for (store, _dir) in stores().await {
        let expires = Utc::now().naive_utc() + Duration::days(1);
        store
            .create_roles(&[
                NewRole {
                    rolename: "bins-0".into(),
                    version: 1,
                    expires,
                },
                NewRole {
                    rolename: "bins-1".into(),
                    version: 1,
                    expires,
                },
            ])
            .await
            .unwrap();
        let b0 = store.role_by_name("bins-0").await.unwrap().unwrap();
        let info = |n: u64| json!({"length": n, "hashes": {"sha256": "ab"}});
        let files: Vec<NewFile> = (0..3)
            .map(|i| NewFile {
                path: format!("f{i}"),
                info: info(i),
                role_id: b0.id,
            })
            .collect();
        store.upsert_files(&files).await.unwrap();
        assert_eq!(store.roles_with_unpublished().await.unwrap().len(), 1);
        let rows = store.role_files(b0.id).await.unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.added && !r.published));

        // A row re-added while the pass runs keeps its pending state.
        tokio::time::sleep(StdDuration::from_millis(5)).await;
        store
            .upsert_files(&[NewFile {
                path: "f0".into(),
                info: info(99),
                role_id: b0.id,
            }])
            .await
            .unwrap();
        let token = store
            .acquire_publisher("w1", StdDuration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        let commit = PublishCommit {
            role_versions: vec![(b0.id, 2, expires)],
            published: rows.iter().map(|r| (r.id, r.last_update)).collect(),
            settings: vec![("SNAPSHOT_VERSION".into(), json!(2))],
            deactivate: vec!["bins-1".into()],
            ..Default::default()
        };
        assert!(store.commit_publish("w1", token, &commit).await.unwrap());
        assert!(
            !store.role_by_name("bins-1").await.unwrap().unwrap().active,
            "a deleted delegation is deactivated in the same transaction"
        );
        assert!(store.role_by_name("bins-0").await.unwrap().unwrap().active);
        let after = store.role_files(b0.id).await.unwrap();
        assert!(
            !after.iter().find(|r| r.path == "f0").unwrap().published,
            "re-added row stays pending"
        );
        assert!(after.iter().filter(|r| r.path != "f0").all(|r| r.published));
        assert_eq!(
            store.role_by_name("bins-0").await.unwrap().unwrap().version,
            2
        );
        assert!(!store
            .all_published(&["f0".into(), "f1".into()])
            .await
            .unwrap());
        assert!(store
            .all_published(&["f1".into(), "f2".into()])
            .await
            .unwrap());

        // Identical re-add of a published row does not make it pending again.
        store
            .upsert_files(&[NewFile {
                path: "f1".into(),
                info: info(1),
                role_id: b0.id,
            }])
            .await
            .unwrap();
        assert!(store.all_published(&["f1".into()]).await.unwrap());

        let (removed, missing) = store
            .mark_removed(&["f1".into(), "nope".into()])
            .await
            .unwrap();
        assert_eq!(
            (removed, missing),
            (vec!["f1".to_string()], vec!["nope".to_string()])
        );
        let rows = store.role_files(b0.id).await.unwrap();
        assert!(!rows.iter().find(|r| r.path == "f1").unwrap().added);
    }
}

#[tokio::test]
async fn a_stale_fencing_token_commits_nothing() {
    for (store, _dir) in stores().await {
        let t1 = store
            .acquire_publisher("a", StdDuration::from_millis(1))
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(StdDuration::from_millis(20)).await;
        let t2 = store
            .acquire_publisher("b", StdDuration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        assert!(t2 > t1);
        assert_eq!(
            store
                .acquire_publisher("a", StdDuration::from_secs(30))
                .await
                .unwrap(),
            None,
            "lease held by b"
        );
        let commit = PublishCommit {
            settings: vec![("SNAPSHOT_VERSION".into(), json!(9))],
            ..Default::default()
        };
        assert!(!store.commit_publish("a", t1, &commit).await.unwrap());
        assert_eq!(store.setting("SNAPSHOT_VERSION").await.unwrap(), None);
        assert!(store.commit_publish("b", t2, &commit).await.unwrap());
        assert_eq!(
            store.setting("SNAPSHOT_VERSION").await.unwrap(),
            Some(json!(9))
        );
    }
}

/// A task's artifact changes apply once: delivered again after a later
/// task changed the same path, it changes nothing (and a removal reports
/// its first outcome again).
#[tokio::test]
async fn a_redelivered_task_does_not_apply_its_changes_twice() {
    for (store, _dir) in stores().await {
        let expires = (Utc::now() + Duration::days(1)).naive_utc();
        store
            .create_roles(&[NewRole {
                rolename: "bins-0".into(),
                version: 1,
                expires,
            }])
            .await
            .unwrap();
        let role_id = store.role_by_name("bins-0").await.unwrap().unwrap().id;
        let file = |n: u64| NewFile {
            path: "pkg.tgz".into(),
            info: json!({"length": n, "hashes": {"sha256": "ab"}}),
            role_id,
        };
        let add = "a".repeat(32);
        let remove = "b".repeat(32);
        assert!(store.upsert_files_once(&add, &[file(1)]).await.unwrap());
        let first = store
            .mark_removed_once(&remove, &["pkg.tgz".into()])
            .await
            .unwrap();
        assert_eq!(first, (vec!["pkg.tgz".to_string()], vec![]));
        // The add is delivered again: the removal stands.
        assert!(!store.upsert_files_once(&add, &[file(1)]).await.unwrap());
        let rows = store.role_files(role_id).await.unwrap();
        assert!(!rows[0].added, "the later removal stands");
        // A newer add, then the removal delivered again: the add stands and
        // the removal says what it said the first time.
        assert!(store
            .upsert_files_once(&"c".repeat(32), &[file(2)])
            .await
            .unwrap());
        let again = store
            .mark_removed_once(&remove, &["pkg.tgz".into()])
            .await
            .unwrap();
        assert_eq!(again, first);
        let rows = store.role_files(role_id).await.unwrap();
        assert!(rows[0].added && rows[0].info.as_ref().unwrap()["length"] == 2);
        // Claims are forgotten after the retention time.
        assert_eq!(
            store
                .purge_applied_before((Utc::now() + Duration::seconds(1)).naive_utc())
                .await
                .unwrap(),
            3
        );
    }
}

/// Versions handed to a pass are never handed out again, even if the pass
/// never commits; fixed versions are recorded but not moved; a stale token
/// reserves nothing.
#[tokio::test]
async fn reserved_versions_are_never_handed_out_twice() {
    for (store, _dir) in stores().await {
        let t1 = store
            .acquire_publisher("a", StdDuration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        let many: Vec<VersionRequest> = (0..1200)
            .map(|i| VersionRequest::next(format!("bins-{i:04x}"), 2))
            .chain([
                VersionRequest::next("snapshot", 5),
                VersionRequest::next("snapshot", 4),
            ])
            .collect();
        let first = store
            .reserve_versions("a", t1, &many)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.len(), 1201);
        assert_eq!(first["bins-0000"], 2);
        assert_eq!(first["snapshot"], 5);
        // The pass dies; the next one starts from the same committed state.
        let again = store
            .reserve_versions(
                "a",
                t1,
                &[
                    VersionRequest::next("bins-0000", 2),
                    VersionRequest::next("bins-04af", 2),
                    VersionRequest::next("targets", 2),
                ],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again["bins-0000"], 3);
        assert_eq!(again["bins-04af"], 3);
        assert_eq!(again["targets"], 2);
        // A committed version above the reservations wins.
        let ahead = store
            .reserve_versions("a", t1, &[VersionRequest::next("bins-0000", 10)])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ahead["bins-0000"], 10);
        // An offline-signed document keeps its version.
        let exact = VersionRequest {
            name: "release".into(),
            at_least: 4,
            exact: true,
        };
        for _ in 0..2 {
            let fixed = store
                .reserve_versions("a", t1, std::slice::from_ref(&exact))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(fixed["release"], 4);
        }
        let marks = store
            .reserved_versions(&["bins-0000", "release", "unknown"])
            .await
            .unwrap();
        assert_eq!(marks.get("bins-0000"), Some(&10));
        assert_eq!(marks.get("release"), Some(&4));
        assert_eq!(marks.get("unknown"), None);
        // Someone else took the lease: nothing is reserved with the old token.
        tokio::time::sleep(StdDuration::from_millis(5)).await;
        store.release_publisher("a", t1).await.unwrap();
        let t2 = store
            .acquire_publisher("b", StdDuration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .reserve_versions("a", t1, &[VersionRequest::next("bins-0000", 1)])
                .await
                .unwrap(),
            None
        );
        let next = store
            .reserve_versions("b", t2, &[VersionRequest::next("bins-0000", 1)])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next["bins-0000"], 11);
    }
}

#[tokio::test]
async fn concurrent_claims_never_share_a_task_and_expired_leases_are_redelivered() {
    for (store, _dir) in stores().await {
        for i in 0..40 {
            let task_id = format!("{i:032x}");
            store
                .enqueue(&NewTask {
                    task_id,
                    action: "add_artifacts".into(),
                    queue: "metadata_repository".into(),
                    payload: Some(json!({"i": i})),
                    max_attempts: 5,
                })
                .await
                .unwrap();
        }
        assert_eq!(store.queue_depth().await.unwrap(), 40);
        let mut handles = Vec::new();
        for w in 0..8 {
            let s = store.clone();
            handles.push(tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(t) = s
                    .claim(&format!("w{w}"), StdDuration::from_secs(60))
                    .await
                    .unwrap()
                {
                    got.push(t.task_id);
                }
                got
            }));
        }
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.await.unwrap());
        }
        all.sort();
        let before = all.len();
        all.dedup();
        assert_eq!(before, 40, "every task claimed");
        assert_eq!(all.len(), 40, "no task claimed twice");

        // A worker dies holding a task: its lease expires and it comes back.
        store
            .enqueue(&NewTask {
                task_id: "f".repeat(32),
                action: "bootstrap".into(),
                queue: "q".into(),
                payload: None,
                max_attempts: 5,
            })
            .await
            .unwrap();
        let t = store
            .claim("dying", StdDuration::from_millis(1))
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(StdDuration::from_millis(20)).await;
        let again = store
            .claim("survivor", StdDuration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.task_id, t.task_id);
        assert_eq!(again.attempts, 2);
        assert!(!store
            .extend_lease(&t.task_id, "dying", StdDuration::from_secs(5))
            .await
            .unwrap());

        // Repeated failures end in FAILURE with the error kept.
        let mut state = String::new();
        for _ in 0..5 {
            state = store
                .retry_or_fail(&t.task_id, "storage unavailable", StdDuration::ZERO)
                .await
                .unwrap();
            if state == "FAILURE" {
                break;
            }
            store
                .claim("survivor", StdDuration::from_secs(60))
                .await
                .unwrap()
                .unwrap();
        }
        assert_eq!(state, "FAILURE");
        let dead = store.task(&t.task_id).await.unwrap().unwrap();
        assert_eq!(dead.result, Some(json!({"message": "storage unavailable"})));

        // The configured number of runs is the task's: with 2, the second
        // failure is final.
        store
            .enqueue(&NewTask {
                task_id: "2".repeat(32),
                action: "add_artifacts".into(),
                queue: "q".into(),
                payload: None,
                max_attempts: 2,
            })
            .await
            .unwrap();
        let mut states = Vec::new();
        for _ in 0..2 {
            let t = store
                .claim("survivor", StdDuration::from_secs(60))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(t.task_id, "2".repeat(32));
            assert_eq!(t.max_attempts, 2);
            states.push(
                store
                    .retry_or_fail(&t.task_id, "storage unavailable", StdDuration::ZERO)
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(states, ["RETRY", "FAILURE"]);
    }
}

#[tokio::test]
async fn bulk_upsert_of_100k_rows() {
    for (store, _dir) in stores().await {
        let expires = Utc::now().naive_utc() + Duration::days(1);
        let roles: Vec<NewRole> = (0..256)
            .map(|i| NewRole {
                rolename: format!("bins-{i:02x}"),
                version: 1,
                expires,
            })
            .collect();
        let started = std::time::Instant::now();
        store.create_roles(&roles).await.unwrap();
        let role_ids: Vec<i64> = store
            .active_roles()
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        let files: Vec<NewFile> = (0..100_000)
            .map(|i| NewFile {
                path: format!("pkg/{i}/artifact-{i}.tar.gz"),
                info: json!({"length": i, "hashes": {"sha256": format!("{i:064x}")}}),
                role_id: role_ids[i % role_ids.len()],
            })
            .collect();
        let t = std::time::Instant::now();
        store.upsert_files(&files).await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        eprintln!(
            "{}: 256 roles in {:?}; 100k artifact upsert in {secs:.2}s ({:.0} rows/s)",
            if store.is_postgres() {
                "postgres"
            } else {
                "sqlite"
            },
            t.duration_since(started),
            100_000.0 / secs
        );
        assert_eq!(store.pending_files().await.unwrap(), 100_000);
    }
}

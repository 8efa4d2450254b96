//! Two workers (two services on one database and one metadata directory,
//! as two processes would be) publish at the same time, with add tasks
//! arriving through both APIs and forced passes on both sides. The
//! publisher lease and its fencing token must serialize them: every
//! snapshot ever written points only to role versions that exist, role
//! versions only go up, and the final repository verifies with every
//! artifact present. On SQLite and on PostgreSQL.

use rstuf_host::worker::{publish, PublishOptions};
use rstuf_tests::service::{artifact, config_for, start_with};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn read(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_publishers_never_publish_inconsistent_metadata() {
    race(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_publishers_on_postgresql() {
    let db = rstuf_tests::cluster::ScratchDb::create("rstuf_race");
    race(Some(&db.url())).await;
}

async fn race(database: Option<&str>) {
    let env = |worker: &'static str| -> Vec<(&str, &str)> {
        let mut env = vec![("RSTUF_WORKER_ID", worker)];
        if let Some(url) = database {
            env.push(("RSTUF_DB_SERVER", url));
        }
        env
    };
    let a = start_with(&env("worker-a")).await;
    let payload = a.ceremony(&["--bins", "8"]);
    a.run("/api/v1/bootstrap/", &payload).await;
    let b = rstuf_host::service::start(config_for(a.dir.path(), &env("worker-b")), a.clock.clone())
        .await
        .unwrap();
    let b_base = format!("http://{}", b.addr.unwrap());

    let mut submitted = Vec::new();
    let mut forced = Vec::new();
    for i in 0..24 {
        let base = if i % 2 == 0 { &a.base } else { &b_base };
        let r: Value = a
            .http
            .post(format!("{base}/api/v1/artifacts/"))
            .json(&json!({ "artifacts": [artifact(&format!("race/{i}.tgz"), i)] }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        submitted.push(r["data"]["task_id"].as_str().unwrap().to_string());
        let ctx = if i % 2 == 0 {
            a.service.ctx.clone()
        } else {
            b.ctx.clone()
        };
        forced.push(tokio::spawn(async move {
            publish(
                &ctx,
                PublishOptions {
                    force_snapshot: true,
                    ..Default::default()
                },
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
        }));
    }
    for f in forced {
        // A forced pass may give up waiting for the lease (then it is
        // retried as a task would be); it must never corrupt anything.
        let _ = f.await.unwrap();
    }
    for id in &submitted {
        let done = a.wait(id).await;
        assert_eq!(done["state"], "SUCCESS", "{done}");
    }

    let dir = a.dir.path().join("data/metadata");
    let mut snapshots = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if let Some(v) = name.strip_suffix(".snapshot.json") {
            snapshots.insert(v.parse::<i64>().unwrap(), read(&dir.join(&name)));
        }
    }
    let timestamp = read(&dir.join("timestamp.json"));
    let current = timestamp["signed"]["meta"]["snapshot.json"]["version"]
        .as_i64()
        .unwrap();
    assert!(snapshots.contains_key(&current));
    // Versions may skip (a pass that failed after reserving burns its
    // numbers); every snapshot written must be sound, in order.
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for (v, snap) in snapshots.range(..=current) {
        assert_eq!(snap["signed"]["version"], *v);
        for (file, meta) in snap["signed"]["meta"].as_object().unwrap() {
            let role = file.strip_suffix(".json").unwrap();
            let version = meta["version"].as_i64().unwrap();
            let role_file = dir.join(format!("{version}.{role}.json"));
            assert!(
                role_file.exists(),
                "snapshot v{v} points to missing {role_file:?}"
            );
            assert_eq!(read(&role_file)["signed"]["version"], version);
            let previous = last.insert(role.to_string(), version).unwrap_or(0);
            assert!(
                version >= previous,
                "{role} went back from v{previous} to v{version}"
            );
        }
    }
    let paths: Vec<String> = (0..24).map(|i| format!("race/{i}.tgz")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    a.verify(&refs, &[], None).await;
    audit_chain_is_whole(&a, &snapshots, current).await;
    b.shutdown().await;
    a.service.shutdown().await;
}

/// Two processes appended to the audit log at once: one chain without gaps,
/// one `publish` entry per committed snapshot version.
async fn audit_chain_is_whole(
    svc: &rstuf_tests::service::TestService,
    snapshots: &BTreeMap<i64, Value>,
    current: i64,
) {
    use rstuf_api::audit::{AuditPage, Verifier};
    let mut verifier = Verifier::new(None);
    let mut published = Vec::new();
    let mut after = 0;
    let head = loop {
        let (status, body) = svc
            .get(&format!("/api/v1/audit/?after={after}&limit=7"))
            .await;
        assert_eq!(status, 200, "{body}");
        let page: AuditPage = serde_json::from_value(body["data"].clone()).unwrap();
        for entry in &page.entries {
            verifier
                .feed(entry)
                .unwrap_or_else(|b| panic!("{b}: {entry:?}"));
            if entry.action == "publish" {
                published.push(entry.detail["versions"]["snapshot"].as_i64().unwrap());
            }
        }
        match page.next_after {
            Some(next) => after = next,
            None => break page.head,
        }
    };
    verifier.finish(&head).unwrap();
    // Committed passes only: a pass that wrote its files and then lost the
    // lease left a snapshot file but no entry.
    let mut sorted = published.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        published.len(),
        "a snapshot version committed twice: {published:?}"
    );
    for v in &published {
        assert!(
            snapshots.contains_key(v),
            "publish entry for unwritten snapshot v{v}"
        );
    }
    assert_eq!(
        sorted.last(),
        Some(&current),
        "the current snapshot's pass has no entry"
    );
}

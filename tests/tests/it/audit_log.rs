//! The audit log against a real embedded service, on SQLite and on the
//! machine's PostgreSQL: a bootstrap, an add, a remove, a settings change
//! and their publish passes each leave an entry (task id, versions written,
//! online key); `rstuf admin audit verify` finds the chain intact, then
//! names the first entry after a row is edited in the database, after the
//! last rows are cut off with the head rewritten to match (caught with a
//! head recorded earlier), and after a row is deleted. Also: paging, bad
//! query parameters, and the `read:audit` token scope.

use rstuf_tests::cli::{rstuf, rstuf_env, Run};
use rstuf_tests::cluster::ScratchDb;
use rstuf_tests::service::{artifact, start_with, TestService};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Runs one SQL statement against the service's database.
type Sql<'a> = &'a dyn Fn(&str) -> String;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_on_sqlite_detects_an_edited_a_truncated_and_a_deleted_row() {
    let svc = start_with(&[]).await;
    let db = svc.dir.path().join("data/rstuf.db");
    let sql = move |statement: &str| {
        rstuf_tests::python(
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             rows = c.execute(sys.argv[2]).fetchall()\n\
             c.commit()\n\
             print('\\n'.join('|'.join(str(v) for v in r) for r in rows))",
            &[db.to_str().unwrap(), statement],
        )
        .trim()
        .to_string()
    };
    scenario(&svc, &sql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_on_postgresql_detects_an_edited_a_truncated_and_a_deleted_row() {
    let db = ScratchDb::create("rstuf_audit");
    let svc = start_with(&[("RSTUF_DB_SERVER", &db.url())]).await;
    let sql = |statement: &str| db.sql(statement).trim().to_string();
    scenario(&svc, &sql).await;
}

async fn verify(svc: &TestService, extra: &[&str]) -> Run {
    let mut args = vec!["admin", "audit", "verify"];
    args.extend_from_slice(extra);
    rstuf(svc, &args).await
}

fn assert_broken(run: &Run, text: &str) {
    assert_eq!(run.code, 5, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(text),
        "expected '{text}' in: {}{}",
        run.stdout,
        run.stderr
    );
}

fn intact(run: &Run) -> Value {
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

async fn entries(svc: &TestService) -> Vec<Value> {
    let (status, body) = svc.get("/api/v1/audit/?limit=1000").await;
    assert_eq!(status, 200, "{body}");
    body["data"]["entries"].as_array().unwrap().clone()
}

/// Wait until an entry matching `want` is in the log.
async fn entry_where(svc: &TestService, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(e) = entries(svc).await.into_iter().find(|e| want(e)) {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "no such audit entry: {:?}",
            entries(svc).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn scenario(svc: &TestService, sql: Sql<'_>) {
    let payload = svc.ceremony(&["--bins", "4"]);
    let online_keyid = payload["metadata"]["root"]["signed"]["roles"]["timestamp"]["keyids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let bootstrap = svc.submit("/api/v1/bootstrap/", &payload).await;
    assert_eq!(svc.wait(&bootstrap).await["state"], "SUCCESS");
    let add = svc
        .submit(
            "/api/v1/artifacts/",
            &json!({ "artifacts": [artifact("a/one.tgz", 3)] }),
        )
        .await;
    assert_eq!(svc.wait(&add).await["state"], "SUCCESS");
    let published = entry_where(svc, |e| {
        e["action"] == "publish" && e["detail"]["artifacts_published"].as_u64() >= Some(1)
    })
    .await;
    let remove = svc
        .submit(
            "/api/v1/artifacts/delete",
            &json!({ "artifacts": ["a/one.tgz"] }),
        )
        .await;
    assert_eq!(svc.wait(&remove).await["state"], "SUCCESS");
    let (status, body) = svc
        .put(
            "/api/v1/config/",
            &json!({ "settings": { "expiration": { "timestamp": 2 } } }),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let settings = body["data"]["task_id"].as_str().unwrap().to_string();
    assert_eq!(svc.wait(&settings).await["state"], "SUCCESS");

    // What the entries say.
    let of_task = |id: &str| {
        let id = id.to_string();
        move |e: &Value| e["task_id"] == id.as_str()
    };
    let b = entry_where(svc, of_task(&bootstrap)).await;
    assert_eq!(b["action"], "bootstrap");
    assert_eq!(b["detail"]["state"], "SUCCESS");
    assert_eq!(b["detail"]["root_version"], 1);
    let a = entry_where(svc, of_task(&add)).await;
    assert_eq!(a["action"], "add_artifacts");
    assert!(
        a["detail"]["details"].to_string().contains("a/one.tgz"),
        "{a}"
    );
    assert_eq!(
        entry_where(svc, of_task(&remove)).await["action"],
        "remove_artifacts"
    );
    assert_eq!(
        entry_where(svc, of_task(&settings)).await["action"],
        "update_settings"
    );
    assert_eq!(published["detail"]["online_keyid"], online_keyid.as_str());
    let versions = &published["detail"]["versions"];
    assert!(versions["snapshot"].as_i64() >= Some(2), "{published}");
    assert!(versions["timestamp"].as_i64() >= Some(2), "{published}");
    assert!(
        versions
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("bins-")),
        "{published}"
    );

    // Paging and bad parameters.
    let (status, body) = svc.get("/api/v1/audit/?after=1&limit=2").await;
    assert_eq!(status, 200, "{body}");
    let seqs: Vec<i64> = body["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(body["data"]["next_after"], 3);
    for bad in ["limit=0", "limit=1001", "after=-1", "after=x", "limit=1.5"] {
        let (status, body) = svc.get(&format!("/api/v1/audit/?{bad}")).await;
        assert_eq!(status, 422, "{bad}: {body}");
        let name = bad.split('=').next().unwrap();
        assert!(
            body["detail"][0]["msg"].as_str().unwrap().contains(name),
            "{body}"
        );
    }

    // Intact, then an edited row.
    let ok = intact(&verify(svc, &["--json"]).await);
    let count = entries(svc).await.len() as u64;
    assert_eq!(ok["entries"], count);
    let head = format!(
        "{}:{}",
        ok["head"]["seq"],
        ok["head"]["hash"].as_str().unwrap()
    );
    let seq = a["seq"].as_i64().unwrap();
    let original = sql(&format!("SELECT detail FROM rstuf_audit WHERE seq = {seq}"));
    assert!(original.contains("SUCCESS"), "{original}");
    sql(&format!(
        "UPDATE rstuf_audit SET detail = REPLACE(detail, 'SUCCESS', 'FAILURE') WHERE seq = {seq}"
    ));
    assert_broken(&verify(svc, &[]).await, &format!("entry {seq} was changed"));
    sql(&format!(
        "UPDATE rstuf_audit SET detail = REPLACE(detail, 'FAILURE', 'SUCCESS') WHERE seq = {seq}"
    ));
    intact(&verify(svc, &["--json", "--head", &head]).await);

    // The last entry cut off and the head rewritten to match: consistent
    // on its own, caught against the head recorded before.
    let last = count as i64;
    let before_last = sql(&format!(
        "SELECT hash FROM rstuf_audit WHERE seq = {}",
        last - 1
    ));
    sql(&format!("DELETE FROM rstuf_audit WHERE seq = {last}"));
    sql(&format!(
        "UPDATE rstuf_audit_head SET seq = {}, hash = '{before_last}' WHERE id = 1",
        last - 1
    ));
    intact(&verify(svc, &["--json"]).await);
    assert_broken(
        &verify(svc, &["--head", &head]).await,
        &format!("entry {last} was removed"),
    );

    // A deleted row in the middle.
    let gone = seq + 1;
    sql(&format!("DELETE FROM rstuf_audit WHERE seq = {gone}"));
    assert_broken(
        &verify(svc, &[]).await,
        &format!("entry {gone} was removed"),
    );

    // A malformed --head is a usage error.
    let run = verify(svc, &["--head", "12"]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("SEQ:HASH"), "{}", run.stderr);
}

#[tokio::test]
async fn the_audit_log_needs_the_read_audit_scope() {
    let svc = start_with(&[(
        "RSTUF_AUTH_TOKENS",
        "tasks-token-0123456=read:tasks;auditor-token-012345=read:audit",
    )])
    .await;
    let get = |token: &'static str| {
        let request = svc
            .http
            .get(format!("{}/api/v1/audit/", svc.base))
            .bearer_auth(token);
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = get("tasks-token-0123456").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("read:audit"),
        "{body}"
    );
    let (status, body) = get("auditor-token-012345").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["head"]["seq"], 0);

    let refused = rstuf(&svc, &["admin", "audit", "verify"]).await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("read:audit"), "{}", refused.stderr);
    let run = rstuf_env(
        &svc,
        &[
            "-H",
            "Authorization: Bearer auditor-token-012345",
            "admin",
            "audit",
            "verify",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Audit log intact: 0 entries"),
        "{}",
        run.stdout
    );
}

//! Bad input across every v1 endpoint, before and after bootstrap:
//! malformed JSON, invalid UTF-8, wrong types, missing fields, oversized
//! bodies, unknown and malformed task ids, bootstrap twice, writes before
//! bootstrap, and task-level bad input (paths, hashes, lengths, roles,
//! signatures). Every answer is a 4xx with a readable `detail` (or a task
//! that ends ERRORED with a message), never a 500, and nothing already
//! published changes.

use rstuf_tests::service::{artifact, start_with, TestService};
use serde_json::{json, Value};

/// (method, path) of every endpoint that takes a JSON body.
const JSON_ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/api/v1/bootstrap/"),
    ("PUT", "/api/v1/config/"),
    ("POST", "/api/v1/metadata/"),
    ("POST", "/api/v1/metadata/online"),
    ("POST", "/api/v1/metadata/sign/"),
    ("POST", "/api/v1/metadata/sign/delete"),
    ("POST", "/api/v1/delegations/"),
    ("PUT", "/api/v1/delegations/"),
    ("POST", "/api/v1/delegations/delete"),
    ("POST", "/api/v1/artifacts/"),
    ("POST", "/api/v1/artifacts/delete"),
];

async fn send(svc: &TestService, method: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
    let url = format!("{}{path}", svc.base);
    let req = match method {
        "PUT" => svc.http.put(url),
        "GET" => svc.http.get(url),
        _ => svc.http.post(url),
    };
    let r = req
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn assert_client_error(what: &str, status: u16, body: &Value) {
    assert!(
        (400..500).contains(&status),
        "{what}: expected a 4xx, got {status}: {body}"
    );
    assert!(
        body.get("detail").is_some() || body.get("message").is_some(),
        "{what}: no readable error: {body}"
    );
}

/// Send a 2 MiB body over a raw connection (the server may answer 413 and
/// close before reading it all) and return the status code it answered.
async fn oversized(svc: &TestService, method: &str, path: &str, chunked: bool) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = svc.base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let size = 2 << 20;
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {size}")
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'a'; 64 << 10];
    for _ in 0..(size / chunk.len()) {
        let sent = if chunked {
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            conn.write_all(&framed).await
        } else {
            conn.write_all(&chunk).await
        };
        if sent.is_err() {
            break; // the server has answered and closed
        }
    }
    if chunked {
        let _ = conn.write_all(b"0\r\n\r\n").await;
    }
    let mut response = Vec::new();
    let _ = conn.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("{method} {path}: no HTTP response: {text:?}"))
}

/// Hostile bodies every JSON endpoint must refuse with a 4xx.
fn hostile_bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("malformed JSON", b"{\"artifacts\": [".to_vec()),
        ("invalid UTF-8", b"{\"role\": \"\xff\xfe\"}".to_vec()),
        ("empty body", Vec::new()),
        ("array instead of object", b"[]".to_vec()),
        ("wrong types", br#"{"artifacts": 5, "role": [], "settings": "x", "metadata": 1, "delegations": true, "roles": {}}"#.to_vec()),
        ("deep nesting", format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes()),
    ]
}

async fn every_endpoint_refuses_hostile_bodies(svc: &TestService) {
    for (method, path) in JSON_ENDPOINTS {
        for (what, body) in hostile_bodies() {
            let (status, resp) = send(svc, method, path, body).await;
            assert_client_error(&format!("{method} {path} with {what}"), status, &resp);
        }
        // Over the body limit (1 MiB in this test service), declared up
        // front or streamed without a length.
        assert_eq!(
            oversized(svc, method, path, false).await,
            413,
            "{method} {path} oversized"
        );
        assert_eq!(
            oversized(svc, method, path, true).await,
            413,
            "{method} {path} oversized, chunked"
        );
    }
}

async fn timestamp_version(svc: &TestService) -> i64 {
    let (_, ts) = svc.get("/metadata/timestamp.json").await;
    ts["signed"]["version"].as_i64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_gives_clear_4xx_for_bad_input() {
    let svc = start_with(&[("RSTUF_BODY_LIMIT", "1048576")]).await;

    // Before bootstrap: every write is refused with upstream's message
    // (delegations: 404 where upstream answers 200, its bug), nothing is
    // queued.
    every_endpoint_refuses_hostile_bodies(&svc).await;
    let mut payload = svc.ceremony(&["--bins", "4"]);
    let delegation = json!({ "delegations": { "keys": {}, "roles": [{ "name": "dev", "terminating": true, "keyids": [], "threshold": 1, "paths": ["dev/*"], "x-rstuf-expire-policy": 1 }] } });
    let signature =
        json!({ "role": "root", "signature": { "keyid": "ab".repeat(32), "sig": "00" } });
    for (method, path, body, message) in [
        (
            "POST",
            "/api/v1/artifacts/",
            json!({ "artifacts": [artifact("a", 1)] }),
            "Task not accepted.",
        ),
        (
            "POST",
            "/api/v1/artifacts/delete",
            json!({ "artifacts": ["a"] }),
            "Task not accepted.",
        ),
        (
            "POST",
            "/api/v1/metadata/online",
            json!({ "roles": ["timestamp"] }),
            "Task not accepted.",
        ),
        (
            "POST",
            "/api/v1/metadata/",
            json!({ "metadata": { "root": payload["metadata"]["root"] } }),
            "Task not accepted.",
        ),
        (
            "POST",
            "/api/v1/metadata/sign/",
            signature.clone(),
            "No signing pending.",
        ),
        (
            "POST",
            "/api/v1/metadata/sign/delete",
            json!({ "role": "root" }),
            "No signing process for root.",
        ),
        (
            "POST",
            "/api/v1/delegations/",
            delegation.clone(),
            "Task not accepted.",
        ),
        (
            "PUT",
            "/api/v1/delegations/",
            delegation.clone(),
            "Task not accepted.",
        ),
        (
            "POST",
            "/api/v1/delegations/delete",
            json!({ "delegations": { "roles": [{ "name": "x" }] } }),
            "Task not accepted.",
        ),
        (
            "PUT",
            "/api/v1/config/",
            json!({ "settings": { "expiration": { "targets": 3 } } }),
            "No Repository Settings/Config found.",
        ),
    ] {
        let (status, resp) = send(&svc, method, path, serde_json::to_vec(&body).unwrap()).await;
        assert_eq!(status, 404, "{method} {path} before bootstrap: {resp}");
        assert_eq!(
            resp["detail"]["message"], message,
            "{method} {path}: {resp}"
        );
    }
    for path in ["/api/v1/metadata/sign", "/api/v1/config/"] {
        let (status, resp) = svc.get(path).await;
        assert_eq!(status, 404, "GET {path} before bootstrap: {resp}");
    }
    // Publishing has no bootstrap check upstream; the task does nothing.
    let id = svc.submit("/api/v1/artifacts/publish/", &json!({})).await;
    let done = svc.wait(&id).await;
    assert_eq!(done["state"], "SUCCESS", "{done}");

    // Task ids.
    let (status, resp) = svc.get("/api/v1/task/").await;
    assert_eq!(status, 422, "missing task_id: {resp}");
    let (status, resp) = svc.get("/api/v1/task/?task_id=..%2F..%2Fetc").await;
    assert_client_error("malformed task id", status, &resp);
    let (status, resp) = svc
        .get(&format!("/api/v1/task/?task_id={}", "ab".repeat(16)))
        .await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["data"]["state"], "PENDING");

    // A bootstrap payload that is not valid: exactly one of bins/delegations.
    let mut both = payload.clone();
    both["settings"]["roles"]["delegations"] = json!({ "keys": {}, "roles": [] });
    let (status, resp) = svc.post("/api/v1/bootstrap/", &both).await;
    assert_eq!(status, 422, "{resp}");
    let mut bad_field = payload.clone();
    bad_field["metadata"]["root"]["signed"]["custom"] = json!(1);
    let (status, resp) = svc.post("/api/v1/bootstrap/", &bad_field).await;
    assert_eq!(status, 422, "unprefixed custom field: {resp}");

    // Roots this service could not serve to clients: refused by the task,
    // and the bootstrap lock is released for the next try.
    let mut stranger = payload.clone();
    let sig = stranger["metadata"]["root"]["signatures"][0]["sig"].clone();
    stranger["metadata"]["root"]["signatures"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "keyid": "ef".repeat(32), "sig": sig }));
    let id = svc.submit("/api/v1/bootstrap/", &stranger).await;
    let done = svc.wait(&id).await;
    assert_eq!(
        done["state"], "ERRORED",
        "a signature by a key not in root: {done}"
    );
    assert_eq!(
        done["result"]["error"], "Bootstrap has invalid signature(s)",
        "{done}"
    );
    for (what, field, value, error) in [
        (
            "no consistent snapshots",
            "consistent_snapshot",
            json!(false),
            "consistent_snapshot",
        ),
        (
            "already expired",
            "expires",
            json!("2020-01-01T00:00:00Z"),
            "expired at",
        ),
    ] {
        let mut bad = payload.clone();
        bad["metadata"]["root"]["signed"][field] = value;
        let id = svc.submit("/api/v1/bootstrap/", &bad).await;
        let done = svc.wait(&id).await;
        assert_eq!(done["state"], "ERRORED", "{what}: {done}");
        assert!(
            done["result"]["error"].as_str().unwrap().contains(error),
            "{what}: {done}"
        );
        let (_, state) = svc.get("/api/v1/bootstrap/").await;
        assert_eq!(state["data"]["bootstrap"], false, "{what}: {state}");
    }

    // Bootstrap, then bootstrap twice.
    svc.run("/api/v1/bootstrap/", &payload).await;
    let (status, resp) = svc.post("/api/v1/bootstrap/", &payload).await;
    assert_eq!(status, 404, "{resp}");
    assert_eq!(
        resp["detail"]["error"],
        "System already has a Metadata. State: finished"
    );

    // After bootstrap.
    every_endpoint_refuses_hostile_bodies(&svc).await;
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("kept.txt", 3)] }),
    )
    .await;
    let published = timestamp_version(&svc).await;

    // Artifact info the API refuses outright.
    for (what, info) in [
        (
            "non-hex hash",
            json!({ "length": 1, "hashes": { "sha256": "zz" } }),
        ),
        (
            "odd-length hex",
            json!({ "length": 1, "hashes": { "blake2b-256": "abc" } }),
        ),
        (
            "a sha256 digest of the wrong length",
            json!({ "length": 1, "hashes": { "sha256": "abcd" } }),
        ),
        (
            "negative length",
            json!({ "length": -1, "hashes": { "sha256": "00" } }),
        ),
        ("no hashes", json!({ "length": 1, "hashes": {} })),
        (
            "length as string",
            json!({ "length": "1", "hashes": { "sha256": "00" } }),
        ),
    ] {
        let (status, resp) = svc
            .post(
                "/api/v1/artifacts/",
                &json!({ "artifacts": [{ "path": "x.txt", "info": info }] }),
            )
            .await;
        assert_eq!(status, 422, "{what}: {resp}");
    }
    // A path that is not valid Unicode (a lone surrogate escape).
    let (status, resp) = svc
        .post_raw(
            "/api/v1/artifacts/",
            format!(r#"{{"artifacts": [{{"path": "bad\ud800.tgz", "info": {{"length": 1, "hashes": {{"sha256": "{}"}}}}}}]}}"#, "00".repeat(32)).into_bytes(),
        )
        .await;
    assert_client_error("a lone surrogate in a path", status, &resp);
    // Paths the worker reports as invalid, storing nothing.
    let result = svc
        .run(
            "/api/v1/artifacts/",
            &json!({ "artifacts": [artifact("/abs", 1), artifact("a/../b", 1), artifact("", 1), artifact("a//b", 1)] }),
        )
        .await;
    assert_eq!(result["details"]["added_artifacts"], json!([]), "{result}");
    assert_eq!(
        result["details"]["invalid_paths"].as_array().unwrap().len(),
        4
    );

    // Roles and signatures.
    let (status, resp) = svc
        .post(
            "/api/v1/metadata/online",
            &json!({ "roles": ["no-such-role"] }),
        )
        .await;
    assert_client_error("unknown online role", status, &resp);
    let (status, resp) = svc
        .post("/api/v1/metadata/sign/delete", &json!({ "role": "nobody" }))
        .await;
    assert_eq!(status, 404, "{resp}");
    let id = svc
        .submit(
            "/api/v1/metadata/sign",
            &json!({ "role": "ghost", "signature": { "keyid": "ab".repeat(32), "sig": "00" } }),
        )
        .await;
    let done = svc.wait(&id).await;
    assert_eq!(done["state"], "ERRORED", "{done}");
    assert_eq!(done["result"]["error"], "No signatures pending for ghost");
    // Delegations on a hash-bin repository.
    let id = svc
        .submit(
            "/api/v1/delegations/",
            &json!({ "delegations": { "keys": {}, "roles": [{ "name": "dev", "terminating": true, "keyids": [], "threshold": 1, "paths": ["dev/*"], "x-rstuf-expire-policy": 1 }] } }),
        )
        .await;
    let done = svc.wait(&id).await;
    assert_eq!(done["state"], "ERRORED", "{done}");
    // A root update signed by nobody stays pending; a root that skips a
    // version is refused.
    payload["metadata"]["root"]["signed"]["version"] = json!(2);
    payload["metadata"]["root"]["signatures"] = json!([]);
    let id = svc
        .submit(
            "/api/v1/metadata/",
            &json!({ "metadata": { "root": payload["metadata"]["root"] } }),
        )
        .await;
    let done = svc.wait(&id).await;
    assert_eq!(done["state"], "SUCCESS", "{done}");
    assert_eq!(
        done["result"]["details"]["update"],
        "Root v2 is pending signatures"
    );

    assert_eq!(
        timestamp_version(&svc).await,
        published,
        "bad input changed published metadata"
    );
    svc.verify(&["kept.txt"], &["x.txt", "/abs"], None).await;

    // The service still serves.
    let (status, _) = svc.get("/health").await;
    assert_eq!(status, 200);
    service_surface(&svc).await;
    svc.service.shutdown().await;
}

/// Readiness, the OpenAPI document (all 16 operations), the browsable UI
/// with its own assets (no CDN), and the metadata directory listing.
async fn service_surface(svc: &TestService) {
    let text = |path: &'static str| async move {
        let r = svc
            .http
            .get(format!("{}{path}", svc.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let kind = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, kind, r.text().await.unwrap())
    };
    let (status, ready) = svc.get("/ready").await;
    assert_eq!(status, 200, "{ready}");
    let (status, doc) = svc.get("/openapi.json").await;
    assert_eq!(status, 200);
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.starts_with("/api/v1/") && *p != "/api/v1/audit/")
        .map(|(_, ops)| ops.as_object().unwrap().len())
        .sum();
    assert_eq!(
        operations, 16,
        "upstream's, and our audit log: {}",
        doc["paths"]
    );
    let (status, _, page) = text("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("/docs/assets/swagger-ui-bundle.js"), "{page}");
    assert!(!page.contains("https://"), "the UI needs no CDN: {page}");
    let (status, kind, js) = text("/docs/assets/swagger-ui-bundle.js").await;
    assert_eq!(status, 200);
    assert!(
        kind.starts_with("text/javascript") && js.len() > 1_000_000,
        "{kind} {}",
        js.len()
    );
    let (status, kind, _) = text("/docs/assets/swagger-ui.css").await;
    assert_eq!((status, kind.starts_with("text/css")), (200, true));
    let (status, _, _) = text("/docs/assets/..%2Fsecret").await;
    assert_eq!(status, 404);
    let (status, _, listing) = text("/metadata/").await;
    assert_eq!(status, 200);
    for file in ["1.root.json", "timestamp.json", "1.snapshot.json"] {
        assert!(listing.contains(file), "{file} not listed: {listing}");
    }
}

/// Upstream's bootstrap `timeout`: when no worker starts the bootstrap in
/// time (here an API-only process, so none ever does), the lock is
/// released and the repository can be bootstrapped again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_no_worker_starts_releases_its_lock_after_the_timeout() {
    let svc = start_with(&[("RSTUF_ROLE", "api")]).await;
    let mut payload = svc.ceremony(&["--bins", "4"]);
    // Long enough for the checks of the locked state below, on a busy machine.
    payload["timeout"] = json!(5);
    let id = svc.submit("/api/v1/bootstrap/", &payload).await;
    let (_, state) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(state["data"]["state"], "pre", "{state}");
    assert_eq!(state["data"]["id"], id.as_str());
    let (status, resp) = svc.post("/api/v1/bootstrap/", &payload).await;
    assert_eq!(status, 404, "locked while pending: {resp}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, state) = svc.get("/api/v1/bootstrap/").await;
        if state["data"]["bootstrap"] == false && state["data"].get("state").is_none() {
            assert_eq!(state["message"], "System available for bootstrap.");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still locked: {state}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    payload["timeout"] = json!(300);
    let again = svc.submit("/api/v1/bootstrap/", &payload).await;
    assert_ne!(again, id);
    svc.service.shutdown().await;
}

/// Optional bearer tokens with scopes: no or a wrong token is 401 (with
/// `WWW-Authenticate`), a token without the route's scope is 403, the
/// right one goes through — also for our CLI passing `-H` as upstream's
/// does. Health, metrics and the published metadata stay open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_and_scopes() {
    use rstuf_tests::cli::{ok, rstuf};
    let admin = "admin-token-0123456789abcdef";
    let reader = "reader-token-0123456789abcdef";
    let tokens = format!(
        "{admin}=write:bootstrap,read:bootstrap,read:tasks,write:targets;{reader}=read:tasks,read:bootstrap"
    );
    let svc = start_with(&[("RSTUF_AUTH_TOKENS", tokens.as_str())]).await;
    let payload = svc.ceremony(&["--bins", "4"]);
    let call = |method: &'static str,
                path: &'static str,
                token: Option<&'static str>,
                body: Option<Value>| {
        let svc = &svc;
        async move {
            let url = format!("{}{path}", svc.base);
            let mut req = if method == "POST" {
                svc.http.post(url)
            } else {
                svc.http.get(url)
            };
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                req = req.json(&b);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let challenge = r.headers().get("www-authenticate").is_some();
            (
                status,
                challenge,
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, challenge, body) = call("GET", "/api/v1/bootstrap/", None, None).await;
    assert_eq!((status, challenge), (401, true), "{body}");
    let (status, _, _) = call(
        "GET",
        "/api/v1/bootstrap/",
        Some("not-a-token-at-all-123456"),
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, body) = call(
        "POST",
        "/api/v1/bootstrap/",
        Some(reader),
        Some(payload.clone()),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.to_string().contains("write:bootstrap"), "{body}");
    let (status, _, body) = call(
        "POST",
        "/api/v1/bootstrap/",
        Some(admin),
        Some(payload.clone()),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let task = body["data"]["task_id"].as_str().unwrap().to_string();
    for (path, token) in [("/health", None), ("/metrics", None)] {
        let (status, _, _) = call("GET", path, token, None).await;
        assert_eq!(status, 200, "{path} stays open");
    }
    let r = svc
        .http
        .get(format!("{}/api/v1/task/?task_id={task}", svc.base))
        .bearer_auth(reader)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // Our CLI with a gateway-style header, as upstream's `-H`.
    let file = svc.work().join("artifact.txt");
    std::fs::write(&file, b"through the token").unwrap();
    let denied = rstuf(&svc, &["artifact", "add", file.to_str().unwrap(), "--wait"]).await;
    assert_eq!(denied.code, 3, "{}{}", denied.stderr, denied.stdout);
    let header = format!("Authorization: Bearer {admin}");
    let wait = rstuf(&svc, &["-H", &header, "task", "wait", &task]).await;
    assert_eq!(wait.code, 0, "{}{}", wait.stderr, wait.stdout);
    let added = ok(&rstuf(
        &svc,
        &[
            "--json",
            "-H",
            &header,
            "artifact",
            "add",
            file.to_str().unwrap(),
            "--wait",
        ],
    )
    .await);
    assert_eq!(added["state"], "SUCCESS", "{added}");
    let path = added["result"]["details"]["added_artifacts"][0]
        .as_str()
        .unwrap()
        .to_string();
    svc.verify(&[&path], &[], None).await;
    svc.service.shutdown().await;
}

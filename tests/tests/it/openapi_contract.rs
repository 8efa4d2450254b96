//! The OpenAPI document (derived from the handlers and the `rstuf-api`
//! types) against the running service: it lists upstream's 16 v1
//! operations, no more and no fewer, and for each one the status codes it
//! documents are exactly those real requests here get back: a documented
//! code no handler returns, or a returned code the document does not list,
//! both fail.

use rstuf_tests::service::{artifact, start_with, TestService};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Upstream's v1 operations (repository-service-tuf-api `api/v1`).
const UPSTREAM_OPERATIONS: [(&str, &str); 16] = [
    ("get", "/api/v1/bootstrap/"),
    ("post", "/api/v1/bootstrap/"),
    ("get", "/api/v1/config/"),
    ("put", "/api/v1/config/"),
    ("post", "/api/v1/metadata/"),
    ("post", "/api/v1/metadata/online"),
    ("get", "/api/v1/metadata/sign"),
    ("post", "/api/v1/metadata/sign"),
    ("post", "/api/v1/metadata/sign/delete"),
    ("post", "/api/v1/delegations/"),
    ("put", "/api/v1/delegations/"),
    ("post", "/api/v1/delegations/delete"),
    ("post", "/api/v1/artifacts/"),
    ("post", "/api/v1/artifacts/delete"),
    ("post", "/api/v1/artifacts/publish/"),
    ("get", "/api/v1/task/"),
];

/// Our extensions under `/api/v1` (documented too, but not upstream's; the
/// audit log's codes are checked by `audit_log`).
const EXTENSIONS: [&str; 1] = ["/api/v1/audit/"];

/// (method, path) → status codes.
type Codes = BTreeMap<(String, String), BTreeSet<u16>>;

fn documented(doc: &Value) -> Codes {
    let mut codes = Codes::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/v1/") || EXTENSIONS.contains(&path.as_str()) {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let statuses = op["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path}: no responses"))
                .keys()
                .map(|k| k.parse::<u16>().unwrap())
                .collect();
            codes.insert((method.clone(), path.clone()), statuses);
        }
    }
    codes
}

/// Sends requests and records the status each operation answered.
struct Probe<'a> {
    svc: &'a TestService,
    seen: Codes,
}

impl Probe<'_> {
    async fn send(&mut self, method: &str, path: &str, body: Option<Vec<u8>>) -> (u16, Value) {
        let url = format!("{}{path}", self.svc.base);
        let mut request = match method {
            "get" => self.svc.http.get(url),
            "put" => self.svc.http.put(url),
            _ => self.svc.http.post(url),
        };
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        let operation = path.split('?').next().unwrap().to_string();
        self.seen
            .entry((method.to_string(), operation))
            .or_default()
            .insert(status);
        (status, body)
    }

    async fn json(&mut self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        self.send(method, path, Some(body.to_string().into_bytes()))
            .await
    }

    /// `body`, expecting `status`.
    async fn expect(&mut self, status: u16, method: &str, path: &str, body: &Value) -> Value {
        let (got, answer) = self.json(method, path, body).await;
        assert_eq!(got, status, "{method} {path} {body}: {answer}");
        answer
    }
}

fn delegations(name: &str) -> Value {
    json!({ "delegations": { "keys": {}, "roles": [{
        "name": name, "terminating": true, "keyids": [], "threshold": 1,
        "paths": [format!("{name}/*")], "x-rstuf-expire-policy": 2
    }]}})
}

#[tokio::test]
async fn openapi_lists_upstream_operations_with_the_codes_handlers_return() {
    let svc = start_with(&[("RSTUF_BODY_LIMIT", "4096")]).await;
    let (status, doc) = svc.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let documented = documented(&doc);
    let listed: BTreeSet<(String, String)> = documented.keys().cloned().collect();
    let upstream: BTreeSet<(String, String)> = UPSTREAM_OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(listed, upstream, "the document's v1 operations");
    for path in EXTENSIONS {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
    // Each request body names a schema of the document.
    for (method, path) in documented.keys() {
        let op = &doc["paths"][path][method];
        if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema/$ref") {
            let name = schema.as_str().unwrap().rsplit('/').next().unwrap();
            assert!(
                doc["components"]["schemas"].get(name).is_some(),
                "{method} {path}: {name} is not a component"
            );
        }
    }

    let mut probe = Probe {
        svc: &svc,
        seen: Codes::new(),
    };
    let with_body: Vec<(&str, &str)> = UPSTREAM_OPERATIONS
        .iter()
        .copied()
        .filter(|(m, p)| *m != "get" && *p != "/api/v1/artifacts/publish/")
        .collect();
    // 422 (a list where the body must be an object) and 413 (over the
    // 4 KiB limit) for every operation that reads a body.
    let oversized = format!(r#"{{"pad": "{}"}}"#, "x".repeat(8 << 10));
    for (method, path) in &with_body {
        probe.expect(422, method, path, &json!([])).await;
        let (status, answer) = probe
            .send(method, path, Some(oversized.clone().into_bytes()))
            .await;
        assert_eq!(status, 413, "{method} {path}: {answer}");
    }

    // Before bootstrap: reads of settings and signatures are 404, writes
    // with valid bodies are 404 "Task not accepted.".
    let (status, _) = probe.send("get", "/api/v1/bootstrap/", None).await;
    assert_eq!(status, 200);
    probe.send("get", "/api/v1/config/", None).await;
    probe.send("get", "/api/v1/metadata/sign", None).await;
    let payload = svc.ceremony(&["--bins", "4"]);
    let root = payload["metadata"]["root"].clone();
    let valid: BTreeMap<&str, Value> = BTreeMap::from([
        (
            "/api/v1/config/",
            json!({ "settings": { "expiration": { "timestamp": 2 } } }),
        ),
        ("/api/v1/metadata/", json!({ "metadata": { "root": root } })),
        ("/api/v1/metadata/online", json!({ "roles": ["timestamp"] })),
        (
            "/api/v1/metadata/sign",
            json!({ "role": "root", "signature": { "keyid": "ab", "sig": "cd" } }),
        ),
        ("/api/v1/metadata/sign/delete", json!({ "role": "root" })),
        ("/api/v1/delegations/", delegations("team")),
        (
            "/api/v1/delegations/delete",
            json!({ "delegations": { "roles": [{ "name": "team" }] } }),
        ),
        (
            "/api/v1/artifacts/",
            json!({ "artifacts": [artifact("a/one.tgz", 3)] }),
        ),
        (
            "/api/v1/artifacts/delete",
            json!({ "artifacts": ["a/one.tgz"] }),
        ),
    ]);
    for (method, path) in &with_body {
        if *path == "/api/v1/bootstrap/" {
            continue;
        }
        probe.expect(404, method, path, &valid[path]).await;
    }
    let (status, _) = probe.send("get", "/api/v1/task/", None).await;
    assert_eq!(status, 422);
    let (status, _) = probe
        .send(
            "get",
            "/api/v1/task/?task_id=0123456789abcdef0123456789abcdef",
            None,
        )
        .await;
    assert_eq!(status, 200);

    // Bootstrap, then every write is accepted.
    let accepted = probe
        .expect(202, "post", "/api/v1/bootstrap/", &payload)
        .await;
    let done = svc
        .wait(accepted["data"]["task_id"].as_str().unwrap())
        .await;
    assert_eq!(done["state"], "SUCCESS", "{done}");
    probe
        .expect(404, "post", "/api/v1/bootstrap/", &payload)
        .await;
    for (method, path) in &with_body {
        if matches!(*path, "/api/v1/bootstrap/" | "/api/v1/metadata/sign/delete") {
            continue;
        }
        probe.expect(202, method, path, &valid[path]).await;
    }
    let (status, _) = probe.send("post", "/api/v1/artifacts/publish/", None).await;
    assert_eq!(status, 202);
    // Hash bins are in use: a custom role cannot be bumped.
    probe
        .expect(
            404,
            "post",
            "/api/v1/metadata/online",
            &json!({ "roles": ["team"] }),
        )
        .await;
    let (status, _) = probe.send("get", "/api/v1/config/", None).await;
    assert_eq!(status, 200);
    let (status, _) = probe.send("get", "/api/v1/metadata/sign", None).await;
    assert_eq!(status, 200);

    // A signing process to abort: a bootstrap signed by one of two root
    // keys waits for the second.
    let das = start_with(&[("RSTUF_BODY_LIMIT", "4096")]).await;
    let mut das_probe = Probe {
        svc: &das,
        seen: Codes::new(),
    };
    let half_signed = das.ceremony(&["--bins", "4", "--sign", "1"]);
    let accepted = das_probe
        .expect(202, "post", "/api/v1/bootstrap/", &half_signed)
        .await;
    das.wait(accepted["data"]["task_id"].as_str().unwrap())
        .await;
    das_probe
        .expect(
            202,
            "post",
            "/api/v1/metadata/sign/delete",
            &json!({ "role": "root" }),
        )
        .await;
    for (operation, codes) in das_probe.seen {
        probe.seen.entry(operation).or_default().extend(codes);
    }

    for (operation, codes) in &documented {
        let seen = probe.seen.get(operation).cloned().unwrap_or_default();
        assert_eq!(
            &seen, codes,
            "{} {}: documented {codes:?}, handlers returned {seen:?}",
            operation.0, operation.1
        );
    }
}

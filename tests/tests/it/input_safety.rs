//! One user's bad input never stops another's work, against a real
//! embedded service:
//! - a poison artifact (a float in `custom`, an integer beyond 64 bits)
//!   written around the API, and a task queued around it, among 100
//!   concurrent good adds: the 100 publish (python-tuf finds them), the
//!   poison row is set aside with its reason, the poison task ends FAILURE
//!   naming it, and online roles are still re-signed;
//! - upstream's lax inputs (pydantic's conversion table) on every v1
//!   operation;
//! - `/metrics` stays small under random methods, slow clients are cut off
//!   by the header timeout, `/health` answers at the connection cap, 413
//!   says `Connection: close`, and the start-up auth checks.

use rstuf_store::{NewFile, NewTask};
use rstuf_tests::service::{artifact, start, start_with, TestService};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn sha(n: u64) -> String {
    format!("{n:064x}")
}

async fn bootstrap(svc: &TestService, bins: &str) {
    let payload = svc.ceremony(&["--bins", bins]);
    svc.run("/api/v1/bootstrap/", &payload).await;
}

async fn timestamp_version(svc: &TestService) -> i64 {
    let (_, ts) = svc.get("/metadata/timestamp.json").await;
    ts["signed"]["version"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poison_artifacts_never_stop_publishing() {
    let svc = start().await;
    bootstrap(&svc, "4").await;
    let store = &svc.service.ctx.store;
    let role_id = store.active_roles().await.unwrap()[0].id;

    // Rows written around the API (upstream's import-artifacts writes the
    // table directly): a float and a 2**70 in custom, a non-object info.
    let big: Value = serde_json::from_str("1180591620717411303424").unwrap();
    let poison = [
        (
            "poison/float.txt",
            json!({"length": 1, "hashes": {"sha256": sha(1)}, "custom": {"x": 1.5}}),
        ),
        (
            "poison/big.txt",
            json!({"length": 1, "hashes": {"sha256": sha(2)}, "custom": {"x": big}}),
        ),
        ("poison/shape.txt", json!(42)),
    ];
    let rows: Vec<NewFile> = poison
        .iter()
        .map(|(path, info)| NewFile {
            path: path.to_string(),
            info: info.clone(),
            role_id,
        })
        .collect();
    store.upsert_files(&rows).await.unwrap();
    // Upstream's import-artifacts leaves the CSV line's newline on each
    // digest: published with the digest trimmed, not set aside.
    store
        .upsert_files(&[NewFile {
            path: "imported/newline.txt".into(),
            info: json!({"length": 7, "hashes": {"sha256": format!("{}\n", sha(7))}}),
            role_id,
        }])
        .await
        .unwrap();
    // A task queued around the API (an older API, a hand-made message).
    let poison_task = rstuf_api::task::new_task_id();
    store
        .enqueue(&NewTask {
            task_id: poison_task.clone(),
            action: "add_artifacts".into(),
            queue: "metadata_repository".into(),
            payload: Some(json!({ "artifacts": [
                {"path": "poison/task.txt", "info": {"length": 1, "hashes": {"sha256": sha(3)}, "custom": {"ratio": 0.5}}},
                artifact("poison/innocent.txt", 9),
            ]})),
            max_attempts: 5,
        })
        .await
        .unwrap();

    // 100 concurrent good adds, each its own request.
    let adds = (0..100u64).map(|i| {
        let svc = &svc;
        async move {
            let id = svc
                .submit(
                    "/api/v1/artifacts/",
                    &json!({ "artifacts": [artifact(&format!("good/{i}.tgz"), i + 1)] }),
                )
                .await;
            svc.wait(&id).await
        }
    });
    let results = futures::future::join_all(adds).await;
    for done in &results {
        assert_eq!(done["state"], "SUCCESS", "{done}");
    }

    let failed = svc.wait(&poison_task).await;
    assert_eq!(failed["state"], "FAILURE", "{failed}");
    let error = failed["result"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("poison/task.txt")
            && error.contains("only integers")
            && error.contains("no artifact of this task was added"),
        "the poison task names the artifact: {failed}"
    );

    // The rows written around the API were set aside, with their reason.
    for (path, _) in &poison {
        let state = store.publish_state(&[path.to_string()]).await.unwrap();
        assert_eq!(state.pending, 0, "{path} is not pending any more");
        assert_eq!(state.rejected.len(), 1, "{path}: {state:?}");
    }

    // Re-signing online roles does not depend on pending rows.
    let before = timestamp_version(&svc).await;
    svc.run("/api/v1/metadata/online", &json!({ "roles": [] }))
        .await;
    assert!(timestamp_version(&svc).await > before);

    let mut good: Vec<String> = (0..100).map(|i| format!("good/{i}.tgz")).collect();
    good.push("imported/newline.txt".into());
    let present: Vec<&str> = good.iter().map(String::as_str).collect();
    let report = svc
        .verify(
            &present,
            &[
                "poison/float.txt",
                "poison/big.txt",
                "poison/shape.txt",
                "poison/task.txt",
                "poison/innocent.txt",
            ],
            None,
        )
        .await;
    assert_eq!(report["found"].as_object().unwrap().len(), 101, "{report}");
    assert_eq!(report["missing"].as_array().unwrap().len(), 5, "{report}");
    let info = find_info(&svc, "imported/newline.txt").await;
    assert_eq!(
        info["hashes"]["sha256"],
        json!(sha(7)),
        "published trimmed: {info}"
    );

    // Adding a poison path again, correctly, publishes it.
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("poison/float.txt", 5)] }),
    )
    .await;
    let report = svc.verify(&["poison/float.txt"], &[], None).await;
    assert_eq!(report["found"]["poison/float.txt"], 5, "{report}");
}

/// Roots that clients would refuse are refused by the running server at
/// the door (422 naming the field), before any task or signature check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roots_clients_would_refuse_are_422_at_the_door() {
    let svc = start().await;
    let payload = svc.ceremony(&["--bins", "4"]);
    for (name, edit, words) in [
        ("duplicate keyids", json!(["dup"]), "nonunique keyids"),
        (
            "threshold beyond keys",
            json!(["threshold", i64::MAX]),
            "can never be met",
        ),
        (
            "expires fractional",
            json!(["expires", "2030-01-01T00:00:00.5Z"]),
            "YYYY-MM-DDTHH:MM:SSZ",
        ),
    ] {
        let mut p = payload.clone();
        let signed = &mut p["metadata"]["root"]["signed"];
        match edit[0].as_str().unwrap() {
            "dup" => {
                let first = signed["roles"]["root"]["keyids"][0].clone();
                signed["roles"]["root"]["keyids"] = json!([first, first]);
            }
            "threshold" => signed["roles"]["root"]["threshold"] = edit[1].clone(),
            _ => signed["expires"] = edit[1].clone(),
        }
        let (status, body) = svc.post("/api/v1/bootstrap/", &p).await;
        assert_eq!(status, 422, "{name}: {body}");
        assert!(body.to_string().contains(words), "{name}: {body}");
    }
    // Nothing was locked or queued: the good payload still bootstraps.
    svc.run("/api/v1/bootstrap/", &payload).await;
}

/// One row of the lax-input table: a field of an operation, the JSON sent,
/// and what upstream (pydantic 2.13 lax mode) answers: `Ok(value as the
/// worker gets it)` or `Err(error type)`.
struct Case {
    op: &'static str,
    field: &'static str,
    sent: Value,
    want: Result<Value, &'static str>,
}

fn case(
    op: &'static str,
    field: &'static str,
    sent: Value,
    want: Result<Value, &'static str>,
) -> Case {
    Case {
        op,
        field,
        sent,
        want,
    }
}

/// Pydantic's documented conversion table (JSON input, lax mode) for int
/// and bool fields, plus its str rule, applied to the fields upstream
/// declares with those types, for each of the 16 v1 operations. Bodies
/// are checked by the API alone (no task needs to run): a case that must
/// be accepted is sent to an operation that validates and answers 202 or
/// a non-422 status, a refused one must answer 422 with pydantic's type
/// and the field's location.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lax_inputs_as_upstream_accepts_them_on_every_operation() {
    let svc = start().await;
    bootstrap(&svc, "4").await;
    // `n`: a value the field accepts; `one_ok`: 1 (what `true` becomes)
    // is valid there; `null_ok`: the field is Optional upstream.
    let ints = |op: &'static str, field: &'static str, n: i64, one_ok: bool, null_ok: bool| {
        let mut v = vec![
            case(op, field, json!(n), Ok(json!(n))),
            case(op, field, json!(n.to_string()), Ok(json!(n))),
            case(op, field, json!(format!(" {n}\t")), Ok(json!(n))),
            case(op, field, json!(format!("+{n}")), Ok(json!(n))),
            case(op, field, json!(format!("00{n}")), Ok(json!(n))),
            case(op, field, json!(format!("{n}.0")), Ok(json!(n))),
            case(op, field, json!(n as f64), Ok(json!(n))),
            case(op, field, json!(1.5), Err("int_from_float")),
            case(op, field, json!("6.5"), Err("int_parsing")),
            case(op, field, json!(format!("{n}.")), Err("int_parsing")),
            case(op, field, json!("abc"), Err("int_parsing")),
            case(op, field, json!("0x1A"), Err("int_parsing")),
            case(op, field, json!("1e3"), Err("int_parsing")),
            case(op, field, json!("1__0"), Err("int_parsing")),
            case(op, field, json!(""), Err("int_parsing")),
            case(op, field, json!(1e19), Err("int_parsing_size")),
            case(op, field, json!([]), Err("int_type")),
            case(op, field, json!({}), Err("int_type")),
        ];
        if n >= 10 {
            let text = n.to_string();
            v.push(case(
                op,
                field,
                json!(format!("{}_{}", &text[..1], &text[1..])),
                Ok(json!(n)),
            ));
        }
        if one_ok {
            v.push(case(op, field, json!(true), Ok(json!(1))));
        }
        if !null_ok {
            v.push(case(op, field, json!(null), Err("int_type")));
        }
        v
    };
    let bools = |op: &'static str, field: &'static str| {
        vec![
            case(op, field, json!(true), Ok(json!(true))),
            case(op, field, json!("yes"), Ok(json!(true))),
            case(op, field, json!("On"), Ok(json!(true))),
            case(op, field, json!("t"), Ok(json!(true))),
            case(op, field, json!(1), Ok(json!(true))),
            case(op, field, json!(1.0), Ok(json!(true))),
            case(op, field, json!("off"), Ok(json!(false))),
            case(op, field, json!("n"), Ok(json!(false))),
            case(op, field, json!(0), Ok(json!(false))),
            case(op, field, json!("2"), Err("bool_parsing")),
            case(op, field, json!(" true"), Err("bool_parsing")),
            case(op, field, json!(2), Err("bool_parsing")),
            case(op, field, json!(1.5), Err("bool_type")),
            case(op, field, json!(null), Err("bool_type")),
        ]
    };
    let strs = |op: &'static str, field: &'static str| {
        vec![
            case(op, field, json!(1), Err("string_type")),
            case(op, field, json!(true), Err("string_type")),
        ]
    };
    let mut cases = Vec::new();
    cases.extend(ints("add", "length", 630, true, false));
    cases.extend(bools("add", "publish_artifacts"));
    cases.extend(bools("add", "add_task_id_to_custom"));
    cases.extend(strs("add", "path"));
    cases.extend(bools("remove", "publish_artifacts"));
    cases.extend(strs("remove", "artifacts.0"));
    cases.extend(ints("config", "expiration.targets", 30, true, false));
    cases.extend(ints("bootstrap", "timeout", 300, true, true));
    cases.extend(ints(
        "bootstrap",
        "bins.number_of_delegated_bins",
        16,
        false,
        false,
    ));
    cases.extend(ints("delegations", "threshold", 1, true, false));
    cases.extend(bools("delegations", "terminating"));
    cases.extend(ints(
        "delegations",
        "x-rstuf-expire-policy",
        30,
        true,
        false,
    ));
    cases.extend(ints("delegations_put", "threshold", 1, true, false));
    cases.extend(strs("delegations_delete", "name"));
    cases.extend(strs("online", "roles.0"));
    cases.extend(strs("sign", "role"));
    cases.extend(strs("sign", "keyid"));
    cases.extend(strs("sign_delete", "role"));
    cases.extend(strs("metadata", "keyid"));

    let boot = svc.ceremony(&["--bins", "4"]);
    let mut checked = std::collections::BTreeSet::new();
    for c in &cases {
        let (status, body, loc) = send(&svc, &boot, c).await;
        checked.insert(c.op);
        match &c.want {
            Ok(_) => assert_ne!(status, 422, "{} {} = {}: {body}", c.op, c.field, c.sent),
            Err(kind) => {
                assert_eq!(status, 422, "{} {} = {}: {body}", c.op, c.field, c.sent);
                let d = &body["detail"][0];
                assert_eq!(
                    d["type"], *kind,
                    "{} {} = {}: {body}",
                    c.op, c.field, c.sent
                );
                let got: Vec<String> = d["loc"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().map_or(v.to_string(), String::from))
                    .collect();
                assert_eq!(got, loc, "{} {} = {}", c.op, c.field, c.sent);
                assert!(
                    d["msg"].as_str().unwrap().starts_with("Input should be")
                        || d["msg"].as_str().unwrap().starts_with("Unable to parse"),
                    "{d}"
                );
            }
        }
    }
    // What the worker gets: the converted value, not the text sent.
    let id = svc
        .submit(
            "/api/v1/artifacts/",
            &json!({"artifacts": [{"path": "lax/a.tgz", "info": {"length": "630", "hashes": {"sha256": sha(630)}}}], "publish_artifacts": "yes"}),
        )
        .await;
    assert_eq!(svc.wait(&id).await["state"], "SUCCESS");
    let report = svc.verify(&["lax/a.tgz"], &[], None).await;
    assert_eq!(report["found"]["lax/a.tgz"], 630, "{report}");
    assert_eq!(find_info(&svc, "lax/a.tgz").await["length"], json!(630));

    // GET /task: `task_id` is a required str; a query value is text, so
    // any value is a str, and a missing one is pydantic's `missing`.
    let (status, body) = svc.get("/api/v1/task/").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["detail"][0]["type"], "missing");
    assert_eq!(body["detail"][0]["loc"], json!(["query", "task_id"]));
    let (status, body) = svc.get("/api/v1/task/?task_id=630").await;
    assert_ne!(status, 422, "{body}");
    checked.insert("task");

    // The operations without int, bool or str fields in their bodies take
    // no input pydantic would convert; they still answer as upstream does
    // whatever they are sent.
    for (path, status) in [
        ("/api/v1/bootstrap/", 200),
        ("/api/v1/config/", 200),
        ("/api/v1/metadata/sign", 200),
    ] {
        let (got, body) = svc.get(&format!("{path}?unused=1")).await;
        assert_eq!(got, status, "{path}: {body}");
        checked.insert(path);
    }
    let (got, body) = svc
        .post("/api/v1/artifacts/publish/", &json!({"ignored": "1.5"}))
        .await;
    assert_eq!(got, 202, "{body}");
    checked.insert("publish");
    assert_eq!(checked.len(), 16, "all 16 operations covered: {checked:?}");
}

/// The target info of `path` in the published metadata (`Null` if absent).
async fn find_info(svc: &TestService, path: &str) -> Value {
    let (_, ts) = svc.get("/metadata/timestamp.json").await;
    let sv = ts["signed"]["meta"]["snapshot.json"]["version"]
        .as_i64()
        .unwrap();
    let (_, snap) = svc.get(&format!("/metadata/{sv}.snapshot.json")).await;
    for (name, meta) in snap["signed"]["meta"].as_object().unwrap() {
        let v = meta["version"].as_i64().unwrap();
        let (_, role) = svc.get(&format!("/metadata/{v}.{name}")).await;
        if let Some(info) = role["signed"]["targets"].get(path) {
            return info.clone();
        }
    }
    Value::Null
}

/// Send one case: the body of its operation with `c.sent` at `c.field`.
/// Returns status, body and the pydantic location of the field.
async fn send(svc: &TestService, boot: &Value, c: &Case) -> (u16, Value, Vec<String>) {
    let role = |k: &str| json!({"name": "lax-role", "terminating": true, "keyids": [k], "threshold": 1, "paths": ["lax/*"], "x-rstuf-expire-policy": 1});
    let key =
        json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "ab".repeat(32)}});
    let set = |body: &mut Value, pointer: &str, v: &Value| {
        *body
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = v.clone();
    };
    let loc = |parts: &[&str]| -> Vec<String> {
        std::iter::once("body")
            .chain(parts.iter().copied())
            .map(String::from)
            .collect()
    };
    let v = &c.sent;
    let (method, path, body, at) = match (c.op, c.field) {
        ("add", field) => {
            let mut b = json!({"artifacts": [{"path": "lax/x.tgz", "info": {"length": 1, "hashes": {"sha256": sha(1)}}}], "publish_artifacts": false});
            let (ptr, at) = match field {
                "length" => (
                    "/artifacts/0/info/length",
                    loc(&["artifacts", "0", "info", "length"]),
                ),
                "path" => ("/artifacts/0/path", loc(&["artifacts", "0", "path"])),
                f => {
                    b[f] = json!(null);
                    (
                        if f == "publish_artifacts" {
                            "/publish_artifacts"
                        } else {
                            "/add_task_id_to_custom"
                        },
                        loc(&[f]),
                    )
                }
            };
            set(&mut b, ptr, v);
            ("POST", "/api/v1/artifacts/", b, at)
        }
        ("remove", "publish_artifacts") => (
            "POST",
            "/api/v1/artifacts/delete",
            json!({"artifacts": ["lax/none"], "publish_artifacts": v}),
            loc(&["publish_artifacts"]),
        ),
        ("remove", _) => (
            "POST",
            "/api/v1/artifacts/delete",
            json!({"artifacts": [v]}),
            loc(&["artifacts", "0"]),
        ),
        ("config", _) => (
            "PUT",
            "/api/v1/config/",
            json!({"settings": {"expiration": {"targets": v}}}),
            loc(&["settings", "expiration", "targets"]),
        ),
        ("bootstrap", "timeout") => {
            // Already bootstrapped: a valid body answers 404 (upstream's
            // "System already has a Metadata"), an invalid one 422 first.
            let mut b = boot.clone();
            b["timeout"] = v.clone();
            ("POST", "/api/v1/bootstrap/", b, loc(&["timeout"]))
        }
        ("bootstrap", _) => {
            let mut b = boot.clone();
            b["settings"]["roles"]["bins"]["number_of_delegated_bins"] = v.clone();
            (
                "POST",
                "/api/v1/bootstrap/",
                b,
                loc(&["settings", "roles", "bins", "number_of_delegated_bins"]),
            )
        }
        ("delegations" | "delegations_put", field) => {
            let mut r = role("k");
            r[field] = v.clone();
            let b = json!({"delegations": {"keys": {"k": key}, "roles": [r]}});
            let method = if c.op == "delegations" { "POST" } else { "PUT" };
            (
                method,
                "/api/v1/delegations/",
                b,
                loc(&["delegations", "roles", "0", field]),
            )
        }
        ("delegations_delete", _) => (
            "POST",
            "/api/v1/delegations/delete",
            json!({"delegations": {"roles": [{"name": v}]}}),
            loc(&["delegations", "roles", "0", "name"]),
        ),
        ("online", _) => (
            "POST",
            "/api/v1/metadata/online",
            json!({"roles": [v]}),
            loc(&["roles", "0"]),
        ),
        ("sign", "role") => (
            "POST",
            "/api/v1/metadata/sign",
            json!({"role": v, "signature": {"keyid": "ab", "sig": "cd"}}),
            loc(&["role"]),
        ),
        ("sign", _) => (
            "POST",
            "/api/v1/metadata/sign",
            json!({"role": "root", "signature": {"keyid": v, "sig": "cd"}}),
            loc(&["signature", "keyid"]),
        ),
        ("sign_delete", _) => (
            "POST",
            "/api/v1/metadata/sign/delete",
            json!({"role": v}),
            loc(&["role"]),
        ),
        ("metadata", _) => (
            "POST",
            "/api/v1/metadata/",
            json!({"metadata": {"root": {"signatures": [{"keyid": v, "sig": "00"}], "signed": {}}}}),
            loc(&["metadata", "root", "signatures", "0", "keyid"]),
        ),
        other => panic!("no such case {other:?}"),
    };
    let url = format!("{}{path}", svc.base);
    let request = match method {
        "PUT" => svc.http.put(url),
        _ => svc.http.post(url),
    };
    let r = request.json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null), at)
}

/// 20,000 requests with random 1 KB methods leave `/metrics` small.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_labels_stay_bounded_whatever_clients_send() {
    let svc = start().await;
    let addr = svc.service.addr.unwrap();
    let sent = tokio::task::spawn_blocking(move || {
        let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut sent = 0;
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        while sent < 20_000 {
            let method: String = (0..1024)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    (b'A' + (rng % 26) as u8) as char
                })
                .collect();
            let path = format!("/nowhere/{}", rng % 100_000);
            let request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n");
            if stream.write_all(request.as_bytes()).is_err() {
                stream = std::net::TcpStream::connect(addr).unwrap();
                continue;
            }
            let mut buf = [0u8; 4096];
            match stream.read(&mut buf) {
                Ok(n) if n > 0 => sent += 1,
                _ => stream = std::net::TcpStream::connect(addr).unwrap(),
            }
        }
        sent
    })
    .await
    .unwrap();
    assert_eq!(sent, 20_000);
    let metrics = svc.text("/metrics").await;
    assert!(
        metrics.len() < 64 * 1024,
        "/metrics grew to {} bytes",
        metrics.len()
    );
    assert!(
        metrics.contains("method=\"other\""),
        "unknown methods fold into one value"
    );
    assert!(metrics.contains("route=\"unmatched\""));
}

fn connect(addr: std::net::SocketAddr) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// The response to one request on a fresh connection: (status, headers+body).
fn request(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = connect(addr);
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// True once the server has closed `s` (read returns end of stream).
fn closed(s: &mut std::net::TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(s.read(&mut buf), Ok(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_probes_answer_at_the_connection_cap() {
    let svc = start_with(&[
        ("RSTUF_HEADER_READ_TIMEOUT", "2"),
        ("RSTUF_MAX_CONNECTIONS", "8"),
    ])
    .await;
    let addr = svc.service.addr.unwrap();
    tokio::task::spawn_blocking(move || {
        // Eight clients that never finish their headers hold every slot.
        let mut slow: Vec<std::net::TcpStream> = (0..8)
            .map(|_| {
                let mut s = connect(addr);
                s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
                s
            })
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        // At the cap: probes are answered, other requests told to retry.
        let started = Instant::now();
        let (status, text) = request(addr, "/health");
        assert_eq!(status, 200, "{text}");
        assert!(started.elapsed() < Duration::from_secs(1));
        let (status, text) = request(addr, "/ready");
        assert_eq!(status, 200, "{text}");
        let (status, text) = request(addr, "/api/v1/bootstrap/");
        assert_eq!(status, 503, "{text}");
        assert!(
            text.to_ascii_lowercase().contains("connection: close"),
            "{text}"
        );
        // The header timeout closes the slow connections ...
        let started = Instant::now();
        for s in &mut slow {
            assert!(
                closed(s),
                "a client that never finished its headers is disconnected"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // ... and the slots are free again.
        let (status, text) = request(addr, "/api/v1/bootstrap/");
        assert_eq!(status, 200, "{text}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_large_bodies_say_connection_close() {
    let svc = start_with(&[("RSTUF_BODY_LIMIT", "4096")]).await;
    let addr = svc.service.addr.unwrap();
    tokio::task::spawn_blocking(move || {
        let mut s = connect(addr);
        let body = vec![b' '; 64 * 1024];
        let head = format!(
            "POST /api/v1/artifacts/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        let _ = s.write_all(&body);
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
        assert!(text.to_ascii_lowercase().contains("connection: close"), "{text}");
    })
    .await
    .unwrap();
    // A client library sees the close and uses a new connection.
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/artifacts/", svc.base);
    let r = client
        .post(&url)
        .body(vec![b' '; 64 * 1024])
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let r = client
        .get(format!("{}/health", svc.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[test]
fn auth_required_refuses_to_start_without_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let err =
        rstuf_host::config::Config::load(None, &[("RSTUF_AUTH_REQUIRED", "true")]).unwrap_err();
    assert!(err.to_string().contains("RSTUF_AUTH_TOKENS"), "{err}");
    assert!(rstuf_host::config::Config::load(
        None,
        &[
            ("RSTUF_AUTH_REQUIRED", "true"),
            (
                "RSTUF_AUTH_TOKENS",
                "a-long-enough-test-token=write:targets"
            )
        ]
    )
    .is_ok());

    // The real binary: refuses to start, with the reason on stderr.
    let bin = rstuf_tests::workspace_root().join("target/debug/rstuf-host");
    let out = std::process::Command::new(&bin)
        .arg("serve")
        .env("RSTUF_DATA_DIR", dir.path())
        .env("RSTUF_AUTH_REQUIRED", "true")
        .env("RSTUF_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("RSTUF_AUTH_REQUIRED"),
        "{out:?}"
    );
}

/// Listening beyond loopback without tokens starts (upstream's default)
/// but warns, naming the address.
#[test]
fn open_listener_without_tokens_warns() {
    let dir = tempfile::tempdir().unwrap();
    let bin = rstuf_tests::workspace_root().join("target/debug/rstuf-host");
    let mut child = std::process::Command::new(&bin)
        .arg("serve")
        .env("RSTUF_DATA_DIR", dir.path())
        .env(
            "RSTUF_PLUGIN_DIR",
            rstuf_tests::workspace_root().join("dist/plugins"),
        )
        .env("RSTUF_LISTEN", "0.0.0.0:0")
        .env("RSTUF_LOG_LEVEL", "warn")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    for pipe in [Box::new(stderr) as Box<dyn Read + Send>, Box::new(stdout)] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let found = loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) if line.contains("without authentication") => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) if Instant::now() > deadline => break None,
            Err(_) => {}
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let line = found.unwrap_or_else(|| panic!("no warning; output: {seen:#?}"));
    assert!(line.contains("WARN") && line.contains("0.0.0.0"), "{line}");
}

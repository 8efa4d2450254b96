//! Expiry monitoring against a running service with a controlled clock and
//! a real webhook receiver (the notify-webhook plugin): the
//! `rstuf_role_expires_timestamp_seconds` metric gives every role's expiry
//! (as the published metadata says); `/ready` stays quiet until root is
//! inside the warning window, then warns; the worker announces it once as
//! `dev.rstuf.metadata.expiring`. A half-signed DAS bootstrap shows as a
//! pending signing on `/ready`.

use rstuf_host::config::PluginEntry;
use rstuf_plugins::Grants;
use rstuf_tests::service::{start_configured, start_with, TestService};
use rstuf_tests::webhook::Receiver;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// `rstuf_role_expires_timestamp_seconds` by role.
async fn expiries(svc: &TestService) -> BTreeMap<String, i64> {
    svc.text("/metrics")
        .await
        .lines()
        .filter_map(|l| l.strip_prefix("rstuf_role_expires_timestamp_seconds{role=\""))
        .filter_map(|l| {
            let (role, rest) = l.split_once("\"} ")?;
            Some((role.to_string(), rest.trim().parse().ok()?))
        })
        .collect()
}

async fn published_expiry(svc: &TestService, file: &str) -> i64 {
    let doc: Value = svc
        .http
        .get(format!("{}/{file}", svc.metadata_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    rstuf_tuf::format::parse_time(doc["signed"]["expires"].as_str().unwrap())
        .unwrap()
        .timestamp()
}

async fn ready(svc: &TestService) -> Value {
    let (status, body) = svc.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready", "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_nearing_expiry_is_a_metric_a_ready_warning_and_one_webhook_event() {
    let receiver = Receiver::start().await;
    let hook = PluginEntry {
        name: "webhook".into(),
        file: "notify-webhook.wasm".into(),
        config: json!({
            "url": receiver.url(),
            "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "source": "https://tuf.example/",
            "max_retries": 0,
        }),
        grants: Grants {
            http_hosts: vec![receiver.authority()],
            ..Grants::default()
        },
    };
    let svc = start_configured(
        &[
            ("RSTUF_BUMP_ONLINE_ROLES_INTERVAL", "1"),
            ("RSTUF_EXPIRY_WARNING_DAYS", "30"),
        ],
        |c| c.plugins.notify = vec![hook],
    )
    .await;
    let payload = svc.ceremony(&["--bins", "4"]);
    svc.run("/api/v1/bootstrap/", &payload).await;

    let metric = expiries(&svc).await;
    let roles: Vec<&str> = metric.keys().map(String::as_str).collect();
    assert_eq!(roles, ["bins", "root", "snapshot", "targets", "timestamp"]);
    assert_eq!(metric["root"], published_expiry(&svc, "1.root.json").await);
    assert_eq!(
        metric["timestamp"],
        published_expiry(&svc, "timestamp.json").await
    );
    assert_eq!(
        metric["targets"],
        published_expiry(&svc, "1.targets.json").await
    );
    assert!(ready(&svc).await.get("warnings").is_none());

    // 345 of root's 365 days later: inside the 30-day window.
    let root_expires = metric["root"];
    let now = svc.clock.now().timestamp();
    svc.clock
        .advance(chrono::Duration::seconds(root_expires - now - 20 * 86400));
    let body = ready(&svc).await;
    let warnings = body["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(warnings.len(), 1, "{body}");
    assert_eq!(warnings[0]["role"], "root");
    assert_eq!(warnings[0]["renewal"], "key_holders");
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("root v1 expires in 19 days")
            || message.starts_with("root v1 expires in 20 days"),
        "{message}"
    );
    assert!(message.contains("rstuf admin metadata update"), "{message}");

    // The worker's next check announces it through the webhook.
    let deadline = Instant::now() + Duration::from_secs(30);
    let expiring = loop {
        let got: Vec<Value> = receiver
            .received()
            .iter()
            .map(|d| d.json())
            .filter(|e| e["type"] == "dev.rstuf.metadata.expiring")
            .collect();
        if !got.is_empty() {
            break got;
        }
        assert!(Instant::now() < deadline, "no expiry event arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let data = &expiring[0]["data"];
    assert_eq!(data["role"], "root", "{data}");
    assert_eq!(data["version"], 1);
    assert_eq!(data["renewal"], "key_holders");
    assert!(
        data["seconds_left"].as_i64().unwrap() <= 20 * 86400,
        "{data}"
    );

    // Announced once: the next checks find it already sent.
    let ctx = &svc.service.ctx;
    let again = rstuf_host::expiry::notify(
        &ctx.store,
        &ctx.outbox,
        ctx.clock.now(),
        chrono::Duration::days(30),
    )
    .await
    .unwrap();
    assert_eq!(again, 0);
    // The online roles were re-signed for the new time; root was not.
    let metric = expiries(&svc).await;
    assert!(
        metric["timestamp"] > svc.clock.now().timestamp(),
        "{metric:?}"
    );
    assert_eq!(metric["root"], root_expires);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_signed_bootstrap_is_a_pending_signing_on_ready() {
    let svc = start_with(&[("RSTUF_EXPIRY_WARNING_DAYS", "400")]).await;
    let payload = svc.ceremony(&["--sign", "1", "--bins", "2"]);
    let task = svc.submit("/api/v1/bootstrap/", &payload).await;
    assert_eq!(svc.wait(&task).await["state"], "SUCCESS");
    let body = ready(&svc).await;
    let warnings = body["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(warnings.len(), 1, "{body}");
    assert_eq!(warnings[0]["role"], "root");
    assert_eq!(warnings[0]["renewal"], "pending_signing");
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("rstuf admin metadata sign"),
        "{body}"
    );
    // Not bootstrapped yet: no role has published metadata to expire.
    assert!(expiries(&svc).await.is_empty());
}

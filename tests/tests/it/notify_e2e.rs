//! Publish notifications from the running service: with the
//! notify-webhook plugin configured, every publish pass is announced to a
//! real HTTP receiver with the roles and versions it wrote and the
//! artifacts it added and removed. A receiver that stops answering does
//! not hold publishing up: tasks keep succeeding, the bounded outbox drops
//! (and counts) what does not fit, and delivery resumes when the receiver
//! does.

use rstuf_host::config::PluginEntry;
use rstuf_plugins::Grants;
use rstuf_tests::service::{artifact, start_configured, TestService};
use rstuf_tests::webhook::{Delivery, Receiver};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// The first delivery whose event lists `path` as added (or removed).
fn announcing<'a>(got: &'a [Delivery], list: &str, path: &str) -> Option<&'a Delivery> {
    got.iter().find(|d| {
        d.json()["data"]["artifacts"][list]
            .as_array()
            .is_some_and(|a| a.iter().any(|p| p == path))
    })
}

async fn served_version(svc: &TestService, role: &str) -> i64 {
    let r: Value = svc
        .http
        .get(format!("{}/{role}.json", svc.metadata_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["signed"]["version"].as_i64().unwrap()
}

async fn dropped(svc: &TestService) -> u64 {
    let text = svc.text("/metrics").await;
    text.lines()
        .find(|l| l.starts_with("rstuf_notify_events_total") && l.contains("outcome=\"dropped\""))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_are_announced_and_a_stalled_receiver_never_blocks_them() {
    let receiver = Receiver::start().await;
    let hook = PluginEntry {
        name: "webhook".into(),
        file: "notify-webhook.wasm".into(),
        config: json!({
            "url": receiver.url(),
            "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "source": "https://tuf.example/",
            "timeout_ms": 20000,
            "max_retries": 0,
        }),
        grants: Grants {
            http_hosts: vec![receiver.authority()],
            ..Grants::default()
        },
    };
    let svc = start_configured(&[], |c| {
        c.plugins.notify = vec![hook];
        c.plugins.notify_outbox = 2;
    })
    .await;
    let payload = svc.ceremony(&["--bins", "8"]);
    svc.run("/api/v1/bootstrap/", &payload).await;

    // Additions: announced with every role version the pass wrote.
    let adds: Vec<Value> = (0..4)
        .map(|i| artifact(&format!("pkg/{i}.tar.gz"), 10 + i))
        .collect();
    svc.run("/api/v1/artifacts/", &json!({ "artifacts": adds }))
        .await;
    let mut got = receiver.wait_for(1, WAIT).await;
    while announcing(&got, "added", "pkg/3.tar.gz").is_none() {
        got = receiver.wait_for(got.len() + 1, WAIT).await;
    }
    let event = announcing(&got, "added", "pkg/0.tar.gz")
        .expect("one pass announces the whole batch")
        .json();
    assert_eq!(event["type"], "dev.rstuf.metadata.published");
    assert_eq!(event["source"], "https://tuf.example/");
    let roles = &event["data"]["roles"];
    assert_eq!(roles["timestamp"], served_version(&svc, "timestamp").await);
    assert!(roles["snapshot"].as_i64().unwrap() >= 2, "{roles}");
    assert!(
        roles
            .as_object()
            .unwrap()
            .keys()
            .any(|r| r.starts_with("bins-")),
        "{roles}"
    );

    // A removal.
    svc.run(
        "/api/v1/artifacts/delete",
        &json!({ "artifacts": ["pkg/3.tar.gz"] }),
    )
    .await;
    let mut got = receiver.wait_for(got.len() + 1, WAIT).await;
    while announcing(&got, "removed", "pkg/3.tar.gz").is_none() {
        got = receiver.wait_for(got.len() + 1, WAIT).await;
    }
    let before_stall = got.len();

    // The receiver stalls: it takes requests and never answers. Publishing
    // carries on; one event is in flight, two wait, the rest are dropped.
    receiver.hold(true);
    for i in 0..6 {
        svc.run(
            "/api/v1/artifacts/",
            &json!({ "artifacts": [artifact(&format!("late/{i}.whl"), 5)] }),
        )
        .await;
    }
    receiver.wait_for(before_stall + 1, WAIT).await;
    assert!(
        dropped(&svc).await >= 3,
        "events beyond the outbox are dropped"
    );
    svc.verify(&["pkg/0.tar.gz", "late/5.whl"], &["pkg/3.tar.gz"], None)
        .await;

    // The receiver recovers: what was queued arrives.
    receiver.hold(false);
    let got = receiver.wait_for(before_stall + 3, WAIT).await;
    assert!(announcing(&got, "added", "late/0.whl").is_some());
}

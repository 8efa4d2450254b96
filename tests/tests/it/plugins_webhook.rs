//! The notify-webhook plugin through the real runtime, POSTing to a real
//! HTTP receiver on loopback: CloudEvents structured JSON, Standard
//! Webhooks signatures checked here with an independent HMAC, retries on
//! 5xx, final errors on 4xx, the sandbox's host grant, an unreachable
//! receiver, and configuration errors.

use base64::Engine;
use hmac::{Hmac, Mac};
use rstuf_plugins::{BackendErrorKind, Event, Notifier, PluginKind};
use rstuf_tests::servers::free_ports;
use rstuf_tests::webhook::{Delivery, Receiver};
use rstuf_tests::{network_spec, runtime};
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn notifier(config: Value, hosts: &[String]) -> Notifier {
    runtime()
        .load_notify(&network_spec(
            "notify-webhook",
            PluginKind::Notify,
            config,
            hosts,
        ))
        .await
        .unwrap()
}

fn event(id: &str) -> Event {
    Event {
        id: id.into(),
        kind: "dev.rstuf.metadata.published".into(),
        time: "2026-11-25T10:00:00Z".into(),
        data: json!({"roles": {"bins-3": 4, "snapshot": 9, "timestamp": 9},
                     "artifacts": {"added": ["pkg/a-1.0.tar.gz"], "removed": []}})
        .to_string(),
    }
}

/// Check `webhook-signature` the way a Standard Webhooks receiver does.
fn signature_is_valid(d: &Delivery) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.",
        d.header("webhook-id").unwrap(),
        d.header("webhook-timestamp").unwrap()
    );
    mac.update(signed.as_bytes());
    mac.update(&d.body);
    let want = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    d.header("webhook-signature")
        .is_some_and(|h| h.split(' ').any(|s| s == want))
}

#[tokio::test]
async fn signed_cloudevents_are_delivered_and_retried() {
    let receiver = Receiver::start().await;
    let hook = notifier(
        json!({
            "url": receiver.url(), "secret": SECRET, "source": "https://repo.example/",
            "headers": {"Authorization": "Bearer receiver-token-123"},
        }),
        &[receiver.authority()],
    )
    .await;
    assert_eq!(hook.info().name, "notify-webhook");

    // Two failures, then success: three signed attempts of one event.
    receiver.script(&[503, 500]);
    hook.deliver(&event("evt-1")).await.unwrap();
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    for d in &got {
        assert!(signature_is_valid(d), "{:?}", d.headers);
        assert_eq!(d.header("webhook-id"), Some("evt-1"));
        assert_eq!(d.header("authorization"), Some("Bearer receiver-token-123"));
        assert!(d
            .header("content-type")
            .unwrap()
            .starts_with("application/cloudevents+json"));
        let ce = d.json();
        assert_eq!(ce["specversion"], "1.0");
        assert_eq!(ce["id"], "evt-1");
        assert_eq!(ce["type"], "dev.rstuf.metadata.published");
        assert_eq!(ce["source"], "https://repo.example/");
        assert_eq!(ce["data"]["roles"]["snapshot"], 9);
        assert_eq!(ce["data"]["artifacts"]["added"][0], "pkg/a-1.0.tar.gz");
    }

    // A tampered body no longer matches its signature.
    let mut forged = got[0].clone();
    forged.body = forged.body.replace_all_bytes(b"a-1.0", b"b-6.6");
    assert!(!signature_is_valid(&forged));

    // 4xx is final: not retried, reported by kind.
    receiver.script(&[401]);
    let err = hook.deliver(&event("evt-2")).await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");
    receiver.script(&[400]);
    let err = hook.deliver(&event("evt-3")).await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::InvalidInput),
        "{err}"
    );
    assert_eq!(receiver.received().len(), 5);

    // Without a secret, events go unsigned.
    let unsigned = notifier(json!({ "url": receiver.url() }), &[receiver.authority()]).await;
    unsigned.deliver(&event("evt-4")).await.unwrap();
    let last = receiver.received().pop().unwrap();
    assert_eq!(last.header("webhook-signature"), None);
    assert_eq!(last.header("webhook-id"), Some("evt-4"));
}

trait ReplaceBytes {
    fn replace_all_bytes(&self, from: &[u8], to: &[u8]) -> Vec<u8>;
}

impl ReplaceBytes for Vec<u8> {
    fn replace_all_bytes(&self, from: &[u8], to: &[u8]) -> Vec<u8> {
        String::from_utf8_lossy(self)
            .replace(
                std::str::from_utf8(from).unwrap(),
                std::str::from_utf8(to).unwrap(),
            )
            .into_bytes()
    }
}

#[tokio::test]
async fn the_sandbox_only_lets_the_plugin_reach_its_granted_host() {
    let granted = Receiver::start().await;
    let other = Receiver::start().await;
    // Configured to post to `other`, granted only `granted`.
    let hook = notifier(
        json!({ "url": other.url(), "secret": SECRET, "max_retries": 0 }),
        &[granted.authority()],
    )
    .await;
    let err = hook.deliver(&event("evt-x")).await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");
    assert!(err.to_string().contains("http_hosts"), "{err}");
    assert!(!err.to_string().contains("MfKQ9r8G"), "{err}");
    assert!(other.received().is_empty() && granted.received().is_empty());
}

#[tokio::test]
async fn an_unreachable_receiver_is_reported_as_unavailable() {
    let port = free_ports(1)[0];
    let hook = notifier(
        json!({ "url": format!("http://127.0.0.1:{port}/hook?token=query-secret"), "max_retries": 1 }),
        &[format!("127.0.0.1:{port}")],
    )
    .await;
    let err = hook.deliver(&event("evt-u")).await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::Unavailable),
        "{err}"
    );
    assert!(err.to_string().contains("2 attempt(s)"), "{err}");
    assert!(!err.to_string().contains("query-secret"), "{err}");
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_abandoned_at_the_timeout() {
    let receiver = Receiver::start().await;
    receiver.hold(true);
    let hook = notifier(
        json!({ "url": receiver.url(), "timeout_ms": 300, "max_retries": 0 }),
        &[receiver.authority()],
    )
    .await;
    let err = hook.deliver(&event("evt-slow")).await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::Unavailable),
        "{err}"
    );
    receiver.wait_for(1, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn invalid_configuration_names_the_key() {
    for (config, key) in [
        (json!({}), "url"),
        (json!({ "url": "hooks.example.com/x" }), "url"),
        (json!({ "url": "http://h/x", "secret": "short" }), "secret"),
        (
            json!({ "url": "http://h/x", "headers": {"webhook-id": "x"} }),
            "headers",
        ),
        (
            json!({ "url": "http://h/x", "max_retries": 99 }),
            "max_retries",
        ),
    ] {
        let err = runtime()
            .load_notify(&network_spec(
                "notify-webhook",
                PluginKind::Notify,
                config.clone(),
                &[],
            ))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("notify-webhook") && err.contains(key),
            "{config}: {err}"
        );
        assert!(!err.contains("short\""), "{err}");
    }
}

//! The `/status` page in a real headless Chromium with JavaScript turned
//! off, loaded from a running service: what a person sees is the bootstrap
//! state, every role with its version and expiry, warnings once root is
//! inside its window, recent tasks by name and the publish rate. The
//! page's source has no script and no external asset. A screenshot is
//! written to target/status-page.png (docs/status-page.png is one).

use rstuf_tests::browser::Browser;
use rstuf_tests::service::{artifact, start_with};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_roles_warnings_tasks_and_publishing_without_javascript() {
    let svc = start_with(&[("RSTUF_EXPIRY_WARNING_DAYS", "30")]).await;
    let browser = Browser::start(false).await;
    let url = format!("{}/status", svc.base);

    // Before bootstrap.
    browser.open(&url).await;
    assert_eq!(browser.text("#bootstrap").await, "None");
    assert!(browser
        .text("body")
        .await
        .contains("No metadata published yet."));

    let payload = svc.ceremony(&["--bins", "4"]);
    svc.run("/api/v1/bootstrap/", &payload).await;
    for i in 0..3 {
        svc.run(
            "/api/v1/artifacts/",
            &json!({ "artifacts": [artifact(&format!("status/{i}.tgz"), i + 1)] }),
        )
        .await;
    }

    browser.open(&url).await;
    assert_eq!(browser.text("#bootstrap").await, "finished");
    let rows = browser.texts("#roles tbody tr").await;
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["root", "targets", "snapshot", "timestamp", "bins"],
        "{rows:?}"
    );
    assert!(rows[0].starts_with("root 1 "), "{rows:?}");
    assert!(rows[0].contains("key holders"), "{rows:?}");
    assert!(rows[3].contains("service (online key)"), "{rows:?}");
    assert!(
        browser.texts("#warnings").await.is_empty(),
        "no warnings yet"
    );
    assert_eq!(browser.text("#no-pending").await, "None.");
    let tasks = browser.texts("#tasks tbody tr").await;
    assert_eq!(tasks.len(), 4, "{tasks:?}");
    assert!(tasks[0].contains("add_artifacts SUCCESS"), "{tasks:?}");
    assert!(tasks[3].contains("bootstrap SUCCESS"), "{tasks:?}");
    let hour: u64 = browser.text("#passes-hour b").await.parse().unwrap();
    assert!(hour >= 1, "publish passes in the last hour: {hour}");
    assert!(browser
        .text("#last-pass")
        .await
        .starts_with("Last pass: snapshot "));

    // 340 days on: root is inside its 30-day window.
    svc.clock.advance(chrono::Duration::days(340));
    browser.open(&url).await;
    let warnings = browser.text("#warnings").await;
    assert!(warnings.contains("root v1 expires in"), "{warnings}");
    assert!(
        warnings.contains("rstuf admin metadata update"),
        "{warnings}"
    );
    let shot = browser.screenshot().await;
    assert!(shot.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(
        rstuf_tests::workspace_root().join("target/status-page.png"),
        &shot,
    )
    .unwrap();
    browser.close().await;

    // No script, no external asset, and a policy that would block both.
    let response = svc.http.get(&url).send().await.unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    let html = response.text().await.unwrap();
    for forbidden in ["<script", "src=", "<link", "@import"] {
        assert!(!html.contains(forbidden), "{forbidden} in the page");
    }
}

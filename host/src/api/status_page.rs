//! `GET /status`: a server-rendered page for the people who run the
//! repository. Roles with their versions and expiry on a timeline,
//! warnings and signings under way, recent tasks and the publish rate,
//! from the same sources as the metrics, `/ready` and the audit log.
//! One HTML document with inline CSS: no external assets and no
//! JavaScript, so it works offline, behind strict content policies and in
//! any browser. Every value from the database is escaped.

use super::AppState;
use crate::expiry::{Expiry, Renewal};
use crate::state::{BootstrapState, BOOTSTRAP};
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use rstuf_api::audit::AuditEntry;
use std::fmt::Write as _;

/// Audit entries read for the page (recent tasks and the publish rate).
const RECENT_ENTRIES: u64 = 500;
/// Tasks listed.
const RECENT_TASKS: usize = 20;

/// What the page shows.
#[derive(Debug, Default)]
pub struct StatusData {
    pub now: DateTime<Utc>,
    pub bootstrap: String,
    pub expiries: Vec<Expiry>,
    pub warning_window: Duration,
    /// Newest last.
    pub recent: Vec<AuditEntry>,
    /// Parts that could not be read (a dependency down), named.
    pub unavailable: Vec<&'static str>,
}

pub async fn status_page(State(state): State<AppState>) -> Response {
    let mut data = StatusData {
        now: state.clock.now(),
        warning_window: state.expiry_warning,
        ..StatusData::default()
    };
    match state.store.setting(BOOTSTRAP).await {
        Ok(v) => data.bootstrap = BootstrapState::from_setting(v.as_ref()).word().to_string(),
        Err(_) => data.unavailable.push("bootstrap state"),
    }
    match state.store.expiries().await {
        Ok(e) => data.expiries = e,
        Err(_) => data.unavailable.push("roles"),
    }
    match recent(&state).await {
        Some(entries) => data.recent = entries,
        None => data.unavailable.push("audit log"),
    }
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        Html(render(&data)),
    )
        .into_response()
}

async fn recent(state: &AppState) -> Option<Vec<AuditEntry>> {
    let head = state.store.audit_page(i64::MAX - 1, 1).await.ok()?.head;
    let after = (head.seq - RECENT_ENTRIES as i64).max(0);
    Some(
        state
            .store
            .audit_page(after, RECENT_ENTRIES)
            .await
            .ok()?
            .entries,
    )
}

/// HTML-escape text for element content and quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn left(d: Duration) -> String {
    if d <= Duration::zero() {
        "expired".into()
    } else if d < Duration::hours(2) {
        format!("{} min", d.num_minutes())
    } else if d < Duration::days(2) {
        format!("{} h", d.num_hours())
    } else {
        format!("{} days", d.num_days())
    }
}

fn renewal(r: Renewal) -> &'static str {
    match r {
        Renewal::Online => "service (online key)",
        Renewal::KeyHolders => "key holders",
        Renewal::PendingSigning => "signing under way",
    }
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:64rem;padding:0 1rem;color:#1d232a}\
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #dde2e8;vertical-align:middle}\
th{font-weight:600;color:#4a5663}.muted{color:#6b7785}.mono{font-family:ui-monospace,monospace;font-size:.85em}\
.bar{background:#eef1f4;height:.8rem;border-radius:.4rem;position:relative;min-width:10rem}\
.fill{background:#3b82c4;height:100%;border-radius:.4rem}.fill.warn{background:#d9822b}.fill.expired{background:#c0392b}\
.alert{background:#fff4e5;border-left:4px solid #d9822b;padding:.5rem .75rem;margin:.5rem 0}\
.down{background:#fdecea;border-left:4px solid #c0392b;padding:.5rem .75rem;margin:.5rem 0}\
.stats{display:flex;gap:2rem;flex-wrap:wrap}.stat b{display:block;font-size:1.4rem}";

/// The whole page.
pub fn render(d: &StatusData) -> String {
    let mut h = String::with_capacity(16 << 10);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Repository status</title><style>{STYLE}</style></head><body>\
         <h1>Repository status</h1><p class=\"muted\">Bootstrap: <span id=\"bootstrap\">{}</span> · \
         as of {} · <a href=\"/docs\">API</a> · <a href=\"/metrics\">metrics</a></p>",
        esc(&d.bootstrap),
        esc(&rstuf_tuf::format::format_time(d.now)),
    );
    for part in &d.unavailable {
        let _ = write!(
            h,
            "<div class=\"down\">The {} could not be read: a dependency is unavailable.</div>",
            esc(part)
        );
    }
    warnings(&mut h, d);
    roles(&mut h, d);
    pending(&mut h, d);
    publishing(&mut h, d);
    tasks(&mut h, d);
    h.push_str("</body></html>");
    h
}

fn warnings(h: &mut String, d: &StatusData) {
    if d.warning_window <= Duration::zero() {
        return;
    }
    let due = crate::expiry::warnings(&d.expiries, d.now, d.warning_window);
    if due.is_empty() {
        return;
    }
    h.push_str("<section id=\"warnings\"><h2>Needs attention</h2>");
    for e in due {
        let _ = write!(h, "<div class=\"alert\">{}</div>", esc(&e.message(d.now)));
    }
    h.push_str("</section>");
}

fn roles(h: &mut String, d: &StatusData) {
    h.push_str("<section><h2>Roles</h2>");
    let roles: Vec<&Expiry> = d
        .expiries
        .iter()
        .filter(|e| e.renewal != Renewal::PendingSigning)
        .collect();
    if roles.is_empty() {
        h.push_str("<p class=\"muted\">No metadata published yet.</p></section>");
        return;
    }
    // The timeline runs from now to the latest expiry.
    let horizon = roles
        .iter()
        .map(|e| (e.expires - d.now).num_seconds())
        .max()
        .unwrap_or(1)
        .max(1);
    h.push_str(
        "<table id=\"roles\"><thead><tr><th>Role</th><th>Version</th><th>Expires</th>\
         <th>Left</th><th>Renewed by</th><th style=\"width:30%\">Timeline</th></tr></thead><tbody>",
    );
    for e in roles {
        let remaining = e.expires - d.now;
        let pct =
            (remaining.num_seconds().max(0) as f64 / horizon as f64 * 100.0).clamp(0.0, 100.0);
        let class = if remaining <= Duration::zero() {
            "fill expired"
        } else if e.needs_people() && remaining <= d.warning_window {
            "fill warn"
        } else {
            "fill"
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td>\
             <td><div class=\"bar\" title=\"{}\"><div class=\"{class}\" style=\"width:{pct:.1}%\"></div></div></td></tr>",
            esc(&e.role),
            e.version.map(|v| v.to_string()).unwrap_or_default(),
            esc(&rstuf_tuf::format::format_time(e.expires)),
            left(remaining),
            renewal(e.renewal),
            esc(&left(remaining)),
        );
    }
    h.push_str("</tbody></table></section>");
}

fn pending(h: &mut String, d: &StatusData) {
    let pending: Vec<&Expiry> = d
        .expiries
        .iter()
        .filter(|e| e.renewal == Renewal::PendingSigning)
        .collect();
    h.push_str("<section><h2>Signings under way</h2>");
    if pending.is_empty() {
        h.push_str("<p class=\"muted\" id=\"no-pending\">None.</p></section>");
        return;
    }
    h.push_str(
        "<table id=\"pending\"><thead><tr><th>Role</th><th>Version</th><th>Expires</th><th>Left</th></tr></thead><tbody>",
    );
    for e in pending {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            esc(&e.role),
            e.version.map(|v| v.to_string()).unwrap_or_default(),
            esc(&rstuf_tuf::format::format_time(e.expires)),
            left(e.expires - d.now),
        );
    }
    h.push_str(
        "</tbody></table><p class=\"muted\">Who has signed and who is missing: \
         <code>rstuf admin metadata status</code>.</p></section>",
    );
}

fn publishing(h: &mut String, d: &StatusData) {
    let passes: Vec<&AuditEntry> = d
        .recent
        .iter()
        .filter(|e| e.action == crate::audit::PUBLISH)
        .collect();
    let within = |span: Duration| {
        passes
            .iter()
            .filter(|e| within_entry(e, d.now, span))
            .count()
    };
    let (hour, day) = (within(Duration::hours(1)), within(Duration::days(1)));
    let last = passes.last().map(|e| {
        let v = &e.detail["versions"];
        format!(
            "snapshot {} · timestamp {} · {}",
            v["snapshot"], v["timestamp"], e.at
        )
    });
    let _ = write!(
        h,
        "<section><h2>Publishing</h2><div class=\"stats\">\
         <div class=\"stat\" id=\"passes-hour\"><b>{hour}</b>passes in the last hour</div>\
         <div class=\"stat\" id=\"passes-day\"><b>{day}</b>passes in the last 24 hours</div>\
         <div class=\"stat\"><b>{}</b>artifacts published in the last hour</div></div>\
         <p class=\"muted\" id=\"last-pass\">Last pass: {}</p></section>",
        passes
            .iter()
            .filter(|e| within_entry(e, d.now, Duration::hours(1)))
            .filter_map(|e| e.detail["artifacts_published"].as_u64())
            .sum::<u64>(),
        esc(&last.unwrap_or_else(|| "none recorded".into())),
    );
}

fn within_entry(e: &AuditEntry, now: DateTime<Utc>, span: Duration) -> bool {
    DateTime::parse_from_rfc3339(&e.at).is_ok_and(|t| now - t.to_utc() <= span)
}

fn tasks(h: &mut String, d: &StatusData) {
    h.push_str("<section><h2>Recent tasks</h2>");
    let tasks: Vec<&AuditEntry> = d
        .recent
        .iter()
        .rev()
        .filter(|e| e.action != crate::audit::PUBLISH)
        .take(RECENT_TASKS)
        .collect();
    if tasks.is_empty() {
        h.push_str("<p class=\"muted\">None recorded.</p></section>");
        return;
    }
    h.push_str(
        "<table id=\"tasks\"><thead><tr><th>When</th><th>Task</th><th>State</th><th>Id</th></tr></thead><tbody>",
    );
    for e in tasks {
        let state = e.detail["state"].as_str().unwrap_or("");
        let _ = write!(
            h,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
            esc(&e.at),
            esc(&e.action),
            esc(state),
            esc(e.task_id.as_deref().unwrap_or("")),
        );
    }
    h.push_str("</tbody></table></section>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        rstuf_tuf::format::parse_time(s).unwrap()
    }

    #[test]
    fn the_page_escapes_names_warns_and_has_no_script() {
        let now = at("2026-12-01T00:00:00Z");
        let data = StatusData {
            now,
            bootstrap: "finished".into(),
            warning_window: Duration::days(14),
            expiries: vec![
                Expiry {
                    role: "root".into(),
                    version: Some(2),
                    expires: at("2026-12-08T00:00:00Z"),
                    renewal: Renewal::KeyHolders,
                },
                Expiry {
                    role: "<team&co>".into(),
                    version: Some(4),
                    expires: at("2027-06-01T00:00:00Z"),
                    renewal: Renewal::KeyHolders,
                },
                Expiry {
                    role: "release".into(),
                    version: Some(5),
                    expires: at("2026-12-10T00:00:00Z"),
                    renewal: Renewal::PendingSigning,
                },
            ],
            recent: vec![
                AuditEntry {
                    seq: 1,
                    at: "2026-11-30T23:30:00.000000Z".into(),
                    action: "publish".into(),
                    task_id: None,
                    detail: json!({ "versions": { "snapshot": 9, "timestamp": 12 }, "artifacts_published": 3 }),
                    prev: String::new(),
                    hash: String::new(),
                },
                AuditEntry {
                    seq: 2,
                    at: "2026-11-30T23:31:00.000000Z".into(),
                    action: "add_artifacts".into(),
                    task_id: Some("\"><script>".into()),
                    detail: json!({ "state": "SUCCESS" }),
                    prev: String::new(),
                    hash: String::new(),
                },
            ],
            unavailable: vec![],
        };
        let page = render(&data);
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;team&amp;co&gt;"));
        assert!(page.contains("&quot;&gt;&lt;script&gt;"));
        assert!(page.contains("root v2 expires in 7 days"));
        assert!(page.contains("pending release v5"));
        assert!(page.contains("<b>1</b>passes in the last hour"));
        assert!(page.contains("<b>3</b>artifacts published"));
        assert!(page.contains("snapshot 9 · timestamp 12"));
        assert!(page.contains("fill warn"));
    }
}

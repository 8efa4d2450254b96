//! A real HTTP server that receives webhook deliveries, for the
//! `notify-webhook` tests: it records every request (headers and body),
//! answers with scripted statuses, and can hold requests open until
//! released, to play a slow receiver.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// One received request.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Delivery {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("delivery body is JSON")
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Delivery>>,
    /// Statuses for the next requests; 204 once empty.
    script: Mutex<VecDeque<u16>>,
    arrived: Notify,
}

/// The receiver, listening on 127.0.0.1 at `/hook`.
pub struct Receiver {
    pub port: u16,
    shared: Arc<Shared>,
    /// `true`: requests wait until it turns `false`.
    hold: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

async fn receive(
    State((shared, hold)): State<(Arc<Shared>, watch::Receiver<bool>)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let delivery = Delivery {
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect(),
        body: body.to_vec(),
    };
    shared.received.lock().unwrap().push(delivery);
    shared.arrived.notify_waiters();
    let mut hold = hold;
    let _ = hold.wait_for(|held| !*held).await;
    let status = shared.script.lock().unwrap().pop_front().unwrap_or(204);
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let port = listener.local_addr().expect("address").port();
        let shared = Arc::new(Shared::default());
        let (hold, held) = watch::channel(false);
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state((shared.clone(), held));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            port,
            shared,
            hold,
            task,
        }
    }

    /// `http://127.0.0.1:<port>/hook`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// `127.0.0.1:<port>`, for the `http_hosts` grant.
    pub fn authority(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Answer the next requests with these statuses (then 204).
    pub fn script(&self, statuses: &[u16]) {
        self.shared.script.lock().unwrap().extend(statuses);
    }

    /// Hold every request open (`true`) or let them all answer (`false`).
    pub fn hold(&self, held: bool) {
        self.hold.send_replace(held);
    }

    pub fn received(&self) -> Vec<Delivery> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Wait until `n` requests have arrived; panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "expected {n} webhook deliveries, got {} after {timeout:?}",
                got.len()
            );
            let _ = tokio::time::timeout(left, arrived).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.hold.send_replace(false);
        self.task.abort();
    }
}

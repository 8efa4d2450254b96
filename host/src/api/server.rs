//! The HTTP listener: axum's router behind our own accept loop, because a
//! public service needs limits `axum::serve` does not set.
//!
//! - **Header-read timeout.** A client that does not finish its request
//!   headers within `header_read_timeout_secs` is disconnected (hyper's
//!   HTTP/1 timer), so slow or idle connections cannot be held for ever.
//! - **Connection cap.** At most `max_connections` connections are served
//!   at once. Past the cap a few spare connections ([`SPARE`]) are still
//!   accepted, with a short header timeout and no keep-alive, and answer
//!   only `/health` and `/ready` (everything else: 503 with
//!   `Connection: close`), so an orchestrator's probes keep working while
//!   the service is saturated. Connections beyond those are closed at once
//!   instead of waiting in the kernel's backlog.
//! - **Graceful stop.** On shutdown the listener closes and open
//!   connections finish their in-flight requests.
//! - **TLS** ([`super::tls`]) when configured: the handshake runs in the
//!   connection's own task, bounded by the header-read timeout, so a slow
//!   or failed handshake costs only that client.

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::Watcher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Connections accepted past the cap, for health probes only.
pub const SPARE: usize = 16;
/// Header-read timeout of a spare connection.
const SPARE_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// Limits of the listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

/// Counts one live connection of a pool for as long as it lives.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(count: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(count.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serve `app` on `listener` (over TLS when `tls` is set) until `stop`
/// resolves.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<Arc<super::tls::Tls>>,
    stop: impl std::future::Future<Output = ()>,
) {
    let normal = Arc::new(AtomicUsize::new(0));
    let spare = Arc::new(AtomicUsize::new(0));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let probes_only = app
        .clone()
        .layer(axum::middleware::map_request(only_probes));
    tokio::pin!(stop);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off, go on.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let (slot, router, header_timeout, keep_alive) =
            if let Some(slot) = Slot::take(&normal, limits.max_connections) {
                (slot, app.clone(), limits.header_read_timeout, true)
            } else if let Some(slot) = Slot::take(&spare, SPARE) {
                (slot, probes_only.clone(), SPARE_HEADER_TIMEOUT, false)
            } else {
                drop(stream);
                continue;
            };
        let watcher = graceful.watcher();
        let tls = tls.as_ref().map(|t| t.current());
        tokio::spawn(async move {
            // Ends on a closed connection, a protocol error or a timeout;
            // none of these concern anyone but that client.
            let _slot = slot;
            let Some(config) = tls else {
                serve_io(
                    TokioIo::new(stream),
                    router,
                    header_timeout,
                    keep_alive,
                    watcher,
                )
                .await;
                return;
            };
            let handshake = tokio_rustls::TlsAcceptor::from(config).accept(stream);
            if let Ok(Ok(stream)) = tokio::time::timeout(header_timeout, handshake).await {
                serve_io(
                    TokioIo::new(stream),
                    router,
                    header_timeout,
                    keep_alive,
                    watcher,
                )
                .await;
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serve HTTP/1.1 or HTTP/2 on one connection until it ends.
async fn serve_io<I>(
    io: I,
    router: Router,
    header_timeout: Duration,
    keep_alive: bool,
    watcher: Watcher,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
        router.clone().oneshot(request.map(Body::new))
    });
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(keep_alive);
    let connection = builder
        .serve_connection_with_upgrades(io, service)
        .into_owned();
    let _ = watcher.watch(connection).await;
}

/// Past the connection cap: probes pass, everything else is told to come
/// back later.
async fn only_probes(request: Request<Body>) -> Result<Request<Body>, Response<Body>> {
    match request.uri().path() {
        "/health" | "/ready" => Ok(request),
        _ => Err(Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONNECTION, "close")
            .header(header::RETRY_AFTER, "1")
            .body(Body::from(
                r#"{"detail":{"message":"Service temporarily unavailable","error":"the server is at its connection limit; retry later"}}"#,
            ))
            .unwrap_or_default()),
    }
}

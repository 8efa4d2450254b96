//! The per-instance sandbox: the state wasmtime keeps for one plugin
//! instance, and the policy it enforces.
//!
//! - Filesystem: only the directories in [`Grants::dirs`] are preopened.
//! - Network: no sockets; outgoing HTTP (wasi:http) only to the hosts in
//!   [`Grants::http_hosts`], checked on every request.
//! - Memory: linear memories and tables may not grow past the cap.
//! - CPU: the engine's epoch ticks every [`TICK`]; each tick that lands
//!   while the instance runs costs one unit of its per-call budget, and the
//!   instance yields to the async executor at every tick so a spinning
//!   plugin never starves other tasks.

use crate::spec::Grants;
use crate::PluginError;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreContextMut, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// How often the engine's epoch advances.
pub(crate) const TICK: Duration = Duration::from_millis(5);

/// Longest log line a plugin may write through `host-log`.
const MAX_LOG_LINE: usize = 4096;

pub(crate) struct HostState {
    pub(crate) plugin: String,
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: AllowlistHooks,
    pub(crate) limits: Limits,
    /// Epoch ticks this call may still run for.
    ticks_left: u64,
    /// Set when the CPU budget ran out, so the trap can be named.
    pub(crate) cpu_exhausted: bool,
}

impl HostState {
    pub(crate) fn new(plugin: &str, grants: &Grants) -> Result<Self, PluginError> {
        let mut builder = WasiCtxBuilder::new();
        builder
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        for dir in &grants.dirs {
            let perms = if dir.read_only {
                FsPerms::ReadOnly
            } else {
                FsPerms::ReadWrite
            };
            builder
                .preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|e| PluginError::Grant {
                    plugin: plugin.to_string(),
                    reason: format!("cannot open directory {}: {e}", dir.host.display()),
                })?;
        }
        Ok(HostState {
            plugin: plugin.to_string(),
            wasi: builder.build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: AllowlistHooks {
                allowed: grants.http_hosts.clone(),
                plugin: plugin.to_string(),
            },
            limits: Limits {
                memory_bytes: usize::try_from(grants.memory_mib.saturating_mul(1 << 20))
                    .unwrap_or(usize::MAX),
                hit: false,
            },
            ticks_left: 0,
            cpu_exhausted: false,
        })
    }

    /// Arm the CPU budget for the next call.
    pub(crate) fn arm(&mut self, cpu_budget: Duration) {
        self.ticks_left = (cpu_budget.as_millis() / TICK.as_millis()).max(1) as u64;
        self.cpu_exhausted = false;
    }

    pub(crate) fn log(&self, level: LogLevel, message: &str) {
        let mut end = message.len().min(MAX_LOG_LINE);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let message = &message[..end];
        let plugin = self.plugin.as_str();
        match level {
            LogLevel::Trace => tracing::trace!(plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(plugin, "{message}"),
            LogLevel::Info => tracing::info!(plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin, "{message}"),
            LogLevel::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

/// The levels of the WIT `log-level` enum, independent of which world's
/// bindings produced them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Called by wasmtime whenever the epoch passes the instance's deadline
/// while it is running.
pub(crate) fn on_epoch(
    mut ctx: StoreContextMut<'_, HostState>,
) -> wasmtime::Result<UpdateDeadline> {
    let state = ctx.data_mut();
    if state.ticks_left == 0 {
        state.cpu_exhausted = true;
        return Ok(UpdateDeadline::Interrupt);
    }
    state.ticks_left -= 1;
    Ok(UpdateDeadline::Yield(1))
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// Memory and table caps for one instance.
pub(crate) struct Limits {
    memory_bytes: usize,
    /// Set when a grow was refused, so the resulting trap can be named.
    pub(crate) hit: bool,
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        const MAX_TABLE_ELEMENTS: usize = 1 << 20;
        if desired > MAX_TABLE_ELEMENTS {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }
}

/// wasi:http hooks that refuse any request whose authority is not granted.
struct AllowlistHooks {
    allowed: Vec<String>,
    plugin: String,
}

impl AllowlistHooks {
    fn permits(&self, uri: &http::Uri) -> bool {
        let Some(host) = uri.host() else {
            return false;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().or_else(|| match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        });
        self.allowed
            .iter()
            .any(|grant| host_matches(grant, host, port))
    }
}

/// Does `grant` (`host`, `host:port`, `[v6]:port`) cover this destination?
pub(crate) fn host_matches(grant: &str, host: &str, port: Option<u16>) -> bool {
    let (grant_host, grant_port) = split_grant(grant);
    if !grant_host.eq_ignore_ascii_case(host) {
        return false;
    }
    match grant_port {
        None => true,
        Some(p) => port == Some(p),
    }
}

fn split_grant(grant: &str) -> (&str, Option<u16>) {
    if let Some(rest) = grant.strip_prefix('[') {
        if let Some((h, tail)) = rest.split_once(']') {
            let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
            return (h, port);
        }
    }
    match grant.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h, Some(port)),
            Err(_) => (grant, None),
        },
        _ => (grant, None),
    }
}

impl WasiHttpHooks for AllowlistHooks {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn std::future::Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<
                            dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>>
                                + Send,
                        >,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        drop(fut);
        if !self.permits(request.uri()) {
            tracing::warn!(
                plugin = %self.plugin,
                destination = %request.uri().authority().map(|a| a.as_str()).unwrap_or("<none>"),
                "plugin tried to reach a host it was not granted; request denied"
            );
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn std::future::Future<Output = _> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::host_matches;

    #[test]
    fn grants_match_host_and_port() {
        assert!(host_matches("127.0.0.1:8200", "127.0.0.1", Some(8200)));
        assert!(!host_matches("127.0.0.1:8200", "127.0.0.1", Some(8201)));
        assert!(host_matches("vault.internal", "VAULT.internal", Some(443)));
        assert!(!host_matches("vault.internal", "evil.internal", Some(443)));
        assert!(host_matches("[::1]:9000", "::1", Some(9000)));
        assert!(!host_matches("[::1]:9000", "::1", Some(9001)));
        assert!(!host_matches("example.com", "example.com.evil", Some(80)));
    }
}

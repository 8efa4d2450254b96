//! The blocking client over `wasi:http/outgoing-handler`, and the WASI
//! clocks. Only compiled for `wasm32`.

use crate::{Failure, Method, Request, Response, Scheme, Timeouts, Transport};
use wasip2::clocks::{monotonic_clock, wall_clock};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, Method as WasiMethod, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme as WasiScheme,
};
use wasip2::io::streams::StreamError;

/// Largest chunk `blocking-write-and-flush` accepts.
const WRITE_CHUNK: usize = 4096;
/// Read size for response bodies.
const READ_CHUNK: u64 = 64 * 1024;

/// [`Transport`] over `wasi:http`, the WASI clocks and `wasi:random`.
#[derive(Debug, Default, Clone, Copy)]
pub struct WasiTransport;

impl Transport for WasiTransport {
    fn send(
        &self,
        request: &Request,
        timeouts: Timeouts,
        max_body: usize,
    ) -> Result<Response, Failure> {
        send(request, timeouts, max_body)
    }
    fn now(&self) -> u64 {
        now_unix()
    }
    fn sleep(&self, ms: u64) {
        sleep_ms(ms)
    }
    fn jitter(&self) -> u64 {
        let b = wasip2::random::random::get_random_u64();
        b ^ wall_clock::now().nanoseconds as u64
    }
}

/// Seconds since the Unix epoch, from `wasi:clocks/wall-clock`.
pub fn now_unix() -> u64 {
    wall_clock::now().seconds
}

/// Block for `ms` milliseconds (`wasi:clocks/monotonic-clock`); the host
/// does not count this against the plugin's CPU budget.
pub fn sleep_ms(ms: u64) {
    monotonic_clock::subscribe_duration(ms.saturating_mul(1_000_000)).block();
}

/// Send `request` and read the whole response, refusing bodies larger than
/// `max_body` bytes.
pub fn send(request: &Request, timeouts: Timeouts, max_body: usize) -> Result<Response, Failure> {
    let headers = Fields::new();
    for (name, value) in &request.headers {
        headers
            .append(name, value.as_bytes())
            .map_err(|e| Failure::Fatal(format!("cannot set header {name}: {e:?}")))?;
    }
    if !request.body.is_empty() || matches!(request.method, Method::Put | Method::Post) {
        headers
            .append("content-length", request.body.len().to_string().as_bytes())
            .map_err(|e| Failure::Fatal(format!("cannot set content-length: {e:?}")))?;
    }
    let outgoing = OutgoingRequest::new(headers);
    let method = match request.method {
        Method::Get => WasiMethod::Get,
        Method::Head => WasiMethod::Head,
        Method::Put => WasiMethod::Put,
        Method::Post => WasiMethod::Post,
        Method::Delete => WasiMethod::Delete,
    };
    let scheme = match request.scheme {
        Scheme::Http => WasiScheme::Http,
        Scheme::Https => WasiScheme::Https,
    };
    let invalid = |what: &str| Failure::Fatal(format!("invalid request {what}"));
    outgoing
        .set_method(&method)
        .map_err(|_| invalid("method"))?;
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|_| invalid("scheme"))?;
    outgoing
        .set_authority(Some(&request.authority))
        .map_err(|_| invalid("authority"))?;
    outgoing
        .set_path_with_query(Some(&request.path_and_query))
        .map_err(|_| invalid("path"))?;

    let options = RequestOptions::new();
    let ms = |v: u64| v.saturating_mul(1_000_000);
    // A host may not support some timeouts; that is not an error.
    let _ = options.set_connect_timeout(Some(ms(timeouts.connect_ms)));
    let _ = options.set_first_byte_timeout(Some(ms(timeouts.response_ms)));
    let _ = options.set_between_bytes_timeout(Some(ms(timeouts.response_ms)));

    let body = outgoing
        .body()
        .map_err(|_| Failure::Fatal("request body already taken".into()))?;
    // Start the request first, then stream the body: the host sends body
    // chunks as the connection consumes them.
    let future = outgoing_handler::handle(outgoing, Some(options)).map_err(classify)?;
    let written = write_body(&body, &request.body);
    let finished = OutgoingBody::finish(body, None);

    future.subscribe().block();
    let response = match future.get() {
        Some(Ok(Ok(r))) => r,
        Some(Ok(Err(code))) => return Err(classify(code)),
        Some(Err(())) => return Err(Failure::Fatal("response already taken".into())),
        None => return Err(Failure::Transient("response never became ready".into())),
    };
    // A body write that failed while the response still arrived (the
    // server answered early, e.g. 403) is not an error of its own: the
    // response says what happened. Without a response, the future's error
    // (above) is the one worth reporting.
    let _ = (written, finished);

    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let incoming = response
        .consume()
        .map_err(|_| Failure::Fatal("response body already taken".into()))?;
    let data = read_body(&incoming, max_body, request.method == Method::Head);
    let _trailers = IncomingBody::finish(incoming);
    Ok(Response {
        status,
        headers,
        body: data?,
    })
}

fn write_body(body: &OutgoingBody, data: &[u8]) -> Result<(), Failure> {
    let stream = body
        .write()
        .map_err(|_| Failure::Fatal("request body stream already taken".into()))?;
    for chunk in data.chunks(WRITE_CHUNK) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|e| Failure::Transient(format!("sending the request body failed: {e:?}")))?;
    }
    Ok(())
}

fn read_body(body: &IncomingBody, max_body: usize, head: bool) -> Result<Vec<u8>, Failure> {
    let stream = body
        .stream()
        .map_err(|_| Failure::Fatal("response body stream already taken".into()))?;
    let mut data = Vec::new();
    if head {
        return Ok(data);
    }
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => {
                if data.len() + chunk.len() > max_body {
                    return Err(Failure::Fatal(format!(
                        "response body larger than {max_body} bytes"
                    )));
                }
                data.extend_from_slice(&chunk);
            }
            Err(StreamError::Closed) => return Ok(data),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(Failure::Transient(format!(
                    "connection failed while reading the response: {}",
                    e.to_debug_string()
                )))
            }
        }
    }
}

fn classify(code: ErrorCode) -> Failure {
    match code {
        ErrorCode::HttpRequestDenied => Failure::Denied(
            "the sandbox denied the request: the destination is not in this plugin's http_hosts grant"
                .into(),
        ),
        ErrorCode::DnsTimeout
        | ErrorCode::DnsError(_)
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionRefused
        | ErrorCode::ConnectionTerminated
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::ConnectionLimitReached
        | ErrorCode::HttpResponseIncomplete
        | ErrorCode::HttpResponseTimeout
        | ErrorCode::HttpProtocolError => Failure::Transient(describe(&code)),
        // The host reports connect errors it cannot classify here.
        ErrorCode::InternalError(_) => Failure::Transient(describe(&code)),
        other => Failure::Fatal(describe(&other)),
    }
}

fn describe(code: &ErrorCode) -> String {
    match code {
        ErrorCode::DnsError(p) => format!(
            "DNS lookup failed: {}",
            p.rcode.as_deref().unwrap_or("no answer")
        ),
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTimeout => "connection timed out".into(),
        ErrorCode::ConnectionTerminated => "connection closed by the server".into(),
        ErrorCode::HttpResponseTimeout => "no response in time".into(),
        ErrorCode::TlsCertificateError => "TLS certificate not trusted".into(),
        ErrorCode::InternalError(Some(m)) => format!("transport error: {m}"),
        other => format!("transport error: {other:?}"),
    }
}

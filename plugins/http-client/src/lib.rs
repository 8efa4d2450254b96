//! Outgoing HTTP for the network-backed plugins (`storage-s3`,
//! `keyvault-vault`): endpoint parsing, a retry loop with exponential
//! backoff, UTC date helpers, and (on `wasm32` only) a blocking client over
//! `wasi:http/outgoing-handler` plus the WASI clocks.
//!
//! The host decides which hosts a plugin may reach (`http_hosts` grant) and
//! refuses anything else with `HTTP-request-denied`; [`Failure::Denied`]
//! carries that refusal so the plugins can report it as `denied` without
//! retrying. Connection-level failures are [`Failure::Transient`] and are
//! retried by [`retry`].
//!
//! Everything except [`send`], [`sleep_ms`], [`now_unix`] and `WasiTransport` is plain Rust
//! and unit-tested natively.

#[cfg(target_arch = "wasm32")]
mod wasi;
#[cfg(target_arch = "wasm32")]
pub use wasi::{now_unix, send, sleep_ms, WasiTransport};

/// Why a plugin operation failed: the SDK's error, whose cases mirror
/// the WIT `plugin-error`; `Unavailable` is the only case the host retries.
pub use rstuf_plugin_sdk::Error;

/// Sends one request and keeps time; the components use
/// [`WasiTransport`] (`wasi:http` and the WASI clocks).
pub trait Transport {
    /// Send `request` and read the whole response, refusing bodies over
    /// `max_body` bytes.
    fn send(
        &self,
        request: &Request,
        timeouts: Timeouts,
        max_body: usize,
    ) -> Result<Response, Failure>;
    /// Seconds since the Unix epoch.
    fn now(&self) -> u64;
    /// Block for `ms` milliseconds.
    fn sleep(&self, ms: u64);
    /// A random number for backoff jitter.
    fn jitter(&self) -> u64;
}

/// HTTP methods the plugins use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Put,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A parsed `http(s)://host[:port]` base address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: Scheme,
    /// Host name or IP literal (IPv6 without brackets), lowercase.
    pub host: String,
    /// The port written in the address, if any.
    pub port: Option<u16>,
}

/// A URL as error messages may show it: user info and everything from the
/// query on replaced by `***` (either may carry a credential), and at most
/// 200 characters.
pub fn shown(url: &str) -> String {
    let (base, cut) = match url.find(['?', '#']) {
        Some(i) => (&url[..i], true),
        None => (url, false),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = match base[after_scheme..authority_end].rfind('@') {
        Some(at) => format!(
            "{}***@{}",
            &base[..after_scheme],
            &base[after_scheme + at + 1..]
        ),
        None => base.to_string(),
    };
    if cut {
        out.push_str("?***");
    }
    if out.chars().count() > 200 {
        out = out.chars().take(200).collect::<String>() + "...";
    }
    out
}

impl Endpoint {
    /// Parse `http(s)://host[:port]` with an optional trailing `/`. Paths,
    /// queries, user info and fragments are refused: they would be silently
    /// ignored or, worse, leak credentials into logs.
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        let (scheme, rest) = if let Some(r) = text.strip_prefix("https://") {
            (Scheme::Https, r)
        } else if let Some(r) = text.strip_prefix("http://") {
            (Scheme::Http, r)
        } else {
            return Err(format!(
                "'{}' must start with http:// or https://",
                shown(text)
            ));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() {
            return Err(format!("'{}' has no host", shown(text)));
        }
        if let Some(c) = authority
            .chars()
            .find(|c| matches!(c, '/' | '?' | '#' | '@') || c.is_whitespace() || c.is_control())
        {
            return Err(format!(
                "'{}' must be scheme://host[:port] only (found {c:?}; no path, query or user info)",
                shown(text)
            ));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, tail) = v6
                .split_once(']')
                .ok_or_else(|| format!("'{}': unterminated IPv6 literal", shown(text)))?;
            let port = match tail {
                "" => None,
                t => Some(parse_port(text, t.strip_prefix(':').unwrap_or("x"))?),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(parse_port(text, p)?)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() || host.contains(':') && !authority.starts_with('[') {
            return Err(format!("'{}' has no valid host", shown(text)));
        }
        Ok(Endpoint {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// `host[:port]` as it goes into a URL (IPv6 bracketed).
    pub fn authority(&self) -> String {
        self.authority_for(&self.host)
    }

    /// The authority with another host name (virtual-host-style S3).
    pub fn authority_for(&self, host: &str) -> String {
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }
    }
}

fn parse_port(text: &str, p: &str) -> Result<u16, String> {
    p.parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| format!("'{}' has an invalid port", shown(text)))
}

/// One request. `path_and_query` is already percent-encoded. `Debug`
/// shows header names and the body length only: header values and bodies
/// carry credentials (`authorization`, `x-vault-token`, AppRole logins).
#[derive(Clone)]
pub struct Request {
    pub method: Method,
    pub scheme: Scheme,
    pub authority: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("scheme", &self.scheme)
            .field("authority", &self.authority)
            .field("path_and_query", &self.path_and_query)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// First header value named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text, lossily, cut to `max` bytes: for error messages.
    pub fn body_excerpt(&self, max: usize) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        if text.len() <= max {
            return text.to_string();
        }
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &text[..end])
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The sandbox refused the destination (not in the `http_hosts` grant).
    Denied(String),
    /// Connection refused, reset or timed out, DNS failure, truncated
    /// response: the same request may succeed later.
    Transient(String),
    /// Anything retrying cannot fix (malformed request, TLS certificate
    /// error, response over the size limit).
    Fatal(String),
}

/// Per-request transport timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect_ms: u64,
    /// Until the response head arrives, and between body chunks.
    pub response_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect_ms: 5_000,
            response_ms: 30_000,
        }
    }
}

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Delay before the first retry; doubled for each further one.
    pub base_delay_ms: u64,
    /// Upper bound of one delay.
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay_ms: 100,
            max_delay_ms: 2_000,
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `retry` (1-based): exponential, capped,
    /// with the low bits of `jitter` spreading instances apart by up to a
    /// quarter of the delay.
    pub fn delay_ms(&self, retry: u32, jitter: u64) -> u64 {
        let exp = self
            .base_delay_ms
            .saturating_mul(1u64 << retry.saturating_sub(1).min(20));
        let capped = exp.min(self.max_delay_ms);
        let spread = capped / 4;
        if spread == 0 {
            capped
        } else {
            capped - spread + jitter % (spread + 1)
        }
    }
}

/// What one attempt of a retried operation produced.
#[derive(Debug)]
pub enum Attempt<T, E> {
    /// Finished (successfully or with an error retrying cannot fix).
    Done(Result<T, E>),
    /// Failed in a way that may pass: try again after a delay. The text
    /// says what happened, for the final error.
    Retry(String),
}

/// Run `attempt` until it is done or the policy's retries are used up;
/// `sleep` waits between attempts and `exhausted(last_reason, attempts)`
/// builds the final error.
pub fn retry<T, E>(
    policy: &RetryPolicy,
    mut sleep: impl FnMut(u64),
    jitter: u64,
    mut attempt: impl FnMut() -> Attempt<T, E>,
    exhausted: impl FnOnce(String, u32) -> E,
) -> Result<T, E> {
    let mut tries = 0u32;
    loop {
        tries += 1;
        match attempt() {
            Attempt::Done(r) => return r,
            Attempt::Retry(reason) => {
                if tries > policy.max_retries {
                    return Err(exhausted(reason, tries));
                }
                sleep(policy.delay_ms(tries, jitter.rotate_left(tries * 7)));
            }
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parse an RFC 3339 / ISO 8601 UTC time such as `2024-05-01T12:00:00.000Z`
/// to seconds since the Unix epoch (fractions dropped).
pub fn parse_utc(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { text.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let tail = &text[19..];
    let tail = match tail.strip_prefix('.') {
        Some(t) => t.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => tail,
    };
    if tail != "Z" && tail != "+00:00" {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + s).ok()
}

/// Percent-encode everything but RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`), and `/` too when `keep_slash`.
pub fn percent_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_messages_hide_user_info_and_queries() {
        assert_eq!(
            shown("https://user:pass@vault:8200/v1?token=s3"),
            "https://***@vault:8200/v1?***"
        );
        assert_eq!(shown("http://h:1/p"), "http://h:1/p");
        let e = Endpoint::parse("https://user:hunter2@vault:8200").unwrap_err();
        assert!(!e.contains("hunter2") && e.contains("vault:8200"), "{e}");
    }

    #[test]
    fn endpoints_parse_and_reject() {
        let e = Endpoint::parse("http://127.0.0.1:8333").unwrap();
        assert_eq!(
            (e.scheme, e.host.as_str(), e.port),
            (Scheme::Http, "127.0.0.1", Some(8333))
        );
        assert_eq!(e.authority(), "127.0.0.1:8333");
        let e = Endpoint::parse("https://S3.Example.com/").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("s3.example.com", None));
        assert_eq!(e.authority_for("b.s3.example.com"), "b.s3.example.com");
        let e = Endpoint::parse("http://[::1]:9000").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", Some(9000)));
        assert_eq!(e.authority(), "[::1]:9000");
        for bad in [
            "127.0.0.1:8333",
            "ftp://x",
            "http://",
            "http://h/path",
            "http://u:p@h",
            "http://h:0",
            "http://h:99999",
            "http://h:x",
            "http://h?q",
            "http://[::1",
            "http://a b",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay_ms: 100,
            max_delay_ms: 1000,
        };
        assert_eq!(p.delay_ms(1, 0), 75);
        assert_eq!(p.delay_ms(1, 25), 100);
        assert_eq!(p.delay_ms(2, 0), 150);
        assert_eq!(p.delay_ms(3, 0), 300);
        assert_eq!(p.delay_ms(5, 0), 750);
        assert_eq!(p.delay_ms(40, 250), 1000);
        assert!((75..=100).contains(&p.delay_ms(1, 12345)));
    }

    #[test]
    fn retry_stops_on_done_and_after_the_budget() {
        let p = RetryPolicy {
            max_retries: 2,
            base_delay_ms: 10,
            max_delay_ms: 100,
        };
        let mut slept = Vec::new();
        let mut calls = 0;
        let r: Result<u32, String> = retry(
            &p,
            |ms| slept.push(ms),
            0,
            || {
                calls += 1;
                Attempt::Retry(format!("try {calls}"))
            },
            |last, n| format!("{last} after {n}"),
        );
        assert_eq!(r, Err("try 3 after 3".into()));
        assert_eq!(slept.len(), 2);

        let mut calls = 0;
        let r: Result<u32, String> = retry(
            &p,
            |_| {},
            0,
            || {
                calls += 1;
                if calls < 2 {
                    Attempt::Retry("again".into())
                } else {
                    Attempt::Done(Ok(calls))
                }
            },
            |last, _| last,
        );
        assert_eq!(r, Ok(2));
    }

    #[test]
    fn request_debug_hides_credentials() {
        let r = Request {
            method: Method::Post,
            scheme: Scheme::Http,
            authority: "vault:8200".into(),
            path_and_query: "/v1/auth/approle/login".into(),
            headers: vec![("x-vault-token".into(), "s.secret-token".into())],
            body: br#"{"secret_id":"secret-id-value"}"#.to_vec(),
        };
        let text = format!("{r:?}");
        assert!(text.contains("x-vault-token") && text.contains("/v1/auth/approle/login"));
        assert!(
            !text.contains("s.secret-token") && !text.contains("secret-id-value"),
            "{text}"
        );
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        for d in [-1000, 0, 11_016, 19_782, 50_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(parse_utc("2013-05-24T00:00:00Z"), Some(1_369_353_600));
        assert_eq!(parse_utc("2024-02-29T12:34:56.789Z"), Some(1_709_210_096));
        assert_eq!(parse_utc("2024-02-29T12:34:56+00:00"), Some(1_709_210_096));
        assert_eq!(parse_utc("2024-02-29 12:34:56Z"), None);
        assert_eq!(parse_utc("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_utc("nope"), None);
    }

    #[test]
    fn percent_encoding_keeps_unreserved_only() {
        assert_eq!(percent_encode("a-b_c.d~e/f g", true), "a-b_c.d~e/f%20g");
        assert_eq!(percent_encode("a/b+c=d", false), "a%2Fb%2Bc%3Dd");
        assert_eq!(percent_encode("é", false), "%C3%A9");
    }
}

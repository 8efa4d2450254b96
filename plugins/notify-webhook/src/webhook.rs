//! The webhook client: configuration, the CloudEvents envelope, the
//! Standard Webhooks signature, and delivery with retries. Plain Rust over
//! any [`Transport`]; the component plugs in `wasi:http`.
//!
//! Delivery is at-least-once from the receiver's point of view: a retry
//! after a lost response sends the same `webhook-id` again, which is how
//! receivers deduplicate.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rstuf_plugin_http::{
    retry, shown, Attempt, Endpoint, Failure, Method, Request, Response, RetryPolicy, Timeouts,
};
pub use rstuf_plugin_http::{Error, Transport};
use rstuf_plugin_sdk::config::{Bounded, NonEmpty};
use rstuf_plugin_sdk::Secret;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::collections::BTreeMap;

/// The configuration as the host sends it; [`Config::from_settings`]
/// checks what the types cannot. Its JSON Schema is `plugin.info`'s.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = json!({"url": "https://hooks.example.com/rstuf", "secret": "whsec_...", "source": "https://tuf.example.com/"}))]
pub struct Settings {
    /// Where to POST events: scheme://host[:port]/path[?query]; host[:port] must be in the plugin's http_hosts grant
    #[schemars(extend("pattern" = "^https?://"))]
    pub url: NonEmpty,
    /// HMAC-SHA256 key for webhook-signature: 'whsec_<base64>' (Standard Webhooks) or any string of at least 16 bytes (secret; never logged). Without it events are unsigned.
    pub secret: Option<Secret>,
    /// CloudEvents 'source' attribute, e.g. the repository's URL
    #[serde(default = "default_source")]
    pub source: NonEmpty,
    /// Extra request headers, e.g. Authorization (values are secret; never logged)
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// Retries after 408, 425, 429, 5xx or a connection failure
    #[serde(default)]
    pub max_retries: Bounded<0, 10, 5>,
    /// TCP/TLS connect timeout per attempt
    #[serde(default)]
    pub connect_timeout_ms: Bounded<1, 600_000, 2_000>,
    /// Per attempt; keep (max_retries + 1) x timeout_ms plus backoff below the plugin's grants.timeout_ms
    #[serde(default)]
    pub timeout_ms: Bounded<1, 600_000, 5_000>,
}

fn default_source() -> NonEmpty {
    NonEmpty::literal("rstuf")
}

/// Headers the plugin sets itself; configuration may not override them.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

/// Largest event body sent (the host bounds the artifact lists it puts in
/// events well below this).
pub const MAX_BODY: usize = 8 << 20;

/// Largest response body read (receivers answer with a status; the body
/// only feeds error messages).
const MAX_RESPONSE: usize = 64 << 10;

/// Shortest accepted raw secret.
const MIN_SECRET: usize = 16;

/// Where events go: an address the sandbox grant is checked against, and
/// the path and query sent as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub endpoint: Endpoint,
    pub path_and_query: String,
}

impl Target {
    /// Parse `http(s)://host[:port][/path][?query]`. Fragments, user info,
    /// spaces and control characters are refused.
    pub fn parse(text: &str) -> Result<Target, String> {
        let after_scheme = text
            .find("://")
            .map(|i| i + 3)
            .ok_or_else(|| format!("'{}' must start with http:// or https://", shown(text)))?;
        let split = text[after_scheme..]
            .find(['/', '?'])
            .map_or(text.len(), |i| after_scheme + i);
        let endpoint = Endpoint::parse(&text[..split])?;
        let rest = &text[split..];
        if let Some(c) = rest
            .chars()
            .find(|c| *c == '#' || c.is_whitespace() || c.is_control() || !c.is_ascii())
        {
            return Err(format!(
                "'{}': the path may not contain {c:?} (percent-encode it; no fragments)",
                shown(text)
            ));
        }
        let path_and_query = match rest.strip_prefix('?') {
            Some(_) => format!("/{rest}"),
            None if rest.is_empty() => "/".to_string(),
            None => rest.to_string(),
        };
        Ok(Target {
            endpoint,
            path_and_query,
        })
    }

    /// The URL without its query (queries may carry tokens): for messages.
    pub fn describe(&self) -> String {
        let path = self
            .path_and_query
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        format!(
            "{}://{}{path}",
            self.endpoint.scheme.as_str(),
            self.endpoint.authority()
        )
    }
}

/// An HMAC key. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// `whsec_<base64>` as Standard Webhooks writes secrets, else the
    /// string's bytes.
    pub fn parse(text: &str) -> Result<SigningKey, String> {
        let bytes = match text.strip_prefix("whsec_") {
            Some(b64) => B64
                .decode(b64)
                .map_err(|_| "a 'whsec_' secret must be followed by base64".to_string())?,
            None => text.as_bytes().to_vec(),
        };
        if bytes.len() < MIN_SECRET {
            return Err(format!(
                "must be at least {MIN_SECRET} bytes (got {}); generate one with `openssl rand -base64 32`",
                bytes.len()
            ));
        }
        Ok(SigningKey(bytes))
    }
}

/// A header whose value is secret. `Debug` shows the name only.
#[derive(Clone, PartialEq, Eq)]
pub struct Header(pub String, pub String);

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: <redacted>", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub target: Target,
    pub secret: Option<SigningKey>,
    pub source: String,
    pub headers: Vec<Header>,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Config {
    /// Parse and validate the JSON configuration. Errors name the key and
    /// never contain secret values.
    pub fn parse(text: &str) -> Result<Config, Error> {
        Config::from_settings(rstuf_plugin_sdk::config::parse(text)?)
    }

    /// Check what the types of [`Settings`] cannot.
    pub fn from_settings(s: Settings) -> Result<Config, Error> {
        let bad = |key: &str, why: String| Error::config(key, why);
        let target = Target::parse(&s.url).map_err(|e| bad("url", e))?;
        let secret = s
            .secret
            .map(|key| SigningKey::parse(key.expose()))
            .transpose()
            .map_err(|e| bad("secret", e))?;
        let mut headers = Vec::new();
        for (name, value) in &s.headers {
            let lower = name.to_ascii_lowercase();
            if !is_token(&lower) {
                return Err(bad("headers", format!("'{name}' is not a header name")));
            }
            if RESERVED_HEADERS.contains(&lower.as_str()) {
                return Err(bad(
                    "headers",
                    format!("'{name}' is set by the plugin and cannot be overridden"),
                ));
            }
            if value.expose().chars().any(|c| c.is_control()) {
                return Err(bad(
                    "headers",
                    format!("the value of '{name}' contains control characters"),
                ));
            }
            headers.push(Header(lower, value.expose().to_string()));
        }
        Ok(Config {
            target,
            secret,
            source: s.source.into_string(),
            headers,
            retry: RetryPolicy {
                max_retries: s.max_retries.get() as u32,
                base_delay_ms: 500,
                max_delay_ms: 10_000,
            },
            timeouts: Timeouts {
                connect_ms: s.connect_timeout_ms.get(),
                response_ms: s.timeout_ms.get(),
            },
        })
    }

    /// Whether events are signed.
    pub fn signs(&self) -> bool {
        self.secret.is_some()
    }
}

/// The CloudEvents 1.0 structured-mode document for one event. `data` must
/// be JSON (the host sends an object).
pub fn envelope(
    source: &str,
    id: &str,
    kind: &str,
    time: &str,
    data: &str,
) -> Result<Vec<u8>, Error> {
    let data: Value = serde_json::from_str(data)
        .map_err(|e| Error::InvalidInput(format!("event {id}: data is not JSON: {e}")))?;
    let mut doc = Map::new();
    doc.insert("specversion".into(), json!("1.0"));
    doc.insert("id".into(), json!(id));
    doc.insert("source".into(), json!(source));
    doc.insert("type".into(), json!(kind));
    doc.insert("time".into(), json!(time));
    doc.insert("datacontenttype".into(), json!("application/json"));
    doc.insert("data".into(), data);
    let body = Value::Object(doc).to_string().into_bytes();
    if body.len() > MAX_BODY {
        return Err(Error::InvalidInput(format!(
            "event {id} is {} bytes; the limit is {MAX_BODY}",
            body.len()
        )));
    }
    Ok(body)
}

/// `webhook-signature` per Standard Webhooks: `v1,` and the base64
/// HMAC-SHA256 of `<id>.<timestamp>.<body>`.
pub fn signature(secret: &SigningKey, id: &str, timestamp: u64, body: &[u8]) -> String {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.0).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// What one response means for the delivery.
fn classify(target: &str, r: &Response) -> Attempt<(), Error> {
    let excerpt = || {
        let text = r.body_excerpt(200);
        if text.is_empty() {
            format!("HTTP {}", r.status)
        } else {
            format!("HTTP {}: {text}", r.status)
        }
    };
    match r.status {
        200..=299 => Attempt::Done(Ok(())),
        408 | 425 | 429 | 500..=599 => Attempt::Retry(excerpt()),
        300..=399 => Attempt::Done(Err(Error::Internal(format!(
            "{target} answered with a redirect ({}); redirects are not followed, configure the final URL",
            r.status
        )))),
        401 | 403 => Attempt::Done(Err(Error::Denied(format!(
            "{target} refused the event ({}); check the secret and headers",
            excerpt()
        )))),
        404 | 410 => Attempt::Done(Err(Error::NotFound(format!(
            "{target} does not exist ({})",
            excerpt()
        )))),
        _ => Attempt::Done(Err(Error::InvalidInput(format!(
            "{target} rejected the event ({})",
            excerpt()
        )))),
    }
}

/// One plugin instance's client.
pub struct Webhook<T: Transport> {
    config: Config,
    transport: T,
}

impl<T: Transport> Webhook<T> {
    pub fn new(config: Config, transport: T) -> Self {
        Webhook { config, transport }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The request for one attempt at `timestamp`.
    pub fn request(&self, id: &str, body: &[u8], timestamp: u64) -> Request {
        let mut headers = vec![
            (
                "content-type".to_string(),
                "application/cloudevents+json; charset=utf-8".to_string(),
            ),
            ("webhook-id".to_string(), id.to_string()),
            ("webhook-timestamp".to_string(), timestamp.to_string()),
        ];
        if let Some(secret) = &self.config.secret {
            headers.push((
                "webhook-signature".to_string(),
                signature(secret, id, timestamp, body),
            ));
        }
        headers.extend(
            self.config
                .headers
                .iter()
                .map(|Header(n, v)| (n.clone(), v.clone())),
        );
        Request {
            method: Method::Post,
            scheme: self.config.target.endpoint.scheme,
            authority: self.config.target.endpoint.authority(),
            path_and_query: self.config.target.path_and_query.clone(),
            headers,
            body: body.to_vec(),
        }
    }

    /// POST the event, retrying transient failures with backoff. Each
    /// attempt is signed with its own timestamp.
    pub fn deliver(&self, id: &str, kind: &str, time: &str, data: &str) -> Result<(), Error> {
        if id.is_empty() || id.chars().any(|c| c.is_control()) {
            return Err(Error::InvalidInput(
                "event id must be non-empty text without control characters".into(),
            ));
        }
        let body = envelope(&self.config.source, id, kind, time, data)?;
        let target = self.config.target.describe();
        retry(
            &self.config.retry,
            |ms| self.transport.sleep(ms),
            self.transport.jitter(),
            || {
                let request = self.request(id, &body, self.transport.now());
                match self
                    .transport
                    .send(&request, self.config.timeouts, MAX_RESPONSE)
                {
                    Ok(r) => classify(&target, &r),
                    Err(Failure::Denied(m)) => Attempt::Done(Err(Error::Denied(format!(
                        "{target}: {m} (add its host to the plugin's http_hosts grant)"
                    )))),
                    Err(Failure::Transient(m)) => Attempt::Retry(m),
                    Err(Failure::Fatal(m)) => {
                        Attempt::Done(Err(Error::Internal(format!("{target}: {m}"))))
                    }
                }
            },
            |last, tries| {
                Error::Unavailable(format!(
                    "event {id} not delivered to {target} after {tries} attempt(s): {last}"
                ))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn targets_parse_and_hide_queries() {
        let t = Target::parse("https://hooks.example.com/rstuf/events?token=abc").unwrap();
        assert_eq!(t.endpoint.host, "hooks.example.com");
        assert_eq!(t.path_and_query, "/rstuf/events?token=abc");
        assert_eq!(t.describe(), "https://hooks.example.com/rstuf/events");
        let t = Target::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(
            (t.endpoint.port, t.path_and_query.as_str()),
            (Some(9000), "/")
        );
        let t = Target::parse("http://[::1]:9000?x=1").unwrap();
        assert_eq!(t.path_and_query, "/?x=1");
        for bad in [
            "hooks.example.com/x",
            "ftp://h/x",
            "http://u:p@h/x",
            "http://h/a b",
            "http://h/x#frag",
            "http://h/\u{e9}",
            "http:///x",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn configuration_is_validated_without_echoing_secrets() {
        let c = Config::parse(
            r#"{"url":"http://127.0.0.1:9000/hook","secret":"0123456789abcdef-secret","headers":{"Authorization":"Bearer tok-123"}}"#,
        )
        .unwrap();
        assert!(c.signs());
        assert_eq!(c.source, "rstuf");
        assert_eq!(c.retry.max_retries, 5);
        let text = format!("{c:?}");
        assert!(!text.contains("secret\"") && !text.contains("0123456789abcdef"));
        assert!(!text.contains("tok-123") && text.contains("authorization"));

        for (text, key) in [
            (r#"{}"#, "url: is required"),
            (r#"{"url":"127.0.0.1:9000"}"#, "url"),
            (
                r#"{"url":"http://h","secret":"short"}"#,
                "secret: must be at least 16",
            ),
            (r#"{"url":"http://h","secret":"whsec_***"}"#, "secret"),
            (
                r#"{"url":"http://h","headers":{"webhook-signature":"x"}}"#,
                "cannot be overridden",
            ),
            (
                r#"{"url":"http://h","headers":{"bad name":"x"}}"#,
                "not a header name",
            ),
            (r#"{"url":"http://h","headers":{"x":"a\nb"}}"#, "control"),
            (
                r#"{"url":"http://h","headers":{"x":1}}"#,
                "must be a string",
            ),
            (r#"{"url":"http://h","max_retries":11}"#, "max_retries"),
            (r#"{"url":"http://h","retries":1}"#, "unknown key 'retries'"),
        ] {
            match Config::parse(text) {
                Err(Error::InvalidConfig(m)) => assert!(m.contains(key), "{text}: {m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        match Config::parse(r#"{"url":"http://h","secret":"tiny-secret"}"#) {
            Err(Error::InvalidConfig(m)) => assert!(!m.contains("tiny-secret"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn standard_webhooks_signature() {
        // The example of the Standard Webhooks specification.
        let secret = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            signature(
                &secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn envelope_is_cloudevents_structured_json() {
        let body = envelope(
            "https://repo.example",
            "e-1",
            "dev.rstuf.metadata.published",
            "2026-01-01T00:00:00Z",
            r#"{"snapshot":3}"#,
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["source"], "https://repo.example");
        assert_eq!(v["type"], "dev.rstuf.metadata.published");
        assert_eq!(v["datacontenttype"], "application/json");
        assert_eq!(v["data"]["snapshot"], 3);
        assert!(matches!(
            envelope("s", "e", "t", "now", "not json"),
            Err(Error::InvalidInput(_))
        ));
    }

    /// Answers each attempt from a script and records what was sent.
    struct Scripted {
        answers: RefCell<Vec<Result<u16, Failure>>>,
        sent: RefCell<Vec<Request>>,
        slept: RefCell<Vec<u64>>,
    }

    impl Scripted {
        fn new(answers: Vec<Result<u16, Failure>>) -> Self {
            Scripted {
                answers: RefCell::new(answers),
                sent: RefCell::new(Vec::new()),
                slept: RefCell::new(Vec::new()),
            }
        }
    }

    impl Transport for &Scripted {
        fn send(&self, request: &Request, _: Timeouts, _: usize) -> Result<Response, Failure> {
            self.sent.borrow_mut().push(request.clone());
            let status = self.answers.borrow_mut().remove(0)?;
            Ok(Response {
                status,
                headers: Vec::new(),
                body: b"busy".to_vec(),
            })
        }
        fn now(&self) -> u64 {
            1_700_000_000 + self.sent.borrow().len() as u64
        }
        fn sleep(&self, ms: u64) {
            self.slept.borrow_mut().push(ms);
        }
        fn jitter(&self) -> u64 {
            0
        }
    }

    fn hook(extra: &str) -> Config {
        Config::parse(&format!(
            r#"{{"url":"http://127.0.0.1:9/hook?k=v","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"{extra}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn retries_transient_failures_and_signs_each_attempt() {
        let t = Scripted::new(vec![
            Err(Failure::Transient("connection refused".into())),
            Ok(503),
            Ok(204),
        ]);
        let w = Webhook::new(hook(""), &t);
        w.deliver("e-1", "k", "2026-01-01T00:00:00Z", "{}").unwrap();
        let sent = t.sent.borrow();
        assert_eq!(sent.len(), 3);
        assert_eq!(t.slept.borrow().len(), 2);
        let header = |r: &Request, n: &str| {
            r.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        for r in sent.iter() {
            assert_eq!(r.path_and_query, "/hook?k=v");
            assert_eq!(header(r, "webhook-id"), "e-1");
            let ts: u64 = header(r, "webhook-timestamp").parse().unwrap();
            let secret = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
            assert_eq!(
                header(r, "webhook-signature"),
                signature(&secret, "e-1", ts, &r.body)
            );
        }
        assert_ne!(
            header(&sent[0], "webhook-timestamp"),
            header(&sent[2], "webhook-timestamp")
        );
    }

    #[test]
    fn final_statuses_are_not_retried_and_messages_hide_the_query() {
        for (status, want) in [
            (401u16, "Denied"),
            (404, "NotFound"),
            (400, "InvalidInput"),
            (302, "Internal"),
        ] {
            let t = Scripted::new(vec![Ok(status)]);
            let err = Webhook::new(hook(""), &t)
                .deliver("e", "k", "t", "{}")
                .unwrap_err();
            assert!(format!("{err:?}").starts_with(want), "{status}: {err:?}");
            assert!(!err.message().contains("k=v"), "{err:?}");
            assert_eq!(t.sent.borrow().len(), 1);
        }
        let t = Scripted::new(vec![Ok(500), Ok(500)]);
        let err = Webhook::new(hook(r#","max_retries":1"#), &t)
            .deliver("e", "k", "t", "{}")
            .unwrap_err();
        assert!(
            matches!(&err, Error::Unavailable(m) if m.contains("after 2 attempt(s)") && m.contains("http://127.0.0.1:9/hook")),
            "{err:?}"
        );
        let t = Scripted::new(vec![Err(Failure::Denied("HTTP-request-denied".into()))]);
        let err = Webhook::new(hook(""), &t)
            .deliver("e", "k", "t", "{}")
            .unwrap_err();
        assert!(
            matches!(&err, Error::Denied(m) if m.contains("http_hosts")),
            "{err:?}"
        );
    }
}

//! The S3 store: configuration, object names, request building and
//! response interpretation, over any [`Transport`]. The component plugs in
//! `wasi:http`; everything here is plain Rust, unit-tested natively.
//!
//! - `put` is one `PutObject`: S3 replaces an object atomically, so a
//!   reader sees the old or the new `timestamp.json`, never a mix, and a
//!   `200` means the object is stored durably.
//! - `get` is `GetObject` (`404 NoSuchKey` is `none`).
//! - `list-objects` is `ListObjectsV2` with `prefix` and `delimiter=/`,
//!   following continuation tokens.
//! - `delete` is `HeadObject` (to report whether it existed) then
//!   `DeleteObject`.
//! - `5xx`, `408`, `429` and connection failures are retried with
//!   exponential backoff, then reported as `unavailable`; `401`/`403` are
//!   `denied`.

use crate::sigv4::{self, Credentials, SigningInput};
pub use rstuf_plugin_http::Transport;
use rstuf_plugin_http::{
    parse_utc, percent_encode, retry, Attempt, Endpoint, Failure, Method, Request, Response,
    RetryPolicy, Scheme, Timeouts,
};
use rstuf_plugin_sdk::config::{Bounded, NonEmpty};
use rstuf_plugin_sdk::Secret;
use schemars::JsonSchema;
use serde::Deserialize;

/// The configuration as the host sends it; [`Config::from_settings`]
/// checks what the types cannot. Its JSON Schema is `plugin.info`'s.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"endpoint": "https://s3.eu-west-1.amazonaws.com", "bucket": "tuf-metadata", "region": "eu-west-1", "access_key_id": "AKIA...", "secret_access_key": "...", "prefix": "metadata/"}))]
pub struct Settings {
    /// S3 endpoint, scheme://host[:port]; its host[:port] must be in the plugin's http_hosts grant (with virtual-host style: <bucket>.host[:port])
    #[schemars(extend("pattern" = "^https?://[^/?#@]+/?$"))]
    pub endpoint: NonEmpty,
    /// Bucket holding the metadata
    #[schemars(extend("maxLength" = 255))]
    pub bucket: NonEmpty,
    /// Signing region
    #[serde(default = "default_region")]
    pub region: NonEmpty,
    /// Access key id
    pub access_key_id: NonEmpty,
    /// Secret access key (secret; never logged)
    pub secret_access_key: Secret,
    /// true: <endpoint>/<bucket>/<key>; false: <bucket>.<endpoint host>/<key> (virtual-host style)
    #[serde(default)]
    pub path_style: bool,
    /// Key prefix, e.g. metadata/ (a trailing / is added)
    #[serde(default)]
    pub prefix: String,
    /// Retries of a request after 5xx, 408, 429 or a connection failure
    #[serde(default)]
    pub max_retries: Bounded<0, 10, 3>,
    /// max-keys of each ListObjectsV2 page
    #[serde(default)]
    pub list_page_size: Bounded<1, 1000, 1000>,
    /// TCP/TLS connect timeout per attempt
    #[serde(default)]
    pub connect_timeout_ms: Bounded<1, 600_000, 5_000>,
    /// Wait for the response head, and between body chunks, per attempt
    #[serde(default)]
    pub timeout_ms: Bounded<1, 600_000, 30_000>,
    /// Canned ACL sent with every PutObject as x-amz-acl (e.g. public-read, as upstream RSTUF's RSTUF_AWS_S3_OBJECT_ACL); none: the bucket's default
    #[serde(default)]
    pub acl: Option<String>,
}

/// S3's canned ACLs.
const CANNED_ACLS: [&str; 7] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
];

fn default_region() -> NonEmpty {
    NonEmpty::literal("us-east-1")
}

/// Longest object name (S3 keys are at most 1024 bytes, prefix included).
pub const MAX_NAME_LEN: usize = 512;
/// Largest object `get` returns.
pub const MAX_OBJECT_BYTES: usize = 64 << 20;
/// Largest listing page or error document read.
const MAX_LIST_PAGE_BYTES: usize = 16 << 20;

pub use rstuf_plugin_http::Error;

/// Where and how the plugin talks to S3. `Debug` redacts the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub endpoint: Endpoint,
    pub bucket: String,
    pub region: String,
    pub credentials: Credentials,
    pub path_style: bool,
    /// Empty, or ends with `/`.
    pub prefix: String,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
    /// `max-keys` of each listing page.
    pub list_page_size: u64,
    /// Canned ACL of written objects.
    pub acl: Option<String>,
}

impl Config {
    /// Parse and validate the JSON configuration. Errors name the key.
    pub fn parse(text: &str) -> Result<Config, Error> {
        Config::from_settings(rstuf_plugin_sdk::config::parse(text)?)
    }

    /// Check what the types of [`Settings`] cannot.
    pub fn from_settings(s: Settings) -> Result<Config, Error> {
        let bad = |key: &str, why: String| Error::config(key, why);
        let endpoint = Endpoint::parse(&s.endpoint).map_err(|e| bad("endpoint", e))?;
        let bucket = s.bucket.into_string();
        check_bucket(&bucket).map_err(|e| bad("bucket", e))?;
        let region = s.region.into_string();
        if !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(
                "region",
                format!("'{region}' is not a region name (letters, digits, -)"),
            ));
        }
        let access_key_id = s.access_key_id.into_string();
        if access_key_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        {
            return Err(bad(
                "access_key_id",
                "must not contain spaces, control characters or /".into(),
            ));
        }
        let secret_access_key = s.secret_access_key.expose().to_string();
        let path_style = s.path_style;
        if !path_style && is_ip_literal(&endpoint.host) {
            return Err(bad(
                "path_style",
                format!(
                    "must be true when the endpoint is an IP address ({}): virtual-host style needs a DNS name",
                    endpoint.host
                ),
            ));
        }
        if !path_style && bucket.contains('.') && endpoint.scheme == Scheme::Https {
            return Err(bad(
                "path_style",
                format!("must be true for bucket '{bucket}': a bucket name with dots breaks TLS with virtual-host style"),
            ));
        }
        // An empty prefix is allowed: the bucket's root.
        let prefix = normalize_prefix(&s.prefix).map_err(|e| bad("prefix", e))?;
        let max_retries = s.max_retries.get();
        let list_page_size = s.list_page_size.get();
        let connect_ms = s.connect_timeout_ms.get();
        let response_ms = s.timeout_ms.get();
        if let Some(acl) = &s.acl {
            if !CANNED_ACLS.contains(&acl.as_str()) {
                return Err(bad(
                    "acl",
                    format!("'{acl}' is not a canned ACL ({})", CANNED_ACLS.join(", ")),
                ));
            }
        }
        Ok(Config {
            endpoint,
            bucket,
            region,
            credentials: Credentials {
                access_key_id,
                secret_access_key,
            },
            path_style,
            prefix,
            retry: RetryPolicy {
                max_retries: max_retries as u32,
                ..RetryPolicy::default()
            },
            timeouts: Timeouts {
                connect_ms,
                response_ms,
            },
            list_page_size,
            acl: s.acl,
        })
    }

    /// For the log: where, never who or with which secret.
    pub fn describe(&self) -> String {
        format!(
            "bucket '{}' at {}://{} ({} style, region {}, prefix '{}')",
            self.bucket,
            self.endpoint.scheme.as_str(),
            self.endpoint.authority(),
            if self.path_style {
                "path"
            } else {
                "virtual-host"
            },
            self.region,
            self.prefix
        )
    }
}

fn is_ip_literal(host: &str) -> bool {
    host.contains(':') || host.parse::<std::net::Ipv4Addr>().is_ok()
}

fn check_bucket(bucket: &str) -> Result<(), String> {
    if bucket.is_empty() || bucket.len() > 255 {
        return Err("must be 1 to 255 characters".into());
    }
    if !bucket
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(format!(
            "'{bucket}' may contain only letters, digits, '.', '-' and '_'"
        ));
    }
    if bucket.starts_with('.') || bucket.contains("..") {
        return Err(format!(
            "'{bucket}' must not start with '.' or contain '..'"
        ));
    }
    Ok(())
}

/// `""` stays empty; otherwise one trailing `/` is ensured.
fn normalize_prefix(prefix: &str) -> Result<String, String> {
    if prefix.is_empty() {
        return Ok(String::new());
    }
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() || trimmed.starts_with('/') {
        return Err(format!("'{prefix}' must not start with '/'"));
    }
    if trimmed
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Err(format!(
            "'{prefix}' must not contain empty, '.' or '..' segments"
        ));
    }
    if trimmed.chars().any(|c| c.is_control() || c == '\\') {
        return Err(format!("'{prefix}' contains control characters or '\\'"));
    }
    if trimmed.len() > 400 {
        return Err("must be at most 400 bytes".into());
    }
    Ok(format!("{trimmed}/"))
}

fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty");
    }
    if name.len() > MAX_NAME_LEN {
        return Some("longer than 512 bytes");
    }
    if name == "." || name.contains("..") {
        return Some("contains '..'");
    }
    if name.starts_with('/') || name.contains('/') {
        return Some("contains '/' (names are flat)");
    }
    if name.contains('\\') {
        return Some("contains '\\'");
    }
    if name.chars().any(char::is_control) {
        return Some("contains control characters");
    }
    None
}

/// Refuse names that are empty, `.`, contain `..`, `/`, `\` or control
/// characters, or are longer than [`MAX_NAME_LEN`].
pub fn check_name(name: &str) -> Result<(), Error> {
    match name_problem(name) {
        Some(why) => Err(Error::InvalidInput(format!(
            "invalid object name {name:?}: {why}"
        ))),
        None => Ok(()),
    }
}

/// A listing prefix: like a name, but may be empty.
pub fn check_prefix(prefix: &str) -> Result<(), Error> {
    if prefix.is_empty() {
        return Ok(());
    }
    match name_problem(prefix) {
        Some(why) => Err(Error::InvalidInput(format!(
            "invalid listing prefix {prefix:?}: {why}"
        ))),
        None => Ok(()),
    }
}

pub use rstuf_plugin_sdk::ObjectInfo as Entry;

/// One page of `ListObjectsV2`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListPage {
    /// Full keys with size and time.
    pub objects: Vec<Entry>,
    /// Token for the next page, when truncated.
    pub next: Option<String>,
}

/// Parse a `ListBucketResult` document.
pub fn parse_list_page(xml: &str) -> Result<ListPage, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("listing is not XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "ListBucketResult" {
        return Err(format!(
            "expected ListBucketResult, got {}",
            root.tag_name().name()
        ));
    }
    let child_text = |node: roxmltree::Node<'_, '_>, name: &str| -> Option<String> {
        node.children()
            .find(|c| c.is_element() && c.tag_name().name() == name)
            .map(|c| c.text().unwrap_or_default().to_string())
    };
    let mut page = ListPage::default();
    for contents in root
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "Contents")
    {
        let key = child_text(contents, "Key").ok_or("a Contents entry has no Key")?;
        let size = child_text(contents, "Size")
            .unwrap_or_default()
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("object {key:?} has no valid Size"))?;
        let modified = child_text(contents, "LastModified").and_then(|t| parse_utc(t.trim()));
        page.objects.push(Entry {
            name: key,
            size,
            modified,
        });
    }
    let truncated = child_text(root, "IsTruncated")
        .map(|t| t.trim().eq_ignore_ascii_case("true"))
        .unwrap_or(false);
    if truncated {
        let token = child_text(root, "NextContinuationToken")
            .filter(|t| !t.is_empty())
            .ok_or("listing is truncated but has no NextContinuationToken")?;
        page.next = Some(token);
    }
    Ok(page)
}

/// `Code` and `Message` of an S3 error document, when there is one.
pub fn parse_error(body: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(body).ok()?;
    let doc = roxmltree::Document::parse(text).ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "Error" {
        return None;
    }
    let get = |name: &str| {
        root.children()
            .find(|c| c.is_element() && c.tag_name().name() == name)
            .and_then(|c| c.text())
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    Some((get("Code"), get("Message")))
}

/// What a response means for one operation.
enum Outcome<T> {
    Value(T),
    /// 404: the operation decides (none, false, not-found).
    Missing(Option<String>),
}

/// The S3 client of one plugin instance.
pub struct S3Store<T: Transport> {
    config: Config,
    transport: T,
}

impl<T: Transport> S3Store<T> {
    pub fn new(config: Config, transport: T) -> Self {
        S3Store { config, transport }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The S3 key of object `name`.
    fn key(&self, name: &str) -> String {
        format!("{}{}", self.config.prefix, name)
    }

    /// Authority and encoded path for `key` (`None`: the bucket itself).
    fn location(&self, key: Option<&str>) -> (String, String) {
        let encoded_key = key.map(|k| percent_encode(k, true)).unwrap_or_default();
        if self.config.path_style {
            let bucket = percent_encode(&self.config.bucket, false);
            let path = match key {
                Some(_) => format!("/{bucket}/{encoded_key}"),
                None => format!("/{bucket}"),
            };
            (self.config.endpoint.authority(), path)
        } else {
            let host = format!("{}.{}", self.config.bucket, self.config.endpoint.host);
            (
                self.config.endpoint.authority_for(&host),
                format!("/{encoded_key}"),
            )
        }
    }

    /// Build and sign a request.
    pub fn signed_request(
        &self,
        method: Method,
        key: Option<&str>,
        query: &[(String, String)],
        body: Vec<u8>,
        now: u64,
    ) -> Request {
        let (authority, path) = self.location(key);
        let payload_hash = sigv4::sha256_hex(&body);
        let (amz_date, _) = sigv4::amz_date(now);
        let mut headers = vec![
            ("host".to_string(), authority.clone()),
            ("x-amz-content-sha256".to_string(), payload_hash.clone()),
            ("x-amz-date".to_string(), amz_date.clone()),
        ];
        if method == Method::Put {
            let content_type = if key.is_some_and(|k| k.ends_with(".json")) {
                "application/json"
            } else {
                "application/octet-stream"
            };
            headers.push(("content-type".into(), content_type.into()));
            if let Some(acl) = &self.config.acl {
                headers.push(("x-amz-acl".into(), acl.clone()));
            }
        }
        let authorization = sigv4::authorization(
            &self.config.credentials,
            &SigningInput {
                method: method.as_str(),
                path: &path,
                query,
                headers: &headers,
                payload_hash: &payload_hash,
                region: &self.config.region,
                service: "s3",
                amz_date: &amz_date,
            },
        );
        // wasi:http sets Host from the authority and forbids the header.
        headers.retain(|(n, _)| n != "host");
        headers.push(("authorization".into(), authorization));
        let canonical_query = sigv4::canonical_query(query);
        let path_and_query = if canonical_query.is_empty() {
            path
        } else {
            format!("{path}?{canonical_query}")
        };
        Request {
            method,
            scheme: self.config.endpoint.scheme,
            authority,
            path_and_query,
            headers,
            body,
        }
    }

    /// Send with retries and classify the response. `what` names the
    /// operation and object for error messages.
    fn call(
        &self,
        method: Method,
        key: Option<&str>,
        query: &[(String, String)],
        body: &[u8],
        max_body: usize,
        what: &str,
    ) -> Result<Outcome<Response>, Error> {
        retry(
            &self.config.retry,
            |ms| self.transport.sleep(ms),
            self.transport.jitter(),
            || {
                // Sign each attempt anew: the date is part of the signature.
                let request =
                    self.signed_request(method, key, query, body.to_vec(), self.transport.now());
                match self
                    .transport
                    .send(&request, self.config.timeouts, max_body)
                {
                    Ok(response) => self.classify(response, what),
                    Err(Failure::Denied(m)) => {
                        Attempt::Done(Err(Error::Denied(format!("{what}: {m}"))))
                    }
                    Err(Failure::Transient(m)) => Attempt::Retry(m),
                    Err(Failure::Fatal(m)) => {
                        Attempt::Done(Err(Error::Internal(format!("{what}: {m}"))))
                    }
                }
            },
            |last, tries| {
                Error::Unavailable(format!(
                    "{what}: S3 at {} unavailable after {tries} attempt(s): {last}",
                    self.config.endpoint.authority()
                ))
            },
        )
    }

    fn classify(&self, response: Response, what: &str) -> Attempt<Outcome<Response>, Error> {
        let status = response.status;
        if (200..300).contains(&status) {
            return Attempt::Done(Ok(Outcome::Value(response)));
        }
        let (code, message) = parse_error(&response.body).unwrap_or_default();
        let detail = if code.is_empty() {
            format!("HTTP {status}")
        } else if message.is_empty() {
            format!("HTTP {status} {code}")
        } else {
            format!("HTTP {status} {code}: {message}")
        };
        match status {
            404 => Attempt::Done(Ok(Outcome::Missing((!code.is_empty()).then_some(code)))),
            401 | 403 => Attempt::Done(Err(Error::Denied(format!(
                "{what}: S3 refused the request ({detail}); check access_key_id, secret_access_key, region and the bucket policy"
            )))),
            408 | 429 | 500..=599 => Attempt::Retry(detail),
            301 | 307 | 400 if code == "PermanentRedirect"
                || code == "AuthorizationHeaderMalformed"
                || code == "IllegalLocationConstraintException" =>
            {
                Attempt::Done(Err(Error::Internal(format!(
                    "{what}: {detail} (wrong region or endpoint for bucket '{}'?)",
                    self.config.bucket
                ))))
            }
            _ => Attempt::Done(Err(Error::Internal(format!("{what}: {detail}")))),
        }
    }

    fn missing_bucket(&self, what: &str) -> Error {
        Error::NotFound(format!(
            "{what}: bucket '{}' does not exist at {}",
            self.config.bucket,
            self.config.endpoint.authority()
        ))
    }

    /// `PutObject`: atomic replace.
    pub fn put(&self, name: &str, data: &[u8]) -> Result<(), Error> {
        check_name(name)?;
        let key = self.key(name);
        let what = format!("put {name}");
        match self.call(
            Method::Put,
            Some(&key),
            &[],
            data,
            MAX_LIST_PAGE_BYTES,
            &what,
        )? {
            Outcome::Value(_) => Ok(()),
            Outcome::Missing(_) => Err(self.missing_bucket(&what)),
        }
    }

    /// Each object in order; stops at the first failure.
    pub fn put_many(&self, objects: &[(String, Vec<u8>)]) -> Result<(), Error> {
        // Refuse a bad name before writing anything.
        for (name, _) in objects {
            check_name(name)?;
        }
        for (name, data) in objects {
            self.put(name, data)?;
        }
        Ok(())
    }

    /// `GetObject`; `None` for a missing object.
    pub fn get(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        check_name(name)?;
        let key = self.key(name);
        let what = format!("get {name}");
        match self.call(Method::Get, Some(&key), &[], &[], MAX_OBJECT_BYTES, &what)? {
            Outcome::Value(r) => Ok(Some(r.body)),
            Outcome::Missing(Some(code)) if code == "NoSuchBucket" => {
                Err(self.missing_bucket(&what))
            }
            Outcome::Missing(_) => Ok(None),
        }
    }

    /// `HeadObject` then `DeleteObject`; `false` when it did not exist.
    pub fn delete(&self, name: &str) -> Result<bool, Error> {
        check_name(name)?;
        let key = self.key(name);
        let what = format!("delete {name}");
        match self.call(Method::Head, Some(&key), &[], &[], 0, &what)? {
            Outcome::Value(_) => {}
            Outcome::Missing(_) => return Ok(false),
        }
        match self.call(
            Method::Delete,
            Some(&key),
            &[],
            &[],
            MAX_LIST_PAGE_BYTES,
            &what,
        )? {
            Outcome::Value(_) => Ok(true),
            Outcome::Missing(Some(code)) if code == "NoSuchBucket" => {
                Err(self.missing_bucket(&what))
            }
            // Deleted by someone else in between.
            Outcome::Missing(_) => Ok(false),
        }
    }

    /// `ListObjectsV2` over every page, in name order.
    pub fn list(&self, prefix: &str) -> Result<Vec<Entry>, Error> {
        check_prefix(prefix)?;
        let full_prefix = self.key(prefix);
        let what = format!("list {prefix:?}");
        let mut entries = Vec::new();
        let mut token: Option<String> = None;
        // A server that keeps returning the same token would loop forever.
        for _page in 0..100_000 {
            let mut query = vec![
                ("list-type".to_string(), "2".to_string()),
                ("prefix".to_string(), full_prefix.clone()),
                ("delimiter".to_string(), "/".to_string()),
                (
                    "max-keys".to_string(),
                    self.config.list_page_size.to_string(),
                ),
            ];
            if let Some(t) = &token {
                query.push(("continuation-token".to_string(), t.clone()));
            }
            let response =
                match self.call(Method::Get, None, &query, &[], MAX_LIST_PAGE_BYTES, &what)? {
                    Outcome::Value(r) => r,
                    Outcome::Missing(_) => return Err(self.missing_bucket(&what)),
                };
            let xml = String::from_utf8(response.body)
                .map_err(|_| Error::Internal(format!("{what}: listing is not UTF-8")))?;
            let page =
                parse_list_page(&xml).map_err(|e| Error::Internal(format!("{what}: {e}")))?;
            for object in page.objects {
                // Keys outside our prefix or in "subdirectories" are not ours.
                let Some(name) = object.name.strip_prefix(&self.config.prefix) else {
                    continue;
                };
                if name.is_empty() || name.contains('/') {
                    continue;
                }
                entries.push(Entry {
                    name: name.to_string(),
                    ..object
                });
            }
            match page.next {
                Some(next) if token.as_deref() != Some(next.as_str()) => token = Some(next),
                Some(_) => {
                    return Err(Error::Internal(format!(
                        "{what}: the server returned the same continuation token twice"
                    )))
                }
                None => {
                    entries.sort_by(|a, b| a.name.cmp(&b.name));
                    entries.dedup_by(|a, b| a.name == b.name);
                    return Ok(entries);
                }
            }
        }
        Err(Error::Internal(format!("{what}: too many listing pages")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> String {
        format!(
            r#"{{"endpoint":"http://127.0.0.1:8333","bucket":"tuf","access_key_id":"AK","secret_access_key":"s3cr3t-value","path_style":true{extra}}}"#
        )
    }

    #[test]
    fn configuration_is_validated_and_secrets_are_not_echoed() {
        let c = Config::parse(&config(r#","prefix":"repo/meta""#)).unwrap();
        assert_eq!(c.prefix, "repo/meta/");
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.retry.max_retries, 3);
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
        assert!(!c.describe().contains("s3cr3t-value") && !c.describe().contains("AK"));

        for (extra, key) in [
            (r#","prefix":"/abs""#, "prefix"),
            (r#","prefix":"a/../b""#, "prefix"),
            (r#","prefix":"a//b""#, "prefix"),
            (r#","region":"us east""#, "region"),
            (r#","path_style":"yes""#, "path_style"),
            (r#","acl":"everyone""#, "acl"),
            (r#","max_retries":11"#, "max_retries"),
            (r#","list_page_size":1001"#, "list_page_size"),
            (r#","timeout_ms":0"#, "timeout_ms"),
            (r#","bogus":1"#, "unknown key 'bogus'"),
        ] {
            match Config::parse(&config(extra)) {
                Err(Error::InvalidConfig(m)) => assert!(m.contains(key), "{extra}: {m}"),
                other => panic!("{extra}: {other:?}"),
            }
        }
        let missing = r#"{"endpoint":"http://h","bucket":"b","access_key_id":"a"}"#;
        assert!(
            matches!(Config::parse(missing), Err(Error::InvalidConfig(m)) if m.contains("secret_access_key"))
        );
        let wrong_type = r#"{"endpoint":"http://h","bucket":"b","access_key_id":"a","secret_access_key":12345678}"#;
        match Config::parse(wrong_type) {
            Err(Error::InvalidConfig(m)) => assert!(!m.contains("12345678"), "{m}"),
            other => panic!("{other:?}"),
        }
        let ip_vhost = r#"{"endpoint":"http://10.0.0.1:9000","bucket":"b","access_key_id":"a","secret_access_key":"s"}"#;
        assert!(
            matches!(Config::parse(ip_vhost), Err(Error::InvalidConfig(m)) if m.contains("path_style"))
        );
        for bad_bucket in ["", "a/b", "..x", ".a", "b c"] {
            let text = format!(
                r#"{{"endpoint":"http://h","bucket":"{bad_bucket}","access_key_id":"a","secret_access_key":"s"}}"#
            );
            assert!(
                matches!(Config::parse(&text), Err(Error::InvalidConfig(m)) if m.contains("bucket")),
                "{bad_bucket}"
            );
        }
        assert!(matches!(
            Config::parse(r#"{"endpoint":"s3.amazonaws.com","bucket":"b","access_key_id":"a","secret_access_key":"s"}"#),
            Err(Error::InvalidConfig(m)) if m.starts_with("endpoint")
        ));
    }

    #[test]
    fn names_are_checked() {
        for ok in [
            "1.root.json",
            "timestamp.json",
            "42.bins-0a.json",
            ".hidden",
            "a b",
        ] {
            check_name(ok).unwrap();
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "/etc/passwd",
            "a\\b",
            "a\0b",
            "a..b",
        ] {
            assert!(
                matches!(check_name(bad), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
        }
        assert!(check_name(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
        check_prefix("").unwrap();
        check_prefix("1.").unwrap();
        assert!(check_prefix("a/").is_err());
    }

    /// Request building needs a store but no network.
    struct NoNetwork;
    impl Transport for NoNetwork {
        fn send(&self, _: &Request, _: Timeouts, _: usize) -> Result<Response, Failure> {
            Err(Failure::Fatal("no network in unit tests".into()))
        }
        fn now(&self) -> u64 {
            1_369_353_600
        }
        fn sleep(&self, _: u64) {}
        fn jitter(&self) -> u64 {
            0
        }
    }

    #[test]
    fn a_canned_acl_is_sent_and_signed_on_puts_only() {
        let c = Config::parse(&config(r#","acl":"public-read""#)).unwrap();
        let s = S3Store::new(c, NoNetwork);
        let put = s.signed_request(
            Method::Put,
            Some("timestamp.json"),
            &[],
            b"{}".to_vec(),
            1_369_353_600,
        );
        assert!(put
            .headers
            .iter()
            .any(|(n, v)| n == "x-amz-acl" && v == "public-read"));
        let auth = &put
            .headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1;
        assert!(auth.contains("x-amz-acl"), "{auth}");
        let get = s.signed_request(
            Method::Get,
            Some("timestamp.json"),
            &[],
            vec![],
            1_369_353_600,
        );
        assert!(get.headers.iter().all(|(n, _)| n != "x-amz-acl"));
    }

    #[test]
    fn requests_use_the_configured_style_and_prefix() {
        let c = Config::parse(&config(r#","prefix":"meta""#)).unwrap();
        let s = S3Store::new(c, NoNetwork);
        let r = s.signed_request(
            Method::Put,
            Some("meta/1.root.json"),
            &[],
            b"{}".to_vec(),
            1_369_353_600,
        );
        assert_eq!(r.authority, "127.0.0.1:8333");
        assert_eq!(r.path_and_query, "/tuf/meta/1.root.json");
        assert!(r.headers.iter().all(|(n, _)| n != "host"));
        let auth = &r
            .headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1;
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature="), "{auth}");
        assert!(!auth.contains("s3cr3t"));

        let vhost = r#"{"endpoint":"https://s3.eu-west-1.amazonaws.com","bucket":"tuf-meta","region":"eu-west-1","access_key_id":"AK","secret_access_key":"s"}"#;
        let s = S3Store::new(Config::parse(vhost).unwrap(), NoNetwork);
        let q = vec![
            ("list-type".to_string(), "2".to_string()),
            ("prefix".to_string(), "a b".to_string()),
        ];
        let r = s.signed_request(Method::Get, None, &q, Vec::new(), 0);
        assert_eq!(r.authority, "tuf-meta.s3.eu-west-1.amazonaws.com");
        assert_eq!(r.path_and_query, "/?list-type=2&prefix=a%20b");
        assert_eq!(r.scheme, Scheme::Https);
        let r = s.signed_request(Method::Get, Some("x y.json"), &[], Vec::new(), 0);
        assert_eq!(r.path_and_query, "/x%20y.json");
    }

    #[test]
    fn bad_names_are_refused_before_any_request() {
        let s = S3Store::new(Config::parse(&config("")).unwrap(), NoNetwork);
        assert!(matches!(s.put("../x", b""), Err(Error::InvalidInput(_))));
        assert!(matches!(s.get("a/b"), Err(Error::InvalidInput(_))));
        assert!(matches!(s.delete(""), Err(Error::InvalidInput(_))));
        assert!(matches!(s.list("../"), Err(Error::InvalidInput(_))));
        let many = [
            ("ok.json".to_string(), vec![]),
            ("/bad".to_string(), vec![]),
        ];
        assert!(matches!(s.put_many(&many), Err(Error::InvalidInput(m)) if m.contains("/bad")));
    }

    #[test]
    fn listing_and_error_documents_parse() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>tuf</Name><Prefix>meta/</Prefix>
<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>
<Contents><Key>meta/1.root.json</Key><LastModified>2013-05-24T00:00:00.000Z</LastModified><ETag>"x"</ETag><Size>7</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>meta/a&amp;b.json</Key><Size>0</Size></Contents>
<CommonPrefixes><Prefix>meta/sub/</Prefix></CommonPrefixes>
<NextContinuationToken>tok+/=</NextContinuationToken></ListBucketResult>"#;
        let page = parse_list_page(xml).unwrap();
        assert_eq!(
            page.objects,
            vec![
                Entry {
                    name: "meta/1.root.json".into(),
                    size: 7,
                    modified: Some(1_369_353_600)
                },
                Entry {
                    name: "meta/a&b.json".into(),
                    size: 0,
                    modified: None
                },
            ]
        );
        assert_eq!(page.next.as_deref(), Some("tok+/="));
        assert!(parse_list_page(
            "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"
        )
        .is_err());
        assert!(parse_list_page("<Error/>").is_err());
        assert!(parse_list_page("not xml").is_err());

        let err = b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
        assert_eq!(
            parse_error(err),
            Some((
                "NoSuchKey".into(),
                "The specified key does not exist.".into()
            ))
        );
        assert_eq!(parse_error(b""), None);
    }
}

//! The AWS KMS client: configuration, `awskms:` URIs, KMS key specs in TUF
//! terms, the JSON protocol (`X-Amz-Target: TrentService.<Op>`) signed with
//! SigV4, error mapping and retries. Plain Rust over any [`Transport`]; the
//! component plugs in `wasi:http`.
//!
//! | KMS key spec | TUF keytype / scheme | `SigningAlgorithm` | `keyval.public` |
//! |---|---|---|---|
//! | `ECC_NIST_P256` | `ecdsa` / `ecdsa-sha2-nistp256` | `ECDSA_SHA_256` (DER signature) | PEM SPKI |
//! | `RSA_2048/3072/4096` | `rsa` / `rsassa-pss-sha256` | `RSASSA_PSS_SHA_256` (salt = 32 bytes) | PEM SPKI |
//!
//! KMS signs at most 4096 bytes of raw message; TUF metadata (a snapshot
//! with thousands of bins) is often larger. With `message_type = "auto"`
//! (the default) larger messages are hashed here and sent as
//! `MessageType=DIGEST`, which KMS signs identically.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rstuf_plugin_http::{
    retry, Attempt, Endpoint, Failure, Method, Request, Response, RetryPolicy, Timeouts,
};
pub use rstuf_plugin_http::{Error, Transport};
use rstuf_plugin_sdk::config::{Bounded, NonEmpty};
use rstuf_plugin_sdk::Secret;
use rstuf_plugin_sigv4::{self as sigv4, Credentials, SigningInput};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The URI scheme this vault serves.
pub const SCHEME: &str = "awskms";

/// The configuration as the host sends it; [`Config::from_settings`]
/// checks what the types cannot. Its JSON Schema is `plugin.info`'s.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = json!({"region": "eu-west-1", "access_key_id": "AKIA...", "secret_access_key": "..."}))]
pub struct Settings {
    /// AWS region of the keys (signing region)
    #[serde(default = "default_region")]
    pub region: NonEmpty,
    /// KMS endpoint, scheme://host[:port]; default https://kms.<region>.amazonaws.com; its host[:port] must be in the plugin's http_hosts grant
    #[schemars(extend("pattern" = "^https?://[^/?#@]+/?$"))]
    pub endpoint: Option<NonEmpty>,
    /// Access key id
    pub access_key_id: NonEmpty,
    /// Secret access key (secret; never logged)
    pub secret_access_key: Secret,
    /// Session token of temporary credentials (secret; never logged)
    pub session_token: Option<Secret>,
    /// auto: RAW up to 4096 bytes, else a SHA-256 DIGEST computed here; raw: always RAW (emulators without DIGEST support); digest: always DIGEST
    #[serde(default)]
    pub message_type: MessageType,
    /// Key ids, ARNs or aliases list-keys reports; default: every signing key ListKeys returns
    pub keys: Option<Vec<NonEmpty>>,
    /// Retries after throttling, 5xx or a connection failure
    #[serde(default)]
    pub max_retries: Bounded<0, 10, 3>,
    /// TCP/TLS connect timeout per attempt
    #[serde(default)]
    pub connect_timeout_ms: Bounded<1, 600_000, 5_000>,
    /// Wait for the response head, and between body chunks, per attempt
    #[serde(default)]
    pub timeout_ms: Bounded<1, 600_000, 30_000>,
}

fn default_region() -> NonEmpty {
    NonEmpty::literal("us-east-1")
}

/// Largest KMS response read.
const MAX_RESPONSE: usize = 1 << 20;
/// Largest raw message KMS signs.
pub const MAX_RAW_MESSAGE: usize = 4096;
/// Most keys `list` reports.
const MAX_LISTED: usize = 1000;

/// How messages are handed to KMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    #[default]
    Auto,
    Raw,
    Digest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub region: String,
    pub endpoint: Endpoint,
    pub credentials: Credentials,
    pub session_token: Option<Secret>,
    pub message_type: MessageType,
    pub keys: Option<Vec<String>>,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
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
        let region = s.region.into_string();
        if !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad("region", format!("'{region}' is not a region name")));
        }
        let endpoint = match &s.endpoint {
            Some(e) => Endpoint::parse(e).map_err(|e| bad("endpoint", e))?,
            None => Endpoint::parse(&format!("https://kms.{region}.amazonaws.com"))
                .map_err(|e| bad("region", e))?,
        };
        let credentials = Credentials {
            access_key_id: s.access_key_id.into_string(),
            secret_access_key: s.secret_access_key.expose().to_string(),
        };
        let keys = match s.keys {
            None => None,
            Some(ids) => Some(
                ids.into_iter()
                    .map(|k| {
                        check_key_id(&k).map_err(|e| bad("keys", e))?;
                        Ok(k.into_string())
                    })
                    .collect::<Result<Vec<_>, Error>>()?,
            ),
        };
        Ok(Config {
            region,
            endpoint,
            credentials,
            session_token: s.session_token,
            message_type: s.message_type,
            keys,
            retry: RetryPolicy {
                max_retries: s.max_retries.get() as u32,
                ..RetryPolicy::default()
            },
            timeouts: Timeouts {
                connect_ms: s.connect_timeout_ms.get(),
                response_ms: s.timeout_ms.get(),
            },
        })
    }

    /// Where and as whom, for logs: never the secret key or token.
    pub fn describe(&self) -> String {
        format!(
            "KMS at {}://{} (region {}, access key {})",
            self.endpoint.scheme.as_str(),
            self.endpoint.authority(),
            self.region,
            self.credentials.access_key_id
        )
    }
}

/// A KMS key id, key ARN, alias name or alias ARN, as KMS accepts them.
fn check_key_id(id: &str) -> Result<String, String> {
    if id.is_empty()
        || id.len() > 2048
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b':' | b'.'))
    {
        return Err(format!(
            "'{id}' is not a KMS key id, key ARN or alias (letters, digits, '-', '_', '/', ':', '.')"
        ));
    }
    Ok(id.to_string())
}

/// The KMS key id of an `awskms:` URI.
pub fn parse_uri(uri: &str) -> Result<String, Error> {
    let id = uri.strip_prefix("awskms:").ok_or_else(|| {
        Error::InvalidInput(format!(
            "'{uri}' is not an awskms: key URI (awskms:<key id>)"
        ))
    })?;
    check_key_id(id).map_err(Error::InvalidInput)
}

/// The key kinds TUF can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    EcdsaP256,
    Rsa,
}

impl KeyKind {
    pub fn from_spec(spec: &str) -> Option<KeyKind> {
        match spec {
            "ECC_NIST_P256" => Some(KeyKind::EcdsaP256),
            "RSA_2048" | "RSA_3072" | "RSA_4096" => Some(KeyKind::Rsa),
            _ => None,
        }
    }

    pub fn keytype(self) -> &'static str {
        match self {
            KeyKind::EcdsaP256 => "ecdsa",
            KeyKind::Rsa => "rsa",
        }
    }

    pub fn scheme(self) -> &'static str {
        match self {
            KeyKind::EcdsaP256 => "ecdsa-sha2-nistp256",
            KeyKind::Rsa => "rsassa-pss-sha256",
        }
    }

    pub fn algorithm(self) -> &'static str {
        match self {
            KeyKind::EcdsaP256 => "ECDSA_SHA_256",
            KeyKind::Rsa => "RSASSA_PSS_SHA_256",
        }
    }
}

pub use rstuf_plugin_sdk::PublicKey;

/// The TUF `keyval.public` of the key `id`'s DER SubjectPublicKeyInfo,
/// which must be a `kind` key: PEM as python `cryptography` writes it
/// (64 columns, `\n`, final newline), through `rstuf-keys`, which also
/// checks the key really is one.
pub fn spki_pem(id: &str, kind: KeyKind, der: &[u8]) -> Result<String, Error> {
    let public = rstuf_keys::PublicKey::from_spki_der(&format!("KMS key '{id}'"), der)
        .map_err(|e| Error::Internal(e.to_string()))?;
    if public.keytype != kind.keytype() {
        return Err(Error::Internal(format!(
            "KMS key '{id}': its public key is {}, not the {} its spec says",
            public.keytype,
            kind.keytype()
        )));
    }
    Ok(public.public)
}

/// Interpret a `GetPublicKey` response for the key `id`.
pub fn key_from_response(id: &str, v: &Value) -> Result<(KeyKind, String), Error> {
    let usage = v.get("KeyUsage").and_then(Value::as_str).unwrap_or("?");
    if usage != "SIGN_VERIFY" {
        return Err(Error::InvalidInput(format!(
            "KMS key '{id}' has usage {usage}; TUF needs an asymmetric SIGN_VERIFY key"
        )));
    }
    let spec = v
        .get("KeySpec")
        .or_else(|| v.get("CustomerMasterKeySpec"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    let kind = KeyKind::from_spec(spec).ok_or_else(|| {
        Error::InvalidInput(format!(
            "KMS key '{id}' has spec {spec}, which cannot sign TUF metadata \
             (supported: ECC_NIST_P256, RSA_2048, RSA_3072, RSA_4096)"
        ))
    })?;
    if let Some(algorithms) = v.get("SigningAlgorithms").and_then(Value::as_array) {
        if !algorithms
            .iter()
            .any(|a| a.as_str() == Some(kind.algorithm()))
        {
            return Err(Error::InvalidInput(format!(
                "KMS key '{id}' does not offer {}",
                kind.algorithm()
            )));
        }
    }
    let der = v
        .get("PublicKey")
        .and_then(Value::as_str)
        .and_then(|b| B64.decode(b).ok())
        .filter(|d| d.first() == Some(&0x30))
        .ok_or_else(|| {
            Error::Internal(format!("KMS key '{id}': response has no DER public key"))
        })?;
    Ok((kind, spki_pem(id, kind, &der)?))
}

/// The `Sign` request body for `message`.
pub fn sign_body(id: &str, kind: KeyKind, message: &[u8], mode: MessageType) -> Value {
    let digest = match mode {
        MessageType::Raw => false,
        MessageType::Digest => true,
        MessageType::Auto => message.len() > MAX_RAW_MESSAGE,
    };
    let (payload, message_type) = if digest {
        (Sha256::digest(message).to_vec(), "DIGEST")
    } else {
        (message.to_vec(), "RAW")
    };
    json!({
        "KeyId": id,
        "Message": B64.encode(payload),
        "MessageType": message_type,
        "SigningAlgorithm": kind.algorithm(),
    })
}

/// The text between `<tag>` and `</tag>`, for the XML errors AWS front
/// ends (and moto's IAM checks) answer with.
fn xml_field(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..end].trim().to_string())
}

/// The KMS error name (`__type`, namespace dropped) and message.
pub fn kms_error(r: &Response) -> (String, String) {
    let text = String::from_utf8_lossy(&r.body);
    if let Some(code) = xml_field(&text, "Code") {
        let message = xml_field(&text, "Message").unwrap_or_default();
        return (code, message);
    }
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    let kind = v
        .get("__type")
        .and_then(Value::as_str)
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
        .or_else(|| {
            r.header("x-amzn-errortype")
                .map(|t| t.split(':').next().unwrap_or(t).to_string())
        })
        .unwrap_or_else(|| format!("HTTP {}", r.status));
    let message = v
        .get("message")
        .or_else(|| v.get("Message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| r.body_excerpt(200));
    (kind, message)
}

/// What one response means.
fn classify(what: &str, r: &Response) -> Attempt<Value, Error> {
    if (200..300).contains(&r.status) {
        return Attempt::Done(
            serde_json::from_slice(&r.body)
                .map_err(|e| Error::Internal(format!("{what}: response is not JSON: {e}"))),
        );
    }
    let (kind, message) = kms_error(r);
    let text = format!("{what}: {kind}: {message}");
    match kind.as_str() {
        "ThrottlingException"
        | "LimitExceededException"
        | "KMSInternalException"
        | "DependencyTimeoutException"
        | "KeyUnavailableException"
        | "ServiceUnavailableException"
        | "InternalFailure" => Attempt::Retry(text),
        "NotFoundException" => Attempt::Done(Err(Error::NotFound(text))),
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "InvalidClientTokenId"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "ExpiredTokenException"
        | "KMSInvalidStateException"
        | "DisabledException" => Attempt::Done(Err(Error::Denied(format!(
            "{text} (check the credentials, the key's state and its key policy)"
        )))),
        _ if r.status >= 500 || r.status == 429 => Attempt::Retry(text),
        _ if r.status == 401 || r.status == 403 => Attempt::Done(Err(Error::Denied(text))),
        _ => Attempt::Done(Err(Error::InvalidInput(text))),
    }
}

/// Keys listed by [`Kms::list`], and the ids skipped with the reason.
pub struct Listing {
    pub keys: Vec<PublicKey>,
    pub skipped: Vec<(String, Error)>,
}

/// One plugin instance's client.
pub struct Kms<T: Transport> {
    config: Config,
    transport: T,
    /// Key kinds by key id: a KMS key never changes spec.
    kinds: HashMap<String, KeyKind>,
}

impl<T: Transport> Kms<T> {
    pub fn new(config: Config, transport: T) -> Self {
        Kms {
            config,
            transport,
            kinds: HashMap::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Build and sign the request for `operation` at Unix time `now`.
    pub fn signed_request(&self, operation: &str, body: &Value, now: u64) -> Request {
        let body = body.to_string().into_bytes();
        let authority = self.config.endpoint.authority();
        let payload_hash = sigv4::sha256_hex(&body);
        let (amz_date, _) = sigv4::amz_date(now);
        let mut headers = vec![
            ("host".to_string(), authority.clone()),
            (
                "content-type".to_string(),
                "application/x-amz-json-1.1".to_string(),
            ),
            ("x-amz-date".to_string(), amz_date.clone()),
            (
                "x-amz-target".to_string(),
                format!("TrentService.{operation}"),
            ),
        ];
        if let Some(token) = &self.config.session_token {
            headers.push((
                "x-amz-security-token".to_string(),
                token.expose().to_string(),
            ));
        }
        let authorization = sigv4::authorization(
            &self.config.credentials,
            &SigningInput {
                method: "POST",
                path: "/",
                query: &[],
                headers: &headers,
                payload_hash: &payload_hash,
                region: &self.config.region,
                service: "kms",
                amz_date: &amz_date,
            },
        );
        // wasi:http sets Host from the authority and forbids the header.
        headers.retain(|(n, _)| n != "host");
        headers.push(("authorization".to_string(), authorization));
        Request {
            method: Method::Post,
            scheme: self.config.endpoint.scheme,
            authority,
            path_and_query: "/".to_string(),
            headers,
            body,
        }
    }

    /// Call `operation` with retries; each attempt is signed afresh.
    fn call(&self, operation: &str, body: &Value, what: &str) -> Result<Value, Error> {
        retry(
            &self.config.retry,
            |ms| self.transport.sleep(ms),
            self.transport.jitter(),
            || {
                let request = self.signed_request(operation, body, self.transport.now());
                match self
                    .transport
                    .send(&request, self.config.timeouts, MAX_RESPONSE)
                {
                    Ok(r) => classify(what, &r),
                    Err(Failure::Denied(m)) => Attempt::Done(Err(Error::Denied(format!(
                        "{what}: {m} (add the KMS endpoint to the plugin's http_hosts grant)"
                    )))),
                    Err(Failure::Transient(m)) => Attempt::Retry(m),
                    Err(Failure::Fatal(m)) => {
                        Attempt::Done(Err(Error::Internal(format!("{what}: {m}"))))
                    }
                }
            },
            |last, tries| {
                Error::Unavailable(format!(
                    "{what}: KMS at {} unavailable after {tries} attempt(s): {last}",
                    self.config.endpoint.authority()
                ))
            },
        )
    }

    /// Read key `id` and remember its kind.
    fn read_key(&mut self, id: &str) -> Result<(KeyKind, String), Error> {
        let response = self.call(
            "GetPublicKey",
            &json!({ "KeyId": id }),
            &format!("read KMS key '{id}'"),
        )?;
        let (kind, pem) = key_from_response(id, &response)?;
        self.kinds.insert(id.to_string(), kind);
        Ok((kind, pem))
    }

    /// The public half of the key at `uri`.
    pub fn public(&mut self, uri: &str) -> Result<PublicKey, Error> {
        let id = parse_uri(uri)?;
        let (kind, public) = self.read_key(&id)?;
        Ok(PublicKey {
            uri: uri.to_string(),
            keytype: kind.keytype().into(),
            scheme: kind.scheme().into(),
            public,
        })
    }

    /// Sign `message` with the key at `uri`.
    pub fn sign(&mut self, uri: &str, message: &[u8]) -> Result<Vec<u8>, Error> {
        let id = parse_uri(uri)?;
        let kind = match self.kinds.get(&id) {
            Some(k) => *k,
            None => self.read_key(&id)?.0,
        };
        if message.len() > MAX_RAW_MESSAGE && self.config.message_type == MessageType::Raw {
            return Err(Error::InvalidInput(format!(
                "message is {} bytes; KMS signs at most {MAX_RAW_MESSAGE} raw bytes \
                 (set message_type to auto)",
                message.len()
            )));
        }
        let body = sign_body(&id, kind, message, self.config.message_type);
        let response = self.call("Sign", &body, &format!("sign with KMS key '{id}'"))?;
        let signature = response
            .get("Signature")
            .and_then(Value::as_str)
            .and_then(|s| B64.decode(s).ok())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Error::Internal(format!(
                    "sign with KMS key '{id}': response has no signature"
                ))
            })?;
        if kind == KeyKind::EcdsaP256 && signature.first() != Some(&0x30) {
            return Err(Error::Internal(format!(
                "sign with KMS key '{id}': the ECDSA signature is not DER"
            )));
        }
        Ok(signature)
    }

    /// Every signing key TUF can use: the configured `keys`, or all keys
    /// `ListKeys` returns (paged), each read with `GetPublicKey`.
    pub fn list(&mut self) -> Result<Listing, Error> {
        let ids = match &self.config.keys {
            Some(keys) => keys.clone(),
            None => self.list_ids()?,
        };
        let mut listing = Listing {
            keys: Vec::new(),
            skipped: Vec::new(),
        };
        for id in ids {
            match self.public(&format!("{SCHEME}:{id}")) {
                Ok(k) => listing.keys.push(k),
                Err(e @ (Error::InvalidInput(_) | Error::NotFound(_) | Error::Denied(_))) => {
                    listing.skipped.push((id, e))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(listing)
    }

    fn list_ids(&self) -> Result<Vec<String>, Error> {
        let mut ids = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut body = json!({ "Limit": 1000 });
            if let Some(m) = &marker {
                body["Marker"] = json!(m);
            }
            let page = self.call("ListKeys", &body, "list KMS keys")?;
            for key in page
                .get("Keys")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = key.get("KeyId").and_then(Value::as_str) {
                    ids.push(id.to_string());
                }
            }
            marker = page
                .get("NextMarker")
                .and_then(Value::as_str)
                .filter(|_| page.get("Truncated").and_then(Value::as_bool) == Some(true))
                .map(str::to_string);
            if marker.is_none() || ids.len() >= MAX_LISTED {
                ids.truncate(MAX_LISTED);
                return Ok(ids);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        Config::parse(&format!(
            r#"{{"endpoint":"http://127.0.0.1:5000","access_key_id":"AKIDEXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"{extra}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn configuration_is_validated_without_echoing_secrets() {
        let c = config(r#","session_token":"FwoGZXIvYXdzEXAMPLETOKEN""#);
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.message_type, MessageType::Auto);
        let text = format!("{c:?} {}", c.describe());
        assert!(
            !text.contains("EXAMPLEKEY") && !text.contains("EXAMPLETOKEN"),
            "{text}"
        );
        let c = Config::parse(
            r#"{"region":"eu-west-1","access_key_id":"a","secret_access_key":"s","keys":["alias/tuf-online"]}"#,
        )
        .unwrap();
        assert_eq!(c.endpoint.host, "kms.eu-west-1.amazonaws.com");
        assert_eq!(c.keys, Some(vec!["alias/tuf-online".to_string()]));
        for (text, key) in [
            (r#"{"secret_access_key":"s"}"#, "access_key_id"),
            (r#"{"access_key_id":"a"}"#, "secret_access_key"),
            (
                r#"{"access_key_id":"a","secret_access_key":"s","region":"EU WEST"}"#,
                "region",
            ),
            (
                r#"{"access_key_id":"a","secret_access_key":"s","endpoint":"kms:443"}"#,
                "endpoint",
            ),
            (
                r#"{"access_key_id":"a","secret_access_key":"s","message_type":"hash"}"#,
                "message_type",
            ),
            (
                r#"{"access_key_id":"a","secret_access_key":"s","keys":["a b"]}"#,
                "keys",
            ),
            (
                r#"{"access_key_id":"a","secret_access_key":"s","secret":"x"}"#,
                "unknown key 'secret'",
            ),
        ] {
            match Config::parse(text) {
                Err(Error::InvalidConfig(m)) => assert!(m.contains(key), "{text}: {m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn uris() {
        assert_eq!(
            parse_uri("awskms:1234abcd-12ab-34cd-56ef-1234567890ab").unwrap(),
            "1234abcd-12ab-34cd-56ef-1234567890ab"
        );
        assert_eq!(
            parse_uri("awskms:arn:aws:kms:us-east-1:111122223333:alias/tuf").unwrap(),
            "arn:aws:kms:us-east-1:111122223333:alias/tuf"
        );
        for bad in ["hv:x", "awskms:", "awskms:a b", "awskms:a?b"] {
            assert!(
                matches!(parse_uri(bad), Err(Error::InvalidInput(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn key_specs_become_tuf_keys() {
        // Real SubjectPublicKeyInfos (python `cryptography`), base64 as KMS
        // returns them.
        const P256: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwuqcVksnOtcBeyEmh/1XWR5zLqy3TyIVzBB3P8R7Xwf64H8tORqLM9XtJAgX99e0aDNi3PUzxmyQzOG9kCNbbg==";
        const RSA: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuyPtuH2aRqSuBiK4ZRC/3Z5NFmHTeJ2NMYF2cU/uSDJiXymiOXbaWWh7nFigX4o8BtqMJXzlNSqDGCdjPrvUoDj5WVqromgcjYkGzn7Bq8vmBOiQdyzHjLrn9T20Va04qzYvm+aNPeoK5DNXJYbNcbAjPurkqjWqNDB/q9F5nmVxEbKO1/7SfRpW+tnD+IWG/ITn4F81CZIZmDKlzOdvXo1LEkljbb54+QTP/4uVCTM57XHa8Q8DmTt3u/via/gB8HvaX/3nccaoy7V8QHEwUCO0ksq1lNadsXsoybONWbo2qWvPVfYSmjVcuw75e6D3g/PhxpMLtD0PWxreT/YYiwIDAQAB";
        let v = json!({"KeyUsage":"SIGN_VERIFY","KeySpec":"ECC_NIST_P256","SigningAlgorithms":["ECDSA_SHA_256"],"PublicKey":P256});
        let (kind, pem) = key_from_response("k", &v).unwrap();
        assert_eq!(
            (kind.keytype(), kind.scheme()),
            ("ecdsa", "ecdsa-sha2-nistp256")
        );
        assert_eq!(
            pem,
            "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwuqcVksnOtcBeyEmh/1XWR5zLqy3\nTyIVzBB3P8R7Xwf64H8tORqLM9XtJAgX99e0aDNi3PUzxmyQzOG9kCNbbg==\n-----END PUBLIC KEY-----\n"
        );
        let v =
            json!({"KeyUsage":"SIGN_VERIFY","CustomerMasterKeySpec":"RSA_3072","PublicKey":RSA});
        assert_eq!(
            key_from_response("k", &v).unwrap().0.scheme(),
            "rsassa-pss-sha256"
        );
        // A public key that is not what the spec says, or not a key.
        let v = json!({"KeyUsage":"SIGN_VERIFY","KeySpec":"RSA_2048","PublicKey":P256});
        let err = format!("{:?}", key_from_response("k", &v).unwrap_err());
        assert!(err.contains("ecdsa, not the rsa"), "{err}");
        let v = json!({"KeyUsage":"SIGN_VERIFY","KeySpec":"ECC_NIST_P256","PublicKey":B64.encode([0x30u8, 0x59, 0x30, 0x13])});
        assert!(key_from_response("k", &v).is_err());
        for (v, want) in [
            (
                json!({"KeyUsage":"ENCRYPT_DECRYPT","KeySpec":"RSA_2048"}),
                "usage",
            ),
            (
                json!({"KeyUsage":"SIGN_VERIFY","KeySpec":"ECC_SECG_P256K1"}),
                "ECC_SECG_P256K1",
            ),
            (
                json!({"KeyUsage":"SIGN_VERIFY","KeySpec":"RSA_2048","SigningAlgorithms":["RSASSA_PKCS1_V1_5_SHA_256"]}),
                "RSASSA_PSS_SHA_256",
            ),
        ] {
            match key_from_response("k", &v) {
                Err(Error::InvalidInput(m)) => assert!(m.contains(want), "{m}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn large_messages_are_signed_as_digests() {
        let small = vec![b'a'; MAX_RAW_MESSAGE];
        let large = vec![b'a'; MAX_RAW_MESSAGE + 1];
        let b = sign_body("k", KeyKind::EcdsaP256, &small, MessageType::Auto);
        assert_eq!(
            (b["MessageType"].as_str(), b["SigningAlgorithm"].as_str()),
            (Some("RAW"), Some("ECDSA_SHA_256"))
        );
        assert_eq!(B64.decode(b["Message"].as_str().unwrap()).unwrap(), small);
        let b = sign_body("k", KeyKind::Rsa, &large, MessageType::Auto);
        assert_eq!(b["MessageType"], "DIGEST");
        assert_eq!(
            B64.decode(b["Message"].as_str().unwrap()).unwrap(),
            Sha256::digest(&large).to_vec()
        );
        assert_eq!(
            sign_body("k", KeyKind::Rsa, b"x", MessageType::Digest)["MessageType"],
            "DIGEST"
        );
        assert_eq!(
            sign_body("k", KeyKind::Rsa, &large, MessageType::Raw)["MessageType"],
            "RAW"
        );
    }

    #[test]
    fn requests_are_sigv4_signed_json_rpc() {
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
        let kms = Kms::new(config(r#","session_token":"tok""#), NoNetwork);
        let r = kms.signed_request("Sign", &json!({"KeyId":"k"}), 1_369_353_600);
        let header = |n: &str| {
            r.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(r.path_and_query, "/");
        assert_eq!(r.authority, "127.0.0.1:5000");
        assert_eq!(header("x-amz-target"), Some("TrentService.Sign"));
        assert_eq!(header("x-amz-date"), Some("20130524T000000Z"));
        assert_eq!(header("x-amz-security-token"), Some("tok"));
        assert_eq!(header("host"), None);
        let auth = header("authorization").unwrap();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20130524/us-east-1/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature="), "{auth}");
        assert!(!format!("{r:?}").contains("tok\""));
    }

    #[test]
    fn errors_are_classified() {
        let response = |status: u16, body: &str| Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        let cases = [
            (
                400,
                r#"{"__type":"NotFoundException","message":"Key 'x' does not exist"}"#,
                "NotFound",
            ),
            (
                400,
                r#"{"__type":"com.amazonaws.kms#AccessDeniedException","Message":"no"}"#,
                "Denied",
            ),
            (
                400,
                r#"{"__type":"UnrecognizedClientException","message":"bad key"}"#,
                "Denied",
            ),
            (
                400,
                r#"{"__type":"ValidationException","message":"bad"}"#,
                "InvalidInput",
            ),
            (
                400,
                r#"{"__type":"ThrottlingException","message":"slow down"}"#,
                "Retry",
            ),
            (503, "", "Retry"),
        ];
        for (status, body, want) in cases {
            let got = match classify("op", &response(status, body)) {
                Attempt::Retry(m) => format!("Retry {m}"),
                Attempt::Done(Err(e)) => format!("{e:?}"),
                Attempt::Done(Ok(v)) => format!("Ok {v}"),
            };
            assert!(got.starts_with(want), "{status} {body}: {got}");
        }
        assert_eq!(
            kms_error(&response(
                400,
                r#"{"__type":"a#NotFoundException","message":"m"}"#
            )),
            ("NotFoundException".into(), "m".into())
        );
        let xml = r#"<?xml version="1.0"?><ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error></Errors></ErrorResponse>"#;
        assert_eq!(kms_error(&response(403, xml)).0, "SignatureDoesNotMatch");
        assert!(matches!(
            classify("op", &response(403, xml)),
            Attempt::Done(Err(Error::Denied(_)))
        ));
    }
}

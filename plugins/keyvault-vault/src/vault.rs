//! The transit client: configuration, key URIs, Vault's key and signature
//! formats in TUF terms, authentication (token or AppRole with a cached
//! client token), retries. Plain Rust over any [`Transport`]; the component
//! plugs in `wasi:http`.
//!
//! TUF schemes and the transit parameters that produce them:
//!
//! | transit type | TUF keytype / scheme | sign parameters | `keyval.public` |
//! |---|---|---|---|
//! | `ed25519` | `ed25519` / `ed25519` | input only (no prehash) | hex of the raw 32 bytes |
//! | `ecdsa-p256` | `ecdsa` / `ecdsa-sha2-nistp256` | `hash_algorithm=sha2-256`, `marshaling_algorithm=asn1` (DER) | PEM SPKI |
//! | `rsa-2048/3072/4096` | `rsa` / `rsassa-pss-sha256` | `hash_algorithm=sha2-256`, `signature_algorithm=pss`, `salt_length=32` | PEM SPKI |
//!
//! Vault hashes the input itself, so the message sent is the raw canonical
//! bytes, base64-encoded.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
pub use rstuf_plugin_http::Transport;
use rstuf_plugin_http::{
    percent_encode, retry, Attempt, Endpoint, Failure, Method, Request, Response, RetryPolicy,
    Timeouts,
};
use rstuf_plugin_sdk::config::{Bounded, NonEmpty};
use rstuf_plugin_sdk::Secret;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// The URI scheme this vault serves.
pub const SCHEME: &str = "hv";

/// The configuration as the host sends it; [`Config::from_settings`]
/// checks what the types cannot. Its JSON Schema is `plugin.info`'s.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["token"]}, {"required": ["approle"]}]))]
#[schemars(example = json!({"address": "https://vault.internal:8200", "approle": {"role_id": "...", "secret_id": "..."}}))]
pub struct Settings {
    /// Vault/OpenBao address, scheme://host[:port]; host[:port] must be in the plugin's http_hosts grant
    #[schemars(extend("pattern" = "^https?://[^/?#@]+/?$"))]
    pub address: NonEmpty,
    /// Path of the transit secrets engine
    #[serde(default = "default_transit_mount")]
    pub mount: NonEmpty,
    /// Vault token (secret; never logged)
    pub token: Option<Secret>,
    /// AppRole login, instead of a token
    pub approle: Option<AppRoleSettings>,
    /// Vault Enterprise / OpenBao namespace (X-Vault-Namespace)
    pub namespace: Option<NonEmpty>,
    /// Retries after 412, 429, 5xx (sealed, standby) or a connection failure
    #[serde(default)]
    pub max_retries: Bounded<0, 10, 3>,
    /// TCP/TLS connect timeout per attempt
    #[serde(default)]
    pub connect_timeout_ms: Bounded<1, 600_000, 5_000>,
    /// Wait for the response head, and between body chunks, per attempt
    #[serde(default)]
    pub timeout_ms: Bounded<1, 600_000, 30_000>,
}

/// `approle` in [`Settings`].
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppRoleSettings {
    /// AppRole role id
    pub role_id: NonEmpty,
    /// AppRole secret id (secret; never logged)
    pub secret_id: Secret,
    /// Path of the AppRole auth method
    #[serde(default = "default_approle_mount")]
    pub mount: NonEmpty,
}

fn default_transit_mount() -> NonEmpty {
    NonEmpty::literal("transit")
}

fn default_approle_mount() -> NonEmpty {
    NonEmpty::literal("approle")
}

/// Largest Vault response read.
const MAX_RESPONSE: usize = 4 << 20;

pub use rstuf_plugin_http::Error;

/// How the plugin authenticates. `Debug` never prints secrets.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    Token(Secret),
    AppRole {
        mount: String,
        role_id: String,
        secret_id: Secret,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Token(_) => f.write_str("Token(<redacted>)"),
            Auth::AppRole { mount, .. } => write!(f, "AppRole(auth/{mount}, <redacted>)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub address: Endpoint,
    pub mount: String,
    pub auth: Auth,
    pub namespace: Option<String>,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
}

fn check_mount(mount: &str) -> Result<String, String> {
    let m = mount.trim_matches('/');
    if m.is_empty()
        || m.split('/').any(|s| s.is_empty() || s == "." || s == "..")
        || !m
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
    {
        return Err(format!(
            "'{mount}' is not a mount path (letters, digits, '-', '_', '.', '/')"
        ));
    }
    Ok(m.to_string())
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
        let address = Endpoint::parse(&s.address).map_err(|e| bad("address", e))?;
        let mount = check_mount(&s.mount).map_err(|e| bad("mount", e))?;
        let auth = match (s.token, s.approle) {
            (Some(t), None) => {
                if t.expose()
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace())
                {
                    return Err(bad(
                        "token",
                        "contains whitespace or control characters".into(),
                    ));
                }
                Auth::Token(t)
            }
            (None, Some(a)) => Auth::AppRole {
                mount: check_mount(&a.mount).map_err(|e| bad("approle.mount", e))?,
                role_id: a.role_id.into_string(),
                secret_id: a.secret_id,
            },
            (Some(_), Some(_)) => {
                return Err(Error::InvalidConfig(
                    "token, approle: give one authentication method, not both".into(),
                ))
            }
            (None, None) => {
                return Err(Error::InvalidConfig(
                    "token, approle: one authentication method is required".into(),
                ))
            }
        };
        let namespace = s.namespace.map(NonEmpty::into_string);
        if let Some(ns) = &namespace {
            check_mount(ns).map_err(|e| bad("namespace", e))?;
        }
        Ok(Config {
            address,
            mount,
            auth,
            namespace,
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

    /// For the log: where and how, never a secret.
    pub fn describe(&self) -> String {
        let auth = match &self.auth {
            Auth::Token(_) => "token".to_string(),
            Auth::AppRole { mount, .. } => format!("AppRole at auth/{mount}"),
        };
        format!(
            "transit mount '{}' at {}://{}{}, {auth} authentication",
            self.mount,
            self.address.scheme.as_str(),
            self.address.authority(),
            self.namespace
                .as_deref()
                .map(|n| format!(", namespace '{n}'"))
                .unwrap_or_default()
        )
    }
}

/// A parsed key URI: `hv:<name>` (the latest version, as upstream RSTUF
/// writes it) or `hv:<name>/<version>` (securesystemslib's `VaultSigner`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    pub name: String,
    pub version: Option<u64>,
}

pub fn parse_uri(uri: &str) -> Result<KeyRef, Error> {
    let bad = |why: &str| Error::InvalidInput(format!("invalid key URI {uri:?}: {why}"));
    let rest = uri
        .strip_prefix("hv:")
        .ok_or_else(|| bad("this vault serves hv:<transit key name>[/<version>] URIs"))?;
    let (name, version) = match rest.split_once('/') {
        Some((n, v)) => {
            let v = v
                .parse::<u64>()
                .ok()
                .filter(|&v| v > 0)
                .ok_or_else(|| bad("the version after '/' must be a positive integer"))?;
            (n, Some(v))
        }
        None => (rest, None),
    };
    if name.is_empty() {
        return Err(bad("empty key name"));
    }
    if name.len() > 255 {
        return Err(bad("key name longer than 255 bytes"));
    }
    if name.contains("..") || name == "." {
        return Err(bad("key name contains '..'"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
    {
        return Err(bad(
            "key names may contain only letters, digits, '-', '_', '.' and '@'",
        ));
    }
    Ok(KeyRef {
        name: name.to_string(),
        version,
    })
}

/// The transit key types that sign TUF metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Ed25519,
    EcdsaP256,
    Rsa,
}

impl KeyKind {
    pub fn from_transit(kind: &str) -> Option<KeyKind> {
        match kind {
            "ed25519" => Some(KeyKind::Ed25519),
            "ecdsa-p256" => Some(KeyKind::EcdsaP256),
            "rsa-2048" | "rsa-3072" | "rsa-4096" => Some(KeyKind::Rsa),
            _ => None,
        }
    }

    pub fn keytype(self) -> &'static str {
        match self {
            KeyKind::Ed25519 => "ed25519",
            KeyKind::EcdsaP256 => "ecdsa",
            KeyKind::Rsa => "rsa",
        }
    }

    pub fn scheme(self) -> &'static str {
        match self {
            KeyKind::Ed25519 => "ed25519",
            KeyKind::EcdsaP256 => "ecdsa-sha2-nistp256",
            KeyKind::Rsa => "rsassa-pss-sha256",
        }
    }

    /// The `sign` request body for `message`.
    pub fn sign_body(self, message: &[u8], version: Option<u64>) -> Value {
        let mut body = json!({ "input": B64.encode(message) });
        match self {
            KeyKind::Ed25519 => {}
            KeyKind::EcdsaP256 => {
                body["hash_algorithm"] = "sha2-256".into();
                body["marshaling_algorithm"] = "asn1".into();
            }
            KeyKind::Rsa => {
                body["hash_algorithm"] = "sha2-256".into();
                body["signature_algorithm"] = "pss".into();
                body["salt_length"] = "32".into();
            }
        }
        if let Some(v) = version {
            body["key_version"] = v.into();
        }
        body
    }
}

pub use rstuf_plugin_sdk::PublicKey;

/// What `GET <mount>/keys/<name>` says about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitKey {
    pub kind: KeyKind,
    pub latest: u64,
    /// TUF `keyval.public` per version.
    pub publics: BTreeMap<u64, String>,
}

impl TransitKey {
    /// Interpret the `data` of a key read.
    pub fn from_data(name: &str, data: &Value) -> Result<TransitKey, Error> {
        let kind_text = data.get("type").and_then(Value::as_str).unwrap_or("?");
        let kind = KeyKind::from_transit(kind_text).ok_or_else(|| {
            Error::InvalidInput(format!(
                "transit key '{name}' has type {kind_text}, which cannot sign TUF metadata \
                 (supported: ed25519, ecdsa-p256, rsa-2048, rsa-3072, rsa-4096)"
            ))
        })?;
        if data.get("derived").and_then(Value::as_bool) == Some(true) {
            return Err(Error::InvalidInput(format!(
                "transit key '{name}' is a derived key (it needs a context per signature); create it with derived=false"
            )));
        }
        let latest = data
            .get("latest_version")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                Error::Internal(format!("key '{name}': response has no latest_version"))
            })?;
        let keys = data
            .get("keys")
            .and_then(Value::as_object)
            .ok_or_else(|| Error::Internal(format!("key '{name}': response has no keys")))?;
        let mut publics = BTreeMap::new();
        for (version, entry) in keys {
            let Ok(version) = version.parse::<u64>() else {
                continue;
            };
            let Some(public) = entry.get("public_key").and_then(Value::as_str) else {
                continue;
            };
            if public.is_empty() {
                continue;
            }
            let public = match kind {
                KeyKind::Ed25519 => {
                    let raw = B64.decode(public.trim()).map_err(|e| {
                        Error::Internal(format!(
                            "key '{name}' v{version}: public key is not base64: {e}"
                        ))
                    })?;
                    if raw.len() != 32 {
                        return Err(Error::Internal(format!(
                            "key '{name}' v{version}: ed25519 public key has {} bytes, not 32",
                            raw.len()
                        )));
                    }
                    hex::encode(raw)
                }
                KeyKind::EcdsaP256 | KeyKind::Rsa => {
                    let spki = normalize_spki_pem(public)
                        .map_err(|e| Error::Internal(format!("key '{name}' v{version}: {e}")))?;
                    if spki.keytype != kind.keytype() {
                        return Err(Error::Internal(format!(
                            "key '{name}' v{version}: its public key is {}, not {}",
                            spki.keytype,
                            kind.keytype()
                        )));
                    }
                    spki.public
                }
            };
            publics.insert(version, public);
        }
        Ok(TransitKey {
            kind,
            latest,
            publics,
        })
    }

    /// The public key of `version` (the latest when `None`).
    pub fn public(&self, name: &str, version: Option<u64>) -> Result<&str, Error> {
        let v = version.unwrap_or(self.latest);
        self.publics.get(&v).map(String::as_str).ok_or_else(|| {
            Error::NotFound(format!(
                "transit key '{name}' has no version {v} (latest is {})",
                self.latest
            ))
        })
    }
}

/// The TUF public key in a `PUBLIC KEY` PEM block as Vault returns it
/// (base64 read leniently: any line breaks), re-encoded as python
/// `cryptography` writes it (64-column base64, `\n` line ends, final
/// newline) by `rstuf-keys`, which also checks it really is a key.
pub fn normalize_spki_pem(pem: &str) -> Result<rstuf_keys::PublicKey, String> {
    const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
    const END: &str = "-----END PUBLIC KEY-----";
    let start = pem
        .find(BEGIN)
        .ok_or("public key is not a PEM SubjectPublicKeyInfo (no BEGIN PUBLIC KEY)")?;
    let body = &pem[start + BEGIN.len()..];
    let end = body.find(END).ok_or("public key PEM has no END line")?;
    let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    let der = B64
        .decode(b64.as_bytes())
        .map_err(|e| format!("public key PEM is not base64: {e}"))?;
    rstuf_keys::PublicKey::from_spki_der("public key", &der).map_err(|e| e.to_string())
}

/// Decode the `data` of a sign response (`vault:v<N>:<base64>`).
pub fn parse_signature(kind: KeyKind, response: &Value) -> Result<Vec<u8>, Error> {
    if let Some(warnings) = response.get("warnings").and_then(Value::as_array) {
        if kind == KeyKind::Rsa
            && warnings
                .iter()
                .filter_map(Value::as_str)
                .any(|w| w.contains("salt_length"))
        {
            return Err(Error::Internal(
                "Vault ignored salt_length, so the RSA-PSS salt is not the 32 bytes TUF's \
                 rsassa-pss-sha256 needs; use Vault 1.10 or later, or OpenBao"
                    .into(),
            ));
        }
    }
    let text = response
        .get("data")
        .and_then(|d| d.get("signature"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Internal("sign response has no data.signature".into()))?;
    let mut parts = text.splitn(3, ':');
    let (prefix, version, b64) = (parts.next(), parts.next(), parts.next());
    if prefix != Some("vault") || !version.is_some_and(|v| v.starts_with('v')) {
        return Err(Error::Internal(
            "signature is not in the vault:v<N>:<base64> format".into(),
        ));
    }
    let sig = B64
        .decode(b64.unwrap_or_default())
        .map_err(|e| Error::Internal(format!("signature is not base64: {e}")))?;
    if kind == KeyKind::Ed25519 && sig.len() != 64 {
        return Err(Error::Internal(format!(
            "ed25519 signature has {} bytes, not 64",
            sig.len()
        )));
    }
    Ok(sig)
}

/// The `errors` of a Vault error response, joined.
fn vault_errors(response: &Response) -> String {
    let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
    let joined = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    if joined.is_empty() {
        format!("HTTP {}", response.status)
    } else {
        format!("HTTP {}: {joined}", response.status)
    }
}

/// A client token and when to stop using it.
struct CachedToken {
    value: String,
    /// Unix time after which to log in again; `None`: never expires.
    renew_at: Option<u64>,
}

/// Keys listed by [`Vault::list`], and the names skipped with the reason.
pub struct Listing {
    pub keys: Vec<PublicKey>,
    pub skipped: Vec<(String, Error)>,
}

/// One plugin instance's client.
pub struct Vault<T: Transport> {
    config: Config,
    transport: T,
    token: Option<CachedToken>,
    /// Key types by name: a transit key never changes type.
    kinds: HashMap<String, KeyKind>,
}

impl<T: Transport> Vault<T> {
    pub fn new(config: Config, transport: T) -> Self {
        Vault {
            config,
            transport,
            token: None,
            kinds: HashMap::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether an AppRole login happened and its token is cached.
    pub fn has_cached_token(&self) -> bool {
        self.token.is_some()
    }

    fn http_request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Request {
        let mut headers = Vec::new();
        if let Some(t) = token {
            headers.push(("x-vault-token".to_string(), t.to_string()));
        }
        if let Some(ns) = &self.config.namespace {
            headers.push(("x-vault-namespace".to_string(), ns.clone()));
        }
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        if !body.is_empty() {
            headers.push(("content-type".to_string(), "application/json".to_string()));
        }
        Request {
            method,
            scheme: self.config.address.scheme,
            authority: self.config.address.authority(),
            path_and_query: format!("/v1/{path}"),
            headers,
            body,
        }
    }

    /// Send with retries. 2xx → `Some(json)`, 404 → `None`; other
    /// statuses become errors via `on_status`.
    fn send(
        &self,
        request: &Request,
        what: &str,
        on_status: impl Fn(&Response) -> Error,
    ) -> Result<Option<Value>, Error> {
        retry(
            &self.config.retry,
            |ms| self.transport.sleep(ms),
            self.transport.jitter(),
            || match self
                .transport
                .send(request, self.config.timeouts, MAX_RESPONSE)
            {
                Ok(r) if (200..300).contains(&r.status) => {
                    if r.body.iter().all(u8::is_ascii_whitespace) {
                        return Attempt::Done(Ok(Some(Value::Null)));
                    }
                    Attempt::Done(
                        serde_json::from_slice(&r.body).map(Some).map_err(|e| {
                            Error::Internal(format!("{what}: response is not JSON: {e}"))
                        }),
                    )
                }
                Ok(r) if r.status == 404 => Attempt::Done(Ok(None)),
                Ok(r) if matches!(r.status, 412 | 429 | 500..=599) => {
                    Attempt::Retry(vault_errors(&r))
                }
                Ok(r) => Attempt::Done(Err(on_status(&r))),
                Err(Failure::Denied(m)) => {
                    Attempt::Done(Err(Error::Denied(format!("{what}: {m}"))))
                }
                Err(Failure::Transient(m)) => Attempt::Retry(m),
                Err(Failure::Fatal(m)) => {
                    Attempt::Done(Err(Error::Internal(format!("{what}: {m}"))))
                }
            },
            |last, tries| {
                Error::Unavailable(format!(
                    "{what}: Vault at {} unavailable after {tries} attempt(s): {last}",
                    self.config.address.authority()
                ))
            },
        )
    }

    /// The token to send, logging in with AppRole when needed.
    fn token(&mut self) -> Result<String, Error> {
        let (mount, role_id, secret_id) = match &self.config.auth {
            Auth::Token(t) => return Ok(t.expose().to_string()),
            Auth::AppRole {
                mount,
                role_id,
                secret_id,
            } => (mount.clone(), role_id.clone(), secret_id.clone()),
        };
        let now = self.transport.now();
        if let Some(t) = &self.token {
            if t.renew_at.is_none_or(|at| now < at) {
                return Ok(t.value.clone());
            }
        }
        let what = format!("AppRole login at auth/{mount}");
        let body = json!({ "role_id": role_id, "secret_id": secret_id.expose() });
        let request = self.http_request(
            Method::Post,
            &format!("auth/{mount}/login"),
            Some(&body),
            None,
        );
        let response = self
            .send(&request, &what, |r| {
                // 400 is how Vault answers a wrong role or secret id.
                Error::Denied(format!(
                    "{what} failed ({}); check approle.role_id and approle.secret_id",
                    vault_errors(r)
                ))
            })?
            .ok_or_else(|| {
                Error::InvalidConfig(format!(
                    "{what}: no AppRole auth method is mounted there (approle.mount)"
                ))
            })?;
        let auth = response.get("auth").unwrap_or(&Value::Null);
        let value = auth
            .get("client_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::Internal(format!("{what}: response has no client_token")))?
            .to_string();
        let lease = auth
            .get("lease_duration")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let renew_at = (lease > 0).then(|| now + lease - (lease / 4).min(60));
        self.token = Some(CachedToken {
            value: value.clone(),
            renew_at,
        });
        Ok(value)
    }

    /// An authenticated call. With AppRole, a `403` on a cached token
    /// (revoked, or expired early) triggers one fresh login and retry.
    fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Option<Value>, Error> {
        let approle = matches!(self.config.auth, Auth::AppRole { .. });
        let mut fresh_login = !self.has_cached_token();
        loop {
            let token = self.token()?;
            let request = self.http_request(method, path, body, Some(&token));
            let result = self.send(&request, what, |r| match r.status {
                401 | 403 => Error::Denied(format!(
                    "{what}: Vault denied the request ({}); check the token or AppRole and its policy",
                    vault_errors(r)
                )),
                400 => Error::InvalidInput(format!("{what}: {}", vault_errors(r))),
                _ => Error::Internal(format!("{what}: {}", vault_errors(r))),
            });
            match result {
                Err(Error::Denied(_)) if approle && !fresh_login => {
                    self.token = None;
                    fresh_login = true;
                }
                other => return other,
            }
        }
    }

    fn key_path(&self, name: &str) -> String {
        format!("{}/keys/{}", self.config.mount, percent_encode(name, false))
    }

    /// Read a transit key.
    pub fn read_key(&mut self, name: &str) -> Result<TransitKey, Error> {
        let what = format!("read transit key '{name}'");
        let path = self.key_path(name);
        let response = self.call(Method::Get, &path, None, &what)?.ok_or_else(|| {
            Error::NotFound(format!(
                "transit key '{name}' does not exist in mount '{}'",
                self.config.mount
            ))
        })?;
        let data = response.get("data").unwrap_or(&Value::Null);
        let key = TransitKey::from_data(name, data)?;
        self.kinds.insert(name.to_string(), key.kind);
        Ok(key)
    }

    /// The public half of the key at `uri`.
    pub fn public(&mut self, uri: &str) -> Result<PublicKey, Error> {
        let key_ref = parse_uri(uri)?;
        let key = self.read_key(&key_ref.name)?;
        Ok(PublicKey {
            uri: uri.to_string(),
            keytype: key.kind.keytype().into(),
            scheme: key.kind.scheme().into(),
            public: key.public(&key_ref.name, key_ref.version)?.to_string(),
        })
    }

    /// Sign `message` with the key at `uri`.
    pub fn sign(&mut self, uri: &str, message: &[u8]) -> Result<Vec<u8>, Error> {
        let key_ref = parse_uri(uri)?;
        let kind = match self.kinds.get(&key_ref.name) {
            Some(k) => *k,
            None => self.read_key(&key_ref.name)?.kind,
        };
        let what = format!("sign with transit key '{}'", key_ref.name);
        let path = format!(
            "{}/sign/{}",
            self.config.mount,
            percent_encode(&key_ref.name, false)
        );
        let body = kind.sign_body(message, key_ref.version);
        let response = self
            .call(Method::Post, &path, Some(&body), &what)?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "transit key '{}' does not exist in mount '{}'",
                    key_ref.name, self.config.mount
                ))
            })?;
        parse_signature(kind, &response).map_err(|e| match e {
            Error::Internal(m) => Error::Internal(format!("{what}: {m}")),
            other => other,
        })
    }

    /// Every transit key that can sign TUF metadata, as `hv:<name>` with
    /// its latest version, in name order.
    pub fn list(&mut self) -> Result<Listing, Error> {
        let what = format!("list transit keys in mount '{}'", self.config.mount);
        let path = format!("{}/keys?list=true", self.config.mount);
        let mut listing = Listing {
            keys: Vec::new(),
            skipped: Vec::new(),
        };
        // 404: no keys at all.
        let Some(response) = self.call(Method::Get, &path, None, &what)? else {
            return Ok(listing);
        };
        let mut names: Vec<String> = response
            .get("data")
            .and_then(|d| d.get("keys"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        for name in names {
            let uri = format!("{SCHEME}:{name}");
            if let Err(e) = parse_uri(&uri) {
                listing.skipped.push((name, e));
                continue;
            }
            match self.read_key(&name) {
                Ok(key) => match key.public(&name, None) {
                    Ok(public) => listing.keys.push(PublicKey {
                        uri,
                        keytype: key.kind.keytype().into(),
                        scheme: key.kind.scheme().into(),
                        public: public.to_string(),
                    }),
                    Err(e) => listing.skipped.push((name, e)),
                },
                // Keys of other types (aes256-gcm96, hmac, ...) are not errors.
                Err(e @ (Error::InvalidInput(_) | Error::NotFound(_))) => {
                    listing.skipped.push((name, e))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(listing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_is_validated_without_echoing_secrets() {
        let c =
            Config::parse(r#"{"address":"http://127.0.0.1:8200","token":"s.topsecret"}"#).unwrap();
        assert_eq!(c.mount, "transit");
        assert_eq!(c.auth, Auth::Token("s.topsecret".into()));
        assert!(!format!("{c:?}").contains("topsecret"));
        assert!(!c.describe().contains("topsecret"));

        let c = Config::parse(
            r#"{"address":"https://vault.internal","mount":"/tuf-transit/","namespace":"rstuf","approle":{"role_id":"r","secret_id":"very-secret-id"}}"#,
        )
        .unwrap();
        assert_eq!(c.mount, "tuf-transit");
        assert!(matches!(&c.auth, Auth::AppRole { mount, .. } if mount == "approle"));
        assert!(!format!("{c:?}").contains("very-secret-id"));
        assert!(c.describe().contains("namespace 'rstuf'"));

        for (text, key) in [
            (r#"{"token":"t"}"#, "address"),
            (r#"{"address":"vault:8200","token":"t"}"#, "address"),
            (r#"{"address":"http://v"}"#, "one authentication method"),
            (
                r#"{"address":"http://v","token":"t","approle":{"role_id":"r","secret_id":"s"}}"#,
                "not both",
            ),
            (
                r#"{"address":"http://v","approle":{"role_id":"r"}}"#,
                "approle.secret_id",
            ),
            (
                r#"{"address":"http://v","approle":{"role_id":"r","secret_id":"s","x":1}}"#,
                "approle",
            ),
            (
                r#"{"address":"http://v","token":"t","mount":"../sys"}"#,
                "mount",
            ),
            (r#"{"address":"http://v","token":""}"#, "token"),
            (
                r#"{"address":"http://v","token":"t","max_retries":-1}"#,
                "max_retries",
            ),
            (
                r#"{"address":"http://v","token":"t","tokn":"x"}"#,
                "unknown key 'tokn'",
            ),
        ] {
            match Config::parse(text) {
                Err(Error::InvalidConfig(m)) => assert!(m.contains(key), "{text}: {m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        match Config::parse(r#"{"address":"http://v","token":12345678}"#) {
            Err(Error::InvalidConfig(m)) => assert!(!m.contains("12345678")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn uris() {
        assert_eq!(
            parse_uri("hv:online").unwrap(),
            KeyRef {
                name: "online".into(),
                version: None
            }
        );
        assert_eq!(
            parse_uri("hv:tuf-online_1/3").unwrap(),
            KeyRef {
                name: "tuf-online_1".into(),
                version: Some(3)
            }
        );
        for bad in [
            "fn:x",
            "hv:",
            "hv:../sys",
            "hv:a/b/c",
            "hv:a/0",
            "hv:a/",
            "hv:a b",
            "hv:..",
            "online",
        ] {
            assert!(
                matches!(parse_uri(bad), Err(Error::InvalidInput(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn key_reads_become_tuf_keys() {
        let ed: Value = serde_json::from_str(r#"{"type":"ed25519","derived":false,"latest_version":2,"keys":{"1":{"public_key":"QOnX7uwyTq4tA+lLTgMMvF7B3w5lW3xG5FjWe/dYlfE="},"2":{"public_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}}"#).unwrap();
        let k = TransitKey::from_data("ed", &ed).unwrap();
        assert_eq!(k.kind, KeyKind::Ed25519);
        assert_eq!(
            k.public("ed", Some(1)).unwrap(),
            "40e9d7eeec324eae2d03e94b4e030cbc5ec1df0e655b7c46e458d67bf75895f1"
        );
        assert_eq!(k.public("ed", None).unwrap(), "00".repeat(32));
        assert!(matches!(k.public("ed", Some(9)), Err(Error::NotFound(_))));

        let pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwuqcVksnOtcBeyEmh/1XWR5zLqy3\nTyIVzBB3P8R7Xwf64H8tORqLM9XtJAgX99e0aDNi3PUzxmyQzOG9kCNbbg==\n-----END PUBLIC KEY-----\n";
        let ec = json!({"type":"ecdsa-p256","latest_version":1,"keys":{"1":{"public_key": pem}}});
        let k = TransitKey::from_data("ec", &ec).unwrap();
        assert_eq!(
            (k.kind.keytype(), k.kind.scheme()),
            ("ecdsa", "ecdsa-sha2-nistp256")
        );
        assert_eq!(k.public("ec", None).unwrap(), pem);
        // Line-wrapping noise is normalized away.
        let squashed = pem.replace("\n", "").replace("-----M", "-----\r\nM");
        assert_eq!(normalize_spki_pem(&squashed).unwrap().public, pem);

        let aes = json!({"type":"aes256-gcm96","latest_version":1,"keys":{"1":1}});
        assert!(
            matches!(TransitKey::from_data("a", &aes), Err(Error::InvalidInput(m)) if m.contains("aes256-gcm96"))
        );
        let derived = json!({"type":"ed25519","derived":true,"latest_version":1,"keys":{}});
        assert!(
            matches!(TransitKey::from_data("d", &derived), Err(Error::InvalidInput(m)) if m.contains("derived"))
        );
        assert_eq!(KeyKind::from_transit("rsa-4096"), Some(KeyKind::Rsa));
        assert_eq!(KeyKind::from_transit("ecdsa-p384"), None);
    }

    #[test]
    fn sign_requests_and_responses() {
        let b = KeyKind::Rsa.sign_body(b"{}", Some(2));
        assert_eq!(
            b,
            json!({"input":"e30=","hash_algorithm":"sha2-256","signature_algorithm":"pss","salt_length":"32","key_version":2})
        );
        let b = KeyKind::EcdsaP256.sign_body(b"{}", None);
        assert_eq!(
            b,
            json!({"input":"e30=","hash_algorithm":"sha2-256","marshaling_algorithm":"asn1"})
        );
        assert_eq!(
            KeyKind::Ed25519.sign_body(b"{}", None),
            json!({"input":"e30="})
        );

        let ok = json!({"data":{"signature":"vault:v1:AQID"}});
        assert_eq!(
            parse_signature(KeyKind::EcdsaP256, &ok).unwrap(),
            vec![1, 2, 3]
        );
        assert!(
            parse_signature(KeyKind::Ed25519, &ok).is_err(),
            "ed25519 must be 64 bytes"
        );
        let ignored = json!({"data":{"signature":"vault:v1:AQID"},"warnings":["Endpoint ignored these unrecognized parameters: [salt_length]"]});
        assert!(
            matches!(parse_signature(KeyKind::Rsa, &ignored), Err(Error::Internal(m)) if m.contains("salt_length"))
        );
        assert!(parse_signature(KeyKind::Rsa, &json!({"data":{"signature":"AQID"}})).is_err());
        assert!(parse_signature(KeyKind::Rsa, &json!({})).is_err());
    }
}

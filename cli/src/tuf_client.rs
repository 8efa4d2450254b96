//! A TUF client for `rstuf artifact download|info`: the specification's
//! client workflow (§5.3–5.7) over HTTP, built on the `rstuf-tuf` engine
//! that verifies everything the service signs.
//!
//! Trust starts from a pinned root (`--root FILE`, obtained out of band);
//! each later root is accepted only when signed by the threshold of the
//! previous version and of itself, and the newest trusted root is cached
//! per metadata URL, with the last timestamp and snapshot versions, so a
//! server cannot roll the client back. Then timestamp → snapshot →
//! targets → the delegated role serving the path (succinct or classic
//! hash bins, or custom roles in order, honouring `terminating`), each
//! checked for signatures, type, version, expiry and size. A downloaded
//! artifact is accepted only when its length and every known hash match.

use crate::error::{local, CliError, CliResult};
use crate::keys::write_atomic;
use blake2::digest::consts::U32;
use chrono::{DateTime, Utc};
use rstuf_tuf::format::parse_time;
use rstuf_tuf::paths::role_covers;
use rstuf_tuf::verify::{verify_delegate, verify_with};
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const MAX_ROOT: usize = 512 << 10;
const MAX_TIMESTAMP: usize = 64 << 10;
const MAX_METADATA: usize = 64 << 20;
const MAX_ROOT_ROTATIONS: u64 = 1024;
/// Roles visited while looking up one target (python-tuf's
/// `max_delegations`).
const MAX_DELEGATIONS: usize = 32;

/// A role still to visit in the target search.
enum Pending {
    Top,
    Child {
        name: String,
        delegations: Value,
        role: Value,
    },
}

fn fail(what: impl std::fmt::Display) -> CliError {
    CliError::Server(what.to_string())
}

/// Where a repository is, and where its trust state is kept.
pub struct Repo {
    http: reqwest::Client,
    metadata_url: String,
    state_dir: PathBuf,
    now: DateTime<Utc>,
}

/// The verified top-level metadata after a refresh.
pub struct Trusted {
    pub root: Value,
    pub timestamp: Value,
    pub snapshot: Value,
    pub targets: Value,
}

/// A target found in the metadata.
pub struct Found {
    pub path: String,
    pub info: Value,
    /// The role that lists it.
    pub role: String,
}

/// The directory holding trust state for `metadata_url`.
pub fn state_dir_for(base: &Path, metadata_url: &str) -> PathBuf {
    let digest = hex::encode(sha2::Sha256::digest(metadata_url.as_bytes()));
    base.join(&digest[..16])
}

/// The default base directory: `$XDG_DATA_HOME/rstuf` or `~/.local/share/rstuf`.
pub fn default_state_base() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("rstuf")
}

fn version_of(doc: &Value) -> u64 {
    doc.pointer("/signed/version")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

impl Repo {
    pub fn new(metadata_url: &str, state_base: &Path) -> CliResult<Repo> {
        let metadata_url = metadata_url.trim_end_matches('/').to_string();
        if !(metadata_url.starts_with("http://") || metadata_url.starts_with("https://")) {
            return Err(CliError::Usage(format!(
                "--metadata-url must be an http:// or https:// URL, got '{metadata_url}'"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(300))
            .build()
            .map_err(|e| local(format!("HTTP client: {e}")))?;
        Ok(Repo {
            state_dir: state_dir_for(state_base, &metadata_url),
            http,
            metadata_url,
            now: Utc::now(),
        })
    }

    /// GET `url` with at most `limit` bytes; `None` on 404/403.
    async fn get(&self, url: &str, limit: usize) -> CliResult<Option<Vec<u8>>> {
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| fail(format!("Failed to fetch {url}: {e}")))?;
        match response.status().as_u16() {
            200 => {}
            403 | 404 => return Ok(None),
            s => return Err(fail(format!("{url}: HTTP {s}"))),
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| fail(format!("reading {url}: {e}")))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > limit {
                return Err(fail(format!("{url} is larger than {limit} bytes")));
            }
        }
        Ok(Some(body))
    }

    async fn metadata(&self, file: &str, limit: usize) -> CliResult<Option<Value>> {
        let url = format!("{}/{file}", self.metadata_url);
        match self.get(&url, limit).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| fail(format!("{file} is not JSON: {e}"))),
        }
    }

    fn read_state(&self, name: &str) -> Option<Value> {
        std::fs::read(self.state_dir.join(name))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    fn write_state(&self, name: &str, value: &Value) -> CliResult<()> {
        std::fs::create_dir_all(&self.state_dir)
            .map_err(|e| local(format!("cannot create {}: {e}", self.state_dir.display())))?;
        write_atomic(
            &self.state_dir.join(name),
            value.to_string().as_bytes(),
            0o644,
            true,
        )
    }

    /// Check type, expiry and (when given) the expected version.
    fn check(&self, doc: &Value, kind: &str, name: &str, version: Option<u64>) -> CliResult<()> {
        let signed = &doc["signed"];
        if signed.get("_type").and_then(Value::as_str) != Some(kind) {
            return Err(fail(format!("{name} is not {kind} metadata")));
        }
        if let Some(v) = version {
            if version_of(doc) != v {
                return Err(fail(format!(
                    "{name} has version {}, expected {v}",
                    version_of(doc)
                )));
            }
        }
        let expires = signed
            .get("expires")
            .and_then(Value::as_str)
            .and_then(parse_time)
            .ok_or_else(|| fail(format!("{name} has no valid expiry")))?;
        if expires <= self.now {
            return Err(fail(format!("{name} expired at {expires}")));
        }
        Ok(())
    }

    /// §5.3: the newest root reachable from the trusted one.
    async fn update_root(&self, pinned: Option<Value>) -> CliResult<Value> {
        let cached = self.read_state("root.json");
        let mut root = match (pinned, cached) {
            (Some(p), Some(c)) if version_of(&c) > version_of(&p) => c,
            (Some(p), _) => p,
            (None, Some(c)) => c,
            (None, None) => {
                return Err(CliError::Usage(format!(
                    "no trusted root for {}: pass --root FILE (a root.json obtained out of band, e.g. the ceremony's 1.root.json)",
                    self.metadata_url
                )))
            }
        };
        if root.pointer("/signed/_type").and_then(Value::as_str) != Some("root") {
            return Err(local("the trusted root is not root metadata"));
        }
        for _ in 0..MAX_ROOT_ROTATIONS {
            let next_version = version_of(&root) + 1;
            let name = format!("{next_version}.root.json");
            let Some(next) = self.metadata(&name, MAX_ROOT).await? else {
                break;
            };
            let by_old = verify_delegate(&root["signed"], "root", &next)
                .map_err(|e| fail(format!("{name}: {e}")))?;
            let by_new = verify_delegate(&next["signed"], "root", &next)
                .map_err(|e| fail(format!("{name}: {e}")))?;
            if !by_old.is_satisfied() || !by_new.is_satisfied() {
                return Err(fail(format!(
                    "{name} is not signed by the threshold of version {} and of itself",
                    next_version - 1
                )));
            }
            if next.pointer("/signed/_type").and_then(Value::as_str) != Some("root")
                || version_of(&next) != next_version
            {
                return Err(fail(format!("{name} is not root version {next_version}")));
            }
            root = next;
        }
        self.check(&root, "root", "root", None)?;
        self.write_state("root.json", &root)?;
        Ok(root)
    }

    /// §5.3–5.6: root, timestamp, snapshot and top-level targets.
    pub async fn refresh(&self, pinned: Option<Value>) -> CliResult<Trusted> {
        let root = self.update_root(pinned).await?;
        let consistent = root
            .pointer("/signed/consistent_snapshot")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let state = self.read_state("state.json").unwrap_or(json!({}));

        let timestamp = self
            .metadata("timestamp.json", MAX_TIMESTAMP)
            .await?
            .ok_or_else(|| fail("timestamp.json does not exist"))?;
        self.verify_top(&root, "timestamp", &timestamp)?;
        self.check(&timestamp, "timestamp", "timestamp.json", None)?;
        let last_ts = state.get("timestamp").and_then(Value::as_u64).unwrap_or(0);
        if version_of(&timestamp) < last_ts {
            return Err(fail(format!(
                "timestamp.json rolled back from version {last_ts} to {}",
                version_of(&timestamp)
            )));
        }
        let snap_meta = timestamp
            .pointer("/signed/meta/snapshot.json")
            .cloned()
            .ok_or_else(|| fail("timestamp.json does not list snapshot.json"))?;
        let snap_version = snap_meta
            .get("version")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let last_snap = state.get("snapshot").and_then(Value::as_u64).unwrap_or(0);
        if snap_version < last_snap {
            return Err(fail(format!(
                "snapshot rolled back from version {last_snap} to {snap_version}"
            )));
        }
        let snapshot = self
            .fetch_listed("snapshot", &snap_meta, consistent)
            .await?;
        self.verify_top(&root, "snapshot", &snapshot)?;
        self.check(&snapshot, "snapshot", "snapshot", Some(snap_version))?;

        let targets_meta = snapshot
            .pointer("/signed/meta/targets.json")
            .cloned()
            .ok_or_else(|| fail("snapshot does not list targets.json"))?;
        let targets = self
            .fetch_listed("targets", &targets_meta, consistent)
            .await?;
        self.verify_top(&root, "targets", &targets)?;
        self.check(
            &targets,
            "targets",
            "targets",
            targets_meta.get("version").and_then(Value::as_u64),
        )?;
        self.write_state(
            "state.json",
            &json!({ "timestamp": version_of(&timestamp), "snapshot": snap_version }),
        )?;
        Ok(Trusted {
            root,
            timestamp,
            snapshot,
            targets,
        })
    }

    fn verify_top(&self, root: &Value, role: &str, doc: &Value) -> CliResult<()> {
        let v = verify_delegate(&root["signed"], role, doc)
            .map_err(|e| fail(format!("{role}: {e}")))?;
        if !v.is_satisfied() {
            return Err(fail(format!(
                "{role} has {} valid signatures of the {} root requires",
                v.valid.len(),
                v.threshold
            )));
        }
        Ok(())
    }

    /// Fetch the role `name` listed by `meta` (`{version, length?, hashes?}`).
    async fn fetch_listed(&self, name: &str, meta: &Value, consistent: bool) -> CliResult<Value> {
        let version = meta.get("version").and_then(Value::as_u64).unwrap_or(0);
        let file = if consistent {
            format!("{version}.{name}.json")
        } else {
            format!("{name}.json")
        };
        let limit = meta
            .get("length")
            .and_then(Value::as_u64)
            .map_or(MAX_METADATA, |l| l as usize);
        let url = format!("{}/{file}", self.metadata_url);
        let bytes = self
            .get(&url, limit)
            .await?
            .ok_or_else(|| fail(format!("{file} does not exist")))?;
        if let Some(hashes) = meta.get("hashes").and_then(Value::as_object) {
            check_hashes(&bytes, hashes, &file)?;
        }
        serde_json::from_slice(&bytes).map_err(|e| fail(format!("{file} is not JSON: {e}")))
    }

    /// A delegated role listed in the trusted snapshot, fetched and checked
    /// against the delegation `role` of its delegator.
    async fn fetch_delegated(
        &self,
        trusted: &Trusted,
        name: &str,
        delegations: &Value,
        role: &Value,
        consistent: bool,
    ) -> CliResult<Value> {
        let meta = trusted
            .snapshot
            .pointer("/signed/meta")
            .and_then(|m| m.get(format!("{name}.json")))
            .cloned()
            .ok_or_else(|| fail(format!("snapshot does not list {name}.json")))?;
        let doc = self.fetch_listed(name, &meta, consistent).await?;
        let v = verify_with(delegations, role, &doc).map_err(|e| fail(format!("{name}: {e}")))?;
        if !v.is_satisfied() {
            return Err(fail(format!(
                "{name} has {} valid signatures of the {} its delegator requires",
                v.valid.len(),
                v.threshold
            )));
        }
        self.check(
            &doc,
            "targets",
            name,
            meta.get("version").and_then(Value::as_u64),
        )?;
        Ok(doc)
    }

    /// §5.7: the target `path`, searched in delegation order.
    pub async fn find(&self, trusted: &Trusted, path: &str) -> CliResult<Option<Found>> {
        if let Some(reason) = rstuf_tuf::paths::invalid_path_reason(path) {
            return Err(CliError::Usage(format!(
                "'{path}' is not an artifact path: {reason}"
            )));
        }
        let consistent = trusted
            .root
            .pointer("/signed/consistent_snapshot")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        // Pre-order depth-first search as python-tuf does it: a role is
        // fetched and verified only when it is visited; a matching
        // terminating delegation ends the search of everything else not
        // yet visited; it stops once MAX_DELEGATIONS roles are visited.
        let mut visited = HashSet::new();
        let mut stack: Vec<Pending> = vec![Pending::Top];
        while let Some(next) = stack.pop() {
            // python-tuf: `while … and len(visited) <= max_delegations`.
            if visited.len() > MAX_DELEGATIONS {
                break;
            }
            let (name, doc) = match next {
                Pending::Top => ("targets".to_string(), trusted.targets.clone()),
                Pending::Child {
                    name,
                    delegations,
                    role,
                } => {
                    if visited.contains(&name) {
                        continue;
                    }
                    let doc = self
                        .fetch_delegated(trusted, &name, &delegations, &role, consistent)
                        .await?;
                    (name, doc)
                }
            };
            visited.insert(name.clone());
            if let Some(info) = doc.pointer("/signed/targets").and_then(|t| t.get(path)) {
                return Ok(Some(Found {
                    path: path.to_string(),
                    info: info.clone(),
                    role: name,
                }));
            }
            let Some(delegations) = doc.pointer("/signed/delegations") else {
                continue;
            };
            let mut children: Vec<Pending> = Vec::new();
            let mut terminated = false;
            if let Some(succinct) = delegations.get("succinct_roles") {
                let bits = succinct
                    .get("bit_length")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                let prefix = succinct
                    .get("name_prefix")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !(1..=32).contains(&bits) || prefix.is_empty() {
                    return Err(fail(format!("{name}: invalid succinct_roles")));
                }
                let digest = sha2::Sha256::digest(path.as_bytes());
                let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
                let index = u64::from(first) >> (32 - bits);
                let width = format!("{:x}", (1u64 << bits) - 1).len();
                children.push(Pending::Child {
                    name: format!("{prefix}-{index:0width$x}"),
                    delegations: delegations.clone(),
                    role: succinct.clone(),
                });
                // Every succinct bin is terminating (TAP 15).
                terminated = true;
            } else if let Some(roles) = delegations.get("roles").and_then(Value::as_array) {
                for role in roles {
                    if role_covers(role, path) {
                        let role_name = role.get("name").and_then(Value::as_str).unwrap_or("");
                        children.push(Pending::Child {
                            name: role_name.to_string(),
                            delegations: delegations.clone(),
                            role: role.clone(),
                        });
                        if role.get("terminating").and_then(Value::as_bool) == Some(true) {
                            terminated = true;
                            break;
                        }
                    }
                }
            }
            if terminated {
                stack.clear();
            }
            // Reversed, so the first delegation is searched first.
            stack.extend(children.into_iter().rev());
        }
        Ok(None)
    }

    /// Download `found` from `artifacts_url`, verify it, and write it to
    /// `dir/<file name>`; returns the file written.
    pub async fn download(
        &self,
        found: &Found,
        artifacts_url: &str,
        hash_prefix: bool,
        dir: &Path,
    ) -> CliResult<PathBuf> {
        let length = found
            .info
            .get("length")
            .and_then(Value::as_u64)
            .ok_or_else(|| fail(format!("{}: no length in its metadata", found.path)))?;
        let hashes = found
            .info
            .get("hashes")
            .and_then(Value::as_object)
            .ok_or_else(|| fail(format!("{}: no hashes in its metadata", found.path)))?;
        let (dirname, basename) = match found.path.rsplit_once('/') {
            Some((d, b)) => (format!("{d}/"), b.to_string()),
            None => (String::new(), found.path.clone()),
        };
        let remote = if hash_prefix {
            let first = hashes
                .values()
                .next()
                .and_then(Value::as_str)
                .unwrap_or_default();
            format!("{dirname}{first}.{basename}")
        } else {
            found.path.clone()
        };
        let url = format!("{}/{remote}", artifacts_url.trim_end_matches('/'));
        let bytes = self
            .get(&url, length as usize)
            .await?
            .ok_or_else(|| fail(format!("{url} does not exist")))?;
        if bytes.len() as u64 != length {
            return Err(fail(format!(
                "{url}: got {} bytes, the metadata says {length}",
                bytes.len()
            )));
        }
        check_hashes(&bytes, hashes, &found.path)?;
        std::fs::create_dir_all(dir)
            .map_err(|e| local(format!("cannot create {}: {e}", dir.display())))?;
        let dest = dir.join(&basename);
        write_atomic(&dest, &bytes, 0o644, true)?;
        Ok(dest)
    }
}

/// Every hash we know must match, and at least one must be known.
fn check_hashes(
    bytes: &[u8],
    hashes: &serde_json::Map<String, Value>,
    what: &str,
) -> CliResult<()> {
    let mut checked = 0;
    for (alg, want) in hashes {
        let got = match alg.as_str() {
            "sha256" => hex::encode(sha2::Sha256::digest(bytes)),
            "sha384" => hex::encode(sha2::Sha384::digest(bytes)),
            "sha512" => hex::encode(sha2::Sha512::digest(bytes)),
            "blake2b-256" => hex::encode(blake2::Blake2b::<U32>::digest(bytes)),
            _ => continue,
        };
        checked += 1;
        if Some(got.as_str()) != want.as_str().map(str::to_ascii_lowercase).as_deref() {
            return Err(fail(format!("{what}: {alg} does not match its metadata")));
        }
    }
    if checked == 0 {
        return Err(fail(format!(
            "{what}: none of its hash algorithms ({}) is supported",
            hashes.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_must_match_and_be_known() {
        let data = b"artifact";
        let sha = hex::encode(sha2::Sha256::digest(data));
        let b2 = hex::encode(blake2::Blake2b::<U32>::digest(data));
        let ok = json!({"sha256": sha, "blake2b-256": b2});
        check_hashes(data, ok.as_object().unwrap(), "a").unwrap();
        let bad = json!({"sha256": sha, "blake2b-256": "00"});
        assert!(check_hashes(data, bad.as_object().unwrap(), "a").is_err());
        let unknown = json!({"md5": "x"});
        assert!(check_hashes(data, unknown.as_object().unwrap(), "a")
            .unwrap_err()
            .to_string()
            .contains("md5"));
    }

    #[test]
    fn state_is_kept_per_metadata_url() {
        let base = Path::new("/tmp/x");
        assert_ne!(
            state_dir_for(base, "http://a/metadata"),
            state_dir_for(base, "http://b/metadata")
        );
        assert!(state_dir_for(base, "http://a").starts_with(base));
    }

    /// Serve `files` over HTTP on loopback; returns the base URL.
    fn serve(files: std::collections::HashMap<String, Vec<u8>>) -> String {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let name = path.rsplit('/').next().unwrap_or("");
                let response = match files.get(name) {
                    Some(body) => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(body);
                        r
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&response);
            }
        });
        format!("http://{addr}/metadata")
    }

    /// The target search follows python-tuf: a matching terminating
    /// delegation deeper in the tree ends the search, so a sibling that
    /// was queued before it is never consulted; roles are fetched only
    /// when visited.
    #[tokio::test]
    async fn a_terminating_delegation_ends_the_search_of_queued_siblings() {
        use ed25519_dalek::Signer;
        let sk = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        let key = json!({"keytype": "ed25519", "scheme": "ed25519",
                         "keyval": {"public": hex::encode(sk.verifying_key().as_bytes())}});
        let keyid = rstuf_tuf::keys::Key::from_value(&key).unwrap().keyid();
        let sign = |signed: Value| {
            let bytes = rstuf_tuf::canonical::to_canonical_vec(&signed).unwrap();
            json!({"signatures": [{"keyid": keyid, "sig": hex::encode(sk.sign(&bytes).to_bytes())}],
                   "signed": signed})
        };
        let role = |name: &str, terminating: bool| {
            json!({"name": name, "keyids": [keyid], "threshold": 1,
                   "terminating": terminating, "paths": ["a/*"]})
        };
        let targets_doc = |targets: Value, roles: Vec<Value>| {
            let mut signed = json!({"_type": "targets", "spec_version": "1.0.31", "version": 1,
                                    "expires": "2099-01-01T00:00:00Z", "targets": targets});
            if !roles.is_empty() {
                signed["delegations"] =
                    json!({"keys": {keyid.clone(): key.clone()}, "roles": roles});
            }
            sign(signed)
        };
        let info = json!({"length": 1, "hashes": {"sha256": "00".repeat(32)}});
        // targets -> [A, B]; A -> [C (terminating)]; C is empty; B has a/x.
        let top = targets_doc(json!({}), vec![role("A", false), role("B", false)]);
        let a = targets_doc(json!({}), vec![role("C", true)]);
        let b = targets_doc(json!({"a/x": info, "a/only-b": info}), vec![]);
        let c = targets_doc(json!({"a/in-c": info}), vec![]);
        let mut files = std::collections::HashMap::new();
        for (name, doc) in [("A", &a), ("B", &b), ("C", &c)] {
            files.insert(format!("1.{name}.json"), serde_json::to_vec(doc).unwrap());
        }
        let url = serve(files);
        let snapshot = sign(
            json!({"_type": "snapshot", "version": 1, "expires": "2099-01-01T00:00:00Z",
            "meta": {"targets.json": {"version": 1}, "A.json": {"version": 1},
                     "B.json": {"version": 1}, "C.json": {"version": 1}}}),
        );
        let trusted = Trusted {
            root: json!({"signed": {"consistent_snapshot": true}}),
            timestamp: json!({}),
            snapshot,
            targets: top,
        };
        let state = tempfile::tempdir().unwrap();
        let repo = Repo::new(&url, state.path()).unwrap();
        let found = repo.find(&trusted, "a/in-c").await.unwrap().unwrap();
        assert_eq!(found.role, "C");
        assert!(
            repo.find(&trusted, "a/x").await.unwrap().is_none(),
            "C is terminating: B must not be searched"
        );
    }
}

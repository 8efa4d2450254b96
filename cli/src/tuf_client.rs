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
//!
//! Every document is verified over the JSON as received, then read as
//! typed metadata ([`rstuf_tuf::metadata`]) with the load rules clients
//! enforce: a role without a threshold, a document without a version or
//! with a repeated signature is refused, never given a default.

use crate::error::{local, CliError, CliResult};
use crate::keys::write_atomic;
use blake2::digest::consts::U32;
use chrono::{DateTime, Utc};
use rstuf_tuf::metadata::{
    Authorizes, DelegatedRole, Delegations, KeyIds, MetaFile, Metadata, Root, Signed, Snapshot,
    SuccinctRoles, TargetFile, Targets, Threshold, Timestamp,
};
use rstuf_tuf::verify::{verify_delegated, verify_top_level, Verification};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

const MAX_ROOT: usize = 512 << 10;
const MAX_TIMESTAMP: usize = 64 << 10;
const MAX_METADATA: usize = 64 << 20;
const MAX_ROOT_ROTATIONS: u64 = 1024;
/// Roles visited while looking up one target (python-tuf's
/// `max_delegations`).
const MAX_DELEGATIONS: usize = 32;

/// The role a delegation hands a path to: a classic role or one bin of a
/// succinct delegation.
#[derive(Clone)]
enum ChildRole {
    Classic(DelegatedRole),
    Succinct(SuccinctRoles),
}

impl Authorizes for ChildRole {
    fn keyids(&self) -> &KeyIds {
        match self {
            ChildRole::Classic(r) => &r.keyids,
            ChildRole::Succinct(r) => &r.keyids,
        }
    }
    fn threshold(&self) -> Threshold {
        match self {
            ChildRole::Classic(r) => r.threshold,
            ChildRole::Succinct(r) => r.threshold,
        }
    }
}

/// A role still to visit in the target search.
enum Pending {
    Top,
    Child {
        name: String,
        delegations: Box<Delegations>,
        role: ChildRole,
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
    pub root: Metadata<Root>,
    pub timestamp: Metadata<Timestamp>,
    pub snapshot: Metadata<Snapshot>,
    pub targets: Metadata<Targets>,
}

/// A target found in the metadata.
pub struct Found {
    pub path: String,
    pub info: TargetFile,
    /// The role that lists it.
    pub role: String,
}

/// The versions seen last, so a server cannot roll the client back
/// (`state.json`; a missing file means nothing was seen yet).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Seen {
    #[serde(default)]
    timestamp: u64,
    #[serde(default)]
    snapshot: u64,
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

/// Read a received document as typed metadata of kind `T`.
fn parse<T: Signed>(doc: &Value, name: &str) -> CliResult<Metadata<T>> {
    Metadata::from_value(doc).map_err(|e| fail(format!("{name}: {e}")))
}

fn satisfied(v: Verification, name: &str, by: &str) -> CliResult<()> {
    if v.is_satisfied() {
        Ok(())
    } else {
        Err(fail(format!(
            "{name} has {} valid signatures of the {} {by} requires",
            v.valid.len(),
            v.threshold
        )))
    }
}

impl Repo {
    pub fn new(metadata_url: &str, state_base: &Path) -> CliResult<Repo> {
        Repo::at(metadata_url, state_base, Utc::now())
    }

    /// A client whose clock reads `now` (tests of expiry).
    pub fn at(metadata_url: &str, state_base: &Path, now: DateTime<Utc>) -> CliResult<Repo> {
        let metadata_url = metadata_url.trim_end_matches('/').to_string();
        if !(metadata_url.starts_with("http://") || metadata_url.starts_with("https://")) {
            return Err(CliError::Usage(format!(
                "--metadata-url must be an http:// or https:// URL, got '{metadata_url}'"
            )));
        }
        let http = crate::client::http_builder()?
            .timeout(std::time::Duration::from_secs(300))
            .build()
            .map_err(|e| local(format!("HTTP client: {e}")))?;
        Ok(Repo {
            state_dir: state_dir_for(state_base, &metadata_url),
            http,
            metadata_url,
            now,
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

    fn read_state<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<T> {
        std::fs::read(self.state_dir.join(name))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    fn write_state(&self, name: &str, value: &impl Serialize) -> CliResult<()> {
        std::fs::create_dir_all(&self.state_dir)
            .map_err(|e| local(format!("cannot create {}: {e}", self.state_dir.display())))?;
        let bytes = serde_json::to_vec(value).map_err(|e| local(format!("{name}: {e}")))?;
        write_atomic(&self.state_dir.join(name), &bytes, 0o644, true)
    }

    /// Check expiry and (when given) the expected version.
    fn check<T: Signed>(
        &self,
        doc: &Metadata<T>,
        name: &str,
        version: Option<u64>,
    ) -> CliResult<()> {
        if let Some(v) = version {
            if doc.version() != v {
                return Err(fail(format!(
                    "{name} has version {}, expected {v}",
                    doc.version()
                )));
            }
        }
        if doc.expires() <= self.now {
            return Err(fail(format!("{name} expired at {}", doc.expires())));
        }
        Ok(())
    }

    /// §5.3: the newest root reachable from the trusted one.
    async fn update_root(&self, pinned: Option<Value>) -> CliResult<Metadata<Root>> {
        let pinned = pinned
            .map(|p| {
                Metadata::<Root>::from_value(&p)
                    .map_err(|e| local(format!("the trusted root is not root metadata: {e}")))
            })
            .transpose()?;
        let cached = self
            .read_state::<Value>("root.json")
            .and_then(|c| Metadata::<Root>::from_value(&c).ok());
        // A root given again (--root, a configured repository) never
        // replaces the trust this client already holds: from there on, new
        // roots come only through the repository, each signed by the last.
        let mut root = match (pinned, cached) {
            (Some(p), Some(c)) if p.version() < c.version() => c,
            (Some(p), Some(c)) if p.version() == c.version() => {
                if p.to_value()["signed"] != c.to_value()["signed"] {
                    return Err(fail(format!(
                        "the root given is not the trusted root version {} this client holds for {} ({}): it is another repository's, or was replaced; delete that directory to start over from a root you trust",
                        c.version(),
                        self.metadata_url,
                        self.state_dir.display()
                    )));
                }
                c
            }
            (Some(p), Some(c)) => {
                return Err(fail(format!(
                    "the root given is version {}, but this client trusts version {} for {} ({}) and moves to newer roots only through the repository; delete that directory to start over from a root you trust",
                    p.version(),
                    c.version(),
                    self.metadata_url,
                    self.state_dir.display()
                )))
            }
            (Some(p), None) => p,
            (None, Some(c)) => c,
            (None, None) => {
                return Err(CliError::Usage(format!(
                    "no trusted root for {}: pass --root FILE (a root.json obtained out of band, e.g. the ceremony's 1.root.json)",
                    self.metadata_url
                )))
            }
        };
        for _ in 0..MAX_ROOT_ROTATIONS {
            let next_version = root.version() + 1;
            let name = format!("{next_version}.root.json");
            let Some(next) = self.metadata(&name, MAX_ROOT).await? else {
                break;
            };
            let by_old = verify_top_level(&root.signed, "root", &next)
                .map_err(|e| fail(format!("{name}: {e}")))?;
            let typed: Metadata<Root> = parse(&next, &name)?;
            let by_new = verify_top_level(&typed.signed, "root", &next)
                .map_err(|e| fail(format!("{name}: {e}")))?;
            if !by_old.is_satisfied() || !by_new.is_satisfied() {
                return Err(fail(format!(
                    "{name} is not signed by the threshold of version {} and of itself",
                    next_version - 1
                )));
            }
            if typed.version() != next_version {
                return Err(fail(format!("{name} is not root version {next_version}")));
            }
            root = typed;
        }
        self.check(&root, "root", None)?;
        self.write_state("root.json", &root)?;
        Ok(root)
    }

    /// §5.3–5.6: root, timestamp, snapshot and top-level targets.
    pub async fn refresh(&self, pinned: Option<Value>) -> CliResult<Trusted> {
        let root = self.update_root(pinned).await?;
        let consistent = root.signed.consistent_snapshot.unwrap_or(false);
        let seen: Seen = self.read_state("state.json").unwrap_or_default();

        let timestamp = self
            .metadata("timestamp.json", MAX_TIMESTAMP)
            .await?
            .ok_or_else(|| fail("timestamp.json does not exist"))?;
        let timestamp: Metadata<Timestamp> = self.verify_top(&root, "timestamp", &timestamp)?;
        self.check(&timestamp, "timestamp.json", None)?;
        if timestamp.version() < seen.timestamp {
            return Err(fail(format!(
                "timestamp.json rolled back from version {} to {}",
                seen.timestamp,
                timestamp.version()
            )));
        }
        let snap_meta = timestamp
            .signed
            .snapshot_meta()
            .cloned()
            .ok_or_else(|| fail("timestamp.json does not list snapshot.json"))?;
        let snap_version = snap_meta.version.get();
        if snap_version < seen.snapshot {
            return Err(fail(format!(
                "snapshot rolled back from version {} to {snap_version}",
                seen.snapshot
            )));
        }
        let snapshot = self
            .fetch_listed("snapshot", &snap_meta, consistent)
            .await?;
        let snapshot: Metadata<Snapshot> = self.verify_top(&root, "snapshot", &snapshot)?;
        self.check(&snapshot, "snapshot", Some(snap_version))?;

        let targets_meta = snapshot
            .signed
            .meta
            .get("targets.json")
            .cloned()
            .ok_or_else(|| fail("snapshot does not list targets.json"))?;
        let targets = self
            .fetch_listed("targets", &targets_meta, consistent)
            .await?;
        let targets: Metadata<Targets> = self.verify_top(&root, "targets", &targets)?;
        self.check(&targets, "targets", Some(targets_meta.version.get()))?;
        self.write_state(
            "state.json",
            &Seen {
                timestamp: timestamp.version(),
                snapshot: snap_version,
            },
        )?;
        Ok(Trusted {
            root,
            timestamp,
            snapshot,
            targets,
        })
    }

    /// Verify a top-level role's document as received, then read it.
    fn verify_top<T: Signed>(
        &self,
        root: &Metadata<Root>,
        role: &str,
        doc: &Value,
    ) -> CliResult<Metadata<T>> {
        let v =
            verify_top_level(&root.signed, role, doc).map_err(|e| fail(format!("{role}: {e}")))?;
        satisfied(v, role, "root")?;
        parse(doc, role)
    }

    /// Fetch the role `name` listed by `meta`.
    async fn fetch_listed(
        &self,
        name: &str,
        meta: &MetaFile,
        consistent: bool,
    ) -> CliResult<Value> {
        let version = meta.version.get();
        let file = if consistent {
            format!("{version}.{name}.json")
        } else {
            format!("{name}.json")
        };
        let limit = meta.length.map_or(MAX_METADATA, |l| l as usize);
        let url = format!("{}/{file}", self.metadata_url);
        let bytes = self
            .get(&url, limit)
            .await?
            .ok_or_else(|| fail(format!("{file} does not exist")))?;
        if let Some(hashes) = &meta.hashes {
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
        delegations: &Delegations,
        role: &ChildRole,
        consistent: bool,
    ) -> CliResult<Metadata<Targets>> {
        let meta = trusted
            .snapshot
            .signed
            .meta
            .get(&format!("{name}.json"))
            .cloned()
            .ok_or_else(|| fail(format!("snapshot does not list {name}.json")))?;
        let doc = self.fetch_listed(name, &meta, consistent).await?;
        let v =
            verify_delegated(delegations, role, &doc).map_err(|e| fail(format!("{name}: {e}")))?;
        satisfied(v, name, "its delegator")?;
        let doc: Metadata<Targets> = parse(&doc, name)?;
        self.check(&doc, name, Some(meta.version.get()))?;
        Ok(doc)
    }

    /// §5.7: the target `path`, searched in delegation order.
    pub async fn find(&self, trusted: &Trusted, path: &str) -> CliResult<Option<Found>> {
        if let Some(reason) = rstuf_tuf::paths::invalid_path_reason(path) {
            return Err(CliError::Usage(format!(
                "'{path}' is not an artifact path: {reason}"
            )));
        }
        let consistent = trusted.root.signed.consistent_snapshot.unwrap_or(false);
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
                Pending::Top => ("targets".to_string(), trusted.targets.signed.clone()),
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
                    (name, doc.signed)
                }
            };
            visited.insert(name.clone());
            if let Some(info) = doc.targets.get(path) {
                return Ok(Some(Found {
                    path: path.to_string(),
                    info: info.clone(),
                    role: name,
                }));
            }
            let Some(delegations) = doc.delegations else {
                continue;
            };
            let (children, terminated) = children_for(&delegations, path);
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
        let length = found.info.length;
        let hashes = &found.info.hashes;
        let (dirname, basename) = match found.path.rsplit_once('/') {
            Some((d, b)) => (format!("{d}/"), b.to_string()),
            None => (String::new(), found.path.clone()),
        };
        let remote = if hash_prefix {
            let first = hashes
                .values()
                .next()
                .map(String::as_str)
                .unwrap_or_default();
            format!("{dirname}{first}.{basename}")
        } else {
            found.path.clone()
        };
        let url = format!("{}/{remote}", artifacts_url.trim_end_matches('/'));
        let limit = usize::try_from(length).unwrap_or(usize::MAX);
        let bytes = self
            .get(&url, limit)
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

/// The roles `delegations` hands `path` to, in order, and whether the
/// search ends with them (a terminating match; every succinct bin is
/// terminating, TAP 15).
fn children_for(delegations: &Delegations, path: &str) -> (Vec<Pending>, bool) {
    let child = |name: String, role: ChildRole| Pending::Child {
        name,
        delegations: Box::new(delegations.clone()),
        role,
    };
    if let Some(succinct) = &delegations.succinct_roles {
        let name = succinct.bins().role_for(path);
        return (
            vec![child(name, ChildRole::Succinct(succinct.clone()))],
            true,
        );
    }
    let mut children = Vec::new();
    for role in delegations.roles.iter().flatten() {
        if role.covers(path) {
            children.push(child(role.name.clone(), ChildRole::Classic(role.clone())));
            if role.terminating {
                return (children, true);
            }
        }
    }
    (children, false)
}

/// Every hash we know must match, and at least one must be known.
fn check_hashes(bytes: &[u8], hashes: &BTreeMap<String, String>, what: &str) -> CliResult<()> {
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
        if got != want.to_ascii_lowercase() {
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
    use serde_json::json;

    fn hash_map(v: Value) -> BTreeMap<String, String> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn hashes_must_match_and_be_known() {
        let data = b"artifact";
        let sha = hex::encode(sha2::Sha256::digest(data));
        let b2 = hex::encode(blake2::Blake2b::<U32>::digest(data));
        let ok = json!({"sha256": sha, "blake2b-256": b2});
        check_hashes(data, &hash_map(ok), "a").unwrap();
        let bad = json!({"sha256": sha, "blake2b-256": "00"});
        assert!(check_hashes(data, &hash_map(bad), "a").is_err());
        let unknown = json!({"md5": "x"});
        assert!(check_hashes(data, &hash_map(unknown), "a")
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
        let url = crate::tuf_fixtures::serve(std::sync::Arc::new(std::sync::Mutex::new(files)));
        let snapshot = sign(
            json!({"_type": "snapshot", "spec_version": "1.0.31", "version": 1, "expires": "2099-01-01T00:00:00Z",
            "meta": {"targets.json": {"version": 1}, "A.json": {"version": 1},
                     "B.json": {"version": 1}, "C.json": {"version": 1}}}),
        );
        let one = json!({"keyids": [keyid], "threshold": 1});
        let root = sign(
            json!({"_type": "root", "spec_version": "1.0.31", "version": 1,
            "expires": "2099-01-01T00:00:00Z", "consistent_snapshot": true,
            "keys": {keyid.clone(): key.clone()},
            "roles": {"root": one, "targets": one, "snapshot": one, "timestamp": one}}),
        );
        let timestamp = sign(
            json!({"_type": "timestamp", "spec_version": "1.0.31", "version": 1,
            "expires": "2099-01-01T00:00:00Z", "meta": {"snapshot.json": {"version": 1}}}),
        );
        let trusted = Trusted {
            root: Metadata::from_value(&root).unwrap(),
            timestamp: Metadata::from_value(&timestamp).unwrap(),
            snapshot: Metadata::from_value(&snapshot).unwrap(),
            targets: Metadata::from_value(&top).unwrap(),
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

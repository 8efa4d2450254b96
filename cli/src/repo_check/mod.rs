//! `rstuf repo check --root 1.root.json URL|DIR`: a repository validator.
//!
//! It walks a repository the way a client does, from a root obtained out
//! of band: the root chain from that version, then timestamp → snapshot →
//! targets → every delegated role and bin. Unlike a client it does not
//! stop at the first problem: it records each as a [`Finding`] with a
//! stable code and goes on where it still can, so one run lists every
//! problem an operator has to fix. It also checks what clients do not but
//! the specification says (spec-exact keyids, versions that only go up
//! across snapshot generations, hash bins covering the hash space exactly
//! once) and what breaks real clients later (expiry inside the warning
//! window, files over each client's default size limit, layouts a client
//! cannot read).
//!
//! Exit codes: 0 no errors (warnings allowed, unless `--strict`), 5
//! errors found, 3 the repository could not be reached, 2 usage, 1 a
//! local file could not be read.

mod coverage;
#[cfg(test)]
mod fixtures;
mod report;
mod source;

use crate::error::{CliError, CliResult};
use crate::output::Output;
use chrono::{DateTime, Utc};
use report::{Checked, ClientLimits, ClientVerdict, Finding, CLIENTS};
pub use report::{Code, Report, Severity};
use rstuf_tuf::metadata::{
    DelegatedRole, Delegations, MetaFile, Metadata, PublicKey, Root, Signed, Snapshot,
    SuccinctRoles, Targets, Timestamp,
};
use rstuf_tuf::verify::{verify_delegated, verify_top_level, MetadataError, Verification};
use serde_json::Value;
use sha2::Digest;
use source::{file_name, Got, Source};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Root versions walked (tough's default `max_root_updates`).
const MAX_ROOT_VERSIONS: u64 = 1024;
/// Bins enumerated from one `succinct_roles` (2^16; TAP 15 allows 2^32).
const MAX_BINS_BITS: u32 = 16;
/// Targets roles verified in one run.
const MAX_ROLES: usize = 200_000;
/// Findings of one kind reported from one list (snapshot entries, bins).
const MAX_LISTED: usize = 20;

#[derive(clap::Args, Clone, Debug)]
pub struct CheckArgs {
    /// The trusted root to start from, obtained out of band (e.g. the
    /// ceremony's 1.root.json): the chain is walked from its version.
    #[arg(long, value_name = "FILE")]
    pub root: PathBuf,
    /// The repository's metadata: its URL (e.g. http://host:8080/metadata)
    /// or a directory holding timestamp.json (e.g. storage-fs's metadata/).
    #[arg(value_name = "URL|DIR")]
    pub location: String,
    /// Warn when a role signed with keys other than the online (timestamp)
    /// key expires within this many days (0: never).
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(0..=3660))]
    pub warn_days: u32,
    /// Check as of this time (RFC 3339, e.g. 2030-01-01T00:00:00Z) instead
    /// of now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Exit 5 on warnings as well as errors.
    #[arg(long)]
    pub strict: bool,
}

/// `rstuf repo check`: print the report; exit 5 when it is not OK.
pub async fn check(args: &CheckArgs, out: &Output) -> CliResult<()> {
    let report = run(args).await?;
    report.print(out);
    if report.ok {
        Ok(())
    } else {
        Err(CliError::Reported(format!(
            "the repository check found {} errors and {} warnings",
            report.errors, report.warnings
        )))
    }
}

/// Check the repository `args` names and return the report.
pub async fn run(args: &CheckArgs) -> CliResult<Report> {
    let at = match &args.at {
        None => Utc::now(),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                CliError::Usage(format!(
                    "--at '{text}' is not an RFC 3339 time (e.g. 2030-01-01T00:00:00Z): {e}"
                ))
            })?,
    };
    let (trusted, trusted_doc) = read_trusted_root(&args.root)?;
    let source = Source::parse(&args.location)?;
    let mut checker = Checker {
        source,
        at,
        warn: chrono::Duration::days(i64::from(args.warn_days)),
        findings: Vec::new(),
        checked: Checked {
            trusted_root_version: trusted.version(),
            ..Checked::default()
        },
        sizes: Vec::new(),
        succinct: Vec::new(),
        root_updates: 0,
        depth: 0,
        online: BTreeSet::new(),
        tough_keyids: None,
        delegation_entries: 0,
        repeated: 0,
    };
    checker
        .repository(trusted, &trusted_doc, &args.root)
        .await?;
    let clients = checker.client_verdicts();
    Ok(Report::new(
        args.location.clone(),
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        checker.checked,
        checker.findings,
        clients,
        args.strict,
    ))
}

fn read_trusted_root(path: &Path) -> CliResult<(Metadata<Root>, Value)> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::Local(format!("cannot read --root {}: {e}", path.display())))?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
        CliError::Usage(format!(
            "--root {} is not JSON: {e}: pass a root.json, e.g. the ceremony's 1.root.json",
            path.display()
        ))
    })?;
    let root = Metadata::<Root>::from_value(&doc).map_err(|e| {
        CliError::Usage(format!(
            "--root {} is not root metadata: {e}: pass a root.json, e.g. the ceremony's 1.root.json",
            path.display()
        ))
    })?;
    Ok((root, doc))
}

/// The kinds of metadata, for client size limits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    Timestamp,
    Snapshot,
    Targets,
}

/// One file read: its kind, size, and the length its listing gives.
struct Size {
    file: String,
    kind: Kind,
    size: u64,
    listed: Option<u64>,
}

/// The authority a delegated role is checked against.
#[derive(Clone)]
enum Authority {
    Classic(DelegatedRole),
    Succinct(SuccinctRoles),
}

/// A targets role still to verify.
struct Visit {
    name: String,
    delegator: String,
    delegations: Arc<Delegations>,
    authority: Authority,
    depth: usize,
}

struct Checker {
    source: Source,
    at: DateTime<Utc>,
    warn: chrono::Duration,
    findings: Vec<Finding>,
    checked: Checked,
    sizes: Vec<Size>,
    /// Files holding `succinct_roles`.
    succinct: Vec<String>,
    root_updates: u64,
    /// Longest chain of delegations from targets.
    depth: usize,
    /// The online keyids: those of the timestamp role.
    online: BTreeSet<String>,
    /// The first file with keyids only securesystemslib computes.
    tough_keyids: Option<String>,
    /// Delegation entries seen, and those naming a role already reached
    /// (bounded, so a hostile repository cannot make the check unbounded).
    delegation_entries: usize,
    repeated: usize,
}

impl Checker {
    fn add(&mut self, severity: Severity, code: Code, file: &str, message: impl Into<String>) {
        self.findings.push(Finding {
            severity,
            code,
            file: file.to_string(),
            message: message.into(),
        });
    }

    fn error(&mut self, code: Code, file: &str, message: impl Into<String>) {
        self.add(Severity::Error, code, file, message);
    }

    fn warning(&mut self, code: Code, file: &str, message: impl Into<String>) {
        self.add(Severity::Warning, code, file, message);
    }

    fn note(&mut self, code: Code, file: &str, message: impl Into<String>) {
        self.add(Severity::Note, code, file, message);
    }

    async fn repository(
        &mut self,
        trusted: Metadata<Root>,
        trusted_doc: &Value,
        trusted_path: &Path,
    ) -> CliResult<()> {
        let root = self.root_chain(trusted, trusted_doc, trusted_path).await?;
        self.online = root
            .signed
            .role("timestamp")
            .map(|r| r.keyids.as_slice().iter().cloned().collect())
            .unwrap_or_default();
        let consistent = root.signed.consistent_snapshot.unwrap_or(false);
        let Some(timestamp) = self.timestamp(&root).await? else {
            return Ok(());
        };
        let Some(snapshot_meta) = timestamp.signed.snapshot_meta().cloned() else {
            self.error(
                Code::Unreadable,
                "timestamp.json",
                "timestamp.json does not list snapshot.json",
            );
            return Ok(());
        };
        let version = snapshot_meta.version.get();
        let file = file_name("snapshot", consistent.then_some(version));
        let Some(doc) = self
            .fetch(
                &file,
                Kind::Snapshot,
                Some(&snapshot_meta),
                "timestamp.json",
            )
            .await?
        else {
            return Ok(());
        };
        let Some(snapshot) = self.top_level::<Snapshot>(&root, "snapshot", &file, &doc) else {
            return Ok(());
        };
        self.listed_version(&file, snapshot.version(), version, "timestamp.json");
        self.expiry(
            &file,
            snapshot.expires(),
            self.online_role(&root, "snapshot"),
        );
        self.checked.snapshot_version = Some(snapshot.version());
        drop(doc);
        self.targets_tree(&root, &snapshot.signed, consistent)
            .await?;
        if consistent {
            self.snapshot_history(&snapshot.signed).await?;
        }
        Ok(())
    }

    /// Read `file`, check it against its listing, record its size and
    /// parse it as JSON; `None` (with a finding) when that fails.
    async fn fetch(
        &mut self,
        file: &str,
        kind: Kind,
        listed: Option<&MetaFile>,
        listed_by: &str,
    ) -> CliResult<Option<Value>> {
        let got = self.source.get(file).await?;
        Ok(self.received(file, kind, listed, listed_by, got))
    }

    fn received(
        &mut self,
        file: &str,
        kind: Kind,
        listed: Option<&MetaFile>,
        listed_by: &str,
        got: Got,
    ) -> Option<Value> {
        let bytes = match got {
            Got::Bytes(b) => b,
            Got::Missing => {
                self.error(
                    Code::Missing,
                    file,
                    format!("{file} does not exist, but {listed_by} names it"),
                );
                return None;
            }
            Got::TooLarge(size) => {
                self.error(
                    Code::Unreadable,
                    file,
                    format!("{file} is larger than {} bytes ({size})", source::MAX_FILE),
                );
                return None;
            }
            Got::NotAFile => {
                self.error(Code::Unreadable, file, not_a_file(file));
                return None;
            }
        };
        self.checked.files += 1;
        self.checked.bytes += bytes.len() as u64;
        self.sizes.push(Size {
            file: file.to_string(),
            kind,
            size: bytes.len() as u64,
            listed: listed.and_then(|m| m.length),
        });
        if let Some(meta) = listed {
            self.check_listing(file, &bytes, meta, listed_by);
        }
        match serde_json::from_slice(&bytes) {
            Ok(doc) => Some(doc),
            Err(e) => {
                self.error(Code::Unreadable, file, format!("{file} is not JSON: {e}"));
                None
            }
        }
    }

    /// Length and hashes as the listing gives them.
    fn check_listing(&mut self, file: &str, bytes: &[u8], meta: &MetaFile, listed_by: &str) {
        if let Some(length) = meta.length {
            if length != bytes.len() as u64 {
                self.error(
                    Code::SnapshotMismatch,
                    file,
                    format!(
                        "{file} is {} bytes, {listed_by} lists {length}: clients refuse it",
                        bytes.len()
                    ),
                );
            }
        }
        for (alg, want) in meta.hashes.iter().flatten() {
            let got = match alg.as_str() {
                "sha256" => hex::encode(sha2::Sha256::digest(bytes)),
                "sha384" => hex::encode(sha2::Sha384::digest(bytes)),
                "sha512" => hex::encode(sha2::Sha512::digest(bytes)),
                "blake2b-256" => hex::encode(
                    blake2::Blake2b::<blake2::digest::consts::U32>::digest(bytes),
                ),
                _ => {
                    self.error(
                        Code::SnapshotMismatch,
                        file,
                        format!("{listed_by} lists a {alg} hash of {file}, an algorithm clients (securesystemslib) do not support: they refuse the file"),
                    );
                    continue;
                }
            };
            // Compared exactly, as python-tuf does: an uppercase digest
            // matches nothing there.
            if got != *want {
                self.error(
                    Code::SnapshotMismatch,
                    file,
                    format!("the {alg} of {file} is not the one {listed_by} lists (clients compare lowercase hex exactly): the file changed after it was listed, or the listing is wrong"),
                );
            }
        }
    }

    /// Parse `doc` as a `T`, with an `unreadable` finding on failure.
    fn parse<T: Signed>(&mut self, file: &str, doc: &Value) -> Option<Metadata<T>> {
        match Metadata::<T>::from_value(doc) {
            Ok(m) => Some(m),
            Err(e) => {
                self.error(
                    Code::Unreadable,
                    file,
                    format!("{file} is not valid {} metadata: {e}", T::TYPE),
                );
                None
            }
        }
    }

    /// Record what a signature check found; true when the threshold is met.
    fn signatures(
        &mut self,
        file: &str,
        checked: Result<Verification, MetadataError>,
        by: &str,
    ) -> bool {
        let v = match checked {
            Ok(v) => v,
            Err(e) => {
                self.error(
                    Code::Unreadable,
                    file,
                    format!("cannot check the signatures of {file}: {e}"),
                );
                return false;
            }
        };
        let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
        if !v.is_satisfied() {
            let mut message = format!(
                "{file} has {} valid signatures of the {} {by} requires",
                v.valid.len(),
                v.threshold
            );
            if !v.invalid.is_empty() {
                message.push_str(&format!(
                    "; signatures that do not verify: {}",
                    list(&v.invalid)
                ));
            }
            if !v.unauthorized.is_empty() {
                message.push_str(&format!(
                    "; signatures by keys {by} does not authorize: {}",
                    list(&v.unauthorized)
                ));
            }
            self.error(Code::Signatures, file, message);
            return false;
        }
        if !v.invalid.is_empty() {
            self.warning(
                Code::Signatures,
                file,
                format!(
                    "{file} meets its threshold, but the signatures of {} do not verify",
                    list(&v.invalid)
                ),
            );
        }
        true
    }

    /// Keyids that are not the SHA-256 of their canonical key. A keyid
    /// securesystemslib computes (over `keytype`, `scheme` and `keyval`
    /// only) on a key with custom fields is what python-tuf-based tools
    /// write: python-tuf reads it, tough refuses it, so it is a warning;
    /// a keyid that is neither is an error.
    fn keyids(&mut self, file: &str, keys: &BTreeMap<String, PublicKey>) {
        for (keyid, key) in keys {
            match key.to_key() {
                Ok(k) if k.keyid() == *keyid => {}
                Ok(k) if securesystemslib_keyid(key) == *keyid => {
                    self.tough_keyids.get_or_insert_with(|| file.to_string());
                    self.warning(
                        Code::Keyid,
                        file,
                        format!(
                            "keyid {keyid} is the SHA-256 of the key without its custom fields (securesystemslib's), not of the whole canonical key ({}): python-tuf reads it, tough refuses the whole file",
                            k.keyid()
                        ),
                    );
                }
                Ok(k) => self.error(
                    Code::Keyid,
                    file,
                    format!(
                        "keyid {keyid} is not the SHA-256 of its canonical key ({}): the specification requires it, and tough refuses the whole file",
                        k.keyid()
                    ),
                ),
                Err(e) => self.warning(
                    Code::Unreadable,
                    file,
                    format!("key {keyid} cannot be checked here ({e}): its signatures count as not verifying"),
                ),
            }
        }
    }

    fn listed_version(&mut self, file: &str, version: u64, listed: u64, listed_by: &str) {
        if version != listed {
            self.error(
                Code::Version,
                file,
                format!("{file} is version {version}, {listed_by} lists version {listed}"),
            );
        }
    }

    /// Expired is an error; a role needing people expiring within the
    /// window is a warning.
    fn expiry(&mut self, file: &str, expires: DateTime<Utc>, online: bool) {
        if expires <= self.at {
            self.error(
                Code::Expired,
                file,
                format!("{file} expired at {}: clients refuse it", stamp(expires)),
            );
        } else if !online && !self.warn.is_zero() && expires <= self.at + self.warn {
            let days = (expires - self.at).num_hours() as f64 / 24.0;
            self.warning(
                Code::ExpiresSoon,
                file,
                format!(
                    "{file} expires at {} (in {days:.1} days) and is signed with keys other than the online key: its key holders must sign a new version before then",
                    stamp(expires)
                ),
            );
        }
    }

    /// A top-level role signed only by the online key.
    fn online_role(&self, root: &Metadata<Root>, role: &str) -> bool {
        root.signed
            .role(role)
            .is_some_and(|r| r.keyids.as_slice().iter().all(|k| self.online.contains(k)))
    }

    fn top_level<T: Signed>(
        &mut self,
        root: &Metadata<Root>,
        role: &str,
        file: &str,
        doc: &Value,
    ) -> Option<Metadata<T>> {
        let parsed = self.parse::<T>(file, doc)?;
        let by = format!("root version {}", root.version());
        self.signatures(
            file,
            verify_top_level(&checkable(&root.signed), role, doc),
            &by,
        );
        Some(parsed)
    }

    /// §5.3: the newest root reachable from the trusted one.
    async fn root_chain(
        &mut self,
        trusted: Metadata<Root>,
        trusted_doc: &Value,
        trusted_path: &Path,
    ) -> CliResult<Metadata<Root>> {
        let shown = trusted_path.display().to_string();
        // Findings on the trusted root name the repository's copy of it.
        let first = file_name("root", Some(trusted.version()));
        self.signatures(
            &first,
            verify_top_level(&checkable(&trusted.signed), "root", trusted_doc),
            &format!("the trusted root ({shown}) itself"),
        );
        self.keyids(&first, &trusted.signed.keys);
        match self.source.get(&first).await? {
            Got::Missing => self.warning(
                Code::Missing,
                &first,
                format!("the repository has no {first}: clients holding the trusted root do not need it, but nobody can fetch it from here"),
            ),
            Got::TooLarge(_) => self.error(Code::Unreadable, &first, format!("{first} is too large")),
            Got::NotAFile => self.error(Code::Unreadable, &first, not_a_file(&first)),
            Got::Bytes(bytes) => {
                self.record(&first, Kind::Root, bytes.len());
                let same = serde_json::from_slice::<Value>(&bytes)
                    .ok()
                    .is_some_and(|d| d.get("signed") == trusted_doc.get("signed"));
                if !same {
                    self.error(
                        Code::TrustedRoot,
                        &first,
                        format!("the repository's {first} is not the trusted root {shown}: its root was replaced, or {shown} belongs to another repository"),
                    );
                }
            }
        }
        let mut root = trusted;
        while self.root_updates < MAX_ROOT_VERSIONS {
            let Some(version) = root.version().checked_add(1) else {
                break;
            };
            let file = file_name("root", Some(version));
            let got = self.source.get(&file).await?;
            let bytes = match got {
                Got::Missing => break,
                Got::TooLarge(_) => {
                    self.error(Code::Unreadable, &file, format!("{file} is too large"));
                    break;
                }
                Got::NotAFile => {
                    self.error(Code::Unreadable, &file, not_a_file(&file));
                    break;
                }
                Got::Bytes(b) => b,
            };
            self.record(&file, Kind::Root, bytes.len());
            let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
                self.error(Code::Unreadable, &file, format!("{file} is not JSON"));
                break;
            };
            let Some(next) = self.parse::<Root>(&file, &doc) else {
                break;
            };
            let by_old = verify_top_level(&checkable(&root.signed), "root", &doc);
            let by_new = verify_top_level(&checkable(&next.signed), "root", &doc);
            let old_ok = self.signatures(
                &file,
                by_old,
                &format!("the previous root (version {})", root.version()),
            );
            let new_ok = self.signatures(&file, by_new, "the new root itself");
            if !(old_ok && new_ok) {
                self.error(
                    Code::RootChain,
                    &file,
                    format!("clients refuse {file} and stay on root version {}: every new root must be signed by the threshold of the previous root and of itself", root.version()),
                );
                break;
            }
            if next.version() != version {
                self.error(
                    Code::Version,
                    &file,
                    format!(
                        "{file} holds root version {}: clients refuse it and stay on version {}",
                        next.version(),
                        root.version()
                    ),
                );
                break;
            }
            self.keyids(&file, &next.signed.keys);
            self.root_updates += 1;
            root = next;
        }
        if let Some(names) = self.source.list()? {
            let beyond: Vec<u64> = names
                .iter()
                .filter_map(|n| n.strip_suffix(".root.json")?.parse::<u64>().ok())
                .filter(|v| *v > root.version().saturating_add(1))
                .collect();
            if let Some(v) = beyond.iter().min() {
                self.error(
                    Code::RootChain,
                    &file_name("root", Some(*v)),
                    format!(
                        "{} exists but the chain ends at version {}: clients never reach it",
                        file_name("root", Some(*v)),
                        root.version()
                    ),
                );
            }
        }
        let file = file_name("root", Some(root.version()));
        self.expiry(&file, root.expires(), false);
        self.checked.root_version = Some(root.version());
        Ok(root)
    }

    fn record(&mut self, file: &str, kind: Kind, size: usize) {
        self.checked.files += 1;
        self.checked.bytes += size as u64;
        self.sizes.push(Size {
            file: file.to_string(),
            kind,
            size: size as u64,
            listed: None,
        });
    }

    async fn timestamp(&mut self, root: &Metadata<Root>) -> CliResult<Option<Metadata<Timestamp>>> {
        let file = "timestamp.json";
        let Some(doc) = self
            .fetch(file, Kind::Timestamp, None, "every client")
            .await?
        else {
            return Ok(None);
        };
        let Some(timestamp) = self.top_level::<Timestamp>(root, "timestamp", file, &doc) else {
            return Ok(None);
        };
        self.expiry(file, timestamp.expires(), true);
        self.checked.timestamp_version = Some(timestamp.version());
        Ok(Some(timestamp))
    }

    /// Top-level targets, then every role it delegates to, breadth first,
    /// each against its delegator, and the snapshot entries nothing
    /// reaches.
    async fn targets_tree(
        &mut self,
        root: &Metadata<Root>,
        snapshot: &Snapshot,
        consistent: bool,
    ) -> CliResult<()> {
        let file_for = |name: &str| {
            let version = snapshot
                .meta
                .get(&format!("{name}.json"))
                .map(|m| m.version.get());
            file_name(name, if consistent { version } else { None })
        };
        let Some(meta) = snapshot.meta.get("targets.json") else {
            self.error(
                Code::NotInSnapshot,
                "snapshot",
                "the snapshot does not list targets.json",
            );
            return Ok(());
        };
        let file = file_for("targets");
        let Some(doc) = self
            .fetch(&file, Kind::Targets, Some(meta), "the snapshot")
            .await?
        else {
            return Ok(());
        };
        let Some(targets) = self.top_level::<Targets>(root, "targets", &file, &doc) else {
            return Ok(());
        };
        self.listed_version(&file, targets.version(), meta.version.get(), "the snapshot");
        self.expiry(&file, targets.expires(), self.online_role(root, "targets"));
        self.checked.targets_roles += 1;
        let mut reached: HashSet<String> = HashSet::from(["targets".to_string()]);
        let mut queue: VecDeque<Visit> = VecDeque::new();
        self.delegations(
            "targets",
            &file,
            targets.signed,
            1,
            &mut reached,
            &mut queue,
        );

        while !queue.is_empty() {
            let batch: Vec<Visit> = queue
                .drain(..queue.len().min(source::CONCURRENCY))
                .collect();
            let mut names = Vec::new();
            for visit in &batch {
                names.push(file_for(&visit.name));
            }
            let listed: Vec<Option<MetaFile>> = batch
                .iter()
                .map(|v| snapshot.meta.get(&format!("{}.json", v.name)).cloned())
                .collect();
            // Only roles the snapshot lists are fetched.
            let fetch: Vec<String> = names
                .iter()
                .zip(&listed)
                .filter(|(_, l)| l.is_some())
                .map(|(n, _)| n.clone())
                .collect();
            let mut got = self.source.get_many(&fetch).await?.into_iter();
            for ((visit, file), meta) in batch.into_iter().zip(names).zip(listed) {
                let Some(meta) = meta else {
                    self.error(
                        Code::NotInSnapshot,
                        &format!("{}.json", visit.name),
                        format!(
                            "{} delegates to {}, but the snapshot does not list {}.json: clients cannot fetch it",
                            visit.delegator, visit.name, visit.name
                        ),
                    );
                    continue;
                };
                let got = got.next().unwrap_or(Got::Missing);
                let Some(doc) =
                    self.received(&file, Kind::Targets, Some(&meta), "the snapshot", got)
                else {
                    continue;
                };
                self.delegated(visit, &file, &meta, &doc, &mut reached, &mut queue);
            }
        }
        let unreferenced: Vec<String> = snapshot
            .meta
            .keys()
            .filter(|k| {
                k.strip_suffix(".json")
                    .is_none_or(|name| !reached.contains(name))
            })
            .cloned()
            .collect();
        for entry in unreferenced.iter().take(MAX_LISTED) {
            self.note(
                Code::Unreferenced,
                entry,
                format!("the snapshot lists {entry}, but no delegation reaches it: a removed role, whose entry must stay (clients refuse a snapshot that drops one)"),
            );
        }
        if unreferenced.len() > MAX_LISTED {
            self.note(
                Code::Unreferenced,
                "snapshot",
                format!(
                    "{} more snapshot entries no delegation reaches",
                    unreferenced.len() - MAX_LISTED
                ),
            );
        }
        Ok(())
    }

    /// Verify one delegated role against its delegator and queue its own
    /// delegations.
    fn delegated(
        &mut self,
        visit: Visit,
        file: &str,
        meta: &MetaFile,
        doc: &Value,
        reached: &mut HashSet<String>,
        queue: &mut VecDeque<Visit>,
    ) {
        let Some(role) = self.parse::<Targets>(file, doc) else {
            return;
        };
        let by = format!("its delegation in {}", visit.delegator);
        let checked = match &visit.authority {
            Authority::Classic(r) => verify_delegated(&visit.delegations, r, doc),
            Authority::Succinct(r) => verify_delegated(&visit.delegations, r, doc),
        };
        self.signatures(file, checked, &by);
        self.listed_version(file, role.version(), meta.version.get(), "the snapshot");
        let keyids = match &visit.authority {
            Authority::Classic(r) => r.keyids.as_slice(),
            Authority::Succinct(r) => r.keyids.as_slice(),
        };
        let online = !keyids.is_empty() && keyids.iter().all(|k| self.online.contains(k));
        self.expiry(file, role.expires(), online);
        self.checked.targets_roles += 1;
        self.delegations(
            &visit.name,
            file,
            role.signed,
            visit.depth + 1,
            reached,
            queue,
        );
    }

    /// Check a role's `delegations` and queue the roles it names.
    fn delegations(
        &mut self,
        name: &str,
        file: &str,
        targets: Targets,
        depth: usize,
        reached: &mut HashSet<String>,
        queue: &mut VecDeque<Visit>,
    ) {
        let Some(delegations) = targets.delegations else {
            return;
        };
        self.depth = self.depth.max(depth);
        self.keyids(file, &delegations.keys);
        let mut delegations = delegations;
        delegations.keys = verifiable(&delegations.keys);
        let delegations = Arc::new(delegations);
        let mut children: Vec<(String, Authority)> = Vec::new();
        if let Some(succinct) = &delegations.succinct_roles {
            self.succinct.push(file.to_string());
            if succinct.bit_length > MAX_BINS_BITS {
                self.warning(
                    Code::ClientLimit,
                    file,
                    format!(
                        "{file} delegates to 2^{} succinct bins; only the first 2^{MAX_BINS_BITS} are checked",
                        succinct.bit_length
                    ),
                );
            }
            let bins = succinct.bins();
            let count = bins.count().min(1 << MAX_BINS_BITS);
            for i in 0..count {
                children.push((bins.role_name(i), Authority::Succinct(succinct.clone())));
            }
        }
        if let Some(roles) = &delegations.roles {
            self.coverage(file, roles);
            for r in roles {
                children.push((r.name.clone(), Authority::Classic(r.clone())));
            }
        }
        for (child, authority) in children {
            self.delegation_entries += 1;
            if self.delegation_entries > 2 * MAX_ROLES {
                self.warning(
                    Code::ClientLimit,
                    file,
                    format!(
                        "more than {} delegation entries: the rest are not checked",
                        2 * MAX_ROLES
                    ),
                );
                return;
            }
            if !reached.insert(child.clone()) {
                self.repeated += 1;
                if self.repeated <= MAX_LISTED {
                    self.note(
                        Code::Redelegated,
                        &child,
                        format!("{child} is delegated to more than once (again by {name}); checked against its first delegation"),
                    );
                }
                continue;
            }
            if reached.len() > MAX_ROLES {
                self.warning(
                    Code::ClientLimit,
                    file,
                    format!("more than {MAX_ROLES} targets roles: the rest are not checked"),
                );
                return;
            }
            queue.push_back(Visit {
                name: child,
                delegator: name.to_string(),
                delegations: delegations.clone(),
                authority,
                depth,
            });
        }
    }

    /// A classic hash-bin delegation (the roles with `path_hash_prefixes`,
    /// when there are at least two: a lone prefix role beside path roles
    /// is a deliberate partial delegation) must cover the hash space
    /// exactly once.
    fn coverage(&mut self, file: &str, roles: &[DelegatedRole]) {
        let bins: Vec<(String, Vec<String>)> = roles
            .iter()
            .filter_map(|r| Some((r.name.clone(), r.path_hash_prefixes.clone()?)))
            .collect();
        if bins.len() < 2 {
            return;
        }
        // Paths outside every bin may still reach a path-delegated sibling.
        let caught = roles.iter().any(|r| r.paths.is_some());
        for problem in coverage::check(&bins, MAX_LISTED) {
            let severity = match problem {
                coverage::Problem::TooLong { .. } => Severity::Note,
                coverage::Problem::Gap { .. } if caught => Severity::Warning,
                _ => Severity::Error,
            };
            self.add(severity, Code::BinsCoverage, file, problem.to_string());
        }
    }

    /// Versions listed by older snapshot generations never exceed those of
    /// newer ones (every generation in a directory; the previous one over
    /// HTTP).
    async fn snapshot_history(&mut self, current: &Snapshot) -> CliResult<()> {
        let version = current.common.version.get();
        let mut older: Vec<u64> = match self.source.list()? {
            Some(names) => names
                .iter()
                .filter_map(|n| n.strip_suffix(".snapshot.json")?.parse::<u64>().ok())
                .filter(|v| *v != version)
                .collect(),
            None if version > 1 => vec![version - 1],
            None => vec![],
        };
        older.sort_unstable();
        let newer: Vec<u64> = older.iter().copied().filter(|v| *v > version).collect();
        if let Some(v) = newer.first() {
            self.note(
                Code::Version,
                &file_name("snapshot", Some(*v)),
                format!("{} is newer than the snapshot timestamp.json lists (version {version}): a publish that did not finish?", file_name("snapshot", Some(*v))),
            );
        }
        // The highest version each entry had so far, and the generation
        // that listed it: a later generation must list every entry (python-tuf
        // refuses a snapshot missing one it trusted) at no lower a version.
        let mut highest: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut reported = 0;
        let generations: Vec<u64> = older.into_iter().filter(|v| *v < version).collect();
        for v in generations.iter().copied().chain([version]) {
            let listed = if v == version {
                versions_of(&current.meta)
            } else {
                let file = file_name("snapshot", Some(v));
                let Got::Bytes(bytes) = self.source.get(&file).await? else {
                    continue;
                };
                let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
                    self.warning(Code::Unreadable, &file, format!("{file} is not JSON"));
                    continue;
                };
                let Ok(old) = serde_json::from_value::<Snapshot>(doc["signed"].clone()) else {
                    self.warning(
                        Code::Unreadable,
                        &file,
                        format!("{file} is not snapshot metadata"),
                    );
                    continue;
                };
                self.checked.snapshot_generations += 1;
                versions_of(&old.meta)
            };
            let file = file_name("snapshot", Some(v));
            for (entry, (was, at)) in &highest {
                if reported >= MAX_LISTED {
                    break;
                }
                let message = match listed.get(entry) {
                    Some(now) if now < was => format!("snapshot {v} lists {entry} at version {now}, but snapshot {at} listed version {was}: versions only go up, so clients that saw {at} refuse it"),
                    None => format!("snapshot {v} does not list {entry}, which snapshot {at} listed: clients that saw {at} refuse a snapshot missing an entry"),
                    Some(_) => continue,
                };
                reported += 1;
                self.error(Code::Version, &file, message);
            }
            for (entry, now) in listed {
                let e = highest.entry(entry).or_insert((now, v));
                if now >= e.0 {
                    *e = (now, v);
                }
            }
        }
        Ok(())
    }

    /// Each client's verdict; its problems are also warnings, so
    /// `--strict` and scripts reading only findings see them.
    fn client_verdicts(&mut self) -> Vec<ClientVerdict> {
        let mut verdicts = Vec::new();
        for limits in &CLIENTS {
            let problems = self.client_problems(limits);
            for (code, file, message) in &problems {
                self.warning(*code, file, format!("{}: {message}", limits.client));
            }
            verdicts.push(ClientVerdict {
                client: limits.client,
                reads: problems.is_empty(),
                problems: problems.into_iter().map(|(_, _, m)| m).collect(),
            });
        }
        verdicts
    }

    /// What keeps the client with `c`'s defaults from reading everything:
    /// (code, file, message).
    fn client_problems(&self, c: &ClientLimits) -> Vec<(Code, String, String)> {
        let mut problems = Vec::new();
        for s in &self.sizes {
            let (default, listed) = match s.kind {
                Kind::Root => (c.root, None),
                Kind::Timestamp => (c.timestamp, None),
                Kind::Snapshot => (c.snapshot, s.listed),
                Kind::Targets => (c.targets, s.listed),
            };
            if listed.is_none() && s.size > default {
                let message = format!(
                    "{} is {} bytes, over the default limit of {default} (list its length in the referencing metadata, or raise the client's limit)",
                    s.file, s.size
                );
                problems.push((Code::ClientLimit, s.file.clone(), message));
            }
        }
        if let (false, Some(file)) = (c.succinct, self.succinct.first()) {
            let message = format!(
                "{file} delegates with succinct_roles (TAP 15), which {} cannot read (publish classic hash bins for it)",
                c.client
            );
            problems.push((Code::ClientLayout, file.clone(), message));
        }
        if let (false, Some(file)) = (c.spec_keyids_only, &self.tough_keyids) {
            let message = format!(
                "{file} lists keys under securesystemslib's keyids, which {} refuses",
                c.client
            );
            problems.push((Code::Keyid, file.clone(), message));
        }
        if self.root_updates > c.root_updates {
            let message = format!(
                "the chain has {} root updates, more than the {} one refresh walks",
                self.root_updates, c.root_updates
            );
            problems.push((Code::ClientLimit, "root".into(), message));
        }
        if let Some(limit) = c.delegations.filter(|l| self.depth > *l) {
            let message = format!(
                "delegations are {} roles deep, more than the {limit} one lookup visits",
                self.depth
            );
            problems.push((Code::ClientLimit, "targets".into(), message));
        }
        problems
    }
}

/// securesystemslib's `compute_default_keyid`: the canonical JSON of
/// `keytype`, `scheme` and `keyval` only.
fn securesystemslib_keyid(key: &PublicKey) -> String {
    let core = serde_json::json!({
        "keytype": key.keytype,
        "scheme": key.scheme,
        "keyval": key.keyval,
    });
    let bytes = rstuf_tuf::canonical::to_canonical_vec(&core).unwrap_or_default();
    hex::encode(sha2::Sha256::digest(bytes))
}

/// `keys` without those this tool cannot verify with (an unsupported
/// scheme), so one such key does not make every signature uncheckable.
fn verifiable(keys: &BTreeMap<String, PublicKey>) -> BTreeMap<String, PublicKey> {
    keys.iter()
        .filter(|(_, k)| k.to_key().is_ok())
        .map(|(id, k)| (id.clone(), k.clone()))
        .collect()
}

fn checkable(root: &Root) -> Root {
    let mut root = root.clone();
    root.keys = verifiable(&root.keys);
    root
}

fn not_a_file(file: &str) -> String {
    format!("{file} is a symbolic link or not a regular file: not followed")
}

fn versions_of(meta: &BTreeMap<String, MetaFile>) -> BTreeMap<String, u64> {
    meta.iter()
        .map(|(k, m)| (k.clone(), m.version.get()))
        .collect()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

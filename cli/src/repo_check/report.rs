//! What `rstuf repo check` found: findings with a severity and a stable
//! code (scripts match on codes, people read messages), the verdict of
//! each client with its default limits, and the text and JSON forms.

use crate::output::Output;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

/// One kind of finding. Errors are what the specification or a client
/// refuses; warnings are what works today but will not for long, or not
/// for every client; notes are facts worth knowing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// Not JSON, or not metadata by the client load rules.
    Unreadable,
    /// A file the metadata names is not there.
    Missing,
    /// The repository's copy of the trusted root differs from it.
    TrustedRoot,
    /// A root version not signed by the threshold of its predecessor and
    /// itself, or files beyond a break in the chain.
    RootChain,
    /// A threshold not met, or a signature that does not verify.
    Signatures,
    /// A keyid that is not the SHA-256 of the canonical key.
    Keyid,
    /// A version that does not match its file name or its listing, or goes
    /// down from one snapshot to the next.
    Version,
    /// A file whose length or hashes differ from its listing.
    SnapshotMismatch,
    /// A delegated role the snapshot does not list.
    NotInSnapshot,
    /// A snapshot entry no delegation reaches.
    Unreferenced,
    /// A role delegated to more than once (or in a cycle).
    Redelegated,
    /// Hash-bin prefixes that leave part of the hash space uncovered or
    /// cover part of it twice.
    BinsCoverage,
    Expired,
    /// A role signed with keys other than the online key expiring within
    /// the warning window.
    ExpiresSoon,
    /// A file larger than a client's default limit.
    ClientLimit,
    /// A layout a client cannot read.
    ClientLayout,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: Code,
    /// The file (or role) it is about.
    pub file: String,
    pub message: String,
}

/// A client's default limits (python-tuf `UpdaterConfig`, tough `Limits`;
/// see docs/repo-check.md for where each number comes from).
pub struct ClientLimits {
    pub client: &'static str,
    pub root: u64,
    pub timestamp: u64,
    /// Used when the timestamp does not list the snapshot's length.
    pub snapshot: u64,
    /// Used when the snapshot does not list a targets file's length.
    pub targets: u64,
    /// Root versions one refresh walks.
    pub root_updates: u64,
    /// Roles one target lookup visits (`None`: no limit).
    pub delegations: Option<usize>,
    /// Reads TAP 15 `succinct_roles`.
    pub succinct: bool,
    /// Refuses keyids that are not the hash of the whole canonical key.
    pub spec_keyids_only: bool,
}

pub const CLIENTS: [ClientLimits; 2] = [
    ClientLimits {
        client: "python-tuf",
        root: 512_000,
        timestamp: 16_384,
        snapshot: 2_000_000,
        targets: 5_000_000,
        root_updates: 256,
        delegations: Some(32),
        succinct: true,
        spec_keyids_only: false,
    },
    ClientLimits {
        client: "tough",
        root: 1 << 20,
        timestamp: 1 << 20,
        snapshot: 1 << 20,
        targets: 10 << 20,
        root_updates: 1024,
        delegations: None,
        succinct: false,
        spec_keyids_only: true,
    },
];

#[derive(Debug, Clone, Serialize)]
pub struct ClientVerdict {
    pub client: &'static str,
    /// Reads the whole repository with its default settings.
    pub reads: bool,
    pub problems: Vec<String>,
}

/// What was checked.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Checked {
    pub trusted_root_version: u64,
    pub root_version: Option<u64>,
    pub timestamp_version: Option<u64>,
    pub snapshot_version: Option<u64>,
    /// Targets roles verified (top-level, delegated and bins).
    pub targets_roles: usize,
    /// Older snapshot generations compared for versions going down.
    pub snapshot_generations: usize,
    pub files: usize,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub location: String,
    pub at: String,
    pub ok: bool,
    pub errors: usize,
    pub warnings: usize,
    pub checked: Checked,
    pub findings: Vec<Finding>,
    pub clients: Vec<ClientVerdict>,
}

impl Report {
    pub fn new(
        location: String,
        at: String,
        checked: Checked,
        mut findings: Vec<Finding>,
        clients: Vec<ClientVerdict>,
        strict: bool,
    ) -> Report {
        findings.sort_by_key(|f| f.severity);
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
        Report {
            location,
            at,
            ok: errors == 0 && !(strict && warnings > 0),
            errors,
            warnings,
            checked,
            findings,
            clients,
        }
    }

    pub fn print(&self, out: &Output) {
        if out.json {
            out.print_json(&serde_json::to_value(self).unwrap_or_default());
            return;
        }
        let c = &self.checked;
        println!(
            "Repository: {} (checked at {})",
            printable(&self.location),
            self.at
        );
        let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
        println!(
            "Root: trusted version {}, newest accepted {}; timestamp {}; snapshot {}; {} targets roles; {} older snapshots; {} files, {} bytes",
            c.trusted_root_version,
            opt(c.root_version),
            opt(c.timestamp_version),
            opt(c.snapshot_version),
            c.targets_roles,
            c.snapshot_generations,
            c.files,
            c.bytes
        );
        if !self.findings.is_empty() {
            println!();
            let rows: Vec<Vec<String>> = self
                .findings
                .iter()
                .map(|f| {
                    vec![
                        format!("{:?}", f.severity).to_uppercase(),
                        serde_json::to_value(f.code)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default(),
                        printable(&f.file),
                        printable(&f.message),
                    ]
                })
                .collect();
            out.table(&["SEVERITY", "CODE", "FILE", "FINDING"], &rows);
        }
        println!();
        println!("Clients with their default settings:");
        for v in &self.clients {
            if v.reads {
                println!("  {}: reads this repository", v.client);
            } else {
                println!(
                    "  {}: cannot read it: {}",
                    v.client,
                    printable(&v.problems.join("; "))
                );
            }
        }
        println!();
        let summary = format!("{} errors, {} warnings", self.errors, self.warnings);
        if self.ok {
            out.success(&format!("Repository OK: {summary}"));
        } else {
            println!("Repository check failed: {summary}");
        }
    }
}

/// Role names, keyids and prefixes come from the repository: control
/// characters are escaped so a hostile repository cannot drive the
/// terminal.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(super::printable("bins-0\u{1b}[2J"), "bins-0\\u{1b}[2J");
        assert_eq!(super::printable("ok \u{e9}"), "ok \u{e9}");
    }
}

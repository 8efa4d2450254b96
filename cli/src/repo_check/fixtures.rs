//! Broken repositories for `rstuf repo check`, one per finding, checked in
//! under `cli/tests/fixtures/check/<case>/` so any validator or client can
//! be pointed at the same files.
//!
//! Each is a small consistent-snapshot repository made deterministically
//! here (fixed Ed25519 seeds): a root, targets delegating to four classic
//! hash bins, snapshot and timestamp listing lengths and hashes, then one
//! thing broken. A test checks the checked-in files are what this code
//! makes (regenerate with `RSTUF_FIXTURES_BLESS=1 cargo test -p rstuf-cli
//! check_fixture`), and another runs the checker on each, from a directory
//! and over HTTP, expecting exactly its finding.

use super::{run, CheckArgs, Code, Report, Severity};
use crate::tuf_fixtures::{file_bytes, keyid, public, serve, sign, sign_as, sk};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const FAR: &str = "2099-01-01T00:00:00Z";
const PAST: &str = "2020-01-01T00:00:00Z";
const SOON: &str = "2030-01-01T00:00:00Z";
/// A week before [`SOON`].
const WEEK_BEFORE_SOON: &str = "2029-12-25T00:00:00Z";

const ROOT: u8 = 1;
const ONLINE: u8 = 2;
const NEW_ROOT: u8 = 3;
const OFFLINE: u8 = 4;
const OTHER_ROOT: u8 = 5;
const OTHER_ONLINE: u8 = 6;

type Files = BTreeMap<String, Value>;
/// Targets roles: name → (signed, signing key seed).
type Roles = BTreeMap<String, (Value, u8)>;

fn root(version: u64, root_seed: u8, online_seed: u8) -> Value {
    root_with(version, root_seed, online_seed, true)
}

fn root_with(version: u64, root_seed: u8, online_seed: u8, consistent: bool) -> Value {
    let (r, o) = (keyid(&sk(root_seed)), keyid(&sk(online_seed)));
    let one = |id: &str| json!({"keyids": [id], "threshold": 1});
    json!({"_type": "root", "spec_version": "1.0.31", "version": version, "expires": FAR,
           "consistent_snapshot": consistent,
           "keys": {r.clone(): public(&sk(root_seed)), o.clone(): public(&sk(online_seed))},
           "roles": {"root": one(&r), "targets": one(&o), "snapshot": one(&o), "timestamp": one(&o)}})
}

fn targets_role(version: u64, expires: &str, targets: Value, delegations: Option<Value>) -> Value {
    let mut signed = json!({"_type": "targets", "spec_version": "1.0.31", "version": version,
                            "expires": expires, "targets": targets});
    if let Some(d) = delegations {
        signed["delegations"] = d;
    }
    signed
}

fn info(content: &[u8]) -> Value {
    json!({"length": content.len(),
           "hashes": {"sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(content))}})
}

/// The four classic bins' prefixes: 0-3, 4-7, 8-b, c-f.
fn quarters() -> Vec<Vec<String>> {
    let hex: Vec<String> = (0..16).map(|i| format!("{i:x}")).collect();
    hex.chunks(4).map(<[String]>::to_vec).collect()
}

fn classic_bins(prefixes: &[Vec<String>]) -> Value {
    let o = keyid(&sk(ONLINE));
    let roles: Vec<Value> = prefixes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({"name": format!("bins-{i}"), "keyids": [o], "threshold": 1,
                   "terminating": true, "path_hash_prefixes": p})
        })
        .collect();
    json!({"keys": {o.clone(): public(&sk(ONLINE))}, "roles": roles})
}

fn succinct_bins() -> Value {
    let o = keyid(&sk(ONLINE));
    json!({"keys": {o.clone(): public(&sk(ONLINE))},
           "succinct_roles": {"keyids": [o], "threshold": 1, "bit_length": 2, "name_prefix": "bins"}})
}

/// targets → four bins, `a.txt` in the bin its hash falls in.
fn roles_with(delegations: Value) -> Roles {
    let mut roles = Roles::new();
    roles.insert(
        "targets".into(),
        (targets_role(1, FAR, json!({}), Some(delegations)), ONLINE),
    );
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"a.txt"));
    let bin = usize::from_str_radix(&digest[..1], 16).unwrap() / 4;
    for i in 0..4 {
        let targets = if i == bin {
            json!({"a.txt": info(b"hello")})
        } else {
            json!({})
        };
        roles.insert(
            format!("bins-{i}"),
            (targets_role(1, FAR, targets, None), ONLINE),
        );
    }
    roles
}

fn standard_roles() -> Roles {
    roles_with(classic_bins(&quarters()))
}

/// How one generation is assembled.
struct Generation {
    consistent: bool,
    snapshot_version: u64,
    snapshot_signer: u8,
    tweak_snapshot: fn(&mut Value),
    timestamp_extra: Option<(&'static str, Value)>,
}

impl Default for Generation {
    fn default() -> Self {
        Generation {
            consistent: true,
            snapshot_version: 1,
            snapshot_signer: ONLINE,
            tweak_snapshot: |_| {},
            timestamp_extra: None,
        }
    }
}

/// `meta` entry for a written document.
fn meta_of(version: u64, doc: &Value) -> Value {
    let bytes = file_bytes(doc);
    json!({"version": version, "length": bytes.len(),
           "hashes": {"sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))}})
}

/// Sign `roles`, then the snapshot listing them, then the timestamp.
fn assemble(roles: &Roles, g: Generation) -> Files {
    let mut files = Files::new();
    let mut meta = serde_json::Map::new();
    let named = |version: u64, name: &str| {
        if g.consistent {
            format!("{version}.{name}.json")
        } else {
            format!("{name}.json")
        }
    };
    for (name, (signed, seed)) in roles {
        let version = signed["version"].as_u64().unwrap();
        let doc = sign(signed.clone(), &[&sk(*seed)]);
        meta.insert(format!("{name}.json"), meta_of(version, &doc));
        files.insert(named(version, name), doc);
    }
    let mut snapshot = json!({"_type": "snapshot", "spec_version": "1.0.31",
                              "version": g.snapshot_version, "expires": FAR, "meta": meta});
    (g.tweak_snapshot)(&mut snapshot);
    let snapshot = sign(snapshot, &[&sk(g.snapshot_signer)]);
    let mut timestamp = json!({"_type": "timestamp", "spec_version": "1.0.31",
                               "version": g.snapshot_version, "expires": FAR,
                               "meta": {"snapshot.json": meta_of(g.snapshot_version, &snapshot)}});
    if let Some((k, v)) = g.timestamp_extra {
        timestamp[k] = v;
    }
    files.insert(named(g.snapshot_version, "snapshot"), snapshot);
    files.insert("timestamp.json".into(), sign(timestamp, &[&sk(ONLINE)]));
    files.insert(
        "1.root.json".into(),
        sign(root_with(1, ROOT, ONLINE, g.consistent), &[&sk(ROOT)]),
    );
    files
}

fn standard() -> Files {
    assemble(&standard_roles(), Generation::default())
}

/// Every case and its files.
pub fn cases() -> Vec<(&'static str, Files)> {
    let mut out = vec![("good", standard())];

    out.push((
        "succinct",
        assemble(&roles_with(succinct_bins()), Generation::default()),
    ));

    let mut unreadable = standard();
    let ts = unreadable.get_mut("timestamp.json").unwrap();
    let first = ts["signatures"][0].clone();
    ts["signatures"].as_array_mut().unwrap().push(first);
    out.push(("unreadable", unreadable));

    let mut chain = standard();
    chain.insert(
        "2.root.json".into(),
        sign(root(2, NEW_ROOT, ONLINE), &[&sk(NEW_ROOT)]),
    );
    out.push(("root-chain", chain));

    out.push((
        "signatures",
        assemble(
            &standard_roles(),
            Generation {
                snapshot_signer: OTHER_ONLINE,
                ..Generation::default()
            },
        ),
    ));

    // The root key listed (and signing) under a keyid that is not its hash.
    let mut keyid_case = standard();
    let fake = "f".repeat(64);
    let mut r = root(1, ROOT, ONLINE);
    let real = keyid(&sk(ROOT));
    let key = r["keys"].as_object_mut().unwrap().remove(&real).unwrap();
    r["keys"][&fake] = key;
    r["roles"]["root"]["keyids"] = json!([fake.clone()]);
    keyid_case.insert("1.root.json".into(), sign_as(r, &[(fake, &sk(ROOT))]));
    out.push(("keyid", keyid_case));

    // The root key with a custom field, under the keyid securesystemslib
    // computes (keytype, scheme, keyval only).
    let mut sslib = standard();
    let mut r = root(1, ROOT, ONLINE);
    let real = keyid(&sk(ROOT));
    let mut key = r["keys"].as_object_mut().unwrap().remove(&real).unwrap();
    key["x-rstuf-key-name"] = json!("root-1");
    r["keys"][&real] = key;
    sslib.insert("1.root.json".into(), sign_as(r, &[(real, &sk(ROOT))]));
    out.push(("keyid-securesystemslib", sslib));

    // Snapshot 1 listed bins-0 at version 2; snapshot 2 lists version 1.
    let mut first = standard_roles();
    first.get_mut("bins-0").unwrap().0["version"] = json!(2);
    let mut versions = assemble(&first, Generation::default());
    versions.extend(assemble(
        &standard_roles(),
        Generation {
            snapshot_version: 2,
            ..Generation::default()
        },
    ));
    out.push(("version", versions));

    let mut changed = standard();
    let mut bin2 = standard_roles()["bins-2"].0.clone();
    bin2["targets"]["added-after-the-snapshot.txt"] = info(b"late");
    changed.insert("1.bins-2.json".into(), sign(bin2, &[&sk(ONLINE)]));
    out.push(("snapshot-mismatch", changed));

    let mut missing = standard();
    missing.remove("1.bins-3.json");
    out.push(("missing", missing));

    out.push((
        "not-in-snapshot",
        assemble(
            &standard_roles(),
            Generation {
                tweak_snapshot: |s| {
                    s["meta"].as_object_mut().unwrap().remove("bins-1.json");
                },
                ..Generation::default()
            },
        ),
    ));

    out.push((
        "unreferenced",
        assemble(
            &standard_roles(),
            Generation {
                tweak_snapshot: |s| s["meta"]["retired.json"] = json!({"version": 3}),
                ..Generation::default()
            },
        ),
    ));

    // bins-0 also takes "4" (bins-1's), nobody takes "f".
    let mut prefixes = quarters();
    prefixes[0].push("4".into());
    prefixes[3].retain(|p| p != "f");
    out.push((
        "bins-coverage",
        assemble(&roles_with(classic_bins(&prefixes)), Generation::default()),
    ));

    let mut expired = standard_roles();
    expired.get_mut("bins-1").unwrap().0["expires"] = json!(PAST);
    out.push(("expired", assemble(&expired, Generation::default())));

    // bins-0 delegates offline/* to a role signed with an offline key.
    let mut soon = standard_roles();
    let off = keyid(&sk(OFFLINE));
    soon.get_mut("bins-0").unwrap().0["delegations"] = json!({
        "keys": {off.clone(): public(&sk(OFFLINE))},
        "roles": [{"name": "offline-role", "keyids": [off], "threshold": 1,
                   "terminating": false, "paths": ["offline/*"]}]});
    soon.insert(
        "offline-role".into(),
        (
            targets_role(1, SOON, json!({"offline/b.txt": info(b"b")}), None),
            OFFLINE,
        ),
    );
    out.push(("expires-soon", assemble(&soon, Generation::default())));

    out.push((
        "client-limit",
        assemble(
            &standard_roles(),
            Generation {
                timestamp_extra: Some(("x-padding", json!("0".repeat(17_000)))),
                ..Generation::default()
            },
        ),
    ));

    out.push((
        "not-consistent",
        assemble(
            &standard_roles(),
            Generation {
                consistent: false,
                ..Generation::default()
            },
        ),
    ));

    // bins-2 signed by a key root trusts, but its delegation does not list.
    let mut wrong_key = standard_roles();
    wrong_key.get_mut("bins-2").unwrap().1 = ROOT;
    out.push((
        "delegated-signature",
        assemble(&wrong_key, Generation::default()),
    ));

    // Snapshot 1 listed retired.json; snapshot 2 drops it.
    let mut dropped = assemble(
        &standard_roles(),
        Generation {
            tweak_snapshot: |s| s["meta"]["retired.json"] = json!({"version": 1}),
            ..Generation::default()
        },
    );
    dropped.extend(assemble(
        &standard_roles(),
        Generation {
            snapshot_version: 2,
            ..Generation::default()
        },
    ));
    out.push(("snapshot-dropped", dropped));

    // Every bin delegates back to all four bins.
    let mut cyclic = standard_roles();
    let back = classic_bins(&quarters());
    for i in 0..4 {
        cyclic.get_mut(&format!("bins-{i}")).unwrap().0["delegations"] = back.clone();
    }
    out.push(("cyclic", assemble(&cyclic, Generation::default())));

    out.push((
        "other-root",
        Files::from([(
            "1.root.json".to_string(),
            sign(root(1, OTHER_ROOT, OTHER_ONLINE), &[&sk(OTHER_ROOT)]),
        )]),
    ));
    out
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check")
}

fn read_case(case: &str) -> HashMap<String, Vec<u8>> {
    std::fs::read_dir(fixture_dir().join(case))
        .unwrap_or_else(|e| panic!("fixture {case}: {e}"))
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn check_fixtures_are_what_the_generator_makes() {
    let bless = std::env::var_os("RSTUF_FIXTURES_BLESS").is_some();
    for (case, files) in cases() {
        let dir = fixture_dir().join(case);
        let made: HashMap<String, Vec<u8>> = files
            .iter()
            .map(|(n, d)| (n.clone(), file_bytes(d)))
            .collect();
        if bless {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, bytes) in &made {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
            continue;
        }
        assert!(
            read_case(case) == made,
            "{case}: the checked-in fixture differs from what repo_check/fixtures.rs makes \
             (regenerate with RSTUF_FIXTURES_BLESS=1)"
        );
    }
}

fn args(root_case: &str, location: String, at: Option<&str>) -> CheckArgs {
    CheckArgs {
        root: fixture_dir().join(root_case).join("1.root.json"),
        location,
        warn_days: 14,
        at: at.map(str::to_string),
        strict: false,
    }
}

fn codes(report: &Report, severity: Severity) -> BTreeSet<String> {
    report
        .findings
        .iter()
        .filter(|f| f.severity == severity)
        .map(|f| {
            serde_json::to_value(f.code)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// What checking one case must find.
struct Case {
    dir: &'static str,
    /// The case whose `1.root.json` is trusted.
    root: &'static str,
    at: Option<&'static str>,
    errors: &'static [&'static str],
    warnings: &'static [&'static str],
    notes: &'static [&'static str],
    /// The file every error and warning names (`None`: several).
    file: Option<&'static str>,
}

const fn case(
    dir: &'static str,
    errors: &'static [&'static str],
    file: Option<&'static str>,
) -> Case {
    Case {
        dir,
        root: dir,
        at: None,
        errors,
        warnings: &[],
        notes: &[],
        file,
    }
}

const CASES: &[Case] = &[
    case("good", &[], None),
    case("not-consistent", &[], None),
    Case {
        warnings: &["client-layout"],
        ..case("succinct", &[], Some("1.targets.json"))
    },
    case("unreadable", &["unreadable"], Some("timestamp.json")),
    case(
        "root-chain",
        &["root-chain", "signatures"],
        Some("2.root.json"),
    ),
    case("signatures", &["signatures"], Some("1.snapshot.json")),
    case(
        "delegated-signature",
        &["signatures"],
        Some("1.bins-2.json"),
    ),
    case("keyid", &["keyid"], Some("1.root.json")),
    Case {
        warnings: &["keyid"],
        ..case("keyid-securesystemslib", &[], Some("1.root.json"))
    },
    case("version", &["version"], Some("2.snapshot.json")),
    case("snapshot-dropped", &["version"], Some("2.snapshot.json")),
    case(
        "snapshot-mismatch",
        &["snapshot-mismatch"],
        Some("1.bins-2.json"),
    ),
    case("missing", &["missing"], Some("1.bins-3.json")),
    case("not-in-snapshot", &["not-in-snapshot"], Some("bins-1.json")),
    Case {
        notes: &["unreferenced"],
        ..case("unreferenced", &[], None)
    },
    case("bins-coverage", &["bins-coverage"], Some("1.targets.json")),
    case("expired", &["expired"], Some("1.bins-1.json")),
    Case {
        at: Some(WEEK_BEFORE_SOON),
        warnings: &["expires-soon"],
        ..case("expires-soon", &[], Some("1.offline-role.json"))
    },
    Case {
        warnings: &["client-limit"],
        ..case("client-limit", &[], Some("timestamp.json"))
    },
    Case {
        notes: &["redelegated"],
        ..case("cyclic", &[], None)
    },
    Case {
        root: "other-root",
        ..case("good", &["signatures", "trusted-root"], None)
    },
];

fn set(codes: &[&str]) -> BTreeSet<String> {
    codes.iter().map(|c| c.to_string()).collect()
}

/// `report` has exactly what `case` expects.
fn assert_case(case: &Case, report: &Report) {
    let shown = serde_json::to_string_pretty(&report.findings).unwrap();
    let dir = case.dir;
    assert_eq!(
        codes(report, Severity::Error),
        set(case.errors),
        "{dir}: {shown}"
    );
    assert_eq!(
        codes(report, Severity::Warning),
        set(case.warnings),
        "{dir}: {shown}"
    );
    assert_eq!(
        codes(report, Severity::Note),
        set(case.notes),
        "{dir}: {shown}"
    );
    if let Some(file) = case.file {
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Note)
        {
            if f.file == "python-tuf" || f.file == "tough" {
                continue;
            }
            assert_eq!(f.file, file, "{dir}: {shown}");
        }
    }
    assert_eq!(report.ok, case.errors.is_empty(), "{dir}");
}

#[tokio::test]
async fn each_broken_fixture_gives_exactly_its_finding_from_a_directory() {
    for case in CASES {
        let location = fixture_dir().join(case.dir).to_string_lossy().into_owned();
        let report = run(&args(case.root, location, case.at)).await.unwrap();
        assert_case(case, &report);
    }
}

#[tokio::test]
async fn each_broken_fixture_gives_exactly_its_finding_over_http() {
    for case in CASES {
        let url = serve(Arc::new(Mutex::new(read_case(case.dir))));
        let report = run(&args(case.root, url, case.at)).await.unwrap();
        assert_case(case, &report);
    }
}

#[tokio::test]
async fn findings_name_the_file_and_what_to_do() {
    let check = |case: &'static str, at: Option<&'static str>| async move {
        let location = fixture_dir().join(case).to_string_lossy().into_owned();
        run(&args(case, location, at)).await.unwrap()
    };
    let report = check("bins-coverage", None).await;
    let messages: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("starts with 4 are in both bins-0 and bins-1")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("starts with f have no bin")),
        "{messages:?}"
    );

    let report = check("expires-soon", Some(WEEK_BEFORE_SOON)).await;
    let soon = report
        .findings
        .iter()
        .find(|f| f.code == Code::ExpiresSoon)
        .unwrap();
    assert_eq!(soon.file, "1.offline-role.json");
    assert!(soon.message.contains("in 7.0 days"), "{}", soon.message);

    let report = check("succinct", None).await;
    let tough = report.clients.iter().find(|c| c.client == "tough").unwrap();
    assert!(!tough.reads);
    assert!(
        tough.problems[0].contains("succinct_roles"),
        "{:?}",
        tough.problems
    );
    assert!(report
        .clients
        .iter()
        .any(|c| c.client == "python-tuf" && c.reads));

    let report = check("client-limit", None).await;
    let py = report
        .clients
        .iter()
        .find(|c| c.client == "python-tuf")
        .unwrap();
    assert!(
        !py.reads && py.problems[0].contains("timestamp.json"),
        "{:?}",
        py.problems
    );
    assert!(report
        .clients
        .iter()
        .any(|c| c.client == "tough" && c.reads));

    let report = check("version", None).await;
    let v = report
        .findings
        .iter()
        .find(|f| f.code == Code::Version)
        .unwrap();
    assert!(
        v.message
            .contains("snapshot 2 lists bins-0.json at version 1, but snapshot 1 listed version 2"),
        "{}",
        v.message
    );
    assert_eq!(report.checked.snapshot_generations, 1);
}

#[tokio::test]
async fn bad_arguments_are_usage_errors_and_an_unreachable_server_is_exit_3() {
    let good = fixture_dir().join("good").to_string_lossy().into_owned();
    let mut a = args("good", good.clone(), Some("yesterday"));
    let err = run(&a).await.err().unwrap();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("--at 'yesterday'"), "{err}");
    a.at = None;
    a.root = fixture_dir().join("good/1.snapshot.json");
    let err = run(&a).await.err().unwrap();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("is not root metadata"), "{err}");
    a.root = fixture_dir().join("good/no-such-file.json");
    assert_eq!(run(&a).await.err().unwrap().exit_code(), 1);
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = args("good", format!("http://127.0.0.1:{port}/metadata"), None);
    let err = run(&unreachable).await.err().unwrap();
    assert_eq!(err.exit_code(), 3);
    assert!(err.to_string().contains("cannot reach"), "{err}");
}

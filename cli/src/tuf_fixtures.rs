//! Bad-metadata fixture repositories for the TUF client's tests, checked
//! in under `cli/tests/fixtures/repositories/<case>/` so that any client
//! (python-tuf, tough, ours) can be run against the same files.
//!
//! They are made here, deterministically (fixed Ed25519 seeds; Ed25519
//! signatures are deterministic), and a test checks the checked-in files
//! are exactly what this code makes: regenerate with
//! `RSTUF_FIXTURES_BLESS=1 cargo test -p rstuf-cli fixture`. Each case is
//! then served over HTTP and the client must refuse it with a named error
//! (or, for the good cases, accept it).

use crate::tuf_client::Repo;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const FAR: &str = "2099-01-01T00:00:00Z";
const PAST: &str = "2020-01-01T00:00:00Z";

pub(crate) fn sk(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub(crate) fn public(sk: &SigningKey) -> Value {
    json!({"keytype": "ed25519", "scheme": "ed25519",
           "keyval": {"public": hex::encode(sk.verifying_key().as_bytes())}})
}

pub(crate) fn keyid(sk: &SigningKey) -> String {
    rstuf_tuf::keys::Key::from_value(&public(sk))
        .unwrap()
        .keyid()
}

/// `signed` with one signature per `(keyid, key)`.
pub(crate) fn sign_as(signed: Value, by: &[(String, &SigningKey)]) -> Value {
    let bytes = rstuf_tuf::canonical::to_canonical_vec(&signed).unwrap();
    let signatures: Vec<Value> = by
        .iter()
        .map(|(id, k)| json!({"keyid": id, "sig": hex::encode(k.sign(&bytes).to_bytes())}))
        .collect();
    json!({"signatures": signatures, "signed": signed})
}

pub(crate) fn sign(signed: Value, by: &[&SigningKey]) -> Value {
    let by: Vec<(String, &SigningKey)> = by.iter().map(|k| (keyid(k), *k)).collect();
    sign_as(signed, &by)
}

fn root_signed(version: u64, root_key: &SigningKey, online: &SigningKey) -> Value {
    let (r, o) = (keyid(root_key), keyid(online));
    json!({"_type": "root", "spec_version": "1.0.31", "version": version, "expires": FAR,
           "consistent_snapshot": true,
           "keys": {r.clone(): public(root_key), o.clone(): public(online)},
           "roles": {"root": {"keyids": [r], "threshold": 1},
                     "targets": {"keyids": [o], "threshold": 1},
                     "snapshot": {"keyids": [o], "threshold": 1},
                     "timestamp": {"keyids": [o], "threshold": 1}}})
}

/// One repository: file name → document.
type Files = BTreeMap<String, Value>;

/// A good repository at `version` of timestamp and snapshot, listing
/// `a.txt`, with timestamp expiring at `ts_expires`.
fn repository(version: u64, ts_expires: &str) -> Files {
    let (root, online) = (sk(1), sk(2));
    let info = json!({"length": 5, "hashes": {"sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"hello"))}});
    let targets = json!({"_type": "targets", "spec_version": "1.0.31", "version": 1,
                         "expires": FAR, "targets": {"a.txt": info}});
    let snapshot = json!({"_type": "snapshot", "spec_version": "1.0.31", "version": version,
                          "expires": FAR, "meta": {"targets.json": {"version": 1}}});
    let timestamp = json!({"_type": "timestamp", "spec_version": "1.0.31", "version": version,
                           "expires": ts_expires, "meta": {"snapshot.json": {"version": version}}});
    Files::from([
        (
            "1.root.json".into(),
            sign(root_signed(1, &root, &online), &[&root]),
        ),
        ("1.targets.json".into(), sign(targets, &[&online])),
        (
            format!("{version}.snapshot.json"),
            sign(snapshot, &[&online]),
        ),
        ("timestamp.json".into(), sign(timestamp, &[&online])),
    ])
}

/// A repository whose `2.root.json` is `next` signed by `by`.
fn with_root_2(next: Value, by: &[(String, &SigningKey)]) -> Files {
    let mut files = repository(1, FAR);
    files.insert("2.root.json".into(), sign_as(next, by));
    files
}

/// Every case: its directory (`rollback` has two steps) and files.
pub fn cases() -> Vec<(String, Files)> {
    let (root, online, new_root) = (sk(1), sk(2), sk(3));
    let r = || (keyid(&root), &root);
    let mut out: Vec<(String, Files)> = vec![
        ("good".into(), repository(1, FAR)),
        ("expired".into(), repository(1, PAST)),
    ];

    let mut dup = repository(1, FAR);
    let ts = dup.get_mut("timestamp.json").unwrap();
    let first = ts["signatures"][0].clone();
    ts["signatures"].as_array_mut().unwrap().push(first);
    out.push(("duplicate-signatures".into(), dup));

    let mut zero = root_signed(2, &root, &online);
    zero["roles"]["timestamp"]["threshold"] = json!(0);
    out.push(("threshold-zero".into(), with_root_2(zero, &[r()])));

    let mut dup_ids = root_signed(2, &root, &online);
    dup_ids["roles"]["root"]["keyids"] = json!([keyid(&root), keyid(&root)]);
    out.push(("duplicate-keyids".into(), with_root_2(dup_ids, &[r()])));

    // The root key listed again under a keyid that is not its hash, to
    // reach a threshold of 2 with one key.
    let fake = "f".repeat(64);
    let mut mismatched = root_signed(2, &root, &online);
    mismatched["keys"][&fake] = public(&root);
    mismatched["roles"]["root"] = json!({"keyids": [keyid(&root), fake], "threshold": 2});
    out.push((
        "mismatched-keyids".into(),
        with_root_2(mismatched, &[r(), (fake.clone(), &root)]),
    ));

    let rotated = root_signed(2, &new_root, &online);
    out.push((
        "rotated-root".into(),
        with_root_2(rotated.clone(), &[r(), (keyid(&new_root), &new_root)]),
    ));
    out.push((
        "rotated-root-without-old-signature".into(),
        with_root_2(rotated, &[(keyid(&new_root), &new_root)]),
    ));

    out.push(("rollback/before".into(), repository(2, FAR)));
    out.push(("rollback/after".into(), repository(1, FAR)));
    out
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/repositories")
}

pub(crate) fn file_bytes(doc: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(doc).unwrap();
    bytes.push(b'\n');
    bytes
}

/// The checked-in files of `case`.
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

/// Serve the files in `files` (swappable, for the rollback case) under
/// `/metadata/` on loopback; returns the metadata URL.
pub(crate) fn serve(files: Arc<Mutex<HashMap<String, Vec<u8>>>>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                    break;
                }
            }
            let name = line
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.rsplit('/').next())
                .unwrap_or("")
                .to_string();
            let body = files.lock().unwrap().get(&name).cloned();
            let response = match body {
                Some(body) => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(&body);
                    r
                }
                None => b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    format!("http://{addr}/metadata")
}

#[test]
fn fixture_repositories_are_what_the_generator_makes() {
    let bless = std::env::var_os("RSTUF_FIXTURES_BLESS").is_some();
    for (case, files) in cases() {
        let dir = fixture_dir().join(&case);
        if bless {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, doc) in &files {
                std::fs::write(dir.join(name), file_bytes(doc)).unwrap();
            }
            continue;
        }
        let on_disk = read_case(&case);
        let made: HashMap<String, Vec<u8>> = files
            .iter()
            .map(|(n, d)| (n.clone(), file_bytes(d)))
            .collect();
        assert!(
            on_disk == made,
            "{case}: the checked-in fixture differs from what tuf_fixtures.rs makes \
             (regenerate with RSTUF_FIXTURES_BLESS=1)"
        );
    }
}

/// Refresh against `case` with its `1.root.json` pinned, and look up
/// `a.txt`.
async fn run(case: &str) -> Result<(u64, bool), String> {
    let files = Arc::new(Mutex::new(read_case(case)));
    let url = serve(files.clone());
    let state = tempfile::tempdir().unwrap();
    let repo = Repo::new(&url, state.path()).unwrap();
    let pinned: Value = serde_json::from_slice(&files.lock().unwrap()["1.root.json"]).unwrap();
    let trusted = repo
        .refresh(Some(pinned))
        .await
        .map_err(|e| e.to_string())?;
    let found = repo
        .find(&trusted, "a.txt")
        .await
        .map_err(|e| e.to_string())?;
    Ok((trusted.root.version(), found.is_some()))
}

#[tokio::test]
async fn the_client_refuses_each_bad_fixture_with_a_named_error() {
    assert_eq!(run("good").await, Ok((1, true)));
    assert_eq!(run("rotated-root").await, Ok((2, true)));
    for (case, expected) in [
        ("expired", "timestamp.json expired at"),
        (
            "duplicate-signatures",
            "multiple signatures found for keyid",
        ),
        ("threshold-zero", "threshold must be > 0"),
        ("duplicate-keyids", "nonunique keyids"),
        (
            "mismatched-keyids",
            "is not signed by the threshold of version 1 and of itself",
        ),
        (
            "rotated-root-without-old-signature",
            "is not signed by the threshold of version 1 and of itself",
        ),
    ] {
        let err = run(case).await.expect_err(case);
        assert!(err.contains(expected), "{case}: {err}");
    }
}

#[tokio::test]
async fn a_rolled_back_timestamp_is_refused() {
    let files = Arc::new(Mutex::new(read_case("rollback/before")));
    let url = serve(files.clone());
    let state = tempfile::tempdir().unwrap();
    let repo = Repo::new(&url, state.path()).unwrap();
    let pinned: Value = serde_json::from_slice(&files.lock().unwrap()["1.root.json"]).unwrap();
    let trusted = repo.refresh(Some(pinned.clone())).await.unwrap();
    assert_eq!(trusted.timestamp.version(), 2);
    *files.lock().unwrap() = read_case("rollback/after");
    let err = repo.refresh(Some(pinned)).await.err().unwrap().to_string();
    assert!(
        err.contains("timestamp.json rolled back from version 2 to 1"),
        "{err}"
    );
}

/// A root given again never replaces the trust the client holds: the same
/// root is fine, another repository's root of the same version or any
/// newer root given by hand is refused (new roots come only through the
/// repository, each signed by the last).
#[tokio::test]
async fn a_given_root_never_replaces_cached_trust() {
    let files = Arc::new(Mutex::new(read_case("good")));
    let url = serve(files.clone());
    let state = tempfile::tempdir().unwrap();
    let repo = Repo::new(&url, state.path()).unwrap();
    let pinned: Value = serde_json::from_slice(&files.lock().unwrap()["1.root.json"]).unwrap();
    repo.refresh(Some(pinned.clone())).await.unwrap();
    repo.refresh(Some(pinned)).await.unwrap();
    repo.refresh(None).await.unwrap();

    let other_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check/other-root");
    let other: Value =
        serde_json::from_slice(&std::fs::read(other_dir.join("1.root.json")).unwrap()).unwrap();
    let err = repo.refresh(Some(other)).await.err().unwrap().to_string();
    assert!(err.contains("is not the trusted root version 1"), "{err}");

    let rotated = read_case("rotated-root");
    let newer: Value = serde_json::from_slice(&rotated["2.root.json"]).unwrap();
    let err = repo.refresh(Some(newer)).await.err().unwrap().to_string();
    assert!(
        err.contains("moves to newer roots only through the repository"),
        "{err}"
    );
}

//! `rstuf repo check` against real repositories: what our service
//! publishes (succinct and classic bins, several generations, a root
//! rotation with a new online key), over HTTP and from storage-fs's
//! directory; a repository written by python-tuf's own repository tooling;
//! and the built binary's exit codes and `--json` on the checked-in broken
//! fixtures and an unreachable server.

use rstuf_tests::cli::{p, rstuf, Run};
use rstuf_tests::service::{artifact, python_script_async, start, TestService};
use rstuf_tests::workspace_root;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

async fn check(svc: &TestService, args: &[&str]) -> (Run, Value) {
    let mut all = vec!["repo", "check", "--json"];
    all.extend(args);
    let run = rstuf(svc, &all).await;
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}{}", run.stdout, run.stderr));
    (run, report)
}

fn codes(report: &Value, severity: &str) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == severity)
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn set(codes: &[&str]) -> BTreeSet<String> {
    codes.iter().map(|c| c.to_string()).collect()
}

fn reads(report: &Value, client: &str) -> bool {
    report["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client"] == client)
        .unwrap()["reads"]
        .as_bool()
        .unwrap()
}

async fn add(svc: &TestService, from: usize, count: usize) {
    let artifacts: Vec<Value> = (from..from + count)
        .map(|i| artifact(&format!("pkg/{i}/file-{i}.tar.gz"), 100 + i as u64))
        .collect();
    svc.run("/api/v1/artifacts/", &json!({ "artifacts": artifacts }))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_our_service_publishes_passes_over_http_and_from_its_directory() {
    let svc = start().await;
    let payload = svc.ceremony(&[]);
    svc.run("/api/v1/bootstrap/", &payload).await;
    for round in 0..3 {
        add(&svc, round * 20, 20).await;
    }
    // Root v2 with a new online key: every later role is signed by it.
    let current = svc.trusted_root().await;
    let first_root = svc.work().join("1.root.json");
    std::fs::copy(&current, &first_root).unwrap();
    let update = svc.ceremony(&["--from-root", p(&current), "--new-online-key"]);
    svc.run("/api/v1/metadata/", &update).await;
    add(&svc, 60, 5).await;

    let (run, over_http) = check(&svc, &["--root", p(&first_root), &svc.metadata_url()]).await;
    assert_eq!(run.code, 0, "{over_http:#}");
    assert_eq!(over_http["ok"], true);
    assert_eq!(codes(&over_http, "error"), set(&[]), "{over_http:#}");
    // Upstream's layout is succinct bins, which tough cannot read.
    assert_eq!(
        codes(&over_http, "warning"),
        set(&["client-layout"]),
        "{over_http:#}"
    );
    assert!(reads(&over_http, "python-tuf") && !reads(&over_http, "tough"));
    let checked = &over_http["checked"];
    assert_eq!(checked["root_version"], 2, "{checked}");
    // targets + 16 bins.
    assert_eq!(checked["targets_roles"], 17, "{checked}");
    assert_eq!(
        checked["snapshot_generations"], 1,
        "over HTTP: the previous snapshot"
    );

    let dir = svc.metadata_dir();
    let (run, from_dir) = check(&svc, &["--root", p(&first_root), p(&dir)]).await;
    assert_eq!(run.code, 0, "{from_dir:#}");
    assert_eq!(codes(&from_dir, "error"), set(&[]), "{from_dir:#}");
    let generations = from_dir["checked"]["snapshot_generations"]
        .as_u64()
        .unwrap();
    assert!(
        generations >= 4,
        "every older snapshot compared: {generations}"
    );

    // The same repository with one published bin altered after signing:
    // the check names the file whose signature no longer verifies.
    let snapshot_version = from_dir["checked"]["snapshot_version"].as_u64().unwrap();
    let snapshot: Value = serde_json::from_slice(
        &std::fs::read(dir.join(format!("{snapshot_version}.snapshot.json"))).unwrap(),
    )
    .unwrap();
    let (entry, meta) = snapshot["signed"]["meta"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(name, _)| name.starts_with("bins-"))
        .unwrap();
    let bin_file = dir.join(format!("{}.{entry}", meta["version"]));
    let mut bin: Value = serde_json::from_slice(&std::fs::read(&bin_file).unwrap()).unwrap();
    bin["signed"]["targets"]["smuggled.tar.gz"] = artifact("smuggled.tar.gz", 1)["info"].clone();
    std::fs::write(&bin_file, serde_json::to_vec(&bin).unwrap()).unwrap();
    let (run, tampered) = check(&svc, &["--root", p(&first_root), p(&dir)]).await;
    assert_eq!(run.code, 5, "{tampered:#}");
    let finding = tampered["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "signatures" && f["severity"] == "error")
        .unwrap_or_else(|| panic!("{tampered:#}"));
    assert_eq!(
        finding["file"],
        bin_file.file_name().unwrap().to_str().unwrap()
    );
    svc.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_classic_bins_repository_is_readable_by_both_clients() {
    let svc = start().await;
    let payload = svc.ceremony(&["--layout", "classic", "--bins", "64"]);
    svc.run("/api/v1/bootstrap/", &payload).await;
    add(&svc, 0, 30).await;
    let root = svc.trusted_root().await;
    let (run, report) = check(&svc, &["--strict", "--root", p(&root), &svc.metadata_url()]).await;
    assert_eq!(run.code, 0, "{report:#}");
    assert_eq!(report["findings"], json!([]), "{report:#}");
    assert!(reads(&report, "python-tuf") && reads(&report, "tough"));
    assert_eq!(report["checked"]["targets_roles"], 65);
    svc.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_written_by_python_tuf_passes() {
    let svc = start().await;
    let out = tempfile::tempdir().unwrap();
    let printed = python_script_async("python_tuf_repo.py", &[p(out.path())]).await;
    let paths: Vec<String> = serde_json::from_str(printed.trim()).unwrap();
    assert_eq!(paths.len(), 19);
    let root = out.path().join("1.root.json");
    let (run, report) = check(&svc, &["--strict", "--root", p(&root), p(out.path())]).await;
    assert_eq!(run.code, 0, "{report:#}");
    assert_eq!(report["findings"], json!([]), "{report:#}");
    let checked = &report["checked"];
    assert_eq!(checked["root_version"], 2, "the rotation is followed");
    assert_eq!(checked["snapshot_version"], 2);
    assert_eq!(checked["snapshot_generations"], 1);
    // targets + docs + 16 bins.
    assert_eq!(checked["targets_roles"], 18, "{checked}");
    assert!(reads(&report, "tough"), "classic bins: tough reads it");

    // Starting from a root of another repository: named, exit 5.
    let other = workspace_root().join("cli/tests/fixtures/check/other-root/1.root.json");
    let (run, report) = check(&svc, &["--root", p(&other), p(out.path())]).await;
    assert_eq!(run.code, 5);
    assert!(
        codes(&report, "error").contains("trusted-root"),
        "{report:#}"
    );
    svc.service.shutdown().await;
}

fn fixture(case: &str) -> String {
    workspace_root()
        .join("cli/tests/fixtures/check")
        .join(case)
        .display()
        .to_string()
}

fn fixture_root(case: &str) -> String {
    Path::new(&fixture(case))
        .join("1.root.json")
        .display()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reports_findings_with_exit_codes_and_json() {
    let svc = start().await;
    // A broken fixture: one JSON document, exit 5.
    let (run, report) = check(
        &svc,
        &[
            "--root",
            &fixture_root("bins-coverage"),
            &fixture("bins-coverage"),
        ],
    )
    .await;
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert_eq!(report["ok"], false);
    assert_eq!(codes(&report, "error"), set(&["bins-coverage"]));

    // Warnings pass, unless --strict.
    let succinct = [fixture_root("succinct"), fixture("succinct")];
    let (run, _) = check(&svc, &["--root", &succinct[0], &succinct[1]]).await;
    assert_eq!(run.code, 0);
    let (run, report) = check(&svc, &["--strict", "--root", &succinct[0], &succinct[1]]).await;
    assert_eq!(run.code, 5);
    assert_eq!(report["ok"], false);

    // Text for people: the table and the verdict.
    let run = rstuf(
        &svc,
        &[
            "repo",
            "check",
            "--root",
            &fixture_root("expired"),
            &fixture("expired"),
        ],
    )
    .await;
    assert_eq!(run.code, 5);
    assert!(run.stdout.contains("ERROR"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("1.bins-1.json expired at 2020-01-01T00:00:00Z"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Repository check failed: 1 errors"),
        "{}",
        run.stdout
    );
    let run = rstuf(
        &svc,
        &[
            "repo",
            "check",
            "--root",
            &fixture_root("good"),
            &fixture("good"),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("Repository OK: 0 errors, 0 warnings"),
        "{}",
        run.stdout
    );

    // Unreachable server: exit 3 with the reason; a bad location or
    // setting: exit 2.
    let port = rstuf_tests::servers::free_ports(1)[0];
    let url = format!("http://127.0.0.1:{port}/metadata");
    let run = rstuf(
        &svc,
        &[
            "repo",
            "check",
            "--json",
            "--root",
            &fixture_root("good"),
            &url,
        ],
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stdout);
    let error: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("cannot reach"),
        "{error}"
    );
    let run = rstuf(
        &svc,
        &[
            "repo",
            "check",
            "--root",
            &fixture_root("good"),
            "/no/such/dir",
        ],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("neither an http:// or https:// URL nor a directory"),
        "{}",
        run.stderr
    );
    let run = rstuf(
        &svc,
        &[
            "repo",
            "check",
            "--warn-days",
            "-3",
            "--root",
            &fixture_root("good"),
            &fixture("good"),
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    svc.service.shutdown().await;
}

/// A deleted delegation's snapshot entry stays at its last version: a
/// python-tuf client holding the snapshot from before the deletion still
/// updates (it refuses a snapshot that drops an entry), and the check
/// finds no error in the history, only the entry no delegation reaches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_delegation_keeps_its_snapshot_entry_so_cached_clients_update() {
    let svc = start().await;
    let payload = svc.ceremony(&["--layout", "custom"]);
    svc.run("/api/v1/bootstrap/", &payload).await;
    svc.run(
        "/api/v1/delegations/",
        &json!({ "delegations": { "keys": {}, "roles": [
            { "name": "nightly", "terminating": true, "keyids": [], "threshold": 1,
              "paths": ["nightly/*"], "x-rstuf-expire-policy": 2 }
        ] } }),
    )
    .await;
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("kept.tar.gz", 7)] }),
    )
    .await;
    let cache = svc.work().join("client-cache");
    svc.verify_cached(&["kept.tar.gz"], &cache).await;

    svc.run(
        "/api/v1/delegations/delete",
        &json!({ "delegations": { "roles": [{ "name": "nightly" }] } }),
    )
    .await;
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("after-delete.tar.gz", 8)] }),
    )
    .await;
    // The client that trusted the snapshot listing nightly.json updates.
    let report = svc
        .verify_cached(&["kept.tar.gz", "after-delete.tar.gz"], &cache)
        .await;
    assert_eq!(report["found"]["after-delete.tar.gz"], 8, "{report}");

    let root = svc.trusted_root().await;
    let (run, checked) = check(&svc, &["--root", p(&root), p(&svc.metadata_dir())]).await;
    assert_eq!(run.code, 0, "{checked:#}");
    assert_eq!(codes(&checked, "error"), set(&[]), "{checked:#}");
    let note = checked["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "unreferenced")
        .unwrap_or_else(|| panic!("{checked:#}"));
    assert_eq!(note["file"], "nightly.json");
    svc.service.shutdown().await;
}

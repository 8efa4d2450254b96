//! The `tough` Rust client reads a classic hash-bin repository (it cannot
//! read TAP 15 `succinct_roles`, which is why the classic layout exists):
//! it verifies root → timestamp → snapshot → targets → every bin, and
//! resolves each added artifact with the length and hashes we stored.

use rstuf_tests::service::{artifact, start};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tough_loads_a_classic_bins_repository_and_resolves_targets() {
    let svc = start().await;
    let payload = svc.ceremony(&["--layout", "classic", "--bins", "64"]);
    svc.run("/api/v1/bootstrap/", &payload).await;
    let paths: Vec<String> = (0..40)
        .map(|i| format!("pkg/{i}/file-{i}.tar.gz"))
        .collect();
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": paths.iter().enumerate().map(|(i, p)| artifact(p, 100 + i as u64)).collect::<Vec<_>>() }),
    )
    .await;
    svc.run(
        "/api/v1/artifacts/delete",
        &json!({ "artifacts": [paths[0].clone()] }),
    )
    .await;

    let metadata_dir = svc.dir.path().join("data/metadata");
    let root = std::fs::read(metadata_dir.join("1.root.json")).unwrap();
    let base = url::Url::from_directory_path(&metadata_dir).unwrap();
    let repo = tough::RepositoryLoader::new(&root, base.clone(), base)
        .load()
        .await
        .expect("tough verifies the repository");
    assert_eq!(repo.root().signed.version.get(), 1);
    let found: std::collections::BTreeMap<String, u64> = repo
        .all_targets()
        .map(|(name, t)| (name.raw().to_string(), t.length))
        .collect();
    assert!(
        !found.contains_key(&paths[0]),
        "removed artifact still listed"
    );
    for (i, p) in paths.iter().enumerate().skip(1) {
        assert_eq!(found.get(p), Some(&(100 + i as u64)), "{p} not resolved");
    }
    assert_eq!(found.len(), paths.len() - 1);
    svc.service.shutdown().await;
}

//! The sandbox and the loader's error messages, exercised with a deliberately
//! hostile plugin (`plugins/testbed`) and with files that are not plugins.

use rstuf_plugins::{Grants, PluginError, PluginKind, PluginSpec};
use rstuf_tests::{plugin_file, runtime, storage_fs_spec};
use std::path::Path;
use std::time::{Duration, Instant};

fn testbed(mode: &str, grants: Grants) -> PluginSpec {
    PluginSpec {
        name: format!("testbed-{mode}"),
        kind: PluginKind::Storage,
        file: plugin_file("testbed"),
        config: serde_json::json!({ "mode": mode }),
        grants,
    }
}

/// The host still serves a well-behaved plugin after a hostile one failed.
async fn host_still_serves() {
    let dir = tempfile::tempdir().unwrap();
    let storage = runtime()
        .load_storage(&storage_fs_spec(dir.path()))
        .await
        .unwrap();
    storage.put("alive.json", b"1").await.unwrap();
    let ok = runtime()
        .load_storage(&testbed("ok", Grants::default()))
        .await
        .unwrap();
    assert_eq!(ok.get("x").await.unwrap().as_deref(), Some(&b"ok"[..]));
}

#[tokio::test]
async fn reading_outside_the_granted_directory_is_refused() {
    let granted = tempfile::tempdir().unwrap();
    std::fs::write(granted.path().join("inside.txt"), b"inside").unwrap();
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), b"host secret").unwrap();

    let mut grants = storage_fs_spec(granted.path()).grants;
    grants.dirs[0].read_only = true;
    let plugin = runtime()
        .load_storage(&testbed("escape", grants))
        .await
        .unwrap();

    // Inside the grant: allowed.
    assert_eq!(
        plugin.get("/data/inside.txt").await.unwrap().as_deref(),
        Some(&b"inside"[..])
    );
    // Everything else: an absolute host path, a traversal out of the grant,
    // a symlink-free path the host can read.
    let host_path = secret.path().to_str().unwrap().to_string();
    for target in [
        host_path.as_str(),
        "/etc/passwd",
        "/data/../etc/passwd",
        "../../../../etc/passwd",
    ] {
        match plugin.get(target).await {
            Err(e) => assert!(e.to_string().contains("testbed-escape"), "{e}"),
            Ok(bytes) => panic!("plugin read {target} outside its grant: {bytes:?}"),
        }
    }
    host_still_serves().await;
}

#[tokio::test]
async fn unbounded_allocation_hits_the_memory_cap() {
    let grants = Grants {
        memory_mib: 32,
        ..Grants::default()
    };
    let plugin = runtime()
        .load_storage(&testbed("alloc", grants))
        .await
        .unwrap();
    let err = plugin.get("x").await.unwrap_err();
    assert!(
        matches!(err, PluginError::MemoryLimit { limit_mib: 32, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("memory limit of 32 MiB"), "{err}");
    // The failed instance was discarded; the next call gets a fresh one and
    // fails the same clean way instead of hanging or crashing the host.
    let again = plugin.get("x").await.unwrap_err();
    assert!(matches!(again, PluginError::MemoryLimit { .. }), "{again}");
    host_still_serves().await;
}

#[tokio::test]
async fn an_endless_loop_is_interrupted_and_does_not_block_other_work() {
    let grants = Grants {
        cpu_ms: 300,
        ..Grants::default()
    };
    let plugin = runtime()
        .load_storage(&testbed("spin", grants))
        .await
        .unwrap();
    let started = Instant::now();
    let spinning = tokio::spawn({
        let plugin = plugin.clone();
        async move { plugin.get("x").await }
    });
    // While it spins, other plugin calls on the same runtime complete.
    host_still_serves().await;
    let err = spinning.await.unwrap().unwrap_err();
    assert!(
        matches!(err, PluginError::CpuLimit { cpu_ms: 300, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("interrupted"), "{err}");
    // Bounded: the budget is 300 ms of execution; allow generous slack for a
    // loaded 2-core CI machine, but never "forever".
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_missing_plugin_file_is_named() {
    let spec = PluginSpec {
        file: "/nonexistent/storage.wasm".into(),
        ..storage_fs_spec(Path::new("/tmp"))
    };
    let err = runtime().load_storage(&spec).await.unwrap_err();
    assert!(matches!(err, PluginError::ReadFile { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("plugin 'storage'") && msg.contains("/nonexistent/storage.wasm"),
        "{msg}"
    );
}

fn spec_for_file(path: &Path) -> PluginSpec {
    PluginSpec {
        file: path.to_path_buf(),
        ..storage_fs_spec(Path::new("/tmp"))
    }
}

#[tokio::test]
async fn files_that_are_not_components_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();

    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"this is not webassembly at all").unwrap();
    let err = runtime()
        .load_storage(&spec_for_file(&junk))
        .await
        .unwrap_err();
    assert!(matches!(err, PluginError::NotAComponent { .. }), "{err}");
    assert!(err.to_string().contains("magic bytes"), "{err}");

    let core = dir.path().join("core.wasm");
    std::fs::write(
        &core,
        wat::parse_str("(module (func (export \"f\")))").unwrap(),
    )
    .unwrap();
    let err = runtime()
        .load_storage(&spec_for_file(&core))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("core WebAssembly module"), "{err}");

    let truncated = dir.path().join("truncated.wasm");
    let bytes = std::fs::read(plugin_file("storage-fs")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = runtime()
        .load_storage(&spec_for_file(&truncated))
        .await
        .unwrap_err();
    assert!(matches!(err, PluginError::NotAComponent { .. }), "{err}");
}

#[tokio::test]
async fn a_plugin_of_another_kind_or_wit_version_is_refused() {
    // A key-vault component configured as storage.
    let spec = spec_for_file(&plugin_file("keyvault-file"));
    let err = runtime().load_storage(&spec).await.unwrap_err();
    assert!(matches!(err, PluginError::WrongWorld { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("rstuf:plugin/storage@0.1.0"), "{msg}");
    assert!(
        msg.contains("rstuf:plugin/keyvault@0.1.0"),
        "names what it does export: {msg}"
    );

    // A storage component built against a future WIT version.
    let dir = tempfile::tempdir().unwrap();
    let future = dir.path().join("future.wasm");
    let component = r#"
        (component
          (core module $m (func (export "noop")))
          (core instance $i (instantiate $m))
          (func $noop (canon lift (core func $i "noop")))
          (instance $plugin (export "info" (func $noop)))
          (instance $storage (export "put" (func $noop)))
          (export "rstuf:plugin/plugin@0.2.0" (instance $plugin))
          (export "rstuf:plugin/storage@0.2.0" (instance $storage))
        )"#;
    std::fs::write(&future, wat::parse_str(component).unwrap()).unwrap();
    let err = runtime()
        .load_storage(&spec_for_file(&future))
        .await
        .unwrap_err();
    assert!(matches!(err, PluginError::WrongWorld { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("rstuf:plugin/storage@0.2.0") && msg.contains("@0.1.0"),
        "{msg}"
    );
}

/// Cached machine code runs unchecked, so the compile cache is trusted only
/// when nobody else can write it. Planting another plugin's compiled code
/// under storage-fs's cache entry: with the entry writable by others it is
/// ignored (storage-fs is compiled from its .wasm and works); the same
/// plant owned by us alone is used, which shows the check is what stops it.
#[tokio::test]
async fn a_planted_compile_cache_entry_others_can_write_is_not_run() {
    use rstuf_plugins::{Runtime, RuntimeOptions};
    use std::os::unix::fs::PermissionsExt;
    let cache = tempfile::tempdir().unwrap();
    let fresh = || {
        Runtime::new(RuntimeOptions {
            cache_dir: Some(cache.path().to_path_buf()),
            ..Default::default()
        })
        .unwrap()
    };
    let entries = || -> std::collections::BTreeSet<std::path::PathBuf> {
        std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    let data = tempfile::tempdir().unwrap();
    fresh()
        .load_storage(&storage_fs_spec(data.path()))
        .await
        .unwrap();
    let storage_entry = entries().into_iter().next().expect("storage-fs was cached");
    fresh()
        .load_storage(&testbed("ok", Grants::default()))
        .await
        .unwrap();
    let other_entry = entries()
        .into_iter()
        .find(|p| *p != storage_entry)
        .expect("testbed was cached");
    let mode = std::fs::metadata(&storage_entry)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "cache entries are private: {mode:o}");

    std::fs::copy(&other_entry, &storage_entry).unwrap();
    std::fs::set_permissions(&storage_entry, std::fs::Permissions::from_mode(0o666)).unwrap();
    let storage = fresh()
        .load_storage(&storage_fs_spec(data.path()))
        .await
        .expect("the planted entry is ignored and storage-fs compiled from source");
    assert_eq!(storage.info().name, "storage-fs");
    storage.put("x.json", b"1").await.unwrap();
    assert_eq!(std::fs::read(data.path().join("x.json")).unwrap(), b"1");

    // The control: a private entry is trusted, so the plant takes effect.
    std::fs::copy(&other_entry, &storage_entry).unwrap();
    std::fs::set_permissions(&storage_entry, std::fs::Permissions::from_mode(0o600)).unwrap();
    if let Ok(s) = fresh().load_storage(&storage_fs_spec(data.path())).await {
        assert_ne!(s.info().name, "storage-fs", "the cached code was used");
    }
}

//! The storage-fs plugin through the real runtime: the host loads it from a
//! file named by configuration, and swapping the file or the configuration
//! changes the backend without rebuilding anything.

use rstuf_plugins::{BackendErrorKind, PluginError, PluginKind, PluginSpec};
use rstuf_tests::{plugin_file, runtime, storage_fs_spec};

#[tokio::test]
async fn put_get_list_delete_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let storage = runtime()
        .load_storage(&storage_fs_spec(dir.path()))
        .await
        .unwrap();
    assert_eq!(storage.info().name, "storage-fs");

    storage.put("1.root.json", b"{\"a\":1}").await.unwrap();
    storage
        .put_many(&[
            ("1.targets.json".to_string(), b"t1".to_vec()),
            ("2.targets.json".to_string(), b"t2".to_vec()),
            ("timestamp.json".to_string(), b"ts".to_vec()),
        ])
        .await
        .unwrap();
    assert_eq!(
        storage.get("1.root.json").await.unwrap().as_deref(),
        Some(&b"{\"a\":1}"[..])
    );
    assert_eq!(storage.get("missing.json").await.unwrap(), None);
    // The file really is on the host, where the grant put it.
    assert_eq!(
        std::fs::read(dir.path().join("2.targets.json")).unwrap(),
        b"t2"
    );

    let listed: Vec<String> = storage
        .list_objects("")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(
        listed,
        [
            "1.root.json",
            "1.targets.json",
            "2.targets.json",
            "timestamp.json"
        ]
    );
    let root_only = storage.list_objects("1.r").await.unwrap();
    assert_eq!(root_only.len(), 1);
    assert_eq!(root_only[0].size, 7);

    // Overwrite is atomic and leaves no temporary files behind.
    storage.put("timestamp.json", b"ts2").await.unwrap();
    assert_eq!(
        storage.get("timestamp.json").await.unwrap().as_deref(),
        Some(&b"ts2"[..])
    );
    let on_disk: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(on_disk.len(), 4, "no temp files left: {on_disk:?}");

    assert!(storage.delete("1.targets.json").await.unwrap());
    assert!(!storage.delete("1.targets.json").await.unwrap());
}

#[tokio::test]
async fn names_that_escape_the_namespace_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let storage = runtime()
        .load_storage(&storage_fs_spec(dir.path()))
        .await
        .unwrap();
    for bad in [
        "",
        "../x.json",
        "a/b.json",
        "/etc/passwd",
        ".hidden",
        "..",
        "a\0b",
    ] {
        let err = storage.put(bad, b"x").await.unwrap_err();
        assert_eq!(
            err.backend_kind(),
            Some(BackendErrorKind::InvalidInput),
            "{bad:?}: {err}"
        );
        assert!(err.to_string().contains("plugin 'storage'"), "{err}");
    }
    // Still serving after bad input.
    storage.put("ok.json", b"1").await.unwrap();
}

#[tokio::test]
async fn many_tasks_call_one_plugin_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let storage = runtime()
        .load_storage(&storage_fs_spec(dir.path()))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let s = storage.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("{i}.bins-{i:02x}.json");
            s.put(&name, name.as_bytes()).await.unwrap();
            assert_eq!(s.get(&name).await.unwrap().unwrap(), name.as_bytes());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(storage.list_objects("").await.unwrap().len(), 64);
}

/// Objects deleted while a listing runs (retention sweeping beside a
/// status page or `repo check`) never fail the listing: under WASI a
/// vanished entry ends the directory stream with NotFound, and the plugin
/// lists again. Every listing returns, and holds only objects that exist
/// or were just deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_while_objects_are_deleted_never_fails() {
    let dir = tempfile::tempdir().unwrap();
    let storage = runtime()
        .load_storage(&storage_fs_spec(dir.path()))
        .await
        .unwrap();
    let names: Vec<String> = (0..1500).map(|i| format!("{i}.snapshot.json")).collect();
    for n in &names {
        std::fs::write(dir.path().join(n), b"{}").unwrap();
    }
    // Objects nobody deletes appear in every listing.
    let kept: Vec<String> = (0..20).map(|i| format!("{i}.root.json")).collect();
    for n in &kept {
        std::fs::write(dir.path().join(n), b"{}").unwrap();
    }
    let root = dir.path().to_path_buf();
    let deleting = std::thread::spawn(move || {
        for n in names.iter().rev() {
            std::fs::remove_file(root.join(n)).unwrap();
        }
    });
    let mut listings = 0;
    while !deleting.is_finished() {
        let listed = storage
            .list_objects("")
            .await
            .expect("a listing never fails");
        assert!(listed.len() <= 1520);
        for n in &kept {
            assert!(
                listed.iter().any(|o| &o.name == n),
                "{n} missing from a listing"
            );
        }
        listings += 1;
    }
    deleting.join().unwrap();
    assert!(listings > 0);
    assert_eq!(storage.list_objects("").await.unwrap().len(), kept.len());
}

#[tokio::test]
async fn swapping_the_plugin_file_changes_the_backend_without_rebuilding() {
    let data = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let installed = plugins.path().join("storage.wasm");

    // An operator installs storage-fs under a fixed name...
    std::fs::copy(plugin_file("storage-fs"), &installed).unwrap();
    let mut spec = storage_fs_spec(data.path());
    spec.file = installed.clone();
    let fs = runtime().load_storage(&spec).await.unwrap();
    assert_eq!(fs.info().name, "storage-fs");
    assert_eq!(fs.get("nothing.json").await.unwrap(), None);

    // ...then replaces the file with another component (the test backend)
    // and restarts the service with the same host binary.
    std::fs::copy(plugin_file("testbed"), &installed).unwrap();
    spec.config = serde_json::json!({ "mode": "ok" });
    let other = runtime().load_storage(&spec).await.unwrap();
    assert_eq!(other.info().name, "testbed");
    assert_eq!(
        other.get("nothing.json").await.unwrap().as_deref(),
        Some(&b"ok"[..])
    );

    // Or points the configuration at a different file.
    let spec = PluginSpec {
        file: plugin_file("storage-fs"),
        ..storage_fs_spec(data.path())
    };
    let back = runtime().load_storage(&spec).await.unwrap();
    assert_eq!(back.info().name, "storage-fs");
}

#[tokio::test]
async fn invalid_plugin_configuration_is_reported_with_the_plugin_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = storage_fs_spec(dir.path());
    spec.config = serde_json::json!({ "path": "/not-granted" });
    let err = runtime().load_storage(&spec).await.unwrap_err();
    assert!(matches!(err, PluginError::InvalidConfig { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("plugin 'storage'") && msg.contains("path"),
        "{msg}"
    );

    spec.config = serde_json::json!({ "path": 42 });
    let err = runtime().load_storage(&spec).await.unwrap_err();
    assert!(matches!(err, PluginError::InvalidConfig { .. }), "{err}");

    // A grant for a directory that does not exist is refused by the host.
    let mut spec = storage_fs_spec(&dir.path().join("missing"));
    spec.kind = PluginKind::Storage;
    let err = runtime().load_storage(&spec).await.unwrap_err();
    assert!(matches!(err, PluginError::Grant { .. }), "{err}");
    assert!(err.to_string().contains("does not exist"), "{err}");
}

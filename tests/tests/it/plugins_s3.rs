//! The storage-s3 plugin through the real runtime against a real S3 server
//! (SeaweedFS on loopback): round trips, listing with continuation tokens,
//! path- and virtual-host-style addressing, the sandbox's host grant,
//! authentication failures, and an outage.
//! Needs `weed` on PATH (`make setup`); fails, not skips, without it.

use rstuf_plugins::{BackendErrorKind, Storage};
use rstuf_tests::servers::{free_ports, SeaweedFs};
use rstuf_tests::{runtime, storage_s3_spec};
use serde_json::{json, Value};

const BUCKET: &str = "tuf-metadata";

fn config(s3: &SeaweedFs, extra: Value) -> Value {
    let mut c = json!({
        "endpoint": s3.endpoint(),
        "bucket": BUCKET,
        "region": "us-east-1",
        "access_key_id": s3.access_key,
        "secret_access_key": s3.secret_key,
        "path_style": true,
    });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

async fn storage(s3: &SeaweedFs, extra: Value) -> Storage {
    runtime()
        .load_storage(&storage_s3_spec(config(s3, extra), &[s3.authority()]))
        .await
        .unwrap()
}

async fn server() -> SeaweedFs {
    let s3 = SeaweedFs::start().await;
    s3.create_bucket(BUCKET).await;
    s3
}

#[tokio::test]
async fn put_get_list_overwrite_delete_through_the_runtime() {
    let s3 = server().await;
    // Two-object listing pages, so three objects need a continuation token.
    let storage = storage(
        &s3,
        json!({ "prefix": "repo/metadata", "list_page_size": 2 }),
    )
    .await;
    assert_eq!(storage.info().name, "storage-s3");

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
    // Really in the bucket, under the prefix (read past S3, from the filer).
    assert_eq!(
        s3.object(BUCKET, "repo/metadata/2.targets.json")
            .await
            .as_deref(),
        Some(&b"t2"[..])
    );
    assert_eq!(s3.object(BUCKET, "2.targets.json").await, None);

    let listed = storage.list_objects("").await.unwrap();
    let names: Vec<&str> = listed.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "1.root.json",
            "1.targets.json",
            "2.targets.json",
            "timestamp.json"
        ]
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for o in &listed {
        let modified = o.modified.expect("S3 reports LastModified");
        assert!(modified.abs_diff(now) < 600, "{o:?}");
    }
    let targets = storage.list_objects("1.").await.unwrap();
    let sizes: Vec<(String, u64)> = targets.into_iter().map(|o| (o.name, o.size)).collect();
    assert_eq!(
        sizes,
        [
            ("1.root.json".to_string(), 7),
            ("1.targets.json".to_string(), 2)
        ]
    );
    assert!(storage.list_objects("nothing").await.unwrap().is_empty());

    // Overwrite replaces the object whole.
    storage.put("timestamp.json", b"ts2-longer").await.unwrap();
    assert_eq!(
        storage.get("timestamp.json").await.unwrap().as_deref(),
        Some(&b"ts2-longer"[..])
    );
    // Binary data and empty objects survive.
    let binary: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    storage.put("blob.bin", &binary).await.unwrap();
    assert_eq!(storage.get("blob.bin").await.unwrap().unwrap(), binary);
    storage.put("empty.json", b"").await.unwrap();
    assert_eq!(storage.get("empty.json").await.unwrap().unwrap(), b"");

    assert!(storage.delete("1.targets.json").await.unwrap());
    assert!(!storage.delete("1.targets.json").await.unwrap());
    assert_eq!(storage.get("1.targets.json").await.unwrap(), None);
    assert_eq!(storage.list_objects("").await.unwrap().len(), 5);

    // A second store without prefix sees the keys with their prefix as
    // "subdirectories", which a flat namespace does not list.
    let root = self::storage(&s3, json!({})).await;
    assert!(root.list_objects("").await.unwrap().is_empty());
    assert_eq!(
        root.get("timestamp.json").await.unwrap(),
        None,
        "prefix keeps stores apart"
    );
}

#[tokio::test]
async fn concurrent_calls_and_bad_names() {
    let s3 = server().await;
    let storage = storage(&s3, json!({})).await;
    let mut tasks = Vec::new();
    for i in 0..24 {
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
    assert_eq!(storage.list_objects("").await.unwrap().len(), 24);

    for bad in [
        "",
        "..",
        "../x.json",
        "a/b.json",
        "/etc/passwd",
        "a\0b",
        "x\\y",
    ] {
        let err = storage.put(bad, b"x").await.unwrap_err();
        assert_eq!(
            err.backend_kind(),
            Some(BackendErrorKind::InvalidInput),
            "{bad:?}: {err}"
        );
        assert!(err.to_string().contains("plugin 'storage'"), "{err}");
        let err = storage.get(bad).await.unwrap_err();
        assert_eq!(err.backend_kind(), Some(BackendErrorKind::InvalidInput));
    }
    let err = storage.list_objects("../").await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::InvalidInput));
    // A bad name in put-many writes nothing.
    let err = storage
        .put_many(&[
            ("first.json".into(), b"1".to_vec()),
            ("../second.json".into(), b"2".to_vec()),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::InvalidInput));
    assert_eq!(storage.get("first.json").await.unwrap(), None);

    // A missing bucket is not-found, not "no such object".
    let other = self::storage(&s3, json!({ "bucket": "no-such-bucket" })).await;
    let err = other.get("x.json").await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::NotFound),
        "{err}"
    );
    assert!(err.to_string().contains("no-such-bucket"), "{err}");
}

#[tokio::test]
async fn wrong_credentials_are_denied_without_leaking_the_secret() {
    let s3 = server().await;
    let secret = "wrong-secret-Zq8v1T5-do-not-print";
    let storage = storage(&s3, json!({ "secret_access_key": secret })).await;
    let err = storage.put("timestamp.json", b"x").await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");
    assert!(!err.is_transient());
    let msg = err.to_string();
    assert!(!msg.contains(secret), "{msg}");
    assert!(!msg.contains(&s3.secret_key), "{msg}");
    let err = storage.get("timestamp.json").await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");

    let unknown = self::storage(&s3, json!({ "access_key_id": "NOSUCHKEY" })).await;
    let err = unknown.list_objects("").await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");
    assert!(!err.to_string().contains(&s3.secret_key));
}

#[tokio::test]
async fn the_sandbox_only_lets_the_plugin_reach_its_granted_host() {
    let s3 = server().await;
    let other_port = free_ports(1)[0];
    // Granted another port on the same host: the real server is out of reach.
    let spec = storage_s3_spec(config(&s3, json!({})), &[format!("127.0.0.1:{other_port}")]);
    let storage = runtime().load_storage(&spec).await.unwrap();
    let err = storage.put("timestamp.json", b"x").await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");
    assert!(err.to_string().contains("http_hosts"), "{err}");

    // Granted 127.0.0.1:<port> but configured with another host name for
    // the same server: grants are by name, so this is refused as well.
    let spec = storage_s3_spec(
        config(
            &s3,
            json!({ "endpoint": format!("http://localhost:{}", s3.s3_port()) }),
        ),
        &[s3.authority()],
    );
    let storage = runtime().load_storage(&spec).await.unwrap();
    let err = storage.get("timestamp.json").await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");

    // No grant at all.
    let spec = storage_s3_spec(config(&s3, json!({})), &[]);
    let storage = runtime().load_storage(&spec).await.unwrap();
    let err = storage.list_objects("").await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");

    // Nothing was written by the refused calls.
    assert_eq!(s3.object(BUCKET, "timestamp.json").await, None);
}

#[tokio::test]
async fn an_outage_is_unavailable_and_the_plugin_recovers_after_restart() {
    let mut s3 = server().await;
    let storage = storage(&s3, json!({ "max_retries": 2 })).await;
    storage.put("timestamp.json", b"before").await.unwrap();

    s3.stop();
    let err = storage.get("timestamp.json").await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::Unavailable),
        "{err}"
    );
    assert!(err.is_transient(), "the host may retry: {err}");
    assert!(err.to_string().contains("3 attempt"), "{err}");
    let err = storage.put("timestamp.json", b"during").await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::Unavailable),
        "{err}"
    );

    s3.restart().await;
    // The same loaded plugin (same instances) works again, and the data
    // written before the outage is still there.
    assert_eq!(
        storage.get("timestamp.json").await.unwrap().as_deref(),
        Some(&b"before"[..])
    );
    storage.put("timestamp.json", b"after").await.unwrap();
    assert_eq!(
        storage.get("timestamp.json").await.unwrap().as_deref(),
        Some(&b"after"[..])
    );
}

#[tokio::test]
async fn invalid_configuration_names_the_key() {
    // No server needed: configure validates before any request.
    for (config, key) in [
        (
            json!({ "bucket": "b", "access_key_id": "a", "secret_access_key": "s" }),
            "endpoint",
        ),
        (
            json!({ "endpoint": "127.0.0.1:9000", "bucket": "b", "access_key_id": "a", "secret_access_key": "s" }),
            "endpoint",
        ),
        (
            json!({ "endpoint": "http://127.0.0.1:9000", "access_key_id": "a", "secret_access_key": "s", "path_style": true }),
            "bucket",
        ),
        (
            json!({ "endpoint": "http://127.0.0.1:9000", "bucket": "b", "access_key_id": "a", "secret_access_key": "s" }),
            "path_style",
        ),
        (
            json!({ "endpoint": "http://127.0.0.1:9000", "bucket": "b", "access_key_id": "a", "path_style": true }),
            "secret_access_key",
        ),
        (
            json!({ "endpoint": "http://127.0.0.1:9000", "bucket": "b", "access_key_id": "a", "secret_access_key": "s", "path_style": true, "prefix": "../x" }),
            "prefix",
        ),
    ] {
        let err = runtime()
            .load_storage(&storage_s3_spec(config.clone(), &[]))
            .await
            .unwrap_err();
        assert_eq!(
            err.backend_kind(),
            Some(BackendErrorKind::InvalidConfig),
            "{config}: {err}"
        );
        assert!(err.to_string().contains(key), "{config}: {err}");
    }
    // The schema is exported through plugin info.
    let (_, info) = runtime()
        .describe(&rstuf_tests::plugin_file("storage-s3"))
        .await
        .unwrap();
    let schema: Value = serde_json::from_str(&info.unwrap().config_schema).unwrap();
    assert_eq!(
        schema["required"],
        json!(["endpoint", "bucket", "access_key_id", "secret_access_key"])
    );
}

/// Virtual-host style (`<bucket>.<endpoint host>`, the S3 default) against
/// the real server: SeaweedFS answers `<bucket>.<domain>`, the name
/// resolves through /etc/hosts, the plugin is granted exactly that host.
#[tokio::test]
async fn virtual_host_style_requests_reach_the_bucket() {
    let domain = "s3.rstuf.localtest";
    let vhost = format!("{BUCKET}.{domain}");
    rstuf_tests::servers::ensure_hosts_entry(&vhost);
    let s3 = SeaweedFs::start_with_domain(domain).await;
    s3.create_bucket(BUCKET).await;
    let port = s3.s3_port();
    let mut c = config(&s3, json!({ "path_style": false }));
    c["endpoint"] = json!(format!("http://{domain}:{port}"));
    let storage = runtime()
        .load_storage(&storage_s3_spec(c, &[format!("{vhost}:{port}")]))
        .await
        .unwrap();
    storage.put("1.root.json", b"virtual host").await.unwrap();
    assert_eq!(
        s3.object(BUCKET, "1.root.json").await.as_deref(),
        Some(&b"virtual host"[..]),
        "the object is in the bucket the host name names"
    );
    assert_eq!(
        storage.get("1.root.json").await.unwrap().as_deref(),
        Some(&b"virtual host"[..])
    );
    let listed = storage.list_objects("").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(storage.delete("1.root.json").await.unwrap());
    assert_eq!(s3.object(BUCKET, "1.root.json").await, None);
}

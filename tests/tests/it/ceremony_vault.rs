//! The ceremony takes the online key from the key service the host signs
//! with (`rstuf admin ceremony --online-key-vault ENTRY.toml
//! --online-key-uri URI`), through the same key-vault plugin and the same
//! entry format as the service's `[[plugins.keyvaults]]`: OpenBao transit
//! (`hv:`) and moto's KMS (`awskms:`). The service then bootstraps, signs
//! with that key, and python-tuf verifies; a URI the service does not have
//! is refused before anything is written.

use rstuf_host::config::PluginEntry;
use rstuf_plugins::Grants;
use rstuf_tests::cli::{make_keys, ok, p, rstuf};
use rstuf_tests::servers::{Moto, OpenBao};
use rstuf_tests::service::{artifact, start_configured};
use rstuf_tests::workspace_root;
use serde_json::{json, Value};

/// The entry as TOML, for the CLI, and as the host's configuration.
fn entry_toml(file: &str, config: &Value, host: &str) -> String {
    let table: toml::Table = serde_json::from_value(config.clone()).unwrap();
    let mut doc = toml::Table::new();
    doc.insert(
        "file".into(),
        workspace_root()
            .join("dist/plugins")
            .join(file)
            .display()
            .to_string()
            .into(),
    );
    doc.insert("config".into(), toml::Value::Table(table));
    let mut grants = toml::Table::new();
    grants.insert("http_hosts".into(), toml::Value::Array(vec![host.into()]));
    doc.insert("grants".into(), toml::Value::Table(grants));
    toml::to_string(&doc).unwrap()
}

async fn ceremony_with_vault(file: &str, config: Value, host: String, uri: &str) {
    let entry = PluginEntry {
        name: "online-keys".into(),
        file: file.into(),
        config: config.clone(),
        grants: Grants {
            http_hosts: vec![host.clone()],
            ..Grants::default()
        },
    };
    let svc = start_configured(&[], |c| c.plugins.keyvaults = vec![entry]).await;
    let (alice, bob, _carol, _online) = make_keys(&svc).await;
    let vault_toml = svc.work().join("online-key-vault.toml");
    std::fs::write(&vault_toml, entry_toml(file, &config, &host)).unwrap();
    let out = svc.work().join("vault-ceremony.json");
    let bob_sign = format!("{}:ROOT_PW", p(&bob));
    let base = [
        "admin",
        "ceremony",
        "--json",
        "--root-key",
        p(&alice),
        "--root-key",
        &format!("{}.pub", p(&bob)),
        "--root-threshold",
        "2",
        "--online-key-vault",
        p(&vault_toml),
        "--bins",
        "8",
        "--out",
        p(&out),
    ];
    // A key the service does not have: refused, nothing written.
    let mut missing = base.to_vec();
    let unknown = format!("{}-absent", uri);
    missing.extend(["--online-key-uri", &unknown]);
    let run = rstuf(&svc, &missing).await;
    assert_eq!(run.code, 3, "{}{}", run.stderr, run.stdout);
    assert!(
        run.stdout.contains("has no usable key") || run.stderr.contains("has no usable key"),
        "{}{}",
        run.stderr,
        run.stdout
    );
    assert!(!out.exists());

    let mut args = base.to_vec();
    args.extend([
        "--online-key-uri",
        uri,
        "--sign",
        p(&alice),
        "--sign",
        &bob_sign,
        "--send",
    ]);
    let report = ok(&rstuf(&svc, &args).await);
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");
    assert_eq!(report["online_key"]["uri"], uri, "{report}");
    let payload: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let keyid = report["online_key"]["keyid"].as_str().unwrap();
    assert_eq!(
        payload["metadata"]["root"]["signed"]["keys"][keyid]["x-rstuf-online-key-uri"],
        uri
    );
    svc.run(
        "/api/v1/artifacts/",
        &json!({ "artifacts": [artifact("vault/a.tar.gz", 11)] }),
    )
    .await;
    let verified = svc.verify(&["vault/a.tar.gz"], &[], None).await;
    assert_eq!(verified["found"]["vault/a.tar.gz"], 11, "{verified}");
    let ts: Value = reqwest::get(format!("{}/timestamp.json", svc.metadata_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ts["signatures"][0]["keyid"], keyid,
        "signed by the key service's key"
    );
    svc.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_online_key_comes_from_openbao_transit() {
    let bao = OpenBao::start_dev().await;
    bao.enable_transit().await;
    bao.create_key("rstuf-online", "ed25519").await;
    let config = json!({ "address": bao.address(), "token": bao.root_token });
    ceremony_with_vault(
        "keyvault-vault.wasm",
        config,
        bao.authority(),
        "hv:rstuf-online",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_online_key_comes_from_kms() {
    let moto = Moto::start().await;
    let account = moto.setup();
    let config = json!({
        "endpoint": moto.endpoint(), "region": "us-east-1",
        "access_key_id": account.access_key_id, "secret_access_key": account.secret_access_key,
    });
    let uri = format!("awskms:{}", account.alias);
    ceremony_with_vault("keyvault-awskms.wasm", config, moto.authority(), &uri).await;
}

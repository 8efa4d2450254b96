//! The keyvault-awskms plugin through the real runtime against a moto
//! server (the AWS KMS API with real keys, on loopback; `make setup`
//! installs `moto[server]`). IAM access control is on, so every request the
//! plugin makes must carry a SigV4 signature moto recomputes and accepts.
//! Signatures are checked with python `cryptography` against the public
//! key boto3 reads from KMS, and ECDSA ones with our TUF engine too.
//!
//! moto is an emulator: it signs `MessageType=DIGEST` requests as if they
//! were raw messages and uses the maximum RSA-PSS salt rather than AWS's
//! 32 bytes, so these tests use `message_type: "raw"` and verify RSA the
//! way securesystemslib does (any salt length).

use rstuf_plugins::{BackendErrorKind, KeyVault, PluginKind};
use rstuf_tests::servers::{free_ports, KmsAccount, Moto};
use rstuf_tests::service::python_script;
use rstuf_tests::{network_spec, runtime};
use rstuf_tuf::keys::Key;
use serde_json::{json, Value};

const MESSAGE: &[u8] = br#"{"_type":"timestamp","expires":"2030-01-01T00:00:00Z","meta":{"snapshot.json":{"version":3}},"spec_version":"1.0.31","version":7}"#;

fn config(moto: &Moto, account: &KmsAccount) -> Value {
    json!({
        "endpoint": moto.endpoint(),
        "region": "us-east-1",
        "access_key_id": account.access_key_id,
        "secret_access_key": account.secret_access_key,
        "message_type": "raw",
        "max_retries": 1,
    })
}

async fn vault(config: Value, hosts: &[String]) -> KeyVault {
    runtime()
        .load_keyvault(&network_spec(
            "keyvault-awskms",
            PluginKind::Keyvault,
            config,
            hosts,
        ))
        .await
        .unwrap()
}

fn python_verifies(moto: &Moto, account: &KmsAccount, key_id: &str, sig: &[u8]) {
    let out = python_script(
        "kms_setup.py",
        &[
            "verify",
            &moto.endpoint(),
            &account.access_key_id,
            &account.secret_access_key,
            key_id,
            &hex::encode(MESSAGE),
            &hex::encode(sig),
        ],
    );
    assert_eq!(out.trim(), "ok");
}

#[tokio::test]
async fn kms_keys_sign_and_verify_independently() {
    let moto = Moto::start().await;
    let account = moto.setup();
    let vault = vault(config(&moto, &account), &[moto.authority()]).await;
    assert_eq!(vault.info().name, "keyvault-awskms");
    assert_eq!(vault.schemes(), ["awskms"]);

    // Signing keys are listed; the symmetric key is skipped.
    let listed = vault.list_keys().await.unwrap();
    let uris: Vec<&str> = listed.iter().map(|k| k.uri.as_str()).collect();
    let ecc = &account.keys["ECC_NIST_P256"];
    let rsa = &account.keys["RSA_2048"];
    assert!(uris.contains(&format!("awskms:{ecc}").as_str()), "{uris:?}");
    assert!(uris.contains(&format!("awskms:{rsa}").as_str()), "{uris:?}");
    assert!(
        !uris
            .iter()
            .any(|u| u.ends_with(&account.keys["SYMMETRIC_DEFAULT"])),
        "{uris:?}"
    );

    // ECDSA P-256, by key id and by alias: DER signatures that python and
    // our TUF engine both accept.
    for uri in [format!("awskms:{ecc}"), format!("awskms:{}", account.alias)] {
        let key = vault.get_key(&uri).await.unwrap();
        assert_eq!(
            (key.keytype.as_str(), key.scheme.as_str()),
            ("ecdsa", "ecdsa-sha2-nistp256")
        );
        assert!(key.public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let sig = vault.sign(&uri, MESSAGE).await.unwrap();
        python_verifies(&moto, &account, ecc, &sig);
        Key::new(&key.keytype, &key.scheme, &key.public, Default::default())
            .unwrap()
            .verify(MESSAGE, &hex::encode(&sig))
            .unwrap();
    }

    // RSA-PSS SHA-256.
    let uri = format!("awskms:{rsa}");
    let key = vault.get_key(&uri).await.unwrap();
    assert_eq!(
        (key.keytype.as_str(), key.scheme.as_str()),
        ("rsa", "rsassa-pss-sha256")
    );
    let sig = vault.sign(&uri, MESSAGE).await.unwrap();
    assert_eq!(sig.len(), 256);
    python_verifies(&moto, &account, rsa, &sig);

    // Bad requests: clear errors of the right kind.
    let err = vault
        .sign(
            &format!("awskms:{}", account.keys["SYMMETRIC_DEFAULT"]),
            MESSAGE,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::InvalidInput),
        "{err}"
    );
    assert!(err.to_string().contains("SIGN_VERIFY"), "{err}");
    let err = vault
        .sign("awskms:00000000-0000-0000-0000-000000000000", MESSAGE)
        .await
        .unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::NotFound),
        "{err}"
    );
    let err = vault.sign("hv:online", MESSAGE).await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::InvalidInput),
        "{err}"
    );
    // A raw message over KMS's 4096-byte limit is refused before sending.
    let err = vault
        .sign(&format!("awskms:{ecc}"), &[b'x'; 5000])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("4096"), "{err}");
    assert!(!moto.log().contains(&account.secret_access_key));
}

#[tokio::test]
async fn wrong_credentials_are_denied_and_secrets_stay_out_of_errors() {
    let moto = Moto::start().await;
    let account = moto.setup();
    let ecc = format!("awskms:{}", account.keys["ECC_NIST_P256"]);
    let mut wrong = config(&moto, &account);
    wrong["secret_access_key"] = json!("not-the-secret-key-at-all");
    let err = vault(wrong, &[moto.authority()])
        .await
        .sign(&ecc, MESSAGE)
        .await
        .unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");
    assert!(
        !err.to_string().contains("not-the-secret-key-at-all"),
        "{err}"
    );

    let mut unknown = config(&moto, &account);
    unknown["access_key_id"] = json!("AKIANOTAREALKEY00000");
    let err = vault(unknown, &[moto.authority()])
        .await
        .sign(&ecc, MESSAGE)
        .await
        .unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");
}

#[tokio::test]
async fn the_sandbox_only_lets_the_plugin_reach_its_granted_host() {
    let moto = Moto::start().await;
    let account = moto.setup();
    let ecc = format!("awskms:{}", account.keys["ECC_NIST_P256"]);
    let other = format!("127.0.0.1:{}", free_ports(1)[0]);
    for hosts in [vec![other], vec!["localhost".to_string()], vec![]] {
        let err = vault(config(&moto, &account), &hosts)
            .await
            .sign(&ecc, MESSAGE)
            .await
            .unwrap_err();
        assert_eq!(
            err.backend_kind(),
            Some(BackendErrorKind::Denied),
            "{hosts:?}: {err}"
        );
        assert!(err.to_string().contains("http_hosts"), "{err}");
        assert!(
            !err.to_string().contains(&account.secret_access_key),
            "{err}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_kms_is_reported_as_unavailable() {
    let port = free_ports(1)[0];
    let vault = vault(
        json!({
            "endpoint": format!("http://127.0.0.1:{port}"),
            "access_key_id": "AKIAEXAMPLE",
            "secret_access_key": "secret-key-value",
            "max_retries": 1,
        }),
        &[format!("127.0.0.1:{port}")],
    )
    .await;
    let err = vault.sign("awskms:alias/x", MESSAGE).await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::Unavailable),
        "{err}"
    );
    assert!(err.to_string().contains("2 attempt(s)"), "{err}");
}

#[tokio::test]
async fn invalid_configuration_names_the_key() {
    for (config, key) in [
        (json!({ "secret_access_key": "s" }), "access_key_id"),
        (
            json!({ "access_key_id": "a", "secret_access_key": "s", "message_type": "x" }),
            "message_type",
        ),
        (
            json!({ "access_key_id": "a", "secret_access_key": "s", "endpoint": "kms" }),
            "endpoint",
        ),
    ] {
        let err = runtime()
            .load_keyvault(&network_spec(
                "keyvault-awskms",
                PluginKind::Keyvault,
                config,
                &[],
            ))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("keyvault-awskms") && err.contains(key),
            "{err}"
        );
    }
}

/// The whole service with its online key in KMS: the same host, switched
/// by configuration to keyvault-awskms; python-tuf verifies the result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_publishes_with_an_online_key_in_kms() {
    use rstuf_host::config::PluginEntry;
    use rstuf_plugins::Grants;
    use rstuf_tests::service::{artifact, start_configured};

    let moto = Moto::start().await;
    let account = moto.setup();
    let uri = format!("awskms:{}", account.alias);
    let public = vault(config(&moto, &account), &[moto.authority()])
        .await
        .get_key(&uri)
        .await
        .unwrap()
        .public;
    let entry = PluginEntry {
        name: "online-keys".into(),
        file: "keyvault-awskms.wasm".into(),
        config: config(&moto, &account),
        grants: Grants {
            http_hosts: vec![moto.authority()],
            ..Grants::default()
        },
    };
    let svc = start_configured(&[], |c| c.plugins.keyvaults = vec![entry]).await;
    let pem = svc.work().join("kms-online.pem");
    std::fs::write(&pem, public).unwrap();
    let payload = svc.ceremony(&[
        "--bins",
        "8",
        "--online-ecdsa-key",
        &format!("{uri}={}", pem.display()),
    ]);
    svc.run("/api/v1/bootstrap/", &payload).await;
    let adds: Vec<Value> = (0..3)
        .map(|i| artifact(&format!("kms/{i}.tar.gz"), 20 + i))
        .collect();
    svc.run("/api/v1/artifacts/", &json!({ "artifacts": adds }))
        .await;
    svc.run(
        "/api/v1/artifacts/delete",
        &json!({ "artifacts": ["kms/2.tar.gz"] }),
    )
    .await;
    svc.verify(&["kms/0.tar.gz", "kms/1.tar.gz"], &["kms/2.tar.gz"], None)
        .await;
    let text = svc.text("/api/v1/config/").await;
    assert!(!text.contains(&account.secret_access_key));
}

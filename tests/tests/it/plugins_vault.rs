//! The keyvault-vault plugin through the real runtime against a real
//! OpenBao server (Vault's API) on loopback: every transit key type signs,
//! and the signatures verify with the TUF engine the service uses
//! (`rstuf_tuf`); token and AppRole authentication; the sandbox's host
//! grant; an outage, a sealed server and recovery. Needs `bao` on PATH
//! (`make setup`); fails, not skips, without it.

use base64::Engine;
use rstuf_plugins::{BackendErrorKind, KeyVault};
use rstuf_tests::servers::{free_ports, OpenBao};
use rstuf_tests::{keyvault_vault_spec, runtime};
use rstuf_tuf::keys::{Key, VerifyError};
use serde_json::{json, Value};

/// Canonical bytes of a role's `signed`, as the service signs them.
const MESSAGE: &[u8] = br#"{"_type":"timestamp","expires":"2030-01-01T00:00:00Z","meta":{"snapshot.json":{"version":3}},"spec_version":"1.0.31","version":7}"#;

/// (transit key name, transit type, TUF keytype, TUF scheme)
const KEYS: &[(&str, &str, &str, &str)] = &[
    ("online-ed25519", "ed25519", "ed25519", "ed25519"),
    ("online-ecdsa", "ecdsa-p256", "ecdsa", "ecdsa-sha2-nistp256"),
    ("online-rsa2048", "rsa-2048", "rsa", "rsassa-pss-sha256"),
    ("online-rsa3072", "rsa-3072", "rsa", "rsassa-pss-sha256"),
    ("online-rsa4096", "rsa-4096", "rsa", "rsassa-pss-sha256"),
];

async fn vault(bao: &OpenBao, config: Value) -> KeyVault {
    runtime()
        .load_keyvault(&keyvault_vault_spec(config, &[bao.authority()]))
        .await
        .unwrap()
}

/// `keyval.public` of a transit key as OpenBao itself reports it.
async fn public_from_server(bao: &OpenBao, name: &str, version: u64) -> String {
    let key = bao.api("GET", &format!("transit/keys/{name}"), None).await;
    let public = key["data"]["keys"][version.to_string()]["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    if key["data"]["type"] == "ed25519" {
        hex::encode(
            base64::engine::general_purpose::STANDARD
                .decode(public)
                .unwrap(),
        )
    } else {
        public
    }
}

fn verify(
    keytype: &str,
    scheme: &str,
    public: &str,
    message: &[u8],
    sig: &[u8],
) -> Result<(), VerifyError> {
    let key = Key::new(keytype, scheme, public, Default::default()).unwrap();
    key.verify(message, &hex::encode(sig))
}

#[tokio::test]
async fn every_key_type_signs_and_verifies_with_the_tuf_engine() {
    let bao = OpenBao::start_dev().await;
    bao.enable_transit().await;
    for (name, kind, _, _) in KEYS {
        bao.create_key(name, kind).await;
    }
    // Keys that cannot sign TUF metadata are listed by Vault but skipped.
    bao.create_key("data-encryption", "aes256-gcm96").await;
    bao.create_key("other-curve", "ecdsa-p384").await;

    let vault = vault(
        &bao,
        json!({ "address": bao.address(), "token": bao.root_token }),
    )
    .await;
    assert_eq!(vault.info().name, "keyvault-vault");
    assert_eq!(vault.schemes(), ["hv"]);
    assert!(vault.serves("hv:online-ed25519") && !vault.serves("fn:online"));

    for (name, _, keytype, scheme) in KEYS {
        let uri = format!("hv:{name}");
        let key = vault.get_key(&uri).await.unwrap();
        assert_eq!(key.uri, uri);
        assert_eq!(
            (key.keytype.as_str(), key.scheme.as_str()),
            (*keytype, *scheme)
        );
        assert_eq!(
            key.public,
            public_from_server(&bao, name, 1).await,
            "{name}"
        );
        if *keytype != "ed25519" {
            assert!(
                key.public.starts_with("-----BEGIN PUBLIC KEY-----\n")
                    && key.public.ends_with("-----END PUBLIC KEY-----\n"),
                "{name}: PEM SPKI as TUF writes it: {}",
                key.public
            );
        }

        let sig = vault.sign(&uri, MESSAGE).await.unwrap();
        verify(keytype, scheme, &key.public, MESSAGE, &sig)
            .unwrap_or_else(|e| panic!("{name}: signature does not verify: {e}"));
        assert_eq!(
            verify(keytype, scheme, &key.public, b"tampered", &sig),
            Err(VerifyError::Invalid),
            "{name}: the signature binds the message"
        );
        if *keytype == "ed25519" {
            assert_eq!(sig.len(), 64);
        }
        // securesystemslib's pinned form hv:<name>/<version> works too.
        let pinned = format!("hv:{name}/1");
        assert_eq!(vault.get_key(&pinned).await.unwrap().public, key.public);
        let sig = vault.sign(&pinned, MESSAGE).await.unwrap();
        verify(keytype, scheme, &key.public, MESSAGE, &sig).unwrap();
    }

    let listed = vault.list_keys().await.unwrap();
    let uris: Vec<&str> = listed.iter().map(|k| k.uri.as_str()).collect();
    let mut expected: Vec<String> = KEYS.iter().map(|k| format!("hv:{}", k.0)).collect();
    expected.sort();
    assert_eq!(uris, expected, "aes and p384 keys are skipped");
    for k in &listed {
        assert_eq!(vault.get_key(&k.uri).await.unwrap(), *k);
    }

    // Rotation: hv:<name> follows the latest version, hv:<name>/1 stays.
    let v1 = vault.get_key("hv:online-ed25519").await.unwrap().public;
    bao.api("POST", "transit/keys/online-ed25519/rotate", None)
        .await;
    let v2 = vault.get_key("hv:online-ed25519").await.unwrap().public;
    assert_ne!(v1, v2);
    assert_eq!(v2, public_from_server(&bao, "online-ed25519", 2).await);
    let sig = vault.sign("hv:online-ed25519", MESSAGE).await.unwrap();
    verify("ed25519", "ed25519", &v2, MESSAGE, &sig).unwrap();
    let sig = vault.sign("hv:online-ed25519/1", MESSAGE).await.unwrap();
    verify("ed25519", "ed25519", &v1, MESSAGE, &sig).unwrap();
}

#[tokio::test]
async fn bad_uris_and_missing_or_unusable_keys_are_clear_errors() {
    let bao = OpenBao::start_dev().await;
    bao.enable_transit().await;
    bao.create_key("online", "ed25519").await;
    bao.create_key("aes", "aes256-gcm96").await;
    let vault = vault(
        &bao,
        json!({ "address": bao.address(), "token": bao.root_token }),
    )
    .await;
    for uri in [
        "hv:",
        "hv:../sys/seal",
        "hv:a/b/c",
        "hv:online/0",
        "fn:online",
        "online",
    ] {
        let err = vault.sign(uri, b"m").await.unwrap_err();
        assert_eq!(
            err.backend_kind(),
            Some(BackendErrorKind::InvalidInput),
            "{uri}: {err}"
        );
    }
    let err = vault.sign("hv:absent", b"m").await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::NotFound),
        "{err}"
    );
    assert!(err.to_string().contains("absent"), "{err}");
    let err = vault.get_key("hv:online/9").await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::NotFound),
        "{err}"
    );
    let err = vault.sign("hv:aes", b"m").await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::InvalidInput),
        "{err}"
    );
    assert!(err.to_string().contains("aes256-gcm96"), "{err}");
    // Still signing after all that.
    assert_eq!(vault.sign("hv:online", b"m").await.unwrap().len(), 64);

    // A mount without keys lists nothing.
    bao.api(
        "POST",
        "sys/mounts/empty-transit",
        Some(json!({ "type": "transit" })),
    )
    .await;
    let empty = self::vault(
        &bao,
        json!({ "address": bao.address(), "token": bao.root_token, "mount": "empty-transit" }),
    )
    .await;
    assert!(empty.list_keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn wrong_token_is_denied_without_leaking_it() {
    let bao = OpenBao::start_dev().await;
    bao.enable_transit().await;
    bao.create_key("online", "ecdsa-p256").await;
    let token = "s.wrong-token-Hq2x9-do-not-print";
    let vault = vault(&bao, json!({ "address": bao.address(), "token": token })).await;
    for result in [
        vault.sign("hv:online", MESSAGE).await.map(|_| ()),
        vault.get_key("hv:online").await.map(|_| ()),
        vault.list_keys().await.map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");
        assert!(!err.is_transient());
        let msg = err.to_string();
        assert!(msg.contains("permission denied"), "{msg}");
        assert!(
            !msg.contains(token) && !msg.contains(&bao.root_token),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn approle_logs_in_once_and_caches_the_client_token() {
    let bao = OpenBao::start_dev().await;
    bao.enable_transit().await;
    bao.create_key("online", "rsa-2048").await;
    // The secret id works for ONE login: every later call must reuse the
    // cached client token, or it would fail.
    let (role_id, secret_id) = bao.approle("rstuf-worker", 1).await;
    let vault = vault(
        &bao,
        json!({
            "address": bao.address(),
            "approle": { "role_id": role_id, "secret_id": secret_id },
        }),
    )
    .await;
    let key = vault.get_key("hv:online").await.unwrap();
    for _ in 0..3 {
        let sig = vault.sign("hv:online", MESSAGE).await.unwrap();
        verify("rsa", "rsassa-pss-sha256", &key.public, MESSAGE, &sig).unwrap();
    }
    assert_eq!(vault.list_keys().await.unwrap().len(), 1);

    // The used-up secret id cannot log in again (a fresh instance needs a
    // login): denied, and nothing secret in the message.
    let again = runtime()
        .load_keyvault(&keyvault_vault_spec(
            json!({
                "address": bao.address(),
                "approle": { "role_id": role_id, "secret_id": secret_id },
            }),
            &[bao.authority()],
        ))
        .await
        .unwrap();
    let err = again.sign("hv:online", MESSAGE).await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("AppRole login"), "{msg}");
    assert!(
        !msg.contains(&secret_id) && !msg.contains(&role_id),
        "{msg}"
    );

    // The policy allows signing, not reading other secrets engines' data:
    // a mount outside it is denied.
    let (role_id, secret_id) = {
        let secret = bao
            .api("POST", "auth/approle/role/rstuf-worker/secret-id", None)
            .await;
        (
            role_id,
            secret["data"]["secret_id"].as_str().unwrap().to_string(),
        )
    };
    bao.api(
        "POST",
        "sys/mounts/other-transit",
        Some(json!({ "type": "transit" })),
    )
    .await;
    bao.api(
        "POST",
        "other-transit/keys/k",
        Some(json!({ "type": "ed25519" })),
    )
    .await;
    let other = self::vault(
        &bao,
        json!({
            "address": bao.address(),
            "mount": "other-transit",
            "approle": { "role_id": role_id, "secret_id": secret_id },
        }),
    )
    .await;
    let err = other.sign("hv:k", MESSAGE).await.unwrap_err();
    assert_eq!(err.backend_kind(), Some(BackendErrorKind::Denied), "{err}");
}

#[tokio::test]
async fn the_sandbox_only_lets_the_plugin_reach_its_granted_host() {
    let bao = OpenBao::start_dev().await;
    bao.enable_transit().await;
    bao.create_key("online", "ed25519").await;
    let config = json!({ "address": bao.address(), "token": bao.root_token });

    let other = format!("127.0.0.1:{}", free_ports(1)[0]);
    for hosts in [vec![other], vec!["localhost".to_string()], vec![]] {
        let vault = runtime()
            .load_keyvault(&keyvault_vault_spec(config.clone(), &hosts))
            .await
            .unwrap();
        let err = vault.sign("hv:online", MESSAGE).await.unwrap_err();
        assert_eq!(
            err.backend_kind(),
            Some(BackendErrorKind::Denied),
            "{hosts:?}: {err}"
        );
        assert!(err.to_string().contains("http_hosts"), "{err}");
        assert!(!err.to_string().contains(&bao.root_token), "{err}");
    }
    // The granted host works.
    let vault = self::vault(&bao, config).await;
    assert_eq!(vault.sign("hv:online", MESSAGE).await.unwrap().len(), 64);
}

#[tokio::test]
async fn an_outage_or_sealed_vault_is_unavailable_and_signing_recovers() {
    let mut bao = OpenBao::start_persistent().await;
    bao.enable_transit().await;
    bao.create_key("online", "ecdsa-p256").await;
    let vault = vault(
        &bao,
        json!({ "address": bao.address(), "token": bao.root_token, "max_retries": 1 }),
    )
    .await;
    let key = vault.get_key("hv:online").await.unwrap();
    let sig = vault.sign("hv:online", MESSAGE).await.unwrap();
    verify("ecdsa", "ecdsa-sha2-nistp256", &key.public, MESSAGE, &sig).unwrap();

    bao.stop();
    let err = vault.sign("hv:online", MESSAGE).await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::Unavailable),
        "{err}"
    );
    assert!(err.is_transient(), "{err}");
    assert!(err.to_string().contains("2 attempt"), "{err}");

    // Back, but sealed: Vault answers 503, still unavailable.
    bao.restart(false).await;
    let err = vault.sign("hv:online", MESSAGE).await.unwrap_err();
    assert_eq!(
        err.backend_kind(),
        Some(BackendErrorKind::Unavailable),
        "{err}"
    );
    assert!(err.to_string().to_lowercase().contains("sealed"), "{err}");

    bao.unseal().await;
    // Same key (persistent storage), same loaded plugin.
    let sig = vault.sign("hv:online", MESSAGE).await.unwrap();
    verify("ecdsa", "ecdsa-sha2-nistp256", &key.public, MESSAGE, &sig).unwrap();
    assert_eq!(vault.get_key("hv:online").await.unwrap(), key);
}

#[tokio::test]
async fn invalid_configuration_names_the_key_without_secrets() {
    for (config, key) in [
        (json!({ "token": "t" }), "address"),
        (
            json!({ "address": "127.0.0.1:8200", "token": "t" }),
            "address",
        ),
        (
            json!({ "address": "http://127.0.0.1:8200" }),
            "token, approle",
        ),
        (
            json!({ "address": "http://127.0.0.1:8200", "approle": { "role_id": "r" } }),
            "approle.secret_id",
        ),
        (
            json!({ "address": "http://127.0.0.1:8200", "token": "t", "mount": "../sys" }),
            "mount",
        ),
    ] {
        let err = runtime()
            .load_keyvault(&keyvault_vault_spec(config.clone(), &[]))
            .await
            .unwrap_err();
        assert_eq!(
            err.backend_kind(),
            Some(BackendErrorKind::InvalidConfig),
            "{config}: {err}"
        );
        assert!(err.to_string().contains(key), "{config}: {err}");
    }
    let (_, info) = runtime()
        .describe(&rstuf_tests::plugin_file("keyvault-vault"))
        .await
        .unwrap();
    let schema: Value = serde_json::from_str(&info.unwrap().config_schema).unwrap();
    assert!(schema["properties"]["approle"].is_object());
}

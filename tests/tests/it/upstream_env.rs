//! An upstream RSTUF worker's environment runs our service unchanged:
//! `RSTUF_STORAGE_BACKEND=AWSS3` with the `RSTUF_AWS_*` settings selects
//! storage-s3 (SeaweedFS here, and moto's S3), the same AWS settings give
//! `awskms:` online keys a KMS signer (moto), and the `VAULT_*` variables
//! securesystemslib's Vault signer reads give `hv:` keys OpenBao. Each
//! repository is then verified by python-tuf through the API.

use base64::Engine;
use rstuf_tests::servers::{Moto, OpenBao, SeaweedFs};
use rstuf_tests::service::{artifact, python_script, start_with};
use serde_json::{json, Value};

const BUCKET: &str = "tuf-metadata";

async fn add_and_verify(svc: &rstuf_tests::service::TestService, prefix: &str) {
    let adds: Vec<Value> = (0..4)
        .map(|i| artifact(&format!("{prefix}/{i}.tar.gz"), 40 + i))
        .collect();
    svc.run("/api/v1/artifacts/", &json!({ "artifacts": adds }))
        .await;
    svc.run(
        "/api/v1/artifacts/delete",
        &json!({ "artifacts": [format!("{prefix}/3.tar.gz")] }),
    )
    .await;
    let present: Vec<String> = (0..3).map(|i| format!("{prefix}/{i}.tar.gz")).collect();
    let refs: Vec<&str> = present.iter().map(String::as_str).collect();
    svc.verify(&refs, &[&format!("{prefix}/3.tar.gz")], None)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_env_file_runs_on_seaweedfs_and_openbao() {
    let s3 = SeaweedFs::start().await;
    s3.create_bucket(BUCKET).await;
    let bao = OpenBao::start_dev().await;
    bao.enable_transit().await;
    bao.create_key("rstuf-online", "ed25519").await;
    let key = bao.api("GET", "transit/keys/rstuf-online", None).await;
    let public = hex::encode(
        base64::engine::general_purpose::STANDARD
            .decode(key["data"]["keys"]["1"]["public_key"].as_str().unwrap())
            .unwrap(),
    );
    let endpoint = s3.endpoint();
    let address = bao.address();
    let svc = start_with(&[
        ("RSTUF_STORAGE_BACKEND", "AWSS3"),
        ("RSTUF_AWS_STORAGE_BUCKET", BUCKET),
        ("RSTUF_AWS_ACCESS_KEY_ID", &s3.access_key),
        ("RSTUF_AWS_SECRET_ACCESS_KEY", &s3.secret_key),
        ("RSTUF_AWS_DEFAULT_REGION", "us-east-1"),
        ("RSTUF_AWS_ENDPOINT_URL", &endpoint),
        ("VAULT_ADDR", &address),
        ("VAULT_TOKEN", &bao.root_token),
    ])
    .await;
    let payload = svc.ceremony(&[
        "--bins",
        "8",
        "--online-vault-key",
        &format!("rstuf-online:{public}"),
    ]);
    svc.run("/api/v1/bootstrap/", &payload).await;
    add_and_verify(&svc, "seaweed").await;
    // At the bucket's root, as upstream's AWSS3 writes; nothing local.
    assert!(s3.object(BUCKET, "timestamp.json").await.is_some());
    assert!(s3.object(BUCKET, "1.root.json").await.is_some());
    let local = svc.metadata_dir();
    assert!(!local.exists() || std::fs::read_dir(&local).unwrap().next().is_none());
    // Signed in OpenBao: the timestamp's signature is the transit key's.
    let ts: Value =
        serde_json::from_slice(&s3.object(BUCKET, "timestamp.json").await.unwrap()).unwrap();
    assert_eq!(
        ts["signatures"][0]["keyid"],
        payload["metadata"]["root"]["signed"]["roles"]["timestamp"]["keyids"][0]
    );
    let config = svc.text("/api/v1/config/").await;
    assert!(!config.contains(&s3.secret_key) && !config.contains(&bao.root_token));
    svc.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_env_file_runs_on_s3_and_kms_in_moto() {
    let moto = Moto::start().await;
    let account = moto.setup();
    let endpoint = moto.endpoint();
    let creds = [
        account.access_key_id.as_str(),
        account.secret_access_key.as_str(),
    ];
    python_script(
        "kms_setup.py",
        &["bucket", &endpoint, creds[0], creds[1], BUCKET],
    );
    let pem = python_script(
        "kms_setup.py",
        &["public", &endpoint, creds[0], creds[1], &account.alias],
    );
    let svc = start_with(&[
        ("RSTUF_STORAGE_BACKEND", "AWSS3"),
        ("RSTUF_AWS_STORAGE_BUCKET", BUCKET),
        ("RSTUF_AWS_ACCESS_KEY_ID", creds[0]),
        ("RSTUF_AWS_SECRET_ACCESS_KEY", creds[1]),
        ("RSTUF_AWS_DEFAULT_REGION", "us-east-1"),
        ("RSTUF_AWS_ENDPOINT_URL", &endpoint),
        ("RSTUF_AWS_S3_OBJECT_ACL", "private"),
    ])
    .await;
    let pem_file = svc.work().join("kms-online.pem");
    std::fs::write(&pem_file, pem).unwrap();
    let payload = svc.ceremony(&[
        "--bins",
        "8",
        "--online-ecdsa-key",
        &format!("awskms:{}={}", account.alias, pem_file.display()),
    ]);
    svc.run("/api/v1/bootstrap/", &payload).await;
    add_and_verify(&svc, "moto").await;
    let config = svc.text("/api/v1/config/").await;
    assert!(!config.contains(&account.secret_access_key));
    assert!(!moto.log().contains(&account.secret_access_key));
    svc.service.shutdown().await;
}

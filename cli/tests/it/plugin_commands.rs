//! `rstuf plugin …` against the real plugin files built by `make plugins`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn plugins_dir() -> PathBuf {
    let dir = root().join("dist/plugins");
    assert!(
        dir.join("storage-fs.wasm").is_file(),
        "run `make plugins` first"
    );
    dir
}

fn rstuf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rstuf"))
        .args(args)
        .env("RSTUF_PLUGIN_CACHE", root().join("target/plugin-cache"))
        .output()
        .expect("rstuf runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn list_shows_kind_version_and_world() {
    let out = rstuf(&[
        "plugin",
        "list",
        "--json",
        "--dir",
        plugins_dir().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let by_name = |n: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_name("storage-fs")["kind"], "storage");
    assert_eq!(
        by_name("storage-fs")["world"],
        "rstuf:plugin/storage-backend@0.1.0"
    );
    assert_eq!(by_name("keyvault-file")["kind"], "keyvault");
    assert!(by_name("keyvault-file")["version"]
        .as_str()
        .unwrap()
        .starts_with("0."));
}

#[test]
fn inspect_shows_the_config_schema() {
    let file = plugins_dir().join("keyvault-file.wasm");
    let out = rstuf(&["plugin", "inspect", "--json", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["config_schema"]["properties"]["dir"]["type"], "string");
    assert!(doc["exports"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "rstuf:plugin/keyvault@0.1.0"));
}

#[test]
fn install_checks_the_digest_and_verify_checks_a_directory() {
    let target = tempfile::tempdir().unwrap();
    let file = plugins_dir().join("storage-fs.wasm");
    let dir = target.path().to_str().unwrap();

    let bad = rstuf(&[
        "plugin",
        "install",
        file.to_str().unwrap(),
        "--sha256",
        &"0".repeat(64),
        "--dir",
        dir,
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("digest mismatch"));
    assert_eq!(
        std::fs::read_dir(target.path()).unwrap().count(),
        0,
        "nothing installed"
    );

    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(std::fs::read(&file).unwrap()));
    let ok = rstuf(&[
        "plugin",
        "install",
        file.to_str().unwrap(),
        "--sha256",
        &digest,
        "--dir",
        dir,
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(target.path().join("storage-fs.wasm").is_file());

    let verified = rstuf(&["plugin", "verify", "--dir", dir]);
    assert!(verified.status.success(), "{}", stdout(&verified));

    std::fs::write(target.path().join("broken.wasm"), b"garbage").unwrap();
    let failed = rstuf(&["plugin", "verify", "--dir", dir]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(stdout(&failed).contains("broken.wasm"));
}

#[test]
fn unreachable_server_and_bad_payloads_exit_non_zero_with_a_message() {
    let out = rstuf(&[
        "--api-server",
        "http://127.0.0.1:9",
        "task",
        "info",
        "0123456789abcdef0123456789abcdef",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Failed to connect"));

    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("ceremony-payload.json");
    std::fs::write(&payload, b"{not json").unwrap();
    let out = rstuf(&["admin", "send", "bootstrap", payload.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid JSON"));
}

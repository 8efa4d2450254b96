//! `rstuf plugin inspect|list|verify` on the built plugins: every plugin
//! shows its WIT world, its configuration keys (required, defaults,
//! secrets) and an example, and has the documentation page it points to.
//! Needs the `rstuf` binary (`cargo build -p rstuf-cli`).

use rstuf_tests::workspace_root;
use std::process::Command;

const PLUGINS: &[(&str, &str, &str)] = &[
    ("storage-fs", "storage-backend", "path"),
    ("keyvault-file", "keyvault-backend", "passwords"),
    ("storage-s3", "storage-backend", "secret_access_key"),
    ("keyvault-vault", "keyvault-backend", "approle"),
    ("keyvault-awskms", "keyvault-backend", "secret_access_key"),
    ("notify-webhook", "notify-backend", "secret"),
];

fn rstuf(args: &[&str]) -> (i32, String, String) {
    let bin = workspace_root().join("target/debug/rstuf");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p rstuf-cli`",
        bin.display()
    );
    let out = Command::new(bin)
        .args(args)
        .env(
            "RSTUF_PLUGIN_CACHE",
            workspace_root().join("target/plugin-cache"),
        )
        .output()
        .expect("rstuf runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn inspect_shows_world_config_keys_example_and_docs() {
    for (name, world, key) in PLUGINS {
        let file = rstuf_tests::plugin_file(name);
        let (code, out, err) = rstuf(&["plugin", "inspect", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {err}{out}");
        assert!(
            out.contains(&format!("rstuf:plugin/{world}@")),
            "{name}: {out}"
        );
        assert!(out.contains("config keys:"), "{name}: {out}");
        let row = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("{name}: no row for {key}: {out}"));
        if key.contains("secret") || *key == "passwords" {
            assert!(row.contains("secret"), "{name}: {row}");
        }
        assert!(out.contains("example:     config = {"), "{name}: {out}");
        let docs = format!("docs/plugins/{name}.md");
        assert!(out.contains(&docs), "{name}: {out}");
        assert!(workspace_root().join(&docs).is_file(), "{docs} is missing");

        let (code, out, _) = rstuf(&["--json", "plugin", "inspect", file.to_str().unwrap()]);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["name"], *name);
        assert!(
            v["config_schema"]["properties"][key].is_object(),
            "{name}: {v}"
        );
    }
}

#[test]
fn verify_accepts_the_built_plugin_directory() {
    let dir = workspace_root().join("dist/plugins");
    let (code, out, err) = rstuf(&["plugin", "verify", "--dir", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}{out}");
    for (name, _, _) in PLUGINS {
        assert!(out.contains(name), "{name}: {out}");
    }
}

/// `plugin install` checks the digest before anything lands in the plugin
/// directory, installs under the name the plugin reports, and `plugin list`
/// then shows it; a file that is not a plugin is refused.
#[test]
fn install_checks_the_digest_and_list_shows_what_is_installed() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("plugins");
    let source = rstuf_tests::plugin_file("storage-fs");
    let digest = hex::encode(Sha256::digest(std::fs::read(&source).unwrap()));
    let t = target.to_str().unwrap();
    let s = source.to_str().unwrap();

    let (code, _, err) = rstuf(&[
        "plugin",
        "install",
        s,
        "--sha256",
        &"0".repeat(64),
        "--dir",
        t,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("digest mismatch"), "{err}");
    assert!(
        !target.join("storage-fs.wasm").exists(),
        "nothing installed"
    );

    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm not really").unwrap();
    let junk_digest = hex::encode(Sha256::digest(b"\0asm not really"));
    let (code, _, err) = rstuf(&[
        "plugin",
        "install",
        junk.to_str().unwrap(),
        "--sha256",
        &junk_digest,
        "--dir",
        t,
    ]);
    assert_ne!(code, 0, "{err}");

    let (code, out, err) = rstuf(&[
        "--json",
        "plugin",
        "install",
        s,
        "--sha256",
        &digest.to_uppercase(),
        "--dir",
        t,
    ]);
    assert_eq!(code, 0, "{err}{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["name"], "storage-fs");
    assert_eq!(
        std::fs::read(target.join("storage-fs.wasm")).unwrap(),
        std::fs::read(&source).unwrap()
    );

    let (code, out, err) = rstuf(&["plugin", "list", "--dir", t]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("storage-fs") && out.contains("storage-backend"),
        "{out}"
    );
    let (code, out, _) = rstuf(&["--json", "plugin", "list", "--dir", t]);
    assert_eq!(code, 0);
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
}

/// Shell completions for the shells clap supports; a bad argument is a
/// usage error (exit 2).
#[test]
fn completions_and_usage_errors() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = rstuf(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(
            out.contains("rstuf") && out.contains("ceremony"),
            "{shell}: {out}"
        );
    }
    let (code, _, err) = rstuf(&["completions", "klingon"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = rstuf(&["artifact", "add"]);
    assert_eq!(code, 2, "{err}");
}

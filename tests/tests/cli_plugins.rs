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

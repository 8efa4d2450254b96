//! Running the built `rstuf` CLI against a test service, and the key set
//! the CLI tests share: alice (ed25519), bob (ecdsa, encrypted with
//! [`PASSWORD`] in `ROOT_PW`), carol (rsa) and the online key.

use crate::service::TestService;
use crate::workspace_root;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const PASSWORD: &str = "s3cret root password";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run the built `rstuf` without blocking the runtime serving the API.
pub async fn rstuf(svc: &TestService, args: &[&str]) -> Run {
    rstuf_env(svc, args, &[]).await
}

/// [`rstuf`] with extra environment variables.
pub async fn rstuf_env(svc: &TestService, args: &[&str], env: &[(&str, &str)]) -> Run {
    let bin = workspace_root().join("target/debug/rstuf");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p rstuf-cli`",
        bin.display()
    );
    let out = tokio::process::Command::new(bin)
        .args(args)
        .env("RSTUF_API_SERVER", &svc.base)
        .env("ROOT_PW", PASSWORD)
        .envs(env.iter().copied())
        .output()
        .await
        .expect("rstuf runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

pub fn ok(run: &Run) -> Value {
    assert_eq!(run.code, 0, "rstuf failed: {}{}", run.stderr, run.stdout);
    serde_json::from_str(&run.stdout).unwrap_or(Value::Null)
}

/// An ed25519 key made by our `rstuf admin keygen` in the work directory:
/// `<name>.pem` (its public half is `<name>.pem.pub`).
pub async fn keygen(svc: &TestService, name: &str) -> PathBuf {
    let file = svc.work().join(format!("{name}.pem"));
    ok(&rstuf(
        svc,
        &[
            "admin",
            "keygen",
            "--json",
            "--type",
            "ed25519",
            "--out",
            p(&file),
            "--name",
            name,
        ],
    )
    .await);
    file
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Root keys alice (ed25519), bob (ecdsa, encrypted), carol (rsa), and the
/// online key, whose private half goes where the key vault looks for
/// `fn:<keyid>`.
pub async fn make_keys(svc: &TestService) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let work = svc.work();
    let mut files = Vec::new();
    for (name, kind, encrypted) in [
        ("alice", "ed25519", false),
        ("bob", "ecdsa", true),
        ("carol", "rsa", false),
        ("online", "ecdsa", false),
    ] {
        let file = work.join(format!("{name}.pem"));
        let mut args = vec![
            "admin",
            "keygen",
            "--json",
            "--type",
            kind,
            "--out",
            p(&file),
            "--name",
            name,
        ];
        if encrypted {
            args.extend(["--password-env", "ROOT_PW"]);
        }
        let report = ok(&rstuf(svc, &args).await);
        if name == "online" {
            let fname = report["bare_keyid"].as_str().unwrap();
            std::fs::copy(&file, svc.keys().join(fname)).unwrap();
        }
        files.push(file);
    }
    (
        files[0].clone(),
        files[1].clone(),
        files[2].clone(),
        files[3].clone(),
    )
}

pub fn ceremony_args(
    alice: &Path,
    bob: &Path,
    carol: &Path,
    online: &Path,
    out: &Path,
) -> Vec<String> {
    vec![
        "admin".into(),
        "ceremony".into(),
        "--json".into(),
        "--root-key".into(),
        p(alice).into(),
        "--root-key".into(),
        p(bob).into(),
        "--root-key".into(),
        format!("{}.pub", p(carol)),
        "--root-threshold".into(),
        "2".into(),
        "--online-key".into(),
        format!("{}.pub", p(online)),
        "--bins".into(),
        "8".into(),
        "--out".into(),
        p(out).into(),
        "--send".into(),
    ]
}

/// `rstuf admin metadata status --json`: the pending signings.
pub async fn signing_status(svc: &TestService) -> Vec<Value> {
    let report = ok(&rstuf(svc, &["--json", "admin", "metadata", "status"]).await);
    report["pending"].as_array().expect("pending").clone()
}

/// Of one `against` entry of a status report: (delegator, threshold,
/// names that signed, names still missing, signatures needed).
pub fn signers(against: &Value) -> (String, u64, Vec<String>, Vec<String>, u64) {
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|k| {
                assert_eq!(k["keyid"].as_str().unwrap().len(), 64, "{k}");
                k["name"].as_str().unwrap_or("?").to_string()
            })
            .collect()
    };
    (
        against["delegator"].as_str().unwrap().to_string(),
        against["threshold"].as_u64().unwrap(),
        names(&against["signed"]),
        names(&against["missing"]),
        against["needed"].as_u64().unwrap(),
    )
}

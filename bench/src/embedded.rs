//! Start our embedded service in-process on an ephemeral port, with a fresh
//! data directory, the built plugins and a bootstrap payload made by the
//! test ceremony script (tests/python/ceremony.py: ed25519 root keys, an
//! `fn:` online key). Benchmarks that need a server use this so they run
//! from a clean state with one command.

use crate::client::Api;
use anyhow::{bail, Context};
use rstuf_host::config::{Config, Env};
use rstuf_host::service::Service;
use rstuf_host::worker::clock::Clock;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct Embedded {
    pub service: Service,
    pub api: Api,
    pub dir: tempfile::TempDir,
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Vars(Vec<(String, String)>);

impl Env for Vars {
    fn var(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// Start a service with `extra` `RSTUF_*` variables on top of the defaults.
pub async fn start(extra: &[(&str, &str)]) -> anyhow::Result<Embedded> {
    start_configured(extra, |_| {}).await
}

/// Like [`start`], then `adjust` the configuration (e.g. other plugins).
pub async fn start_configured(
    extra: &[(&str, &str)],
    adjust: impl FnOnce(&mut Config),
) -> anyhow::Result<Embedded> {
    let dir = tempfile::tempdir()?;
    let root = workspace_root();
    let mut env = vec![
        (
            "RSTUF_DATA_DIR".to_string(),
            dir.path().join("data").display().to_string(),
        ),
        ("RSTUF_LISTEN".into(), "127.0.0.1:0".into()),
        (
            "RSTUF_ONLINE_KEY_DIR".into(),
            dir.path().join("keys").display().to_string(),
        ),
        (
            "RSTUF_PLUGIN_DIR".into(),
            root.join("dist/plugins").display().to_string(),
        ),
        ("RSTUF_LOG_LEVEL".into(), "warn".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    std::fs::create_dir_all(dir.path().join("keys"))?;
    let mut config = Config::load(None, &Vars(env))?;
    config.plugins.cache_dir = root.join("target/plugin-cache");
    adjust(&mut config);
    let service = rstuf_host::service::start(config, Clock::default()).await?;
    let addr = service.addr.context("the API is not running")?;
    Ok(Embedded {
        service,
        api: Api::new(&format!("http://{addr}")),
        dir,
    })
}

/// A ceremony payload for `bins` succinct hash bins (keys under `dir`).
pub fn ceremony(dir: &Path, bins: u32, args: &[&str]) -> anyhow::Result<Value> {
    let out = std::process::Command::new("python3")
        .arg(workspace_root().join("tests/python/ceremony.py"))
        .args(["--out"])
        .arg(dir.join("ceremony"))
        .arg("--key-dir")
        .arg(dir.join("keys"))
        .args(["--bins", &bins.to_string()])
        .args(args)
        .output()
        .context("python3 tests/python/ceremony.py (run `make setup` first)")?;
    if !out.status.success() {
        bail!("ceremony.py: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

impl Embedded {
    /// Bootstrap with `bins` succinct bins; returns how long the task took
    /// from POST to SUCCESS.
    pub async fn bootstrap(&self, bins: u32) -> anyhow::Result<Duration> {
        self.bootstrap_with(bins, &[]).await
    }

    /// Bootstrap with extra ceremony.py arguments (e.g. a Vault online key).
    pub async fn bootstrap_with(&self, bins: u32, args: &[&str]) -> anyhow::Result<Duration> {
        let payload = ceremony(self.dir.path(), bins, args)?;
        let started = Instant::now();
        self.api
            .run("/api/v1/bootstrap/", &payload, Duration::from_secs(1800))
            .await?;
        Ok(started.elapsed())
    }
}

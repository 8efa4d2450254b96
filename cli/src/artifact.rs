//! `rstuf artifact add|delete`: submit artifacts the way upstream's CLI
//! does (length and blake2b-256 computed locally, path = prefix + file name).

use crate::client::Client;
use crate::error::{local, CliResult};
use crate::output::Output;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use reqwest::Method;
use serde_json::{json, Value};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// Length and hex blake2b-256 of a file, streamed.
pub fn hash_file(file: &Path) -> CliResult<(u64, String)> {
    let mut f = std::fs::File::open(file)
        .map_err(|e| local(format!("cannot open {}: {e}", file.display())))?;
    let mut hasher = Blake2b::<U32>::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut length = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| local(format!("cannot read {}: {e}", file.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        length += n as u64;
    }
    Ok((length, hex::encode(hasher.finalize())))
}

/// The artifact path: `<prefix>/<file name>`.
pub fn artifact_path(file: &Path, prefix: Option<&str>) -> CliResult<String> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| local(format!("{} has no usable file name", file.display())))?;
    Ok(
        match prefix
            .map(|p| p.trim_matches('/'))
            .filter(|p| !p.is_empty())
        {
            Some(p) => format!("{p}/{name}"),
            None => name.to_string(),
        },
    )
}

async fn finish(
    client: &Client,
    task_id: &str,
    wait: bool,
    out: &Output,
    extra: Value,
) -> CliResult<()> {
    if wait {
        let outcome = client
            .wait(task_id, Duration::from_secs(600), |_| {})
            .await?;
        if out.json {
            out.print_json(&json!({ "task_id": task_id, "state": outcome.state, "result": outcome.result, "submitted": extra }));
        } else {
            out.success(&format!(
                "{}: {}",
                outcome.state,
                outcome
                    .result
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            ));
        }
    } else if out.json {
        out.print_json(&json!({ "task_id": task_id, "submitted": extra }));
    } else {
        println!("task id: {task_id}");
    }
    Ok(())
}

pub async fn add(
    client: &Client,
    file: &Path,
    prefix: Option<&str>,
    publish: bool,
    wait: bool,
    out: &Output,
) -> CliResult<()> {
    let (length, digest) = hash_file(file)?;
    let path = artifact_path(file, prefix)?;
    let body = json!({
        "artifacts": [{ "info": { "length": length, "hashes": { "blake2b-256": digest }, "custom": null }, "path": path }],
        "add_task_id_to_custom": false,
        "publish_artifacts": publish,
    });
    let task_id = client
        .submit(
            Method::POST,
            "api/v1/artifacts/",
            Some(&body),
            "New Artifact(s) successfully submitted.",
        )
        .await?;
    finish(
        client,
        &task_id,
        wait,
        out,
        json!({ "path": path, "length": length, "blake2b-256": digest }),
    )
    .await
}

pub async fn delete(
    client: &Client,
    paths: &[String],
    publish: bool,
    wait: bool,
    out: &Output,
) -> CliResult<()> {
    if paths.is_empty() {
        return Err(crate::error::CliError::Usage(
            "give at least one artifact path".into(),
        ));
    }
    let body = json!({ "artifacts": paths, "publish_artifacts": publish });
    let task_id = client
        .submit(
            Method::POST,
            "api/v1/artifacts/delete",
            Some(&body),
            "Remove Artifact(s) successfully submitted.",
        )
        .await?;
    finish(client, &task_id, wait, out, json!(paths)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_like_upstream_and_builds_paths() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("file1.tar.gz");
        std::fs::write(&f, b"hello").unwrap();
        let (len, digest) = hash_file(&f).unwrap();
        assert_eq!(len, 5);
        // python: hashlib.blake2b(b"hello", digest_size=32).hexdigest()
        assert_eq!(
            digest,
            "324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf"
        );
        assert_eq!(artifact_path(&f, Some("/v1/")).unwrap(), "v1/file1.tar.gz");
        assert_eq!(artifact_path(&f, None).unwrap(), "file1.tar.gz");
    }
}

/// Where a repository's metadata and artifacts are, and what to trust.
#[derive(clap::Args, Debug)]
pub struct TufArgs {
    /// The artifact path, e.g. `pkg/a-1.0.tar.gz`.
    pub path: String,
    /// Pinned trusted root (obtained out of band). Needed the first time
    /// for a metadata URL (or the current repository's trusted_root);
    /// later the newest verified root is remembered.
    #[arg(short = 'r', long, value_name = "FILE|URL")]
    pub root: Option<String>,
    /// Base URL of the metadata, e.g. `http://127.0.0.1:8080/metadata`
    /// [default: the current repository's metadata_url].
    #[arg(short = 'm', long, env = "RSTUF_METADATA_URL", value_name = "URL")]
    pub metadata_url: Option<String>,
    /// Where trust state is kept (default `~/.local/share/rstuf`).
    #[arg(long, env = "RSTUF_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<std::path::PathBuf>,
}

async fn resolve(
    args: &TufArgs,
    current: Option<&crate::profile::Repository>,
) -> CliResult<(crate::tuf_client::Repo, crate::tuf_client::Found, Value)> {
    use crate::error::CliError;
    let base = args
        .state_dir
        .clone()
        .unwrap_or_else(crate::tuf_client::default_state_base);
    let metadata_url = args
        .metadata_url
        .clone()
        .or_else(|| current.and_then(|r| r.metadata_url.clone()))
        .ok_or_else(|| {
            CliError::Usage(
                "Please specify metadata url: -m/--metadata-url, RSTUF_METADATA_URL, or a current repository in the configuration (rstuf artifact repository add/set)".into(),
            )
        })?;
    let repo = crate::tuf_client::Repo::new(&metadata_url, &base)?;
    // The configured repository's root belongs to its own metadata URL only.
    let current = current.filter(|r| {
        r.metadata_url.as_deref().map(|u| u.trim_end_matches('/'))
            == Some(metadata_url.trim_end_matches('/'))
    });
    let pinned = match &args.root {
        Some(r) => {
            let bytes = crate::profile::fetch_root(r).await?;
            Some(
                serde_json::from_slice(&bytes)
                    .map_err(|e| CliError::Usage(format!("--root {r} is not JSON: {e}")))?,
            )
        }
        None => match current {
            Some(r) => r.root()?,
            None => None,
        },
    };
    let trusted = repo.refresh(pinned).await?;
    let versions = json!({
        "root": trusted.root.version(),
        "timestamp": trusted.timestamp.version(),
        "snapshot": trusted.snapshot.version(),
        "targets": trusted.targets.version(),
    });
    let found = repo.find(&trusted, &args.path).await?.ok_or_else(|| {
        CliError::Server(format!(
            "'{}' is not in the repository (metadata verified: {versions})",
            args.path
        ))
    })?;
    Ok((repo, found, versions))
}

/// `rstuf artifact info PATH`: the artifact's verified metadata entry.
pub async fn info(
    args: &TufArgs,
    current: Option<&crate::profile::Repository>,
    out: &Output,
) -> CliResult<()> {
    let (_, found, versions) = resolve(args, current).await?;
    let doc = json!({
        "path": found.path, "role": found.role, "info": found.info, "metadata": versions,
    });
    if out.json {
        out.print_json(&doc);
    } else {
        out.success(&format!("{} (verified through TUF)", found.path));
        println!("  role:    {}", found.role);
        println!("  length:  {}", found.info.length);
        for (alg, v) in &found.info.hashes {
            println!("  {alg}: {v}");
        }
        if let Some(custom) = &found.info.custom {
            println!("  custom:  {}", Value::Object(custom.clone()));
        }
        println!("  metadata: {versions}");
    }
    Ok(())
}

/// `rstuf artifact download PATH`: fetch and verify the artifact.
pub async fn download(
    args: &TufArgs,
    current: Option<&crate::profile::Repository>,
    artifacts_url: Option<&str>,
    hash_prefix: bool,
    dir: Option<&Path>,
    out: &Output,
) -> CliResult<()> {
    let artifacts_url = artifacts_url
        .map(str::to_string)
        .or_else(|| current.and_then(|r| r.artifact_base_url.clone()))
        .ok_or_else(|| {
            crate::error::CliError::Usage(
                "Please specify artifacts url: -a/--artifacts-url, RSTUF_ARTIFACTS_URL, or a current repository in the configuration".into(),
            )
        })?;
    let hash_prefix = hash_prefix || current.is_some_and(|r| r.hash_prefix);
    let dir = dir.map(Path::to_path_buf).unwrap_or_else(|| {
        current
            .and_then(|r| r.download_dir.clone())
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from("downloads"))
    });
    let (repo, found, _) = resolve(args, current).await?;
    let file = repo
        .download(&found, &artifacts_url, hash_prefix, &dir)
        .await?;
    if out.json {
        out.print_json(&json!({
            "path": found.path, "file": file.display().to_string(), "info": found.info,
        }));
    } else {
        out.success(&format!(
            "Downloaded {} to {} (length and hashes verified)",
            found.path,
            file.display()
        ));
    }
    Ok(())
}

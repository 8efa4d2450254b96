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

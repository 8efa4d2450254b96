//! `rstuf admin import-artifacts`: bulk import from upstream's CSV format
//! (`path;length;hash-alg;hash`, no header), fast and through the API, so
//! it works against any deployment (embedded SQLite or PostgreSQL) without
//! database credentials. Every line is checked before anything is sent;
//! artifacts go in large batches stored unpublished, then one publish pass
//! signs them all.

use crate::client::Client;
use crate::error::{local, CliError, CliResult};
use crate::output::Output;
use crate::send;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Hash algorithms accepted in the CSV, with their hex digest length.

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// CSV file(s) of `path;length;hash-alg;hash` lines (repeatable).
    #[arg(long = "csv", value_name = "FILE", required = true)]
    pub csv: Vec<PathBuf>,
    /// Artifacts per request.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=50_000))]
    pub batch: u64,
    /// Store the artifacts without publishing them (publish later).
    #[arg(long)]
    pub skip_publish_artifacts: bool,
    /// Accepted for compatibility with upstream's CLI, which writes to the
    /// database directly; this command imports through the API instead.
    #[arg(long, value_name = "URI", hide = true)]
    pub db_uri: Option<String>,
}

/// One CSV line as an artifact of the v1 API.
fn parse_line(line: &str) -> Result<(String, Value), String> {
    let fields: Vec<&str> = line.split(';').map(str::trim).collect();
    let [path, length, alg, hash] = fields.as_slice() else {
        return Err(format!(
            "expected 4 fields 'path;length;hash-alg;hash', found {}",
            fields.len()
        ));
    };
    if path.is_empty()
        || path.starts_with('/')
        || path.split('/').any(|s| s == ".." || s == ".")
        || path.chars().any(|c| c.is_control())
    {
        return Err(format!("'{path}' is not a relative artifact path"));
    }
    // Lengths are signed as canonical JSON integers and stored as the
    // API's i64: anything above i64::MAX could never be published.
    let length: i64 = length
        .parse()
        .ok()
        .filter(|n: &i64| *n >= 0)
        .ok_or_else(|| format!("length '{length}' is not an integer from 0 to {}", i64::MAX))?;
    let Some(hex_len) = rstuf_tuf::hashes::hex_len(alg) else {
        return Err(format!(
            "hash algorithm '{alg}' is not one of {}",
            rstuf_tuf::hashes::DIGEST_HEX_LEN
                .iter()
                .map(|(a, _)| *a)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    if rstuf_tuf::hashes::digest_problem(alg, hash).is_some() {
        return Err(format!(
            "'{hash}' is not a {alg} digest ({hex_len} hex digits)"
        ));
    }
    Ok((
        path.to_string(),
        json!({ "path": path, "info": { "length": length, "hashes": { *alg: hash.to_ascii_lowercase() } } }),
    ))
}

/// Every artifact of every file, checked; errors name file and line.
fn read_all(files: &[PathBuf]) -> CliResult<Vec<Value>> {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut artifacts = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| local(format!("cannot read {}: {e}", file.display())))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("{}:{}", file.display(), n + 1);
            let (path, artifact) = parse_line(line).map_err(|e| local(format!("{at}: {e}")))?;
            if let Some(first) = seen.insert(path.clone(), at.clone()) {
                return Err(local(format!(
                    "{at}: '{path}' is already listed at {first}"
                )));
            }
            artifacts.push(artifact);
        }
    }
    if artifacts.is_empty() {
        return Err(local("the CSV files list no artifacts"));
    }
    Ok(artifacts)
}

/// A progress bar on standard error, drawn only for a terminal.
struct Progress {
    total: usize,
    done: usize,
    started: Instant,
    draw: bool,
}

impl Progress {
    fn new(total: usize, out: &Output) -> Progress {
        Progress {
            total,
            done: 0,
            started: Instant::now(),
            draw: !out.json && std::io::stderr().is_terminal(),
        }
    }

    fn advance(&mut self, n: usize, what: &str) {
        self.done += n;
        if !self.draw {
            return;
        }
        let width = 30;
        let filled = width * self.done / self.total.max(1);
        let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        let _ = write!(
            std::io::stderr(),
            "\r[{}{}] {}/{} {what} ({rate:.0}/s)   ",
            "#".repeat(filled),
            "-".repeat(width - filled),
            self.done,
            self.total
        );
        if self.done >= self.total {
            let _ = writeln!(std::io::stderr());
        }
    }
}

pub async fn import(args: &ImportArgs, client: &Client, out: &Output) -> CliResult<()> {
    let artifacts = read_all(&args.csv)?;
    let (status, state) = client.get("api/v1/bootstrap/").await?;
    if status != 200 || state.pointer("/data/bootstrap").and_then(Value::as_bool) != Some(true) {
        return Err(CliError::Server(format!(
            "the repository is not bootstrapped yet ({})",
            crate::client::describe(&state)
        )));
    }
    let started = Instant::now();
    let mut progress = Progress::new(artifacts.len(), out);
    let mut tasks = Vec::new();
    for chunk in artifacts.chunks(args.batch as usize) {
        let task_id = client
            .submit(
                reqwest::Method::POST,
                "api/v1/artifacts/",
                Some(&json!({ "artifacts": chunk, "publish_artifacts": false })),
                "New Artifact(s) successfully submitted.",
            )
            .await?;
        tasks.push((task_id, chunk.len()));
    }
    for (task_id, n) in &tasks {
        let outcome = client
            .wait(task_id, Duration::from_secs(3600), |_| {})
            .await?;
        if outcome.state != rstuf_api::task::TaskState::Success
            || outcome.result.get("status").and_then(Value::as_bool) == Some(false)
        {
            return Err(CliError::Task(format!(
                "import task {task_id} failed: {}",
                outcome.result
            )));
        }
        progress.advance(*n, "stored");
    }
    let mut summary = json!({
        "artifacts": artifacts.len(),
        "tasks": tasks.iter().map(|(t, _)| t).collect::<Vec<_>>(),
        "import_seconds": started.elapsed().as_secs_f64(),
    });
    if !args.skip_publish_artifacts {
        let (task_id, outcome) = send::submit_and_wait_outcome(
            client,
            "api/v1/artifacts/publish/",
            &json!({}),
            "Publish artifacts successfully submitted.",
            &Output::new(true),
        )
        .await?;
        if outcome.state != rstuf_api::task::TaskState::Success {
            return Err(CliError::Task(format!(
                "publish task {task_id} failed: {}",
                outcome.result
            )));
        }
        summary["publish"] = send::outcome_json(&task_id, &outcome);
    }
    summary["total_seconds"] = json!(started.elapsed().as_secs_f64());
    if out.json {
        out.print_json(&summary);
    } else {
        out.success(&format!(
            "Imported {} artifacts in {:.1} s{}",
            artifacts.len(),
            started.elapsed().as_secs_f64(),
            if args.skip_publish_artifacts {
                " (not published yet: POST /api/v1/artifacts/publish/ publishes them)"
            } else {
                ", published"
            }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_are_checked() {
        let h = "a".repeat(64);
        let (path, a) =
            parse_line(&format!("pkg/x-1.0.tar.gz;42;sha256;{}", h.to_uppercase())).unwrap();
        assert_eq!(path, "pkg/x-1.0.tar.gz");
        assert_eq!(a["info"]["length"], 42);
        assert_eq!(a["info"]["hashes"]["sha256"], h);
        for (line, want) in [
            ("a;1;sha256".to_string(), "4 fields"),
            (format!("/abs;1;sha256;{h}"), "relative"),
            (format!("a/../b;1;sha256;{h}"), "relative"),
            (format!("a;-1;sha256;{h}"), "length"),
            (format!("a;9223372036854775808;sha256;{h}"), "length"),
            (format!("a;1.5;sha256;{h}"), "length"),
            (format!("a;1;md5;{h}"), "md5"),
            ("a;1;sha256;xyz".to_string(), "64 hex"),
        ] {
            let e = parse_line(&line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }

    #[test]
    fn files_are_read_with_line_numbers_and_duplicates_refused() {
        let dir = tempfile::tempdir().unwrap();
        let h = "b".repeat(64);
        let a = dir.path().join("a.csv");
        std::fs::write(&a, format!("x;1;sha256;{h}\n\ny;2;sha256;{h}\n")).unwrap();
        assert_eq!(read_all(std::slice::from_ref(&a)).unwrap().len(), 2);
        let b = dir.path().join("b.csv");
        std::fs::write(&b, format!("z;1;sha256;{h}\nx;1;sha256;{h}\n")).unwrap();
        let e = read_all(&[a.clone(), b]).unwrap_err().to_string();
        assert!(e.contains("b.csv:2") && e.contains("a.csv:1"), "{e}");
        let c = dir.path().join("c.csv");
        std::fs::write(&c, "x;one;sha256;00\n").unwrap();
        assert!(read_all(&[c]).unwrap_err().to_string().contains("c.csv:1"));
    }
}

//! `rstuf admin ceremony --answers FILE`: the ceremony's answers in a TOML
//! file, for repeatable, reviewable ceremonies. Each key is a long option
//! of the ceremony without its dashes; the file's answers are read as if
//! they were typed where `--answers FILE` stands, so a single-valued option
//! given after it on the command line wins, and a repeatable one
//! (`root-key`, `sign`, `expires`) adds to the file's list:
//!
//! ```toml
//! root-key = ["alice.pem:alice", "bob.pem.pub:bob"]
//! root-threshold = 2
//! online-key = "online.pem.pub"
//! bins = 256
//! expires = { root = 365, targets = 365, snapshot = 1, timestamp = 1, bins = 1 }
//! sign = ["alice.pem"]
//! out = "ceremony-payload.json"
//! ```
//!
//! Relative paths are relative to the working directory, as on the command
//! line.

use crate::error::{CliError, CliResult};
use std::ffi::OsString;

const FLAG: &str = "--answers";
/// Largest answers file read.
const MAX_BYTES: u64 = 1 << 20;

/// Replace `--answers FILE` (or `--answers=FILE`) after the `ceremony`
/// subcommand with the options the file holds.
pub fn expand(args: Vec<OsString>) -> CliResult<Vec<OsString>> {
    // The `ceremony` subcommand: the first `ceremony` after `admin`.
    let admin = args.iter().position(|a| a == "admin");
    let ceremony = admin.and_then(|a| {
        args.iter()
            .skip(a + 1)
            .position(|x| x == "ceremony")
            .map(|i| a + 1 + i)
    });
    let Some(ceremony) = ceremony else {
        return Ok(args);
    };
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter().enumerate();
    let mut options_end = false;
    while let Some((i, arg)) = iter.next() {
        let text = arg.to_str().filter(|_| i > ceremony && !options_end);
        let file = match text {
            Some("--") => {
                options_end = true;
                out.push(arg);
                continue;
            }
            Some(FLAG) => match iter.next() {
                Some((_, f)) => f,
                None => return Err(CliError::Usage(format!("{FLAG} needs a file"))),
            },
            Some(t) if t.starts_with("--answers=") => OsString::from(&t["--answers=".len()..]),
            _ => {
                out.push(arg);
                continue;
            }
        };
        out.extend(options_from(&std::path::PathBuf::from(file))?);
    }
    Ok(out)
}

fn options_from(path: &std::path::Path) -> CliResult<Vec<OsString>> {
    let bad = |why: String| CliError::Usage(format!("answers file {}: {why}", path.display()));
    let size = std::fs::metadata(path)
        .map_err(|e| bad(e.to_string()))?
        .len();
    if size > MAX_BYTES {
        return Err(bad(format!("larger than {MAX_BYTES} bytes")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| bad(e.to_string()))?;
    let mut out = Vec::new();
    for (key, value) in table {
        if key == "answers" || key == "interactive" {
            return Err(bad(format!("'{key}' cannot be given in an answers file")));
        }
        if key.starts_with('-') || !key.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
            return Err(bad(format!("'{key}' is not a ceremony option name")));
        }
        // `--key=value`, so a value that starts with `-` stays a value.
        let flag = format!("--{key}");
        let with = |v: String| OsString::from(format!("{flag}={v}"));
        let scalar = |v: &toml::Value| -> CliResult<String> {
            match v {
                toml::Value::String(s) => Ok(s.clone()),
                toml::Value::Integer(n) => Ok(n.to_string()),
                other => Err(bad(format!("'{key}' has an unsupported value {other}"))),
            }
        };
        match &value {
            toml::Value::Boolean(true) => out.push(OsString::from(&flag)),
            toml::Value::Boolean(false) => {}
            toml::Value::Array(items) => {
                for item in items {
                    out.push(with(scalar(item)?));
                }
            }
            toml::Value::Table(t) => {
                // `expires = { root = 365, … }` → `--expires=root=365,…`
                let parts: CliResult<Vec<String>> = t
                    .iter()
                    .map(|(k, v)| scalar(v).map(|v| format!("{k}={v}")))
                    .collect();
                out.push(with(parts?.join(",")));
            }
            v => out.push(with(scalar(v)?)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn answers_become_options_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.toml");
        std::fs::write(
            &file,
            "root-key = [\"a.pem\", \"b.pem:bob\"]\nroot-threshold = 2\nbins = 8\nsend = true\nexpires = { root = 30, bins = 2 }\n",
        )
        .unwrap();
        let f = file.to_str().unwrap();
        let got = expand(os(&[
            "rstuf",
            "admin",
            "ceremony",
            "--answers",
            f,
            "--bins",
            "16",
        ]))
        .unwrap();
        let want = os(&[
            "rstuf",
            "admin",
            "ceremony",
            "--bins=8",
            "--expires=bins=2,root=30",
            "--root-key=a.pem",
            "--root-key=b.pem:bob",
            "--root-threshold=2",
            "--send",
            "--bins",
            "16",
        ]);
        assert_eq!(got, want);
        let eq = format!("--answers={f}");
        let n = |v: &[&str]| expand(os(v)).unwrap().len();
        assert_eq!(n(&["rstuf", "admin", "ceremony", &eq]), 3 + 6);
        // Other commands, and anything after `--`, are left alone.
        assert_eq!(n(&["rstuf", "task", "--answers", f]), 4);
        assert_eq!(n(&["rstuf", "admin", "send", "x", "--answers", f]), 6);
        assert_eq!(n(&["rstuf", "admin", "ceremony", "--", "--answers", f]), 6);
    }

    #[test]
    fn bad_answers_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.toml");
        for (text, why) in [
            ("interactive = true", "cannot be given"),
            ("\"--bins\" = 8", "not a ceremony option"),
            ("bins = 1.5", "unsupported value"),
            ("bins = ", "TOML parse error"),
        ] {
            std::fs::write(&file, text).unwrap();
            let err = expand(os(&[
                "rstuf",
                "admin",
                "ceremony",
                "--answers",
                file.to_str().unwrap(),
            ]))
            .unwrap_err();
            assert!(matches!(err, CliError::Usage(_)), "{err}");
            assert!(err.to_string().contains(why), "{text}: {err}");
        }
        let err = expand(os(&[
            "rstuf",
            "admin",
            "ceremony",
            "--answers",
            "/nonexistent.toml",
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent.toml"), "{err}");
    }
}

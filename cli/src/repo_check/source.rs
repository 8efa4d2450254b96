//! Where `rstuf repo check` reads metadata from: a directory (what a
//! storage backend wrote, e.g. storage-fs's `metadata/`) or an HTTP(S)
//! base URL (what clients see). A directory can also be listed, which is
//! how the history of versioned files is found; over HTTP only files
//! named by the metadata (and the previous snapshot) are fetched.
//!
//! A file that is not there is a finding, never an error of the tool;
//! a server that cannot be reached, or answers something other than
//! 200/403/404, stops the check (exit 3), because every later finding
//! would be noise.

use crate::error::{CliError, CliResult};
use std::path::PathBuf;
use std::time::Duration;

/// Largest metadata file read: three times tough's largest default limit
/// (10 MiB), so files over every client's limit are still reported, while
/// a hostile server cannot make one batch ([`CONCURRENCY`] files) hold more
/// than 512 MiB.
pub const MAX_FILE: u64 = 32 << 20;

/// Files fetched at once over HTTP.
pub const CONCURRENCY: usize = 16;

#[derive(Clone)]
pub enum Source {
    Dir(PathBuf),
    Http { http: reqwest::Client, base: String },
}

/// One file read.
pub enum Got {
    Bytes(Vec<u8>),
    Missing,
    TooLarge(u64),
    /// A directory entry that is a symbolic link or not a file: never
    /// followed, so a check reads nothing outside the directory.
    NotAFile,
}

impl Source {
    /// `location` is an `http(s)://` URL or an existing directory.
    pub fn parse(location: &str) -> CliResult<Source> {
        if location.starts_with("http://") || location.starts_with("https://") {
            let http = crate::client::http_builder()?
                .timeout(Duration::from_secs(120))
                .build()
                .map_err(|e| CliError::Local(format!("HTTP client: {e}")))?;
            return Ok(Source::Http {
                http,
                base: location.trim_end_matches('/').to_string(),
            });
        }
        let dir = PathBuf::from(location);
        if dir.is_dir() {
            return Ok(Source::Dir(dir));
        }
        Err(CliError::Usage(format!(
            "'{location}' is neither an http:// or https:// URL nor a directory: pass the repository's metadata URL (e.g. http://host:8080/metadata) or the directory holding timestamp.json"
        )))
    }

    /// The file names in a directory source, `None` over HTTP.
    pub fn list(&self) -> CliResult<Option<Vec<String>>> {
        let Source::Dir(dir) = self else {
            return Ok(None);
        };
        let entries = std::fs::read_dir(dir)
            .map_err(|e| CliError::Local(format!("cannot list {}: {e}", dir.display())))?;
        Ok(Some(
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .collect(),
        ))
    }

    /// Read `name` (a file name, never a path: role names are quoted
    /// first, see [`file_name`]).
    pub async fn get(&self, name: &str) -> CliResult<Got> {
        match self {
            Source::Dir(dir) => {
                let path = dir.join(name);
                let size = match std::fs::symlink_metadata(&path) {
                    Ok(m) if m.is_file() => m.len(),
                    Ok(_) => return Ok(Got::NotAFile),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Got::Missing),
                    Err(e) => {
                        return Err(CliError::Local(format!(
                            "cannot read {}: {e}",
                            path.display()
                        )))
                    }
                };
                if size > MAX_FILE {
                    return Ok(Got::TooLarge(size));
                }
                std::fs::read(&path)
                    .map(Got::Bytes)
                    .map_err(|e| CliError::Local(format!("cannot read {}: {e}", path.display())))
            }
            Source::Http { http, base } => {
                let url = format!("{base}/{name}");
                let mut response = http.get(&url).send().await.map_err(|e| {
                    CliError::Server(format!(
                        "cannot reach {url}: {e}: check the URL and that the server is up"
                    ))
                })?;
                match response.status().as_u16() {
                    200 => {}
                    403 | 404 => return Ok(Got::Missing),
                    s => {
                        return Err(CliError::Server(format!(
                            "GET {url} answered HTTP {s}: the repository cannot be checked while its server fails"
                        )))
                    }
                }
                let mut body = Vec::new();
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| CliError::Server(format!("reading {url}: {e}")))?
                {
                    body.extend_from_slice(&chunk);
                    if body.len() as u64 > MAX_FILE {
                        return Ok(Got::TooLarge(body.len() as u64));
                    }
                }
                Ok(Got::Bytes(body))
            }
        }
    }

    /// Read all of `names`, up to [`CONCURRENCY`] at a time, in order.
    pub async fn get_many(&self, names: &[String]) -> CliResult<Vec<Got>> {
        if matches!(self, Source::Dir(_)) {
            let mut out = Vec::with_capacity(names.len());
            for name in names {
                out.push(self.get(name).await?);
            }
            return Ok(out);
        }
        let mut out: Vec<Option<Got>> = (0..names.len()).map(|_| None).collect();
        for (chunk_index, chunk) in names.chunks(CONCURRENCY).enumerate() {
            let mut set = tokio::task::JoinSet::new();
            for (i, name) in chunk.iter().enumerate() {
                let source = self.clone();
                let name = name.clone();
                set.spawn(async move { (i, source.get(&name).await) });
            }
            while let Some(joined) = set.join_next().await {
                let (i, got) =
                    joined.map_err(|e| CliError::Local(format!("fetch task failed: {e}")))?;
                out[chunk_index * CONCURRENCY + i] = Some(got?);
            }
        }
        Ok(out.into_iter().map(|g| g.unwrap_or(Got::Missing)).collect())
    }
}

/// The file a client fetches for `role` at `version` (`None`: not
/// consistent snapshot). Role names are quoted as python-tuf quotes them
/// (`urllib.parse.quote(name, "")`), so a name can never be a path.
pub fn file_name(role: &str, version: Option<u64>) -> String {
    let mut quoted = String::with_capacity(role.len());
    for b in role.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            quoted.push(b as char);
        } else {
            quoted.push_str(&format!("%{b:02X}"));
        }
    }
    match version {
        Some(v) => format!("{v}.{quoted}.json"),
        None => format!("{quoted}.json"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_quoted_so_they_cannot_name_paths() {
        assert_eq!(file_name("bins-0a", Some(3)), "3.bins-0a.json");
        assert_eq!(file_name("targets", None), "targets.json");
        assert_eq!(
            file_name("../../etc/passwd", Some(1)),
            "1...%2F..%2Fetc%2Fpasswd.json"
        );
        assert_eq!(file_name("a b", None), "a%20b.json");
    }

    #[test]
    fn a_location_is_a_url_or_a_directory() {
        assert!(
            matches!(Source::parse("http://h/metadata/"), Ok(Source::Http { base, .. }) if base == "http://h/metadata")
        );
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Source::parse(dir.path().to_str().unwrap()),
            Ok(Source::Dir(_))
        ));
        let err = Source::parse("/no/such/dir").err().unwrap();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("neither"), "{err}");
    }
}

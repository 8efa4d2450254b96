//! The CLI configuration file (`-c/--config FILE`, default `~/.rstuf.yml`)
//! in the upstream CLI's format, so one file serves both tools:
//!
//! ```yaml
//! SERVER: https://rstuf.example.com          # the API server
//! CURRENT_REPOSITORY: prod
//! REPOSITORIES:
//!   prod:
//!     artifact_base_url: https://files.example.com
//!     metadata_url: https://rstuf.example.com/metadata
//!     trusted_root: <base64 of root.json>
//!     hash_prefix: false
//! ```
//!
//! Upstream reads it with Dynaconf, whose top-level keys are
//! case-insensitive; so are ours. Keys we do not know are kept as they are
//! when we write the file. Ours may add to a repository `server` and
//! `headers` (upstream ignores both): commands then talk to that server
//! with those headers while the repository is current. Precedence for the
//! server: `--api-server`, `RSTUF_API_SERVER`, the current repository's
//! `server`, `SERVER`, `http://127.0.0.1:8080`; for headers: `-H`, the
//! current repository's `headers`, `HEADERS`.

use crate::error::{CliError, CliResult};
use crate::output::Output;
use base64::Engine;
use serde_json::{json, Value};
use serde_yaml_ng::{Mapping, Value as Yaml};
use std::path::{Path, PathBuf};

/// The default file: `~/.rstuf.yml`, as upstream.
pub fn default_path() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".rstuf.yml")
}

/// One configured repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub artifact_base_url: Option<String>,
    pub metadata_url: Option<String>,
    /// Base64 of the trusted root's JSON, as upstream stores it.
    pub trusted_root: Option<String>,
    pub hash_prefix: bool,
    pub download_dir: Option<String>,
    pub server: Option<String>,
    pub headers: Vec<String>,
}

impl Repository {
    /// The trusted root, decoded.
    pub fn root(&self) -> CliResult<Option<Value>> {
        let Some(encoded) = &self.trusted_root else {
            return Ok(None);
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| {
                CliError::Usage(format!("the configured trusted_root is not base64: {e}"))
            })?;
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            CliError::Usage(format!("the configured trusted_root is not root JSON: {e}"))
        })
    }
}

/// The file, as read (missing: empty) and as it will be written.
pub struct ConfigFile {
    pub path: PathBuf,
    doc: Mapping,
}

fn key(k: &str) -> Yaml {
    Yaml::String(k.to_string())
}

/// A string, or a list/map of header lines (`Name: value`).
fn header_lines(v: &Yaml) -> Vec<String> {
    match v {
        Yaml::String(s) => vec![s.clone()],
        Yaml::Sequence(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Yaml::Mapping(m) => m
            .iter()
            .filter_map(|(k, v)| Some(format!("{}: {}", k.as_str()?, scalar(v)?)))
            .collect(),
        _ => Vec::new(),
    }
}

fn scalar(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl ConfigFile {
    pub fn load(path: &Path) -> CliResult<ConfigFile> {
        let doc = match std::fs::read_to_string(path) {
            Ok(text) if text.trim().is_empty() => Mapping::new(),
            Ok(text) => match serde_yaml_ng::from_str::<Yaml>(&text) {
                Ok(Yaml::Mapping(m)) => m,
                Ok(Yaml::Null) => Mapping::new(),
                Ok(_) => {
                    return Err(CliError::Usage(format!(
                        "{} is not an rstuf configuration: its top level must be a mapping (SERVER, REPOSITORIES, CURRENT_REPOSITORY)",
                        path.display()
                    )))
                }
                Err(e) => {
                    return Err(CliError::Usage(format!(
                        "{} is not valid YAML: {e}",
                        path.display()
                    )))
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Mapping::new(),
            Err(e) => {
                return Err(CliError::Local(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        };
        Ok(ConfigFile {
            path: path.to_path_buf(),
            doc,
        })
    }

    /// A top-level value, its key matched case-insensitively.
    fn get(&self, name: &str) -> Option<&Yaml> {
        self.doc
            .iter()
            .find(|(k, _)| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v)
    }

    /// The key as the file spells it (upstream writes upper case).
    fn key_of(&self, name: &str) -> Yaml {
        self.doc
            .keys()
            .find(|k| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
            .cloned()
            .unwrap_or_else(|| key(name))
    }

    pub fn server(&self) -> Option<String> {
        self.get("SERVER")
            .and_then(scalar)
            .filter(|s| !s.is_empty())
    }

    pub fn headers(&self) -> Vec<String> {
        self.get("HEADERS").map(header_lines).unwrap_or_default()
    }

    pub fn current_name(&self) -> Option<String> {
        self.get("CURRENT_REPOSITORY")
            .and_then(scalar)
            .filter(|s| !s.is_empty())
    }

    fn repositories_map(&self) -> Option<&Mapping> {
        self.get("REPOSITORIES").and_then(Yaml::as_mapping)
    }

    pub fn names(&self) -> Vec<String> {
        self.repositories_map()
            .map(|m| m.keys().filter_map(scalar).collect())
            .unwrap_or_default()
    }

    pub fn repository(&self, name: &str) -> CliResult<Option<Repository>> {
        let Some(entry) = self.repositories_map().and_then(|m| m.get(name)) else {
            return Ok(None);
        };
        let m = entry.as_mapping().ok_or_else(|| {
            CliError::Usage(format!(
                "Repository {name} has incorrect configuration: it must be a mapping of artifact_base_url, metadata_url, trusted_root and hash_prefix"
            ))
        })?;
        let text = |k: &str| m.get(k).and_then(scalar).filter(|s| !s.is_empty());
        let hash_prefix = match m.get("hash_prefix") {
            None | Some(Yaml::Null) => false,
            Some(Yaml::Bool(b)) => *b,
            Some(Yaml::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Yaml::String(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(other) => {
                return Err(CliError::Usage(format!(
                    "Repository {name} has incorrect configuration: hash_prefix must be true or false, got {other:?}"
                )))
            }
        };
        Ok(Some(Repository {
            artifact_base_url: text("artifact_base_url"),
            metadata_url: text("metadata_url"),
            trusted_root: text("trusted_root"),
            hash_prefix,
            download_dir: text("download_dir"),
            server: text("server"),
            headers: m.get("headers").map(header_lines).unwrap_or_default(),
        }))
    }

    /// The current repository, if one is set and configured.
    pub fn current(&self) -> CliResult<Option<Repository>> {
        match self.current_name() {
            Some(name) => self.repository(&name),
            None => Ok(None),
        }
    }

    fn repositories_mut(&mut self) -> &mut Mapping {
        let k = self.key_of("REPOSITORIES");
        let entry = self
            .doc
            .entry(k)
            .or_insert_with(|| Yaml::Mapping(Mapping::new()));
        if !entry.is_mapping() {
            *entry = Yaml::Mapping(Mapping::new());
        }
        entry
            .as_mapping_mut()
            .expect("a mapping was just put there")
    }

    fn set_current(&mut self, name: &str) {
        let k = self.key_of("CURRENT_REPOSITORY");
        self.doc.insert(k, key(name));
    }

    /// Write the file atomically, readable by its owner only (headers may
    /// hold tokens).
    pub fn save(&self) -> CliResult<()> {
        let text = serde_yaml_ng::to_string(&Yaml::Mapping(self.doc.clone()))
            .map_err(|e| CliError::Local(format!("cannot write the configuration: {e}")))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::Local(format!("cannot create {}: {e}", dir.display())))?;
        }
        crate::keys::write_atomic(&self.path, text.as_bytes(), 0o600, true)
    }
}

/// What `repository add|update` sets.
pub struct RepositoryArgs<'a> {
    pub root: Option<&'a str>,
    pub metadata_url: Option<&'a str>,
    pub artifacts_url: Option<&'a str>,
    pub hash_prefix: Option<bool>,
    pub server: Option<&'a str>,
}

/// Largest root read (python-tuf's default `root_max_length`).
const MAX_ROOT_BYTES: usize = 512_000;

/// The bytes of a root given as a local file or an http(s) URL.
pub async fn fetch_root(root: &str) -> CliResult<Vec<u8>> {
    if !(root.starts_with("http://") || root.starts_with("https://")) {
        return std::fs::read(root).map_err(|e| {
            CliError::Local(format!(
                "Error reading file: cannot read the root {root}: {e}"
            ))
        });
    }
    // No redirects: a root fetched over https must not come from
    // somewhere else (or over http) without the user naming it.
    let mut response = crate::client::http_builder()?
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| CliError::Local(format!("HTTP client: {e}")))?
        .get(root)
        .send()
        .await
        .map_err(|e| CliError::Server(format!("cannot fetch the root {root}: {e}")))?;
    if !response.status().is_success() {
        return Err(CliError::Server(format!(
            "cannot fetch the root {root}: HTTP {}",
            response.status().as_u16()
        )));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| CliError::Server(format!("reading {root}: {e}")))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_ROOT_BYTES {
            return Err(CliError::Server(format!(
                "the root {root} is larger than {MAX_ROOT_BYTES} bytes"
            )));
        }
    }
    Ok(bytes)
}

/// Read a root from a file or an http(s) URL; it must be signed by its own
/// threshold (upstream's `add` checks the same). Returns its base64.
pub async fn load_root(root: &str) -> CliResult<String> {
    let bytes = fetch_root(root).await?;
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| CliError::Usage(format!("Error reading root file {root}: {e}")))?;
    let parsed = rstuf_tuf::metadata::Metadata::<rstuf_tuf::metadata::Root>::from_value(&doc)
        .map_err(|e| CliError::Usage(format!("Error reading root file {root}: {e}")))?;
    let v = rstuf_tuf::verify::verify_top_level(&parsed.signed, "root", &doc)
        .map_err(|e| CliError::Usage(format!("Error reading root file {root}: {e}")))?;
    if !v.is_satisfied() {
        return Err(CliError::Usage(format!(
            "Error reading root file {root}: it has {} valid signatures of the {} its own root role requires",
            v.valid.len(),
            v.threshold
        )));
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(&bytes))
}

fn set_text(m: &mut Mapping, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        m.insert(key(k), key(v));
    }
}

/// `rstuf artifact repository add`.
pub async fn add(
    file: &mut ConfigFile,
    name: &str,
    args: &RepositoryArgs<'_>,
    out: &Output,
) -> CliResult<()> {
    let root = load_root(args.root.unwrap_or_default()).await?;
    let existed = file.repository(name)?.is_some();
    if existed && !out.json {
        println!("Repository {name} already configured");
    }
    let mut entry = Mapping::new();
    set_text(&mut entry, "artifact_base_url", args.artifacts_url);
    set_text(&mut entry, "metadata_url", args.metadata_url);
    entry.insert(key("trusted_root"), key(&root));
    entry.insert(
        key("hash_prefix"),
        Yaml::Bool(args.hash_prefix.unwrap_or(false)),
    );
    set_text(&mut entry, "server", args.server);
    file.repositories_mut()
        .insert(key(name), Yaml::Mapping(entry));
    file.save()?;
    let message = if existed {
        format!("Successfully updated repository {name}")
    } else {
        format!("Successfully added {name} repository to config")
    };
    done(
        out,
        &message,
        json!({ "repository": name, "config": file.path.display().to_string() }),
    );
    Ok(())
}

/// `rstuf artifact repository update NAME`: only what is given changes.
pub async fn update(
    file: &mut ConfigFile,
    name: &str,
    args: &RepositoryArgs<'_>,
    out: &Output,
) -> CliResult<()> {
    if file.names().is_empty() {
        return Err(CliError::Usage(
            "There are no configured repositories to update".into(),
        ));
    }
    if file.repository(name)?.is_none() {
        return Err(CliError::Usage(format!(
            "Repository {name} not available in config. You can create it instead"
        )));
    }
    // Upstream stores the --root argument itself; the root it names is
    // what is meant, and what `add` stores.
    let root = match args.root {
        Some(r) => Some(load_root(r).await?),
        None => None,
    };
    let entry = file
        .repositories_mut()
        .get_mut(name)
        .and_then(Yaml::as_mapping_mut)
        .ok_or_else(|| CliError::Usage(format!("Repository {name} has incorrect configuration")))?;
    set_text(entry, "trusted_root", root.as_deref());
    set_text(entry, "metadata_url", args.metadata_url);
    set_text(entry, "artifact_base_url", args.artifacts_url);
    set_text(entry, "server", args.server);
    if let Some(p) = args.hash_prefix {
        entry.insert(key("hash_prefix"), Yaml::Bool(p));
    }
    file.save()?;
    done(
        out,
        &format!("Successfully updated repository {name}"),
        json!({ "repository": name }),
    );
    Ok(())
}

/// `rstuf artifact repository set NAME`.
pub fn set(file: &mut ConfigFile, name: &str, out: &Output) -> CliResult<()> {
    if file.repository(name)?.is_none() {
        return Err(CliError::Usage(format!(
            "Repository {name} is missing in your configuration."
        )));
    }
    file.set_current(name);
    file.save()?;
    done(
        out,
        &format!("Current repository changed to {name}"),
        json!({ "current": name }),
    );
    Ok(())
}

/// `rstuf artifact repository delete NAME`.
pub fn delete(file: &mut ConfigFile, name: &str, out: &Output) -> CliResult<()> {
    if file.names().is_empty() {
        return Err(CliError::Usage(
            "There are no configured repositories. Nothing to delete".into(),
        ));
    }
    if file.repository(name)?.is_none() {
        return Err(CliError::Usage(format!(
            "Repository {name} not available. Nothing to delete"
        )));
    }
    file.repositories_mut().remove(name);
    file.save()?;
    done(
        out,
        &format!("Successfully deleted repository {name}"),
        json!({ "deleted": name }),
    );
    Ok(())
}

/// `rstuf artifact repository show [NAME]`.
pub fn show(file: &ConfigFile, name: Option<&str>, out: &Output) -> CliResult<()> {
    let current = file.current_name();
    let Some(name) = name else {
        let names = file.names();
        if names.is_empty() {
            return Err(CliError::Usage(
                "There are no configured repositories".into(),
            ));
        }
        if out.json {
            out.print_json(&json!({ "repositories": names, "current": current }));
        } else {
            for n in names {
                let default = if current.as_deref() == Some(n.as_str()) {
                    " (default)"
                } else {
                    ""
                };
                println!("{n}{default}");
            }
        }
        return Ok(());
    };
    let Some(repo) = file.repository(name)? else {
        return Err(CliError::Usage(format!(
            "Repository {name} is missing in your configuration"
        )));
    };
    let mut entry = json!({
        "artifact_base_url": repo.artifact_base_url,
        "hash_prefix": repo.hash_prefix,
        "metadata_url": repo.metadata_url,
        "trusted_root": repo.trusted_root,
    });
    if let Some(s) = &repo.server {
        entry["server"] = json!(s);
    }
    if !out.json && current.as_deref() == Some(name) {
        println!("CURRENT REPOSITORY:");
    }
    out.print_json(&json!({ name: entry }));
    Ok(())
}

fn done(out: &Output, message: &str, doc: Value) {
    if out.json {
        out.print_json(&doc);
    } else {
        out.success(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, ConfigFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rstuf.yml");
        std::fs::write(&path, text).unwrap();
        let f = ConfigFile::load(&path).unwrap();
        (dir, f)
    }

    #[test]
    fn upstreams_file_is_read_case_insensitively_and_kept_on_write() {
        let (_d, mut f) = file(
            "---\nserver: https://api.example\nCURRENT_REPOSITORY: prod\nREPOSITORIES:\n  prod:\n    artifact_base_url: https://files\n    hash_prefix: true\n    metadata_url: https://api.example/metadata\n    trusted_root: e30=\n    headers: ['Authorization: Bearer t']\nOTHER_TOOL_SETTING: 3\n",
        );
        assert_eq!(f.server().as_deref(), Some("https://api.example"));
        let prod = f.current().unwrap().unwrap();
        assert!(prod.hash_prefix);
        assert_eq!(prod.headers, vec!["Authorization: Bearer t"]);
        assert_eq!(prod.root().unwrap(), Some(json!({})));
        f.set_current("prod");
        f.save().unwrap();
        let text = std::fs::read_to_string(&f.path).unwrap();
        assert!(text.contains("OTHER_TOOL_SETTING: 3"), "{text}");
        assert!(text.contains("server: https://api.example"), "{text}");
        assert!(
            !text.contains("SERVER"),
            "the file's own spelling is kept: {text}"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_missing_file_is_empty_and_a_broken_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = ConfigFile::load(&dir.path().join("absent.yml")).unwrap();
        assert!(f.names().is_empty() && f.server().is_none());
        let (_d, f) = file("REPOSITORIES:\n  x:\n    hash_prefix: maybe\n");
        let e = f.repository("x").unwrap_err().to_string();
        assert!(e.contains("hash_prefix must be true or false"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.yml");
        std::fs::write(&path, "- a list\n").unwrap();
        let e = ConfigFile::load(&path).err().unwrap().to_string();
        assert!(e.contains("must be a mapping"), "{e}");
    }
}

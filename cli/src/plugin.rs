//! `rstuf plugin …`: see which plugins are installed, what they implement
//! and what configuration they take; install one with a digest check; verify
//! a plugin directory before pointing a service at it.

use crate::error::{local, CliError, CliResult};
use crate::output::Output;
use rstuf_plugins::{ComponentReport, PluginInfo, Runtime, RuntimeOptions};
use serde_json::json;
use sha2::Digest;
use std::path::{Path, PathBuf};

/// Compiled plugin code is cached per user (`RSTUF_PLUGIN_CACHE`, else
/// `$XDG_CACHE_HOME/rstuf/plugins`, else `~/.cache/rstuf/plugins`), never in
/// a shared directory: cached code runs unchecked. Without a home
/// directory, plugins are compiled every time.
fn cache_dir() -> Option<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("RSTUF_PLUGIN_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("rstuf/plugins")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/rstuf/plugins")))
}

fn runtime() -> CliResult<Runtime> {
    Runtime::new(RuntimeOptions {
        cache_dir: cache_dir(),
        ..Default::default()
    })
    .map_err(|e| local(format!("plugin runtime: {e:#}")))
}

fn wasm_files(dir: &Path) -> CliResult<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        local(format!(
            "cannot read plugin directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    files.sort();
    Ok(files)
}

fn summary(path: &Path, report: &ComponentReport, info: Option<&PluginInfo>) -> serde_json::Value {
    json!({
        "file": path.display().to_string(),
        "kind": report.kind.map(|k| k.to_string()),
        "world": report.kind.map(|k| format!("rstuf:plugin/{}@{}", k.world(), rstuf_plugins::WIT_VERSION)),
        "name": info.map(|i| i.name.clone()),
        "version": info.map(|i| i.version.clone()),
        "description": info.map(|i| i.description.clone()),
        "sha256": report.sha256,
        "size": report.size,
    })
}

pub async fn list(dir: &Path, out: &Output) -> CliResult<()> {
    let rt = runtime()?;
    let mut rows = Vec::new();
    for file in wasm_files(dir)? {
        match rt.describe(&file).await {
            Ok((report, info)) => rows.push(summary(&file, &report, info.as_ref())),
            Err(e) => {
                rows.push(json!({ "file": file.display().to_string(), "error": e.to_string() }))
            }
        }
    }
    if out.json {
        out.print_json(&json!(rows));
    } else if rows.is_empty() {
        println!("no plugins in {}", dir.display());
    } else {
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
                let file = Path::new(&s("file"))
                    .file_name()
                    .map(|f| f.to_string_lossy().to_string())
                    .unwrap_or_default();
                match r.get("error").and_then(|e| e.as_str()) {
                    Some(err) => vec![
                        file,
                        "INVALID".into(),
                        "-".into(),
                        "-".into(),
                        err.to_string(),
                    ],
                    None => vec![file, s("kind"), s("name"), s("version"), s("world")],
                }
            })
            .collect();
        out.table(&["FILE", "KIND", "PLUGIN", "VERSION", "WORLD"], &table);
    }
    Ok(())
}

pub async fn inspect(file: &Path, out: &Output) -> CliResult<()> {
    let (report, info) = runtime()?.describe(file).await.map_err(local)?;
    let mut doc = summary(file, &report, info.as_ref());
    doc["exports"] = json!(report.exports);
    doc["imports"] = json!(report.imports);
    let schema = info
        .as_ref()
        .and_then(|i| serde_json::from_str::<serde_json::Value>(&i.config_schema).ok());
    doc["config_schema"] = schema.clone().unwrap_or(serde_json::Value::Null);
    if out.json {
        out.print_json(&doc);
        return Ok(());
    }
    let s = |k: &str| {
        doc.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("-")
            .to_string()
    };
    println!("file:        {}", s("file"));
    println!("plugin:      {} {}", s("name"), s("version"));
    println!("description: {}", s("description"));
    println!("kind:        {}", s("kind"));
    println!("world:       {}", s("world"));
    println!("sha256:      {}", report.sha256);
    println!("size:        {} bytes", report.size);
    println!("exports:     {}", report.exports.join(", "));
    println!("imports:     {}", report.imports.join(", "));
    if let Some(schema) = &schema {
        print!("{}", config_keys(schema));
        if let Some(example) = schema.pointer("/examples/0") {
            println!("example:     config = {example}");
        }
    }
    if let Some(name) = info.as_ref().map(|i| i.name.as_str()) {
        println!("docs:        docs/plugins/{name}.md in the source tree");
    }
    if report.kind.is_none() {
        return Err(CliError::Local(format!(
            "{} does not implement any rstuf:plugin world this version supports (@{})",
            file.display(),
            rstuf_plugins::WIT_VERSION
        )));
    }
    Ok(())
}

/// The configuration keys of a JSON Schema as a table: name, type,
/// default or "required", whether it is secret, and its description.
pub fn config_keys(schema: &serde_json::Value) -> String {
    let Some(props) = schema.get("properties").and_then(|p| p.as_object()) else {
        return "config keys: none\n".into();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let mut rows = vec![[
        "KEY".to_string(),
        "TYPE".to_string(),
        "DEFAULT".to_string(),
        "DESCRIPTION".to_string(),
    ]];
    for (key, p) in props {
        // `null` in a type or enum list means "may be absent": the
        // DEFAULT column says that already.
        let alternatives = |values: &Vec<serde_json::Value>| {
            values
                .iter()
                .filter(|v| !v.is_null() && v.as_str() != Some("null"))
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect::<Vec<_>>()
                .join("|")
        };
        let kind = match (p.get("type"), p.get("enum")) {
            (_, Some(serde_json::Value::Array(values))) => alternatives(values),
            (Some(serde_json::Value::Array(types)), _) => alternatives(types),
            (Some(t), _) => t
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| t.to_string()),
            _ => "any".into(),
        };
        let default = if required.contains(&key.as_str()) {
            "required".to_string()
        } else {
            p.get("default")
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into())
        };
        let secret = p.get("writeOnly").and_then(|w| w.as_bool()) == Some(true);
        let mut description = p
            .get("description")
            .and_then(|d| d.as_str())
            .unwrap_or_default()
            .to_string();
        if secret && !description.contains("secret") {
            description = format!("(secret) {description}");
        }
        rows.push([key.clone(), kind, default, description]);
    }
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = String::from("config keys:\n");
    for r in &rows {
        out.push_str(&format!(
            "  {:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            r[0], r[1], r[2], r[3]
        ));
    }
    out
}

pub async fn install(file: &Path, sha256: &str, dir: &Path, out: &Output) -> CliResult<()> {
    let bytes =
        std::fs::read(file).map_err(|e| local(format!("cannot read {}: {e}", file.display())))?;
    let actual = hex::encode(sha2::Sha256::digest(&bytes));
    if !actual.eq_ignore_ascii_case(sha256.trim()) {
        return Err(CliError::Local(format!(
            "digest mismatch for {}: expected {sha256}, file has {actual}; not installed",
            file.display()
        )));
    }
    let (report, info) = runtime()?.describe(file).await.map_err(local)?;
    let (Some(kind), Some(info)) = (report.kind, info) else {
        return Err(CliError::Local(format!(
            "{} is not an rstuf plugin; not installed",
            file.display()
        )));
    };
    if info.name.is_empty()
        || !info
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(CliError::Local(format!(
            "plugin reports an unusable name '{}'; not installed",
            info.name
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| local(format!("cannot create {}: {e}", dir.display())))?;
    let target = dir.join(format!("{}.wasm", info.name));
    let tmp = dir.join(format!(".{}.wasm.tmp-{}", info.name, std::process::id()));
    std::fs::write(&tmp, &bytes)
        .map_err(|e| local(format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, &target).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        local(format!("cannot install {}: {e}", target.display()))
    })?;
    if out.json {
        out.print_json(&json!({ "installed": target.display().to_string(), "kind": kind.to_string(), "name": info.name, "version": info.version, "sha256": actual }));
    } else {
        println!(
            "installed {} {} ({kind}) as {}",
            info.name,
            info.version,
            target.display()
        );
    }
    Ok(())
}

pub async fn verify(dir: &Path, out: &Output) -> CliResult<()> {
    let rt = runtime()?;
    let files = wasm_files(dir)?;
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default();
        match rt.describe(file).await {
            Ok((report, Some(info))) if report.kind.is_some() => {
                let schema_ok =
                    serde_json::from_str::<serde_json::Value>(&info.config_schema).is_ok();
                let status = if schema_ok {
                    "ok"
                } else {
                    "config schema is not valid JSON"
                };
                if !schema_ok {
                    problems.push(format!("{name}: config schema is not valid JSON"));
                }
                rows.push(vec![name, status.into(), report.sha256]);
            }
            Ok((report, _)) => {
                let msg = format!(
                    "implements no supported world (exports: {})",
                    report.exports.join(", ")
                );
                problems.push(format!("{name}: {msg}"));
                rows.push(vec![name, msg, report.sha256]);
            }
            Err(e) => {
                problems.push(e.to_string());
                rows.push(vec![name, e.to_string(), "-".into()]);
            }
        }
    }
    if out.json {
        out.print_json(&json!({ "dir": dir.display().to_string(), "checked": files.len(), "problems": problems }));
    } else {
        out.table(&["FILE", "STATUS", "SHA256"], &rows);
    }
    if files.is_empty() {
        return Err(CliError::Local(format!("no plugins in {}", dir.display())));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::Local(format!(
            "{} plugin(s) failed verification",
            problems.len()
        )))
    }
}

/// A key-vault plugin entry as the service's `[[plugins.keyvaults]]`
/// takes it (`name` optional here).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VaultEntry {
    #[serde(default = "default_vault_name")]
    name: String,
    file: PathBuf,
    #[serde(default)]
    config: serde_json::Value,
    #[serde(default)]
    grants: rstuf_plugins::Grants,
}

fn default_vault_name() -> String {
    "online-key".into()
}

/// The public half of `uri` through the key-vault plugin `entry_file`
/// describes, as a TUF public key; the private half stays in the service.
pub async fn vault_public_key(entry_file: &Path, uri: &str) -> CliResult<rstuf_keys::PublicKey> {
    let text = std::fs::read_to_string(entry_file)
        .map_err(|e| local(format!("cannot read {}: {e}", entry_file.display())))?;
    // The parse error's message and line only: its usual form quotes the
    // offending line, which may hold a token or a secret key.
    let mut entry: VaultEntry = toml::from_str(&text).map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        CliError::Usage(format!(
            "{} is not a key-vault plugin entry (file, config, grants): {}{}",
            entry_file.display(),
            e.message(),
            line.map(|l| format!(" (line {l})")).unwrap_or_default()
        ))
    })?;
    if entry.config.is_null() {
        entry.config = json!({});
    }
    let file = if entry.file.is_relative() {
        entry_file
            .parent()
            .unwrap_or(Path::new("."))
            .join(&entry.file)
    } else {
        entry.file.clone()
    };
    let spec = rstuf_plugins::PluginSpec {
        name: entry.name,
        kind: rstuf_plugins::PluginKind::Keyvault,
        file,
        config: entry.config,
        grants: entry.grants,
    };
    let vault = runtime()?
        .load_keyvault(&spec)
        .await
        .map_err(|e| local(format!("key-vault plugin {}: {e:#}", spec.file.display())))?;
    let key = vault
        .get_key(uri)
        .await
        .map_err(|e| CliError::Server(format!("the key service has no usable key {uri}: {e:#}")))?;
    let public = if key.keytype == "ed25519" {
        rstuf_keys::PublicKey {
            keytype: "ed25519",
            scheme: "ed25519",
            public: key.public.clone(),
        }
    } else {
        rstuf_keys::PublicKey::from_spki_pem(uri, &key.public)?
    };
    if public.scheme != key.scheme {
        return Err(local(format!(
            "{uri}: the key service reports scheme {}, its key material is {}",
            key.scheme, public.scheme
        )));
    }
    Ok(public)
}

#[cfg(test)]
mod tests {
    use super::config_keys;
    use serde_json::json;

    #[test]
    fn config_keys_table_marks_required_defaults_and_secrets() {
        let schema = json!({
            "required": ["url"],
            "properties": {
                "url": {"type": "string", "description": "Where to POST"},
                "secret": {"type": "string", "writeOnly": true, "description": "HMAC key"},
                "mode": {"enum": ["auto", "raw"], "default": "auto"},
                "token": {"type": ["string", "null"], "writeOnly": true},
                "level": {"type": ["string", "null"], "enum": ["a", "b", null]},
            }
        });
        let table = config_keys(&schema);
        let line = |k: &str| {
            table
                .lines()
                .find(|l| l.trim_start().starts_with(k))
                .unwrap()
                .to_string()
        };
        assert!(line("url").contains("required") && line("url").contains("Where to POST"));
        assert!(line("secret").contains("(secret) HMAC key"), "{table}");
        assert!(
            line("mode").contains("auto|raw") && line("mode").contains("\"auto\""),
            "{table}"
        );
        // Optional keys as the SDK's schemas type them: no "null" shown.
        assert!(line("token").contains(" string ") && !line("token").contains("null"));
        assert!(line("level").contains(" a|b "), "{table}");
        assert_eq!(config_keys(&json!({})), "config keys: none\n");
    }
}

//! The vault: configuration, `fn:` URI resolution inside the granted
//! directory, and a cache of parsed keys (instances are reused by the host,
//! and decrypting a password-protected key is deliberately slow).

use crate::keys::{KeyError, PrivateKey};
use std::collections::BTreeMap;
use std::path::PathBuf;
use zeroize::Zeroizing;

pub const SCHEMA: &str = r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,"properties":{"dir":{"type":"string","default":"/keys","description":"Directory inside the sandbox holding the key files"},"passwords":{"type":"object","additionalProperties":{"type":"string"},"description":"Password per key file name (secret)"},"default_password":{"type":"string","description":"Password for encrypted key files not listed in passwords (secret)"}}}"#;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultError {
    InvalidConfig(String),
    InvalidInput(String),
    NotFound(String),
    Denied(String),
    Internal(String),
}

pub struct VaultKey {
    pub uri: String,
    pub keytype: &'static str,
    pub scheme: &'static str,
    pub public: String,
}

pub struct Vault {
    dir: PathBuf,
    passwords: BTreeMap<String, Zeroizing<String>>,
    default_password: Option<Zeroizing<String>>,
    cache: BTreeMap<String, PrivateKey>,
}

fn string_field(obj: &serde_json::Map<String, serde_json::Value>, key: &str) -> Result<Option<String>, VaultError> {
    match obj.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(VaultError::InvalidConfig(format!("{key}: must be a string"))),
    }
}

impl Vault {
    pub fn configure(config: &str) -> Result<Vault, VaultError> {
        let value: serde_json::Value = serde_json::from_str(config)
            .map_err(|e| VaultError::InvalidConfig(format!("configuration is not JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| VaultError::InvalidConfig("configuration must be a JSON object".into()))?;
        if let Some(unknown) = obj.keys().find(|k| !["dir", "passwords", "default_password"].contains(&k.as_str())) {
            return Err(VaultError::InvalidConfig(format!(
                "unknown key '{unknown}' (known: dir, passwords, default_password)"
            )));
        }
        let dir = PathBuf::from(string_field(obj, "dir")?.unwrap_or_else(|| "/keys".into()));
        if !std::fs::metadata(&dir).map(|m| m.is_dir()).unwrap_or(false) {
            return Err(VaultError::InvalidConfig(format!(
                "dir: {} is not a readable directory (is it granted to the plugin?)",
                dir.display()
            )));
        }
        let mut passwords = BTreeMap::new();
        match obj.get("passwords") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(map)) => {
                for (file, pw) in map {
                    let pw = pw
                        .as_str()
                        .ok_or_else(|| VaultError::InvalidConfig(format!("passwords.{file}: must be a string")))?;
                    passwords.insert(file.clone(), Zeroizing::new(pw.to_string()));
                }
            }
            Some(_) => return Err(VaultError::InvalidConfig("passwords: must be an object of file name to password".into())),
        }
        Ok(Vault {
            dir,
            passwords,
            default_password: string_field(obj, "default_password")?.map(Zeroizing::new),
            cache: BTreeMap::new(),
        })
    }

    /// The file name of a `fn:` URI, refusing anything that could leave the
    /// directory.
    fn file_of(uri: &str) -> Result<&str, VaultError> {
        let file = uri
            .strip_prefix("fn:")
            .ok_or_else(|| VaultError::InvalidInput(format!("key URI '{uri}' is not an fn: URI")))?;
        let bad = file.is_empty()
            || file.len() > 255
            || file == "."
            || file == ".."
            || file.contains(['/', '\\', '\0'])
            || file.chars().any(char::is_control);
        if bad {
            return Err(VaultError::InvalidInput(format!("key URI '{uri}' does not name a file in the key directory")));
        }
        Ok(file)
    }

    fn password(&self, file: &str) -> Option<&str> {
        self.passwords
            .get(file)
            .or(self.default_password.as_ref())
            .map(|p| p.as_str())
    }

    fn load(&mut self, uri: &str) -> Result<&PrivateKey, VaultError> {
        let file = Self::file_of(uri)?.to_string();
        if !self.cache.contains_key(&file) {
            let path = self.dir.join(&file);
            let pem = match std::fs::read(&path) {
                Ok(bytes) => Zeroizing::new(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(VaultError::NotFound(format!("no key file '{file}' for {uri}")))
                }
                Err(e) => return Err(VaultError::Denied(format!("cannot read key file '{file}': {e}"))),
            };
            let pem = std::str::from_utf8(&pem)
                .map_err(|_| VaultError::InvalidInput(format!("key file '{file}' is not a PEM text file")))?;
            let key = PrivateKey::from_pem(&file, pem, self.password(&file)).map_err(|e| match e {
                KeyError::Password(m) => VaultError::Denied(m),
                KeyError::Unsupported(m) => VaultError::InvalidInput(m),
                KeyError::Internal(m) => VaultError::Internal(m),
            })?;
            self.cache.insert(file.clone(), key);
        }
        self.cache
            .get(&file)
            .ok_or_else(|| VaultError::Internal("key cache lost an entry".into()))
    }

    pub fn public(&mut self, uri: &str) -> Result<VaultKey, VaultError> {
        let key = self.load(uri)?;
        let p = key.public().map_err(|e| VaultError::Internal(format!("{e:?}")))?;
        Ok(VaultKey {
            uri: uri.to_string(),
            keytype: p.keytype,
            scheme: p.scheme,
            public: p.public,
        })
    }

    pub fn sign(&mut self, uri: &str, message: &[u8]) -> Result<Vec<u8>, VaultError> {
        self.load(uri)?
            .sign(message)
            .map_err(|e| VaultError::Internal(format!("signing with {uri}: {e:?}")))
    }

    /// Every file in the directory that loads as a key; others are skipped.
    pub fn list(&mut self) -> Result<Vec<VaultKey>, VaultError> {
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| VaultError::Denied(format!("cannot list the key directory: {e}")))?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        Ok(names
            .into_iter()
            .filter_map(|name| self.public(&format!("fn:{name}")).ok())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_cannot_leave_the_directory() {
        for bad in ["fn:../x", "fn:/etc/passwd", "fn:", "fn:..", "hv:key", "fn:a/b"] {
            assert!(matches!(Vault::file_of(bad), Err(VaultError::InvalidInput(_))), "{bad}");
        }
        assert_eq!(Vault::file_of("fn:0d9d3d4b").unwrap(), "0d9d3d4b");
    }

    #[test]
    fn configuration_errors_name_the_key() {
        let dir = std::env::temp_dir();
        let d = dir.to_str().unwrap();
        let err = Vault::configure(&format!(r#"{{"dir": "{d}", "pasword": "x"}}"#)).err().unwrap();
        assert!(matches!(err, VaultError::InvalidConfig(ref m) if m.contains("pasword")));
        let err = Vault::configure(r#"{"dir": "/not/there"}"#).err().unwrap();
        assert!(matches!(err, VaultError::InvalidConfig(ref m) if m.contains("dir")));
        assert!(Vault::configure(&format!(r#"{{"dir": "{d}"}}"#)).is_ok());
    }
}

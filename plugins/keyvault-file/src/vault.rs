//! The vault: configuration, `fn:` URI resolution inside the granted
//! directory, and a cache of parsed keys. The host reuses instances, and
//! decrypting a password-protected key is deliberately slow (PBKDF2,
//! scrypt), so each key file is parsed once per instance; a file replaced
//! on disk is picked up by new instances (TUF key rotation uses new key
//! files, hence new URIs, anyway).
//!
//! Passwords are secrets: they are held in zeroizing strings, never
//! formatted into an error or log text, and `Vault` has no `Debug`.

use rstuf_keys::{KeyError, PrivateKey, MAX_KEY_FILE};
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The guest path used when the configuration does not name one.
pub const DEFAULT_DIR: &str = "/keys";

/// JSON Schema of the configuration `configure` accepts.
pub const SCHEMA: &str = r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,"examples":[{"dir":"/keys","passwords":{"online.pem":"..."}}],"properties":{"dir":{"type":"string","default":"/keys","description":"Guest path of the directory (granted by the host) holding the PEM key files"},"passwords":{"type":"object","additionalProperties":{"type":"string","writeOnly":true},"description":"Password per key file name, for encrypted PKCS#8 files (secret)"},"default_password":{"type":"string","writeOnly":true,"description":"Password for encrypted key files not listed in passwords (secret)"}}}"#;

/// The URI scheme this vault serves.
pub const SCHEME: &str = "fn";

/// Mirrors the WIT `plugin-error` cases this plugin can produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultError {
    InvalidConfig(String),
    InvalidInput(String),
    NotFound(String),
    Denied(String),
    Internal(String),
}

impl VaultError {
    /// The message, without the case.
    pub fn message(&self) -> &str {
        match self {
            VaultError::InvalidConfig(m)
            | VaultError::InvalidInput(m)
            | VaultError::NotFound(m)
            | VaultError::Denied(m)
            | VaultError::Internal(m) => m,
        }
    }
}

/// A key's public half, as the WIT `public-key` record wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultKey {
    pub uri: String,
    pub keytype: &'static str,
    pub scheme: &'static str,
    pub public: String,
}

/// What `list` found: the keys, and each other file with the reason it was
/// skipped (texts without secrets, fit for the host log).
#[derive(Debug, Default)]
pub struct Listing {
    pub keys: Vec<VaultKey>,
    pub skipped: Vec<(String, VaultError)>,
}

pub struct Vault {
    dir: PathBuf,
    passwords: BTreeMap<String, Zeroizing<String>>,
    default_password: Option<Zeroizing<String>>,
    cache: BTreeMap<String, PrivateKey>,
}

impl Vault {
    /// Parse and check the configuration (see [`SCHEMA`]); the key
    /// directory must exist. Errors name the key, never a value.
    pub fn configure(config: &str) -> Result<Vault, VaultError> {
        let invalid = |m: String| VaultError::InvalidConfig(m);
        // serde_json's syntax errors carry positions, not input text.
        let value: serde_json::Value = serde_json::from_str(config)
            .map_err(|e| invalid(format!("configuration is not JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| invalid("configuration must be a JSON object".into()))?;
        if let Some(unknown) = obj
            .keys()
            .find(|k| !["dir", "passwords", "default_password"].contains(&k.as_str()))
        {
            return Err(invalid(format!(
                "unknown key '{unknown}' (known: dir, passwords, default_password)"
            )));
        }
        let dir = match obj.get("dir") {
            None | Some(serde_json::Value::Null) => DEFAULT_DIR.to_string(),
            Some(serde_json::Value::String(d)) if !d.is_empty() => d.clone(),
            Some(_) => return Err(invalid("dir: must be a non-empty string".into())),
        };
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(invalid(format!("dir: {dir} is not a directory"))),
            Err(e) => {
                return Err(invalid(format!(
                    "dir: cannot open {dir}: {e} (is the directory granted to the plugin?)"
                )))
            }
        }
        let mut passwords = BTreeMap::new();
        match obj.get("passwords") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(map)) => {
                for (file, pw) in map {
                    let pw = pw
                        .as_str()
                        .ok_or_else(|| invalid(format!("passwords.{file}: must be a string")))?;
                    passwords.insert(file.clone(), Zeroizing::new(pw.to_string()));
                }
            }
            Some(_) => {
                return Err(invalid(
                    "passwords: must be an object mapping key file names to passwords".into(),
                ))
            }
        }
        let default_password = match obj.get("default_password") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(pw)) => Some(Zeroizing::new(pw.clone())),
            Some(_) => return Err(invalid("default_password: must be a string".into())),
        };
        Ok(Vault {
            dir: PathBuf::from(dir),
            passwords,
            default_password,
            cache: BTreeMap::new(),
        })
    }

    /// The key directory (guest path).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// How many passwords are configured (a count is not a secret).
    pub fn password_count(&self) -> usize {
        self.passwords.len() + usize::from(self.default_password.is_some())
    }

    /// The file name of an `fn:` URI, refusing anything that could leave
    /// the directory.
    pub fn file_of(uri: &str) -> Result<&str, VaultError> {
        let file = uri.strip_prefix("fn:").ok_or_else(|| {
            VaultError::InvalidInput(format!("key URI {uri:?} is not an fn: URI"))
        })?;
        let bad = file.is_empty()
            || file.len() > 255
            || file.contains("..")
            || file.contains(['/', '\\', '\0'])
            || file.chars().any(char::is_control)
            || file == ".";
        if bad {
            return Err(VaultError::InvalidInput(format!(
                "key URI {uri:?} does not name a file in the key directory"
            )));
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
            let pem = read_key_file(&self.dir.join(&file), &file)?;
            let key =
                PrivateKey::from_pem(&file, &pem, self.password(&file)).map_err(|e| match e {
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

    /// The public half of the key at `uri`.
    pub fn public(&mut self, uri: &str) -> Result<VaultKey, VaultError> {
        let p = self
            .load(uri)?
            .public()
            .map_err(|e| VaultError::Internal(e.to_string()))?;
        Ok(VaultKey {
            uri: uri.to_string(),
            keytype: p.keytype,
            scheme: p.scheme,
            public: p.public,
        })
    }

    /// Sign `message` with the key at `uri` per its TUF scheme.
    pub fn sign(&mut self, uri: &str, message: &[u8]) -> Result<Vec<u8>, VaultError> {
        self.load(uri)?
            .sign(message)
            .map_err(|e| VaultError::Internal(format!("signing with {uri}: {e}")))
    }

    /// Every regular file (symlinks followed, dot-files skipped) in the
    /// directory that loads as a key, in name order; files that do not load
    /// (not keys, encrypted without a password, wrong password) are skipped
    /// with a reason instead of failing the listing.
    pub fn list(&mut self) -> Result<Listing, VaultError> {
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| io_error(&format!("listing key directory {}", self.dir.display()), &e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error("listing the key directory", &e))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            // Kubernetes secret volumes hold `..data` links next to the keys.
            if name.starts_with('.') {
                continue;
            }
            if std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
                names.push(name);
            }
        }
        names.sort();
        let mut listing = Listing::default();
        for name in names {
            match self.public(&format!("{SCHEME}:{name}")) {
                Ok(key) => listing.keys.push(key),
                Err(e) => listing.skipped.push((name, e)),
            }
        }
        Ok(listing)
    }
}

fn io_error(what: &str, e: &std::io::Error) -> VaultError {
    let msg = format!("{what}: {e}");
    match e.kind() {
        ErrorKind::NotFound => VaultError::NotFound(msg),
        ErrorKind::PermissionDenied => VaultError::Denied(msg),
        _ => VaultError::Internal(msg),
    }
}

/// Read a key file, refusing anything too large to be a key.
fn read_key_file(path: &std::path::Path, file: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    use std::io::Read as _;
    let f = std::fs::File::open(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => {
            VaultError::NotFound(format!("no key file {file:?} in the key directory"))
        }
        _ => io_error(&format!("cannot read key file {file:?}"), &e),
    })?;
    let mut pem = Zeroizing::new(Vec::new());
    f.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut pem)
        .map_err(|e| io_error(&format!("cannot read key file {file:?}"), &e))?;
    if pem.len() as u64 > MAX_KEY_FILE {
        return Err(VaultError::InvalidInput(format!(
            "key file {file:?} is larger than {MAX_KEY_FILE} bytes; not a PEM key"
        )));
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstuf_keys::testing::{generate_keys, python_verifies, PASSWORD};

    fn vault(dir: &std::path::Path, extra: serde_json::Value) -> Vault {
        let mut config = serde_json::json!({ "dir": dir.to_str().unwrap() });
        if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        Vault::configure(&config.to_string()).unwrap()
    }

    #[test]
    fn uris_cannot_leave_the_directory() {
        for bad in [
            "fn:../x",
            "fn:/etc/passwd",
            "fn:",
            "fn:..",
            "fn:.",
            "fn:a/b",
            "fn:a\\b",
            "fn:a\0b",
            "fn:a..b",
            "hv:key",
            "no-scheme",
        ] {
            assert!(
                matches!(Vault::file_of(bad), Err(VaultError::InvalidInput(_))),
                "{bad:?}"
            );
        }
        assert_eq!(Vault::file_of("fn:0d9d3d4b").unwrap(), "0d9d3d4b");
    }

    #[test]
    fn configuration_errors_name_the_key_and_never_a_password() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let cases = [
            (
                serde_json::json!({"dir": d, "pasword": "s3cret-value"}),
                "'pasword'",
            ),
            (serde_json::json!({"dir": "/not/there"}), "dir:"),
            (serde_json::json!({"dir": 7}), "dir:"),
            (
                serde_json::json!({"dir": d, "passwords": {"k": 12}}),
                "passwords.k",
            ),
            (
                serde_json::json!({"dir": d, "passwords": "s3cret-value"}),
                "passwords:",
            ),
            (
                serde_json::json!({"dir": d, "default_password": ["s3cret-value"]}),
                "default_password:",
            ),
        ];
        for (config, expect) in cases {
            match Vault::configure(&config.to_string()) {
                Err(VaultError::InvalidConfig(m)) => {
                    assert!(m.contains(expect), "{m}");
                    assert!(!m.contains("s3cret"), "{m}");
                }
                other => panic!("{config}: {:?}", other.err()),
            }
        }
        // Not JSON: the syntax error has a position but no input text.
        match Vault::configure(r#"{"default_password": "s3cret-value""#) {
            Err(VaultError::InvalidConfig(m)) => assert!(!m.contains("s3cret"), "{m}"),
            other => panic!("{:?}", other.err()),
        }
        let v = vault(
            dir.path(),
            serde_json::json!({"passwords": {"a": "x"}, "default_password": "y"}),
        );
        assert_eq!(v.password_count(), 2);
    }

    #[test]
    fn signs_lists_and_caches_keys_from_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let keys = generate_keys(dir.path());
        std::fs::write(dir.path().join("README.txt"), "not a key").unwrap();
        std::fs::write(dir.path().join(".hidden"), "not listed").unwrap();
        std::fs::create_dir(dir.path().join("subdir")).unwrap();
        std::fs::write(
            dir.path().join("huge"),
            vec![b'A'; MAX_KEY_FILE as usize + 1],
        )
        .unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("ed25519", dir.path().join("linked")).unwrap();

        // Only `ed25519-enc` gets a password of its own; others fall back to
        // the default, except that the default is wrong for `ecdsa-sha1prf`.
        let mut v = vault(
            dir.path(),
            serde_json::json!({
                "passwords": {"ed25519-enc": PASSWORD, "ecdsa-sha1prf": "wrong"},
                "default_password": PASSWORD,
            }),
        );
        let listing = v.list().unwrap();
        let listed: Vec<&str> = listing.keys.iter().map(|k| k.uri.as_str()).collect();
        let mut expected: Vec<String> = keys
            .iter()
            .filter(|k| k.0 != "ecdsa-sha1prf")
            .map(|k| format!("fn:{}", k.0))
            .collect();
        if cfg!(unix) {
            expected.push("fn:linked".into());
        }
        expected.sort();
        assert_eq!(listed, expected);
        let skipped = format!("{:?}", listing.skipped);
        let skipped_names: Vec<&str> = listing.skipped.iter().map(|(n, _)| n.as_str()).collect();
        for name in ["README.txt", "huge"] {
            assert!(skipped_names.contains(&name), "{skipped}");
        }
        if keys.iter().any(|k| k.0 == "ecdsa-sha1prf") {
            assert!(
                skipped.contains("wrong password for key file ecdsa-sha1prf"),
                "{skipped}"
            );
        }
        assert!(
            !skipped.contains(PASSWORD) && !skipped.contains("wrong\""),
            "{skipped}"
        );

        // Public keys as python wrote them; signatures python verifies.
        let msg = b"canonical json of signed".to_vec();
        let mut items = Vec::new();
        for (file, kind, public, _) in keys.iter().filter(|k| k.0 != "ecdsa-sha1prf") {
            let uri = format!("fn:{file}");
            let key = v.public(&uri).unwrap();
            assert_eq!(
                (&key.uri, key.keytype, &key.public),
                (&uri, kind.as_str(), public)
            );
            items.push((
                kind.clone(),
                public.clone(),
                msg.clone(),
                v.sign(&uri, &msg).unwrap(),
            ));
        }
        assert!(python_verifies(&items).iter().all(|ok| *ok));

        // Cached: signing works after the file is gone from the directory.
        std::fs::remove_file(dir.path().join("rsa-enc")).unwrap();
        assert_eq!(v.sign("fn:rsa-enc", &msg).unwrap().len(), 256);
        assert!(matches!(
            v.sign("fn:absent", &msg),
            Err(VaultError::NotFound(_))
        ));
    }

    #[test]
    fn wrong_password_is_denied_naming_the_file_only() {
        let dir = tempfile::tempdir().unwrap();
        generate_keys(dir.path());
        let mut v = vault(
            dir.path(),
            serde_json::json!({"passwords": {"rsa-enc": "not-the-password"}}),
        );
        assert_eq!(
            v.sign("fn:rsa-enc", b"m"),
            Err(VaultError::Denied(
                "wrong password for key file rsa-enc".into()
            ))
        );
        match v.public("fn:ecdsa-enc") {
            Err(VaultError::Denied(m)) => {
                assert!(m.contains("ecdsa-enc") && m.contains("no password"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        for uri in [
            "fn:../etc/passwd",
            "fn:/etc/passwd",
            "fn:",
            "hv:online",
            "no-scheme",
        ] {
            assert!(
                matches!(v.sign(uri, b"m"), Err(VaultError::InvalidInput(_))),
                "{uri}"
            );
        }
        assert!(matches!(
            v.sign("fn:absent", b"m"),
            Err(VaultError::NotFound(_))
        ));
        // Unencrypted keys still sign after all those failures.
        assert_eq!(v.sign("fn:ed25519", b"m").unwrap().len(), 64);
    }
}

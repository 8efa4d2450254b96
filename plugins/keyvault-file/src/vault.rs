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
use rstuf_plugin_sdk::config::NonEmpty;
use rstuf_plugin_sdk::Secret;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The guest path used when the configuration does not name one.
pub const DEFAULT_DIR: &str = "/keys";

/// The URI scheme this vault serves.
pub const SCHEME: &str = "fn";

pub use rstuf_plugin_sdk::{Error, PublicKey};

/// The plugin's configuration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = serde_json::json!({"dir": DEFAULT_DIR, "passwords": {"online.pem": "..."}}))]
pub struct Config {
    /// Guest path of the directory (granted by the host) holding the PEM key files
    #[serde(default = "default_dir")]
    pub dir: NonEmpty,
    /// Password per key file name, for encrypted PKCS#8 files (secret)
    #[serde(default)]
    pub passwords: BTreeMap<String, Secret>,
    /// Password for encrypted key files not listed in passwords (secret)
    pub default_password: Option<Secret>,
}

fn default_dir() -> NonEmpty {
    NonEmpty::literal(DEFAULT_DIR)
}

/// What `list` found: the keys, and each other file with the reason it was
/// skipped (texts without secrets, fit for the host log).
#[derive(Debug, Default)]
pub struct Listing {
    pub keys: Vec<PublicKey>,
    pub skipped: Vec<(String, Error)>,
}

pub struct Vault {
    dir: PathBuf,
    passwords: BTreeMap<String, Secret>,
    default_password: Option<Secret>,
    cache: BTreeMap<String, PrivateKey>,
}

impl Vault {
    /// Open the key directory, which must exist.
    pub fn open(config: Config) -> Result<Vault, Error> {
        let dir = config.dir.as_str();
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(Error::config("dir", format!("{dir} is not a directory"))),
            Err(e) => {
                return Err(Error::config(
                    "dir",
                    format!("cannot open {dir}: {e} (is the directory granted to the plugin?)"),
                ))
            }
        }
        Ok(Vault {
            dir: PathBuf::from(dir),
            passwords: config.passwords,
            default_password: config.default_password,
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
    pub fn file_of(uri: &str) -> Result<&str, Error> {
        let file = uri
            .strip_prefix("fn:")
            .ok_or_else(|| Error::InvalidInput(format!("key URI {uri:?} is not an fn: URI")))?;
        let bad = file.is_empty()
            || file.len() > 255
            || file.contains("..")
            || file.contains(['/', '\\', '\0'])
            || file.chars().any(char::is_control)
            || file == ".";
        if bad {
            return Err(Error::InvalidInput(format!(
                "key URI {uri:?} does not name a file in the key directory"
            )));
        }
        Ok(file)
    }

    fn password(&self, file: &str) -> Option<&str> {
        self.passwords
            .get(file)
            .or(self.default_password.as_ref())
            .map(Secret::expose)
    }

    fn load(&mut self, uri: &str) -> Result<&PrivateKey, Error> {
        let file = Self::file_of(uri)?.to_string();
        if !self.cache.contains_key(&file) {
            let pem = read_key_file(&self.dir.join(&file), &file)?;
            let key =
                PrivateKey::from_pem(&file, &pem, self.password(&file)).map_err(|e| match e {
                    KeyError::Password(m) => Error::Denied(m),
                    KeyError::Unsupported(m) => Error::InvalidInput(m),
                    KeyError::Internal(m) => Error::Internal(m),
                })?;
            self.cache.insert(file.clone(), key);
        }
        self.cache
            .get(&file)
            .ok_or_else(|| Error::Internal("key cache lost an entry".into()))
    }

    /// The public half of the key at `uri`.
    pub fn public(&mut self, uri: &str) -> Result<PublicKey, Error> {
        let p = self
            .load(uri)?
            .public()
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(PublicKey {
            uri: uri.to_string(),
            keytype: p.keytype.into(),
            scheme: p.scheme.into(),
            public: p.public,
        })
    }

    /// Sign `message` with the key at `uri` per its TUF scheme.
    pub fn sign(&mut self, uri: &str, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.load(uri)?
            .sign(message)
            .map_err(|e| Error::Internal(format!("signing with {uri}: {e}")))
    }

    /// Every regular file (symlinks followed, dot-files skipped) in the
    /// directory that loads as a key, in name order; files that do not load
    /// (not keys, encrypted without a password, wrong password) are skipped
    /// with a reason instead of failing the listing.
    pub fn list(&mut self) -> Result<Listing, Error> {
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

fn io_error(what: &str, e: &std::io::Error) -> Error {
    let msg = format!("{what}: {e}");
    match e.kind() {
        ErrorKind::NotFound => Error::NotFound(msg),
        ErrorKind::PermissionDenied => Error::Denied(msg),
        _ => Error::Internal(msg),
    }
}

/// Read a key file, refusing anything too large to be a key.
fn read_key_file(path: &std::path::Path, file: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    use std::io::Read as _;
    let f = std::fs::File::open(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => {
            Error::NotFound(format!("no key file {file:?} in the key directory"))
        }
        _ => io_error(&format!("cannot read key file {file:?}"), &e),
    })?;
    let mut pem = Zeroizing::new(Vec::new());
    f.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut pem)
        .map_err(|e| io_error(&format!("cannot read key file {file:?}"), &e))?;
    if pem.len() as u64 > MAX_KEY_FILE {
        return Err(Error::InvalidInput(format!(
            "key file {file:?} is larger than {MAX_KEY_FILE} bytes; not a PEM key"
        )));
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstuf_keys::testing::{generate_keys, python_verifies, PASSWORD};

    fn configure(text: &str) -> Result<Vault, Error> {
        Vault::open(rstuf_plugin_sdk::config::parse(text)?)
    }

    fn vault(dir: &std::path::Path, extra: serde_json::Value) -> Vault {
        let mut config = serde_json::json!({ "dir": dir.to_str().unwrap() });
        if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        configure(&config.to_string()).unwrap()
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
                matches!(Vault::file_of(bad), Err(Error::InvalidInput(_))),
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
            match configure(&config.to_string()) {
                Err(Error::InvalidConfig(m)) => {
                    assert!(m.contains(expect), "{m}");
                    assert!(!m.contains("s3cret"), "{m}");
                }
                other => panic!("{config}: {:?}", other.err()),
            }
        }
        // Not JSON: the syntax error has a position but no input text.
        match configure(r#"{"default_password": "s3cret-value""#) {
            Err(Error::InvalidConfig(m)) => assert!(!m.contains("s3cret"), "{m}"),
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
                (&key.uri, key.keytype.as_str(), &key.public),
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
        assert!(matches!(v.sign("fn:absent", &msg), Err(Error::NotFound(_))));
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
            Err(Error::Denied("wrong password for key file rsa-enc".into()))
        );
        match v.public("fn:ecdsa-enc") {
            Err(Error::Denied(m)) => {
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
                matches!(v.sign(uri, b"m"), Err(Error::InvalidInput(_))),
                "{uri}"
            );
        }
        assert!(matches!(v.sign("fn:absent", b"m"), Err(Error::NotFound(_))));
        // Unencrypted keys still sign after all those failures.
        assert_eq!(v.sign("fn:ed25519", b"m").unwrap().len(), 64);
    }
}

//! The administrator's offline keys in the CLI: key files on disk (bounded
//! reads, atomic writes, `FILE.pub` companions, names from file names),
//! where passwords come from, and the TUF key objects the CLI writes into
//! metadata (with `x-rstuf-key-name` and the online key URI) with
//! spec-exact keyids. Parsing, generating, encoding and signing are
//! `rstuf-keys`, shared with the keyvault-file plugin.
//!
//! These keys never go near the server: the service signs with its own
//! online key through a key-vault plugin.

use crate::error::{local, CliError, CliResult};
use rstuf_tuf::keys::Key;
use serde_json::{json, Map, Value};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub use rstuf_keys::{PrivateKey, PublicKey, MAX_KEY_FILE};

pub const KEY_NAME_FIELD: &str = "x-rstuf-key-name";
pub const ONLINE_URI_FIELD: &str = "x-rstuf-online-key-uri";

impl From<rstuf_keys::KeyError> for CliError {
    fn from(e: rstuf_keys::KeyError) -> CliError {
        local(e)
    }
}

/// Key types `rstuf admin keygen` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyKind {
    Ed25519,
    /// ECDSA on P-256 (ecdsa-sha2-nistp256).
    Ecdsa,
    /// ECDSA on P-384 (ecdsa-sha2-nistp384).
    EcdsaP384,
    /// ECDSA on P-521 (ecdsa-sha2-nistp521).
    EcdsaP521,
    Rsa,
}

impl From<KeyKind> for rstuf_keys::KeyKind {
    fn from(kind: KeyKind) -> rstuf_keys::KeyKind {
        match kind {
            KeyKind::Ed25519 => rstuf_keys::KeyKind::Ed25519,
            KeyKind::Ecdsa => rstuf_keys::KeyKind::Ecdsa,
            KeyKind::EcdsaP384 => rstuf_keys::KeyKind::EcdsaP384,
            KeyKind::EcdsaP521 => rstuf_keys::KeyKind::EcdsaP521,
            KeyKind::Rsa => rstuf_keys::KeyKind::Rsa,
        }
    }
}

/// The TUF key objects the CLI writes for a public key.
pub trait TufKeyForm {
    /// The TUF key object, with `x-rstuf-key-name` (and the online key URI).
    fn tuf_key(&self, name: Option<&str>, online_uri: Option<&str>) -> Value;

    /// Keyid of the key object with `name` (and URI): SHA-256 of its
    /// canonical JSON, custom fields included.
    fn keyid(&self, name: Option<&str>, online_uri: Option<&str>) -> String {
        keyid_of(&self.tuf_key(name, online_uri))
    }

    /// Keyid of the bare key (no custom fields): how securesystemslib names
    /// a key before a name is attached, and the `fn:` file name upstream's
    /// ceremony gives the online key.
    fn bare_keyid(&self) -> String {
        self.keyid(None, None)
    }

    /// Is `key` (a TUF key object) this key material?
    fn matches(&self, key: &Value) -> bool;
}

impl TufKeyForm for PublicKey {
    fn tuf_key(&self, name: Option<&str>, online_uri: Option<&str>) -> Value {
        let mut key = Map::new();
        key.insert("keytype".into(), self.keytype.into());
        key.insert("scheme".into(), self.scheme.into());
        key.insert("keyval".into(), json!({ "public": self.public }));
        if let Some(name) = name {
            key.insert(KEY_NAME_FIELD.into(), name.into());
        }
        if let Some(uri) = online_uri {
            key.insert(ONLINE_URI_FIELD.into(), uri.into());
        }
        Value::Object(key)
    }

    /// Same material and scheme; an RSA key matches under any RSA scheme
    /// (a key file does not say which one it is for; it signs with the
    /// one the metadata names, see `ceremony::sign_checked`).
    fn matches(&self, key: &Value) -> bool {
        Key::from_value(key).is_ok_and(|k| {
            let scheme_ok =
                k.scheme_name() == self.scheme || (self.keytype == "rsa" && k.keytype() == "rsa");
            scheme_ok && k.public().trim() == self.public.trim()
        })
    }
}

pub fn keyid_of(key: &Value) -> String {
    Key::from_value(key).map(|k| k.keyid()).unwrap_or_default()
}

/// A key file as found on disk.
pub type KeyFile = rstuf_keys::Pem;

/// Read a PEM file, bounded in size.
fn read_pem(path: &Path) -> CliResult<Vec<u8>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| local(format!("cannot read key file {}: {e}", path.display())))?;
    if meta.len() > MAX_KEY_FILE {
        return Err(local(format!(
            "{} is too large to be a key file ({} bytes)",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|e| local(format!("cannot read key file {}: {e}", path.display())))
}

/// Load a key file: a private key (PKCS#8, encrypted PKCS#8 decrypted with
/// `password` when given, PKCS#1 or SEC1) or a public key (`PUBLIC KEY`,
/// SubjectPublicKeyInfo).
pub fn load_key_file(path: &Path, password: Option<&str>) -> CliResult<KeyFile> {
    let name = path.display().to_string();
    Ok(rstuf_keys::Pem::parse(&name, &read_pem(path)?, password)?)
}

/// Where a password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    Env(String),
    File(PathBuf),
    /// Typed at a prompt.
    Typed(TypedPassword),
}

/// A password typed at a prompt; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TypedPassword(pub Zeroizing<String>);

impl std::fmt::Debug for TypedPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TypedPassword(<redacted>)")
    }
}

impl PasswordSource {
    pub fn from_options(
        env: Option<&String>,
        file: Option<&PathBuf>,
    ) -> CliResult<Option<PasswordSource>> {
        match (env, file) {
            (Some(_), Some(_)) => Err(CliError::Usage(
                "give --password-env or --password-file, not both".into(),
            )),
            (Some(var), None) => Ok(Some(PasswordSource::Env(var.clone()))),
            (None, Some(path)) => Ok(Some(PasswordSource::File(path.clone()))),
            (None, None) => Ok(None),
        }
    }

    /// Read the password (a file's trailing newline is not part of it).
    pub fn read(&self) -> CliResult<Zeroizing<String>> {
        let password = match self {
            PasswordSource::Env(var) => Zeroizing::new(std::env::var(var).map_err(|_| {
                CliError::Usage(format!(
                    "environment variable {var} (the key password) is not set"
                ))
            })?),
            PasswordSource::File(path) => {
                let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                    local(format!("cannot read password file {}: {e}", path.display()))
                })?);
                Zeroizing::new(
                    text.strip_suffix("\r\n")
                        .or_else(|| text.strip_suffix('\n'))
                        .unwrap_or(text.as_str())
                        .to_string(),
                )
            }
            PasswordSource::Typed(p) => p.0.clone(),
        };
        if password.is_empty() {
            return Err(CliError::Usage(match self {
                PasswordSource::Env(var) => format!("the password in {var} is empty"),
                PasswordSource::File(p) => format!("the password file {} is empty", p.display()),
                PasswordSource::Typed(_) => "the password typed is empty".to_string(),
            }));
        }
        Ok(password)
    }
}

/// Load a private key for signing, decrypting it with `password` if needed.
pub fn load_private_key(
    path: &Path,
    password: Option<&PasswordSource>,
    how_to_pass: &str,
) -> CliResult<PrivateKey> {
    let secret = password.map(PasswordSource::read).transpose()?;
    match load_key_file(path, secret.as_deref().map(String::as_str))? {
        KeyFile::Private(k) => Ok(k),
        KeyFile::Public(_) => Err(local(format!(
            "{} is a public key; signing needs the private key file",
            path.display()
        ))),
        KeyFile::Encrypted => Err(local(format!(
            "key file {} is encrypted: give its password with {how_to_pass}",
            path.display()
        ))),
    }
}

/// The public half of a key file (public or private PEM). An encrypted
/// private key is read through its `FILE.pub` companion when there is one,
/// else decrypted with `password`.
pub fn load_public_key(path: &Path, password: Option<&PasswordSource>) -> CliResult<PublicKey> {
    match load_key_file(path, None)? {
        KeyFile::Public(p) => Ok(p),
        KeyFile::Private(k) => Ok(k.public()?),
        KeyFile::Encrypted => {
            let companion = pub_path(path);
            if companion.is_file() {
                return match load_key_file(&companion, None)? {
                    KeyFile::Public(p) => Ok(p),
                    _ => Err(local(format!(
                        "{} is not a public key file",
                        companion.display()
                    ))),
                };
            }
            match password {
                Some(source) => Ok(load_private_key(path, Some(source), "")?.public()?),
                None => Err(local(format!(
                    "key file {} is encrypted and {} does not exist: give the public key file instead",
                    path.display(),
                    companion.display()
                ))),
            }
        }
    }
}

/// `FILE.pub`.
pub fn pub_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".pub");
    PathBuf::from(s)
}

/// A default key name from a file name: `keys/alice.pem.pub` → `alice`.
pub fn default_name(path: &Path) -> String {
    let mut name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    for ext in [".pub", ".pem", ".key"] {
        if let Some(stripped) = name.strip_suffix(ext) {
            if !stripped.is_empty() {
                name = stripped.to_string();
            }
        }
    }
    name
}

/// Write `data` to `dest` atomically: a temporary file in the same
/// directory, synced, then moved into place. With `overwrite == false` an
/// existing `dest` is an error and is never replaced (the final step is a
/// hard link, which fails if the name exists).
pub fn write_atomic(dest: &Path, data: &[u8], mode: u32, overwrite: bool) -> CliResult<()> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = dest
        .file_name()
        .ok_or_else(|| CliError::Usage(format!("{} is not a file name", dest.display())))?
        .to_string_lossy()
        .to_string();
    if !overwrite && dest.symlink_metadata().is_ok() {
        return Err(local(format!(
            "{} already exists; refusing to overwrite it",
            dest.display()
        )));
    }
    // Unique enough for one writer; `create_new` refuses a collision.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(".{file_name}.{}.{nanos}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(mode);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        drop(file);
        if overwrite {
            std::fs::rename(&tmp, dest)?;
        } else {
            std::fs::hard_link(&tmp, dest)?;
            std::fs::remove_file(&tmp)?;
        }
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(if e.kind() == std::io::ErrorKind::AlreadyExists {
            local(format!(
                "{} already exists; refusing to overwrite it",
                dest.display()
            ))
        } else {
            local(format!("cannot write {}: {e}", dest.display()))
        });
    }
    let _ = mode;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(kind: KeyKind, password: Option<&str>) {
        let key = PrivateKey::generate(kind.into()).unwrap();
        let public = key.public().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let pem = key.to_pem(password.map(str::as_bytes)).unwrap();
        std::fs::write(&path, pem.as_bytes()).unwrap();
        let loaded = match load_key_file(&path, password).unwrap() {
            KeyFile::Private(k) => k,
            _ => panic!("expected a private key"),
        };
        assert_eq!(loaded.public().unwrap(), public);
        let pub_file = dir.path().join("k.pem.pub");
        std::fs::write(&pub_file, key.public_pem().unwrap()).unwrap();
        match load_key_file(&pub_file, None).unwrap() {
            KeyFile::Public(p) => assert_eq!(p, public),
            _ => panic!("expected a public key"),
        }
        let tuf = Key::from_value(&public.tuf_key(Some("n"), None)).unwrap();
        let sig = hex::encode(loaded.sign(b"message").unwrap());
        tuf.verify(b"message", &sig).unwrap();
        assert!(tuf.verify(b"other", &sig).is_err());
        if password.is_some() {
            assert!(matches!(
                load_key_file(&path, None).unwrap(),
                KeyFile::Encrypted
            ));
            let err = load_key_file(&path, Some("wrong")).err().unwrap();
            assert!(err.to_string().contains("wrong password"), "{err}");
        }
    }

    #[test]
    fn every_kind_round_trips_and_signs_verifiably() {
        round_trip(KeyKind::Ed25519, None);
        round_trip(KeyKind::Ed25519, Some("pw"));
        round_trip(KeyKind::Ecdsa, Some("pw"));
        round_trip(KeyKind::Rsa, None);
    }

    #[test]
    fn atomic_write_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        write_atomic(&dest, b"one", 0o600, false).unwrap();
        let err = write_atomic(&dest, b"two", 0o600, false).err().unwrap();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"one");
        write_atomic(&dest, b"three", 0o600, true).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"three");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let m = std::fs::metadata(&dest).unwrap().permissions().mode();
            assert_eq!(m & 0o777, 0o600);
        }
    }

    #[test]
    fn names_come_from_file_names() {
        assert_eq!(default_name(Path::new("keys/alice.pem.pub")), "alice");
        assert_eq!(default_name(Path::new("bob")), "bob");
    }
}

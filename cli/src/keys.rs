//! The administrator's offline keys: generating them (`rstuf admin keygen`),
//! loading PEM files (PKCS#8 private keys, encrypted or not, and SPKI public
//! keys), the TUF key JSON with spec-exact keyids, and signing with the TUF
//! schemes (raw Ed25519; DER ECDSA P-256 over SHA-256; RSASSA-PSS SHA-256
//! with a 32-byte salt).
//!
//! These keys never go near the server: the service signs with its own
//! online key through a key-vault plugin.

use crate::error::{local, CliError, CliResult};
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use pkcs8::der::{Decode as _, SecretDocument};
use rand_core::{OsRng, RngCore as _};
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
use rstuf_tuf::keys::Key;
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// RSA modulus size of generated keys.
pub const RSA_BITS: usize = 3072;
/// RSA-PSS salt length of `rsassa-pss-sha256` (the SHA-256 digest length).
const PSS_SALT_LEN: usize = 32;
/// Key files larger than this are not keys.
const MAX_KEY_FILE: u64 = 64 * 1024;
/// scrypt cost for encrypted key files: N = 2^15, r = 8, p = 1 (32 MiB), so
/// the key-vault plugin can also open them inside its memory cap.
const SCRYPT_LOG_N: u8 = 15;

pub const KEY_NAME_FIELD: &str = "x-rstuf-key-name";
pub const ONLINE_URI_FIELD: &str = "x-rstuf-online-key-uri";

const OID_ED25519: &str = "1.3.101.112";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_RSA: &str = "1.2.840.113549.1.1.1";

/// Key types `rstuf admin keygen` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyKind {
    Ed25519,
    Ecdsa,
    Rsa,
}

/// A private key, ready to sign.
pub enum PrivateKey {
    Ed25519(ed25519_dalek::SigningKey),
    Ecdsa(p256::ecdsa::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.public_parts_kind())
    }
}

/// The TUF view of a public key: `keytype`, `scheme`, `keyval.public`,
/// byte for byte what securesystemslib writes for the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub keytype: &'static str,
    pub scheme: &'static str,
    pub public: String,
}

impl PublicKey {
    /// The TUF key object, with `x-rstuf-key-name` (and the online key URI).
    pub fn tuf_key(&self, name: Option<&str>, online_uri: Option<&str>) -> Value {
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

    /// Keyid of the key object with `name` (and URI): SHA-256 of its
    /// canonical JSON, custom fields included.
    pub fn keyid(&self, name: Option<&str>, online_uri: Option<&str>) -> String {
        keyid_of(&self.tuf_key(name, online_uri))
    }

    /// Keyid of the bare key (no custom fields): how securesystemslib names
    /// a key before a name is attached, and the `fn:` file name upstream's
    /// ceremony gives the online key.
    pub fn bare_keyid(&self) -> String {
        self.keyid(None, None)
    }

    /// Is `key` (a TUF key object) this key material?
    pub fn matches(&self, key: &Value) -> bool {
        Key::from_value(key).is_ok_and(|k| {
            k.scheme_name() == self.scheme && k.public().trim() == self.public.trim()
        })
    }
}

pub fn keyid_of(key: &Value) -> String {
    Key::from_value(key).map(|k| k.keyid()).unwrap_or_default()
}

impl PrivateKey {
    /// A new random key (RSA: 3072 bits).
    pub fn generate(kind: KeyKind) -> CliResult<PrivateKey> {
        Ok(match kind {
            KeyKind::Ed25519 => {
                PrivateKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng))
            }
            KeyKind::Ecdsa => PrivateKey::Ecdsa(p256::ecdsa::SigningKey::random(&mut OsRng)),
            KeyKind::Rsa => PrivateKey::Rsa(Box::new(
                rsa::RsaPrivateKey::new(&mut OsRng, RSA_BITS)
                    .map_err(|e| local(format!("generating an RSA key failed: {e}")))?,
            )),
        })
    }

    fn public_parts_kind(&self) -> &'static str {
        match self {
            PrivateKey::Ed25519(_) => "ed25519",
            PrivateKey::Ecdsa(_) => "ecdsa",
            PrivateKey::Rsa(_) => "rsa",
        }
    }

    /// The public half in TUF form.
    pub fn public(&self) -> CliResult<PublicKey> {
        let pem_err = |e: &dyn std::fmt::Display| local(format!("encoding a public key: {e}"));
        Ok(match self {
            PrivateKey::Ed25519(k) => PublicKey {
                keytype: "ed25519",
                scheme: "ed25519",
                public: hex::encode(k.verifying_key().as_bytes()),
            },
            PrivateKey::Ecdsa(k) => PublicKey {
                keytype: "ecdsa",
                scheme: "ecdsa-sha2-nistp256",
                public: k
                    .verifying_key()
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| pem_err(&e))?,
            },
            PrivateKey::Rsa(k) => PublicKey {
                keytype: "rsa",
                scheme: "rsassa-pss-sha256",
                public: k
                    .to_public_key()
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| pem_err(&e))?,
            },
        })
    }

    /// The public key as a PEM SubjectPublicKeyInfo file.
    pub fn public_pem(&self) -> CliResult<String> {
        let pem_err = |e: &dyn std::fmt::Display| local(format!("encoding a public key: {e}"));
        match self {
            PrivateKey::Ed25519(k) => {
                use ed25519_dalek::pkcs8::EncodePublicKey as _;
                k.verifying_key()
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| pem_err(&e))
            }
            PrivateKey::Ecdsa(_) | PrivateKey::Rsa(_) => Ok(self.public()?.public),
        }
    }

    /// Unencrypted PKCS#8 DER (PKCS#8 v1 for Ed25519, as python
    /// `cryptography` writes it).
    fn pkcs8_der(&self) -> CliResult<SecretDocument> {
        let enc = |e: &dyn std::fmt::Display| local(format!("encoding the private key: {e}"));
        match self {
            PrivateKey::Ed25519(k) => {
                use ed25519_dalek::pkcs8::EncodePrivateKey as _;
                ed25519_dalek::pkcs8::KeypairBytes {
                    secret_key: k.to_bytes(),
                    public_key: None,
                }
                .to_pkcs8_der()
                .map_err(|e| enc(&e))
            }
            PrivateKey::Ecdsa(k) => k.to_pkcs8_der().map_err(|e| enc(&e)),
            PrivateKey::Rsa(k) => {
                use rsa::pkcs8::EncodePrivateKey as _;
                k.to_pkcs8_der().map_err(|e| enc(&e))
            }
        }
    }

    /// PKCS#8 PEM; encrypted (PBES2: scrypt + AES-256-CBC) with `password`.
    pub fn to_pem(&self, password: Option<&[u8]>) -> CliResult<Zeroizing<String>> {
        let der = self.pkcs8_der()?;
        let enc = |e: &dyn std::fmt::Display| local(format!("encoding the private key: {e}"));
        match password {
            None => der
                .to_pem("PRIVATE KEY", LineEnding::LF)
                .map_err(|e| enc(&e)),
            Some(password) => {
                let mut salt = [0u8; 16];
                let mut iv = [0u8; 16];
                OsRng.fill_bytes(&mut salt);
                OsRng.fill_bytes(&mut iv);
                let scrypt = pkcs8::pkcs5::scrypt::Params::new(SCRYPT_LOG_N, 8, 1, 32)
                    .map_err(|e| enc(&e))?;
                let params = pkcs8::pkcs5::pbes2::Parameters::scrypt_aes256cbc(scrypt, &salt, &iv)
                    .map_err(|e| enc(&e))?;
                let encrypted = params
                    .encrypt(password, der.as_bytes())
                    .map_err(|e| enc(&e))?;
                let info = pkcs8::EncryptedPrivateKeyInfo {
                    encryption_algorithm: params.into(),
                    encrypted_data: &encrypted,
                };
                let doc = SecretDocument::try_from(info).map_err(|e| enc(&e))?;
                doc.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
                    .map_err(|e| enc(&e))
            }
        }
    }

    /// Sign `message` with the key's TUF scheme.
    pub fn sign(&self, message: &[u8]) -> CliResult<Vec<u8>> {
        Ok(match self {
            PrivateKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            PrivateKey::Ecdsa(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            PrivateKey::Rsa(k) => {
                let signer =
                    rsa::pss::SigningKey::<Sha256>::new_with_salt_len((**k).clone(), PSS_SALT_LEN);
                signer
                    .try_sign_with_rng(&mut OsRng, message)
                    .map_err(|e| local(format!("RSA-PSS signing failed: {e}")))?
                    .to_vec()
            }
        })
    }

    fn from_pkcs8_der(name: &str, der: &[u8]) -> CliResult<PrivateKey> {
        let info = pkcs8::PrivateKeyInfo::from_der(der)
            .map_err(|e| local(format!("{name}: malformed PKCS#8 private key ({e})")))?;
        let oid = info.algorithm.oid.to_string();
        let bad = |e: &dyn std::fmt::Display| local(format!("{name}: {e}"));
        match oid.as_str() {
            OID_ED25519 => ed25519_dalek::SigningKey::from_pkcs8_der(der)
                .map(PrivateKey::Ed25519)
                .map_err(|e| bad(&e)),
            OID_EC => {
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map(|o| o.to_string())
                    .unwrap_or_default();
                if curve != OID_P256 {
                    return Err(local(format!(
                        "{name}: only ECDSA keys on P-256 (ecdsa-sha2-nistp256) are supported"
                    )));
                }
                p256::SecretKey::from_pkcs8_der(der)
                    .map(|k| PrivateKey::Ecdsa(k.into()))
                    .map_err(|e| bad(&e))
            }
            OID_RSA => {
                use rsa::pkcs8::DecodePrivateKey as _;
                rsa::RsaPrivateKey::from_pkcs8_der(der)
                    .map(|k| PrivateKey::Rsa(Box::new(k)))
                    .map_err(|e| bad(&e))
            }
            other => Err(local(format!(
                "{name}: key algorithm {other} is not supported (ed25519, ecdsa P-256, rsa)"
            ))),
        }
    }
}

/// A key file as found on disk.
pub enum KeyFile {
    /// A private key (decrypted if it was encrypted).
    Private(PrivateKey),
    /// A public key only.
    Public(PublicKey),
    /// An encrypted private key that was not decrypted (no password given).
    Encrypted,
}

/// Read a PEM file, bounded in size.
fn read_pem(path: &Path) -> CliResult<String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| local(format!("cannot read key file {}: {e}", path.display())))?;
    if meta.len() > MAX_KEY_FILE {
        return Err(local(format!(
            "{} is too large to be a key file ({} bytes)",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| local(format!("cannot read key file {}: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|_| local(format!("{} is not a PEM key file", path.display())))
}

/// The first PEM block in `text`, ignoring text around it.
fn first_pem_block(text: &str) -> Option<&str> {
    let start = text.find("-----BEGIN ")?;
    let end_marker = start + text[start..].find("-----END ")?;
    let end = text[end_marker..]
        .find('\n')
        .map_or(text.len(), |i| end_marker + i + 1);
    Some(&text[start..end])
}

/// Load a key file: a PKCS#8 private key (`PRIVATE KEY`, or `ENCRYPTED
/// PRIVATE KEY` decrypted with `password` when given) or a public key
/// (`PUBLIC KEY`, SubjectPublicKeyInfo).
pub fn load_key_file(path: &Path, password: Option<&str>) -> CliResult<KeyFile> {
    let name = path.display().to_string();
    let text = read_pem(path)?;
    let block = first_pem_block(&text)
        .ok_or_else(|| local(format!("{name}: no PEM block found (not a key file)")))?;
    if block.contains("Proc-Type:") {
        return Err(local(format!(
            "{name}: legacy OpenSSL-encrypted PEM is not supported; convert it with `openssl pkcs8 -topk8`"
        )));
    }
    let (label, doc) = SecretDocument::from_pem(block)
        .map_err(|e| local(format!("{name}: malformed PEM ({e})")))?;
    match label {
        "PRIVATE KEY" => Ok(KeyFile::Private(PrivateKey::from_pkcs8_der(
            &name,
            doc.as_bytes(),
        )?)),
        "ENCRYPTED PRIVATE KEY" => {
            let Some(password) = password else {
                return Ok(KeyFile::Encrypted);
            };
            let info = pkcs8::EncryptedPrivateKeyInfo::from_der(doc.as_bytes())
                .map_err(|e| local(format!("{name}: malformed encrypted key ({e})")))?;
            let wrong = || local(format!("wrong password for key file {name}"));
            let decrypted = match info.decrypt(password) {
                Ok(d) => d,
                Err(pkcs8::Error::EncryptedPrivateKey(
                    pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed,
                ))
                | Err(pkcs8::Error::Asn1(_)) => return Err(wrong()),
                Err(e) => {
                    return Err(local(format!(
                        "{name}: unsupported key encryption ({e})"
                    )))
                }
            };
            if pkcs8::PrivateKeyInfo::from_der(decrypted.as_bytes()).is_err() {
                return Err(wrong());
            }
            Ok(KeyFile::Private(PrivateKey::from_pkcs8_der(
                &name,
                decrypted.as_bytes(),
            )?))
        }
        "PUBLIC KEY" => Ok(KeyFile::Public(public_from_spki(&name, doc.as_bytes())?)),
        other => Err(local(format!(
            "{name}: PEM label '{other}' is not supported (PKCS#8 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY' or 'PUBLIC KEY')"
        ))),
    }
}

/// A TUF public key from SubjectPublicKeyInfo DER.
fn public_from_spki(name: &str, der: &[u8]) -> CliResult<PublicKey> {
    use pkcs8::spki::DecodePublicKey as _;
    let spki = pkcs8::spki::SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|e| local(format!("{name}: malformed public key ({e})")))?;
    let bad = |e: &dyn std::fmt::Display| local(format!("{name}: {e}"));
    match spki.algorithm.oid.to_string().as_str() {
        OID_ED25519 => {
            let vk = ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(|e| bad(&e))?;
            Ok(PublicKey {
                keytype: "ed25519",
                scheme: "ed25519",
                public: hex::encode(vk.as_bytes()),
            })
        }
        OID_EC => {
            let curve = spki
                .algorithm
                .parameters_oid()
                .map(|o| o.to_string())
                .unwrap_or_default();
            if curve != OID_P256 {
                return Err(local(format!(
                    "{name}: only ECDSA keys on P-256 (ecdsa-sha2-nistp256) are supported"
                )));
            }
            let pk = p256::PublicKey::from_public_key_der(der).map_err(|e| bad(&e))?;
            Ok(PublicKey {
                keytype: "ecdsa",
                scheme: "ecdsa-sha2-nistp256",
                public: pk.to_public_key_pem(LineEnding::LF).map_err(|e| bad(&e))?,
            })
        }
        OID_RSA => {
            let pk = rsa::RsaPublicKey::from_public_key_der(der).map_err(|e| bad(&e))?;
            Ok(PublicKey {
                keytype: "rsa",
                scheme: "rsassa-pss-sha256",
                public: pk.to_public_key_pem(LineEnding::LF).map_err(|e| bad(&e))?,
            })
        }
        other => Err(local(format!(
            "{name}: key algorithm {other} is not supported (ed25519, ecdsa P-256, rsa)"
        ))),
    }
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
        KeyFile::Private(k) => k.public(),
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
    let mut rnd = [0u8; 8];
    OsRng.fill_bytes(&mut rnd);
    let tmp = dir.join(format!(".{file_name}.{}.tmp", hex::encode(rnd)));
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
        let key = PrivateKey::generate(kind).unwrap();
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

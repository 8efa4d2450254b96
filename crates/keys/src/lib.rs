//! TUF signing keys, one implementation for every place that holds a
//! private key: the CLI (`rstuf admin keygen`, ceremonies, `metadata
//! sign`) natively, and the `keyvault-file` plugin on wasm32-wasip2. The
//! public half is written byte for byte as securesystemslib writes it, so
//! keyids computed from it match upstream's.
//!
//! Accepted PEM blocks ([`Pem::parse`]):
//! - `PRIVATE KEY` (unencrypted PKCS#8): upstream RSTUF's `fn:` key files;
//! - `ENCRYPTED PRIVATE KEY` (PKCS#8, PBES2 with PBKDF2 or scrypt, AES-CBC
//!   or 3DES): python `cryptography`'s `BestAvailableEncryption`, `openssl
//!   pkcs8 -topk8`, and what [`PrivateKey::to_pem`] writes;
//! - `RSA PRIVATE KEY` (PKCS#1) and `EC PRIVATE KEY` (SEC1), unencrypted,
//!   because upstream loads keys with `load_pem_private_key`, which takes
//!   these "traditional" encodings too;
//! - `PUBLIC KEY` (SubjectPublicKeyInfo).
//!
//! Key types: Ed25519, ECDSA on P-256, RSA. Signatures follow the TUF
//! schemes exactly: raw 64-byte Ed25519 (`ed25519`); DER-encoded ECDSA over
//! SHA-256 (`ecdsa-sha2-nistp256`); RSASSA-PSS with SHA-256, MGF1-SHA-256
//! and a 32-byte salt (`rsassa-pss-sha256`).
//!
//! Error texts name the file and the problem, never a password or key
//! material; `Debug` of a key shows its type only.

mod pem;
mod private;
mod public;
mod rng;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use pem::Pem;
pub use private::{KeyKind, PrivateKey, RSA_BITS};
pub use public::PublicKey;

/// Key files larger than this are not keys (an RSA-8192 PEM is ~6.5 KiB);
/// refusing them keeps a stray large file from eating a memory budget.
pub const MAX_KEY_FILE: u64 = 64 * 1024;

/// Why a key could not be read, written or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The file is not a key of a supported type and encoding; the text
    /// starts with the file's name and says what was found.
    #[error("{0}")]
    Unsupported(String),
    /// Encrypted, and no password or the wrong one was given.
    #[error("{0}")]
    Password(String),
    /// Encoding, randomness or signing failed for a reason other than the
    /// input.
    #[error("{0}")]
    Internal(String),
}

const OID_ED25519: &str = "1.3.101.112";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_RSA: &str = "1.2.840.113549.1.1.1";

/// An EC key must be on P-256, the one curve of `ecdsa-sha2-nistp256`.
fn require_p256(name: &str, algorithm: &pkcs8::AlgorithmIdentifierRef<'_>) -> Result<(), KeyError> {
    let curve = algorithm
        .parameters_oid()
        .map(|o| o.to_string())
        .unwrap_or_default();
    if curve == OID_P256 {
        return Ok(());
    }
    Err(KeyError::Unsupported(format!(
        "{name}: only ECDSA keys on P-256 (ecdsa-sha2-nistp256) are supported, not curve {curve}"
    )))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

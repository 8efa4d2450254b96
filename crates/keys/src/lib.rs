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
//! Key types: Ed25519, ECDSA on P-256, P-384 and P-521, RSA. Signatures
//! follow the TUF schemes exactly: raw 64-byte Ed25519 (`ed25519`);
//! DER-encoded ECDSA over SHA-256, SHA-384 and SHA-512
//! (`ecdsa-sha2-nistp256|384|521`); RSASSA-PSS with the digest, MGF1 with
//! the digest and a digest-length salt (`rsassa-pss-sha256|384|512`), or
//! RSASSA-PKCS1-v1_5 (`rsa-pkcs1v15-sha256|384|512`). An RSA key file does
//! not say which RSA scheme it is for: keys are read as
//! `rsassa-pss-sha256` and sign with the scheme the metadata names
//! ([`PrivateKey::sign_as`]).
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
pub use private::{KeyKind, PrivateKey, RsaHash, RsaScheme, RSA_BITS};
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
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";
const OID_RSA: &str = "1.2.840.113549.1.1.1";

/// The curves of the TUF ECDSA schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
    P521,
}

/// The curve of an EC key: P-256, P-384 or P-521.
fn ec_curve(name: &str, algorithm: &pkcs8::AlgorithmIdentifierRef<'_>) -> Result<Curve, KeyError> {
    let curve = algorithm
        .parameters_oid()
        .map(|o| o.to_string())
        .unwrap_or_default();
    match curve.as_str() {
        OID_P256 => Ok(Curve::P256),
        OID_P384 => Ok(Curve::P384),
        OID_P521 => Ok(Curve::P521),
        _ => Err(KeyError::Unsupported(format!(
            "{name}: only ECDSA keys on P-256, P-384 and P-521 (ecdsa-sha2-nistp256|384|521) are supported, not curve {curve}"
        ))),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

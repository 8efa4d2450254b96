//! PEM files: which block a file holds, decrypted when a password is given.

use crate::private::PrivateKey;
use crate::public::PublicKey;
use crate::KeyError;
use pkcs8::der::{Decode as _, SecretDocument};

/// What a PEM key file holds.
#[derive(Debug)]
pub enum Pem {
    /// A private key (decrypted, when it was encrypted).
    Private(PrivateKey),
    /// An encrypted private key, read without a password.
    Encrypted,
    /// A public key only.
    Public(PublicKey),
}

impl Pem {
    /// Parse the first PEM block of the key file `name` (used in error
    /// texts only). An encrypted private key is decrypted with `password`
    /// when one is given, and is [`Pem::Encrypted`] otherwise.
    pub fn parse(name: &str, pem: &[u8], password: Option<&str>) -> Result<Pem, KeyError> {
        let (label, doc) = pem_block(name, pem)?;
        Self::from_block(name, label, &doc, password)
    }

    pub(crate) fn from_block(
        name: &str,
        label: &str,
        doc: &SecretDocument,
        password: Option<&str>,
    ) -> Result<Pem, KeyError> {
        match label {
            "PRIVATE KEY" => PrivateKey::from_pkcs8_der(name, doc.as_bytes()).map(Pem::Private),
            "ENCRYPTED PRIVATE KEY" => match password {
                Some(password) => decrypt(name, doc.as_bytes(), password).map(Pem::Private),
                None => Ok(Pem::Encrypted),
            },
            "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_der(name, doc.as_bytes()).map(Pem::Private),
            "EC PRIVATE KEY" => PrivateKey::from_sec1_der(name, doc.as_bytes()).map(Pem::Private),
            "PUBLIC KEY" => PublicKey::from_spki_der(name, doc.as_bytes()).map(Pem::Public),
            other => Err(KeyError::Unsupported(format!(
                "{name}: PEM label '{other}' is not a supported key (PKCS#8 'PRIVATE KEY' or \
                 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PUBLIC KEY')"
            ))),
        }
    }
}

/// The label and contents of the first PEM block of the file `name`.
pub(crate) fn pem_block<'a>(
    name: &str,
    pem: &'a [u8],
) -> Result<(&'a str, SecretDocument), KeyError> {
    let text = std::str::from_utf8(pem)
        .map_err(|_| KeyError::Unsupported(format!("{name}: not a PEM text file")))?;
    let block = first_pem_block(text).ok_or_else(|| {
        KeyError::Unsupported(format!("{name}: no PEM block found (not a key file)"))
    })?;
    if block.contains("Proc-Type:") {
        return Err(KeyError::Unsupported(format!(
            "{name}: legacy OpenSSL-encrypted PEM is not supported; \
             convert it to encrypted PKCS#8 (openssl pkcs8 -topk8)"
        )));
    }
    SecretDocument::from_pem(block)
        .map_err(|e| KeyError::Unsupported(format!("{name}: malformed PEM ({e})")))
}

/// Decrypt an `EncryptedPrivateKeyInfo`.
fn decrypt(name: &str, der: &[u8], password: &str) -> Result<PrivateKey, KeyError> {
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(der)
        .map_err(|e| KeyError::Unsupported(format!("{name}: malformed encrypted key ({e})")))?;
    let wrong_password = || KeyError::Password(format!("wrong password for key file {name}"));
    let decrypted = match info.decrypt(password) {
        Ok(d) => d,
        // pkcs5 0.7 reports a bad CBC padding (the usual symptom of a
        // wrong password) as `EncryptFailed`.
        Err(pkcs8::Error::EncryptedPrivateKey(
            pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed,
        )) => return Err(wrong_password()),
        // A wrong password can also yield bytes that pass the padding
        // check but are not DER.
        Err(pkcs8::Error::Asn1(_)) => return Err(wrong_password()),
        Err(e) => {
            return Err(KeyError::Unsupported(format!(
                "{name}: unsupported key encryption ({e})"
            )))
        }
    };
    if pkcs8::PrivateKeyInfo::from_der(decrypted.as_bytes()).is_err() {
        return Err(wrong_password());
    }
    PrivateKey::from_pkcs8_der(name, decrypted.as_bytes())
}

/// The first PEM block in `text` (from its `-----BEGIN ` line to the end of
/// its `-----END ` line), so that explanatory text around it, as `openssl`
/// sometimes writes, does not matter.
fn first_pem_block(text: &str) -> Option<&str> {
    let start = text.find("-----BEGIN ")?;
    let end_marker = start + text[start..].find("-----END ")?;
    let end = text[end_marker..]
        .find('\n')
        .map_or(text.len(), |i| end_marker + i + 1);
    Some(&text[start..end])
}

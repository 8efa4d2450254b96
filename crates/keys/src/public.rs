//! Public keys in TUF form.

use crate::{ec_curve, hex, Curve, KeyError, OID_EC, OID_ED25519, OID_RSA};
use p256::pkcs8::{EncodePublicKey as _, LineEnding};
use pkcs8::der::Decode as _;

/// TUF's view of a public key: `keytype`, `scheme` and `keyval.public`
/// exactly as securesystemslib writes them: lowercase hex of the raw key
/// for Ed25519, PEM SubjectPublicKeyInfo with `\n` line endings (and a
/// final newline) otherwise, as python `cryptography` produces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub keytype: &'static str,
    pub scheme: &'static str,
    pub public: String,
}

impl PublicKey {
    /// A public key from SubjectPublicKeyInfo DER, from the file `name`
    /// (used in error texts only).
    pub fn from_spki_der(name: &str, der: &[u8]) -> Result<PublicKey, KeyError> {
        use pkcs8::spki::DecodePublicKey as _;
        let spki = pkcs8::spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| KeyError::Unsupported(format!("{name}: malformed public key ({e})")))?;
        let bad = |e: &dyn std::fmt::Display| KeyError::Unsupported(format!("{name}: {e}"));
        match spki.algorithm.oid.to_string().as_str() {
            OID_ED25519 => {
                let vk =
                    ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(|e| bad(&e))?;
                Ok(PublicKey {
                    keytype: "ed25519",
                    scheme: "ed25519",
                    public: hex(vk.as_bytes()),
                })
            }
            OID_EC => {
                let (scheme, public) = match ec_curve(name, &spki.algorithm)? {
                    Curve::P256 => (
                        "ecdsa-sha2-nistp256",
                        p256::PublicKey::from_public_key_der(der)
                            .map_err(|e| bad(&e))?
                            .to_public_key_pem(LineEnding::LF),
                    ),
                    Curve::P384 => (
                        "ecdsa-sha2-nistp384",
                        p384::PublicKey::from_public_key_der(der)
                            .map_err(|e| bad(&e))?
                            .to_public_key_pem(LineEnding::LF),
                    ),
                    Curve::P521 => (
                        "ecdsa-sha2-nistp521",
                        p521::PublicKey::from_public_key_der(der)
                            .map_err(|e| bad(&e))?
                            .to_public_key_pem(LineEnding::LF),
                    ),
                };
                Ok(PublicKey {
                    keytype: "ecdsa",
                    scheme,
                    public: public.map_err(|e| bad(&e))?,
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
            other => Err(KeyError::Unsupported(format!(
                "{name}: key algorithm {other} is not supported (ed25519, ecdsa P-256/P-384/P-521, rsa)"
            ))),
        }
    }

    /// A public key from a PEM `PUBLIC KEY` block (SubjectPublicKeyInfo),
    /// as key services (Vault transit, AWS KMS) export them.
    pub fn from_spki_pem(name: &str, pem: &str) -> Result<PublicKey, KeyError> {
        let (label, doc) = pkcs8::der::Document::from_pem(pem)
            .map_err(|e| KeyError::Unsupported(format!("{name}: malformed PEM ({e})")))?;
        if label != "PUBLIC KEY" {
            return Err(KeyError::Unsupported(format!(
                "{name}: PEM label '{label}' is not 'PUBLIC KEY'"
            )));
        }
        Self::from_spki_der(name, doc.as_bytes())
    }
}

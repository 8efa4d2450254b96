//! Private keys: decoding, generating, encoding (encrypted PKCS#8) and
//! signing per TUF scheme.

use crate::pem::Pem;
use crate::public::PublicKey;
use crate::rng::SystemRng;
use crate::{ec_curve, hex, Curve, KeyError, OID_EC, OID_ED25519, OID_RSA};
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use pkcs8::der::{Decode as _, SecretDocument};
use rand_core::RngCore as _;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

/// RSA modulus size of generated keys.
pub const RSA_BITS: usize = 3072;
/// scrypt cost of the encrypted files [`PrivateKey::to_pem`] writes: N =
/// 2^15, r = 8, p = 1 (32 MiB), so the key-vault plugin can open them
/// inside its memory cap.
const SCRYPT_LOG_N: u8 = 15;

/// Key types that can be generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Ed25519,
    /// ECDSA on P-256.
    Ecdsa,
    EcdsaP384,
    EcdsaP521,
    /// RSA for `rsassa-pss-sha256`.
    Rsa,
    /// RSA for `rsa-pkcs1v15-sha256`.
    RsaPkcs1v15,
}

/// The digest of an RSA scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaHash {
    Sha256,
    Sha384,
    Sha512,
}

/// An RSA signing scheme (securesystemslib's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaScheme {
    Pss(RsaHash),
    Pkcs1v15(RsaHash),
}

impl RsaScheme {
    pub fn parse(name: &str) -> Option<RsaScheme> {
        use RsaHash::*;
        Some(match name {
            "rsassa-pss-sha256" => RsaScheme::Pss(Sha256),
            "rsassa-pss-sha384" => RsaScheme::Pss(Sha384),
            "rsassa-pss-sha512" => RsaScheme::Pss(Sha512),
            "rsa-pkcs1v15-sha256" => RsaScheme::Pkcs1v15(Sha256),
            "rsa-pkcs1v15-sha384" => RsaScheme::Pkcs1v15(Sha384),
            "rsa-pkcs1v15-sha512" => RsaScheme::Pkcs1v15(Sha512),
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use RsaHash::*;
        match self {
            RsaScheme::Pss(Sha256) => "rsassa-pss-sha256",
            RsaScheme::Pss(Sha384) => "rsassa-pss-sha384",
            RsaScheme::Pss(Sha512) => "rsassa-pss-sha512",
            RsaScheme::Pkcs1v15(Sha256) => "rsa-pkcs1v15-sha256",
            RsaScheme::Pkcs1v15(Sha384) => "rsa-pkcs1v15-sha384",
            RsaScheme::Pkcs1v15(Sha512) => "rsa-pkcs1v15-sha512",
        }
    }
}

/// A private key, ready to sign.
pub enum PrivateKey {
    Ed25519(ed25519_dalek::SigningKey),
    Ecdsa(p256::ecdsa::SigningKey),
    EcdsaP384(p384::ecdsa::SigningKey),
    EcdsaP521(p521::ecdsa::SigningKey),
    /// The key and the scheme it signs with by default.
    Rsa(Box<rsa::RsaPrivateKey>, RsaScheme),
}

impl std::fmt::Debug for PrivateKey {
    /// Names the key type only: no key material in logs or panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.keytype())
    }
}

impl PrivateKey {
    /// A new random key (RSA: [`RSA_BITS`] bits).
    pub fn generate(kind: KeyKind) -> Result<PrivateKey, KeyError> {
        let mut rng = SystemRng::new()?;
        Ok(match kind {
            KeyKind::Ed25519 => PrivateKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut rng)),
            KeyKind::Ecdsa => PrivateKey::Ecdsa(p256::ecdsa::SigningKey::random(&mut rng)),
            KeyKind::EcdsaP384 => PrivateKey::EcdsaP384(p384::ecdsa::SigningKey::random(&mut rng)),
            KeyKind::EcdsaP521 => PrivateKey::EcdsaP521(p521::ecdsa::SigningKey::random(&mut rng)),
            KeyKind::Rsa | KeyKind::RsaPkcs1v15 => {
                let key = rsa::RsaPrivateKey::new(&mut rng, RSA_BITS).map_err(|e| {
                    KeyError::Internal(format!("generating an RSA key failed: {e}"))
                })?;
                let scheme = if kind == KeyKind::Rsa {
                    RsaScheme::Pss(RsaHash::Sha256)
                } else {
                    RsaScheme::Pkcs1v15(RsaHash::Sha256)
                };
                PrivateKey::Rsa(Box::new(key), scheme)
            }
        })
    }

    /// Parse a PEM private key file named `name` (used in error texts
    /// only); `password` is used only when the file is encrypted.
    pub fn from_pem(
        name: &str,
        pem: &[u8],
        password: Option<&str>,
    ) -> Result<PrivateKey, KeyError> {
        let (label, doc) = crate::pem::pem_block(name, pem)?;
        if label == "PUBLIC KEY" {
            return Err(KeyError::Unsupported(format!(
                "{name}: PEM label 'PUBLIC KEY' is a public key; a private key is needed"
            )));
        }
        match Pem::from_block(name, label, &doc, password)? {
            Pem::Private(key) => Ok(key),
            Pem::Encrypted => Err(KeyError::Password(format!(
                "key file {name} is encrypted and no password is configured"
            ))),
            Pem::Public(_) => Err(KeyError::Unsupported(format!(
                "{name}: PEM label 'PUBLIC KEY' is a public key; a private key is needed"
            ))),
        }
    }

    fn rsa(key: rsa::RsaPrivateKey) -> PrivateKey {
        PrivateKey::Rsa(Box::new(key), RsaScheme::Pss(RsaHash::Sha256))
    }

    /// The same RSA key, signing with `scheme` by default (other key types
    /// have one scheme each and are returned as they are).
    pub fn with_rsa_scheme(self, scheme: RsaScheme) -> PrivateKey {
        match self {
            PrivateKey::Rsa(key, _) => PrivateKey::Rsa(key, scheme),
            other => other,
        }
    }

    /// An unencrypted PKCS#8 `PrivateKeyInfo`.
    pub(crate) fn from_pkcs8_der(name: &str, der: &[u8]) -> Result<PrivateKey, KeyError> {
        let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(|e| {
            KeyError::Unsupported(format!("{name}: malformed PKCS#8 private key ({e})"))
        })?;
        let oid = info.algorithm.oid.to_string();
        let bad = |e: &dyn std::fmt::Display| KeyError::Unsupported(format!("{name}: {e}"));
        match oid.as_str() {
            OID_ED25519 => ed25519_dalek::SigningKey::from_pkcs8_der(der)
                .map(PrivateKey::Ed25519)
                .map_err(|e| bad(&e)),
            OID_EC => match ec_curve(name, &info.algorithm)? {
                Curve::P256 => p256::SecretKey::from_pkcs8_der(der)
                    .map(|k| PrivateKey::Ecdsa(k.into()))
                    .map_err(|e| bad(&e)),
                Curve::P384 => p384::SecretKey::from_pkcs8_der(der)
                    .map(|k| PrivateKey::EcdsaP384(k.into()))
                    .map_err(|e| bad(&e)),
                Curve::P521 => {
                    let k = p521::SecretKey::from_pkcs8_der(der).map_err(|e| bad(&e))?;
                    p521::ecdsa::SigningKey::from_bytes(&k.to_bytes())
                        .map(PrivateKey::EcdsaP521)
                        .map_err(|e| bad(&e))
                }
            },
            OID_RSA => {
                use rsa::pkcs8::DecodePrivateKey as _;
                rsa::RsaPrivateKey::from_pkcs8_der(der)
                    .map(Self::rsa)
                    .map_err(|e| bad(&e))
            }
            other => Err(KeyError::Unsupported(format!(
                "{name}: key algorithm {other} is not supported (ed25519, ecdsa P-256/P-384/P-521, rsa)"
            ))),
        }
    }

    /// A PKCS#1 `RSAPrivateKey`.
    pub(crate) fn from_pkcs1_der(name: &str, der: &[u8]) -> Result<PrivateKey, KeyError> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        rsa::RsaPrivateKey::from_pkcs1_der(der)
            .map(Self::rsa)
            .map_err(|e| KeyError::Unsupported(format!("{name}: malformed PKCS#1 RSA key ({e})")))
    }

    /// A SEC1 `ECPrivateKey` on P-256, P-384 or P-521.
    pub(crate) fn from_sec1_der(name: &str, der: &[u8]) -> Result<PrivateKey, KeyError> {
        if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
            return Ok(PrivateKey::Ecdsa(k.into()));
        }
        if let Ok(k) = p384::SecretKey::from_sec1_der(der) {
            return Ok(PrivateKey::EcdsaP384(k.into()));
        }
        p521::SecretKey::from_sec1_der(der)
            .ok()
            .and_then(|k| p521::ecdsa::SigningKey::from_bytes(&k.to_bytes()).ok())
            .map(PrivateKey::EcdsaP521)
            .ok_or_else(|| {
                KeyError::Unsupported(format!(
                    "{name}: not a SEC1 private key on the P-256, P-384 or P-521 curve"
                ))
            })
    }

    /// TUF key type.
    pub fn keytype(&self) -> &'static str {
        match self {
            PrivateKey::Ed25519(_) => "ed25519",
            PrivateKey::Ecdsa(_) | PrivateKey::EcdsaP384(_) | PrivateKey::EcdsaP521(_) => "ecdsa",
            PrivateKey::Rsa(..) => "rsa",
        }
    }

    /// The public half in TUF form (see [`PublicKey`]).
    pub fn public(&self) -> Result<PublicKey, KeyError> {
        let pem_err =
            |e: &dyn std::fmt::Display| KeyError::Internal(format!("encoding a public key: {e}"));
        Ok(match self {
            PrivateKey::Ed25519(k) => PublicKey {
                keytype: "ed25519",
                scheme: "ed25519",
                public: hex(k.verifying_key().as_bytes()),
            },
            PrivateKey::Ecdsa(k) => PublicKey {
                keytype: "ecdsa",
                scheme: "ecdsa-sha2-nistp256",
                public: k
                    .verifying_key()
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| pem_err(&e))?,
            },
            PrivateKey::EcdsaP384(k) => PublicKey {
                keytype: "ecdsa",
                scheme: "ecdsa-sha2-nistp384",
                public: k
                    .verifying_key()
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| pem_err(&e))?,
            },
            PrivateKey::EcdsaP521(k) => PublicKey {
                keytype: "ecdsa",
                scheme: "ecdsa-sha2-nistp521",
                public: p521::PublicKey::from_secret_scalar(k.as_nonzero_scalar())
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| pem_err(&e))?,
            },
            PrivateKey::Rsa(k, scheme) => PublicKey {
                keytype: "rsa",
                scheme: scheme.name(),
                public: rsa::RsaPublicKey::from(k.as_ref())
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| pem_err(&e))?,
            },
        })
    }

    /// The public key as a PEM SubjectPublicKeyInfo file (for Ed25519 too,
    /// whose TUF form is hex).
    pub fn public_pem(&self) -> Result<String, KeyError> {
        match self {
            PrivateKey::Ed25519(k) => {
                use ed25519_dalek::pkcs8::EncodePublicKey as _;
                k.verifying_key()
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| KeyError::Internal(format!("encoding a public key: {e}")))
            }
            _ => Ok(self.public()?.public),
        }
    }

    /// Unencrypted PKCS#8 DER (PKCS#8 v1 for Ed25519, as python
    /// `cryptography` writes it).
    fn pkcs8_der(&self) -> Result<SecretDocument, KeyError> {
        let enc = |e: &dyn std::fmt::Display| {
            KeyError::Internal(format!("encoding the private key: {e}"))
        };
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
            PrivateKey::EcdsaP384(k) => k.to_pkcs8_der().map_err(|e| enc(&e)),
            PrivateKey::EcdsaP521(k) => p521::SecretKey::from_bytes(&k.to_bytes())
                .map_err(|e| enc(&e))?
                .to_pkcs8_der()
                .map_err(|e| enc(&e)),
            PrivateKey::Rsa(k, _) => {
                use rsa::pkcs8::EncodePrivateKey as _;
                k.to_pkcs8_der().map_err(|e| enc(&e))
            }
        }
    }

    /// PKCS#8 PEM; encrypted with `password` (PBES2: scrypt and
    /// AES-256-CBC, as python `cryptography` and `openssl` read it).
    pub fn to_pem(&self, password: Option<&[u8]>) -> Result<Zeroizing<String>, KeyError> {
        let der = self.pkcs8_der()?;
        let enc = |e: &dyn std::fmt::Display| {
            KeyError::Internal(format!("encoding the private key: {e}"))
        };
        let Some(password) = password else {
            return der
                .to_pem("PRIVATE KEY", LineEnding::LF)
                .map_err(|e| enc(&e));
        };
        let mut rng = SystemRng::new()?;
        let (mut salt, mut iv) = ([0u8; 16], [0u8; 16]);
        rng.fill_bytes(&mut salt);
        rng.fill_bytes(&mut iv);
        let scrypt =
            pkcs8::pkcs5::scrypt::Params::new(SCRYPT_LOG_N, 8, 1, 32).map_err(|e| enc(&e))?;
        let params = pkcs8::pkcs5::pbes2::Parameters::scrypt_aes256cbc(scrypt, &salt, &iv)
            .map_err(|e| enc(&e))?;
        let encrypted = params
            .encrypt(password, der.as_bytes())
            .map_err(|e| enc(&e))?;
        let info = pkcs8::EncryptedPrivateKeyInfo {
            encryption_algorithm: params.into(),
            encrypted_data: &encrypted,
        };
        SecretDocument::try_from(info)
            .map_err(|e| enc(&e))?
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .map_err(|e| enc(&e))
    }

    /// Sign `message` per the key's TUF scheme.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        Ok(match self {
            PrivateKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            // RFC 6979 deterministic nonces; the curve's digest of the
            // message; DER, as securesystemslib signs.
            PrivateKey::Ecdsa(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            PrivateKey::EcdsaP384(k) => {
                let sig: p384::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            PrivateKey::EcdsaP521(k) => {
                // p521 signs with a random nonce only (no RFC 6979), from
                // the same source as RSA-PSS salts.
                use p521::ecdsa::signature::hazmat::RandomizedPrehashSigner as _;
                use sha2::Digest as _;
                let mut rng = SystemRng::new()?;
                let sig: p521::ecdsa::Signature = k
                    .sign_prehash_with_rng(&mut rng, &Sha512::digest(message))
                    .map_err(|e| KeyError::Internal(format!("ECDSA P-521 signing failed: {e}")))?;
                sig.to_der().as_bytes().to_vec()
            }
            PrivateKey::Rsa(k, scheme) => rsa_sign(k, *scheme, message)?,
        })
    }

    /// Sign `message` with the scheme `scheme` names, as the metadata
    /// lists the key: an RSA key signs with any RSA scheme; other keys
    /// only with their own.
    pub fn sign_as(&self, scheme: &str, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        if let PrivateKey::Rsa(k, _) = self {
            let rsa_scheme = RsaScheme::parse(scheme).ok_or_else(|| {
                KeyError::Unsupported(format!("an RSA key cannot sign with scheme '{scheme}'"))
            })?;
            return rsa_sign(k, rsa_scheme, message);
        }
        let own = self.public()?.scheme;
        if own != scheme {
            return Err(KeyError::Unsupported(format!(
                "a {own} key cannot sign with scheme '{scheme}'"
            )));
        }
        self.sign(message)
    }
}

/// RSA signatures: PSS with a digest-length salt and MGF1 over the same
/// digest (what securesystemslib's signer makes), or PKCS#1 v1.5.
fn rsa_sign(
    key: &rsa::RsaPrivateKey,
    scheme: RsaScheme,
    message: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let failed = |e: rsa::signature::Error| KeyError::Internal(format!("RSA signing failed: {e}"));
    let key = key.clone();
    Ok(match scheme {
        RsaScheme::Pss(hash) => {
            let mut rng = SystemRng::new()?;
            match hash {
                RsaHash::Sha256 => rsa::pss::SigningKey::<Sha256>::new_with_salt_len(key, 32)
                    .try_sign_with_rng(&mut rng, message)
                    .map_err(failed)?
                    .to_vec(),
                RsaHash::Sha384 => rsa::pss::SigningKey::<Sha384>::new_with_salt_len(key, 48)
                    .try_sign_with_rng(&mut rng, message)
                    .map_err(failed)?
                    .to_vec(),
                RsaHash::Sha512 => rsa::pss::SigningKey::<Sha512>::new_with_salt_len(key, 64)
                    .try_sign_with_rng(&mut rng, message)
                    .map_err(failed)?
                    .to_vec(),
            }
        }
        RsaScheme::Pkcs1v15(RsaHash::Sha256) => rsa::pkcs1v15::SigningKey::<Sha256>::new(key)
            .try_sign(message)
            .map_err(failed)?
            .to_vec(),
        RsaScheme::Pkcs1v15(RsaHash::Sha384) => rsa::pkcs1v15::SigningKey::<Sha384>::new(key)
            .try_sign(message)
            .map_err(failed)?
            .to_vec(),
        RsaScheme::Pkcs1v15(RsaHash::Sha512) => rsa::pkcs1v15::SigningKey::<Sha512>::new(key)
            .try_sign(message)
            .map_err(failed)?
            .to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{generate_keys, python, python_verifies, PASSWORD};
    use crate::KeyError;

    #[test]
    fn every_supported_file_signs_verifiably_and_matches_python_public_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let keys = generate_keys(dir.path());
        // 8 from python, 3 more from the openssl CLI when it is installed.
        assert!(keys.len() >= 8, "{keys:?}");
        let msg = br#"{"_type":"timestamp","spec_version":"1.0.31","version":7}"#.to_vec();
        let mut items = Vec::new();
        for (file, kind, public, encrypted) in &keys {
            let pem = std::fs::read(dir.path().join(file)).unwrap();
            let password = encrypted.then_some(PASSWORD);
            let key = PrivateKey::from_pem(file, &pem, password)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            let p = key.public().unwrap();
            assert_eq!(p.keytype, kind, "{file}");
            assert_eq!(
                &p.public, public,
                "{file}: public key encoding matches python byte for byte"
            );
            let scheme = match kind.as_str() {
                "ed25519" => "ed25519",
                "ecdsa" => "ecdsa-sha2-nistp256",
                _ => "rsassa-pss-sha256",
            };
            assert_eq!(p.scheme, scheme, "{file}");
            let sig = key.sign(&msg).unwrap();
            if kind == "ed25519" {
                assert_eq!(sig.len(), 64, "raw Ed25519 signature");
            }
            if kind == "ecdsa" {
                assert_eq!(sig[0], 0x30, "DER SEQUENCE");
            }
            items.push((kind.clone(), public.clone(), msg.clone(), sig.clone()));
            // The signature binds the message.
            items.push((kind.clone(), public.clone(), b"tampered".to_vec(), sig));
        }
        let verdicts = python_verifies(&items);
        assert_eq!(verdicts.len(), items.len());
        for (i, (file, ..)) in keys.iter().enumerate() {
            assert!(verdicts[2 * i], "{file}: python verifies our signature");
            assert!(
                !verdicts[2 * i + 1],
                "{file}: python rejects it for another message"
            );
        }
    }

    #[test]
    fn rsa_pss_signatures_are_randomized_with_a_32_byte_salt() {
        let dir = tempfile::tempdir().unwrap();
        let keys = generate_keys(dir.path());
        let (_, _, public, _) = keys.iter().find(|k| k.0 == "rsa").unwrap();
        let key =
            PrivateKey::from_pem("rsa", &std::fs::read(dir.path().join("rsa")).unwrap(), None)
                .unwrap();
        let a = key.sign(b"m").unwrap();
        let b = key.sign(b"m").unwrap();
        assert_ne!(a, b, "fresh salt per signature");
        assert_eq!(a.len(), 256);
        let v = python_verifies(&[("rsa".into(), public.clone(), b"m".to_vec(), a)]);
        assert_eq!(v, [true]);
    }

    #[test]
    fn wrong_or_missing_password_is_reported_without_the_password() {
        let dir = tempfile::tempdir().unwrap();
        generate_keys(dir.path());
        for file in [
            "ed25519-enc",
            "ecdsa-enc",
            "rsa-enc",
            "ed25519-scrypt",
            "rsa-3des",
        ] {
            let Ok(pem) = std::fs::read(dir.path().join(file)) else {
                continue; // openssl-made files are absent without the openssl CLI
            };
            match PrivateKey::from_pem(file, &pem, Some("not-the-password")) {
                Err(KeyError::Password(m)) => {
                    assert_eq!(m, format!("wrong password for key file {file}"));
                }
                other => panic!("{file}: {:?}", other.err()),
            }
            match PrivateKey::from_pem(file, &pem, None) {
                Err(KeyError::Password(m)) => {
                    assert!(m.contains(file) && m.contains("no password"), "{m}")
                }
                other => panic!("{file}: {:?}", other.err()),
            }
        }
    }

    #[test]
    fn files_that_are_not_supported_keys_are_clear_errors_not_panics() {
        let k256 = python(
            r#"
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import ec
k = ec.generate_private_key(ec.SECP256K1())
print("===".join([
    k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode(),
    k.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()).decode(),
    k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode()]))
"#,
            &[],
            "",
        );
        let blocks: Vec<&str> = k256.split("===").collect();
        assert_eq!(blocks.len(), 3, "{k256}");
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("k256-pkcs8", blocks[0].as_bytes().to_vec(), "P-256"),
            ("k256-sec1", blocks[1].as_bytes().to_vec(), "P-256"),
            ("public", blocks[2].as_bytes().to_vec(), "PUBLIC KEY"),
            ("text", b"not a pem".to_vec(), "no PEM block"),
            ("binary", vec![0xff, 0xfe, 0x00], "not a PEM text file"),
            ("empty", vec![], "no PEM block"),
            (
                "truncated",
                b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n".to_vec(),
                "truncated",
            ),
            (
                "garbage-der",
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec(),
                "garbage-der",
            ),
            (
                "legacy-enc",
                b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"
                    .to_vec(),
                "legacy",
            ),
        ];
        for (name, pem, expect) in cases {
            match PrivateKey::from_pem(name, &pem, Some(PASSWORD)) {
                Err(KeyError::Unsupported(m)) => {
                    assert!(m.starts_with(name), "{m}");
                    if expect != name && expect != "truncated" {
                        assert!(m.contains(expect), "{name}: {m}");
                    }
                }
                other => panic!("{name}: {:?}", other.map(|k| k.keytype())),
            }
        }
    }

    #[test]
    fn text_around_the_pem_block_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        generate_keys(dir.path());
        let pem = std::fs::read_to_string(dir.path().join("ecdsa")).unwrap();
        let wrapped = format!("Bag Attributes\n    friendlyName: online\n{pem}trailing notes\n");
        let key = PrivateKey::from_pem("ecdsa", wrapped.as_bytes(), None).unwrap();
        assert_eq!(key.keytype(), "ecdsa");
        assert_eq!(
            format!("{key:?}"),
            "PrivateKey(ecdsa)",
            "Debug shows no key material"
        );
        // Files edited on Windows.
        let crlf = pem.replace('\n', "\r\n");
        assert!(PrivateKey::from_pem("crlf", crlf.as_bytes(), None).is_ok());
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;
    use crate::testing::python_verifies;

    #[test]
    fn generated_keys_survive_encrypted_pkcs8_and_python_verifies_them() {
        let mut items = Vec::new();
        for kind in [KeyKind::Ed25519, KeyKind::Ecdsa, KeyKind::Rsa] {
            let key = PrivateKey::generate(kind).unwrap();
            let public = key.public().unwrap();
            let pem = key.to_pem(Some(b"pw")).unwrap();
            assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
            let back = PrivateKey::from_pem("k", pem.as_bytes(), Some("pw")).unwrap();
            assert_eq!(back.public().unwrap(), public, "{kind:?}");
            let plain = key.to_pem(None).unwrap();
            assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----\n"));
            assert_eq!(
                PrivateKey::from_pem("k", plain.as_bytes(), None)
                    .unwrap()
                    .public()
                    .unwrap(),
                public
            );
            match Pem::parse("k.pub", key.public_pem().unwrap().as_bytes(), None).unwrap() {
                Pem::Public(p) => assert_eq!(p, public, "{kind:?}"),
                other => panic!("{kind:?}: {other:?}"),
            }
            assert!(matches!(
                Pem::parse("k", pem.as_bytes(), None).unwrap(),
                Pem::Encrypted
            ));
            let sig = back.sign(b"m").unwrap();
            items.push((
                public.keytype.to_string(),
                public.public,
                b"m".to_vec(),
                sig,
            ));
        }
        assert_eq!(python_verifies(&items), [true, true, true]);
    }

    #[test]
    fn a_public_key_pem_as_key_services_export_it() {
        let key = PrivateKey::generate(KeyKind::Ecdsa).unwrap();
        let public = key.public().unwrap();
        assert_eq!(
            PublicKey::from_spki_pem("svc", &public.public).unwrap(),
            public
        );
        let err = PublicKey::from_spki_pem("svc", &key.to_pem(None).unwrap()).unwrap_err();
        assert!(err.to_string().starts_with("svc: "), "{err}");
    }

    /// P-384 and P-521 key files python writes (PKCS#8, encrypted PKCS#8,
    /// SEC1) load with python's public encoding, and every signature we
    /// make (those curves, and an RSA key with each RSA scheme) verifies
    /// with securesystemslib's `SSlibKey.verify_signature`.
    #[test]
    fn p384_p521_and_every_rsa_scheme_verify_in_securesystemslib() {
        use crate::testing::{python, PASSWORD};
        let made = python(
            r#"
import json, sys
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import ec
out = []
for curve in (ec.SECP384R1(), ec.SECP521R1()):
    k = ec.generate_private_key(curve)
    pub = k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode()
    for fmt, enc in ((s.PrivateFormat.PKCS8, s.NoEncryption()),
                     (s.PrivateFormat.PKCS8, s.BestAvailableEncryption(sys.argv[1].encode())),
                     (s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption())):
        out.append({"pem": k.private_bytes(s.Encoding.PEM, fmt, enc).decode(), "public": pub})
print(json.dumps(out))
"#,
            &[PASSWORD],
            "",
        );
        let files: Vec<serde_json::Value> = serde_json::from_str(&made).unwrap();
        assert_eq!(files.len(), 6);
        let msg = br#"{"_type":"root","version":2}"#;
        let mut items = Vec::new();
        for f in &files {
            let key =
                PrivateKey::from_pem("k", f["pem"].as_str().unwrap().as_bytes(), Some(PASSWORD))
                    .unwrap();
            let public = key.public().unwrap();
            assert_eq!(
                public.public,
                f["public"].as_str().unwrap(),
                "python's encoding"
            );
            items.push(
                serde_json::json!({"keytype": public.keytype, "scheme": public.scheme,
                "public": public.public, "sig": crate::hex(&key.sign(msg).unwrap())}),
            );
        }
        for kind in [KeyKind::EcdsaP384, KeyKind::EcdsaP521] {
            let key = PrivateKey::generate(kind).unwrap();
            let back =
                PrivateKey::from_pem("g", key.to_pem(None).unwrap().as_bytes(), None).unwrap();
            let public = back.public().unwrap();
            assert_eq!(public, key.public().unwrap());
            items.push(serde_json::json!({"keytype": public.keytype, "scheme": public.scheme,
                "public": public.public, "sig": crate::hex(&back.sign_as(public.scheme, msg).unwrap())}));
        }
        let rsa = PrivateKey::generate(KeyKind::RsaPkcs1v15).unwrap();
        assert_eq!(rsa.public().unwrap().scheme, "rsa-pkcs1v15-sha256");
        for scheme in [
            "rsassa-pss-sha256",
            "rsassa-pss-sha384",
            "rsassa-pss-sha512",
            "rsa-pkcs1v15-sha256",
            "rsa-pkcs1v15-sha384",
            "rsa-pkcs1v15-sha512",
        ] {
            items.push(serde_json::json!({"keytype": "rsa", "scheme": scheme,
                "public": rsa.public().unwrap().public, "sig": crate::hex(&rsa.sign_as(scheme, msg).unwrap())}));
        }
        let err = PrivateKey::generate(KeyKind::EcdsaP384)
            .unwrap()
            .sign_as("ecdsa-sha2-nistp256", msg)
            .unwrap_err();
        assert!(err.to_string().contains("cannot sign with scheme"), "{err}");
        let verdicts = python(
            r#"
import json, sys
from securesystemslib.signer import Signature, SSlibKey
from securesystemslib.exceptions import UnverifiedSignatureError
msg = sys.argv[1].encode()
for i in json.load(sys.stdin):
    key = SSlibKey("id", i["keytype"], i["scheme"], {"public": i["public"]})
    try:
        key.verify_signature(Signature("id", i["sig"]), msg)
        print("ok", i["scheme"])
    except UnverifiedSignatureError:
        print("bad", i["scheme"])
"#,
            &[std::str::from_utf8(msg).unwrap()],
            &serde_json::Value::from(items).to_string(),
        );
        let lines: Vec<&str> = verdicts.lines().collect();
        assert_eq!(lines.len(), 14, "{verdicts}");
        assert!(lines.iter().all(|l| l.starts_with("ok ")), "{verdicts}");
    }
}

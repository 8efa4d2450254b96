//! Target file hashes: the algorithms TUF clients (python-tuf through
//! securesystemslib, tough, go-tuf) know, and the length of their hex
//! digests, so a digest that could never match a download is refused
//! where it enters.

/// `(algorithm, hex digits)` of the hash algorithms clients verify.
pub const DIGEST_HEX_LEN: &[(&str, usize)] = &[
    ("sha224", 56),
    ("sha256", 64),
    ("sha384", 96),
    ("sha512", 128),
    ("sha512_224", 56),
    ("sha512_256", 64),
    ("sha3-224", 56),
    ("sha3-256", 64),
    ("sha3-384", 96),
    ("sha3-512", 128),
    ("blake2b", 128),
    ("blake2b-256", 64),
    ("blake2b-512", 128),
    ("blake2s", 64),
];

/// Hex digits of an `alg` digest, if `alg` is a known algorithm.
pub fn hex_len(alg: &str) -> Option<usize> {
    DIGEST_HEX_LEN
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(alg))
        .map(|(_, len)| *len)
}

/// Why `digest` is not a usable `alg` digest, if it is not. Unknown
/// algorithms only need a whole-byte hex digest.
pub fn digest_problem(alg: &str, digest: &str) -> Option<String> {
    if digest.is_empty() || digest.len() > 256 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some("must be a hex digest".into());
    }
    if !digest.len().is_multiple_of(2) {
        return Some("must be a hex digest of whole bytes (an even number of digits)".into());
    }
    match hex_len(alg) {
        Some(len) if digest.len() != len => {
            Some(format!("must have {len} hex digits, got {}", digest.len()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_lengths_and_whole_bytes() {
        assert_eq!(digest_problem("sha256", &"ab".repeat(32)), None);
        assert_eq!(digest_problem("SHA256", &"ab".repeat(32)), None);
        assert!(digest_problem("sha256", "ab")
            .unwrap()
            .contains("64 hex digits"));
        assert!(digest_problem("x-custom", "abc")
            .unwrap()
            .contains("whole bytes"));
        assert_eq!(digest_problem("x-custom", "abcd"), None);
        assert!(digest_problem("sha256", "zz")
            .unwrap()
            .contains("hex digest"));
        assert_eq!(hex_len("blake2b-256"), Some(64));
        assert_eq!(hex_len("md5"), None);
    }
}

//! AWS Signature Version 4, written against the AWS specification ("Create
//! a signed AWS API request") and checked against the worked examples of
//! the S3 documentation. Shared by `storage-s3` and `keyvault-awskms`.
//!
//! Header-based signing only (no presigned URLs). The caller passes the
//! path exactly as sent: S3 encodes it once, other services (KMS posts to
//! `/`) need no encoding at all.

use hmac::{Hmac, Mac};
use rstuf_plugin_http::{civil_from_days, percent_encode};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// An access key. `Debug` never prints the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// `(YYYYMMDD'T'HHMMSS'Z', YYYYMMDD)` for a Unix time.
pub fn amz_date(unix: u64) -> (String, String) {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let (y, m, d) = civil_from_days(days);
    let date = format!("{y:04}{m:02}{d:02}");
    let time = format!(
        "{date}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    (time, date)
}

/// Hex SHA-256, as used for `x-amz-content-sha256`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The canonical query string: names and values percent-encoded (`/`
/// included), sorted by name then value, `name=value` joined by `&`.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (percent_encode(k, false), percent_encode(v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// What to sign.
pub struct SigningInput<'a> {
    pub method: &'a str,
    /// The percent-encoded path exactly as sent, e.g. `/bucket/1.root.json`.
    pub path: &'a str,
    /// Query parameters, not yet encoded.
    pub query: &'a [(String, String)],
    /// Headers to sign, `host` included; names in any case.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body (or `UNSIGNED-PAYLOAD`).
    pub payload_hash: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// `YYYYMMDD'T'HHMMSS'Z'`, the same as the `x-amz-date` header.
    pub amz_date: &'a str,
}

/// The canonical request (step 1 of SigV4) and the signed header list.
pub fn canonical_request(input: &SigningInput<'_>) -> (String, String) {
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.to_ascii_lowercase(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        input.path,
        canonical_query(input.query),
        canonical_headers,
        signed_headers,
        input.payload_hash
    );
    (request, signed_headers)
}

/// The `Authorization` header value for `input`.
pub fn authorization(creds: &Credentials, input: &SigningInput<'_>) -> String {
    let (canonical, signed_headers) = canonical_request(input);
    let date = &input.amz_date[..8.min(input.amz_date.len())];
    let scope = format!("{date}/{}/{}/aws4_request", input.region, input.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        input.amz_date,
        sha256_hex(canonical.as_bytes())
    );
    let k_date = hmac(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, input.region.as_bytes());
    let k_service = hmac(&k_region, input.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of "Signature Calculations for the Authorization Header:
    /// Transferring Payload in a Single Chunk" (Amazon S3 API reference).
    fn example_creds() -> Credentials {
        Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        }
    }

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn aws_example_get_object() {
        let headers = h(&[
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY),
            ("x-amz-date", "20130524T000000Z"),
        ]);
        let input = SigningInput {
            method: "GET",
            path: "/test.txt",
            query: &[],
            headers: &headers,
            payload_hash: EMPTY,
            region: "us-east-1",
            service: "s3",
            amz_date: "20130524T000000Z",
        };
        assert_eq!(
            authorization(&example_creds(), &input),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn aws_example_put_object() {
        let body = b"Welcome to Amazon S3.";
        let hash = sha256_hex(body);
        assert_eq!(
            hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let headers = h(&[
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", &hash),
        ]);
        let input = SigningInput {
            method: "PUT",
            path: &format!("/{}", percent_encode("test$file.text", true)),
            query: &[],
            headers: &headers,
            payload_hash: &hash,
            region: "us-east-1",
            service: "s3",
            amz_date: "20130524T000000Z",
        };
        assert_eq!(input.path, "/test%24file.text");
        assert!(authorization(&example_creds(), &input).ends_with(
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, \
             Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        ));
    }

    #[test]
    fn aws_example_list_objects() {
        let headers = h(&[
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", EMPTY),
            ("x-amz-date", "20130524T000000Z"),
        ]);
        let query = h(&[("prefix", "J"), ("max-keys", "2")]);
        let input = SigningInput {
            method: "GET",
            path: "/",
            query: &query,
            headers: &headers,
            payload_hash: EMPTY,
            region: "us-east-1",
            service: "s3",
            amz_date: "20130524T000000Z",
        };
        assert_eq!(canonical_query(&query), "max-keys=2&prefix=J");
        assert!(authorization(&example_creds(), &input).ends_with(
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        ));
    }

    #[test]
    fn dates_and_redaction() {
        assert_eq!(
            amz_date(1_369_353_600),
            ("20130524T000000Z".into(), "20130524".into())
        );
        assert_eq!(amz_date(1_709_210_096).0, "20240229T123456Z");
        let dbg = format!("{:?}", example_creds());
        assert!(!dbg.contains("EXAMPLEKEY"), "{dbg}");
    }

    #[test]
    fn query_values_are_encoded_and_sorted() {
        let q = h(&[
            ("prefix", "a/b c"),
            ("list-type", "2"),
            ("continuation-token", "x+y=="),
        ]);
        assert_eq!(
            canonical_query(&q),
            "continuation-token=x%2By%3D%3D&list-type=2&prefix=a%2Fb%20c"
        );
    }
}

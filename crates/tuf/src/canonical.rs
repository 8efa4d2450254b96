//! OLPC canonical JSON exactly as python securesystemslib's
//! `encode_canonical` produces it: object keys sorted by code point, no
//! whitespace, integers only, and strings escaping only `"` and `\` (every
//! other character, control characters and non-ASCII included, is written
//! as raw UTF-8). Signatures are computed over these bytes.
//!
//! The writer appends straight into one buffer; `serde_json::Value` objects
//! are `BTreeMap`s, whose order (by UTF-8 bytes) equals code-point order.

use serde_json::Value;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalError {
    #[error("canonical JSON allows only integers; found the number {0}")]
    Float(String),
}

/// Where in a document a value cannot be written as canonical JSON, and
/// why: `path` names the member, from the root (object keys and array
/// indexes), so an API can answer with the field a user must fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCanonical {
    pub path: Vec<String>,
    pub error: CanonicalError,
}

impl std::fmt::Display for NotCanonical {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.error)
        } else {
            write!(f, "{}: {}", self.path.join("."), self.error)
        }
    }
}

/// Check that `value` can be signed: every number is an integer that
/// canonical JSON can carry (serde_json keeps integers beyond
/// `i64::MIN..=u64::MAX`, e.g. `2**70`, as floats, and those are refused
/// like `1.5`). The first offending member is reported. Cheaper than
/// encoding: nothing is written.
pub fn check(value: &Value) -> Result<(), NotCanonical> {
    fn walk(value: &Value, path: &mut Vec<String>) -> Result<(), CanonicalError> {
        match value {
            Value::Number(n) if n.is_f64() => Err(CanonicalError::Float(n.to_string())),
            Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
                path.push(i.to_string());
                walk(item, path)?;
                path.pop();
                Ok(())
            }),
            Value::Object(map) => map.iter().try_for_each(|(k, v)| {
                path.push(k.clone());
                walk(v, path)?;
                path.pop();
                Ok(())
            }),
            _ => Ok(()),
        }
    }
    let mut path = Vec::new();
    walk(value, &mut path).map_err(|error| NotCanonical { path, error })
}

/// Canonical bytes of `value`.
pub fn to_canonical_vec(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write(value, &mut out)?;
    Ok(out)
}

/// Append the canonical bytes of `value` to `out`. Object keys come out in
/// the map's order, which is code-point order because serde_json's `Map`
/// is a BTreeMap; `format::tests::json_maps_are_sorted_so_preserve_order_is_not_enabled`
/// fails if a crate in the build turns on `preserve_order`.
pub fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if n.is_f64() {
                return Err(CanonicalError::Float(n.to_string()));
            }
            out.extend_from_slice(n.to_string().as_bytes());
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' || b == b'\\' {
            out.extend_from_slice(&bytes[start..i]);
            out.push(b'\\');
            out.push(b);
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_escapes_only_quote_and_backslash() {
        let v = json!({"b": 1, "a": [true, null, -3], "é": "x\"y\\z\n\u{1}"});
        assert_eq!(
            to_canonical_vec(&v).unwrap(),
            "{\"a\":[true,null,-3],\"b\":1,\"é\":\"x\\\"y\\\\z\n\u{1}\"}".as_bytes()
        );
        assert!(to_canonical_vec(&json!({"x": 1.5})).is_err());
    }

    #[test]
    fn check_names_the_first_member_that_cannot_be_signed() {
        assert_eq!(
            check(&json!({"a": [1, {"b": true}], "c": u64::MAX})),
            Ok(())
        );
        let err = check(&json!({"a": [1, {"b": 1.5}]})).unwrap_err();
        assert_eq!(err.path, ["a", "1", "b"]);
        assert_eq!(
            err.to_string(),
            "a.1.b: canonical JSON allows only integers; found the number 1.5"
        );
        // 2**70 is beyond every integer serde_json (and canonical JSON
        // here) carries: parsed as a float, refused as one.
        let big: Value = serde_json::from_str(r#"{"x": 1180591620717411303424}"#).unwrap();
        assert_eq!(check(&big).unwrap_err().path, ["x"]);
        assert!(to_canonical_vec(&big).is_err());
        // Integral floats are floats too: `1.0` cannot be signed.
        assert!(check(&json!([1.0])).is_err());
    }

    /// `encode_canonical` of every value, from one python3 process.
    fn securesystemslib_canonical(cases: &[Value]) -> Vec<String> {
        let input = serde_json::to_string(cases).unwrap();
        let script = "import sys, json\nfrom securesystemslib.formats import encode_canonical\nprint(json.dumps([encode_canonical(c).encode('utf-8').hex() for c in json.loads(sys.stdin.read())]))\n";
        let child = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            panic!("python3 is required for the canonical JSON differential test");
        };
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(
            out.status.success(),
            "securesystemslib missing? run `make setup`"
        );
        let expected: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(expected.len(), cases.len());
        expected
    }

    /// Differential check against python securesystemslib on fixed cases.
    #[test]
    fn matches_securesystemslib() {
        let cases = vec![
            json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "ab"}, "x-rstuf-key-name": "Jimi's \"key\""}),
            json!({"z": {"y": [1, 2, {"b": "\u{7f}\u{0}\t", "a": "日本"}]}, "": -0, "big": 18446744073709551615u64}),
            json!([]),
            json!({"signed": {"_type": "root", "expires": "2030-01-01T00:00:00Z", "version": 1}}),
        ];
        let expected = securesystemslib_canonical(&cases);
        for (case, exp) in cases.iter().zip(expected) {
            assert_eq!(hex::encode(to_canonical_vec(case).unwrap()), exp, "{case}");
        }
    }

    /// Differential fuzzing against securesystemslib: a few thousand random
    /// documents (any Unicode, control characters, quotes and backslashes in
    /// keys and strings, the whole i64/u64 range, deep nesting), generated
    /// from a fixed seed so a failure reproduces, compared byte for byte.
    #[test]
    fn fuzzed_documents_match_securesystemslib() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
        );
        let strategy = arb_json();
        let cases: Vec<Value> = (0..3000)
            .map(|_| strategy.new_tree(&mut runner).unwrap().current())
            .collect();
        let expected = securesystemslib_canonical(&cases);
        for (case, exp) in cases.iter().zip(expected) {
            assert_eq!(hex::encode(to_canonical_vec(case).unwrap()), exp, "{case}");
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            any::<u64>().prop_map(|i| json!(i)),
            any::<String>().prop_map(Value::String),
            "[\"\\\\\\x00-\\x1f\\x7f a-z\u{e9}\u{65e5}\u{1f600}]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        any::<String>(),
                        "[\"\\\\\\x00-\\x1f a-c\u{e9}\u{1f600}]{0,6}"
                    ],
                    inner,
                    0..8
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Canonical output is valid JSON that parses back to the same value
        /// (control characters are raw, which serde_json rejects, so those
        /// cases are compared after the escape round trip is skipped).
        #[test]
        fn round_trips(v in arb_json()) {
            let bytes = to_canonical_vec(&v).unwrap();
            let text = String::from_utf8(bytes.clone()).unwrap();
            if !text.chars().any(|c| c.is_control()) {
                let back: Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert_eq!(back, v.clone());
            }
            // Canonicalizing is idempotent on the parsed form.
            prop_assert_eq!(to_canonical_vec(&v).unwrap(), bytes);
        }
    }
}

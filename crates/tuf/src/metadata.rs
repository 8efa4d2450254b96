//! Typed TUF metadata: `Metadata<T>` (signatures and a `signed` of one of
//! the four kinds) with `Root`, `Targets` (classic `roles` and TAP 15
//! `succinct_roles` delegations), `Snapshot` and `Timestamp`.
//!
//! Why typed, when [`crate::schema`] already checks the JSON: the checks say
//! *where* a received document is wrong (the API and the worker answer
//! with that path), and the types make sure code after the check cannot
//! read a default where the spec has no default. A threshold is a
//! [`Threshold`] (never 0, never absent), a version a [`Version`] (never
//! 0), `expires` an [`Expires`] (exactly `YYYY-MM-DDTHH:MM:SSZ`), keyids
//! a [`KeyIds`] (unique). These newtypes refuse bad values in their own
//! `Deserialize`, so the rules hold even for a document parsed without
//! the schema pass.
//!
//! Unknown fields are kept in `extra` maps at every level, so a document
//! serializes back to the same canonical JSON it was parsed from (tested
//! below and by the golden-output integration test). The one exception is
//! an explicit `null` for an optional member (`"custom": null`,
//! `"roles": null`), which is read as absent and not written back, as
//! python-tuf does.
//!
//! The invariant for received metadata stays: signatures are verified
//! over the canonical form of the JSON as received ([`crate::verify`]),
//! and the typed value is parsed from that same JSON.

use crate::canonical::{to_canonical_vec, CanonicalError};
use crate::schema::{self, SchemaError};
use chrono::{DateTime, Utc};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::num::NonZeroU64;

/// Why a document could not be read as typed metadata.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{0}")]
    Schema(#[from] SchemaError),
    #[error("expected {expected} metadata, got {got}")]
    WrongType { expected: &'static str, got: String },
    #[error("metadata does not match the TUF format: {0}")]
    Json(#[from] serde_json::Error),
}

/// A signed document: `{"signatures": [...], "signed": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata<T> {
    pub signatures: Vec<Signature>,
    pub signed: T,
}

/// One signature; `extra` keeps fields some signers add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub keyid: String,
    pub sig: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The four kinds of `signed`.
pub trait Signed: Serialize + DeserializeOwned {
    /// The `_type` this kind carries.
    const TYPE: &'static str;
    fn common(&self) -> &Common;

    fn version(&self) -> u64 {
        self.common().version.get()
    }

    fn expires(&self) -> DateTime<Utc> {
        self.common().expires.0
    }
}

impl<T: Signed> Metadata<T> {
    /// Read a whole received document: the client load rules
    /// ([`schema::check_metadata`]) first, for a located error, then the
    /// typed parse.
    pub fn from_value(doc: &Value) -> Result<Metadata<T>, ParseError> {
        let kind = schema::check_metadata(doc)?;
        if kind != T::TYPE {
            return Err(ParseError::WrongType {
                expected: T::TYPE,
                got: kind.to_string(),
            });
        }
        Ok(Metadata::deserialize(doc)?)
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Metadata<T>, ParseError> {
        Metadata::from_value(&serde_json::from_slice(bytes)?)
    }

    pub fn to_value(&self) -> Value {
        // Every member is a string, integer, bool, map or list with string
        // keys: serializing into a Value cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The bytes that are signed: canonical JSON of `signed`.
    pub fn signed_canonical(&self) -> Result<Vec<u8>, CanonicalError> {
        to_canonical_vec(&serde_json::to_value(&self.signed).unwrap_or(Value::Null))
    }

    pub fn version(&self) -> u64 {
        self.signed.version()
    }

    pub fn expires(&self) -> DateTime<Utc> {
        self.signed.expires()
    }
}

/// Parse a bare `signed` object of kind `T` (the rules of
/// [`schema::check_signed`], then the typed parse).
pub fn parse_signed<T: Signed>(signed: &Value) -> Result<T, ParseError> {
    let kind = schema::check_signed(signed)?;
    if kind != T::TYPE {
        return Err(ParseError::WrongType {
            expected: T::TYPE,
            got: kind.to_string(),
        });
    }
    Ok(T::deserialize(signed)?)
}

/// The members every kind has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Common {
    pub spec_version: SpecVersion,
    pub version: Version,
    pub expires: Expires,
}

/// A metadata or metafile version: an integer ≥ 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Version(NonZeroU64);

impl Version {
    pub fn new(n: u64) -> Option<Version> {
        NonZeroU64::new(n).map(Version)
    }

    pub fn get(self) -> u64 {
        self.0.get()
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
        let n = u64::deserialize(d)?;
        Version::new(n).ok_or_else(|| D::Error::custom("version must be > 0, got 0"))
    }
}

/// A signature threshold: an integer ≥ 1 (a threshold of 0 would be met
/// by no signature at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Threshold(NonZeroU64);

impl Threshold {
    pub fn new(n: u64) -> Option<Threshold> {
        NonZeroU64::new(n).map(Threshold)
    }

    pub fn get(self) -> u64 {
        self.0.get()
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Threshold, D::Error> {
        let n = u64::deserialize(d)?;
        Threshold::new(n).ok_or_else(|| D::Error::custom("threshold must be > 0, got 0"))
    }
}

/// `spec_version`: `1.x` or `1.x.y`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SpecVersion(String);

impl SpecVersion {
    pub fn parse(text: &str) -> Option<SpecVersion> {
        let parts: Vec<&str> = text.split('.').collect();
        let digits = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        ((2..=3).contains(&parts.len()) && parts.iter().all(digits) && parts[0] == "1")
            .then(|| SpecVersion(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for SpecVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SpecVersion, D::Error> {
        let text = String::deserialize(d)?;
        SpecVersion::parse(&text)
            .ok_or_else(|| D::Error::custom(format!("unsupported spec_version '{text}'")))
    }
}

/// `expires`: whole seconds in UTC, written `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expires(pub DateTime<Utc>);

const EXPIRES_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

impl Expires {
    /// Exactly `YYYY-MM-DDTHH:MM:SSZ` (no fraction, no offset, no leap
    /// second), as python-tuf's `strptime` reads it.
    pub fn parse(text: &str) -> Option<Expires> {
        let shape_ok = text.len() == 20
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                10 => b == b'T',
                13 | 16 => b == b':',
                19 => b == b'Z',
                _ => b.is_ascii_digit(),
            });
        if !shape_ok || &text[17..19] >= "60" {
            return None;
        }
        chrono::NaiveDateTime::parse_from_str(text, EXPIRES_FORMAT)
            .ok()
            .map(|t| Expires(t.and_utc()))
    }
}

impl std::fmt::Display for Expires {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format(EXPIRES_FORMAT))
    }
}

impl Serialize for Expires {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Expires {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Expires, D::Error> {
        let text = String::deserialize(d)?;
        Expires::parse(&text).ok_or_else(|| {
            D::Error::custom(format!(
                "expires '{text}' is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ"
            ))
        })
    }
}

/// A role's keyids: strings, each listed once.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct KeyIds(Vec<String>);

impl KeyIds {
    pub fn new(ids: Vec<String>) -> Result<KeyIds, String> {
        let mut seen = std::collections::BTreeSet::new();
        for id in &ids {
            if !seen.insert(id.as_str()) {
                return Err(format!("nonunique keyids: {id} is listed twice"));
            }
        }
        Ok(KeyIds(ids))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn contains(&self, keyid: &str) -> bool {
        self.0.iter().any(|k| k == keyid)
    }
}

impl<'de> Deserialize<'de> for KeyIds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyIds, D::Error> {
        KeyIds::new(Vec::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// A public key as metadata lists it. Kept apart from [`crate::keys::Key`]
/// (which only holds the schemes this engine verifies) so that a root may
/// list a key of another registered scheme, as clients allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    pub keytype: String,
    pub scheme: String,
    pub keyval: KeyVal,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyVal {
    pub public: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PublicKey {
    /// The key as the verification engine holds it.
    pub fn to_key(&self) -> Result<crate::keys::Key, crate::keys::KeyError> {
        crate::keys::Key::from_value(&serde_json::to_value(self).unwrap_or(Value::Null))
    }

    /// `x-rstuf-online-key-uri`: where RSTUF's online key lives.
    pub fn online_uri(&self) -> Option<&str> {
        self.extra
            .get("x-rstuf-online-key-uri")
            .and_then(Value::as_str)
    }
}

/// Who may sign a role: keyids and a threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleKeys {
    pub keyids: KeyIds,
    pub threshold: Threshold,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Anything that names signing keys and a threshold (top-level roles,
/// delegated roles, succinct roles).
pub trait Authorizes {
    fn keyids(&self) -> &KeyIds;
    fn threshold(&self) -> Threshold;
}

impl Authorizes for RoleKeys {
    fn keyids(&self) -> &KeyIds {
        &self.keyids
    }
    fn threshold(&self) -> Threshold {
        self.threshold
    }
}

macro_rules! type_marker {
    ($marker:ident, $name:literal) => {
        #[doc = concat!("The `_type` \"", $name, "\".")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $marker;

        impl Serialize for $marker {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($name)
            }
        }

        impl<'de> Deserialize<'de> for $marker {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$marker, D::Error> {
                let t = String::deserialize(d)?;
                if t == $name {
                    Ok($marker)
                } else {
                    Err(D::Error::custom(format!(
                        "expected _type \"{}\", got \"{t}\"",
                        $name
                    )))
                }
            }
        }
    };
}

type_marker!(RootType, "root");
type_marker!(TargetsType, "targets");
type_marker!(SnapshotType, "snapshot");
type_marker!(TimestampType, "timestamp");

/// Root: the keys and thresholds of the four top-level roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Root {
    #[serde(rename = "_type")]
    pub kind: RootType,
    #[serde(flatten)]
    pub common: Common,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistent_snapshot: Option<bool>,
    pub keys: BTreeMap<String, PublicKey>,
    pub roles: BTreeMap<String, RoleKeys>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Signed for Root {
    const TYPE: &'static str = "root";
    fn common(&self) -> &Common {
        &self.common
    }
}

impl Root {
    /// A top-level role's keys; the schema requires all four.
    pub fn role(&self, name: &str) -> Option<&RoleKeys> {
        self.roles.get(name)
    }
}

/// Targets (top-level or delegated): artifacts and delegations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    #[serde(rename = "_type")]
    pub kind: TargetsType,
    #[serde(flatten)]
    pub common: Common,
    pub targets: BTreeMap<String, TargetFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegations: Option<Delegations>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Signed for Targets {
    const TYPE: &'static str = "targets";
    fn common(&self) -> &Common {
        &self.common
    }
}

/// One artifact's info.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetFile {
    pub length: u64,
    pub hashes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A targets role's delegations: keys and either classic roles or TAP 15
/// succinct hash bins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegations {
    pub keys: BTreeMap<String, PublicKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<DelegatedRole>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succinct_roles: Option<SuccinctRoles>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A classic delegated role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatedRole {
    pub name: String,
    pub keyids: KeyIds,
    pub threshold: Threshold,
    pub terminating: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hash_prefixes: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Authorizes for DelegatedRole {
    fn keyids(&self) -> &KeyIds {
        &self.keyids
    }
    fn threshold(&self) -> Threshold {
        self.threshold
    }
}

impl DelegatedRole {
    /// Does this role's `paths` or `path_hash_prefixes` cover `path`?
    pub fn covers(&self, path: &str) -> bool {
        if let Some(patterns) = &self.paths {
            return crate::paths::covered_by_patterns(patterns.iter().map(String::as_str), path);
        }
        if let Some(prefixes) = &self.path_hash_prefixes {
            return crate::paths::covered_by_hash_prefixes(
                prefixes.iter().map(String::as_str),
                path,
            );
        }
        false
    }
}

/// TAP 15 succinct hash-bin delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccinctRoles {
    pub keyids: KeyIds,
    pub threshold: Threshold,
    pub bit_length: u32,
    pub name_prefix: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Authorizes for SuccinctRoles {
    fn keyids(&self) -> &KeyIds {
        &self.keyids
    }
    fn threshold(&self) -> Threshold {
        self.threshold
    }
}

impl SuccinctRoles {
    /// The bins these roles describe.
    pub fn bins(&self) -> crate::bins::Bins {
        crate::bins::Bins {
            bit_length: self.bit_length,
            name_prefix: self.name_prefix.clone(),
        }
    }
}

/// Snapshot: the version of every targets role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(rename = "_type")]
    pub kind: SnapshotType,
    #[serde(flatten)]
    pub common: Common,
    pub meta: BTreeMap<String, MetaFile>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Signed for Snapshot {
    const TYPE: &'static str = "snapshot";
    fn common(&self) -> &Common {
        &self.common
    }
}

/// Timestamp: the current snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timestamp {
    #[serde(rename = "_type")]
    pub kind: TimestampType,
    #[serde(flatten)]
    pub common: Common,
    pub meta: BTreeMap<String, MetaFile>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Signed for Timestamp {
    const TYPE: &'static str = "timestamp";
    fn common(&self) -> &Common {
        &self.common
    }
}

impl Timestamp {
    /// `meta["snapshot.json"]`, which the schema requires.
    pub fn snapshot_meta(&self) -> Option<&MetaFile> {
        self.meta.get("snapshot.json")
    }
}

/// A `meta` entry of snapshot or timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaFile {
    pub version: Version,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `_type` of a document's `signed`, if it has a string one.
pub fn type_of(doc: &Value) -> Option<&str> {
    doc.get("signed")?.get("_type")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::to_canonical_vec;
    use serde_json::json;

    fn root_doc() -> Value {
        json!({
            "signatures": [{"keyid": "aa", "sig": "00", "x-extra": 1}],
            "signed": {
                "_type": "root",
                "spec_version": "1.0.31",
                "version": 1,
                "expires": "2030-01-01T00:00:00Z",
                "consistent_snapshot": true,
                "x-rstuf-custom": {"a": [1, 2]},
                "keys": {
                    "aa": {"keytype": "ed25519", "scheme": "ed25519",
                           "keyval": {"public": "ab", "x-k": "v"}, "x-rstuf-key-name": "root-1"}
                },
                "roles": {
                    "root": {"keyids": ["aa"], "threshold": 1},
                    "targets": {"keyids": ["aa"], "threshold": 1},
                    "snapshot": {"keyids": ["aa"], "threshold": 1, "x-note": "kept"},
                    "timestamp": {"keyids": ["aa"], "threshold": 1}
                }
            }
        })
    }

    fn targets_doc() -> Value {
        json!({
            "signatures": [],
            "signed": {
                "_type": "targets", "spec_version": "1.0", "version": 3,
                "expires": "2030-01-01T00:00:00Z",
                "targets": {"a.txt": {"length": 1, "hashes": {"sha256": "ab".repeat(32)}, "custom": {"x": null}}},
                "delegations": {
                    "keys": {"aa": {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "ab"}}},
                    "roles": [{"name": "prod", "keyids": ["aa"], "threshold": 1, "terminating": true,
                               "paths": ["prod/*"], "x-rstuf-expire-policy": 7}]
                }
            }
        })
    }

    fn canonical(v: &Value) -> Vec<u8> {
        to_canonical_vec(v).unwrap()
    }

    #[test]
    fn documents_round_trip_to_the_same_canonical_bytes() {
        let root = root_doc();
        let typed = Metadata::<Root>::from_value(&root).unwrap();
        assert_eq!(canonical(&typed.to_value()), canonical(&root));
        assert_eq!(typed.version(), 1);
        assert_eq!(typed.signed.keys["aa"].extra["x-rstuf-key-name"], "root-1");

        let targets = targets_doc();
        let typed = Metadata::<Targets>::from_value(&targets).unwrap();
        assert_eq!(canonical(&typed.to_value()), canonical(&targets));
        let succinct = json!({
            "signatures": [],
            "signed": {
                "_type": "targets", "spec_version": "1.0.31", "version": 1,
                "expires": "2030-01-01T00:00:00Z", "targets": {},
                "delegations": {"keys": {"aa": {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "ab"}}}, "succinct_roles": {
                    "keyids": ["aa"], "threshold": 1, "bit_length": 4, "name_prefix": "bins"}}
            }
        });
        let typed = Metadata::<Targets>::from_value(&succinct).unwrap();
        assert_eq!(canonical(&typed.to_value()), canonical(&succinct));
        assert_eq!(
            typed
                .signed
                .delegations
                .unwrap()
                .succinct_roles
                .unwrap()
                .bit_length,
            4
        );
    }

    #[test]
    fn security_fields_have_no_defaults() {
        let cases: [(&str, Value, &str); 6] = [
            (
                "/signed/roles/root/threshold",
                Value::Null,
                "threshold is required",
            ),
            (
                "/signed/roles/root/threshold",
                json!(0),
                "threshold must be > 0",
            ),
            ("/signed/version", Value::Null, "version is required"),
            ("/signed/version", json!(0), "version must be > 0"),
            (
                "/signed/roles/root/keyids",
                json!(["aa", "aa"]),
                "nonunique keyids",
            ),
            (
                "/signed/spec_version",
                json!("2.0.0"),
                "unsupported spec_version",
            ),
        ];
        for (pointer, value, expected) in cases {
            let mut doc = root_doc();
            let (parent, member) = pointer.rsplit_once('/').unwrap();
            let obj = doc.pointer_mut(parent).unwrap().as_object_mut().unwrap();
            if value.is_null() {
                obj.remove(member);
            } else {
                obj.insert(member.into(), value);
            }
            let err = Metadata::<Root>::from_value(&doc).unwrap_err().to_string();
            assert!(err.contains(expected), "{pointer}: {err}");
        }
    }

    #[test]
    fn the_newtypes_refuse_bad_values_without_the_schema_pass() {
        let role = |v: Value| serde_json::from_value::<RoleKeys>(v).map_err(|e| e.to_string());
        assert!(role(json!({"keyids": ["a"]}))
            .unwrap_err()
            .contains("threshold"));
        assert!(role(json!({"keyids": ["a"], "threshold": 0}))
            .unwrap_err()
            .contains("> 0"));
        assert!(role(json!({"keyids": ["a", "a"], "threshold": 1}))
            .unwrap_err()
            .contains("nonunique"));
        assert!(role(json!({"keyids": ["a"], "threshold": true})).is_err());
        assert!(serde_json::from_value::<Version>(json!(0)).is_err());
        assert!(serde_json::from_value::<Version>(json!(1.0)).is_err());
        for bad in [
            "2030-01-01T00:00:00",
            "2030-01-01T00:00:00.5Z",
            "2030-01-01T00:00:00+00:00",
            "2030-12-31T23:59:60Z",
            "2030-02-30T00:00:00Z",
        ] {
            assert!(
                serde_json::from_value::<Expires>(json!(bad)).is_err(),
                "{bad}"
            );
        }
        let e: Expires = serde_json::from_value(json!("2030-01-02T03:04:05Z")).unwrap();
        assert_eq!(
            serde_json::to_value(e).unwrap(),
            json!("2030-01-02T03:04:05Z")
        );
    }

    #[test]
    fn the_type_must_match() {
        let err = Metadata::<Targets>::from_value(&root_doc()).unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::WrongType {
                    expected: "targets",
                    ..
                }
            ),
            "{err}"
        );
        let mut doc = root_doc();
        doc["signed"]["_type"] = json!("mirrors");
        assert!(Metadata::<Root>::from_value(&doc).is_err());
    }
}

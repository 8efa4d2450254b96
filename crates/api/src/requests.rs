//! Request bodies of the v1 API with upstream's validation rules
//! (rstuf-contract §1.3). Metadata documents inside payloads stay raw JSON
//! values: they are forwarded verbatim so signatures over their canonical
//! form still verify.

use crate::body::{Issue, Validate};
use crate::lax;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Longest artifact path accepted.
pub const MAX_PATH_LEN: usize = 4096;
/// Most artifacts in one add/remove request.
pub const MAX_ARTIFACTS_PER_REQUEST: usize = 100_000;

const TOP_ROLES: [&str; 4] = ["root", "targets", "snapshot", "timestamp"];
const KNOWN_SIGNED_FIELDS: [&str; 10] = [
    "_type",
    "version",
    "spec_version",
    "expires",
    "keys",
    "consistent_snapshot",
    "roles",
    "meta",
    "targets",
    "delegations",
];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Expiration {
    #[serde(deserialize_with = "lax::int")]
    #[schema(schema_with = crate::openapi::days)]
    pub expiration: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BinsSettings {
    #[serde(deserialize_with = "lax::int")]
    #[schema(schema_with = crate::openapi::days)]
    pub expiration: i64,
    #[serde(deserialize_with = "lax::int")]
    #[schema(schema_with = crate::openapi::bin_count)]
    pub number_of_delegated_bins: i64,
    /// Extension: `classic` writes `path_hash_prefixes` delegations (readable
    /// by the tough client); `succinct` (default) is TAP 15 as upstream.
    #[serde(
        default,
        rename = "x-rstuf-bins-layout",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::openapi::bins_layout)]
    pub layout: Option<String>,
}

/// The roles' expiry settings, in upstream's key order (serde writes
/// fields in declaration order, and the CLI's payload file follows it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RolesData {
    pub root: Expiration,
    pub timestamp: Expiration,
    pub snapshot: Expiration,
    pub targets: Expiration,
    #[serde(default)]
    pub bins: Option<BinsSettings>,
    #[serde(default)]
    pub delegations: Option<Delegations>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BootstrapSettings {
    pub roles: RolesData,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BootstrapPayload {
    pub settings: BootstrapSettings,
    #[schema(schema_with = crate::openapi::root_metadata)]
    pub metadata: BTreeMap<String, Map<String, Value>>,
    #[serde(default, deserialize_with = "lax::opt_int")]
    #[schema(schema_with = crate::openapi::timeout)]
    pub timeout: Option<i64>,
}

/// TUF delegations as upstream's `TUFDelegations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Delegations {
    #[serde(default)]
    #[schema(schema_with = crate::openapi::keys)]
    pub keys: BTreeMap<String, Map<String, Value>>,
    #[schema(min_items = 1, inline)]
    pub roles: Vec<DelegatedRolePayload>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DelegatedRolePayload {
    #[schema(pattern = "^[a-zA-Z0-9_-]+$")]
    pub name: String,
    #[serde(default = "yes", deserialize_with = "lax::boolean")]
    #[schema(schema_with = crate::openapi::lax_bool)]
    pub terminating: bool,
    #[serde(default)]
    pub keyids: Vec<String>,
    #[serde(default = "one", deserialize_with = "lax::int")]
    #[schema(schema_with = crate::openapi::threshold)]
    pub threshold: i64,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::path_patterns)]
    pub paths: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hash_prefixes: Option<Vec<String>>,
    #[serde(
        rename = "x-rstuf-expire-policy",
        default,
        deserialize_with = "lax::some_int",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::openapi::days, required = true)]
    pub expire_policy: Option<i64>,
}

fn yes() -> bool {
    true
}
fn one() -> i64 {
    1
}

impl Validate for BootstrapPayload {
    fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        let roles = &self.settings.roles;
        for (name, e) in [
            ("root", &roles.root),
            ("targets", &roles.targets),
            ("snapshot", &roles.snapshot),
            ("timestamp", &roles.timestamp),
        ] {
            positive(
                &mut issues,
                &["settings", "roles", name, "expiration"],
                e.expiration,
            );
        }
        match (&roles.bins, &roles.delegations) {
            (Some(bins), None) => {
                positive(
                    &mut issues,
                    &["settings", "roles", "bins", "expiration"],
                    bins.expiration,
                );
                let n = bins.number_of_delegated_bins;
                if !(2..=16384).contains(&n) || (n & (n - 1)) != 0 {
                    issues.push(Issue::new(
                        "value_error",
                        &["settings", "roles", "bins", "number_of_delegated_bins"],
                        format!("number_of_delegated_bins must be a power of two from 2 to 16384, got {n}"),
                    ));
                }
                if let Some(layout) = &bins.layout {
                    if layout != "succinct" && layout != "classic" {
                        issues.push(Issue::new(
                            "value_error",
                            &["settings", "roles", "bins", "x-rstuf-bins-layout"],
                            format!("x-rstuf-bins-layout must be 'succinct' or 'classic', got '{layout}'"),
                        ));
                    }
                }
            }
            (None, Some(d)) => {
                d.validate_into(&mut issues, &["settings", "roles", "delegations"], true)
            }
            _ => issues.push(Issue::new(
                "value_error",
                &["settings", "roles"],
                "Value error, Exactly one of 'bins' and 'delegations' must be set",
            )),
        }
        match self.metadata.get("root") {
            None => issues.push(Issue::new(
                "missing",
                &["metadata", "root"],
                "Field required",
            )),
            Some(root) => validate_metadata_doc(&mut issues, &["metadata", "root"], root),
        }
        if let Some(t) = self.timeout {
            if t <= 0 {
                issues.push(Issue::new(
                    "greater_than",
                    &["timeout"],
                    "Input should be greater than 0",
                ));
            }
        }
        issues
    }
}

fn positive(issues: &mut Vec<Issue>, loc: &[&str], v: i64) {
    if v <= 0 {
        issues.push(Issue::new(
            "greater_than",
            loc,
            "Input should be greater than 0",
        ));
    } else if v > 100 * 366 {
        issues.push(Issue::new(
            "less_than",
            loc,
            "Expiration must be at most 36600 days",
        ));
    }
}

/// `{signatures: [...], signed: {...}}` with upstream's rule on unknown
/// `signed` fields (`x-<vendor>-<name>`).
fn validate_metadata_doc(issues: &mut Vec<Issue>, loc: &[&str], doc: &Map<String, Value>) {
    let start = issues.len();
    let sigs = doc.get("signatures").and_then(Value::as_array);
    let mut sigs_ok = sigs.is_some_and(|a| a.iter().all(Value::is_object));
    // Upstream's `TUFSignatures{keyid: str, sig: str}`: pydantic's
    // `string_type` at the member.
    for (i, sig) in sigs.into_iter().flatten().enumerate() {
        for field in ["keyid", "sig"] {
            match sig.get(field) {
                Some(Value::String(_)) => {}
                Some(other) => {
                    sigs_ok = false;
                    let idx = i.to_string();
                    let mut l = loc.to_vec();
                    l.extend(["signatures", &idx, field]);
                    issues.push(
                        Issue::new("string_type", &l, "Input should be a valid string")
                            .with_input(other.clone()),
                    );
                }
                None => sigs_ok = false,
            }
        }
    }
    if !sigs_ok && issues.len() == start {
        let mut l = loc.to_vec();
        l.push("signatures");
        issues.push(Issue::new(
            "value_error",
            &l,
            "signatures must be a list of {keyid, sig} objects",
        ));
    }
    let Some(signed) = doc.get("signed").and_then(Value::as_object) else {
        let mut l = loc.to_vec();
        l.push("signed");
        issues.push(Issue::new(
            "missing",
            &l,
            "Field required: signed must be an object",
        ));
        return;
    };
    for field in signed.keys() {
        if !KNOWN_SIGNED_FIELDS.contains(&field.as_str()) && !is_vendor_field(field) {
            let mut l = loc.to_vec();
            l.push("signed");
            issues.push(Issue::new(
                "value_error",
                &l,
                format!("Value error, Unknown field '{field}': custom fields must be named x-<vendor>-<name>"),
            ));
        }
    }
    if issues.len() == start && sigs_ok {
        validate_root_rules(issues, loc, doc);
    }
}

/// The rules a TUF client enforces when it loads a root (python-tuf's
/// `Metadata.from_dict`, strict where the spec is: unique keyids, a
/// threshold its keys can meet, exact `expires` …): a root that breaks
/// one is refused here rather than signed, stored and then refused by
/// every client.
fn validate_root_rules(issues: &mut Vec<Issue>, loc: &[&str], doc: &Map<String, Value>) {
    let doc = Value::Object(doc.clone());
    let problem = match rstuf_tuf::schema::check_metadata(&doc) {
        Ok("root") => return,
        Ok(other) => rstuf_tuf::schema::SchemaError {
            path: vec!["signed".into(), "_type".into()],
            message: format!("expected root metadata, got {other}"),
        },
        Err(e) => e,
    };
    let mut at: Vec<&str> = loc.to_vec();
    at.extend(problem.path.iter().map(String::as_str));
    issues.push(Issue::new(
        "value_error",
        &at,
        format!("Value error, invalid root metadata: {}", problem.message),
    ));
}

fn is_vendor_field(name: &str) -> bool {
    name.starts_with("x-") && name.split('-').filter(|p| !p.is_empty()).count() >= 3
}

fn valid_role_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Delegations {
    fn validate_into(&self, issues: &mut Vec<Issue>, loc: &[&str], need_policy: bool) {
        let at = |tail: &[&str]| -> Vec<String> {
            loc.iter().chain(tail).map(|s| s.to_string()).collect()
        };
        let push = |issues: &mut Vec<Issue>, tail: &[&str], kind: &'static str, msg: String| {
            let l = at(tail);
            let refs: Vec<&str> = l.iter().map(String::as_str).collect();
            issues.push(Issue::new(kind, &refs, msg));
        };
        if self.roles.is_empty() {
            push(
                issues,
                &["roles"],
                "too_short",
                "at least one delegated role is required".into(),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for role in &self.roles {
            if !valid_role_name(&role.name) || TOP_ROLES.contains(&role.name.as_str()) {
                push(
                    issues,
                    &["roles", "name"],
                    "string_pattern_mismatch",
                    format!(
                        "role name '{}' must match [a-zA-Z0-9_-]+ and not be a top-level role",
                        role.name
                    ),
                );
            }
            if !seen.insert(role.name.as_str()) {
                push(
                    issues,
                    &["roles", "name"],
                    "value_error",
                    format!("role '{}' is listed twice", role.name),
                );
            }
            if role.threshold < 1 {
                push(
                    issues,
                    &["roles", "threshold"],
                    "greater_than",
                    format!("role '{}': threshold must be at least 1", role.name),
                );
            }
            if role.threshold as usize > role.keyids.len().max(1) {
                push(
                    issues,
                    &["roles", "threshold"],
                    "value_error",
                    format!(
                        "role '{}': threshold {} exceeds its {} keys",
                        role.name,
                        role.threshold,
                        role.keyids.len()
                    ),
                );
            }
            for keyid in &role.keyids {
                if !self.keys.contains_key(keyid) {
                    push(
                        issues,
                        &["roles", "keyids"],
                        "value_error",
                        format!("role '{}': keyid {keyid} is not in keys", role.name),
                    );
                }
            }
            match (&role.paths, &role.path_hash_prefixes) {
                (Some(paths), _) if paths.is_empty() || paths.iter().any(String::is_empty) => push(
                    issues,
                    &["roles", "paths"],
                    "too_short",
                    format!(
                        "role '{}': paths needs at least one non-empty pattern",
                        role.name
                    ),
                ),
                (None, None) => push(
                    issues,
                    &["roles", "paths"],
                    "missing",
                    format!("role '{}': paths is required", role.name),
                ),
                _ => {}
            }
            match role.expire_policy {
                Some(days) if days <= 0 => push(
                    issues,
                    &["roles", "x-rstuf-expire-policy"],
                    "greater_than",
                    format!(
                        "role '{}': x-rstuf-expire-policy must be a positive number of days",
                        role.name
                    ),
                ),
                None if need_policy => push(
                    issues,
                    &["roles", "x-rstuf-expire-policy"],
                    "missing",
                    format!(
                        "role '{}': x-rstuf-expire-policy (days) is required",
                        role.name
                    ),
                ),
                _ => {}
            }
        }
        for (keyid, key) in &self.keys {
            for field in ["keytype", "scheme"] {
                if !key.get(field).is_some_and(Value::is_string) {
                    push(
                        issues,
                        &["keys", keyid.as_str(), field],
                        "missing",
                        format!("key {keyid}: {field} is required"),
                    );
                }
            }
            if !key.get("keyval").is_some_and(Value::is_object) {
                push(
                    issues,
                    &["keys", keyid.as_str(), "keyval"],
                    "missing",
                    format!("key {keyid}: keyval is required"),
                );
            }
        }
    }
}

/// `POST/PUT /api/v1/delegations/`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DelegationsPayload {
    #[schema(inline)]
    pub delegations: Delegations,
}

impl Validate for DelegationsPayload {
    fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        self.delegations
            .validate_into(&mut issues, &["delegations"], true);
        issues
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleName {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DelegationsDeleteInner {
    pub roles: Vec<RoleName>,
}

/// `POST /api/v1/delegations/delete`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DelegationsDeletePayload {
    pub delegations: DelegationsDeleteInner,
}

/// The message of a `metadata_delegation` task: a checked request of one of
/// the three delegation operations and which one it is, queued as
/// `{"action": "add" | "update" | "delete", "delegations": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum DelegationTask {
    Add { delegations: Delegations },
    Update { delegations: Delegations },
    Delete { delegations: DelegationsDeleteInner },
}

impl DelegationTask {
    /// `add`, `update` or `delete`.
    pub fn action(&self) -> &'static str {
        match self {
            DelegationTask::Add { .. } => "add",
            DelegationTask::Update { .. } => "update",
            DelegationTask::Delete { .. } => "delete",
        }
    }
}

impl Validate for DelegationsDeletePayload {
    fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        if self.delegations.roles.is_empty() {
            issues.push(Issue::new(
                "too_short",
                &["delegations", "roles"],
                "at least one role is required",
            ));
        }
        for r in &self.delegations.roles {
            if !valid_role_name(&r.name) {
                issues.push(Issue::new(
                    "string_pattern_mismatch",
                    &["delegations", "roles", "name"],
                    format!("role name '{}' must match [a-zA-Z0-9_-]+", r.name),
                ));
            }
        }
        issues
    }
}

/// One artifact's target info.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ArtifactInfo {
    #[serde(deserialize_with = "lax::int")]
    #[schema(schema_with = crate::openapi::length)]
    pub length: i64,
    #[schema(schema_with = crate::openapi::hashes)]
    pub hashes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub custom: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Artifact {
    pub path: String,
    pub info: ArtifactInfo,
}

/// `POST /api/v1/artifacts/`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AddArtifactsPayload {
    pub artifacts: Vec<Artifact>,
    #[serde(default, deserialize_with = "lax::boolean")]
    #[schema(schema_with = crate::openapi::lax_bool)]
    pub add_task_id_to_custom: bool,
    #[serde(default = "yes", deserialize_with = "lax::boolean")]
    #[schema(schema_with = crate::openapi::lax_bool)]
    pub publish_artifacts: bool,
}

impl Validate for AddArtifactsPayload {
    fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        if self.artifacts.len() > MAX_ARTIFACTS_PER_REQUEST {
            issues.push(Issue::new(
                "too_long",
                &["artifacts"],
                format!("at most {MAX_ARTIFACTS_PER_REQUEST} artifacts per request"),
            ));
            return issues;
        }
        for (i, a) in self.artifacts.iter().enumerate() {
            let idx = i.to_string();
            if a.info.length < 0 {
                issues.push(Issue::new(
                    "greater_than_equal",
                    &["artifacts", &idx, "info", "length"],
                    "Input should be greater than or equal to 0",
                ));
            }
            if a.info.hashes.is_empty() {
                issues.push(Issue::new(
                    "too_short",
                    &["artifacts", &idx, "info", "hashes"],
                    "at least one hash is required",
                ));
            }
            for (alg, digest) in &a.info.hashes {
                if alg.is_empty() || alg.len() > 64 {
                    issues.push(Issue::new(
                        "value_error",
                        &["artifacts", &idx, "info", "hashes"],
                        "hash algorithm names must be 1-64 characters",
                    ));
                }
                if let Some(problem) = rstuf_tuf::hashes::digest_problem(alg, digest) {
                    issues.push(Issue::new(
                        "value_error",
                        &["artifacts", &idx, "info", "hashes", alg],
                        format!("hash '{alg}' {problem}"),
                    ));
                }
            }
            if a.path.len() > MAX_PATH_LEN {
                issues.push(Issue::new(
                    "too_long",
                    &["artifacts", &idx, "path"],
                    format!("path longer than {MAX_PATH_LEN} bytes"),
                ));
            }
        }
        issues
    }
}

/// `POST /api/v1/artifacts/delete`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RemoveArtifactsPayload {
    pub artifacts: Vec<String>,
    #[serde(default = "yes", deserialize_with = "lax::boolean")]
    #[schema(schema_with = crate::openapi::lax_bool)]
    pub publish_artifacts: bool,
}

impl Validate for RemoveArtifactsPayload {
    fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        if self.artifacts.len() > MAX_ARTIFACTS_PER_REQUEST {
            issues.push(Issue::new(
                "too_long",
                &["artifacts"],
                format!("at most {MAX_ARTIFACTS_PER_REQUEST} artifacts per request"),
            ));
        }
        if self.artifacts.iter().any(|p| p.len() > MAX_PATH_LEN) {
            issues.push(Issue::new(
                "too_long",
                &["artifacts"],
                format!("paths must be at most {MAX_PATH_LEN} bytes"),
            ));
        }
        issues
    }
}

/// `PUT /api/v1/config/`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SettingsPayload {
    pub settings: SettingsInner,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SettingsInner {
    #[serde(deserialize_with = "lax::int_map")]
    #[schema(schema_with = crate::openapi::days_by_role)]
    pub expiration: BTreeMap<String, i64>,
}

impl Validate for SettingsPayload {
    fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        if self.settings.expiration.is_empty() {
            issues.push(Issue::new(
                "too_short",
                &["settings", "expiration"],
                "at least one role is required",
            ));
        }
        for (role, days) in &self.settings.expiration {
            positive(&mut issues, &["settings", "expiration", role], *days);
        }
        issues
    }
}

/// `POST /api/v1/metadata/`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MetadataUpdatePayload {
    #[schema(schema_with = crate::openapi::root_metadata_only)]
    pub metadata: Map<String, Value>,
}

impl Validate for MetadataUpdatePayload {
    fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        for key in self.metadata.keys() {
            if key != "root" {
                issues.push(Issue::new(
                    "value_error",
                    &["metadata", key],
                    "Value error, Only 'root' metadata can be updated",
                ));
            }
        }
        match self.metadata.get("root").and_then(Value::as_object) {
            Some(root) => validate_metadata_doc(&mut issues, &["metadata", "root"], root),
            None => issues.push(Issue::new(
                "missing",
                &["metadata", "root"],
                "Field required",
            )),
        }
        issues
    }
}

/// `POST /api/v1/metadata/online`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OnlinePayload {
    #[serde(default)]
    pub roles: Vec<String>,
}

impl Validate for OnlinePayload {
    fn validate(&self) -> Vec<Issue> {
        self.roles
            .iter()
            .filter(|r| !valid_role_name(r))
            .map(|r| {
                Issue::new(
                    "string_pattern_mismatch",
                    &["roles"],
                    format!("'{r}' is not a role name"),
                )
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignaturePayload {
    pub keyid: String,
    pub sig: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Map<String, Value>,
}

/// `POST /api/v1/metadata/sign`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignPayload {
    pub role: String,
    pub signature: SignaturePayload,
}

impl Validate for SignPayload {
    fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        if !valid_role_name(&self.role) {
            issues.push(Issue::new(
                "string_pattern_mismatch",
                &["role"],
                format!("'{}' is not a role name", self.role),
            ));
        }
        let hex =
            |s: &str| !s.is_empty() && s.len() <= 8192 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex(&self.signature.keyid) {
            issues.push(Issue::new(
                "value_error",
                &["signature", "keyid"],
                "keyid must be hex",
            ));
        }
        if !hex(&self.signature.sig) {
            issues.push(Issue::new(
                "value_error",
                &["signature", "sig"],
                "sig must be hex",
            ));
        }
        issues
    }
}

/// `POST /api/v1/metadata/sign/delete`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignDeletePayload {
    pub role: String,
}

impl Validate for SignDeletePayload {
    fn validate(&self) -> Vec<Issue> {
        if valid_role_name(&self.role) {
            Vec::new()
        } else {
            vec![Issue::new(
                "string_pattern_mismatch",
                &["role"],
                format!("'{}' is not a role name", self.role),
            )]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::parse_body;
    use serde_json::json;

    #[test]
    fn bootstrap_needs_exactly_one_layout() {
        let body =
            br#"{"settings":{"roles":{"root":{"expiration":365},"targets":{"expiration":365},
            "snapshot":{"expiration":1},"timestamp":{"expiration":1}}},
            "metadata":{"root":{"signatures":[],"signed":{"_type":"root"}}}}"#;
        let err = parse_body::<BootstrapPayload>(body).unwrap_err();
        assert!(err
            .to_json()
            .to_string()
            .contains("Exactly one of 'bins' and 'delegations' must be set"));
    }

    #[test]
    fn bins_must_be_a_power_of_two_in_range() {
        for n in [1, 3, 100, 32768] {
            let body = format!(
                r#"{{"settings":{{"roles":{{"root":{{"expiration":1}},"targets":{{"expiration":1}},"snapshot":{{"expiration":1}},
                "timestamp":{{"expiration":1}},"bins":{{"expiration":1,"number_of_delegated_bins":{n}}}}}}},
                "metadata":{{"root":{{"signatures":[],"signed":{{}}}}}}}}"#
            );
            assert!(
                parse_body::<BootstrapPayload>(body.as_bytes()).is_err(),
                "{n}"
            );
        }
    }

    #[test]
    fn artifacts_reject_negative_lengths_and_non_hex_hashes() {
        let err = parse_body::<AddArtifactsPayload>(
            br#"{"artifacts":[{"path":"a","info":{"length":-1,"hashes":{"sha256":"zz"}}}]}"#,
        )
        .unwrap_err();
        let text = err.to_json().to_string();
        assert!(
            text.contains("greater than or equal to 0") && text.contains("hex digest"),
            "{text}"
        );
        assert!(parse_body::<AddArtifactsPayload>(
            br#"{"artifacts":[{"path":"a","info":{"length":1,"hashes":{"x-custom":"ab"}}}]}"#
        )
        .is_ok());
        let sha = "ab".repeat(32);
        let ok = format!(
            r#"{{"artifacts":[{{"path":"a","info":{{"length":1,"hashes":{{"sha256":"{sha}"}}}}}}]}}"#
        );
        assert!(parse_body::<AddArtifactsPayload>(ok.as_bytes()).is_ok());
        for (hashes, problem) in [
            (r#"{"sha256":"ab"}"#, "must have 64 hex digits, got 2"),
            (r#"{"blake2b-256":"abc"}"#, "even number of digits"),
        ] {
            let body = format!(
                r#"{{"artifacts":[{{"path":"a","info":{{"length":1,"hashes":{hashes}}}}}]}}"#
            );
            let text = parse_body::<AddArtifactsPayload>(body.as_bytes())
                .unwrap_err()
                .to_json()
                .to_string();
            assert!(text.contains(problem), "{text}");
        }
    }

    #[test]
    fn unknown_signed_fields_need_a_vendor_prefix() {
        let err = parse_body::<MetadataUpdatePayload>(
            br#"{"metadata":{"root":{"signatures":[],"signed":{"_type":"root","custom":1}}}}"#,
        )
        .unwrap_err();
        assert!(err.to_json().to_string().contains("x-<vendor>-<name>"));
        let mut root = valid_root();
        root["signed"]["x-acme-note"] = json!(1);
        let body = json!({ "metadata": { "root": root } }).to_string();
        assert!(parse_body::<MetadataUpdatePayload>(body.as_bytes()).is_ok());
    }

    /// A root that follows every rule (signatures are not checked here).
    fn valid_root() -> Value {
        let key = |n: u8| json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": format!("{n:02x}").repeat(32)}});
        let role = |ids: &[&str], t: u64| json!({"keyids": ids, "threshold": t});
        json!({
            "signatures": [{"keyid": "aa", "sig": "00"}],
            "signed": {
                "_type": "root", "spec_version": "1.0.31", "version": 1,
                "expires": "2030-01-01T00:00:00Z", "consistent_snapshot": true,
                "keys": {"aa": key(1), "bb": key(2), "cc": key(3)},
                "roles": {
                    "root": role(&["aa", "bb"], 2),
                    "targets": role(&["cc"], 1),
                    "snapshot": role(&["cc"], 1),
                    "timestamp": role(&["cc"], 1),
                },
            }
        })
    }

    /// Roots python-tuf refuses on load (and roots no client could ever
    /// trust) are 422 at the door, naming the field.
    #[test]
    fn roots_breaking_client_rules_are_refused_at_the_door() {
        type Change = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(&str, Change, &str)> = vec![
            (
                "duplicate keyids",
                Box::new(|r| r["signed"]["roles"]["root"]["keyids"] = json!(["aa", "aa"])),
                "nonunique keyids",
            ),
            (
                "threshold beyond keys",
                Box::new(|r| r["signed"]["roles"]["root"]["threshold"] = json!(i64::MAX)),
                "can never be met",
            ),
            (
                "threshold 0",
                Box::new(|r| r["signed"]["roles"]["timestamp"]["threshold"] = json!(0)),
                "threshold must be > 0",
            ),
            (
                "threshold missing",
                Box::new(|r| {
                    r["signed"]["roles"]["targets"]
                        .as_object_mut()
                        .unwrap()
                        .remove("threshold");
                }),
                "threshold is required",
            ),
            (
                "version missing",
                Box::new(|r| {
                    r["signed"].as_object_mut().unwrap().remove("version");
                }),
                "version is required",
            ),
            (
                "version 0",
                Box::new(|r| r["signed"]["version"] = json!(0)),
                "version must be > 0",
            ),
            (
                "version as string",
                Box::new(|r| r["signed"]["version"] = json!("2")),
                "must be an integer",
            ),
            (
                "spec_version 2",
                Box::new(|r| r["signed"]["spec_version"] = json!("2.0.0")),
                "unsupported spec_version",
            ),
            (
                "spec_version bad",
                Box::new(|r| r["signed"]["spec_version"] = json!("1.0.0-rc1")),
                "failed to parse spec_version",
            ),
            (
                "expires fractional",
                Box::new(|r| r["signed"]["expires"] = json!("2030-01-01T00:00:00.5Z")),
                "YYYY-MM-DDTHH:MM:SSZ",
            ),
            (
                "expires offset",
                Box::new(|r| r["signed"]["expires"] = json!("2030-01-01T00:00:00+00:00")),
                "YYYY-MM-DDTHH:MM:SSZ",
            ),
            (
                "expires no day",
                Box::new(|r| r["signed"]["expires"] = json!("2030-02-30T00:00:00Z")),
                "YYYY-MM-DDTHH:MM:SSZ",
            ),
            (
                "extra role",
                Box::new(|r| {
                    r["signed"]["roles"]["mirror"] = json!({"keyids": ["aa"], "threshold": 1})
                }),
                "top-level metadata roles",
            ),
            (
                "missing role",
                Box::new(|r| {
                    r["signed"]["roles"]
                        .as_object_mut()
                        .unwrap()
                        .remove("snapshot");
                }),
                "snapshot role is required",
            ),
            (
                "unknown keyid",
                Box::new(|r| r["signed"]["roles"]["targets"]["keyids"] = json!(["dd"])),
                "not one of the listed keys",
            ),
            (
                "unsupported key",
                Box::new(|r| r["signed"]["keys"]["aa"]["scheme"] = json!("foo")),
                "unsupported public key",
            ),
            (
                "no public key",
                Box::new(|r| r["signed"]["keys"]["aa"]["keyval"] = json!({"private": "x"})),
                "public key string required",
            ),
            (
                "duplicate signatures",
                Box::new(|r| {
                    r["signatures"] =
                        json!([{"keyid": "aa", "sig": "00"}, {"keyid": "aa", "sig": "11"}])
                }),
                "multiple signatures",
            ),
            (
                "not a root",
                Box::new(|r| r["signed"]["_type"] = json!("mirrors")),
                "unrecognized metadata type",
            ),
            (
                "consistent_snapshot type",
                Box::new(|r| r["signed"]["consistent_snapshot"] = json!("yes")),
                "must be a boolean",
            ),
            (
                "float in a vendor field",
                Box::new(|r| r["signed"]["x-acme-ratio"] = json!(1.5)),
                "only integers",
            ),
        ];
        assert!(parse_body::<MetadataUpdatePayload>(
            json!({"metadata": {"root": valid_root()}})
                .to_string()
                .as_bytes()
        )
        .is_ok());
        for (name, change, words) in cases {
            let mut root = valid_root();
            change(&mut root);
            let body = json!({ "metadata": { "root": root } }).to_string();
            let err = parse_body::<MetadataUpdatePayload>(body.as_bytes()).unwrap_err();
            let text = err.to_json().to_string();
            assert!(text.contains(words), "{name}: {text}");
        }
    }

    /// Whatever will be signed is refused at the door if canonical JSON
    /// cannot encode it, with the field's location.
    #[test]
    fn unsignable_numbers_are_refused_at_the_door() {
        let sha = "ab".repeat(32);
        for (custom, at) in [
            (
                r#"{"x": 1.5}"#,
                json!(["body", "artifacts", 0, "info", "custom", "x"]),
            ),
            (
                r#"{"n": 1180591620717411303424}"#,
                json!(["body", "artifacts", 0, "info", "custom", "n"]),
            ),
            (
                r#"{"deep": [0, {"y": 1e3}]}"#,
                json!(["body", "artifacts", 0, "info", "custom", "deep", "1", "y"]),
            ),
        ] {
            let body = format!(
                r#"{{"artifacts":[{{"path":"p","info":{{"length":1,"hashes":{{"sha256":"{sha}"}},"custom":{custom}}}}}]}}"#
            );
            let err = parse_body::<AddArtifactsPayload>(body.as_bytes()).unwrap_err();
            let d = &err.to_json()[0];
            assert_eq!(d["type"], "value_error", "{custom}");
            assert!(d["msg"].as_str().unwrap().contains("only integers"), "{d}");
            // The location names the member; indexes inside `custom`
            // are strings (the value's path), the artifact index too.
            let loc: Vec<String> = d["loc"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.to_string().trim_matches('"').to_string())
                .collect();
            let want: Vec<String> = at
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.to_string().trim_matches('"').to_string())
                .collect();
            assert_eq!(loc, want, "{custom}");
        }
        let keys = r#"{"k":{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"ab"},"x-rstuf-weight":0.5}}"#;
        let body = format!(
            r#"{{"delegations":{{"keys":{keys},"roles":[{{"name":"a","terminating":true,"keyids":["k"],"threshold":1,"paths":["a/*"],"x-rstuf-expire-policy":1}}]}}}}"#
        );
        let err = parse_body::<DelegationsPayload>(body.as_bytes()).unwrap_err();
        assert!(
            err.to_json().to_string().contains("x-rstuf-weight"),
            "{err}"
        );
    }

    #[test]
    fn delegation_tasks_travel_as_action_and_delegations() {
        let body = r#"{"delegations": {"keys": {}, "roles": [{"name": "dev", "paths": ["dev/*"], "x-rstuf-expire-policy": 30}]}}"#;
        let p = parse_body::<DelegationsPayload>(body.as_bytes()).unwrap();
        let task = DelegationTask::Update {
            delegations: p.delegations,
        };
        let wire = serde_json::to_value(&task).unwrap();
        assert_eq!(wire["action"], "update");
        assert_eq!(wire["delegations"]["roles"][0]["name"], "dev");
        assert_eq!(wire.as_object().unwrap().len(), 2);
        let back = DelegationTask::deserialize(&wire).unwrap();
        assert_eq!(back.action(), "update");
        let delete =
            serde_json::json!({"action": "delete", "delegations": {"roles": [{"name": "dev"}]}});
        assert_eq!(
            DelegationTask::deserialize(&delete).unwrap().action(),
            "delete"
        );
        for bad in [
            serde_json::json!({"action": "rename", "delegations": {"roles": []}}),
            serde_json::json!({"delegations": {"roles": []}}),
            serde_json::json!({"action": "add"}),
        ] {
            assert!(DelegationTask::deserialize(&bad).is_err(), "{bad}");
        }
    }
}

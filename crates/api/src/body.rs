//! Request bodies as upstream (FastAPI + pydantic) reads them: malformed
//! JSON, wrong types, missing fields and broken rules are all refused with
//! pydantic-style issues naming the field (`{"type", "loc", "msg",
//! "input"}`), which the API answers as 422 and the CLI prints before it
//! sends anything. One parser for every request type, so the API, the CLI
//! and the load generator agree on what a valid body is.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// Payload types check rules serde cannot express (ranges, patterns,
/// exactly-one-of) and report them all at once.
pub trait Validate {
    fn validate(&self) -> Vec<Issue>;
}

/// One entry of a 422 `detail` list (pydantic v2 shape).
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub kind: &'static str,
    pub loc: Vec<Value>,
    pub msg: String,
    /// The offending value, as pydantic reports it (`input`).
    pub input: Option<Value>,
}

impl Issue {
    /// An issue in the body at `loc` (below `body`).
    pub fn new(kind: &'static str, loc: &[&str], msg: impl Into<String>) -> Self {
        Issue {
            kind,
            loc: std::iter::once("body")
                .chain(loc.iter().copied())
                .map(|s| Value::String(s.into()))
                .collect(),
            msg: msg.into(),
            input: None,
        }
    }

    /// The same issue, reporting `input` as the offending value.
    pub fn with_input(mut self, input: Value) -> Self {
        self.input = Some(input);
        self
    }

    /// `{"type", "loc", "msg"[, "input"]}`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "type": self.kind, "loc": self.loc, "msg": self.msg });
        if let Some(input) = &self.input {
            v["input"] = input.clone();
        }
        v
    }
}

/// A body refused: every issue found (the API's 422 `detail`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub issues: Vec<Issue>,
}

impl Rejected {
    pub fn validation(issues: Vec<Issue>) -> Self {
        Rejected { issues }
    }

    pub fn invalid(kind: &'static str, loc: &[&str], msg: impl Into<String>) -> Self {
        Rejected::validation(vec![Issue::new(kind, loc, msg)])
    }

    /// The `detail` list.
    pub fn to_json(&self) -> Value {
        Value::Array(self.issues.iter().map(Issue::to_json).collect())
    }
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let at: Vec<String> = issue
                .loc
                .iter()
                .skip(1)
                .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
                .collect();
            if at.is_empty() {
                write!(f, "{}", issue.msg)?;
            } else {
                write!(f, "{}: {}", at.join("."), issue.msg)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Rejected {}

/// Parse and validate a request body.
pub fn parse_body<T: DeserializeOwned + Serialize + Validate>(bytes: &[u8]) -> Result<T, Rejected> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Rejected::invalid("missing", &[], "Field required"));
    }
    // serde_json does not check the UTF-8 of strings it skips (unknown
    // fields), so check the whole body: JSON text is UTF-8 (RFC 8259).
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(Rejected::invalid(
            "json_invalid",
            &[],
            format!(
                "JSON decode error: the body is not valid UTF-8 (byte {})",
                e.valid_up_to()
            ),
        ));
    }
    // Every v1 body is an object (serde would also take a struct as an
    // array of its fields; pydantic does not).
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Rejected::invalid(
            "model_attributes_type",
            &[],
            "Input should be a valid dictionary or object to extract fields from",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(e) => return Err(deserialize_error(e)),
    };
    if let Err(e) = de.end() {
        return Err(Rejected::invalid(
            "json_invalid",
            &[],
            format!("JSON decode error: {e}"),
        ));
    }
    let issues = value.validate();
    if !issues.is_empty() {
        return Err(Rejected::validation(issues));
    }
    check_canonical(&value)?;
    Ok(value)
}

fn deserialize_error(e: serde_path_to_error::Error<serde_json::Error>) -> Rejected {
    let inner = e.inner();
    if inner.is_syntax() || inner.is_eof() {
        return Rejected::invalid("json_invalid", &[], format!("JSON decode error: {inner}"));
    }
    use serde_path_to_error::Segment;
    let mut loc = vec![Value::String("body".into())];
    for segment in e.path().iter() {
        match segment {
            Segment::Seq { index } => loc.push(Value::from(*index)),
            Segment::Map { key } => loc.push(Value::String(key.clone())),
            Segment::Enum { variant } => loc.push(Value::String(variant.clone())),
            Segment::Unknown => {}
        }
    }
    let message = inner.to_string();
    if let Some(lax) = crate::lax::LaxError::decode(&message) {
        loc.extend(lax.loc.into_iter().map(Value::String));
        return Rejected::validation(vec![Issue {
            kind: lax.kind,
            loc,
            msg: lax.msg.into(),
            input: Some(lax.input),
        }]);
    }
    // serde_json appends " at line L column C"; keep the readable part.
    let readable = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m)
        .to_string();
    // pydantic's location of a missing field ends with the field's name.
    if let Some(field) = readable
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        loc.push(Value::String(field.to_string()));
    }
    let (kind, msg) = pydantic_kind(&readable);
    Rejected::validation(vec![Issue {
        kind,
        loc,
        msg: msg.unwrap_or(readable),
        input: None,
    }])
}

/// pydantic's error type (and message, where pydantic's says more than
/// serde's) for a serde error text.
fn pydantic_kind(serde_msg: &str) -> (&'static str, Option<String>) {
    if serde_msg.starts_with("missing field") {
        return ("missing", Some("Field required".into()));
    }
    if serde_msg.starts_with("unknown field") {
        return ("extra_forbidden", None);
    }
    let expected = serde_msg.rsplit_once(", expected ").map(|(_, e)| e);
    match expected {
        Some("a string") => ("string_type", Some("Input should be a valid string".into())),
        Some(e) if e.starts_with("a sequence") => {
            ("list_type", Some("Input should be a valid list".into()))
        }
        Some(e) if e.starts_with("a map") || e.starts_with("struct") => (
            "dict_type",
            Some("Input should be a valid dictionary".into()),
        ),
        Some("a boolean") => ("bool_type", Some("Input should be a valid boolean".into())),
        _ => ("invalid_type", None),
    }
}

/// Everything a request carries may end up signed (artifact `custom`,
/// metadata, keys, delegations): refuse, at the door, what canonical JSON
/// cannot encode (a float, an integer beyond 64 bits), naming the field.
fn check_canonical<T: Serialize>(value: &T) -> Result<(), Rejected> {
    let json = serde_json::to_value(value).map_err(|e| {
        Rejected::invalid(
            "value_error",
            &[],
            format!("the request cannot be encoded: {e}"),
        )
    })?;
    rstuf_tuf::canonical::check(&json).map_err(|e| {
        let loc: Vec<&str> = e.path.iter().map(String::as_str).collect();
        let input = value_at(&json, &e.path);
        Rejected::validation(vec![Issue::new(
            "value_error",
            &loc,
            format!(
                "Value error, {}: metadata is signed as canonical JSON, which has integers only (from -2^63 to 2^64-1)",
                e.error
            ),
        )
        .with_input(input)])
    })
}

fn value_at(json: &Value, path: &[String]) -> Value {
    path.iter()
        .try_fold(json, |v, seg| match v {
            Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
            Value::Object(m) => m.get(seg),
            _ => None,
        })
        .cloned()
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Deserialize, Serialize, Debug)]
    struct P {
        #[allow(dead_code)]
        roles: Vec<String>,
        n: u32,
    }
    impl Validate for P {
        fn validate(&self) -> Vec<Issue> {
            if self.n == 0 {
                vec![Issue::new(
                    "greater_than",
                    &["n"],
                    "Input should be greater than 0",
                )]
            } else {
                vec![]
            }
        }
    }

    fn detail(e: Rejected) -> Value {
        e.to_json()[0].clone()
    }

    #[test]
    fn errors_name_the_field_like_pydantic() {
        let d = detail(parse_body::<P>(br#"{"roles": ["a"], "n": "x"}"#).unwrap_err());
        assert_eq!(d["loc"], serde_json::json!(["body", "n"]));
        assert_eq!(d["type"], "invalid_type");
        let d = detail(parse_body::<P>(br#"{"roles": ["a"]}"#).unwrap_err());
        assert_eq!(d["type"], "missing");
        let d = detail(parse_body::<P>(br#"{"roles": [1], "n": 1}"#).unwrap_err());
        assert_eq!(d["loc"], serde_json::json!(["body", "roles", 0]));
        let d = detail(parse_body::<P>(b"{not json").unwrap_err());
        assert_eq!(d["type"], "json_invalid");
        let d = detail(parse_body::<P>(b"").unwrap_err());
        assert_eq!(d["type"], "missing");
        let d = detail(parse_body::<P>(br#"{"roles": [], "n": 0}"#).unwrap_err());
        assert_eq!(d["loc"], serde_json::json!(["body", "n"]));
        assert!(parse_body::<P>(br#"{"roles": [], "n": 3}"#).is_ok());
    }
}

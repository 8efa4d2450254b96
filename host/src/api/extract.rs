//! Request-body extraction with upstream's error behaviour: malformed JSON,
//! wrong types and missing fields answer 422 with a pydantic-style `detail`
//! list naming the field; bodies over the configured limit answer 413.

use super::response::{ApiError, Issue};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Payload types check rules serde cannot express (ranges, patterns,
/// exactly-one-of) and report them all at once.
pub trait Validate {
    fn validate(&self) -> Vec<Issue>;
}

/// JSON body of type `T`, deserialized and validated.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Serialize + Validate,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::detail(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Value::String("Request body too large".into()),
                )
            } else {
                ApiError::detail(
                    StatusCode::BAD_REQUEST,
                    Value::String(rejection.body_text()),
                )
            }
        })?;
        parse_body(&bytes).map(ApiJson)
    }
}

/// Parse and validate a request body.
pub fn parse_body<T: DeserializeOwned + Serialize + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("missing", &[], "Field required"));
    }
    // serde_json does not check the UTF-8 of strings it skips (unknown
    // fields), so check the whole body: JSON text is UTF-8 (RFC 8259).
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(ApiError::invalid(
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
        return Err(ApiError::invalid(
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
        return Err(ApiError::invalid(
            "json_invalid",
            &[],
            format!("JSON decode error: {e}"),
        ));
    }
    let issues = value.validate();
    if !issues.is_empty() {
        return Err(ApiError::validation(issues));
    }
    check_canonical(&value)?;
    Ok(value)
}

fn deserialize_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = e.inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::invalid("json_invalid", &[], format!("JSON decode error: {inner}"));
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
    if let Some(lax) = super::lax::LaxError::decode(&message) {
        loc.extend(lax.loc.into_iter().map(Value::String));
        return ApiError::validation(vec![Issue {
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
    ApiError::validation(vec![Issue {
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
fn check_canonical<T: Serialize>(value: &T) -> Result<(), ApiError> {
    let json = serde_json::to_value(value).map_err(|e| {
        ApiError::invalid(
            "value_error",
            &[],
            format!("the request cannot be encoded: {e}"),
        )
    })?;
    rstuf_tuf::canonical::check(&json).map_err(|e| {
        let loc: Vec<&str> = e.path.iter().map(String::as_str).collect();
        let input = value_at(&json, &e.path);
        ApiError::validation(vec![Issue::new(
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

    fn detail(e: ApiError) -> Value {
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        e.body["detail"][0].clone()
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

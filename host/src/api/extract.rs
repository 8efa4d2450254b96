//! Request-body extraction with upstream's error behaviour: malformed JSON,
//! wrong types and missing fields answer 422 with a pydantic-style `detail`
//! list naming the field; bodies over the configured limit answer 413.

use super::response::{ApiError, Issue};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
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
    T: DeserializeOwned + Validate,
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
pub fn parse_body<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
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
    if issues.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::validation(issues))
    }
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
    let kind = if message.starts_with("missing field") {
        "missing"
    } else if message.starts_with("unknown field") {
        "extra_forbidden"
    } else {
        "invalid_type"
    };
    // serde_json appends " at line L column C"; keep the readable part.
    let readable = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    ApiError::validation(vec![Issue {
        kind,
        loc,
        msg: readable,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
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

//! Request-body extraction with upstream's error behaviour: malformed JSON,
//! wrong types and missing fields answer 422 with a pydantic-style `detail`
//! list naming the field; bodies over the configured limit answer 413.

use super::response::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use rstuf_api::body::{parse_body, Validate};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

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
        parse_body(&bytes).map(ApiJson).map_err(ApiError::from)
    }
}

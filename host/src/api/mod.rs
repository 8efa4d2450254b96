//! The REST API: upstream RSTUF's `/api/v1` surface, plus health, readiness,
//! metrics and the OpenAPI document.

pub mod extract;
pub mod payloads;
pub mod response;

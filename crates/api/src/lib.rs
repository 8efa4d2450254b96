//! The v1 API as data: every request body (with upstream's validation
//! rules and pydantic's lax conversions), the response envelopes, task
//! names, states and results. The service's handlers, its worker, the `rstuf`
//! CLI and the load generator all use these types, so a body is described
//! once: what the CLI checks before sending is what the API accepts, and a
//! task state is an enum everywhere, never a string compared by hand.
//!
//! The OpenAPI document is derived from the same types (`utoipa`), see
//! [`openapi`].

pub mod audit;
pub mod body;
pub mod lax;
pub mod openapi;
pub mod requests;
pub mod responses;
pub mod task;

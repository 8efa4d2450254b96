//! The RSTUF service host: configuration, backends (WebAssembly plugins),
//! the REST API and the worker, in one binary whose role (API, worker or
//! both) is chosen by configuration.

#![recursion_limit = "256"]

pub mod api;
pub mod audit;
pub mod backends;
pub mod config;
pub mod distributed;
pub mod embedded;
pub mod expiry;
pub mod notify;
pub mod service;
pub mod state;
pub mod worker;

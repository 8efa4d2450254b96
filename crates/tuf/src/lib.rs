//! The TUF metadata engine: everything about TUF bytes and rules, with no
//! I/O. The worker composes it with storage and signing plugins.
//!
//! - [`canonical`]: OLPC canonical JSON, byte-identical to securesystemslib.
//! - [`keys`]: TUF keys, spec-exact keyids, signature verification.
//! - [`metadata`]: typed metadata (`Metadata<Root>` …) with no defaults for
//!   security fields, unknown fields kept.
//! - [`verify`]: threshold checks of signed metadata.
//! - [`paths`]: artifact path rules and custom-delegation matching.
//! - [`bins`]: succinct (TAP 15) and classic (`path_hash_prefixes`) hash bins.
//! - [`format`]: the stored file format and expiry timestamps.
//! - [`schema`]: the load-time rules clients enforce, checked before we
//!   sign or accept a document.

pub mod bins;
pub mod canonical;
pub mod format;
pub mod hashes;
pub mod keys;
pub mod metadata;
pub mod paths;
pub mod schema;
pub mod verify;

/// The `spec_version` written into new metadata (what upstream RSTUF writes).
pub const SPEC_VERSION: &str = "1.0.31";

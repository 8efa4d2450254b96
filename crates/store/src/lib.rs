//! The database layer, on sea-orm over SQLite (embedded mode) or PostgreSQL
//! (distributed mode), chosen by URL; the same SQL runs on both.
//!
//! - `rstuf_target_roles` / `rstuf_target_files`: upstream RSTUF's tables,
//!   unchanged, so upstream's `rstuf admin import-artifacts` keeps working.
//! - `rstuf_settings`: repository settings (upstream keeps these in Redis).
//! - `rstuf_tasks`: the durable task queue of embedded mode and the task
//!   state of both modes.
//! - `rstuf_publisher`: the single-writer lease with a fencing token that
//!   serializes publish passes across processes.
//! - `rstuf_version_reservations`: the highest version of each versioned
//!   metadata file a publish pass has ever been handed, so a pass that dies
//!   after writing files but before committing never has its file names
//!   reused with other content.
//! - `rstuf_applied_tasks`: which tasks' artifact changes are committed, so
//!   a task delivered again after a crash does not apply them twice.
//! - `rstuf_audit` / `rstuf_audit_head`: the hash-chained audit log of
//!   state-changing actions and its last entry.
//!
//! The atomic and bulk operations are written as explicit SQL so their
//! locking and batching are visible and reviewed, not left to an ORM.

mod audit;
mod db;
mod files;
mod migrate;
mod publisher;
mod roles;
mod settings;
mod tasks;

pub use audit::{AuditRow, ChainHash, NewAuditEntry};
pub use db::{Store, StoreError};
pub use files::{FileRow, NewFile, PublishState, Rejected};
pub use publisher::{PublishCommit, VersionRequest};
pub use roles::{NewRole, Role};
pub use tasks::{NewTask, Task};

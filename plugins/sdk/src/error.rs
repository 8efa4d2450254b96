//! The one error type of plugin code. It mirrors the WIT `plugin-error`
//! cases one-to-one, so the export glue converts it without a table per
//! plugin; `Unavailable` is the only case the host retries.

use std::fmt;

/// Why a plugin operation failed; the text is for people and must never
/// carry a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The configuration is invalid; the text names the key and why.
    InvalidConfig(String),
    /// The call's arguments are not acceptable (a bad object name, an unknown key URI, ...).
    InvalidInput(String),
    /// The named object or key does not exist.
    NotFound(String),
    /// The backend refused (permissions, authentication).
    Denied(String),
    /// The backend is unreachable or overloaded; the call may succeed if retried.
    Unavailable(String),
    /// Anything else.
    Internal(String),
}

impl Error {
    /// The text, without the case.
    pub fn message(&self) -> &str {
        match self {
            Error::InvalidConfig(m)
            | Error::InvalidInput(m)
            | Error::NotFound(m)
            | Error::Denied(m)
            | Error::Unavailable(m)
            | Error::Internal(m) => m,
        }
    }

    /// An `InvalidConfig` error about `key` (`approle.role_id` for a nested one).
    pub fn config(key: &str, why: impl fmt::Display) -> Error {
        Error::InvalidConfig(format!("{key}: {why}"))
    }

    /// The WIT case name, for logs and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidConfig(_) => "invalid-config",
            Error::InvalidInput(_) => "invalid-input",
            Error::NotFound(_) => "not-found",
            Error::Denied(_) => "denied",
            Error::Unavailable(_) => "unavailable",
            Error::Internal(_) => "internal",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind(), self.message())
    }
}

impl std::error::Error for Error {}

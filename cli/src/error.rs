//! How the CLI fails, and the exit code each failure maps to, so scripts can
//! tell a usage mistake from a server problem from a failed task.

/// Exit codes: 0 success, 1 local error (files, keys), 2 usage (clap),
/// 3 server unreachable or rejected the request, 4 the task ran and failed,
/// 5 a check ran and found a problem (`admin audit verify`, `repo check`).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Local(String),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Server(String),
    #[error("{0}")]
    Task(String),
    #[error("{0}")]
    Check(String),
    /// A check whose report was already printed (with `--json`, the report
    /// is the one JSON document on stdout).
    #[error("{0}")]
    Reported(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Local(_) => 1,
            CliError::Usage(_) => 2,
            CliError::Server(_) => 3,
            CliError::Task(_) => 4,
            CliError::Check(_) | CliError::Reported(_) => 5,
        }
    }
}

pub type CliResult<T> = Result<T, CliError>;

pub fn local(e: impl std::fmt::Display) -> CliError {
    CliError::Local(e.to_string())
}

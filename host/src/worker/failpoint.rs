//! Crash points for the crash-safety tests. A debug build started with
//! `RSTUF_FAILPOINT=<name>` aborts the whole process, as a `kill -9` would,
//! the first time it reaches the point of that name, so a test can stop
//! the publisher exactly between two of its steps. Release builds compile
//! this to nothing.

/// Abort the process here if `RSTUF_FAILPOINT` names this point (debug
/// builds only).
#[inline]
pub fn failpoint(name: &str) {
    #[cfg(debug_assertions)]
    {
        static ARMED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        let armed = ARMED.get_or_init(|| std::env::var("RSTUF_FAILPOINT").ok());
        if armed.as_deref() == Some(name) {
            eprintln!("RSTUF_FAILPOINT: aborting at {name}");
            std::process::abort();
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}

//! The integration tests of rstuf-cli, in one test binary (one link instead
//! of one per file). Each module is one former `tests/*.rs` file; all of
//! them run the built `rstuf` (`CARGO_BIN_EXE_rstuf`) as a child process,
//! so they share nothing but the binary and can run on parallel threads.

mod offline_keys;
mod plugin_commands;

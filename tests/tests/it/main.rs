//! The integration tests of rstuf-tests, in one test binary.
//!
//! Each module is one former `tests/*.rs` file. They live in a single
//! binary so CI links wasmtime, sqlx and the rest once instead of once per
//! file; the tests therefore share one process and run on parallel threads,
//! so they must not touch process-global state: no `std::env::set_var` or
//! current-directory changes (pass settings through the configuration or a
//! child's environment), no fixed paths (temporary directories), and ports
//! for child servers only from `rstuf_tests::servers::free_ports`, which
//! never hands one out twice and stays clear of the ports that binding
//! `127.0.0.1:0` gets.
//!
//! `distributed` stays its own binary (`tests/distributed.rs`): it stops and
//! restarts the machine's PostgreSQL, RabbitMQ and Redis, so it must never
//! run beside the tests here.

mod api_bad_input;
mod audit_log;
mod ceremony_vault;
mod cli_admin;
mod cli_ceremony;
mod cli_plugins;
mod crash_restart;
mod deploy_files;
mod embedded_e2e;
mod expiry_monitoring;
mod golden_output;
mod input_safety;
mod notify_e2e;
mod openapi_contract;
mod plugins_awskms;
mod plugins_keyvault;
mod plugins_s3;
mod plugins_sandbox;
mod plugins_storage;
mod plugins_vault;
mod plugins_webhook;
mod publish_race;
mod repo_check;
mod retention;
mod s3_vault_e2e;
mod status_page;
mod tls_api;
mod tough_client;
mod upstream_cli;
mod upstream_env;

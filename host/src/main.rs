//! `rstuf-host`: runs the service. See README.md for the commands.

use anyhow::Context;
use rstuf_host::backends::Backends;
use rstuf_host::config::{Config, ProcessEnv};
use std::path::PathBuf;

fn usage() -> &'static str {
    "usage: rstuf-host [--config FILE] [serve | check]\n\
     \n  serve   run the service (default)\
     \n  check   validate the configuration and load every plugin, then exit\n\
     \nConfiguration: a TOML file (--config or RSTUF_CONFIG) and RSTUF_* environment variables; see docs/configuration.md."
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut config_file: Option<PathBuf> = None;
    let mut command = String::from("serve");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => {
                config_file = Some(args.next().context("--config needs a file")?.into())
            }
            "-h" | "--help" => {
                println!("{}", usage());
                return Ok(());
            }
            "serve" | "check" => command = arg,
            other => anyhow::bail!("unknown argument '{other}'\n{}", usage()),
        }
    }
    let config = Config::load(config_file.as_deref(), &ProcessEnv)?;
    init_tracing(&config.log_level);
    for dir in config.directories_to_create() {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    match command.as_str() {
        "check" => {
            let backends = Backends::load(&config, None).await?;
            if let Some(files) = config.server.tls_files() {
                rstuf_host::api::tls::load(&files)?;
                println!("TLS certificate {} loaded", files.cert.display());
            }
            println!("configuration valid; plugins loaded:");
            println!(
                "  storage  {} = {} {}",
                backends.storage.name(),
                backends.storage.info().name,
                backends.storage.info().version
            );
            for v in &backends.keyvaults {
                println!(
                    "  keyvault {} = {} {} (schemes: {})",
                    v.name(),
                    v.info().name,
                    v.info().version,
                    v.schemes().join(", ")
                );
            }
            for n in &backends.notifiers {
                println!(
                    "  notify   {} = {} {}",
                    n.name(),
                    n.info().name,
                    n.info().version
                );
            }
            Ok(())
        }
        _ => {
            // Listening before the (possibly slow) start, so a SIGTERM that
            // arrives meanwhile ends the start cleanly instead of killing
            // the process with the signal's default action.
            let stop = stop_signal();
            tokio::pin!(stop);
            let service = tokio::select! {
                started = rstuf_host::service::start(config, Default::default()) => started?,
                _ = &mut stop => {
                    // Stopped while starting (e.g. waiting for the
                    // database): nothing was accepted yet.
                    tracing::info!("stopped during start-up");
                    return Ok(());
                }
            };
            stop.await;
            tracing::info!("shutting down: finishing in-flight tasks");
            service.shutdown().await;
            Ok(())
        }
    }
}

/// SIGTERM or SIGINT, registered when this is called (not when awaited).
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only for a terminal: logs collected by journald, files or
    // container runtimes stay plain text.
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
}

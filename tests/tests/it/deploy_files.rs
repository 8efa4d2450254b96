//! The deployment files parse and are complete: the compose file and the
//! Kubernetes manifests (YAML, read by python's PyYAML) give every API and
//! worker container its database, broker and Redis, the two roles, and the
//! worker a graceful stop; the systemd unit runs the embedded service.
//! (No Docker engine or cluster here: they are checked, not run.)

use rstuf_tests::python;
use rstuf_tests::workspace_root;
use serde_json::Value;

fn yaml_docs(path: &str) -> Vec<Value> {
    let file = workspace_root().join(path);
    let out = python(
        "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
        &[file.to_str().unwrap()],
    );
    serde_json::from_str(&out).unwrap()
}

fn env_names(container: &Value) -> Vec<String> {
    container["env"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|v| v["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kubernetes_manifests_wire_every_role() {
    let docs = yaml_docs("deploy/k8s/rstuf.yaml");
    let config = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("a ConfigMap");
    let shared: Vec<&String> = config["data"].as_object().unwrap().keys().collect();
    let mut roles = Vec::new();
    for d in docs.iter().filter(|d| d["kind"] == "Deployment") {
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        if c["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("rstuf-host"))
        {
            let names = env_names(c);
            for var in ["RSTUF_DB_SERVER", "RSTUF_BROKER_SERVER", "RSTUF_ROLE"] {
                assert!(
                    names.iter().any(|n| n == var),
                    "{} lacks {var}",
                    d["metadata"]["name"]
                );
            }
            assert!(shared.iter().any(|k| *k == "RSTUF_REDIS_SERVER"));
            // $(VAR) references must come after the variable they name.
            let pos = |n: &str| names.iter().position(|x| x == n).unwrap();
            assert!(pos("POSTGRES_PASSWORD") < pos("RSTUF_DB_SERVER"));
            roles.push(
                c["env"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["name"] == "RSTUF_ROLE")
                    .unwrap()["value"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
            // The image runs as uid 10001 (deploy/compose/Dockerfile); the
            // pod must let that user write its volumes.
            let security = &d["spec"]["template"]["spec"]["securityContext"];
            assert_eq!(security["runAsUser"], 10001, "{}", d["metadata"]["name"]);
            assert_eq!(security["fsGroup"], 10001, "{}", d["metadata"]["name"]);
            if names.iter().any(|n| n == "RSTUF_WORKER_ID") {
                assert!(
                    d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as_u64()
                        >= Some(35)
                );
            }
        }
    }
    roles.sort();
    assert_eq!(roles, ["api", "worker"]);
    for kind in ["postgres", "rabbitmq", "redis", "metadata-web"] {
        assert!(
            docs.iter()
                .any(|d| d["kind"] == "Service" && d["metadata"]["name"] == kind),
            "no Service {kind}"
        );
    }
}

#[test]
fn compose_file_runs_apis_workers_and_dependencies() {
    let docs = yaml_docs("deploy/compose/docker-compose.yml");
    let services = docs[0]["services"].as_object().unwrap();
    for s in ["postgres", "redis", "rabbitmq", "api", "worker", "web"] {
        assert!(services.contains_key(s), "no service {s}");
    }
    assert_eq!(services["api"]["environment"]["RSTUF_ROLE"], "api");
    assert_eq!(services["worker"]["environment"]["RSTUF_ROLE"], "worker");
    assert!(services["worker"]["environment"]["RSTUF_BROKER_SERVER"]
        .as_str()
        .unwrap()
        .starts_with("amqp://"));
    // Longer than the worker's 30 s drain, so SIGTERM is not cut short.
    let grace = services["worker"]["stop_grace_period"].as_str().unwrap();
    assert!(
        grace.trim_end_matches('s').parse::<u64>().unwrap() >= 35,
        "{grace}"
    );
    // Named volumes take the ownership of the image's mount points: they
    // must exist in the image, owned by the user it runs as.
    let dockerfile =
        std::fs::read_to_string(workspace_root().join("deploy/compose/Dockerfile")).unwrap();
    assert!(dockerfile.contains("--uid 10001") && dockerfile.contains("USER 10001:10001"));
    for volume in [
        "/var/opt/repository-service-tuf/storage",
        "/var/opt/repository-service-tuf/key_storage",
    ] {
        assert!(
            dockerfile.contains(volume),
            "the image does not create {volume}"
        );
    }
    assert!(
        dockerfile.contains("chown -R rstuf:rstuf /var/lib/rstuf /var/opt/repository-service-tuf")
    );
}

#[test]
fn systemd_unit_runs_the_embedded_service() {
    let unit =
        std::fs::read_to_string(workspace_root().join("deploy/systemd/rstuf.service")).unwrap();
    for line in [
        "ExecStart=/usr/local/bin/rstuf-host serve",
        "KillSignal=SIGTERM",
        "Restart=on-failure",
    ] {
        assert!(unit.lines().any(|l| l.trim() == line), "missing {line}");
    }
}

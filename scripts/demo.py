"""Run the embedded service with a demo repository (`make run DEMO=1`).

Starts `rstuf-host serve` with its data in var/demo, and the first time:
makes a ceremony payload with freshly generated keys (two ed25519 root keys,
an ed25519 online key; tests/python/ceremony.py), bootstraps the service
with it, adds an artifact, and has python-tuf verify it from 1.root.json.
Then it keeps serving until Ctrl-C. Only for trying things out: the root
keys sit unencrypted in var/demo/ceremony.

usage: demo.py HOST_BINARY
"""
import hashlib, json, os, signal, subprocess, sys, time, urllib.request

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
binary = sys.argv[1]
data = os.path.join(root, "var", "demo")
listen = os.environ.get("RSTUF_LISTEN", "127.0.0.1:8080")
base = f"http://{listen}"
env = dict(os.environ, RSTUF_DATA_DIR=data, RSTUF_LISTEN=listen)
os.makedirs(os.path.join(data, "keys"), exist_ok=True)


def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def run_task(path, body):
    status, resp = call("POST", path, body)
    if status != 202:
        sys.exit(f"POST {path}: {status} {resp}")
    task = resp["data"]["task_id"]
    while True:
        _, t = call("GET", f"/api/v1/task/?task_id={task}")
        state = t["data"]["state"]
        if state in ("SUCCESS", "ERRORED", "FAILURE"):
            if state != "SUCCESS":
                sys.exit(f"{path}: task {task} ended {state}: {t}")
            return t["data"]
        time.sleep(0.1)


server = subprocess.Popen([binary, "serve"], env=env, cwd=root)
signal.signal(signal.SIGTERM, lambda *_: server.terminate())
try:
    for _ in range(300):
        try:
            if call("GET", "/ready")[0] == 200:
                break
        except OSError:
            pass
        if server.poll() is not None:
            sys.exit(f"rstuf-host exited with {server.returncode}")
        time.sleep(0.1)
    _, status = call("GET", "/api/v1/bootstrap/")
    if not status["data"].get("bootstrap"):
        print("==> ceremony: generating demo keys in", os.path.join(data, "ceremony"))
        payload = subprocess.run(
            [sys.executable, os.path.join(root, "tests/python/ceremony.py"),
             "--out", os.path.join(data, "ceremony"), "--key-dir", os.path.join(data, "keys"),
             "--bins", "16", "--expiration-days", "30"],
            check=True, capture_output=True, text=True).stdout
        run_task("/api/v1/bootstrap/", json.loads(payload))
        print("==> bootstrapped")
        content = b"hello, TUF\n"
        artifact = {"path": "demo/hello-1.0.txt",
                    "info": {"length": len(content),
                             "hashes": {"sha256": hashlib.sha256(content).hexdigest()}}}
        run_task("/api/v1/artifacts/", {"artifacts": [artifact]})
        print("==> added demo/hello-1.0.txt")
        root_file = os.path.join(data, "trusted-root.json")
        with urllib.request.urlopen(base + "/metadata/1.root.json") as r, open(root_file, "wb") as f:
            f.write(r.read())
        report = subprocess.run(
            [sys.executable, os.path.join(root, "tests/python/verify.py"), base + "/metadata",
             root_file, "--present", "demo/hello-1.0.txt"],
            check=True, capture_output=True, text=True).stdout
        print("==> python-tuf verified it:", report.strip())
    print(f"""
Demo repository at {base}/metadata/ (API docs at {base}/docs). Try:
  curl -s -X POST {base}/api/v1/artifacts/ -H 'content-type: application/json' \\
    -d '{{"artifacts":[{{"path":"demo/other-2.0.txt","info":{{"length":5,"hashes":{{"sha256":"{'ab' * 32}"}}}}}}]}}'
  python3 tests/python/verify.py {base}/metadata {os.path.join(data, 'trusted-root.json')} --present demo/other-2.0.txt
Ctrl-C stops the service; `rm -rf var/demo` starts over.""", flush=True)
    server.wait()
except KeyboardInterrupt:
    server.terminate()
    server.wait()

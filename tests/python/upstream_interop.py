"""The official RSTUF CLI (PyPI `repository-service-tuf`) and ours on the
same payload files:

  1. the official `rstuf admin send bootstrap FILE` sends a DAS ceremony
     payload that OUR CLI wrote;
  2. the official `rstuf admin metadata sign --in RESPONSE --dry-run --out
     FILE` (interactive, in a real pseudo terminal) writes a sign payload
     from a saved GET /api/v1/metadata/sign/ response, without sending it;
     OUR CLI then sends that file (done by the caller);
  3. the official `rstuf admin import-artifacts --db-uri DB --csv CSV`
     writes artifact rows straight into our PostgreSQL tables (with
     SQLAlchemy, as upstream does), then asks our API to publish them.

usage: upstream_interop.py bootstrap SERVER PAYLOAD WORK
       upstream_interop.py sign RESPONSE KEY_PEM KEY_NAME OUT WORK
       upstream_interop.py import SERVER DB_URI CSV WORK
Prints a JSON report; exits non-zero with the CLI's output on failure.
"""
import json, os, subprocess, sys

import pexpect
from cryptography.hazmat.primitives import serialization as s


def env_for(work):
    os.makedirs(work, exist_ok=True)
    return os.path.join(work, "rstuf.yml"), dict(os.environ, HOME=work, COLUMNS="200", TERM="xterm")


def bootstrap(server, payload, work):
    config, env = env_for(work)
    p = subprocess.run(["rstuf", "-c", config, "admin", "--api-server", server, "send", "bootstrap", payload],
                       capture_output=True, text=True, env=env, timeout=300)
    if p.returncode != 0:
        sys.exit(f"official `rstuf admin send bootstrap` exited {p.returncode}:\n{p.stdout}{p.stderr}")
    print(json.dumps({"output": p.stdout + p.stderr}))


def sign(response, key_pem, key_name, out, work):
    config, env = env_for(work)
    # The official CLI insists on a password for PEM keys: re-encrypt the key.
    password = "correct horse battery staple"
    with open(key_pem, "rb") as f:
        key = s.load_pem_private_key(f.read(), None)
    encrypted = os.path.join(work, "signing-key.pem")
    with open(encrypted, "wb") as f:
        f.write(key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8,
                                  s.BestAvailableEncryption(password.encode())))
    child = pexpect.spawn("rstuf", ["-c", config, "admin", "metadata", "sign", "--in", response,
                                    "--dry-run", "--out", out],
                          env=env, encoding="utf-8", timeout=120, dimensions=(50, 200))
    log = []
    child.logfile_read = type("L", (), {"write": lambda _, d: log.append(d), "flush": lambda _: None})()
    try:
        child.expect("Select a role to sign")
        child.expect("root")
        child.send("\r")
        child.expect("Select key for signing")
        child.expect(key_name)  # the one key that has not signed
        child.send("\r")
        child.expect("Key PEM File")
        child.send("\x1b[B")
        child.send("\r")
        child.expect("private key")
        child.expect([key_name, pexpect.TIMEOUT], timeout=5)
        child.send("\x1b[1;1R")
        child.send(encrypted + "\r")
        child.expect("password")
        child.sendline(password)
        child.expect(pexpect.EOF, timeout=120)
    except pexpect.ExceptionPexpect as e:
        sys.exit(f"official `rstuf admin metadata sign` did not go as expected ({type(e).__name__}); "
                 f"terminal so far:\n{''.join(log)[-3000:]}")
    finally:
        child.close()
    if child.exitstatus != 0 or not os.path.exists(out):
        sys.exit(f"official `rstuf admin metadata sign` exited {child.exitstatus} without {out}:\n{''.join(log)[-3000:]}")
    print(json.dumps({"output": "".join(log)}))


def import_artifacts(server, db_uri, csv, work):
    config, env = env_for(work)
    p = subprocess.run(["rstuf", "-c", config, "admin", "--api-server", server, "import-artifacts",
                        "--db-uri", db_uri, "--csv", csv],
                       capture_output=True, text=True, env=env, timeout=600)
    if p.returncode != 0 or "Traceback" in p.stdout + p.stderr:
        sys.exit(f"official `rstuf admin import-artifacts` exited {p.returncode}:\n{p.stdout}{p.stderr}")
    print(json.dumps({"output": p.stdout + p.stderr}))


if __name__ == "__main__":
    {"bootstrap": bootstrap, "sign": sign, "import": import_artifacts}[sys.argv[1]](*sys.argv[2:])

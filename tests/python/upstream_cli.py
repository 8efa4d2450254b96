"""Drive the official RSTUF CLI (PyPI `repository-service-tuf`, command
`rstuf`) against a running server, the way an administrator would:

  1. `rstuf admin send bootstrap PAYLOAD` (a DAS payload: 1 of 2 root
     signatures), non-interactive;
  2. `rstuf admin metadata sign`, interactive, through a real pseudo
     terminal (pexpect): select the role, the missing key, "Key PEM File",
     the key path and its password;
  3. `rstuf artifact add FILE -p PREFIX` and `rstuf task info TASK_ID`.

Prints a JSON report: {"artifact": path, "task_id": ..., "outputs": {...}}.
Exits non-zero, with the CLI's output, when any step fails.

usage: upstream_cli.py SERVER PAYLOAD ROOT_KEY_PEM ARTIFACT_FILE PREFIX WORKDIR
"""
import json, os, re, subprocess, sys

import pexpect
from cryptography.hazmat.primitives import serialization as s

server, payload, key_pem, artifact, prefix, work = sys.argv[1:7]
os.makedirs(work, exist_ok=True)
config = os.path.join(work, "rstuf.yml")  # keep the user's ~/.rstuf.yml out of it
env = dict(os.environ, HOME=work, COLUMNS="200", TERM="xterm")
outputs = {}


def run(name, args):
    p = subprocess.run(["rstuf", "-c", config, *args], capture_output=True,
                       text=True, env=env, timeout=300)
    outputs[name] = p.stdout + p.stderr
    if p.returncode != 0:
        sys.exit(f"`rstuf {' '.join(args)}` exited {p.returncode}:\n{outputs[name]}")
    return outputs[name]


# 1. Bootstrap with the ceremony payload (DAS: below the root threshold).
run("bootstrap", ["admin", "--api-server", server, "send", "bootstrap", payload])

# The upstream CLI insists on a password for PEM keys: re-encrypt the key.
password = "correct horse battery staple"
with open(key_pem, "rb") as f:
    key = s.load_pem_private_key(f.read(), None)
encrypted = os.path.join(work, "root-2-encrypted.pem")
with open(encrypted, "wb") as f:
    f.write(key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8,
                              s.BestAvailableEncryption(password.encode())))

# 2. Sign interactively, as the second key holder.
child = pexpect.spawn("rstuf", ["-c", config, "admin", "--api-server", server,
                                "metadata", "sign"],
                      env=env, encoding="utf-8", timeout=120, dimensions=(50, 200))
log = []
child.logfile_read = type("L", (), {"write": lambda _, d: log.append(d), "flush": lambda _: None})()
try:
    child.expect("Select a role to sign")
    child.expect("root")  # the only pending role
    child.send("\r")
    child.expect("Select key for signing")
    child.expect("root-2")  # the one key that has not signed
    child.send("\r")
    child.expect("Key PEM File")  # HSM first, then Key PEM File
    child.send("\x1b[B")
    child.send("\r")
    # A prompt_toolkit prompt (with ANSI styling between the words) that
    # first asks the terminal for the cursor position: answer it.
    child.expect("private key")
    child.expect(["root-2", pexpect.TIMEOUT], timeout=5)
    child.send("\x1b[1;1R")
    child.send(encrypted + "\r")
    child.expect("password")
    child.sendline(password)
    child.expect(pexpect.EOF, timeout=300)
except pexpect.ExceptionPexpect as e:
    sys.exit(f"`rstuf admin metadata sign` did not go as expected ({type(e).__name__}); "
             f"terminal so far:\n{''.join(log)[-3000:]}")
finally:
    child.close()
    outputs["sign"] = "".join(log)
if child.exitstatus != 0 or "Metadata Signed and sent to the API" not in outputs["sign"]:
    sys.exit(f"`rstuf admin metadata sign` exited {child.exitstatus}:\n{outputs['sign']}")

# 3. Add an artifact and follow its task.
out = run("artifact_add", ["artifact", "add", artifact, "-p", prefix, "--api-server", server])
m = re.search(r"RSTUF task ID \(use to check its status\) is: ([0-9a-f]+)", out)
if not m:
    sys.exit(f"no task id in `rstuf artifact add` output:\n{out}")
task_id = m.group(1)
run("task_info", ["task", "info", task_id, "--api-server", server])
print(json.dumps({"artifact": f"{prefix}/{os.path.basename(artifact)}",
                  "task_id": task_id, "outputs": outputs}))

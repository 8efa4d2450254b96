"""Drive the official RSTUF CLI's interactive offline commands (PyPI
`repository-service-tuf`, command `rstuf`) through a real pseudo terminal
(pexpect) to write payload files, with no server:

  ceremony: `rstuf admin ceremony --dry-run --out OUT_PAYLOAD` answers the
      online role expiries, "Bins" delegations with --bins hash bins, the
      root expiry and threshold, adds every --root-key from its public key
      file ("Key PEM File"), the online key from --online-pub ("Key PEM
      File", so its URI is `fn:<keyid>`), then signs root with the first
      --sign root keys (default: the threshold). Fewer than the threshold
      is a DAS ceremony: the CLI offers "continue" once a key has signed.
  update: `rstuf admin metadata update --in CURRENT_ROOT_JSON --dry-run
      --out OUT_PAYLOAD` writes a root version+1 update payload: bumps the
      expiry (unless --keep-expiry), optionally changes the threshold, adds
      and removes root keys, rotates the online key (--new-online-pub),
      then signs with each --sign-key in turn, stopping ("continue") when
      they are used up or when the CLI says the root is fully signed
      (for the old root's threshold and keys, and the new one's).
      CURRENT_ROOT_JSON is a root metadata file, or a ceremony/update
      payload (its metadata.root is used).

usage: upstream_ceremony.py ceremony OUT_PAYLOAD WORK
           --root-key [PRIV_PEM]:[PUB_PEM]:NAME[:PASSWORD] (twice or more)
           --threshold N --online-pub PUB_PEM [--online-name NAME]
           [--sign N] [--bins N] [--expiry-days D] [--expiry ROLE=D ...]
       upstream_ceremony.py update CURRENT_ROOT_JSON OUT_PAYLOAD WORK
           --sign-key PRIV_PEM:NAME[:PASSWORD] ...
           [--new-online-pub PUB_PEM[:NAME]] [--add-root-key PUB_PEM:NAME ...]
           [--remove-root-key NAME ...] [--threshold N]
           [--expiry-days D | --keep-expiry]

An empty PUB_PEM is derived from PRIV_PEM (written under WORK/keys); an
empty PRIV_PEM is fine for a key that does not sign. NAME is the key name
(`x-rstuf-key-name`). The official CLI insists on a password for PEM
private keys (click.prompt refuses an empty answer): unencrypted keys are
re-encrypted under WORK/keys with a random password; give PASSWORD for a
key that is already encrypted.

Prints a JSON report: {"payload", "online_keyid", "online_uri",
"online_name", "root_keyids", "root_names", "threshold", "signed_by",
"version", ... "transcript"}. Exits non-zero, with the terminal
transcript, when the dialogue does not go as expected.
"""
import argparse, json, os, re, secrets, sys, time

import pexpect
from cryptography.hazmat.primitives import serialization as s
from securesystemslib.signer import SSlibKey

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[@-_]")
# What the CLI prints when an answer was refused or a step failed.
FAILURES = ["Cannot load key", "Cannot sign metadata", "Failed to verify", "Key already in use",
            "Key name already in use", "Traceback", "Error: ", "Please enter a valid",
            "Please select one of", "Please enter threshold above 1", "Key name cannot be empty",
            "Aborted!"]
A = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"  # rich highlights numbers and quoted strings
CONFIRM = r" to confirm\)"  # the instructions line under every beaupy menu
ROOT_SIGNERS = ["HSM", "Key PEM File", "Sigstore"]
ONLINE_SIGNERS = ["AWS KMS", "Google Cloud KMS", "Azure KMS", "HashiCorp Vault", "Key PEM File"]


def plain(text):
    return ANSI.sub("", text).replace("\r", "")


class Dialogue:
    """One `rstuf` run in a pseudo terminal, with its transcript."""

    def __init__(self, args, work):
        os.makedirs(work, exist_ok=True)
        env = dict(os.environ, HOME=work, COLUMNS="200", TERM="xterm",
                   PROMPT_TOOLKIT_NO_CPR="1")  # no cursor position request
        env.pop("NO_COLOR", None)
        self.args = args
        self.log = []
        self.child = pexpect.spawn("rstuf", ["-c", os.path.join(work, "rstuf.yml"), *args],
                                   cwd=work, env=env, encoding="utf-8", timeout=60,
                                   dimensions=(50, 200))
        self.child.logfile_read = type("L", (), {"write": lambda _, d: self.log.append(d),
                                                  "flush": lambda _: None})()

    def transcript(self):
        return plain("".join(self.log))

    def fail(self, why):
        try:
            self.child.expect(pexpect.EOF, timeout=2)
        except pexpect.ExceptionPexpect:
            pass
        self.child.close(force=True)
        sys.exit(f"official `rstuf {' '.join(self.args)}`: {why}; terminal so far:\n"
                 f"{self.transcript()[-5000:]}")

    def expect(self, *patterns, timeout=None):
        """Wait for one of the regexes; return (index, match). Fail on a CLI error."""
        try:
            i = self.child.expect([*patterns, *map(re.escape, FAILURES), pexpect.EOF],
                                  timeout=timeout or 60)
        except pexpect.TIMEOUT:
            self.fail(f"timed out waiting for {' | '.join(patterns)}")
        if i >= len(patterns):
            said = "exit" if i == len(patterns) + len(FAILURES) else repr(FAILURES[i - len(patterns)])
            self.fail(f"{said} while waiting for {' | '.join(patterns)}")
        return i, self.child.match

    def before(self):
        return plain(self.child.before)

    def answer(self, pattern, text):
        """A rich/click line prompt (the terminal is in cooked mode)."""
        self.expect(pattern)
        self.child.sendline(str(text))

    def secret(self, pattern, text):
        # click echoes the prompt text, then getpass() turns echo off with
        # TCSAFLUSH, discarding what was typed before: let it get there.
        self.expect(pattern)
        time.sleep(0.5)
        self.child.sendline(text)

    def path(self, pattern, path):
        """A prompt_toolkit path prompt (with a completer): type, then Enter."""
        self.expect(pattern)
        time.sleep(0.3)
        self.child.send(os.path.abspath(path) + "\r")

    def select(self, options, choice, title=None):
        """A beaupy menu: the cursor starts on the first option. Each key read
        puts the terminal in raw mode with TCSAFLUSH, so wait for the menu
        and send all the keys in one write."""
        if title:
            self.expect(title)
        self.expect(CONFIRM)
        if choice not in options:
            self.fail(f"{choice!r} is not offered (menu: {options})")
        time.sleep(0.3)
        self.child.send("\x1b[B" * options.index(choice) + "\r")

    def finish(self, out):
        self.expect(r"Saved result to", timeout=120)
        try:
            self.child.expect(pexpect.EOF, timeout=60)
        except pexpect.ExceptionPexpect:
            self.fail("did not exit")
        self.child.close()
        if self.child.exitstatus != 0 or not os.path.exists(out):
            self.fail(f"exited {self.child.exitstatus} without writing {out}")


def public_key(path):
    with open(path, "rb") as f:
        return SSlibKey.from_crypto(s.load_pem_public_key(f.read()))


def prepare_private(priv, name, password, work):
    """Return (path, password) the CLI can load: it needs an encrypted key."""
    with open(priv, "rb") as f:
        data = f.read()
    if password is not None:
        return priv, password
    try:
        key = s.load_pem_private_key(data, None)
    except TypeError:
        sys.exit(f"{priv} is encrypted: give its password ({name}:PASSWORD)")
    password = secrets.token_hex(12)
    os.makedirs(os.path.join(work, "keys"), exist_ok=True)
    path = os.path.join(work, "keys", f"{name}-encrypted.pem")
    with open(path, "wb") as f:
        f.write(key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8,
                                  s.BestAvailableEncryption(password.encode())))
    return path, password


def derive_public(priv, name, work):
    with open(priv, "rb") as f:
        key = s.load_pem_private_key(f.read(), None)
    os.makedirs(os.path.join(work, "keys"), exist_ok=True)
    path = os.path.join(work, "keys", f"{name}.pub")
    with open(path, "wb") as f:
        f.write(key.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo))
    return path


def sign_root(d, signers):
    """_add_root_signatures_prompt: sign with each (name, path, password) in
    turn; "continue" when they are used up (if the CLI offers it)."""
    signed = []
    remaining = list(signers)
    while True:
        i, m = d.expect(r"Metadata is fully signed\.", r"Select a key for signing( or continue)?:")
        if i == 0:
            break
        # The menu lists the names printed under each "Info: N signature(s)
        # missing from any of:" (old root's keys, then the new root's), once.
        names = []
        for block in re.findall(r"missing from any of:\n((?:- .*\n)*)", d.before()):
            for line in block.splitlines():
                if line[2:].strip() not in names:
                    names.append(line[2:].strip())
        options = (["continue"] if m.group(1) else []) + names
        if not remaining:
            if not m.group(1):
                d.fail("no signing key left and the CLI offers no 'continue'")
            d.select(options, "continue")
            break
        name, path, password = remaining.pop(0)
        d.select(options, name)
        d.select(["HSM", "Key PEM File"], "Key PEM File", title=r"Key PEM File")
        d.path(r"path\S* to encrypted private key", path)
        d.secret(r"password\S* to encrypted private key", password)
        d.expect(r"Signed metadata with key")
        signed.append(name)
    if remaining:
        d.fail(f"the root was fully signed before {[n for n, _, _ in remaining]} signed")
    return signed


def add_key_from_file(d, pub, name):
    d.select(ROOT_SIGNERS, "Key PEM File", title=r"Select a key type:")
    d.path(r"PUBLIC\S* key:", pub)
    d.answer(r"Please enter key name", name)
    d.expect(r"Added key ")


def key_menu_state(d):
    """The root keys dialogue: (threshold met?, current key names)."""
    _, m = d.expect(rf"Info: (?:{A}\d+{A} keys? missing for threshold|Threshold {A}\d+{A} (is met))")
    blocks = re.findall(r"Current signing keys:\n((?:- '.*'\n)*)", d.before())
    names = [line[3:-1] for line in blocks[-1].splitlines()] if blocks else []
    return bool(m.group(1)), names


def configure_online_key(d, pub, name):
    d.select(ONLINE_SIGNERS, "Key PEM File", title=r"Select Online Key type:")
    d.path(r"PUBLIC\S* key:", pub)
    d.answer(r"Please enter key name", name)
    d.expect(r"Expected private key file name is: ")


def expiry(d, role, days):
    d.answer(rf"days until expiry for '{role}' role", days)


def report(payload_path, d, **extra):
    with open(payload_path) as f:
        payload = json.load(f)
    root = payload["metadata"]["root"]["signed"]
    online = root["roles"]["timestamp"]["keyids"][0]
    keys = root["keys"]
    result = {"payload": payload_path,
              "online_keyid": online,
              "online_uri": keys[online].get("x-rstuf-online-key-uri"),
              "online_name": keys[online].get("x-rstuf-key-name"),
              "root_keyids": root["roles"]["root"]["keyids"],
              "root_names": {k: keys[k].get("x-rstuf-key-name") for k in root["roles"]["root"]["keyids"]},
              "threshold": root["roles"]["root"]["threshold"],
              "version": root["version"],
              "expires": root["expires"],
              "signatures": [sig["keyid"] for sig in payload["metadata"]["root"]["signatures"]],
              **extra,
              "transcript": d.transcript()}
    print(json.dumps(result))


def ceremony(a):
    keys = []
    for spec in a.root_key:
        parts = spec.split(":", 3)
        if len(parts) < 3 or not parts[2]:
            sys.exit(f"--root-key {spec}: expected [PRIV_PEM]:[PUB_PEM]:NAME[:PASSWORD]")
        priv, pub, name = parts[:3]
        if not pub:
            if not priv:
                sys.exit(f"--root-key {spec}: give PRIV_PEM or PUB_PEM")
            pub = derive_public(priv, name, a.work)
        keys.append((priv, pub, name, parts[3] if len(parts) > 3 else None))
    sign = a.threshold if a.sign is None else a.sign
    if len(keys) < 2 or a.threshold < 2 or a.threshold > len(keys):
        sys.exit("the CLI needs a root threshold of at least 2, and at least that many --root-key")
    if not 1 <= sign <= a.threshold:
        sys.exit("--sign must be 1..threshold: the CLI stops asking once the threshold is met, "
                 "and offers no 'continue' before a first signature")
    if a.bins not in [2 ** i for i in range(1, 15)]:
        sys.exit("--bins must be a power of two from 2 to 16384 (the CLI's choices)")
    signers = []
    for priv, _, name, password in keys[:sign]:
        if not priv:
            sys.exit(f"root key {name} must sign: give its PRIV_PEM")
        signers.append((name, *prepare_private(priv, name, password, a.work)))
    days = {"root": 365, "timestamp": 1, "snapshot": 1, "targets": 365, "bins": 1}
    if a.expiry_days:
        days = dict.fromkeys(days, a.expiry_days)
    for spec in a.expiry:
        role, _, n = spec.partition("=")
        if role not in days or not n.isdigit():
            sys.exit(f"--expiry {spec}: expected ROLE=DAYS, ROLE one of {list(days)}")
        days[role] = int(n)

    d = Dialogue(["admin", "ceremony", "--dry-run", "--out", a.out], a.work)
    for role in ("timestamp", "snapshot", "targets"):
        expiry(d, role, days[role])
    d.select(["Bins (online key only)", "Custom Delegations (online/offline key)"],
             "Bins (online key only)", title=r"online/offline key\)")
    expiry(d, "bins", days["bins"])
    d.answer(r"Please enter number of delegated hash bins", a.bins)
    expiry(d, "root", days["root"])
    d.answer(r"Please enter 'root' threshold", a.threshold)
    for n, (_, pub, name, _) in enumerate(keys):
        if n:  # the first key is added without asking
            met, _ = key_menu_state(d)
            d.select((["continue"] if met else []) + ["add", "remove"], "add")
        add_key_from_file(d, pub, name)
    met, _ = key_menu_state(d)
    d.select((["continue"] if met else []) + ["add", "remove"], "continue")
    configure_online_key(d, a.online_pub, a.online_name)
    signed = sign_root(d, signers)
    d.finish(a.out)
    report(a.out, d, signed_by=signed, bins=a.bins, expiry_days=days,
           das=sign < a.threshold)


def update(a):
    work = a.work
    os.makedirs(work, exist_ok=True)
    with open(a.current) as f:
        current = json.load(f)
    if "signed" not in current:  # a ceremony or update payload
        current = current["metadata"]["root"]
    current_path = os.path.join(work, "current-root.json")
    with open(current_path, "w") as f:
        json.dump(current, f)
    signers = []
    for spec in a.sign_key:
        parts = spec.split(":", 2)
        if len(parts) < 2 or not parts[1]:
            sys.exit(f"--sign-key {spec}: expected PRIV_PEM:NAME[:PASSWORD]")
        signers.append((parts[1], *prepare_private(parts[0], parts[1], parts[2] if len(parts) > 2 else None, work)))
    adds = []
    for spec in a.add_root_key:
        pub, _, name = spec.partition(":")
        if not name:
            sys.exit(f"--add-root-key {spec}: expected PUB_PEM:NAME")
        adds.append((pub, name))
    online = None
    if a.new_online_pub:
        pub, _, name = a.new_online_pub.partition(":")
        online = (pub, name or f"online-{public_key(pub).keyid[:8]}")

    d = Dialogue(["admin", "metadata", "update", "--in", current_path, "--dry-run", "--out", a.out], work)
    i, _ = d.expect(r"Do you want to change the expiry date\?", r"days until expiry for 'root' role")
    if i == 0:  # not expired yet: asked first
        d.child.sendline("n" if a.keep_expiry else "y")
        if not a.keep_expiry:
            expiry(d, "root", a.expiry_days)
    else:  # expired: the days prompt comes straight away
        d.child.sendline(str(a.expiry_days))
    d.answer(r"Do you want to change the threshold\?", "n" if a.threshold is None else "y")
    if a.threshold is not None:
        d.answer(r"Please enter 'root' threshold", a.threshold)
    for pub, name in adds:
        met, _ = key_menu_state(d)
        d.select((["continue"] if met else []) + ["add", "remove"], "add")
        add_key_from_file(d, pub, name)
    for name in a.remove_root_key:
        met, names = key_menu_state(d)
        d.select((["continue"] if met else []) + ["add", "remove"], "remove")
        d.select([f"{n}" for n in names], name, title=r"Select a key to remove:")
        d.expect(r"Removed key ")
    met, _ = key_menu_state(d)
    if not met:
        d.fail("the new root has fewer keys than its threshold: the CLI will not continue")
    d.select(["continue", "add", "remove"], "continue")
    d.answer(r"Do you want to change the online key\?", "y" if online else "n")
    if online:
        configure_online_key(d, *online)
    signed = sign_root(d, signers)
    d.finish(a.out)
    report(a.out, d, signed_by=signed, previous_version=current["signed"]["version"],
           added=[n for _, n in adds], removed=a.remove_root_key)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("ceremony")
    c.add_argument("out")
    c.add_argument("work")
    c.add_argument("--root-key", action="append", required=True, metavar="[PRIV_PEM]:[PUB_PEM]:NAME[:PASSWORD]")
    c.add_argument("--threshold", type=int, required=True)
    c.add_argument("--online-pub", required=True)
    c.add_argument("--online-name", default="online")
    c.add_argument("--sign", type=int)
    c.add_argument("--bins", type=int, default=256)
    c.add_argument("--expiry-days", type=int, help="days until expiry for every role")
    c.add_argument("--expiry", action="append", default=[], metavar="ROLE=DAYS")
    u = sub.add_parser("update")
    u.add_argument("current")
    u.add_argument("out")
    u.add_argument("work")
    u.add_argument("--sign-key", action="append", default=[], metavar="PRIV_PEM:NAME[:PASSWORD]")
    u.add_argument("--new-online-pub", metavar="PUB_PEM[:NAME]")
    u.add_argument("--add-root-key", action="append", default=[], metavar="PUB_PEM:NAME")
    u.add_argument("--remove-root-key", action="append", default=[], metavar="NAME")
    u.add_argument("--threshold", type=int)
    u.add_argument("--expiry-days", type=int, default=365)
    u.add_argument("--keep-expiry", action="store_true")
    a = p.parse_args()
    a.out = os.path.abspath(a.out)
    a.work = os.path.abspath(a.work)
    {"ceremony": ceremony, "update": update}[a.mode](a)

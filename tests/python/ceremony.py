"""Make a bootstrap (ceremony) payload the way an RSTUF key ceremony does.

Root keys are ed25519, threshold 2; the online key is ed25519 with an
`fn:` URI. Keyids are spec-exact (SHA-256 of the canonical key JSON,
custom fields included). Private keys are written to --out (root) and
--key-dir (online key, as the keyvault-file plugin reads it).

usage: ceremony.py --out DIR --key-dir DIR [--sign N] [--layout succinct|classic|custom] [--bins N]
                   [--online-vault-key NAME:ED25519_PUBLIC_HEX]
                   [--online-ecdsa-key URI=PUBLIC_PEM_FILE]  (e.g. awskms:<key id>=kms.pem)
                   [--expiration-days D] [--from-root FILE --version V]  (root rotation payload)
"""
import argparse, datetime, hashlib, json, os
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import ed25519
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Key, Metadata, Root

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
p.add_argument("--key-dir", required=True)
p.add_argument("--sign", type=int, default=2)
p.add_argument("--layout", default="succinct")
p.add_argument("--bins", type=int, default=16)
p.add_argument("--expiration-days", type=int, default=1)
p.add_argument("--from-root", help="current root.json: make an update payload for the next version")
p.add_argument("--new-online-key", action="store_true")
p.add_argument("--online-vault-key", metavar="NAME:ED25519_PUBLIC_HEX",
               help="use a Vault/OpenBao transit ed25519 key (hv:NAME) as the online key")
p.add_argument("--online-ecdsa-key", metavar="URI=PUBLIC_PEM_FILE",
               help="use an ecdsa-sha2-nistp256 key held elsewhere (e.g. awskms:<key id>) as the online key")
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
os.makedirs(a.key_dir, exist_ok=True)


def pem(priv):
    return priv.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption())


def load(path):
    with open(path, "rb") as f:
        return s.load_pem_private_key(f.read(), None)


def make_key(priv, extra):
    pub = priv.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw).hex()
    d = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": pub}, **extra}
    keyid = hashlib.sha256(encode_canonical(d).encode()).hexdigest()
    return keyid, Key.from_dict(keyid, dict(d))


def root_key(i):
    path = os.path.join(a.out, f"root{i}.pem")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(pem(ed25519.Ed25519PrivateKey.generate()))
    priv = load(path)
    return priv, make_key(priv, {"x-rstuf-key-name": f"root-{i}"})


def online_key(tag):
    if a.online_ecdsa_key:
        uri, pem_file = a.online_ecdsa_key.rsplit("=", 1)
        with open(pem_file) as f:
            public = f.read()
        d = {"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": public},
             "x-rstuf-key-name": f"online-{tag}", "x-rstuf-online-key-uri": uri}
        keyid = hashlib.sha256(encode_canonical(d).encode()).hexdigest()
        return keyid, Key.from_dict(keyid, dict(d))
    if a.online_vault_key:
        name, public = a.online_vault_key.split(":", 1)
        d = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": public},
             "x-rstuf-key-name": f"online-{tag}", "x-rstuf-online-key-uri": f"hv:{name}"}
        keyid = hashlib.sha256(encode_canonical(d).encode()).hexdigest()
        return keyid, Key.from_dict(keyid, dict(d))
    priv = ed25519.Ed25519PrivateKey.generate()
    base = {"keytype": "ed25519", "scheme": "ed25519",
            "keyval": {"public": priv.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw).hex()}}
    fname = hashlib.sha256(encode_canonical(base).encode()).hexdigest()
    with open(os.path.join(a.key_dir, fname), "wb") as f:
        f.write(pem(priv))
    return make_key(priv, {"x-rstuf-key-name": f"online-{tag}", "x-rstuf-online-key-uri": f"fn:{fname}"})


roots = [root_key(i) for i in (1, 2)]
if a.from_root:
    with open(a.from_root) as f:
        md = Metadata.from_dict(json.load(f))
    root = md.signed
    root.version += 1
    md.signatures.clear()
    if a.new_online_key:
        old = root.roles["timestamp"].keyids[0]
        keyid, key = online_key(f"v{root.version}")
        for role in ("timestamp", "snapshot", "targets"):
            root.revoke_key(old, role)
            root.add_key(key, role)
else:
    root = Root(expires=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(days=365))
    root.consistent_snapshot = True
    for _, (keyid, key) in roots:
        root.add_key(key, "root")
    root.roles["root"].threshold = 2
    keyid, key = online_key("v1")
    for role in ("timestamp", "snapshot", "targets"):
        root.add_key(key, role)
    md = Metadata(root)

for priv, (keyid, key) in roots[: a.sign]:
    md.sign(CryptoSigner(priv, key), append=True)

if a.from_root:
    payload = {"metadata": {"root": md.to_dict()}}
else:
    d = a.expiration_days
    roles = {"root": {"expiration": 365}, "timestamp": {"expiration": d}, "snapshot": {"expiration": d},
             "targets": {"expiration": 365}, "bins": None, "delegations": None}
    if a.layout == "custom":
        roles["delegations"] = {"keys": {}, "roles": [
            {"name": "production", "terminating": True, "keyids": [], "threshold": 1,
             "paths": ["production/*"], "x-rstuf-expire-policy": d},
            {"name": "default", "terminating": True, "keyids": [], "threshold": 1,
             "paths": ["*", "*/*"], "x-rstuf-expire-policy": d}]}
    else:
        roles["bins"] = {"expiration": d, "number_of_delegated_bins": a.bins}
        if a.layout == "classic":
            roles["bins"]["x-rstuf-bins-layout"] = "classic"
    payload = {"settings": {"roles": roles}, "metadata": {"root": md.to_dict()}, "timeout": 300}
print(json.dumps(payload))

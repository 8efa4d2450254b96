"""Sign metadata pending signatures (from GET /api/v1/metadata/sign) with a
key file and print the sign payload, as `rstuf admin metadata sign` does.

usage: sign.py PENDING_RESPONSE_JSON KEY_PEM [ROLE]

ROLE defaults to root; for a delegated role the key is looked up in the
trusted targets' delegations.
"""
import json, sys
from cryptography.hazmat.primitives import serialization as s
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, Targets

response = json.loads(open(sys.argv[1]).read())
priv = s.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
role = sys.argv[3] if len(sys.argv) > 3 else "root"
pending = response["data"]["metadata"][role]
md = Metadata.from_dict(json.loads(json.dumps(pending)))
if role == "root":
    keys = md.signed.keys
else:
    trusted = response["data"]["metadata"]["trusted_targets"]
    keys = Metadata[Targets].from_dict(json.loads(json.dumps(trusted))).signed.delegations.keys
pub = priv.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw).hex()
keyid = key = None
for kid, k in keys.items():
    if k.keyval.get("public") == pub:
        keyid, key = kid, k
if key is None:
    sys.exit(f"this key is not a key of {role}")
sig = CryptoSigner(priv, key).sign(md.signed_bytes)
print(json.dumps({"role": role, "signature": {"keyid": keyid, "sig": sig.signature}}))

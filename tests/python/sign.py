"""Sign pending root metadata (from GET /api/v1/metadata/sign) with a root
key file and print the sign payload, as `rstuf admin metadata sign` does.

usage: sign.py PENDING_RESPONSE_JSON ROOT_KEY_PEM
"""
import hashlib, json, sys
from cryptography.hazmat.primitives import serialization as s
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Key, Metadata

response = json.loads(open(sys.argv[1]).read())
priv = s.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
pending = response["data"]["metadata"]["root"]
md = Metadata.from_dict(json.loads(json.dumps(pending)))
pub = priv.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw).hex()
keyid = key = None
for kid, k in md.signed.keys.items():
    if k.keyval.get("public") == pub:
        keyid, key = kid, k
if key is None:
    sys.exit("this key is not a root key of the pending metadata")
sig = CryptoSigner(priv, key).sign(md.signed_bytes)
print(json.dumps({"role": "root", "signature": {"keyid": keyid, "sig": sig.signature}}))

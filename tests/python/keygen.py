"""Generate an ed25519 key: write the private key (PKCS#8 PEM) to PATH and
print its TUF public key as {"keyid": …, "key": …}.

usage: keygen.py PATH [NAME]
"""
import hashlib, json, sys
from securesystemslib.formats import encode_canonical
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import SSlibKey

priv = Ed25519PrivateKey.generate()
open(sys.argv[1], "wb").write(
    priv.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption())
)
key = SSlibKey.from_crypto(priv.public_key())
value = key.to_dict()
if len(sys.argv) > 2:
    value["x-rstuf-key-name"] = sys.argv[2]
keyid = hashlib.sha256(encode_canonical(value).encode()).hexdigest()
print(json.dumps({"keyid": keyid, "key": value}))

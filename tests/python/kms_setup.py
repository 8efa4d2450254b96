"""Set up and check AWS KMS keys on a moto server, with boto3.

  kms_setup.py setup ENDPOINT
      Create an IAM user allowed kms:*, its access key, and KMS keys
      (ECC_NIST_P256 and RSA_2048 for signing, one symmetric key that the
      plugin must skip, an alias of the ECC key). Prints JSON.
  kms_setup.py public ENDPOINT ACCESS_KEY SECRET KEY_ID
      Print the key's public half as PEM SubjectPublicKeyInfo.
  kms_setup.py bucket ENDPOINT ACCESS_KEY SECRET BUCKET
      Create an S3 bucket as that user (the user may also use s3:*).
  kms_setup.py verify ENDPOINT ACCESS_KEY SECRET KEY_ID MESSAGE_HEX SIGNATURE_HEX
      Verify a signature with the key's public half from GetPublicKey,
      using python `cryptography` (RSA-PSS with any salt length, as
      securesystemslib does). Prints "ok" or exits 1.
"""
import json, sys
import boto3
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

REGION = "us-east-1"


def client(service, endpoint, key, secret):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret)


def setup(endpoint):
    iam = client("iam", endpoint, "bootstrap", "bootstrap")
    iam.create_user(UserName="rstuf-signer")
    key = iam.create_access_key(UserName="rstuf-signer")["AccessKey"]
    iam.put_user_policy(UserName="rstuf-signer", PolicyName="kms", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kms:*", "s3:*"], "Resource": "*"}]}))
    kms = client("kms", endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    keys = {}
    for spec, usage in [("ECC_NIST_P256", "SIGN_VERIFY"), ("RSA_2048", "SIGN_VERIFY"),
                        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")]:
        keys[spec] = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/rstuf-online", TargetKeyId=keys["ECC_NIST_P256"])
    print(json.dumps({"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"],
                      "keys": keys, "alias": "alias/rstuf-online"}))


def public(endpoint, key, secret, key_id):
    kms = client("kms", endpoint, key, secret)
    der = kms.get_public_key(KeyId=key_id)["PublicKey"]
    pem = serialization.load_der_public_key(der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    print(pem.decode(), end="")


def bucket(endpoint, key, secret, name):
    client("s3", endpoint, key, secret).create_bucket(Bucket=name)
    print("ok")


def verify(endpoint, key, secret, key_id, message_hex, signature_hex):
    kms = client("kms", endpoint, key, secret)
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    message, signature = bytes.fromhex(message_hex), bytes.fromhex(signature_hex)
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    elif isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, message,
                      padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
                      hashes.SHA256())
    else:
        sys.exit(f"unexpected key type {type(public)}")
    print("ok")


if __name__ == "__main__":
    {"setup": setup, "public": public, "bucket": bucket, "verify": verify}[sys.argv[1]](*sys.argv[2:])

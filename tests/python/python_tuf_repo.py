"""Write a TUF repository with python-tuf's own repository tooling.

usage: python_tuf_repo.py OUT_DIR

A file-backed `tuf.repository.Repository` (python-tuf's abstract
repository class, as its examples/repository uses it): root, targets,
snapshot and timestamp each with its own Ed25519 key, targets delegating
to 16 classic hash bins (`path_hash_prefixes`, as
examples/manual_repo/hashed_bin_delegation.py does) and to one custom role
by path. Two generations (artifacts added, bins re-signed, snapshot and
timestamp re-made by `do_snapshot`/`do_timestamp`) and a root rotation
signed by both the old and the new root key, all as consistent-snapshot
files `N.ROLE.json` plus `timestamp.json`. Prints the artifact paths.
"""
import copy, datetime, hashlib, json, os, sys

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    DelegatedRole, Delegations, Metadata, MetaFile, Root, Snapshot, TargetFile,
    Targets, Timestamp,
)
from tuf.api.serialization.json import JSONSerializer
from tuf.repository import Repository

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
EXPIRY = {"root": 365, "targets": 90, "snapshot": 30, "timestamp": 1}
BINS = 16


def bin_name(i):
    return f"bin-{i:x}"


class FileRepository(Repository):
    def __init__(self, out):
        self.out = out
        self.signers = {}
        self.current = {}
        self._targets_infos = {}
        self._snapshot_info = MetaFile(1)

    def expiry(self, role):
        days = EXPIRY.get(role, 90)
        return NOW + datetime.timedelta(days=days)

    def open(self, role):
        if role in self.current:
            return copy.deepcopy(self.current[role])
        kinds = {"root": Root, "snapshot": Snapshot, "timestamp": Timestamp}
        signed = kinds.get(role, Targets)()
        signed.version = 0  # close() bumps it to 1
        return Metadata(signed)

    def close(self, role, md):
        md.signed.version += 1
        md.signed.expires = self.expiry(role)
        md.signatures.clear()
        for signer in self.signers[role]:
            md.sign(signer, append=True)
        self.current[role] = md
        data = md.to_bytes(JSONSerializer(compact=False))
        name = "timestamp.json" if role == "timestamp" else f"{md.signed.version}.{role}.json"
        with open(os.path.join(self.out, name), "wb") as f:
            f.write(data)
        if role == "snapshot":
            self._snapshot_info = MetaFile(md.signed.version)
        elif role not in ("root", "timestamp"):
            self._targets_infos[f"{role}.json"] = MetaFile(md.signed.version)

    @property
    def targets_infos(self):
        return self._targets_infos

    @property
    def snapshot_info(self):
        return self._snapshot_info


def target(path):
    data = path.encode()
    return TargetFile.from_data(path, data, ["sha256"])


def bin_for(path):
    return int(hashlib.sha256(path.encode()).hexdigest()[0], 16)


def main(out):
    os.makedirs(out, exist_ok=True)
    repo = FileRepository(out)
    keys = {r: CryptoSigner.generate_ed25519() for r in ["root", "targets", "snapshot", "timestamp", "bins", "docs"]}
    for role in ["root", "targets", "snapshot", "timestamp"]:
        repo.signers[role] = [keys[role]]
    repo.signers["docs"] = [keys["docs"]]
    for i in range(BINS):
        repo.signers[bin_name(i)] = [keys["bins"]]

    with repo.edit_root() as root:
        root.consistent_snapshot = True
        for role in ["root", "targets", "snapshot", "timestamp"]:
            root.add_key(keys[role].public_key, role)

    paths = []
    generation = [
        [f"pkg/{i}/pkg-{i}.tar.gz" for i in range(12)] + ["docs/index.html"],
        [f"pkg/late/{i}.whl" for i in range(5)] + ["docs/guide.html"],
    ]
    for n, batch in enumerate(generation):
        with repo.edit_targets() as targets:
            if n == 0:
                bins_key = keys["bins"].public_key
                docs_key = keys["docs"].public_key
                roles = {
                    "docs": DelegatedRole("docs", [docs_key.keyid], 1, True, paths=["docs/*"]),
                }
                for i in range(BINS):
                    roles[bin_name(i)] = DelegatedRole(
                        bin_name(i), [bins_key.keyid], 1, False,
                        path_hash_prefixes=[f"{i:x}"],
                    )
                targets.delegations = Delegations(
                    keys={bins_key.keyid: bins_key, docs_key.keyid: docs_key}, roles=roles
                )
        touched = {}
        for path in batch:
            role = "docs" if path.startswith("docs/") else bin_name(bin_for(path))
            touched.setdefault(role, []).append(path)
        names = list(touched) if n else ["docs"] + [bin_name(i) for i in range(BINS)]
        for role in names:
            with repo.edit_targets(role) as t:
                for path in touched.get(role, []):
                    t.targets[path] = target(path)
        paths.extend(batch)
        repo.do_snapshot()
        repo.do_timestamp()

    # Root rotation: version 2 drops the old root key for a new one and is
    # signed by both (the old threshold and the new).
    new_root_key = CryptoSigner.generate_ed25519()
    repo.signers["root"] = [keys["root"], new_root_key]
    with repo.edit_root() as root:
        root.revoke_key(keys["root"].public_key.keyid, "root")
        root.add_key(new_root_key.public_key, "root")
    repo.signers["root"] = [new_root_key]
    print(json.dumps(paths))


if __name__ == "__main__":
    main(sys.argv[1])

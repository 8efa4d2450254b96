"""Verify a published repository with python-tuf's ngclient.

usage: verify.py METADATA_URL TRUSTED_ROOT_FILE --present P... --absent P... [--now ISO] [--cache DIR]

Refreshes from the trusted root through every root version, timestamp,
snapshot and targets, then resolves each artifact through the delegations.
--now sets the client's clock (to check expiry handling). --cache keeps the
client's metadata in DIR between runs, as an installed client does: a later
run starts from the timestamp, snapshot and targets it trusted before.
"""
import argparse, datetime, json, os, shutil, sys, tempfile
from tuf.ngclient import Updater, UpdaterConfig

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("root")
p.add_argument("--present", nargs="*", default=[])
p.add_argument("--absent", nargs="*", default=[])
p.add_argument("--now")
p.add_argument("--cache")
a = p.parse_args()
if a.cache:
    d = a.cache
    os.makedirs(d, exist_ok=True)
else:
    d = tempfile.mkdtemp()
if not os.path.exists(f"{d}/root.json"):
    shutil.copy(a.root, f"{d}/root.json")
with open(a.root, "rb") as f:
    trusted_root = f.read()
u = Updater(metadata_dir=d, metadata_base_url=a.url, target_base_url=a.url + "/targets/",
            config=UpdaterConfig(prefix_targets_with_hash=False), bootstrap=trusted_root)
if a.now:
    # ngclient has no public clock setting: its trusted set keeps the time
    # it checks expiry against. Fail loudly if that ever moves, rather than
    # silently checking against the real clock.
    if not hasattr(u._trusted_set, "reference_time"):
        sys.exit("this python-tuf has no _trusted_set.reference_time; --now cannot be honoured")
    u._trusted_set.reference_time = datetime.datetime.fromisoformat(a.now)
u.refresh()
report = {"root": u._trusted_set.root.version, "timestamp": u._trusted_set.timestamp.version,
          "snapshot": u._trusted_set.snapshot.version, "found": {}, "missing": []}
for path in a.present:
    info = u.get_targetinfo(path)
    if info is None:
        sys.exit(f"artifact {path} not found through TUF")
    report["found"][path] = info.length
for path in a.absent:
    if u.get_targetinfo(path) is not None:
        sys.exit(f"artifact {path} still present")
    report["missing"].append(path)
print(json.dumps(report))

#!/usr/bin/env bash
# Schema-driven fuzzing of the v1 API with schemathesis (PyPI), against a
# fresh embedded service: once before bootstrap, and once after a real
# bootstrap (so write endpoints reach their validation, not just the
# "Task not accepted." guard). Fails when any response is a 5xx, breaks
# the OpenAPI document's declared status codes or content types, or when
# malformed input is accepted.
#
# usage: scripts/fuzz-api.sh HOST_BINARY [MAX_EXAMPLES]   (or `make fuzz-api`)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$1
examples=${2:-50}

# schemathesis runs from its own virtualenv on CPython >= 3.12. Under 3.11,
# ast.parse may only nest as deep as what is left of the *Python* recursion
# limit; hypothesis describes its lambdas with ast.parse deep inside the
# generation of nested request bodies (POST /api/v1/delegations/), the parse
# runs out, and 3.11 reports it as "SystemError: AST constructor recursion
# depth mismatch" (cpython gh-106905), a flaky Runtime Error in the report.
# From 3.12 that budget is counted on the C stack and the parse succeeds.
newer_python() {
  local c v
  for c in "${SCHEMATHESIS_PYTHON:-}" python3.13 python3.12; do
    [ -n "$c" ] && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v "$c"; return; }
  done
  if command -v pyenv >/dev/null; then
    for v in $(pyenv versions --bare 2>/dev/null | sort -rV); do
      c=$(pyenv root)/versions/$v/bin/python3
      [ -x "$c" ] && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$c"; return; }
    done
  fi
  return 1
}
venv=target/fuzz-venv
pin=$(grep -E '^schemathesis==' tests/python/fuzz-requirements.txt)
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "$pin"; then
  python=$(newer_python) || { echo "fuzz-api: needs CPython >= 3.12 for schemathesis (set SCHEMATHESIS_PYTHON)" >&2; exit 1; }
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$pin"
fi
schemathesis=$venv/bin/schemathesis

work=$(mktemp -d)
export RUST_BACKTRACE=0
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
RSTUF_DATA_DIR=$work/data RSTUF_LISTEN=127.0.0.1:$port RSTUF_LOG_LEVEL=warn \
  "$binary" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do
  curl -fsS "$base/ready" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.1
done

fuzz() { # label
  echo "==> schemathesis ($1)"
  "$schemathesis" run "$base/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" \
    --workers 2 --request-timeout 30 --suppress-health-check all \
    --report junit --report-dir "$work/report-$1" || {
      echo "schemathesis found failures ($1); server log:"; tail -50 "$work/server.log"; return 1; }
}

fuzz before-bootstrap
echo "==> bootstrap"
payload=$(python3 tests/python/ceremony.py --out "$work/ceremony" --key-dir "$work/data/keys" --bins 8)
task=$(curl -fsS -X POST "$base/api/v1/bootstrap/" -H 'content-type: application/json' -d "$payload" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["task_id"])')
for _ in $(seq 1 600); do
  state=$(curl -fsS "$base/api/v1/task/?task_id=$task" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["state"])')
  [ "$state" = SUCCESS ] && break
  case $state in ERRORED|FAILURE) echo "bootstrap $state"; exit 1;; esac
  sleep 0.1
done
fuzz after-bootstrap
echo "==> schemathesis: no failures"

#!/usr/bin/env bash
# Checks that the server does what its OpenAPI document says: schemathesis (pinned in
# scripts/schemathesis-requirements.txt, installed into a virtual environment under target/) runs
# every check against a server this script starts on 127.0.0.1 with a fresh data folder, in all
# phases (examples, coverage, fuzzing, stateful through the document's links). Any failure fails.
#
# Usage: scripts/conformance.sh [more schemathesis options]
#   e.g. scripts/conformance.sh --max-examples 1000 --seed 7      (a longer, other run)
# Needs the debug build of the server (cargo build) and python3 with venv.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/schemathesis-venv
REQS=scripts/schemathesis-requirements.txt
if ! cmp -s "$REQS" "$VENV/requirements.txt" 2>/dev/null; then
  echo "==> installing schemathesis into $VENV"
  rm -rf "$VENV"
  /usr/bin/python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQS"
  cp "$REQS" "$VENV/requirements.txt"
fi

cargo build --locked --bin postroom -q
BIN="${CARGO_TARGET_DIR:-target}/debug/postroom"
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

TOKEN=$("$BIN" users add conformance --role admin --data "$WORK/data" 2>/dev/null)
# Many requests come from this one client: no per-minute limit on the web form, no limit on
# refused sign-ins.
POSTROOM_WEBFORM_RATE_LIMIT_PER_MINUTE=0 POSTROOM_HTTP_SIGNIN_ATTEMPTS_PER_NAME=0 \
  POSTROOM_HTTP_SIGNIN_ATTEMPTS_PER_ADDRESS=0 POSTROOM_LOG_DURABILITY=flush \
  "$BIN" serve --data "$WORK/data" --listen 127.0.0.1:0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  [ -s "$WORK/data/server.json" ] && break
  sleep 0.1
done
URL=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$WORK/data/server.json")
echo "==> schemathesis against $URL"

status=0
"$VENV/bin/schemathesis" run "$URL/api/v1/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $TOKEN" \
  --max-examples 100 \
  --seed 20261126 \
  --generation-database none \
  --request-timeout 10 \
  --no-color \
  "$@" || status=$?

if [ $status -ne 0 ]; then
  echo "==> the server's log:"
  tail -50 "$WORK/server.log"
fi
exit $status

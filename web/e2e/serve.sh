#!/bin/sh
# Starts the server for the browser tests: a fresh data folder, an admin whose token the tests
# read from e2e/.admin-token, routing on, no mail server (a release is refused in words).
set -eu
port="$1"
bin="${CARGO_TARGET_DIR:-../target}/debug/postroom"
dir=$(mktemp -d)
"$bin" users add e2e-admin --role admin --data "$dir/data" > e2e/.admin-token 2>/dev/null
POSTROOM_LOG=warn exec "$bin" serve --data "$dir/data" --listen "127.0.0.1:$port"

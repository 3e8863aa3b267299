#!/usr/bin/env bash
# The ingest benchmark: starts a private, unprivileged Dovecot on 127.0.0.1 and a free high port,
# runs `postroom-bench --only ingest` against it (release build), and stops it.
# Usage: scripts/bench-ingest.sh [MESSAGES [BENCH OPTIONS]]   (default 10000)
#   e.g. scripts/bench-ingest.sh 10000 --seen            (flag \Seen instead of moving)
#        scripts/bench-ingest.sh 10000 --ingest-batch 500
#        PERF="perf record -F 1999 -o /tmp/perf.data" scripts/bench-ingest.sh 10000
#          then: perf report -i /tmp/perf.data --no-children --sort comm -n
#          (samples / 1999 = CPU seconds of each thread: log-committer, imap-parse-bench, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
messages="${1:-10000}"
shift || true

dir=$(mktemp -d /tmp/postroom-bench-dovecot.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
setsid scripts/dovecot.sh "$dir" "$port" bench &
pid=$!
trap 'kill -9 -- -$pid 2>/dev/null || kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

cargo build --release --quiet
${PERF:-} ./target/release/postroom-bench --only ingest --imap "127.0.0.1:$port" --messages "$messages" "$@"

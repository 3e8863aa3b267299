#!/usr/bin/env bash
# The outbox benchmark: starts aiosmtpd (scripts/smtp_sink.py --discard) on 127.0.0.1 and a free
# high port, runs `postroom-bench --only outbox` against it (release build), and stops it.
# Usage: scripts/bench-outbox.sh [ANSWERS [BENCH OPTIONS]]   (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
answers="${1:-2000}"
shift || true
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "aiosmtpd is missing: apt-get install python3-aiosmtpd" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 scripts/smtp_sink.py --discard "$port" >/dev/null 2>&1 &
sink=$!
trap 'kill $sink 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
cargo build --release --bin postroom --bin postroom-bench >&2
target/release/postroom-bench --only outbox --smtp "127.0.0.1:$port" --answers "$answers" "$@"

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
command -v dovecot >/dev/null || { echo "dovecot is missing: apt-get install dovecot-imapd" >&2; exit 1; }

dir=$(mktemp -d /tmp/postroom-bench-dovecot.XXXXXX)
chmod 755 "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=support@example.test
if [ "$(id -u)" = 0 ]; then run_user=nobody; run_group=nogroup; else run_user=$(id -un); run_group=$(id -gn); fi
mkdir -p "$dir/run" "$dir/state" "$dir/mail/$user/Maildir/"{cur,new,tmp}
echo "$user:{PLAIN}secret::::$dir/mail/$user" > "$dir/users"
cat > "$dir/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $dir/run
state_dir = $dir/state
instance_name = dovecot-bench-$port
log_path = $dir/dovecot.log
default_internal_user = $run_user
default_internal_group = $run_group
default_login_user = $run_user
first_valid_uid = 0
first_valid_gid = 0
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $dir/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
CONF
if [ "$(id -u)" = 0 ]; then
  chown -R 65534:65534 "$dir"
  setsid setpriv --reuid=65534 --regid=65534 --clear-groups dovecot -c "$dir/dovecot.conf" -F &
else
  setsid dovecot -c "$dir/dovecot.conf" -F &
fi
pid=$!
trap 'kill -9 -- -$pid 2>/dev/null || kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

cargo build --release --quiet
${PERF:-} ./target/release/postroom-bench --only ingest --imap "127.0.0.1:$port" --messages "$messages" "$@"

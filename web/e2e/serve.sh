#!/bin/sh
# Starts the server for the browser tests: a fresh data folder, an admin whose token the tests
# read from e2e/.admin-token, routing on; a real IMAP server (a private Dovecot, port + 2, user
# support@example.test, password secret) that postroom ingests, the tests delivering customer mail
# into it with IMAP APPEND (e2e/deliver.py); and a real SMTP server (aiosmtpd,
# scripts/smtp_sink.py, port + 1) keeping each message as it arrived in the folder named in
# e2e/.mail-dir.
set -eu
port="$1"
smtp=$((port + 1))
imap=$((port + 2))
bin="${CARGO_TARGET_DIR:-../target}/debug/postroom"
dir=$(mktemp -d)
chmod 755 "$dir"
mkdir -p "$dir/mail"
echo "$dir/mail" > e2e/.mail-dir
echo "$imap" > e2e/.imap-port

sh ../scripts/dovecot.sh "$dir/dovecot" "$imap" e2e &
imapd=$!
/usr/bin/python3 ../scripts/smtp_sink.py "$dir/mail" "$smtp" &
sink=$!
server=""
trap 'kill $server $sink $imapd 2>/dev/null; rm -rf "$dir"' EXIT
trap 'exit 143' INT TERM
# Dovecot answers before the server starts (else the tests' first delivery would fail).
n=0
until /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $imap), 1)" 2>/dev/null; do
  n=$((n + 1))
  if [ $n -gt 100 ] || ! kill -0 $imapd 2>/dev/null; then
    echo "the private Dovecot did not start:" >&2
    tail -5 "$dir/dovecot/dovecot.log" >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.1
done
cat > "$dir/postroom.toml" <<TOML
[workflow]
queues = ["vip"]
# What reaches the SMTP server is the agents' replies alone.
acknowledge = false

[routing]
# Long enough that the benchmark's 100 offers stand while it measures.
offer_secs = 600

[[mailboxes]]
name = "support"
host = "127.0.0.1"
port = $imap
tls = "none"
username = "support@example.test"
password = "secret"
poll_interval_secs = 1

[smtp]
host = "127.0.0.1"
port = $smtp
tls = "none"
from = "Example Support <support@example.test>"
retry_initial_secs = 0.2
retry_max_secs = 1
TOML
"$bin" users add e2e-admin --role admin --data "$dir/data" > e2e/.admin-token 2>/dev/null
# In the background, so a signal to this shell ends it too (the traps above).
POSTROOM_LOG=warn "$bin" serve --config "$dir/postroom.toml" --data "$dir/data" --listen "127.0.0.1:$port" &
server=$!
wait $server

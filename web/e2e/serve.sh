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

# Dovecot, unprivileged: as nobody when run as root (it refuses root for mail access).
d="$dir/dovecot"
box="$d/mail/support@example.test"
mkdir -p "$d/run" "$d/state" "$box/Maildir/cur" "$box/Maildir/new" "$box/Maildir/tmp"
if [ "$(id -u)" = 0 ]; then user=nobody; group=nogroup; else user=$(id -un); group=$(id -gn); fi
echo "support@example.test:{PLAIN}secret::::$box" > "$d/users"
cat > "$d/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $d/run
state_dir = $d/state
instance_name = dovecot-e2e-$imap
log_path = $d/dovecot.log
default_internal_user = $user
default_internal_group = $group
default_login_user = $user
first_valid_uid = 0
first_valid_gid = 0
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $d/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap
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
asuser=""
if [ "$(id -u)" = 0 ]; then
  chown -R 65534:65534 "$d"
  asuser="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
$asuser dovecot -c "$d/dovecot.conf" -F &
imapd=$!
/usr/bin/python3 ../scripts/smtp_sink.py "$dir/mail" "$smtp" &
sink=$!
trap 'kill $sink $imapd 2>/dev/null || true' EXIT INT TERM
cat > "$dir/postroom.toml" <<TOML
[workflow]
queues = ["vip"]
# What reaches the SMTP server is the agents' replies alone.
acknowledge = false

[routing]
# Long enough that the benchmark's 500 offers stand while it measures.
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
POSTROOM_LOG=warn "$bin" serve --config "$dir/postroom.toml" --data "$dir/data" --listen "127.0.0.1:$port"

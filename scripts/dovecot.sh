#!/bin/sh
# A private, unprivileged Dovecot (IMAP, no TLS) on 127.0.0.1:PORT for benchmarks and browser
# tests: one mailbox, support@example.test with the password "secret", kept in DIR (created;
# traversable by the user Dovecot runs as). Runs in the foreground as nobody when started as root
# (Dovecot refuses root for mail access), else as the caller. The caller backgrounds and stops it,
# and makes every folder above DIR traversable by that user.
# Usage: scripts/dovecot.sh DIR PORT [NAME]
set -eu
dir="$1"
port="$2"
name="${3:-private}"
user=support@example.test
command -v dovecot >/dev/null || { echo "dovecot is missing: apt-get install dovecot-imapd" >&2; exit 1; }
# As root: nobody, with its own group (nogroup on Debian, nobody elsewhere), by name and number.
if [ "$(id -u)" = 0 ]; then
  run_user=nobody; run_group=$(id -gn nobody); uid=$(id -u nobody); gid=$(id -g nobody)
else
  run_user=$(id -un); run_group=$(id -gn)
fi
mkdir -p "$dir/run" "$dir/state"
for sub in cur new tmp; do mkdir -p "$dir/mail/$user/Maildir/$sub"; done
chmod 755 "$dir"
echo "$user:{PLAIN}secret::::$dir/mail/$user" > "$dir/users"
cat > "$dir/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $dir/run
state_dir = $dir/state
instance_name = dovecot-$name-$port
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
  chown -R "$uid:$gid" "$dir"
  exec setpriv --reuid="$uid" --regid="$gid" --clear-groups dovecot -c "$dir/dovecot.conf" -F
fi
exec dovecot -c "$dir/dovecot.conf" -F

#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs the real mail servers the integration
# tests start (Dovecot IMAP, aiosmtpd SMTP) and Chromium for the browser tests (Debian packages),
# builds the web desktop (npm packages from its lockfile), then checks formatting and lints, runs
# every test, the browser tests (Playwright), and checks the live server against its OpenAPI
# document (schemathesis, see scripts/conformance.sh).  Usage: scripts/test.sh   (from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dovecot >/dev/null 2>&1 || need+=(dovecot-imapd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need+=(python3-aiosmtpd)
# The conformance check's virtual environment (schemathesis from PyPI, pinned).
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
# The web desktop's browser tests: Debian's Chromium (Playwright downloads no browser), Node.
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-liberation)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

export CARGO_TERM_COLOR=never
echo "==> the web desktop: npm ci, vite build (the committed web/dist must be its output)"
(cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error \
  && npx vite build --logLevel warn)
git diff --exit-code --stat -- web/dist || {
  echo "web/dist differs from what web/ builds: run (cd web && npx vite build) and commit it" >&2
  exit 1
}
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo test --locked --all-targets
echo "==> the web desktop in a browser (Playwright, headless Chromium)"
(cd web && npx playwright test)
echo "==> OpenAPI conformance (schemathesis)"
scripts/conformance.sh

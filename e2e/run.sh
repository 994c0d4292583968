#!/usr/bin/env bash
# Browser tests of the web UI: builds vulnbridge, installs Playwright from npm (its browser
# download skipped: Debian's chromium package is the browser), and runs e2e/tests against
# `vulnbridge demo`. Needs `apt-get install chromium` and Node.js 18+.
set -euo pipefail
cd "$(dirname "$0")/.."
# A binary already built (CI passes the one `cargo test` built) is used as it is.
if [ -z "${VULNBRIDGE_BIN:-}" ] || [ ! -x "${VULNBRIDGE_BIN}" ]; then
  cargo build -p vulnbridge
  target="${CARGO_TARGET_DIR:-target}"
  case "$target" in /*) ;; *) target="$(pwd)/$target" ;; esac
  export VULNBRIDGE_BIN="$target/debug/vulnbridge"
fi
cd e2e
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
npx playwright test "$@"

#!/usr/bin/env bash
# Debian's Chromium for the browser tests, when the machine lacks it (Playwright's own browser
# download is skipped: the system's Chromium is the browser). Needs root or sudo.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "Installing Debian's chromium package for the browser tests."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium

#!/usr/bin/env bash
# Measures `vulnbridge serve`: time from process start to the first 200 on /healthz, and
# resident memory after idling. Usage: benches/startup.sh [IDLE_SECONDS]
# Runs the release binary against a fresh SQLite data directory (or VULNBRIDGE_DATABASE_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
idle="${1:-10}"
bin=target/release/vulnbridge
[ -x "$bin" ] || cargo build --release -p vulnbridge
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start=$(date +%s%N)
VULNBRIDGE_DATA_DIR="$dir" VULNBRIDGE_LOG=warn "$bin" serve --bind "127.0.0.1:$port" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.005; done
ready=$(date +%s%N)
printf 'healthz_after_start_ms %d\n' $(( (ready - start) / 1000000 ))
# Touch the API once, as a real client would, then idle.
curl -s "http://127.0.0.1:$port/readyz" >/dev/null
sleep "$idle"
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
awk -v r="$rss_kb" -v h="$hwm_kb" 'BEGIN { printf "idle_rss_mib %.1f\npeak_rss_mib %.1f\n", r/1024, h/1024 }'

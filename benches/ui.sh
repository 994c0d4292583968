#!/usr/bin/env bash
# Web UI benchmark (issue 7): the findings list's first page (and other pages) over 100,000
# imported findings, on SQLite and PostgreSQL, timed over HTTP against the real server. Usage:
#   benches/ui.sh [POSTGRES_URL]     (default postgres://postgres@127.0.0.1:5432/test)
set -euo pipefail
cd "$(dirname "$0")/.."
pg="${1:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release -p vulnbridge-bench
bench="${CARGO_TARGET_DIR:-target}/release/vulnbridge-bench"
$bench ui-list --findings 100000
$bench ui-list --findings 100000 --database "$pg"

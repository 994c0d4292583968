#!/usr/bin/env bash
# Connector sync benchmarks (issue 6): a connector pulls 100,000 findings from a scanner
# simulator (100 Records of 1,000) and imports them — the first Sync, an unchanged incremental
# one and an unchanged full one — on SQLite and PostgreSQL, with the connector's rate budget
# (as deployed) and without it (what the pull and import themselves cost). Usage:
#   benches/sync.sh [POSTGRES_URL]     (default postgres://postgres@127.0.0.1:5432/test)
set -euo pipefail
cd "$(dirname "$0")/.."
pg="${1:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release -p vulnbridge-bench
bench=target/release/vulnbridge-bench
$bench sync --tool semgrep --findings 100000 --records 100
$bench sync --tool semgrep --findings 100000 --records 100 --database "$pg"
$bench sync --tool sonarqube --findings 100000 --records 8
for tool in semgrep tenable; do
    $bench sync --tool $tool --findings 100000 --records 100 --no-rate-limit
done
$bench sync --tool semgrep --findings 100000 --records 100 --no-rate-limit --database "$pg"

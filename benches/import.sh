#!/usr/bin/env bash
# Import benchmarks (issue 3): a generated 100,000-finding SARIF report imported into a fresh
# database and reimported unchanged twice, on SQLite and PostgreSQL; and a generated 1 GiB
# .nessus file parsed with its peak memory. Usage:
#   benches/import.sh [POSTGRES_URL]     (default postgres://postgres@127.0.0.1:5432/test)
# The PostgreSQL run creates and drops its own schema in that database.
set -euo pipefail
cd "$(dirname "$0")/.."
pg="${1:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release -p vulnbridge-bench
bench=target/release/vulnbridge-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

$bench gen-sarif --findings 100000 "$work/100k.sarif"
for run in 1 2 3; do
  echo "-- SARIF, run $run"
  $bench import --scan-type SARIF --reimports 2 "$work/100k.sarif"
  $bench import --scan-type SARIF --reimports 2 --database "$pg" "$work/100k.sarif"
done

$bench gen-nessus --megabytes 1024 "$work/1g.nessus"
for run in 1 2 3; do
  echo "-- .nessus, run $run"
  $bench parse --scan-type "Tenable Scan" "$work/1g.nessus"
done

#!/usr/bin/env bash
# Push benchmarks (issues 4 and 5): 10,000 findings pushed to the GitHub simulator enforcing GitHub's
# documented limits on a clock sped up 1000× (an hour lasts 3.6 s), on SQLite and PostgreSQL,
# then pushed again unchanged; and 2,000 to the GitLab simulator (20×). Usage:
#   benches/push.sh [POSTGRES_URL]     (default postgres://postgres@127.0.0.1:5432/test)
set -euo pipefail
cd "$(dirname "$0")/.."
pg="${1:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release -p vulnbridge-bench
bench=target/release/vulnbridge-bench
$bench push --vendor github --findings 10000 --scale 0.001
$bench push --vendor github --findings 10000 --scale 0.001 --database "$pg"
$bench push --vendor gitlab --findings 2000 --scale 0.05
# Issue 5: API calls per created ticket with and without the bulk APIs (Jira bulk create,
# Azure DevOps $batch, ServiceNow Batch API), 2,000 findings each, SQLite and PostgreSQL.
for vendor in jira azure-devops servicenow; do
    $bench push --vendor $vendor --findings 2000
    $bench push --vendor $vendor --findings 2000 --no-bulk
    $bench push --vendor $vendor --findings 2000 --database "$pg"
done

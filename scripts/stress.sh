#!/usr/bin/env bash
# `make stress`: the load and fault tests, with figures for BENCHMARKS.md, written to
# target/stress/report.md. STRESS_SECONDS (mixed load, default 60), STRESS_CONCURRENCY
# (default 16) and STRESS_EXAMPLES (Schemathesis cases per operation, default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

SECONDS_OF_LOAD=${STRESS_SECONDS:-60}
CONCURRENCY=${STRESS_CONCURRENCY:-16}
EXAMPLES=${STRESS_EXAMPLES:-50}
OUT=target/stress
REPORT=$OUT/report.md
mkdir -p "$OUT"

ensure_venv
start_moto

step "release builds: partnerctl, partner-bench"
cargo build --release --locked -p partnerctl -p partner-bench

{
  echo "# Stress report"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`make stress\` (scripts/stress.sh) at commit $(git rev-parse --short HEAD), on $(nproc) cores."
  echo
} > "$REPORT"

step "mixed load on partnerctl serve for ${SECONDS_OF_LOAD} s, then the audit"
start_serve target/release/partnerctl
{
  echo "## Mixed load and write audit (partnerctl serve, release, embedded store)"
  echo
  target/release/partner-bench stress --base "$SERVE_URL" --app "$APP_ID" --api-key "$API_KEY" \
    --admin-token "$ADMIN_TOKEN" --seconds "$SECONDS_OF_LOAD" --concurrency "$CONCURRENCY"
} >> "$REPORT"

step "faults on moto: dispatcher vs a receiver failing half its requests; relay vs a crashing publisher"
# The same tests `make test` runs, with more events (STRESS_EVENTS is read by them).
STRESS_EVENTS=${STRESS_EVENTS:-200} cargo nextest run --locked --no-fail-fast -p partner-tests \
  --no-capture -E 'test(/failing_half_the_time|publisher_crashing_at_random/)' 2>&1 | tee "$OUT/faults.log"
{
  echo "## Faults (moto)"
  echo
  grep -h '^FIGURE ' "$OUT/faults.log" | sed 's/^FIGURE /- /'
  echo
} >> "$REPORT"

step "Schemathesis, $EXAMPLES cases per operation"
cargo build --release --locked -p partnerctl
"$VENV/bin/python" tests/blackbox/schemathesis_run.py target/release/partnerctl "$EXAMPLES" | tee "$OUT/schemathesis.log"
{
  echo "## Schemathesis ($EXAMPLES cases per operation)"
  echo
  grep -E "Selected:|Tested:|generated|failed|Server error" "$OUT/schemathesis.log" | sed 's/^ */- /' || true
  echo
} >> "$REPORT"

step "report"
cat "$REPORT"

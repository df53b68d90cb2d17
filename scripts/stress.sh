#!/usr/bin/env bash
# `make stress`: the load and fault tests, with figures for BENCHMARKS.md, written to
# target/stress/report.md. STRESS_SECONDS (mixed load, default 60), STRESS_CONCURRENCY
# (default 16), STRESS_DYNAMODB_SECONDS and STRESS_DYNAMODB_CONCURRENCY (each DynamoDB
# run, default 30 s and 4 clients), STRESS_FAULTS
# (the share of DynamoDB calls refused in the second DynamoDB run, default 10) and
# STRESS_EXAMPLES (Schemathesis cases per operation, default 50) and
# STRESS_ABUSE_SECONDS (each run of the abusive-tenant comparison, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

SECONDS_OF_LOAD=${STRESS_SECONDS:-60}
CONCURRENCY=${STRESS_CONCURRENCY:-16}
EXAMPLES=${STRESS_EXAMPLES:-50}
DYNAMODB_SECONDS=${STRESS_DYNAMODB_SECONDS:-30}
# moto serves one DynamoDB call at a time; more clients only queue behind it.
DYNAMODB_CONCURRENCY=${STRESS_DYNAMODB_CONCURRENCY:-4}
FAULTS=${STRESS_FAULTS:-10}
ABUSE_SECONDS=${STRESS_ABUSE_SECONDS:-20}
OUT=target/stress
REPORT=$OUT/report.md
mkdir -p "$OUT"

ensure_venv
start_moto

step "release builds: partnerctl, partner-bench, fault-proxy"
cargo build --release --locked -p partnerctl -p partner-bench -p partner-tests --bin partnerctl \
  --bin partner-bench --bin fault-proxy

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

# The same load on DynamoDB (moto), through the fault proxy: `$1` % of DynamoDB calls
# refused (throttling three times in four, 500 otherwise), each on a new table.
dynamodb_run() {
  local percent=$1 table port proxy_url serve_pid proxy_pid app app_id api_key token
  table="stress-$percent-$(date +%s)"
  local direct=(env AWS_ENDPOINT_URL="$MOTO_ENDPOINT" target/release/partnerctl --table "$table" --json)
  "${direct[@]}" table create > /dev/null
  app=$("${direct[@]}" apps create --name "Load")
  app_id=$(echo "$app" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["appId"])')
  api_key=$(echo "$app" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])')
  token=$("${direct[@]}" token admin --app "$app_id" \
    | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  target/release/fault-proxy "$MOTO_ENDPOINT" "$percent" DynamoDB_ > "$OUT/proxy-$percent.url" \
    2> "$OUT/proxy-$percent.log" &
  proxy_pid=$!
  CLEANUP_PIDS+=("$proxy_pid")
  for _ in $(seq 1 50); do [ -s "$OUT/proxy-$percent.url" ] && break; sleep 0.1; done
  proxy_url=$(head -n1 "$OUT/proxy-$percent.url")
  port=$(free_port)
  AWS_ENDPOINT_URL="$proxy_url" target/release/partnerctl --table "$table" serve \
    --addr "127.0.0.1:$port" > "$OUT/serve-dynamodb-$percent.log" 2>&1 &
  serve_pid=$!
  CLEANUP_PIDS+=("$serve_pid")
  wait_for_http "http://127.0.0.1:$port/v1/affiliate/apply/status" \
    || { echo "partnerctl serve on DynamoDB did not start; its log:"; cat "$OUT/serve-dynamodb-$percent.log"; exit 1; }
  target/release/partner-bench stress --base "http://127.0.0.1:$port" --app "$app_id" \
    --api-key "$api_key" --admin-token "$token" --seconds "$DYNAMODB_SECONDS" --concurrency "$DYNAMODB_CONCURRENCY"
  sleep 1.2
  echo "DynamoDB calls through the proxy (set-up, load and audit): $(tail -n1 "$OUT/proxy-$percent.log")."
  echo
  kill "$serve_pid" "$proxy_pid" 2>/dev/null || true
}

step "DynamoDB (moto): the load with no faults, then with ${FAULTS}% of DynamoDB calls refused"
export ADMIN_JWT_SECRET=stress-admin-jwt-secret-of-at-least-32-bytes
{
  echo "## Mixed load on DynamoDB (moto), without and with injected faults"
  echo
  echo "partnerctl serve (release) on a moto table, through the fault proxy (tests/src/bin/fault-proxy.rs)."
  echo "A refused call is retried by the SDK (3 attempts); when they all fail the answer is 503 with Retry-After."
  echo "The audit allows a write answered 503 or not at all to be present at most once (a timed-out call may have committed)."
  echo
  echo "### No faults"
  echo
  dynamodb_run 0
  echo "### ${FAULTS}% of DynamoDB calls refused"
  echo
  dynamodb_run "$FAULTS"
} >> "$REPORT"

step "an abusive tenant beside a well-behaved one (${ABUSE_SECONDS} s per run)"
{
  echo "## An abusive tenant beside a well-behaved one"
  echo
  # Fails when the well-behaved tenant lost a request or a webhook.
  target/release/partner-bench abuse --seconds "$ABUSE_SECONDS"
  echo
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

#!/usr/bin/env bash
# `make bench`: the figures of BENCHMARKS.md, measured in one run on this machine and
# written to target/bench/report.md. Not part of `make test`; it takes minutes (the
# release builds most of all). BENCH_RUNS (cold starts per binary, default 20),
# BENCH_SECONDS (per wrk run, default 10) and BENCH_ARM64=0 (skip the arm64 build)
# change what it does.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

FUNCTIONS=(apply status by-customer track conversions integrations partner admin commission-approver payout-runner outbox-relay webhook-dispatcher)
RUNS=${BENCH_RUNS:-20}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
OUT=target/bench
REPORT=$OUT/report.md
mkdir -p "$OUT"

ensure_venv
if ! command -v wrk >/dev/null 2>&1; then
  step "wrk from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null
fi
start_moto

step "release builds (x86_64): every function as deployed, then hello-lambda, partner-bench, partnerctl"
packages=()
for f in "${FUNCTIONS[@]}"; do packages+=(-p "$f"); done
# The functions as `cargo lambda build` builds them for a deployment: without their
# default `embedded` feature (no SQLite). A separate build, because one with
# partnerctl would unify the feature back in.
cargo build --release --locked --no-default-features "${packages[@]}"
cargo build --release --locked -p partner-bench -p partnerctl
BENCH=target/release/partner-bench

{
  echo "# Benchmark report"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`make bench\` (scripts/bench.sh) at commit $(git rev-parse --short HEAD)."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(rustc --version)."
  echo
} > "$REPORT"

step "binary sizes"
ARM64=${BENCH_ARM64:-1}
if [ "$ARM64" != 0 ]; then
  rustup target add aarch64-unknown-linux-gnu > /dev/null 2>&1 || true
  # The functions alone, as a deployment builds them (Cargo.toml's
  # `workspace.metadata.lambda.build` leaves out default features), then hello-lambda.
  { PATH="$PWD/$VENV/bin:$PATH" cargo lambda build --release --arm64 --locked "${packages[@]}" \
      && PATH="$PWD/$VENV/bin:$PATH" cargo lambda build --release --arm64 --locked -p partner-bench --bin hello-lambda; } \
    > "$OUT/arm64-build.log" 2>&1 \
    || { echo "arm64 build failed (see $OUT/arm64-build.log); sizes for x86_64 only"; ARM64=0; }
fi
{
  echo "## Binary size (release, stripped)"
  echo
  echo "| Function | x86_64 (MB) | arm64 (MB) | ≤ 6 MB |"
  echo "|---|---|---|---|"
  for f in "${FUNCTIONS[@]}" hello-lambda; do
    x86=$(stat -c %s "target/release/$f")
    arm="—"
    largest=$x86
    if [ "$ARM64" != 0 ] && [ -f "target/lambda/$f/bootstrap" ]; then
      a=$(stat -c %s "target/lambda/$f/bootstrap")
      arm=$(awk -v b="$a" 'BEGIN {printf "%.2f", b/1e6}')
      [ "$a" -gt "$largest" ] && largest=$a
    fi
    ok=$([ "$largest" -le 6000000 ] && echo yes || echo no)
    echo "| $f | $(awk -v b="$x86" 'BEGIN {printf "%.2f", b/1e6}') | $arm | $ok |"
  done
  echo
} >> "$REPORT"

step "the Node.js baseline: npm ci in bench/node (the AWS SDK v3)"
(cd bench/node && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)

step "cold starts ($RUNS per binary, against the local Runtime API)"
{
  echo "## Cold start ($RUNS runs per binary, interleaved; DynamoDB on moto over loopback)"
  echo
  "$BENCH" cold-start --bin-dir target/release --events events --moto "$MOTO_ENDPOINT" --runs "$RUNS" --log "$OUT/functions.log" --node bench/node/bootstrap
} >> "$REPORT"

step "warm cost per request (embedded store)"
{
  echo "## Warm cost per request (through the router, one request at a time, after 500 warm-up requests)"
  echo
  "$BENCH" warm
} >> "$REPORT"

step "store round trips per request"
{
  echo "## Store round trips per warm request"
  echo
  "$BENCH" round-trips
} >> "$REPORT"

step "dispatcher throughput (receiver answers after 100 ms)"
{
  echo "## Webhook dispatcher (receiver answers after 100 ms)"
  echo
  "$BENCH" dispatcher
} >> "$REPORT"

step "throughput of partnerctl serve under wrk"
start_serve target/release/partnerctl
"$BENCH" seed --base "$SERVE_URL" --app "$APP_ID" --api-key "$API_KEY" --admin-token "$ADMIN_TOKEN"
{
  echo "## Throughput: \`partnerctl serve\` (release, embedded store) under wrk, 1 thread, 16 connections, ${SECONDS_PER_RUN} s each"
  echo
  echo "| Endpoint | Requests/s | p50 (ms) | p99 (ms) | Requests | Errors (non-2xx, socket) |"
  echo "|---|---|---|---|---|---|"
  for endpoint in apply status track; do
    WRK_DIR="$PWD/bench/wrk" RUN_ID="$(date +%s)" API_KEY="$API_KEY" \
      wrk -t1 -c16 -d"${SECONDS_PER_RUN}s" --latency -s "bench/wrk/$endpoint.lua" "$SERVE_URL" > "$OUT/wrk-$endpoint.txt"
    awk -v name="$endpoint" '
      /Requests\/sec/ {rps=$2}
      /^ +50%/ {p50=$2}
      /^ +99%/ {p99=$2}
      /requests in/ {total=$1}
      /Non-2xx/ {non2xx=$NF}
      /Socket errors/ {socket=$0}
      function ms(v) { if (v ~ /us$/) return sprintf("%.2f", v/1000); if (v ~ /ms$/) return sprintf("%.2f", v+0); if (v ~ /s$/) return sprintf("%.2f", v*1000); return v }
      END {printf "| %s | %.0f | %s | %s | %s | %d%s |\n", name, rps, ms(p50), ms(p99), total, non2xx+0, (socket ? "; " socket : "")}
    ' "$OUT/wrk-$endpoint.txt"
  done
  echo
} >> "$REPORT"

step "report"
cat "$REPORT"

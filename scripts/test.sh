#!/usr/bin/env bash
# The one test command (`make test`): installs what the tests need, starts moto on a
# free loopback port, runs formatting, lints and every test, and stops moto however
# the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_venv
start_moto

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "unit, conformance and integration tests (embedded store and moto)"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

step "every link in the docs resolves"
python3 scripts/check-links.py

step "cfn-lint template.yaml"
"$VENV/bin/cfn-lint" template.yaml

step "black-box checks on partnerctl serve (embedded store and DynamoDB on moto)"
cargo build -p partnerctl --locked
"$VENV/bin/python" tests/blackbox/check.py target/debug/partnerctl

step "sam validate --lint"
SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 "$VENV/bin/sam" validate --lint --template template.yaml

step "cargo lambda watch smoke test (functions as Lambda processes on API Gateway paths)"
PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/python" tests/blackbox/lambda_smoke.py target/debug/partnerctl

step "Schemathesis over every operation of openapi.yaml"
"$VENV/bin/python" tests/blackbox/schemathesis_run.py target/debug/partnerctl 5

step "the partner portal in headless Chromium"
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  # Debian's browser and driver; no browser download of a test tool works here.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver > /dev/null
fi
"$VENV/bin/python" tests/blackbox/browser.py target/debug/partnerctl

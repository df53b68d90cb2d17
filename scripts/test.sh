#!/usr/bin/env bash
# The one test command (`make test`): installs what the tests need, starts moto on a
# free loopback port, runs formatting, lints and every test, and stops moto however
# the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
REQUIREMENTS=tests/blackbox/requirements.txt
STAMP="$VENV/.requirements.sha256"

step() { printf '\n==> %s\n' "$*"; }

step "Python tools (moto, cfn-lint) in $VENV"
wanted=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$wanted" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  echo "$wanted" > "$STAMP"
fi

step "moto on loopback"
MOTO_PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
# moto with DynamoDB requests serialised, as DynamoDB's transactions are (see the script).
"$VENV/bin/python" tests/blackbox/moto_server.py 127.0.0.1 "$MOTO_PORT" > target/moto.log 2>&1 &
MOTO_PID=$!
trap 'kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true' EXIT
export MOTO_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
for _ in $(seq 1 100); do
  if "$VENV/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('$MOTO_ENDPOINT/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
"$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('$MOTO_ENDPOINT/moto-api/', timeout=2)" \
  || { echo "moto did not start; its log:"; cat target/moto.log; exit 1; }
echo "moto at $MOTO_ENDPOINT"
# Dummy credentials for the SDK clients that talk to moto.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1

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

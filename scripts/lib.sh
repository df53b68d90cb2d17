# Shared by scripts/test.sh, bench.sh and stress.sh: the Python tools venv, moto on
# a free loopback port (stopped however the script ends), and `partnerctl serve`.
# Source it from the repository root.

VENV=.venv
REQUIREMENTS=tests/blackbox/requirements.txt
CHECKOV_VENV=.venv-checkov
CHECKOV_REQUIREMENTS=tests/blackbox/requirements-checkov.txt

step() { printf '\n==> %s\n' "$*"; }

# A venv at $1 with the requirements file $2, (re)installed when the file changes.
venv_with() {
  local venv=$1 requirements=$2 stamp="$1/.requirements.sha256" wanted
  wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$stamp"
  fi
}

# The venv with moto, cfn-lint, sam, cargo-lambda…
ensure_venv() {
  step "Python tools (moto, cfn-lint) in $VENV"
  venv_with "$VENV" "$REQUIREMENTS"
}

# checkov in a venv of its own (its pins would hold back $VENV's tools).
ensure_checkov_venv() {
  step "checkov in $CHECKOV_VENV"
  venv_with "$CHECKOV_VENV" "$CHECKOV_REQUIREMENTS"
}

# The official stripe library, whose test helper signs the Stripe integration's test
# events (tests/stripe/sign.mjs); from the committed lockfile.
ensure_stripe_signer() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node and npm are needed (Node 18 or later) for the Stripe tests" >&2
    exit 1
  fi
  if [ ! -f tests/stripe/node_modules/stripe/package.json ]; then
    step "npm ci in tests/stripe (the stripe library's webhook test helper)"
    (cd tests/stripe && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
  fi
}

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until `url` answers (any HTTP status), or fails after ~20 s.
wait_for_http() {
  local url=$1
  for _ in $(seq 1 100); do
    if "$VENV/bin/python" -c "import urllib.request,urllib.error,sys
try: urllib.request.urlopen('$url', timeout=1)
except urllib.error.HTTPError: pass" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# Processes to stop when the script exits.
CLEANUP_PIDS=()
cleanup() {
  for pid in "${CLEANUP_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# Starts moto and exports MOTO_ENDPOINT and dummy AWS credentials.
start_moto() {
  step "moto on loopback"
  local port
  port=$(free_port)
  mkdir -p target
  # moto with DynamoDB requests serialised, as DynamoDB's transactions are (see the script).
  "$VENV/bin/python" tests/blackbox/moto_server.py 127.0.0.1 "$port" > target/moto.log 2>&1 &
  CLEANUP_PIDS+=($!)
  export MOTO_ENDPOINT="http://127.0.0.1:$port"
  wait_for_http "$MOTO_ENDPOINT/moto-api/" \
    || { echo "moto did not start; its log:"; cat target/moto.log; exit 1; }
  echo "moto at $MOTO_ENDPOINT"
  # Dummy credentials for the SDK clients that talk to moto.
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
}

# Starts `$1 serve` on a fresh embedded store; sets SERVE_URL, SERVE_DATA, APP_ID,
# API_KEY and ADMIN_TOKEN for one new app.
start_serve() {
  local partnerctl=$1 port
  SERVE_DATA=$(mktemp -d)
  port=$(free_port)
  local app
  app=$("$partnerctl" --data "$SERVE_DATA" --json apps create --name "Load")
  APP_ID=$(echo "$app" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["appId"])')
  API_KEY=$(echo "$app" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])')
  ADMIN_TOKEN=$("$partnerctl" --data "$SERVE_DATA" --json token admin --app "$APP_ID" \
    | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  env -u TABLE_NAME -u PARTNER_STORE "$partnerctl" --data "$SERVE_DATA" serve --addr "127.0.0.1:$port" \
    > target/serve.log 2>&1 &
  CLEANUP_PIDS+=($!)
  SERVE_URL="http://127.0.0.1:$port"
  wait_for_http "$SERVE_URL/v1/affiliate/apply/status" \
    || { echo "partnerctl serve did not start; its log:"; cat target/serve.log; exit 1; }
  # A load run makes far more requests with one key than a site does: lift the
  # app's per-key limit (1,000,000 a minute, the most a setting allows).
  curl -fsS -X PUT "$SERVE_URL/v1/apps/$APP_ID/affiliates/settings" \
    -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
    -d '{"rateLimits": {"perKey": 1000000}}' > /dev/null
  export SERVE_URL SERVE_DATA APP_ID API_KEY ADMIN_TOKEN
}

#!/usr/bin/env bash
# The TypeScript SDK's checks (sdk/typescript): installs its dev dependencies from
# the lockfile, type-checks, builds, runs its tests (which start and stop their own
# `partnerctl serve`), and installs the packed tarball into an empty project to run
# it from ES modules and CommonJS. Every process it starts is stopped however the
# run ends.
#
# PARTNERCTL names the server binary to test against; without it the script builds
# target/debug/partnerctl first (a no-op when it is up to date), so the tests never
# run against a stale server.
set -euo pipefail
cd "$(dirname "$0")/.."

SDK=sdk/typescript
step() { printf '\n==> %s\n' "$*"; }

# Long-running steps run in a process group of their own (setsid), so that the
# servers the tests start go down with them whatever happens.
# Their temporary files (servers' data directories, the packed project) live in
# one scratch directory, removed at the end.
groups=()
scratch=$(mktemp -d)
cleanup() {
  local pgid tries
  for pgid in "${groups[@]}"; do
    kill -TERM -- "-$pgid" 2>/dev/null || continue
    for tries in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 -- "-$pgid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$pgid" 2>/dev/null || true
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# in_group DIR COMMAND...: runs COMMAND in DIR as the leader of a new process group.
in_group() {
  local dir=$1
  shift
  (cd "$dir" && exec setsid "$@") &
  local pid=$!
  groups+=("$pid")
  wait "$pid"
}

step "node and npm (Node 18 or later)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node and npm are needed (Node 18 or later)" >&2
  exit 1
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
  echo "Node 18 or later is needed; this is $(node --version)" >&2
  exit 1
fi
echo "node $(node --version), npm $(npm --version)"

if [ -z "${PARTNERCTL:-}" ]; then
  step "cargo build -p partnerctl (the server the tests run against)"
  cargo build -p partnerctl --locked --quiet
  PARTNERCTL="$PWD/target/debug/partnerctl"
fi
# The tests run from sdk/typescript: a relative path is made absolute first.
case "$PARTNERCTL" in /*) ;; *) PARTNERCTL="$PWD/$PARTNERCTL" ;; esac
export PARTNERCTL

step "npm ci (dev dependencies only; the package has none at run time)"
(cd "$SDK" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)

step "tsc --noEmit"
(cd "$SDK" && npx --no-install tsc --noEmit -p tsconfig.json)

step "build (dist/esm and dist/cjs, with declarations)"
(cd "$SDK" && npm run --silent build)

step "node --test (real partnerctl serve, local HTTP servers)"
mkdir "$scratch/tmp"
TMPDIR="$scratch/tmp" in_group "$SDK" npm test --silent

step "npm pack, installed into an empty project, used from ESM, CJS and TypeScript"
# The build above is what gets packed, so the prepack build need not run again.
tarball=$(cd "$SDK" && npm pack --ignore-scripts --silent --pack-destination "$scratch")
mkdir "$scratch/project"
cp "$SDK"/test/pack/example.mjs "$SDK"/test/pack/example.cjs "$SDK"/test/pack/consumer.mts \
  "$SDK"/test/pack/consumer.cts "$SDK"/test/pack/tsconfig.json "$scratch/project/"
tsc="$PWD/$SDK/node_modules/typescript/bin/tsc"
(
  cd "$scratch/project"
  echo '{"name": "sdk-pack-check", "private": true}' > package.json
  # --offline: a package with no runtime dependencies needs nothing but the tarball.
  npm install --offline --no-audit --no-fund --loglevel=error "$scratch/$tarball"
  node -e '
    const pkg = require("@partner-program/sdk/package.json");
    if (Object.keys(pkg.dependencies ?? {}).length) throw new Error("runtime dependencies: " + Object.keys(pkg.dependencies));
    const installed = require("node:fs").readdirSync("node_modules", { withFileTypes: true }).map((d) => d.name).filter((n) => !n.startsWith("."));
    if (installed.join() !== ["@partner-program"].join()) throw new Error("installed more than the SDK: " + installed);
    console.log(pkg.name + "@" + pkg.version + ": no runtime dependencies");'
  node example.mjs
  node example.cjs
  node "$tsc" -p tsconfig.json
  echo "TypeScript (NodeNext, import and require): ok"
)

step "the TypeScript SDK passed"

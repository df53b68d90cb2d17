#!/usr/bin/env bash
# The fast inner loop (`make test-rust ARGS=…`): moto on loopback and the Rust tests
# only, with any arguments passed on to nextest (a filter, `-E 'test(/apply/)'`, …).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_venv
ensure_stripe_signer
start_moto
step "cargo nextest run $*"
cargo nextest run --workspace --locked "$@"

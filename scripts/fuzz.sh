#!/usr/bin/env bash
# `make fuzz`: every cargo-fuzz target in fuzz/ for FUZZ_SECONDS each (default 60),
# with libFuzzer and AddressSanitizer. Crashes land in fuzz/artifacts/<target>/.
#
# cargo-fuzz passes compiler flags that only nightly Rust accepts; this project's
# machines have one stable toolchain, so RUSTC_BOOTSTRAP=1 lets it accept them. That
# is for these fuzzing builds only, never for the release binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
cd fuzz
export RUSTC_BOOTSTRAP=1
# Build everything first, with its output: a build failure must stop the run.
cargo fuzz build
for target in $(cargo fuzz list); do
  printf '\n==> %s (%s s)\n' "$target" "$SECONDS_PER_TARGET"
  cargo fuzz run "$target" -- -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 2>&1 \
    | grep -E "^(#[0-9]+.*DONE|Done|stat::number_of_executed_units|stat::peak_rss|==[0-9]+==ERROR|SUMMARY)" || true
  # A crash makes cargo fuzz exit non-zero (ignored above, so the output filter
  # cannot hide it); the artifact it leaves is what fails the run.
  if compgen -G "artifacts/$target/*" > /dev/null; then
    echo "$target: a crash, leak, time-out or out-of-memory input is in fuzz/artifacts/$target/"
    exit 1
  fi
done

# Developer entry points. `make test` is the one test command (CI runs it).
.PHONY: test test-rust check bench stress fuzz serve lint fmt clean-data

test:
	scripts/test.sh

# The inner loop: moto and the Rust tests only; ARGS go to nextest
# (`make test-rust ARGS="-E 'test(/apply/)'"`).
test-rust:
	scripts/test-rust.sh $(ARGS)

# Formatting and lints, as CI checks them.
check: lint

# The figures of BENCHMARKS.md (minutes; not part of `make test`): target/bench/report.md.
bench:
	scripts/bench.sh

# Sustained mixed load with a write audit, fault tests at scale, a larger Schemathesis
# run: target/stress/report.md.
stress:
	scripts/stress.sh

# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of the untrusted-input parsers.
fuzz:
	scripts/fuzz.sh

serve:
	cargo run -p partnerctl -- serve

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

clean-data:
	rm -rf .partner

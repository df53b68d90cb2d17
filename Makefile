# Developer entry points. `make test` is the one test command (CI runs it).
.PHONY: test bench stress fuzz serve lint fmt clean-data

test:
	scripts/test.sh

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

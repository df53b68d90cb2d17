# Developer entry points. `make test` is the one test command (CI runs it).
.PHONY: test serve lint fmt clean-data

test:
	scripts/test.sh

serve:
	cargo run -p partnerctl -- serve

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

clean-data:
	rm -rf .partner

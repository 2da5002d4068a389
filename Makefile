# Tessera: the two commands a new machine needs are `make run` and `make test`.

CARGO ?= cargo
# bcrypt at its lowest cost keeps the suites fast; one test still runs the default cost.
export BCRYPT_COST ?= 4

.PHONY: run test check fmt lint deps-check

## Start the service on http://127.0.0.1:8080 (development mode: see README).
run:
	BCRYPT_COST=12 $(CARGO) run --release -p tessera -- serve --dev

## Run every test suite.
test:
	@if command -v cargo-nextest >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

## Everything CI checks.
check: fmt lint deps-check test

fmt:
	$(CARGO) fmt --all --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## The domain and application crates must not reach a framework, database or runtime.
deps-check:
	@for pkg in tessera-domain tessera-application; do \
		for dep in actix-web actix-http diesel diesel-async deadpool tokio serde jsonwebtoken bcrypt; do \
			if [ -n "$$($(CARGO) tree -q -p $$pkg -e normal -i $$dep 2>/dev/null)" ]; then \
				echo "$$pkg depends on $$dep: dependencies must point inward"; exit 1; \
			fi; \
		done; \
	done; echo "dependency direction: ok"

# Tessera: the two commands a new machine needs are `make run` and `make test`.

CARGO ?= cargo

.PHONY: run test test-memory test-postgres check fmt lint deps-check

## Start the service on http://127.0.0.1:8080 in development mode (see README).
## STORAGE=memory make run needs no database at all.
run:
	@if [ "$${STORAGE:-postgres}" = "memory" ]; then \
		$(CARGO) run --release -p tessera -- serve --dev; \
	else \
		url=$$(scripts/dev-postgres.sh) || exit 1; \
		DATABASE_URL="$$url" $(CARGO) run --release -p tessera -- serve --dev; \
	fi

## Every test suite: everything on in-memory storage, then the HTTP suite and the
## repository conformance suite on PostgreSQL (found or started by scripts/dev-postgres.sh,
## or TEST_DATABASE_URL). Without PostgreSQL the second pass is skipped, unless CI is set.
test: test-memory test-postgres

NEXTEST = $(if $(shell command -v cargo-nextest 2>/dev/null),$(CARGO) nextest run --no-fail-fast,$(CARGO) test --no-fail-fast)

test-memory:
	$(NEXTEST) --workspace

test-postgres:
	@server=$${TEST_DATABASE_URL:-$$(scripts/dev-postgres.sh --server)}; \
	if [ -z "$$server" ]; then \
		if [ -n "$$CI" ]; then echo "CI: PostgreSQL is required for the tests"; exit 1; fi; \
		echo "skipping the PostgreSQL pass: no server (see scripts/dev-postgres.sh)"; exit 0; \
	fi; \
	echo "PostgreSQL pass against $$server"; \
	TEST_DATABASE_URL="$$server" CI=1 TEST_STORAGE=postgres $(NEXTEST) -p tessera -p tessera-postgres

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

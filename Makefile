# Tessera: the two commands a new machine needs are `make run` and `make test`.

CARGO ?= cargo

.PHONY: run test fuzz bench bench-micro check fmt lint deps-check

## Start the service on http://127.0.0.1:8080 in development mode (see README).
## STORAGE=memory make run needs no database at all.
run:
	@if [ "$${STORAGE:-postgres}" = "memory" ]; then \
		$(CARGO) run --release -p tessera -- serve --dev; \
	else \
		url=$$(scripts/dev-postgres.sh) || exit 1; \
		DATABASE_URL="$$url" $(CARGO) run --release -p tessera -- serve --dev; \
	fi

## Every test suite: everything on in-memory storage (the Postgres adapter's own tests
## included), then the HTTP suite again on PostgreSQL. The server comes from
## TEST_DATABASE_URL, or is found or started by scripts/dev-postgres.sh. Without one the
## PostgreSQL tests are skipped, unless CI is set, where a missing database fails.
NEXTEST = $(if $(shell command -v cargo-nextest 2>/dev/null),$(CARGO) nextest run --no-fail-fast,$(CARGO) test --no-fail-fast)

test:
	@server=$${TEST_DATABASE_URL:-$$(scripts/dev-postgres.sh --server)}; \
	if [ -z "$$server" ]; then \
		if [ -n "$$CI" ]; then echo "CI: PostgreSQL is required for the tests"; exit 1; fi; \
		echo "no PostgreSQL server: its tests will be skipped (see scripts/dev-postgres.sh)"; \
		$(NEXTEST) --workspace; exit $$?; \
	fi; \
	echo "PostgreSQL tests against $$server"; \
	export TEST_DATABASE_URL="$$server"; \
	$(NEXTEST) --workspace && \
	echo "HTTP suite on PostgreSQL" && \
	TEST_STORAGE=postgres $(NEXTEST) -p tessera --test api

## Schema-driven fuzzing against /openapi.json (schemathesis, pinned in fuzz/).
## FUZZ_MAX_EXAMPLES bounds the run (default 100 per operation and phase).
fuzz:
	scripts/fuzz.sh

## Load benchmarks on PostgreSQL against pgbench ceilings (wrk over loopback; see
## scripts/bench.py). Writes docs/benchmarks.md. BENCH_SMOKE=1 for a few-second check.
bench:
	python3 scripts/bench.py

## Criterion micro-benchmarks of the hot pure functions: the value-type parsers, token
## verification, rendering a page of tasks to JSON.
bench-micro:
	$(CARGO) bench -p tessera-domain --bench parsers
	$(CARGO) bench -p tessera-crypto --bench tokens
	$(CARGO) bench -p tessera-http --bench render

## Everything CI checks.
check: fmt lint deps-check test fuzz

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

# Tessera: the two commands a new machine needs are `make run` and `make test`.

CARGO ?= cargo

.PHONY: run test test-web screenshots fuzz fuzz-targets bench bench-micro check fmt lint deps-check audit

## Start the service on http://127.0.0.1:8080 in development mode (see README): on
## PostgreSQL when one is found or can be started, else on SQLite in .tessera/tessera.db.
## STORAGE=sqlite picks SQLite directly; STORAGE=memory needs no database at all.
run:
	@case "$${STORAGE:-postgres}" in \
	memory) \
		$(CARGO) run --release -p tessera -- serve --dev ;; \
	sqlite) \
		STORAGE=sqlite $(CARGO) run --release -p tessera -- serve --dev ;; \
	*) \
		if url=$$(scripts/dev-postgres.sh); then \
			DATABASE_URL="$$url" $(CARGO) run --release -p tessera -- serve --dev; \
		else \
			echo "tessera dev: no PostgreSQL found or startable; serving on SQLite in .tessera/tessera.db"; \
			STORAGE=sqlite $(CARGO) run --release -p tessera -- serve --dev; \
		fi ;; \
	esac

## Every test suite: everything on in-memory storage (the Postgres and SQLite adapters'
## own tests included), then the HTTP suite again on PostgreSQL and on SQLite. The server comes from
## TEST_DATABASE_URL, or is found or started by scripts/dev-postgres.sh. Without one the
## PostgreSQL tests are skipped, unless CI is set, where a missing database fails.
NEXTEST = $(if $(shell command -v cargo-nextest 2>/dev/null),$(CARGO) nextest run --no-fail-fast,$(CARGO) test --no-fail-fast)

test:
	@server=$${TEST_DATABASE_URL:-$$(scripts/dev-postgres.sh --server)}; \
	if [ -z "$$server" ]; then \
		if [ -n "$$CI" ]; then echo "CI: PostgreSQL is required for the tests"; exit 1; fi; \
		echo "no PostgreSQL server: its tests will be skipped (see scripts/dev-postgres.sh)"; \
		$(NEXTEST) --workspace && TEST_STORAGE=sqlite $(NEXTEST) -p tessera --test api && \
			$(MAKE) --no-print-directory test-web; exit $$?; \
	fi; \
	echo "PostgreSQL tests against $$server"; \
	export TEST_DATABASE_URL="$$server"; \
	$(NEXTEST) --workspace && \
	echo "HTTP suite on PostgreSQL" && \
	TEST_STORAGE=postgres $(NEXTEST) -p tessera --test api && \
	echo "HTTP suite on SQLite" && \
	TEST_STORAGE=sqlite $(NEXTEST) -p tessera --test api && \
	$(MAKE) --no-print-directory test-web

## The web app in a real browser: Debian's Chromium (CHROMIUM, default /usr/bin/chromium)
## driven by Playwright for Python (installed into .tessera/web-venv on first use, from
## tests/web/requirements.txt), against the debug binary, built first (TESSERA_BIN names
## another; by default the tests find it in cargo's target directory, CARGO_TARGET_DIR
## included); other origins are blocked.
## Screenshots go to .tessera/screenshots (`make screenshots`: docs/screenshots/).
test-web:
	@if [ ! -x .tessera/web-venv/bin/pytest ] || \
		[ tests/web/requirements.txt -nt .tessera/web-venv/installed ]; then \
		echo "test-web: installing Playwright for Python and the mail catcher into .tessera/web-venv"; \
		python3 -m venv .tessera/web-venv && \
		.tessera/web-venv/bin/pip install -q -r tests/web/requirements.txt && \
		touch .tessera/web-venv/installed || exit 1; \
	fi
	@if [ ! -x "$${CHROMIUM:-/usr/bin/chromium}" ]; then \
		echo "test-web: no Chromium at $${CHROMIUM:-/usr/bin/chromium} (Debian: apt-get install chromium)"; exit 1; \
	fi
	@if [ -z "$$TESSERA_BIN" ]; then $(CARGO) build -q -p tessera --bin tessera; fi
	CARGO="$(CARGO)" .tessera/web-venv/bin/pytest -q tests/web

## The screenshots of the README (docs/screenshots/), taken by the browser tests.
screenshots:
	WEB_SCREENSHOTS=docs/screenshots $(MAKE) --no-print-directory test-web

## Schema-driven fuzzing against /openapi.json (schemathesis, pinned in fuzz/).
## FUZZ_MAX_EXAMPLES bounds the run (default 100 per operation and phase).
fuzz:
	scripts/fuzz.sh

# The cargo-fuzz targets; token inputs go just past the verifier's 8 KiB limit, bodies
# to the 64 KiB body limit.
FUZZ_SECONDS ?= 30
FUZZ_CARGO ?= $(CARGO) +nightly
FUZZ_TOKEN_TARGETS = token_verify token_claims
FUZZ_BODY_TARGETS = json_strict body_signup body_signin body_signout body_create_task \
	body_replace_task body_patch_task body_update_me body_change_password body_delete_account

## Coverage-guided fuzzing (cargo-fuzz, libFuzzer; needs a nightly toolchain) of token
## parsing and of each JSON body type: every target in fuzz/fuzz_targets runs for
## FUZZ_SECONDS (default 30) from fuzz/corpus/<target>, seeded from fuzz/seeds/<target>.
## Fails if any target finds a crash; the input is kept in fuzz/artifacts/<target>/.
fuzz-targets:
	$(FUZZ_CARGO) fuzz build
	@failed=""; \
	for target in $(FUZZ_TOKEN_TARGETS) $(FUZZ_BODY_TARGETS); do \
		case " $(FUZZ_TOKEN_TARGETS) " in *" $$target "*) max_len=9000;; *) max_len=65536;; esac; \
		mkdir -p fuzz/corpus/$$target; \
		if [ -d fuzz/seeds/$$target ]; then cp fuzz/seeds/$$target/* fuzz/corpus/$$target/; fi; \
		echo "fuzz-targets: $$target for $(FUZZ_SECONDS)s"; \
		$(FUZZ_CARGO) fuzz run $$target fuzz/corpus/$$target -- \
			-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=$$max_len \
			-timeout=10 -print_final_stats=1 || failed="$$failed $$target"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz-targets: crash found in:$$failed (see fuzz/artifacts/)"; exit 1; fi; \
	echo "fuzz-targets: no crash"

## Load benchmarks on PostgreSQL against pgbench ceilings (wrk over loopback; see
## scripts/bench.py). Writes docs/benchmarks.md. BENCH_SMOKE=1 for a few-second check;
## BENCH_STORAGE=sqlite for the same routes on SQLite beside memory storage;
## BENCH_ONLY=attack for only the list and /health under slow-head and never-read attacks.
bench:
	python3 scripts/bench.py

## Criterion micro-benchmarks of the hot pure functions: the value-type parsers, token
## verification, rendering a page of tasks to JSON.
bench-micro:
	$(CARGO) bench -p tessera-domain --bench parsers
	$(CARGO) bench -p tessera-crypto --bench tokens
	$(CARGO) bench -p tessera-http --bench render

## Everything CI checks.
check: fmt lint deps-check audit test fuzz fuzz-targets

fmt:
	$(CARGO) fmt --all --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## The dependency policy of deny.toml (licences, bans, sources) and no unused
## dependency (cargo-deny and cargo-machete: `cargo install cargo-deny cargo-machete`).
audit:
	cargo deny check bans licenses sources
	cargo machete

# Crates that exactly one workspace member may depend on directly (`crate:member`): the
# adapter for that technology. Others reach it only through the adapter.
OWNED_DEPS = lettre:tessera-mail

## The domain and application crates must not reach a framework, database, runtime or
## mail library; each crate of OWNED_DEPS is used directly by its adapter alone.
deps-check:
	@for pkg in tessera-domain tessera-application; do \
		for dep in actix-web actix-http diesel diesel-async deadpool tokio serde jsonwebtoken bcrypt lettre; do \
			if [ -n "$$($(CARGO) tree -q -p $$pkg -e normal -i $$dep 2>/dev/null)" ]; then \
				echo "$$pkg depends on $$dep: dependencies must point inward"; exit 1; \
			fi; \
		done; \
	done; \
	for pair in $(OWNED_DEPS); do \
		dep=$${pair%%:*}; owner=$${pair#*:}; \
		users=$$($(CARGO) tree -q --workspace -e normal -i $$dep --depth 1 --prefix none 2>/dev/null \
			| sed 1d | cut -d' ' -f1 | sort -u | tr '\n' ' '); \
		if [ "$$users" != "$$owner " ]; then \
			echo "$$dep is used directly by: $${users:-nothing}; only $$owner may"; exit 1; \
		fi; \
	done; echo "dependency direction: ok"

# genevae: `make setup` once, then `make test`, `make pipeline [DATA=cohort.csv LABELS=column]`, `make audit`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GENEVAE := node bin/genevae.js
DEMO := data/generated/demo-cohort.csv
# Matrix file(s) for `make pipeline`; empty runs the built-in demo cohort.
DATA ?=
# Label column: in the matrix, or in METADATA when that is given.
LABELS ?=
# Optional metadata CSV/TSV joined on sample id.
METADATA ?=
# Any further `genevae run` options, e.g. ARGS="--genes-in-rows --no-dp".
ARGS ?=
# Debian packages behind the reference cross-checks and the browser test.
REFERENCE_PACKAGES := python3-scipy python3-sklearn python3-pandas python3-torch python3-leidenalg chromium

.PHONY: help setup reference-tools build test test-unit test-e2e typecheck pipeline audit bench clean

help:
	@echo "make setup                         install dependencies and build (run once)"
	@echo "make test                          typecheck, unit tests, end-to-end tests on the real cohorts"
	@echo "make pipeline [DATA=f LABELS=col]  run every stage; without DATA on the built-in demo cohort"
	@echo "make audit                         verify the privacy ledger and print the budget table"
	@echo "make bench                         benchmarks against reference implementations"

setup: reference-tools
	npm ci --no-audit --no-fund
	npm run build
	@echo "setup done: try 'make pipeline' (demo cohort) or 'make test'"

# Reference libraries are optional: tests that need one skip with a message when it is missing.
reference-tools:
	@missing=$$(for p in $(REFERENCE_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "reference tools: all installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing reference tools:" $$missing; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) \
	    || echo "WARNING: apt-get could not install $$missing; the cross-checks that need them will be skipped"; \
	else echo "NOTE: not root or no apt-get; cross-checks needing $$missing will be skipped"; fi

# Rebuild only when a source changed, so `make pipeline` and `make audit` start at once.
SOURCES := $(shell find src pipeline bench -name '*.ts' 2>/dev/null) tsconfig.json package.json

build: dist/build-info.json

dist/build-info.json: $(SOURCES)
	npm run build

typecheck:
	npm run typecheck

test: build typecheck test-unit test-e2e

test-unit:
	npx vitest run

test-e2e:
	npx vitest run --config vitest.e2e.config.ts

pipeline: build
ifeq ($(strip $(DATA)),)
	$(GENEVAE) demo --out $(DEMO)
	$(GENEVAE) run $(DEMO) --label-column disease $(ARGS)
else ifneq ($(strip $(METADATA)),)
	$(GENEVAE) run $(DATA) --metadata '$(METADATA)' $(if $(LABELS),--metadata-label-column '$(LABELS)') $(ARGS)
else
	$(GENEVAE) run $(DATA) $(if $(LABELS),--label-column '$(LABELS)') $(ARGS)
endif

audit: build
	$(GENEVAE) audit

bench: build
	npm run bench

clean:
	rm -rf dist data/generated

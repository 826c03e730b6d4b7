# csc-insight: `make demo` runs the product on a synthetic authority; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
# Debian packages the tests need: the PostgreSQL 15 server (the tests start their own), a
# Java runtime for the local Spark session, chromium for the browser tests (Playwright
# drives Debian's chromium; no browser is downloaded at run time), Pango for WeasyPrint's
# PDF meeting packs, and poppler-utils (pdftotext) for the tests that read those PDFs.
SYSTEM_PACKAGES := postgresql openjdk-17-jre-headless chromium libpango-1.0-0 libpangoft2-1.0-0 \
	poppler-utils

.PHONY: demo test lint typecheck bench lock clean system-deps

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "csc-insight needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/csc-insight demo $(ARGS)

system-deps:
	bash scripts/install-system-deps.sh $(SYSTEM_PACKAGES)

test: $(STAMP) system-deps lint typecheck
	$(BIN)/pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

# Re-resolve the pinned versions (needs the package registry).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -c constraints.txt '.[dev]'
	.lock-venv/bin/pip freeze --exclude csc-insight > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) csc-insight-data .pytest_cache .mypy_cache .ruff_cache

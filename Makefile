# nao-analysis: `make all` builds the default edition, `make test` runs the tests. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EDITION ?= nao-2023
JOBS ?=
STAMP := $(VENV)/.installed

.PHONY: all build test lint lab bench baselines lock clean clean-outputs browser-deps help

all: $(STAMP) build

help:
	@echo "make all [EDITION=offline]   set up .venv (exact pins) and build an edition"
	@echo "make test                    lint, notebook hygiene and the test suite"
	@echo "make lab                     JupyterLab on notebooks/ with the nao-analysis kernel"
	@echo "make bench                   cold / no-op / bare-compute timings of the offline edition"
	@echo "make baselines               refresh the figure regression baselines on purpose"

# Exact pins from requirements.lock; the package itself is installed editable without re-resolving.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name nao-analysis --display-name "nao-analysis (Python 3.11)" > /dev/null
	touch $(STAMP)

build: $(STAMP)
	$(BIN)/nao-analysis build --edition $(EDITION) $(if $(JOBS),--jobs $(JOBS))

lint: $(STAMP)
	$(BIN)/ruff check src tests tools
	$(BIN)/ruff format --check src tests tools
	$(BIN)/python tools/check_notebooks.py notebooks

# pytest exits 5 when it collects no test: that is a broken suite, not a pass.
test: $(STAMP) lint browser-deps
	$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# Headless Chromium for tests/test_browser.py (Debian's package). Installed only when missing, and only as
# root; otherwise the browser test skips with its reason.
browser-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium > /dev/null; } \
	  || echo "browser-deps: could not install chromium - tests/test_browser.py will skip" >&2; \
	else echo "browser-deps: /usr/bin/chromium missing and not root - tests/test_browser.py will skip" >&2; fi

# Containers run as root, which Jupyter refuses without --allow-root; the URL (with its token) is printed on start.
lab: $(STAMP)
	@echo "JupyterLab on notebooks/: open the http://127.0.0.1:8888/lab?token=... URL printed below"
	$(BIN)/jupyter lab --notebook-dir notebooks --ServerApp.open_browser=False --ServerApp.ip=127.0.0.1 \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

bench: $(STAMP)
	$(BIN)/python tools/bench.py

baselines: $(STAMP)
	NAO_UPDATE_BASELINES=1 $(BIN)/python -m pytest -q tests/test_figure_regression.py

# Regenerate the lock from pyproject's direct dependencies (needs the registry), then environment.yml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet . '.[dev]'
	{ echo "# Exact pins for nao-analysis (Python 3.11). Regenerate with: make lock"; .lock-venv/bin/pip freeze --exclude-editable | grep -v -e '^nao-analysis' -e '^-e'; } > requirements.lock
	rm -rf .lock-venv
	$(PYTHON) tools/sync_environment.py

clean-outputs:
	rm -rf figures/*/ reports/*/

clean: clean-outputs
	rm -rf $(VENV) data/processed/*

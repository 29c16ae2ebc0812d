# The README's two commands are `make demo` and `make test`. Each builds .venv from scratch when it is
# missing or older than pyproject.toml, so a fresh clone needs nothing but python3 (and, for the browser
# tests, root for Debian's chromium package).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is installed on its own, pinned, before the project: a bare `torch` requirement would let the
# resolver pull the newest CUDA build (several GB) onto a CPU-only machine.
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: help demo test lint format pytest chromium bench clean

help:
	@echo "make demo    - build .venv, run the whole pipeline on tiny models and serve the site"
	@echo "make test    - build .venv (dev), install chromium, run linters and the test suite"
	@echo "make bench   - medlb vs lm-eval wall-time benchmark (bench/README.md)"

$(VENV)/.base:
	$(PYTHON) -m venv $(VENV)
	touch $@

# pip -q -q: errors still print, but not a warning per package about a machine's pip config.
$(VENV)/.runtime: $(VENV)/.base pyproject.toml
	$(BIN)/pip install --quiet --quiet --disable-pip-version-check $(TORCH_SPEC)
	$(BIN)/pip install --quiet --quiet --disable-pip-version-check -e '.[eval,site]'
	touch $@

$(VENV)/.dev: $(VENV)/.runtime pyproject.toml
	$(BIN)/pip install --quiet --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(VENV)/.runtime
	$(BIN)/medlb demo

# MEDLB_CHROMIUM (a browser binary already on the machine) skips the install.
chromium:
	@test -x "$${MEDLB_CHROMIUM:-/usr/bin/chromium}" || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(VENV)/.dev
	$(BIN)/ruff check runner tests bench
	$(BIN)/ruff format --check runner tests bench
	$(BIN)/zizmor --offline --persona pedantic .github/workflows
	$(BIN)/actionlint

format: $(VENV)/.dev
	$(BIN)/ruff check --fix runner tests bench
	$(BIN)/ruff format runner tests bench

pytest: $(VENV)/.dev chromium
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint pytest

bench: $(VENV)/.dev
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf $(VENV) .site-build site-out .medlb-demo .pytest_cache .ruff_cache

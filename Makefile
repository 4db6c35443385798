# odradek: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: run test bench install install-dev system-deps lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install and start everything in one process (data in ./odradek-data)
run: install
	$(VENV)/bin/odradek dev

## system packages the tests use (CI runs as root on Debian)
system-deps:
	@command -v kcat >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null; fi; }

## make test: install what tests need and run the gate (lint, format, types, layers, tests)
test: install-dev system-deps
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" scripts/gate

## make bench: benchmarks (never part of the tests)
bench: install-dev
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

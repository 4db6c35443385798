# odradek: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: run test bench bench-streams chaos install install-dev system-deps lint clean

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

## system packages the tests use (CI runs as root on Debian): kcat; Go and sarama for the Go client
## tests (built offline against /usr/share/gocode); Node.js/npm for kafkajs, if the machine has none;
## PostgreSQL's server for Connect's JDBC sink tests (the tests start a private server themselves)
## and curl for the README's Connect recipes; ZooKeeper (and its JRE) for the cluster tests and
## `odradek cluster up` (the tests start private servers on free ports, never the Debian service)
SYSTEM_PACKAGES := kcat golang-go golang-github-shopify-sarama-dev postgresql curl zookeeper
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## kafkajs and its codecs, pinned by tests/compat/kafkajs/package-lock.json
KAFKAJS := tests/compat/kafkajs
$(KAFKAJS)/node_modules/.installed: $(KAFKAJS)/package-lock.json | system-deps
	cd $(KAFKAJS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## make test: install what tests need and run the gate (lint, format, types, layers, tests)
test: install-dev system-deps $(KAFKAJS)/node_modules/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" scripts/gate

## make chaos: long runs kept out of make test (the 30 s client quota hold; the cluster fault tests:
## CHAOS_KILLS leader kills, CHAOS_PAUSES pauses, CHAOS_PARTITIONS partitions, CHAOS_TAILS lost
## unflushed tails; see docs/cluster.md)
CHAOS_KILLS ?= 50
CHAOS_PAUSES ?= 20
CHAOS_ZK_PAUSES ?= 10
CHAOS_PARTITIONS ?= 20
CHAOS_ROLLS ?= 3
CHAOS_TAILS ?= 10
chaos: install-dev system-deps
	ODRADEK_QUOTA_SECONDS=30 PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest -q -p no:cacheprovider tests/compat/test_security_quotas.py
	ODRADEK_CHAOS=1 ODRADEK_CHAOS_KILLS=$(CHAOS_KILLS) ODRADEK_CHAOS_PAUSES=$(CHAOS_PAUSES) \
	  ODRADEK_CHAOS_ZK_PAUSES=$(CHAOS_ZK_PAUSES) ODRADEK_CHAOS_PARTITIONS=$(CHAOS_PARTITIONS) \
	  ODRADEK_CHAOS_ROLLS=$(CHAOS_ROLLS) ODRADEK_CHAOS_TAILS=$(CHAOS_TAILS) \
	  ODRADEK_CHAOS_REPORT=$(CURDIR)/chaos-report.json ODRADEK_CHAOS_CLIENT_DEBUG=eos \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest -q -s -p no:cacheprovider \
	  --log-file=$(CURDIR)/chaos-client.log --log-file-level=DEBUG tests/chaos

CLUSTER_CATCHUP_MB ?= 1024
## make bench: benchmarks (never part of the tests)
bench: install-dev
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/run.py
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/security_bench.py
	$(MAKE) bench-streams
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/sql_bench.py
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/cluster_bench.py --catchup-mb $(CLUSTER_CATCHUP_MB)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/metadata_image_bench.py

## make bench-streams: odradek.streams against Quix Streams (own venv bench/.venv-quix), and restore
bench-streams: install-dev
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/streams_bench.py --e2e
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) bench/streams/restore_bench.py --size-mb 1024

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .cache $(KAFKAJS)/node_modules

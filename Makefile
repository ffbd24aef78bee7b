# The front door: see README.md. Every target uses the project venv that `make setup` builds.
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: setup test lint

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-tools.txt policy/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

test: setup
	$(PY) -m pytest -n 2 -q

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy __main__.py components ecr_platform_tools policy/rules

# The quickstart: the `local` stack in an AWS emulator (moto server on 127.0.0.1:31566), state in
# .local-state/. Installs the Pulumi CLI with Pulumi's official installer when it is missing.
.PHONY: up-local down-local
up-local: setup
	bash scripts/local.sh up

down-local: setup
	bash scripts/local.sh down

# The offline preview: the program under SDK mocks, the policy pack over the analyzer protocol, and
# who could push where. No cloud credentials, no Pulumi CLI. The guard is policy/ with
# policy/config/$(STACK).json. Optional: FORMAT=text|markdown|json, COMPARE=<git ref> (what changed),
# POLICY_REF=<git ref> (judge with policy/ as it is there: a pull request's base), POLICY_CONFIG=<file>,
# MAX_CHARS=<n> (markdown; 0 = no limit). The check exits 0 clean, 1 mandatory violation, 2 invalid
# config/usage, 3 the check failed; make turns any non-zero into its own 2 ("Error N" names the
# check's code), so scripts that need the code call venv/bin/ecr-platform-check directly.
.PHONY: check
check: setup
	$(PY) -m ecr_platform_tools.check --stack $(STACK) $(if $(FORMAT),--format $(FORMAT)) \
		$(if $(COMPARE),--compare $(COMPARE)) $(if $(POLICY_REF),--policy-ref $(POLICY_REF)) \
		$(if $(POLICY_CONFIG),--policy-config $(POLICY_CONFIG)) $(if $(MAX_CHARS),--max-chars $(MAX_CHARS))

# Benchmarks of the program and the policy pack against their floors (10, 100, 1000 teams), document
# sizes and `make check` times; rewrites the generated part of BENCHMARKS.md. Takes ~25 minutes.
# `venv/bin/python bench/run.py --quick` is a 30-second smoke run that only prints.
.PHONY: bench
bench: setup
	$(PY) bench/run.py --write BENCHMARKS.md

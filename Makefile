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
# who could push where. No cloud credentials, no Pulumi CLI. Exit 0 clean, 1 mandatory violation,
# 2 invalid config. Optional: FORMAT=text|markdown|json, COMPARE=<git ref> (e.g. origin/main).
.PHONY: check
check: setup
	$(PY) -m ecr_platform_tools.check --stack $(STACK) $(if $(FORMAT),--format $(FORMAT)) $(if $(COMPARE),--compare $(COMPARE))

# Benchmarks of the program and the policy pack against their floors (10, 100, 1000 teams), document
# sizes and `make check` times; rewrites the generated part of BENCHMARKS.md. Takes ~25 minutes.
# `venv/bin/python bench/run.py --quick` is a 30-second smoke run that only prints.
.PHONY: bench
bench: setup
	$(PY) bench/run.py --write BENCHMARKS.md

# Mutation testing (not part of `make test`/CI; a scheduled workflow runs it): per module, how many
# mutants its focused tests kill (mutation/modules.toml), without the equivalent mutants listed with a
# reason in mutation/equivalent.toml. Slow: MODULES="github_trust access" picks modules, JOBS=2 runs
# two side by side. Report in build/mutation/report.md.
.PHONY: mutation
mutation: setup
	$(PY) -m pip install --quiet -r requirements-mutation.txt
	$(PY) mutation/run.py $(foreach m,$(MODULES),--module $(m)) --jobs $(or $(JOBS),1)

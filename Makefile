# The front door: see README.md. Every target uses the project venv that `make setup` builds.
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: setup test lint

setup: $(VENV)/.installed

# One line per step, saying what it waits for; pip itself stays quiet (its errors still print).
# Installing is mostly unpacking and byte-compiling (pulumi-aws alone is ~270 MB), so it comes in two parts.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-tools.txt policy/requirements.txt pyproject.toml
	@echo "setup 1/5: creating $(VENV)/ with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV)
	@echo "setup 2/5: upgrading pip"
	@$(PY) -m pip install --quiet --upgrade pip
	@echo "setup 3/5: installing the program, the policy pack and the check (Pulumi SDK, AWS and GitHub providers, pydantic, mypy; ~450 MB): the longest step"
	@$(PY) -m pip install --quiet -r requirements.txt -r policy/requirements.txt -r requirements-tools.txt
	@echo "setup 4/5: installing the test and lint tools (moto, boto3, pytest, ruff, actionlint, shellcheck; ~350 MB)"
	@$(PY) -m pip install --quiet -r requirements-dev.txt
	@echo "setup 5/5: installing this project (editable), for the ecr-platform-check command"
	@$(PY) -m pip install --quiet --no-deps -e .
	@touch $@
	@echo "setup: done, $(VENV)/ is $$(du -sh $(VENV) | cut -f1)"

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

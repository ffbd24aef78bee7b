"""Shared fixtures: one program run of the fixture dev stack (tests/fixtures) and one policy pack process,
configured with that stack's own pack config, per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.program import ROOT, ProgramRun
from review.check import PolicyPack
from review.guard import Guard, guard_for

from .. import fixtures


@pytest.fixture(scope="session")
def dev() -> ProgramRun:
    return fixtures.run_fixture("dev")


@pytest.fixture(scope="session")
def dev_guard() -> Iterator[Guard]:
    with guard_for("dev", fixtures.pack_config_file("dev")) as guard:
        yield guard


@pytest.fixture(scope="session")
def dev_pack(dev_guard: Guard) -> Iterator[PolicyPack]:
    with PolicyPack(dev_guard.pack_dir, dev_guard.config) as pack:
        yield pack


def run_cli(*args: str, cwd: Path = ROOT, environ: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The check as a user runs it: a fresh process, exit code and both streams (`environ`: instead of ours)."""
    env = {**(os.environ if environ is None else environ), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "review.check", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

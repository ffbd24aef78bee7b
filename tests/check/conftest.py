"""Shared fixtures: one program run of the dev stack and one policy pack process per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecr_platform_tools.check import POLICY_PACK, PolicyPack, read_policy_config
from ecr_platform_tools.program import ROOT, ProgramRun, run_stack


@pytest.fixture(scope="session")
def dev() -> ProgramRun:
    return run_stack("dev")


@pytest.fixture(scope="session")
def dev_pack() -> Iterator[PolicyPack]:
    with PolicyPack(POLICY_PACK, read_policy_config(POLICY_PACK / "config" / "dev.json")) as pack:
        yield pack


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The check as a user runs it: a fresh process, exit code and both streams."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "ecr_platform_tools.check", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

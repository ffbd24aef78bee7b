"""Fixtures for program tests: small readable configs, and the program run fresh under mocks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from engine.program import ProgramRun, run_program

ACCOUNT = "210987654321"
REGION = "us-west-2"


def base_config() -> dict[str, Any]:
    """One team, one GitHub repository: the smallest realistic stack (project keys unprefixed)."""
    return {
        "github": {"organizations": ["acme"]},
        "accounts": {"prod-cluster": "333333333333", "builders": "444444444444"},
        "teams": {
            "payments": {
                "repositories": ["api", {"name": "worker", "imageTagMutability": "MUTABLE"}],
                "pullAccounts": ["prod-cluster"],
                "github": [{"repository": "acme/payments-api", "branches": ["main"]}],
            }
        },
    }


def stack_config(project: dict[str, Any], region: str = REGION, account: str = ACCOUNT) -> dict[str, Any]:
    """Fully qualified stack config, as Pulumi hands it to the program."""
    return {"aws:region": region, "aws:allowedAccountIds": [account],
            **{f"ecr-platform:{key}": value for key, value in project.items()}}


@pytest.fixture
def config() -> dict[str, Any]:
    return copy.deepcopy(base_config())


@pytest.fixture
def run() -> Callable[..., ProgramRun]:
    """Run the program under mocks with a project config; each call is a fresh program run."""

    def _run(project: dict[str, Any], stack: str = "dev", **kwargs: Any) -> ProgramRun:
        return run_program(stack_config(project, **kwargs), stack=stack)

    return _run

"""Fixtures for the emulator suite: a moto server per stack, with the stack's resources replayed.

Each stack gets its own server started with `MOTO_ACCOUNT_ID` set to the stack's account
(`aws:allowedAccountIds`), in the stack's region, so the ARNs moto makes are the ARNs the
program's documents name (dev 111111111111, prod 210987654321, local moto's 123456789012).
Mapping ARNs between accounts instead would hide exactly the mistakes this suite looks for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from devtools.emulator import MotoServer, aws_environment
from engine.program import ProgramRun, run_stack

from .replay import ReplayReport, replay

STACKS = ["dev", "prod", "local"]


@pytest.fixture(scope="session", autouse=True)
def _no_real_aws() -> Iterator[None]:
    """Fake credentials, no metadata service, no profiles, no proxy for loopback, for this process."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in aws_environment().items():
            patch.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            patch.delenv(key, raising=False)
        yield


@dataclass
class Deployment:
    """One stack's resources created in a fresh emulator account."""

    stack: str
    run: ProgramRun
    server: MotoServer
    report: ReplayReport

    @property
    def account(self) -> str:
        return str(self.run.config["aws:allowedAccountIds"][0])

    @property
    def region(self) -> str:
        return str(self.run.config["aws:region"])


@pytest.fixture(scope="session")
def deployment() -> Iterator[Callable[[str], Deployment]]:
    """`deployment("dev")`: the dev stack replayed into its own server, made once per session."""
    made: dict[str, Deployment] = {}

    def deploy(stack: str) -> Deployment:
        if stack not in made:
            run = run_stack(stack)
            account = str(run.config["aws:allowedAccountIds"][0])
            server = MotoServer(account_id=account, region=str(run.config["aws:region"])).start()
            try:
                report = replay(server, run.resources)
            except BaseException:
                server.stop()
                raise
            made[stack] = Deployment(stack, run, server, report)
        return made[stack]

    yield deploy
    for deployed in made.values():
        deployed.server.stop()


@pytest.fixture(scope="session")
def fresh_server() -> Iterator[MotoServer]:
    """A server of its own in moto's default account, for the refusal and limit tests."""
    with MotoServer() as server:
        yield server

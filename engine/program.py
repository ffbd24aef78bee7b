"""Run the real program under the Pulumi SDK's mocks and return what it would declare.

This is the official unit-test path (`pulumi.runtime.set_mocks`): the program and the
pulumi-aws SDK are real, only the engine is replaced. Each run gets a fresh event loop and a
fresh root stack, so runs are independent of each other.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import runpy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from .mocks import RecordingMocks, RecordingMonitor
from .resource import Resource

PROJECT = "ecr-platform"
PLACEHOLDER_ACCOUNT = "123456789012"  # the account a stack without aws:allowedAccountIds is judged as
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")  # where the AWS provider looks without aws:region
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ProgramRun:
    """What one run of the program declared: resources in declaration order and stack outputs."""

    stack: str
    config: dict[str, Any]
    resources: list[Resource]
    outputs: dict[str, Any]
    simulated: frozenset[str] = frozenset()
    """Values only this offline run has: ids and names the mocks made up where AWS would choose."""

    def of_type(self, type_token: str) -> list[Resource]:
        """The resources of one pulumi type token, e.g. `aws:ecr/repository:Repository`."""
        return [r for r in self.resources if r.type == type_token]

    def named(self, type_token: str, name: str) -> Resource:
        """The one resource of `type_token` whose logical name is `name`."""
        found = [r for r in self.of_type(type_token) if r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {type_token} named {name!r}")
        return found[0]


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it (a 1,000-team stack file: 0.9 s in Python, 0.1 s in C)."""


def load_stack_config(path: Path) -> dict[str, Any]:
    """The `config:` block of a `Pulumi.<stack>.yaml`, keys fully qualified (`project:key`)."""
    document = yaml.load(path.read_text(), Loader=_SAFE_LOADER) or {}
    config = document.get("config") or {}
    if not isinstance(config, Mapping):
        raise ValueError(f"{path}: `config` must be a mapping")
    return {(key if ":" in key else f"{PROJECT}:{key}"): value for key, value in config.items()}


def stack_config_path(stack: str, project_dir: Path = ROOT) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def run_program(
    config: Mapping[str, Any],
    stack: str = "dev",
    project_dir: Path = ROOT,
    preview: bool = False,
    mocks: RecordingMocks | None = None,
) -> ProgramRun:
    """Run `__main__.py` under mocks with `config` (fully qualified keys, YAML-shaped values).

    Raises whatever the program raises (a `pulumi.RunError` for invalid configuration).
    """
    if mocks is None:
        # The program refuses a stack without a region (or, in prod, without its account) before any
        # invoke: these stand-ins only answer the invokes of a stack that may leave them out (dev's account).
        accounts = config.get("aws:allowedAccountIds") or [PLACEHOLDER_ACCOUNT]
        region = config.get("aws:region") or next((os.environ[v] for v in REGION_VARIABLES if os.environ.get(v)), "")
        mocks = RecordingMocks(account_id=str(accounts[0]), region=str(region))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The SDK allocates many long-lived objects per resource and little cyclic garbage: the collector
    # would rescan them all again and again (44-56% of a 1000-team run, BENCHMARKS.md). Off for the
    # run; the next automatic collection after it finds what garbage there is.
    collecting = gc.isenabled()
    gc.disable()
    try:
        pulumi.runtime.set_all_config(
            {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
        )
        pulumi_settings.ROOT.set(None)
        monitor = RecordingMonitor(mocks)
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
        try:
            runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")
        finally:
            # Even a program that stops on bad config has registered the root stack: drain it,
            # or the next run in this process would wait on an RPC of a closed loop.
            _sync_await(wait_for_rpcs())
        root = pulumi_settings.get_root_resource()
        exported = getattr(root, "outputs", {}) or {}
        outputs = _sync_await(pulumi.Output.from_input(exported).future()) or {}
        return ProgramRun(stack=stack, config=dict(config), resources=list(monitor.recorded), outputs=outputs,
                          simulated=frozenset(mocks.simulated))
    finally:
        # The mock monitor's worker threads each hold an event loop; ending the threads now lets
        # those loops close cleanly, instead of at interpreter exit with a traceback.
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()
        if collecting:
            gc.enable()


def run_stack(stack: str, project_dir: Path = ROOT, config_file: Path | None = None,
              preview: bool = False) -> ProgramRun:
    """Run the program with `Pulumi.<stack>.yaml` (or `config_file`), as `pulumi up` would."""
    config = load_stack_config(config_file or stack_config_path(stack, project_dir))
    return run_program(config, stack=stack, project_dir=project_dir, preview=preview)

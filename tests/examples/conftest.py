"""Stack files a user copies (examples/, docs/onboarding.md), judged as the CLI would judge them:
the program under the SDK mocks, the policy pack of this working tree over the analyzer protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.analyzer import PolicyPackClient, Violation
from engine.program import PROJECT, load_stack_config
from engine.resource import Resource

from ..policy.conftest import pack_client  # noqa: F401 (the fixture: one pack process per worker)


def judge(client: PolicyPackClient, pack_config: Mapping[str, Any],
          resources: Sequence[Resource]) -> list[Violation]:
    """What `pulumi preview --policy-pack-config <file>` reports: each resource's inputs, then the stack."""
    client.configure(pack_config)
    return client.analyze_all(resources)


def program_config(stack_file: Path) -> dict[str, Any]:
    """The `ecr-platform:` keys of a stack file without the prefix: what `load_settings` takes."""
    prefix = f"{PROJECT}:"
    return {key.removeprefix(prefix): value for key, value in load_stack_config(stack_file).items()
            if key.startswith(prefix)}

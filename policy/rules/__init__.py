"""The rules of the ecr-platform-guardrails policy pack, one module per concern.

Each module exports `POLICIES` and the resource types it judges (`MODELLED_TYPES`); `ALL_POLICIES`
is the pack in contract order, closed by `unjudged-resources` over the union of those types.
"""

from __future__ import annotations

from types import ModuleType

from pulumi_policy import Policy

from . import (
    closed_world,
    github_trust,
    least_privilege,
    lifecycle,
    policy_size,
    repository_policy,
    repository_settings,
    scanning,
    signing,
    team_isolation,
)

MODELLED_TYPES: frozenset[str] = frozenset().union(*(
    getattr(module, "MODELLED_TYPES", frozenset()) for module in list(globals().values())
    if isinstance(module, ModuleType) and module.__name__.startswith(f"{__name__}.")))
"""Every resource type some rule module (imported above, or by one of them) reads and judges: the closed
world (`closed_world.py`). A new module that exports MODELLED_TYPES widens it by being imported here."""

ALL_POLICIES: list[Policy] = [
    *scanning.POLICIES,
    *repository_settings.POLICIES,
    *lifecycle.POLICIES,
    *repository_policy.POLICIES,
    *github_trust.POLICIES,
    *least_privilege.POLICIES,
    *policy_size.POLICIES,
    *team_isolation.POLICIES,
    *signing.POLICIES,
    *closed_world.policies(MODELLED_TYPES),
]

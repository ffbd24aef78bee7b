"""The rules of the ecr-platform-guardrails policy pack, one module per concern.

Each module exports `POLICIES`; `ALL_POLICIES` is the pack in contract order.
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import (
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
]

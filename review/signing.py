"""Which repositories ECR signs on push, and with which Signer profile (from the signing configuration).

A repository is signed by the first rule of the `aws-native:ecr:SigningConfiguration` that covers it:
a rule without repository filters covers every repository, a filter is an ECR wildcard (`*`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from engine.resource import Resource

SIGNING_CONFIGURATION = "aws-native:ecr:SigningConfiguration"


def signed_repositories(resources: Sequence[Resource], repositories: Sequence[str]) -> dict[str, str] | None:
    """Repository -> the profile ARN that signs it; None when the stack declares no signing configuration."""
    configurations = [r for r in resources if r.type == SIGNING_CONFIGURATION]
    if not configurations:
        return None
    rules = [rule for c in configurations for rule in (c.inputs.get("rules") or []) if isinstance(rule, dict)]
    signed: dict[str, str] = {}
    for name in repositories:
        for rule in rules:
            filters = rule.get("repositoryFilters")
            if filters is None or any(fnmatch.fnmatchcase(name, str(f.get("filter"))) for f in filters):
                signed[name] = str(rule.get("signingProfileArn"))
                break
    return signed


def signing_lost(base: dict[str, str] | None, head: dict[str, str] | None, repositories: Sequence[str]) -> list[str]:
    """Repositories of the head stack that the base signed and the head does not."""
    return sorted(name for name in repositories if name in (base or {}) and name not in (head or {}))

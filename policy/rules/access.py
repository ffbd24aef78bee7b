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
- exclusive attachments: `RolePolicyAttachmentsExclusive` (and the user and group variants)
  attach every ARN of `policyArns` like one attachment each; `*PoliciesExclusive` only delete
  inline policies they do not list, so they grant nothing;
- resource policies: an ECR repository policy statement naming a principal's ARN grants it
  that repository directly, without any identity policy; so does a registry policy statement once
  the stack sets `REGISTRY_POLICY_SCOPE: V2` (the registry policy then covers every ECR action,
  on the repositories its Resource names).

Names are resolved as IAM resolves them: a physical name is unique per account, case-insensitive
(IAM identifiers), so two resources claiming one name are one principal with both resources'
documents, listed in `AccessModel.duplicates`; a managed policy ARN reads the in-stack document
only of a policy whose known name (or ARN) is the ARN's, never one whose name is a `namePrefix` or
autonamed (AWS attaches whatever has that ARN: an unreadable policy, failing closed). A name that
is unknown at preview is judged as everything it could be: a grant naming a role outside the stack
still reaches that role, and also every in-stack principal of that kind whose name is unknown; a
document whose owner is unknown reaches a stand-in principal that belongs to no team.

Who can become whom is `principal_graph.build_principal_graph(model, resources)`.
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
from .documents import conditions, conditions_known, judged_statements, principals
from .managed_policies import aws_managed_document, aws_managed_name
from .registry_settings import MODELLED_TYPES as REGISTRY_SETTINGS
from .registry_settings import registry_policy_scope_v2

ROLE_ATTACHMENTS_EXCLUSIVE = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
USER_ATTACHMENTS_EXCLUSIVE = "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive"
GROUP_ATTACHMENTS_EXCLUSIVE = "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive"
ATTACH_EXCLUSIVE = {ROLE_ATTACHMENTS_EXCLUSIVE: ("role", "roleName"), USER_ATTACHMENTS_EXCLUSIVE: ("user", "userName"),
                    GROUP_ATTACHMENTS_EXCLUSIVE: ("group", "groupName")}
INLINE_EXCLUSIVE = ("aws:iam/rolePoliciesExclusive:RolePoliciesExclusive",
                    "aws:iam/userPoliciesExclusive:UserPoliciesExclusive",
                    "aws:iam/groupPoliciesExclusive:GroupPoliciesExclusive")
SERVICE_LINKED_ROLE = "aws:iam/serviceLinkedRole:ServiceLinkedRole"

KINDS = {ROLE: "role", USER: "user", GROUP: "group"}
KIND_LABELS = {"role": "IAM role", "user": "IAM user", "group": "IAM group"}
INLINE = {ROLE_POLICY: "role", USER_POLICY: "user", GROUP_POLICY: "group"}
ATTACH = {ROLE_POLICY_ATTACHMENT: "role", USER_POLICY_ATTACHMENT: "user", GROUP_POLICY_ATTACHMENT: "group"}
TYPES = (ROLE, USER, GROUP, ROLE_POLICY, USER_POLICY, GROUP_POLICY, MANAGED_POLICY, ROLE_POLICY_ATTACHMENT,
         USER_POLICY_ATTACHMENT, GROUP_POLICY_ATTACHMENT, POLICY_ATTACHMENT, GROUP_MEMBERSHIP, USER_GROUP_MEMBERSHIP,
         REPOSITORY_POLICY, REGISTRY_POLICY, *REGISTRY_SETTINGS, *ATTACH_EXCLUSIVE, *INLINE_EXCLUSIVE)
MODELLED_TYPES: frozenset[str] = frozenset({*TYPES, SERVICE_LINKED_ROLE})
"""Every type the access model reads (a service-linked role: only its service can assume it, nobody is granted it)."""


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
    claims: list[Resource] = field(default_factory=list)
    """Every resource declaring this name (more than one is a shadowing finding); empty when undeclared."""
    maybe: list[Principal] = field(default_factory=list)
    """In-stack principals whose name is unknown at preview that this undeclared one may be (its owner is unknown)."""
    stand_in: str | None = None
    """Who a stand-in principal is (not declared, belongs to no team): 'every principal of account 1', ..."""

    def __post_init__(self) -> None:
        if self.resource is not None and not self.claims:
            self.claims = [self.resource]

    @property
    def label(self) -> str:
        if self.stand_in is not None:
            return self.stand_in
        declared = "" if self.resource is not None else " (not declared in this stack)"
        return f"{KIND_LABELS[self.kind]} '{self.name}'{declared}"

    @property
    def subject(self) -> str:
        """The label to open a sentence with: "The IAM role 'x'", "Every principal of account 1"."""
        return self.stand_in[:1].upper() + self.stand_in[1:] if self.stand_in else f"The {self.label}"

    @property
    def urn(self) -> str | None:
        return self.resource.urn if self.resource is not None else None

    def tag(self, key: str) -> Any:
        """The principal's tag value; None when it has none, UNKNOWN when the tags are unknown at preview."""
        if self.resource is None:
            return UNKNOWN if self.maybe else None
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
    """Names unknown at preview (judged as everything they could be, noted as a preview advisory)."""
    duplicates: list[tuple[str, str, list[Resource]]] = field(default_factory=list)
    """(kind, name, resources) of every IAM name two or more resources claim (roles, users, groups, policies)."""


def build_access_model(resources: Iterable[Resource]) -> AccessModel:
    """Every principal with every document that reaches it; linear in the resources."""
    resources = list(resources)
    scope_v2 = registry_policy_scope_v2(resources)
    by_key: dict[tuple[str, str], Principal] = {}
    by_urn: dict[str, Principal] = {}
    policies_by_urn: dict[str, Resource] = {}
    policies_by_name: dict[str, list[Resource]] = {}
    unresolved: list[str] = []
    unnamed: dict[str, list[Principal]] = {}
    duplicates: list[tuple[str, str, list[Resource]]] = []
    for r in resources:
        if r.resource_type in KINDS:
            kind, name = KINDS[r.resource_type], r.props.get("name")
            shown = name if isinstance(name, str) and name else r.name
            known = by_key.get((kind, shown.lower())) if isinstance(name, str) and name else None
            if known is not None:  # IAM names are unique per account: the same principal, judged with both
                known.claims.append(r)
                by_urn[r.urn] = known
                continue
            principal = Principal(kind, shown, r)
            by_urn[r.urn] = principal
            if is_unknown(name) or (name is None and r.props.get("namePrefix") is not None):
                unnamed.setdefault(kind, []).append(principal)
            by_key[(kind, shown.lower() if isinstance(name, str) and name else f"\0{r.urn}")] = principal
        elif r.resource_type == MANAGED_POLICY:
            policies_by_urn[r.urn] = r
            name = r.props.get("name")
            if isinstance(name, str) and name:
                policies_by_name.setdefault(name.lower(), []).append(r)
    for (kind, _), principal in by_key.items():
        if len(principal.claims) > 1:
            duplicates.append((kind, principal.name, principal.claims))
    for found in policies_by_name.values():
        if len(found) > 1:
            duplicates.append(("policy", found[0].props["name"], found))

    def named(kind: str, value: Any) -> Principal | None:
        name = principal_name(value)
        if name is None:
            return None
        found = by_key.get((kind, name.lower()))
        if found is None:
            found = by_key[(kind, name.lower())] = Principal(kind, name)
            if unnamed.get(kind):  # it may also be one whose name is not known yet: judged as both
                unresolved.append(f"{kind} '{name}'")
                found.maybe = list(unnamed[kind])
        return found

    def also_unnamed(kind: str, value: Any) -> list[Principal]:
        """In-stack principals of `kind` whose unknown name may be `value`'s (judged as everything it could be)."""
        name = principal_name(value)
        if name is None or by_key.get((kind, name.lower())) is None or by_key[(kind, name.lower())].resource:
            return []
        return unnamed.get(kind, [])

    def owners(r: Resource, kind: str, key: str) -> list[Principal]:
        """The principals a policy or attachment names under `key` (a name, an ARN, or a list of them)."""
        values = r.props.get(key)
        found = [p for v in as_list(values) if not is_unknown(v) and (p := named(kind, v)) is not None]
        found += [p for v in as_list(values) if not is_unknown(v) for p in also_unnamed(kind, v) if p not in found]
        if is_unknown(values) or any(is_unknown(v) for v in as_list(values)):
            found += [by_urn[u] for u in r.property_dependencies.get(key, ()) if u in by_urn]
            if not found:
                unresolved.append(f"{r.name}.{key}")
                found = [Principal(kind, f"{r.name}.{key}", stand_in=f"the {KIND_LABELS[kind]} named by "
                                                                   f"'{r.name}.{key}' (unknown at preview)",
                                   maybe=[p for p in by_key.values() if p.kind == kind and p.resource is not None])]
                by_key[(kind, f"\0{r.urn}.{key}")] = found[0]
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
        found = list(policies_by_name.get(arn.rsplit("/", 1)[-1].lower(), [])) if ":policy/" in arn else []
        found += [p for p in deps if p.props.get("arn") == arn and p not in found]
        if not found:
            return [], [f"the managed policy '{arn}' (not declared in this stack)"]
        return [Source(f"the managed policy '{p.label}'", p.props.get("policy")) for p in found], []

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
        elif kind in ATTACH_EXCLUSIVE:
            owner_kind, key = ATTACH_EXCLUSIVE[kind]
            targets = owners(r, owner_kind, key)
            arns = r.props.get("policyArns")
            for arn in [arns] if is_unknown(arns) else as_list(arns):
                attach(targets, *managed(r, arn, "policyArns"))
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
    return AccessModel(list(by_key.values()), unresolved, duplicates)


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
            if not claims and conditions_known(statement):  # unknown conditions: judged at a later preview
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

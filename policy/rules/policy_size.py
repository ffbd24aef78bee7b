"""`iam-policy-size` (stack policy): documents fit their AWS quotas, caught at preview not mid-`up`.

Sizes count characters excluding whitespace, as IAM does:
- a role trust policy <= `trustPolicyMaxChars` (2048 unless the account's quota was raised);
- a managed policy <= 6144;
- all inline policies of one role together <= 10240 (user 2048, group 5120): `RolePolicy`
  resources matched by role name (or by their dependency on the Role) plus the Role's
  `inlinePolicies` (a stack policy, because the quota is per role, not per document);
- a repository policy (and a creation template's repositoryPolicy) <= 10240;
- a lifecycle policy (and a creation template's lifecyclePolicy) between 100 and 30720.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import Severity

from .common import (
    CREATION_TEMPLATE,
    GROUP_POLICY,
    LIFECYCLE_POLICY,
    MANAGED_POLICY,
    REPOSITORY_POLICY,
    ROLE,
    ROLE_POLICY,
    USER_POLICY,
    Finding,
    Resource,
    Skipped,
    compact_size,
    config_int,
    contains_unknown,
    pack_config,
    stack_policy,
)

MANAGED_MAX = 6144
INLINE_MAX = {ROLE_POLICY: 10240, USER_POLICY: 2048, GROUP_POLICY: 5120}
REPOSITORY_POLICY_MAX = 10240
LIFECYCLE_MIN, LIFECYCLE_MAX = 100, 30720
_OWNER = {ROLE_POLICY: ("role", "IAM role"), USER_POLICY: ("user", "IAM user"), GROUP_POLICY: ("group", "IAM group")}


@dataclass
class _InlineTotal:
    kind: str
    owner: str
    urn: str | None = None
    size: int = 0
    documents: list[str] = field(default_factory=list)


def _size(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return compact_size(value)


def check_sizes(resources: list[Resource], config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    trust_max = config_int(config, "trustPolicyMaxChars", 2048)
    findings: list[Finding] = []
    roles_by_urn = {r.urn: r for r in resources if r.resource_type == ROLE}
    inline: dict[tuple[str, str], _InlineTotal] = {}

    def add_inline(kind: str, owner: str, urn: str | None, document: str, size: int) -> None:
        total = inline.setdefault((kind, owner), _InlineTotal(kind, owner))
        total.size += size
        total.documents.append(document)
        total.urn = total.urn or urn

    def judge(resource: Resource, key: str, what: str, low: int, high: int, fix: str) -> None:
        value = resource.props.get(key)
        if contains_unknown(value):
            skipped.add(f"{resource.name}.{key}")
            return
        size = _size(value)
        if size is None:
            return
        if size > high:
            findings.append(Finding(f"{what} is {size} characters (without whitespace), over the AWS limit of "
                                    f"{high} ({key}); AWS would reject it during `pulumi up`. {fix}", resource.urn))
        elif size < low:
            findings.append(Finding(f"{what} is {size} characters, under the AWS minimum of {low} ({key}); ECR "
                                    f"would reject it during `pulumi up`. {fix}", resource.urn))

    for r in resources:
        kind = r.resource_type
        if kind == ROLE:
            judge(r, "assumeRolePolicy", f"The trust policy of IAM role '{r.label}'", 0, trust_max,
                  "Merge statements (one statement with a list of subjects), or raise the account's trust policy "
                  f"quota and set {pack_config('iam-policy-size', 'trustPolicyMaxChars')}.")
            entries = r.props.get("inlinePolicies")
            for index, entry in enumerate(entries if isinstance(entries, list) else []):
                document = entry.get("policy") if isinstance(entry, dict) else None
                if contains_unknown(document):
                    skipped.add(f"{r.name}.inlinePolicies[{index}]")
                elif (size := _size(document)) is not None:
                    add_inline(ROLE_POLICY, r.label, r.urn, f"inlinePolicies[{index}]", size)
        elif kind in INLINE_MAX:
            owner_key = _OWNER[kind][0]
            owner = r.props.get(owner_key)
            if not isinstance(owner, str):
                deps = [roles_by_urn[u] for u in r.property_dependencies.get(owner_key, ()) if u in roles_by_urn]
                owner = deps[0].label if deps else None
            document = r.props.get("policy")
            if owner is None or contains_unknown(document):
                skipped.add(f"{r.name}.{owner_key if owner is None else 'policy'}")
                continue
            if (size := _size(document)) is not None:
                add_inline(kind, owner, None, r.label, size)
        elif kind == MANAGED_POLICY:
            judge(r, "policy", f"The IAM managed policy '{r.label}'", 0, MANAGED_MAX,
                  "Split it into several managed policies, or use wildcards in resource ARNs within one namespace.")
        elif kind == REPOSITORY_POLICY:
            judge(r, "policy", f"The repository policy of ECR repository '{r.props.get('repository', r.name)}'", 0,
                  REPOSITORY_POLICY_MAX, "Merge statements that grant the same actions.")
        elif kind == LIFECYCLE_POLICY:
            judge(r, "policy", f"The lifecycle policy of ECR repository '{r.props.get('repository', r.name)}'",
                  LIFECYCLE_MIN, LIFECYCLE_MAX, "Describe each rule (a `description` helps) or merge rules.")
        elif kind == CREATION_TEMPLATE:
            shown = r.props.get("prefix", r.name)
            judge(r, "repositoryPolicy", f"The repositoryPolicy of ECR creation template '{shown}'", 0,
                  REPOSITORY_POLICY_MAX, "Merge statements that grant the same actions.")
            judge(r, "lifecyclePolicy", f"The lifecyclePolicy of ECR creation template '{shown}'", LIFECYCLE_MIN,
                  LIFECYCLE_MAX, "Describe each rule or merge rules.")
    role_urns = {r.label: r.urn for r in roles_by_urn.values()}
    for total in inline.values():
        limit = INLINE_MAX[total.kind]
        if total.size > limit:
            owner_kind = _OWNER[total.kind][1]
            findings.append(Finding(
                f"The inline policies of {owner_kind} '{total.owner}' ({', '.join(total.documents)}) add up to "
                f"{total.size} characters (without whitespace), over the AWS limit of {limit} per {owner_kind}; "
                "AWS would reject the last one during `pulumi up`. Move statements into a managed policy "
                "attached to it.", total.urn or role_urns.get(total.owner)))
    return findings


MODELLED_TYPES: frozenset[str] = frozenset({ROLE, ROLE_POLICY, USER_POLICY, GROUP_POLICY, MANAGED_POLICY,
                                            REPOSITORY_POLICY, LIFECYCLE_POLICY, CREATION_TEMPLATE})
"""The resource types this module's rules read and judge (the closed world: `closed_world.py`)."""

POLICIES = [
    stack_policy(
        name="iam-policy-size",
        description="IAM and ECR policy documents must fit their AWS size quotas.",
        resource_types=sorted(MODELLED_TYPES),
        check=check_sizes,
        severity=Severity.MEDIUM,
        remediation_steps="Shrink the document (merge statements, list subjects in one condition, use a "
                          "namespace wildcard in resource ARNs) or split it into managed policies; raise "
                          "trustPolicyMaxChars only after raising the account's IAM quota.",
        config_properties={"trustPolicyMaxChars": {
            "type": "integer", "default": 2048, "minimum": 1,
            "description": "The account's role trust policy quota in characters (2048 unless raised, max 8192)."}},
    ),
]

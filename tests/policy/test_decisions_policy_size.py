"""iam-policy-size, decision by decision: every quota at exactly its limit and one character past it."""

from __future__ import annotations

from typing import Any

import pytest
from rules.common import (
    CREATION_TEMPLATE,
    GROUP_POLICY,
    LIFECYCLE_POLICY,
    MANAGED_POLICY,
    REPOSITORY_POLICY,
    ROLE,
    ROLE_POLICY,
    UNKNOWN,
    USER_POLICY,
)
from rules.policy_size import POLICIES, check_sizes

from .decisions import defaults, messages, resource, skipped


def sized(chars: int) -> dict[str, Any]:
    """A document of exactly `chars` characters as IAM counts them (whitespace not counted)."""
    return {"a": "x" * (chars - len('{"a":""}'))}


def spaced(chars: int) -> str:
    """The same document as JSON text with whitespace, which does not count."""
    return '{ "a" : "' + "x" * (chars - len('{"a":""}')) + '" }\n'


def judge(resources: list[Any], **config: Any) -> list[str]:
    return messages(check_sizes(resources, defaults(POLICIES, **config), skipped()))


LIMITS = [
    # (resource type, property, smallest size that passes, largest that passes, extra props)
    (ROLE, "assumeRolePolicy", 1, 2048, {"name": "ci"}),
    (MANAGED_POLICY, "policy", 1, 6144, {"name": "push"}),
    (REPOSITORY_POLICY, "policy", 1, 10240, {"repository": "payments/api"}),
    (LIFECYCLE_POLICY, "policy", 100, 30720, {"repository": "payments/api"}),
    (CREATION_TEMPLATE, "repositoryPolicy", 1, 10240, {"prefix": "payments"}),
    (CREATION_TEMPLATE, "lifecyclePolicy", 100, 30720, {"prefix": "payments"}),
]


@pytest.mark.parametrize(("kind", "key", "low", "high", "props"), LIMITS)
def test_each_quota_at_its_limits(kind: str, key: str, low: int, high: int, props: dict[str, Any]) -> None:
    for size, form in ((high, sized), (high, spaced), (max(low, 8), sized)):
        assert judge([resource(kind, "r", **props, **{key: form(size)})]) == [], (size, form)
    (over,) = judge([resource(kind, "r", **props, **{key: sized(high + 1)})])
    assert f"is {high + 1} characters (without whitespace), over the AWS limit of {high} ({key})" in over
    if low > 8:
        (under,) = judge([resource(kind, "r", **props, **{key: sized(low - 1)})])
        assert f"is {low - 1} characters, under the AWS minimum of {low} ({key})" in under
    else:   # a blank document counts 0 characters: not this policy's to judge (the others call it malformed)
        assert judge([resource(kind, "r", **props, **{key: " \n"})]) == []


def test_subjects_name_the_resource() -> None:
    assert judge([resource(ROLE, "r", name="ci", assumeRolePolicy=sized(3000))])[0].startswith(
        "The trust policy of IAM role 'ci' is 3000")
    assert judge([resource(LIFECYCLE_POLICY, "lc", policy=sized(50))])[0].startswith(
        "The lifecycle policy of ECR repository 'lc' is 50")
    assert judge([resource(CREATION_TEMPLATE, "t", lifecyclePolicy=sized(50))])[0].startswith(
        "The lifecyclePolicy of ECR creation template 't' is 50")


def test_the_trust_quota_comes_from_the_config() -> None:
    role = resource(ROLE, "r", name="ci", assumeRolePolicy=sized(4096))
    assert judge([role], trustPolicyMaxChars=4096) == []
    assert len(judge([role], trustPolicyMaxChars=4095)) == 1
    assert len(judge([role])) == 1
    assert len(judge([role], trustPolicyMaxChars="big")) == 1      # an invalid quota falls back to 2048
    assert judge([resource(ROLE, "r", name="ci", assumeRolePolicy=sized(2048))], trustPolicyMaxChars="big") == []
    assert len(judge([resource(ROLE, "r", name="ci", assumeRolePolicy=sized(2049))], trustPolicyMaxChars="big")) == 1


@pytest.mark.parametrize(("kind", "owner_key", "limit", "owner_kind"), [
    (ROLE_POLICY, "role", 10240, "IAM role"), (USER_POLICY, "user", 2048, "IAM user"),
    (GROUP_POLICY, "group", 5120, "IAM group"),
])
def test_inline_policies_add_up_per_owner(kind: str, owner_key: str, limit: int, owner_kind: str) -> None:
    half = limit // 2
    fits = [resource(kind, "a", **{owner_key: "ci", "policy": sized(half)}),
            resource(kind, "b", **{owner_key: "ci", "policy": sized(limit - half)}),
            resource(kind, "c", **{owner_key: "other", "policy": sized(limit)})]
    assert judge([*fits, resource(kind, "e", **{owner_key: "small", "policy": sized(100)})]) == []
    over = [*fits, resource(kind, "d", **{owner_key: "ci", "policy": sized(8)})]
    (found,) = judge(over)
    assert found.startswith(f"The inline policies of {owner_kind} 'ci' (a, b, d) add up to {limit + 8} characters "
                            f"(without whitespace), over the AWS limit of {limit} per {owner_kind}")


def test_a_roles_own_inline_policies_count_with_its_role_policies() -> None:
    role = resource(ROLE, "r", name="ci", inlinePolicies=[{"name": "own", "policy": sized(6000)}, "junk",
                                                          {"name": "none"}])
    extra = resource(ROLE_POLICY, "p", role="ci", policy=sized(4241))
    found = check_sizes([role, extra], defaults(POLICIES), skipped())
    assert len(found) == 1 and "(inlinePolicies[0], p) add up to 10241" in found[0].message
    assert found[0].urn == role.urn
    assert check_sizes([role, resource(ROLE_POLICY, "p", role="ci", policy=sized(4240))], {}, skipped()) == []


def test_the_finding_names_the_role_even_with_same_named_policies_around() -> None:
    role = resource(ROLE, "r", name="ci")
    policies = [resource(ROLE_POLICY, n, role="ci", policy=sized(6000)) for n in ("a", "b")]
    namesakes = [resource(MANAGED_POLICY, "m", name="ci", policy=sized(10)),
                 resource(USER_POLICY, "u", name="ci", user="dev", policy=sized(10))]
    (found,) = check_sizes([role, *policies, *namesakes], {}, skipped())
    assert found.urn == role.urn


def test_an_owner_unknown_at_preview_is_found_through_the_property_dependency() -> None:
    role = resource(ROLE, "r", name="ci")
    policies = [resource(ROLE_POLICY, n, role=UNKNOWN, policy=sized(6000)) for n in ("a", "b")]
    for p in policies:
        p.property_dependencies = {"role": [role.urn]}
    (found,) = check_sizes([role, *policies], {}, skipped())
    assert "IAM role 'ci' (a, b) add up to 12000" in found.message and found.urn == role.urn


def test_unknowns_are_noted_and_empty_documents_ignored() -> None:
    notes = skipped()
    resources = [resource(ROLE, "r", name="ci", assumeRolePolicy=UNKNOWN, inlinePolicies=[{"policy": UNKNOWN}]),
                 resource(ROLE_POLICY, "p", role=UNKNOWN, policy=sized(20000)),
                 resource(USER_POLICY, "u", user="dev", policy={"a": UNKNOWN}),
                 resource(MANAGED_POLICY, "m", policy=""), resource(REPOSITORY_POLICY, "rp", policy=None)]
    assert check_sizes(resources, {}, notes) == []
    assert notes.paths == ["r.assumeRolePolicy", "r.inlinePolicies[0]", "p.role", "u.policy"]

"""iam-policy-size: documents over their AWS quotas are caught at preview, not halfway through `up`."""

from __future__ import annotations

import json
from typing import Any

from .conftest import Guard, assert_passes, assert_violates
from .fixtures import (
    ACCOUNT,
    creation_template,
    dumps,
    lifecycle_policy,
    managed_policy,
    repository,
    repository_policy,
    role,
    role_policy,
    trust_document,
)

POLICY = "iam-policy-size"


def subjects(count: int) -> list[str]:
    return [f"repo:acme/service-{i:03d}:ref:refs/heads/main" for i in range(count)]


def statements(count: int, prefix: str = "s") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": f"{prefix}{i}", "Effect": "Allow", "Action": "ecr:BatchGetImage",
         "Resource": f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository/team-{i:04d}/*"} for i in range(count)]}


def test_the_program_stack_shapes_fit(guard: Guard) -> None:
    assert_passes(guard.stack([role(), role_policy(), repository(), lifecycle_policy(), repository_policy(),
                               creation_template()]), POLICY)


def test_a_trust_policy_over_the_quota_fails_and_a_raised_quota_passes(guard: Guard) -> None:
    big = role(trust=trust_document(exact=subjects(40)))
    assert_violates(guard.stack([big]), POLICY, "trust policy of IAM role 'github-push-payments'", "2048")
    guard.configure(**{POLICY: {"trustPolicyMaxChars": 4096}})
    assert_passes(guard.stack([big]), POLICY)


def test_a_lowered_quota_catches_a_small_trust_policy(guard: Guard) -> None:
    guard.configure(**{POLICY: {"trustPolicyMaxChars": 200}})
    assert_violates(guard.stack([role()]), POLICY, "limit of 200")


def test_whitespace_does_not_count(guard: Guard) -> None:
    document = trust_document(exact=subjects(12))
    padded = role(trust=json.dumps(document, indent=40))
    assert len(padded.inputs["assumeRolePolicy"]) > 2048
    assert_passes(guard.stack([padded]), POLICY)


def test_a_managed_policy_over_6144_fails(guard: Guard) -> None:
    assert_violates(guard.stack([managed_policy(statements(60))]), POLICY, "managed policy 'node-pull'", "6144")
    assert_passes(guard.stack([managed_policy(statements(20))]), POLICY)


def test_inline_policies_of_one_role_add_up(guard: Guard) -> None:
    halves = [role_policy(statements(50, prefix=f"p{n}"), name=f"part-{n}") for n in range(2)]
    assert_passes(guard.stack([role(), halves[0]]), POLICY)
    violation = assert_violates(guard.stack([role(), *halves]), POLICY, "inline policies of IAM role "
                                "'github-push-payments'", "10240")
    assert violation.urn.endswith("::github-push-payments"), "the violation points at the role"


def test_inline_policies_of_different_roles_do_not_add_up(guard: Guard) -> None:
    stack = [role_policy(statements(50), role_name="a"), role_policy(statements(50), role_name="b")]
    assert_passes(guard.stack(stack), POLICY)


def test_a_role_policy_is_counted_with_the_role_inline_policies(guard: Guard) -> None:
    inline = [{"name": "big", "policy": dumps(statements(50, prefix="i"))}]
    stack = [role(inlinePolicies=inline), role_policy(statements(50))]
    assert_violates(guard.stack(stack), POLICY, "inlinePolicies[0]", "10240")


def test_repository_and_lifecycle_policies_have_limits(guard: Guard) -> None:
    huge_rules = {"rules": [{"rulePriority": i, "description": "x" * 100,
                             "selection": {"tagStatus": "tagged", "tagPrefixList": [f"p{i}"],
                                           "countType": "imageCountMoreThan", "countNumber": 1},
                             "action": {"type": "expire"}} for i in range(1, 250)]}
    assert_violates(guard.stack([lifecycle_policy(document=dumps(huge_rules))]), POLICY, "30720")
    tiny = dumps({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any"}}]})
    assert_violates(guard.stack([lifecycle_policy(document=tiny)]), POLICY, "minimum of 100")
    big_repository_policy = statements(120)
    assert_violates(guard.stack([repository_policy(big_repository_policy)]), POLICY, "10240")
    assert_violates(guard.stack([creation_template(repositoryPolicy=dumps(big_repository_policy))]), POLICY,
                    "creation template 'payments'")

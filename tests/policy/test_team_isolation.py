"""team-isolation: no role of one team can write to another team's repositories."""

from __future__ import annotations

from typing import Any

import pytest

from engine.analyzer import UNKNOWN

from .conftest import Guard, assert_passes, assert_violates
from .fixtures import (
    ACCOUNT,
    ROLE_POLICY_ATTACHMENT,
    managed_policy,
    push_policy_document,
    repo_arn,
    repository,
    resource,
    role,
    role_policy,
)

POLICY = "team-isolation"


def teams() -> list:
    """Two teams, each with its role, push policy and repositories."""
    return [
        repository("payments/api", "payments"), repository("payments/worker", "payments"),
        repository("billing/api", "billing"), repository("chatgpt-web", "chatgpt"),
        role("github-push-payments", team="payments"), role_policy(push_policy_document("payments")),
        role("github-push-billing", team="billing"),
        role_policy(push_policy_document("billing"), role_name="github-push-billing"),
    ]


def push(resource_arn: Any, actions: Any = "ecr:PutImage", **extra: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Sid": "Push", "Effect": "Allow", "Action": actions,
                                                     "Resource": resource_arn, **extra}]}


def test_each_team_pushing_to_its_own_namespace_passes(guard: Guard) -> None:
    assert_passes(guard.stack(teams()), POLICY)


@pytest.mark.parametrize("resource_arn", [
    repo_arn("billing/api"), repo_arn("billing/*"), f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/billing/ap?",
    [repo_arn("payments/*"), repo_arn("billing/api")],
])
def test_reaching_another_team_repository_fails(guard: Guard, resource_arn: Any) -> None:
    stack = [*teams(), role_policy(push(resource_arn), name="extra")]
    assert_violates(guard.stack(stack), POLICY, "'github-push-payments' of team 'payments'", "team 'billing'",
                    "'billing/api'", "statement 'Push'")


@pytest.mark.parametrize("resource_arn", [
    repo_arn("*"), repo_arn("b*"), repo_arn("pay*"), "*", "arn:aws:ecr:*:*:repository/*", "arn:aws:ecr:*",
    repo_arn("payments?api"),
])
def test_writes_beyond_one_namespace_fail_even_before_another_team_exists(guard: Guard, resource_arn: Any) -> None:
    stack = [repository("payments/api", "payments"), role("github-push-payments", team="payments"),
             role_policy(push(resource_arn), name="extra")]
    assert_violates(guard.stack(stack), POLICY, "'github-push-payments'", "every namespace", "statement 'Push'")


@pytest.mark.parametrize("actions", ["ecr:*", "*", "ecr:Put*", ["ecr:BatchGetImage", "ecr:UploadLayerPart"],
                                     "ecr:DeleteRepository"])
def test_any_write_action_counts(guard: Guard, actions: Any) -> None:
    stack = [*teams(), role_policy(push(repo_arn("billing/*"), actions), name="extra")]
    assert_violates(guard.stack(stack), POLICY, "team 'billing'")


def test_reading_another_team_repository_is_fine(guard: Guard) -> None:
    stack = [*teams(), role_policy(push(repo_arn("billing/*"), ["ecr:BatchGetImage", "ecr:Describe*"]),
                                   name="read")]
    assert_passes(guard.stack(stack), POLICY)


def test_not_action_and_not_resource_count_as_everything(guard: Guard) -> None:
    not_action = {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": repo_arn("billing/*")}]}
    not_resource = {"Statement": [{"Effect": "Allow", "Action": "ecr:PutImage", "NotResource": repo_arn("x")}]}
    assert_violates(guard.stack([*teams(), role_policy(not_action, name="extra")]), POLICY, "team 'billing'")
    assert_violates(guard.stack([*teams(), role_policy(not_resource, name="extra")]), POLICY, "every namespace")


def test_deny_statements_do_not_grant(guard: Guard) -> None:
    deny = {"Statement": [{"Effect": "Deny", "Action": "ecr:*", "Resource": "*"}]}
    assert_passes(guard.stack([*teams(), role_policy(deny, name="deny")]), POLICY)


def test_a_prefix_without_wildcard_does_not_reach(guard: Guard) -> None:
    stack = [*teams(), role_policy(push(repo_arn("billing")), name="extra")]
    assert_passes(guard.stack(stack), POLICY)


def test_repository_names_match_case_sensitively(guard: Guard) -> None:
    stack = [*teams(), role_policy(push(repo_arn("Billing/*")), name="extra")]
    assert_passes(guard.stack(stack), POLICY)


def test_managed_policies_attached_by_dependency_are_followed(guard: Guard) -> None:
    policy = managed_policy(push(repo_arn("billing/*")), name="cross-team")
    attachment = resource(ROLE_POLICY_ATTACHMENT, "attach", {"role": "github-push-payments", "policyArn": UNKNOWN},
                          property_dependencies={"policyArn": [policy.resolved_urn]})
    assert_violates(guard.stack([*teams(), policy, attachment]), POLICY, "managed policy 'cross-team'")


def test_managed_policies_attached_by_arn_are_followed(guard: Guard) -> None:
    policy = managed_policy(push(repo_arn("billing/*")), name="cross-team")
    attachment = resource(ROLE_POLICY_ATTACHMENT, "attach", {
        "role": "github-push-payments", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/cross-team"})
    assert_violates(guard.stack([*teams(), policy, attachment]), POLICY, "team 'billing'")
    by_list = role("github-push-payments", managedPolicyArns=[f"arn:aws:iam::{ACCOUNT}:policy/cross-team"])
    stack = [r for r in teams() if r.name != "github-push-payments"] + [by_list, policy]
    assert_violates(guard.stack(stack), POLICY, "team 'billing'")


def test_role_inline_policies_are_followed(guard: Guard) -> None:
    inline = [{"name": "cross", "policy": '{"Statement": [{"Effect": "Allow", "Action": "ecr:PutImage", '
                                          '"Resource": "*"}]}'}]
    stack = [*teams(), role("github-push-payments", inlinePolicies=inline)]
    assert_violates(guard.stack(stack), POLICY, "inline policy 'cross'")


def test_a_writer_nobody_owns_fails_unless_shared(guard: Guard) -> None:
    stack = [repository("billing/api", "billing"), role("ci", team=None),
             role_policy(push(repo_arn("billing/*")), role_name="ci")]
    assert_violates(guard.stack(stack), POLICY, "IAM role 'ci' belongs to no team", "team 'billing'")
    guard.configure(**{POLICY: {"sharedWriters": ["ci"]}})
    assert_passes(guard.stack(stack), POLICY)


def test_writers_to_repositories_of_no_team_are_not_judged(guard: Guard) -> None:
    stack = [repository("tools/api", None), role("ci", team=None), role_policy(push(repo_arn("tools/*")),
                                                                              role_name="ci")]
    assert_passes(guard.stack(stack), POLICY)


def test_a_role_policy_bound_by_dependency_when_the_role_name_is_unknown(guard: Guard) -> None:
    payments = role("github-push-payments", team="payments")
    policy = role_policy(push(repo_arn("billing/*")), role_name=UNKNOWN, name="extra",
                         property_dependencies={"role": [payments.resolved_urn]})
    stack = [repository("billing/api", "billing"), payments, policy]
    assert_violates(guard.stack(stack), POLICY, "team 'billing'")


def test_the_tag_key_is_configurable(guard: Guard) -> None:
    stack = [*teams(), role_policy(push(repo_arn("billing/*")), name="extra")]
    guard.configure(**{POLICY: {"tagKey": "owner"}})
    assert_passes(guard.stack(stack), POLICY)

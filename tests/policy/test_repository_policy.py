"""ecr-repository-policy-restricted: public principals, allowed accounts, push accounts, management."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Guard, assert_passes, assert_violates
from .fixtures import (
    PULL_ACCOUNT,
    PULL_ACTIONS,
    PUSH_ACCOUNT,
    PUSH_ACTIONS,
    creation_template,
    dumps,
    repository_policy,
    repository_policy_document,
)

POLICY = "ecr-repository-policy-restricted"
ACCOUNTS = {"allowedAccounts": [PULL_ACCOUNT, PUSH_ACCOUNT], "allowedPushAccounts": [PUSH_ACCOUNT]}


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2008-10-17", "Statement": [{"Effect": "Allow", **s} for s in statements]}


def judge(guard: Guard, policy: dict[str, Any], **config: Any) -> list:
    guard.configure(**{POLICY: config})
    return guard.analyze(repository_policy(policy))


def test_the_program_shape_passes_with_and_without_account_lists(guard: Guard) -> None:
    assert_passes(judge(guard, repository_policy_document()), POLICY)
    assert_passes(judge(guard, repository_policy_document(), **ACCOUNTS), POLICY)


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::*:root"]},
                                       {"AWS": "arn:aws:iam::*:role/builder"}])
def test_public_principals_fail(guard: Guard, principal: Any) -> None:
    violations = judge(guard, document({"Sid": "Public", "Principal": principal, "Action": PULL_ACTIONS}))
    assert_violates(violations, POLICY, "statement 'Public'", "to everyone", "aws:PrincipalOrgID")


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    {"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": ["o-abc123"]}},
    {"StringEquals": {"aws:PrincipalAccount": PULL_ACCOUNT}},
])
def test_public_principals_confined_to_an_organisation_may_pull(guard: Guard, condition: dict[str, Any]) -> None:
    assert_passes(judge(guard, document({"Principal": "*", "Action": PULL_ACTIONS, "Condition": condition})), POLICY)


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:username": "pull-user-1"}},
    {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}},
    {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    {"StringLike": {"aws:PrincipalOrgID": "*"}},
])
def test_conditions_that_do_not_confine_the_caller_do_not_count(guard: Guard, condition: dict[str, Any]) -> None:
    violations = judge(guard, document({"Principal": "*", "Action": PULL_ACTIONS, "Condition": condition}))
    assert_violates(violations, POLICY, "to everyone")


def test_an_organisation_may_not_push(guard: Guard) -> None:
    violations = judge(guard, document({"Principal": {"AWS": "*"}, "Action": PUSH_ACTIONS,
                                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}))
    assert_violates(violations, POLICY, "whole organisation write", "ecr:PutImage")


def test_account_conditions_are_judged_like_principals(guard: Guard) -> None:
    statement = {"Principal": "*", "Action": PULL_ACTIONS,
                 "Condition": {"StringEquals": {"aws:PrincipalAccount": "999999999999"}}}
    assert_violates(judge(guard, document(statement), **ACCOUNTS), POLICY, "account 999999999999",
                    "allowedAccounts")


def test_accounts_outside_allowed_accounts_fail(guard: Guard) -> None:
    policy = repository_policy_document(pull=[PULL_ACCOUNT, "999999999999"])
    assert_violates(judge(guard, policy, **ACCOUNTS), POLICY, "account 999999999999", "not in allowedAccounts")
    assert_passes(judge(guard, policy), POLICY)


@pytest.mark.parametrize("principal", ["arn:aws:iam::999999999999:root", "arn:aws:iam::999999999999:role/ci",
                                       "arn:aws:iam::999999999999:user/deployer", "999999999999"])
def test_push_only_for_allowed_push_accounts(guard: Guard, principal: str) -> None:
    policy = document({"Sid": "Push", "Principal": {"AWS": principal}, "Action": PUSH_ACTIONS})
    assert_violates(judge(guard, policy, allowedPushAccounts=[PUSH_ACCOUNT]), POLICY, "statement 'Push'",
                    "account 999999999999 push", "allowedPushAccounts")


def test_an_allowed_pull_account_may_not_push(guard: Guard) -> None:
    assert_violates(judge(guard, repository_policy_document(push=[PULL_ACCOUNT]), **ACCOUNTS), POLICY,
                    f"account {PULL_ACCOUNT} push")


@pytest.mark.parametrize("action", ["ecr:*", "*", "ecr:SetRepositoryPolicy", "ecr:DeleteRepository",
                                    "ecr:BatchDeleteImage", "ecr:PutLifecyclePolicy", "ecr:Delete*"])
def test_management_actions_are_granted_to_no_other_account(guard: Guard, action: str) -> None:
    policy = document({"Principal": {"AWS": f"arn:aws:iam::{PUSH_ACCOUNT}:root"}, "Action": [action]})
    assert_violates(judge(guard, policy), POLICY, f"account {PUSH_ACCOUNT} manage")


def test_management_accounts_may_manage(guard: Guard) -> None:
    policy = document({"Principal": {"AWS": f"arn:aws:iam::{PUSH_ACCOUNT}:root"}, "Action": ["ecr:*"]})
    assert_passes(judge(guard, policy, managementAccounts=[PUSH_ACCOUNT]), POLICY)


def test_allow_with_not_principal_or_not_action_fails(guard: Guard) -> None:
    not_principal = document({"NotPrincipal": {"AWS": f"arn:aws:iam::{PULL_ACCOUNT}:root"}, "Action": PULL_ACTIONS})
    assert_violates(judge(guard, not_principal), POLICY, "NotPrincipal")
    not_action = document({"Principal": {"AWS": PULL_ACCOUNT}, "NotAction": ["ecr:DeleteRepository"]})
    assert_violates(judge(guard, not_action), POLICY, "NotAction")


def test_services_may_pull_but_not_push(guard: Guard) -> None:
    functions = f"arn:aws:lambda:us-west-2:{PULL_ACCOUNT}:function:*"
    lambda_pull = {"Principal": {"Service": "lambda.amazonaws.com"}, "Action": PULL_ACTIONS,
                   "Condition": {"StringLike": {"aws:sourceArn": functions}}}
    assert_passes(judge(guard, document(lambda_pull)), POLICY)
    assert_violates(judge(guard, document(lambda_pull | {"Action": PUSH_ACTIONS})), POLICY, "service principal")


def test_deny_statements_never_fail(guard: Guard) -> None:
    policy = repository_policy_document()
    policy["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "ecr:*"})
    assert_passes(judge(guard, policy, **ACCOUNTS), POLICY)


def test_creation_template_repository_policies_are_judged(guard: Guard) -> None:
    public = dumps(document({"Principal": "*", "Action": PULL_ACTIONS}))
    assert_violates(guard.analyze(creation_template(repositoryPolicy=public)), POLICY,
                    "creation template 'payments'", "to everyone")
    assert_passes(guard.analyze(creation_template()), POLICY)


def test_a_policy_that_is_not_json_fails_closed(guard: Guard) -> None:
    assert_violates(guard.analyze(repository_policy("[1, 2")), POLICY, "not valid JSON")

"""iam-least-privilege: wildcards, Resource '*', PassRole, permissions management, open trust."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Guard, assert_passes, assert_violates
from .fixtures import (
    ACCOUNT,
    GROUP_POLICY,
    MANAGED_POLICY,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    USER_POLICY,
    managed_policy,
    repo_arn,
    resource,
    role,
    role_policy,
    statement_policy,
)

POLICY = "iam-least-privilege"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role"


def judge(guard: Guard, *statements: dict[str, Any], type_: str = ROLE_POLICY) -> list:
    return guard.analyze(statement_policy(*statements, type_=type_))


def test_the_program_push_policy_passes(guard: Guard) -> None:
    assert_passes(guard.analyze(role_policy()), POLICY)


def test_the_program_node_pull_policy_passes(guard: Guard) -> None:
    assert_passes(judge(guard, {"Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                        {"Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                         "Resource": [repo_arn("payments/*"), repo_arn("idp/*")]}, type_=MANAGED_POLICY), POLICY)


@pytest.mark.parametrize("type_", [ROLE_POLICY, MANAGED_POLICY, USER_POLICY, GROUP_POLICY])
def test_admin_actions_fail_in_every_identity_policy(guard: Guard, type_: str) -> None:
    assert_violates(judge(guard, {"Sid": "Admin", "Action": "*", "Resource": "*"}, type_=type_), POLICY,
                    "statement 'Admin'", "administrator")


@pytest.mark.parametrize("action", ["ecr:*", "s3:*", "iam:*"])
def test_service_wide_actions_fail_even_on_named_resources(guard: Guard, action: str) -> None:
    assert_violates(judge(guard, {"Action": [action], "Resource": repo_arn("payments/api")}), POLICY,
                    "service-wide", action)


def test_not_action_and_not_resource_fail(guard: Guard) -> None:
    assert_violates(judge(guard, {"NotAction": "iam:*", "Resource": "*"}), POLICY, "NotAction")
    assert_violates(judge(guard, {"Action": "ecr:PutImage", "NotResource": repo_arn("other/x")}), POLICY,
                    "NotResource")


def test_deny_with_not_action_is_fine(guard: Guard) -> None:
    assert_passes(judge(guard, {"Effect": "Deny", "NotAction": "ecr:*", "Resource": "*"},
                        {"Action": "ecr:GetAuthorizationToken", "Resource": "*"}), POLICY)


@pytest.mark.parametrize(("actions", "fragment"), [
    (["ecr:PutImage"], "ecr:PutImage"),
    (["ecr:Put*"], "ecr:PutImage"),
    (["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "ecr:BatchGetImage"),
    (["s3:GetObject"], "s3:GetObject"),
    (["lambda:UpdateFunctionCode"], "lambda:UpdateFunctionCode"),
])
def test_resource_star_fails_for_actions_with_resource_types(guard: Guard, actions: list[str],
                                                             fragment: str) -> None:
    assert_violates(judge(guard, {"Action": actions, "Resource": "*"}), POLICY, "names every resource", fragment)


@pytest.mark.parametrize("actions", [["ecr:GetAuthorizationToken"], ["xray:PutTraceSegments",
                                                                     "xray:PutTelemetryRecords"],
                                     ["sts:GetCallerIdentity"], ["ec2:DescribeInstances"]])
def test_resource_star_is_fine_for_actions_without_resource_types(guard: Guard, actions: list[str]) -> None:
    assert_passes(judge(guard, {"Action": actions, "Resource": "*"}), POLICY)


def test_unknown_actions_on_star_cannot_be_confirmed(guard: Guard) -> None:
    assert_violates(judge(guard, {"Action": "ecr:PushEverything", "Resource": "*"}), POLICY, "does not know")


@pytest.mark.parametrize("resource_arn", ["*", f"{ROLE_ARN}/*", f"{ROLE_ARN}/payments-*", "arn:aws:iam::*:role/*"])
def test_pass_role_only_on_named_roles(guard: Guard, resource_arn: str) -> None:
    statement = {"Action": "iam:PassRole", "Resource": resource_arn,
                 "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}
    assert_violates(judge(guard, statement), POLICY, "iam:PassRole", "named roles")


def test_pass_role_on_a_named_role_in_a_path_passes(guard: Guard) -> None:
    assert_passes(judge(guard, {"Action": "iam:PassRole", "Resource": f"{ROLE_ARN}/service/payments-task"}), POLICY)


@pytest.mark.parametrize(("action", "resource_arn"), [
    ("iam:PutRolePolicy", f"{ROLE_ARN}/*"),
    ("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/*"),
    ("iam:UpdateAssumeRolePolicy", "arn:aws:iam::*:role/*"),
    ("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/*"),
    ("ecr:SetRepositoryPolicy", repo_arn("*")),
    ("ecr:DeleteRepository", repo_arn("*")),
    ("ecr:PutRegistryPolicy", "*"),
    ("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-west-2:210987654321:secret:*"),
    ("sts:AssumeRole", "arn:aws:iam::*:role/*"),
])
def test_sensitive_actions_on_broad_resources_fail(guard: Guard, action: str, resource_arn: str) -> None:
    assert_violates(judge(guard, {"Action": action, "Resource": resource_arn}), POLICY, action)


def test_sensitive_actions_on_named_resources_pass(guard: Guard) -> None:
    assert_passes(judge(guard, {"Action": ["sts:AssumeRole"], "Resource": f"{ROLE_ARN}/deployer"},
                        {"Action": "kms:CreateGrant", "Resource": "arn:aws:kms:us-west-2:210987654321:key/abc"},
                        {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::release-artifacts/*"},
                        {"Action": "ecr:CreateRepository", "Resource": repo_arn("payments/*")}), POLICY)


def test_only_a_resource_selecting_condition_constrains_sensitive_actions(guard: Guard) -> None:
    tagged = {"Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:secretsmanager:us-west-2:1:secret:*",
              "Condition": {"StringEquals": {"aws:ResourceTag/team": "payments"}}}
    assert_passes(judge(guard, tagged), POLICY)
    unrelated = {**tagged, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
    assert_violates(judge(guard, unrelated), POLICY, "secretsmanager:GetSecretValue", "names every resource")


def test_role_inline_policies_are_judged(guard: Guard) -> None:
    inline = [{"name": "too-much", "policy": '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'}]
    assert_violates(guard.analyze(role(inlinePolicies=inline)), POLICY, "inline policy 'too-much'", "administrator")


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::*:root"]}])
def test_trust_policies_open_to_everyone_fail(guard: Guard, principal: Any) -> None:
    trust = {"Statement": [{"Sid": "Anyone", "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}
    assert_violates(guard.analyze(role(trust=trust)), POLICY, "statement 'Anyone'", "any principal")


def test_an_open_trust_confined_to_a_listed_organisation_passes(guard: Guard) -> None:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]}
    # no organisation listed: the pack cannot tell the platform's own from a foreign one
    assert_violates(guard.analyze(role(trust=trust, team=None)), POLICY, "'o-abc123'", "allowedOrganizationIds")
    guard.configure(**{POLICY: {"allowedOrganizationIds": ["o-abc123"]}})
    assert_passes(guard.analyze(role(trust=trust, team=None)), POLICY)


def test_the_program_trust_policies_pass(guard: Guard) -> None:
    service = {"Statement": [{"Sid": "AssumedByService", "Effect": "Allow",
                              "Principal": {"Service": "ecr.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    assert_passes(guard.analyze(role(trust=service, team=None)), POLICY)
    assert_passes(guard.analyze(role()), POLICY)


@pytest.mark.parametrize("name", ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"])
def test_attaching_aws_admin_policies_fails(guard: Guard, name: str) -> None:
    arn = f"arn:aws:iam::aws:policy/{name}"
    attachment = resource(ROLE_POLICY_ATTACHMENT, "admin", {"role": "github-push-payments", "policyArn": arn})
    assert_violates(guard.analyze(attachment), POLICY, name)
    assert_violates(guard.analyze(role(managedPolicyArns=[arn])), POLICY, name, "managedPolicyArns")


def test_attaching_a_narrow_managed_policy_passes(guard: Guard) -> None:
    attachment = resource(ROLE_POLICY_ATTACHMENT, "pull", {"role": "eks-node",
                                                           "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/node-pull"})
    assert_passes(guard.analyze(attachment), POLICY)


def test_a_managed_policy_that_is_not_json_fails_closed(guard: Guard) -> None:
    assert_violates(guard.analyze(managed_policy("nope")), POLICY, "not valid JSON")


def test_pass_role_without_passed_to_service_fails_only_when_required(guard: Guard) -> None:
    statement = {"Sid": "Pass", "Action": "iam:PassRole", "Resource": f"{ROLE_ARN}/payments-task"}
    assert_passes(judge(guard, statement), POLICY)
    guard.configure(**{POLICY: {"requirePassedToService": True}})
    assert_violates(judge(guard, statement), POLICY, "statement 'Pass'", "iam:PassedToService")
    assert_passes(guard.analyze(role_policy()), POLICY)

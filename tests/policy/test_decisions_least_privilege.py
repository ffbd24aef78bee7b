"""iam-least-privilege, decision by decision: statements, trust principals, managed policies, attachments.

Tables of (statement, config, verdict) against the pure checker; both sides of every decision
(an action the dataset knows and one it does not, a selecting condition and each operator that
does not select, a named role and each way a role ARN fails to name one), every attachment kind,
and early exits (a Deny, a fine statement) followed by a statement that must still be judged.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rules.common import (
    GROUP_POLICY,
    GROUP_POLICY_ATTACHMENT,
    MANAGED_POLICY,
    POLICY_ATTACHMENT,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    UNKNOWN,
    USER_POLICY,
    USER_POLICY_ATTACHMENT,
)
from rules.documents import open_document
from rules.least_privilege import (
    POLICIES,
    check_least_privilege,
    document_problems,
    managed_policy_problem,
    passed_to_service,
    selects_resources,
    statement_problems,
    trust_principal_problems,
)
from rules.managed_policies import aws_managed_name

from .decisions import ACCOUNT, OTHER_ACCOUNT, allow, defaults, deny, doc, dumps, messages, resource, skipped, verdict

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role"
REPO = f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository/payments/*"
AWS = "arn:aws:iam::aws:policy"
ECS = {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
TAGGED = {"StringEquals": {"aws:ResourceTag/team": "payments"}}

STATEMENTS = [
    # (statement, config, phrase or None)
    (allow("ecr:PutImage", REPO), {}, None),
    (allow("ecr:GetAuthorizationToken"), {}, None),
    (allow(["ecr:GetAuthorizationToken", "ecr:DescribeRegistry"], ["*"]), {}, None),
    # NotAction / NotResource
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": REPO}, {}, "uses NotAction with Allow"),
    ({"Effect": "Allow", "Action": "ecr:PutImage", "NotResource": REPO}, {}, "uses NotResource with Allow"),
    ({"Effect": "Allow", "Action": "ecr:PutImage", "NotResource": REPO}, {}, "allows 'NotResource', which names every"),
    ({"Effect": "Allow", "Action": "iam:PassRole", "NotResource": f"{ROLE_ARN}/x"}, {},
     "iam:PassRole on 'NotResource'"),
    # administrator: any wildcard in the service part, or nothing but wildcards
    (allow("*", REPO), {}, "grants every action of every service ('*')"),
    (allow("*:*", REPO), {}, "grants every action of every service"),
    (allow("", REPO), {}, "grants every action of every service"),
    (allow("?*", REPO), {}, "grants every action of every service"),
    (allow("ec*:PutImage", REPO), {}, "grants every action of every service ('ec*:PutImage')"),
    (allow("e?r:PutImage", REPO), {}, "grants every action of every service"),
    ({"Effect": "Allow", "Action": "*", "NotResource": REPO}, {}, "uses NotResource"),
    # service-wide
    (allow("ecr:*", REPO), {}, "grants service-wide actions ('ecr:*')"),
    (allow("ecr:?*", REPO), {}, "grants service-wide actions"),
    (allow(["ecr:PutImage", "s3:*"], REPO), {}, "grants service-wide actions ('s3:*')"),
    (allow("ecr:Put*", REPO), {}, None),
    # every resource of a type, for actions that support narrower ones
    (allow("ecr:PutImage"), {}, "allows '*', which names every resource of its type, for actions that support "
                                "narrower resources ('ecr:PutImage')"),
    (allow("ecr:Put*", f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository/*"), {}, "names every resource of its type"),
    (allow("s3:GetObject", "arn:aws:s3:::*"), {}, "('s3:GetObject')"),
    (allow("s3:GetObject", "arn:aws:s3:::artifacts/*"), {}, None),
    (allow("ecr:PutImage", "*", Condition=TAGGED), {}, None),
    (allow("ecr:PutImage", "*", Condition={"StringEquals": {"ecr:ResourceTag/team": "payments"}}), {}, None),
    (allow("kms:Decrypt", "*", Condition={"StringEquals": {"kms:ViaService": "ecr.us-west-2.amazonaws.com"}}), {},
     None),
    (allow("ecr:PutImage", "*", Condition={"StringEquals": {"aws:RequestTag/team": "payments"}}), {}, "names every"),
    (allow("ecr:PutImage", "*", Condition={"StringEquals": {"aws:ResourceTag/team": "*"}}), {}, "names every"),
    (allow("ecr:PutImage", "*", Condition={"StringEquals": {"aws:ResourceTag/team": ["payments", "?"]}}), {},
     "names every"),
    (allow("ecr:PutImage", "*", Condition={"StringEquals": {"aws:ResourceTag/team": []}}), {}, "names every"),
    (allow("ecr:PutImage", "*", Condition={"StringNotEquals": {"aws:ResourceTag/team": "payments"}}), {},
     "names every"),
    (allow("ecr:PutImage", "*", Condition={"StringEqualsIfExists": {"aws:ResourceTag/team": "payments"}}), {},
     "names every"),
    (allow("ecr:PutImage", "*", Condition={"ForAllValues:StringEquals": {"aws:ResourceTag/team": "payments"}}), {},
     "names every"),
    (allow("ecr:PutImage", "*", Condition={"ForAnyValue:StringLike": {"aws:ResourceTag/team": "pay*"}}), {}, None),
    (allow("ecr:PutImage", "*", Condition={"Bool": {"aws:ResourceTag/team": "true"}}), {}, "names every"),
    # actions the dataset does not know
    (allow("ecr:NoSuchAction", "*"), {}, "actions the IAM dataset does not know ('ecr:NoSuchAction')"),
    (allow("nosuchservice:Thing", "*"), {}, "does not know ('nosuchservice:Thing')"),
    (allow("nosuchservice:Thing", REPO), {}, None),
    (allow("ecr:NoSuch*", "*"), {}, None),
    (allow("ecr:NoSuchAction", "*", Condition=TAGGED), {}, None),
    # IAM escalation: any resource, any condition
    (allow("iam:AttachRolePolicy", f"{ROLE_ARN}/github-push-payments"), {},
     "allows IAM escalation actions ('iam:AttachRolePolicy') on 'arn:aws:iam::210987654321:role/github-push-payments'"),
    (allow("iam:PutRolePolicy", f"{ROLE_ARN}/x", Condition=TAGGED), {}, "IAM escalation actions ('iam:PutRolePolicy')"),
    (allow("iam:Put*", f"{ROLE_ARN}/x"), {}, "'iam:PutRolePolicy'"),
    (allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/x"), {},
     "IAM escalation actions ('iam:CreateAccessKey')"),
    (allow("iam:TagRole", f"{ROLE_ARN}/x"), {}, "IAM escalation"),
    ({"Effect": "Allow", "Action": "iam:UpdateAssumeRolePolicy"}, {}, "on '*'"),
    (allow("iam:GetRole", f"{ROLE_ARN}/x"), {}, None),
    (allow("ec2:DescribeInstances"), {}, None),
    # iam:PassRole: named roles of allowed accounts, with iam:PassedToService when required
    (allow("iam:PassRole", f"{ROLE_ARN}/payments-task", Condition=ECS), {"requirePassedToService": True}, None),
    (allow("iam:PassRole", f"{ROLE_ARN}/path/payments-task"), {}, None),
    (allow("iam:PassRole", f"arn:aws:IAM::{ACCOUNT}:role/payments-task"), {}, None),
    (allow("iam:PassRole", f"{ROLE_ARN}/payments-task"), {"requirePassedToService": True},
     "without an iam:PassedToService condition"),
    (allow("iam:PassRole", f"{ROLE_ARN}/payments-*", Condition=ECS), {}, "allows iam:PassRole on "
                                                                        "'arn:aws:iam::210987654321:role/payments-*'"),
    (allow("iam:PassRole", f"{ROLE_ARN}/", Condition=ECS), {}, "allows iam:PassRole on"),
    (allow("iam:PassRole", "arn:aws:iam::*:role/payments-task", Condition=ECS), {}, "allows iam:PassRole on"),
    (allow("iam:PassRole", "arn:aws:iam::1:role/payments-task", Condition=ECS), {}, "allows iam:PassRole on"),
    (allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:user/payments-task", Condition=ECS), {}, "allows iam:PassRole on"),
    (allow("iam:PassRole", f"arn:aws:ecr:us-west-2:{ACCOUNT}:role/payments-task", Condition=ECS), {},
     "allows iam:PassRole on"),
    (allow("iam:PassRole", "*", Condition=ECS), {}, "allows iam:PassRole on '*'"),
    (allow("iam:PassRole", f"arn:aws:iam::{OTHER_ACCOUNT}:role/t", Condition=ECS), {"allowedAccounts": [ACCOUNT]},
     "roles of account(s) '333333333333', which are not in allowedAccounts (210987654321)"),
    (allow("iam:PassRole", f"arn:aws:iam::{OTHER_ACCOUNT}:role/t", Condition=ECS), {"allowedAccounts": []}, None),
    (allow("iam:PassRole", f"{ROLE_ARN}/t", Condition=ECS), {"allowedAccounts": [ACCOUNT]}, None),
    (allow(["iam:PassRole", "ecs:UpdateService"], f"{ROLE_ARN}/t", Condition=ECS), {}, None),
    (allow(["s3:*", "iam:PassRole"], "*"), {}, "allows iam:PassRole on '*'"),       # after a service-wide action
    (allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}", Condition=ECS), {}, "allows iam:PassRole on"),
    (allow("iam:PassRole", f"arn:aws:sts::{ACCOUNT}:role/t", Condition=ECS), {}, "allows iam:PassRole on"),
    (allow("iam:PassRole", f"{ROLE_ARN}/a:*", Condition=ECS), {}, "allows iam:PassRole on"),
    (allow("iam:PassRole", f"arn:aws:iam::{OTHER_ACCOUNT}:role/a:b", Condition=ECS), {"allowedAccounts": [ACCOUNT]},
     "roles of account(s) '333333333333'"),
    # other sensitive actions on every resource of a type, unless a condition selects resources
    (allow("ecr:PutRegistryPolicy"), {}, "permissions-management, privilege-escalation or credential-exposing "
                                         "actions ('ecr:PutRegistryPolicy') on '*'"),
    (allow("ecr:PutReplicationConfiguration"), {}, "credential-exposing actions ('ecr:PutReplicationConfiguration')"),
    (allow("s3:PutAccountPublicAccessBlock"), {}, "credential-exposing actions ('s3:PutAccountPublicAccessBlock')"),
    (allow("ecr:PutReplicationConfiguration", Condition=TAGGED), {}, None),
    (allow("ecr:CreatePullThroughCacheRule"), {}, None),
]


@pytest.mark.parametrize(("statement", "config", "expected"), STATEMENTS)
def test_statement_verdicts(statement: dict[str, Any], config: dict[str, Any], expected: str | None) -> None:
    verdict(statement_problems(statement, config), expected)


def test_statement_problems_are_each_reported_once() -> None:
    """An action reported as escalation, or by the PassRole rule, is not reported again as 'every resource'."""
    problems = statement_problems(allow(["iam:AttachRolePolicy", "iam:PassRole", "ecr:PutImage"]), {})
    assert len(problems) == 3, problems
    assert "('ecr:PutImage');" in problems[1] and "iam:PassRole" not in problems[1]
    assert problems[2].startswith("allows iam:PassRole on '*'")
    assert statement_problems(allow("ecr:PutImage", REPO)) == []


SELECTING = [
    ({"StringEquals": {"aws:ResourceTag/team": "payments"}}, True),
    ({"StringLike": {"AWS:ResourceTag/Team": "pay*"}}, True),
    ({"ArnEquals": {"kms:ViaService": "x"}}, True),
    ({"ArnLike": {"s3:ResourceTag/x": "y"}}, True),
    ({"StringEqualsIgnoreCase": {"kms:ViaService": "x"}}, True),
    ({"StringEquals": {"aws:ResourceTag/": "payments"}}, False),
    ({"StringEquals": {"aws:PrincipalTag/team": "payments"}}, False),
    ({"StringEquals": {"kms:ViaServices": "x"}}, False),
    ({"StringEquals": {"xkms:ViaService": "x"}}, False),
    ({"StringNotLike": {"aws:ResourceTag/team": "payments"}}, False),
    ({"ArnNotEquals": {"aws:ResourceTag/team": "payments"}}, False),
    ({"StringEqualsIfExists": {"aws:ResourceTag/team": "payments"}}, False),
    ({"forallvalues:StringEquals": {"aws:ResourceTag/team": "payments"}}, False),
    ({"NumericEquals": {"aws:ResourceTag/team": "1"}}, False),
    ({"StringEquals": {"aws:ResourceTag/team": "*?"}}, False),
    ({"StringEquals": {"aws:ResourceTag/team": "a*"}}, True),
    ({"StringEquals": {"aws:ResourceTag/team": []}}, False),
    ({"StringEquals": {"aws:SourceIp": "x"}, "StringLike": {"aws:ResourceTag/team": "payments"}}, True),
]


@pytest.mark.parametrize(("condition", "selects"), SELECTING)
def test_conditions_that_select_resources(condition: dict[str, Any], selects: bool) -> None:
    assert selects_resources({"Condition": condition}) is selects


PASSED_TO_SERVICE = [
    ({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}, True),
    ({"StringLike": {"iam:passedtoservice": ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com.cn"]}}, True),
    ({"ForAnyValue:StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}, True),
    ({"StringEquals": {"iam:AssociatedResourceArn": "ecs-tasks.amazonaws.com"}}, False),
    ({"StringEquals": {"aws:SourceIp": "ecs-tasks.amazonaws.com"}}, False),
    ({"StringEquals": {"kms:ViaService": "ecs-tasks.amazonaws.com"}}, False),      # sorts after the key
    ({"StringNotEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}, False),
    ({"StringEqualsIfExists": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}, False),
    ({"ForAllValues:StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}, False),
    ({"StringLike": {"iam:PassedToService": "*"}}, False),
    ({"StringLike": {"iam:PassedToService": "*.amazonaws.com"}}, False),
    ({"StringEquals": {"iam:PassedToService": ["ecs-tasks.amazonaws.com", "evil.example.com"]}}, False),
    ({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com.evil"}}, False),
    ({"StringEquals": {"iam:PassedToService": []}}, False),
]


@pytest.mark.parametrize(("condition", "expected"), PASSED_TO_SERVICE)
def test_passed_to_service_conditions(condition: dict[str, Any], expected: bool) -> None:
    assert passed_to_service({"Condition": condition}) is expected
    statement = allow("iam:PassRole", f"{ROLE_ARN}/task", Condition=condition)
    verdict(statement_problems(statement, {"requirePassedToService": True}),
            None if expected else "without an iam:PassedToService condition")


def test_document_problems_judge_every_allow_after_a_deny_or_a_fine_statement() -> None:
    document = doc(deny("*"), allow("ecr:PutImage", REPO), allow("ecr:*", REPO) | {"Sid": "Wide"},
                   allow("iam:PassRole", "*"))
    problems = document_problems(document, {})
    assert problems[0].startswith("statement 'Wide' grants service-wide actions")
    assert problems[1].startswith("statement #4 allows iam:PassRole on '*'")
    assert len(problems) == 2, "PassRole on '*' is one problem, said once"
    assert document_problems(doc(deny("*"))) == []


# --- trust policies: who besides named principals of allowed accounts ------------------------------


def trust(*statements: dict[str, Any]) -> Any:
    document = open_document(doc(*statements), "resource", skipped(), "t")
    assert document is not None
    return document


def assume(principal: Any, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole", **extra}


ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}

TRUSTS = [
    ([assume({"AWS": f"{ROLE_ARN}/ci"})], {}, None),
    ([assume({"AWS": ACCOUNT})], {"allowedAccounts": [ACCOUNT]}, None),
    ([assume({"Service": "ecs-tasks.amazonaws.com"})], {"allowedAccounts": [ACCOUNT]}, None),
    ([assume({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})], {"allowedAccounts": [ACCOUNT]},
     "lets account 333333333333 ('arn:aws:iam::333333333333:root') assume the role, which is not in allowedAccounts"),
    ([assume({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})], {}, None),
    ([assume({"AWS": "ci-role"})], {}, "trusts 'ci-role', which is not an IAM ARN"),
    ([assume("*")], {}, "lets any principal ('*') assume the role"),
    ([assume({"AWS": "*"})], {}, "lets any principal"),
    ([assume({"AWS": "arn:aws:iam::*:root"})], {}, "lets any principal"),
    ([assume("*", Condition=ORG)], {}, "lets principals of 'o-abc123'"),        # empty: own organisation unknown
    ([assume("*", Condition=ORG)], {"allowedOrganizationIds": ["o-abc123"]}, None),
    ([assume("*", Condition=ORG)], {"allowedOrganizationIds": ["o-other1"]}, "lets principals of 'o-abc123'"),
    ([assume("*", Condition={"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}})],
     {"allowedAccounts": [ACCOUNT]}, "lets principals of '333333333333' assume the role"),
    ([assume("*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})], {"allowedAccounts": [ACCOUNT]},
     None),
    ([assume("*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-*"}})], {}, "lets any principal"),
    ([assume("*", Condition={"StringEquals": {"aws:ResourceAccount": ACCOUNT}})], {}, "lets any principal"),
    ([{"Effect": "Allow", "NotPrincipal": {"AWS": f"{ROLE_ARN}/x"}, "Action": "sts:AssumeRole"}], {},
     "uses NotPrincipal with Allow"),
    # early exits: a Deny, a NotPrincipal, an open principal; the next statement is still judged
    ([assume("*", "Deny"), assume({"AWS": "ci"})], {}, "statement #2 trusts 'ci'"),
    ([{"Effect": "Allow", "NotPrincipal": {"AWS": "x"}, "Action": "sts:AssumeRole"}, assume({"AWS": "ci"})], {},
     "statement #2 trusts 'ci'"),
    ([assume("*"), assume({"AWS": "ci"})], {}, "statement #2 trusts 'ci'"),
    ([assume({"AWS": ["*", "ci"]}, Condition=ORG)], {}, "trusts 'ci'"),
]


@pytest.mark.parametrize(("statements", "config", "expected"), TRUSTS)
def test_trust_principal_verdicts(statements: list[dict[str, Any]], config: dict[str, Any],
                                  expected: str | None) -> None:
    verdict(trust_principal_problems(trust(*statements), config), expected)


# --- AWS managed policies and every way to attach them -----------------------------------------------

MANAGED = [
    (f"{AWS}/AdministratorAccess", {}, "attaches the AWS managed policy AdministratorAccess, which grants more than "
                                       "least privilege (statement #1 grants every action of every service ('*')"),
    (f"{AWS}/AmazonEC2ContainerRegistryPowerUser", {}, "which grants more than least privilege"),
    (f"{AWS}/AmazonEC2ContainerRegistryReadOnly", {}, "which grants more than least privilege"),
    (f"{AWS}/AWSAccountUsageReportAccess", {}, "AWSAccountUsageReportAccess, which is not in allowedManagedPolicies"),
    (f"{AWS}/AmazonEC2ContainerRegistryReadOnly", {"allowedManagedPolicies": ["AmazonEC2ContainerRegistryReadOnly"]},
     None),
    (f"{AWS}/AdministratorAccess", {"allowedManagedPolicies": [f"{AWS}/AdministratorAccess"]}, None),
    (f"{AWS}/NoSuchPolicyAnywhere", {}, "which the pack's data does not know"),
    (f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess", {}, None),
    (UNKNOWN, {}, None),
]


@pytest.mark.parametrize(("arn", "config", "expected"), MANAGED)
def test_managed_policy_verdicts(arn: Any, config: dict[str, Any], expected: str | None) -> None:
    problem = managed_policy_problem(arn, config)
    verdict([problem] if problem else [], expected)


@pytest.mark.parametrize(("arn", "name"), [
    (f"{AWS}/AdministratorAccess", "AdministratorAccess"),
    (f"{AWS}/service-role/AmazonECSTaskExecutionRolePolicy", "AmazonECSTaskExecutionRolePolicy"),
    ("arn:aws-cn:iam::aws:policy/job-function/ViewOnlyAccess", "ViewOnlyAccess"),
    (f"{AWS}/", None), (f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess", None),
    ("iam::aws:policy/AdministratorAccess", None), (5, None),
])
def test_aws_managed_policy_names_from_arns(arn: Any, name: str | None) -> None:
    assert aws_managed_name(arn) == name


def test_a_managed_policy_problem_shows_the_first_problem_and_says_when_there_are_more() -> None:
    one = managed_policy_problem(f"{AWS}/AdministratorAccess", {}) or ""
    assert "(statement #1 grants every action of every service ('*'): that is administrator access; list the " \
           "actions the workload needs); attach" in one
    several = managed_policy_problem(f"{AWS}/AmazonEC2ContainerRegistryFullAccess", {}) or ""
    assert "(statement #1 grants service-wide actions ('ecr:*'); list the actions the workload needs ...); " \
           "attach" in several


ADMIN = f"{AWS}/AdministratorAccess"
ATTACHMENTS = [
    (ROLE_POLICY_ATTACHMENT, {"role": "ci"}, "'ci'"),
    (USER_POLICY_ATTACHMENT, {"user": "deployer"}, "'deployer'"),
    (GROUP_POLICY_ATTACHMENT, {"group": "admins"}, "'admins'"),
    (POLICY_ATTACHMENT, {"roles": ["ci"], "users": ["deployer"], "groups": ["admins"]}, "'ci', 'deployer', 'admins'"),
    (POLICY_ATTACHMENT, {}, "nobody yet"),
]


@pytest.mark.parametrize(("kind", "targets", "shown"), ATTACHMENTS)
def test_administrator_access_through_every_attachment_kind(kind: str, targets: dict[str, Any], shown: str) -> None:
    attachment = resource(kind, "admin", policyArn=ADMIN, **targets)
    found = messages(check_least_privilege(attachment, defaults(POLICIES), skipped()))
    assert len(found) == 1 and found[0].startswith(f"The policy attachment 'admin' (to {shown}) attaches the AWS "
                                                   "managed policy AdministratorAccess"), found
    allowed = resource(kind, "node", policyArn=f"{AWS}/AmazonEC2ContainerRegistryReadOnly", **targets)
    assert check_least_privilege(allowed, defaults(POLICIES), skipped()) == []


def test_administrator_access_through_managed_policy_arns() -> None:
    role = resource(ROLE, "ci", name="ci", managedPolicyArns=[f"{AWS}/AmazonEC2ContainerRegistryPullOnly", ADMIN])
    found = messages(check_least_privilege(role, defaults(POLICIES), skipped()))
    assert len(found) == 1 and found[0].startswith("The IAM role 'ci' attaches the AWS managed policy "
                                                   "AdministratorAccess") and found[0].endswith("(managedPolicyArns).")


# --- every identity document a resource declares ----------------------------------------------------

WIDE = doc(allow("ecr:*", REPO))


@pytest.mark.parametrize(("kind", "props", "subject"), [
    (ROLE_POLICY, {"role": "ci", "policy": dumps(WIDE)}, "The inline policy 'p' of IAM role 'ci'"),
    (USER_POLICY, {"user": "dev", "policy": WIDE}, "The inline policy 'p' of IAM user 'dev'"),
    (GROUP_POLICY, {"group": "ops", "policy": WIDE}, "The inline policy 'p' of IAM group 'ops'"),
    (ROLE_POLICY, {"role": UNKNOWN, "policy": WIDE}, "The inline policy 'p' of IAM role '(unknown)'"),
    (MANAGED_POLICY, {"policy": WIDE}, "The IAM managed policy 'p'"),
    (ROLE, {"inlinePolicies": [{"name": "inline", "policy": dumps(WIDE)}]},
     "The inline policy 'inline' of IAM role 'p'"),
    (ROLE, {"inlinePolicies": ["junk", {"policy": WIDE}]}, "The inline policy 'inlinePolicies[1]' of IAM role 'p'"),
    (ROLE, {"inlinePolicies": [{"name": 5, "policy": WIDE}]}, "The inline policy 'inlinePolicies[0]' of IAM role 'p'"),
])
def test_every_identity_document_is_judged(kind: str, props: dict[str, Any], subject: str) -> None:
    found = messages(check_least_privilege(resource(kind, "p", **props), {}, skipped()))
    assert found == [f"{subject}: statement #1 grants service-wide actions ('ecr:*'); list the actions the workload "
                     "needs."]


def test_an_absent_inline_policy_does_not_hide_the_next_one() -> None:
    role = resource(ROLE, "ci", name="ci", inlinePolicies=[{"name": "empty", "policy": None},
                                                           {"name": "wide", "policy": WIDE}])
    (found,) = messages(check_least_privilege(role, {}, skipped()))
    assert found.startswith("The inline policy 'wide' of IAM role 'ci': statement #1 grants service-wide actions")


def test_malformed_identity_and_trust_documents_fail_closed_and_the_rest_is_judged() -> None:
    identity = doc({"Action": "ecr:PutImage", "Resource": REPO}, allow("ecr:*", REPO))
    trust_doc = doc({"Principal": "*", "Action": "sts:AssumeRole"}, assume({"AWS": "ci"}))
    role = resource(ROLE, "ci", name="ci", assumeRolePolicy=trust_doc,
                    inlinePolicies=[{"name": "p", "policy": identity}])
    found = messages(check_least_privilege(role, {}, skipped()))
    assert len(found) == 4, found
    assert "The inline policy 'p' of IAM role 'ci' is malformed" in found[0]
    assert "statement #2 grants service-wide actions" in found[1]
    assert "The trust policy (assumeRolePolicy) of IAM role 'ci' is malformed" in found[2]
    assert found[3] == ("The trust policy (assumeRolePolicy) of IAM role 'ci' is open: statement #2 trusts 'ci', "
                        "which is not an IAM ARN or account id with a literal account; name principals by ARN.")


def test_unknown_documents_are_skipped_and_noted() -> None:
    notes = skipped()
    role = resource(ROLE, "ci", assumeRolePolicy=UNKNOWN, inlinePolicies=[{"name": "p", "policy": UNKNOWN}],
                    managedPolicyArns=UNKNOWN)
    assert check_least_privilege(role, {}, notes) == []
    assert notes.paths == ["ci.inlinePolicies[0].policy", "ci.assumeRolePolicy"]


def test_defaults_allow_only_the_ecr_read_policies_and_do_not_require_passed_to_service() -> None:
    config = defaults(POLICIES)
    for name in ("AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPullOnly"):
        assert managed_policy_problem(f"{AWS}/{name}", config) is None
    assert managed_policy_problem(f"{AWS}/AmazonEC2ContainerRegistryPowerUser", config) is not None
    assert statement_problems(allow("iam:PassRole", f"{ROLE_ARN}/t"), config) == []
    assert trust_principal_problems(trust(assume({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})), config) == []


# --- invariants ---------------------------------------------------------------------------------------

POOL = [dict(s, Sid=f"S{i}") for i, (s, _, _) in enumerate(STATEMENTS) if "Effect" in s]


@given(st.lists(st.sampled_from(POOL), max_size=6, unique_by=lambda s: s["Sid"]), st.randoms())
def test_problems_do_not_depend_on_statement_order_or_on_deny_statements(chosen: list[dict[str, Any]],
                                                                        shuffle: Any) -> None:
    problems = sorted(document_problems(doc(*chosen)))
    reordered = list(chosen)
    shuffle.shuffle(reordered)
    assert sorted(document_problems(doc(*reordered))) == problems
    denies = [dict(s, Effect="Deny", Sid=f"D{i}") for i, s in enumerate(chosen)]
    assert sorted(document_problems(doc(*reordered, *denies))) == problems


@given(st.sampled_from([s for s, _, _ in STATEMENTS if "Condition" not in s and "Effect" in s]))
def test_a_resource_tag_condition_never_adds_a_problem(statement: dict[str, Any]) -> None:
    narrowed = dict(statement, Condition=TAGGED)
    assert set(statement_problems(narrowed)) <= set(statement_problems(statement))

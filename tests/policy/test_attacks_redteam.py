"""A red team after issue 21: attacks in classes the earlier attack files do not cover.

Each case is a hand-written resource graph added to the compliant two-team prod baseline of
`test_attacks.py` (or, where it says so, the baseline with one resource edited), judged over the
analyzer protocol under `policy/config/prod.json`. The first sections are the escapes the red team
found (a role reached through compute that already runs, or through a service the pack did not
know; a write into a team's namespace that names no declared repository; an Identity Center
permission set writing ECR); then the cases that were already refused, kept so they stay refused;
then the legitimate twins that must stay clean.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.analyzer import Resource

from .conftest import Guard, assert_clean, assert_violates
from .fixtures import (
    ACCOUNT,
    GROUP_POLICY,
    MANAGED_POLICY,
    PROVIDER_ARN,
    REPOSITORY_POLICY,
    ROLE_POLICY_ATTACHMENT,
    creation_template,
    dumps,
    github_statement,
    lifecycle_policy,
    repo_arn,
    repository,
    repository_policy,
    resource,
    role,
    role_policy,
    trust_document,
)
from .test_attacks import COMPONENT, PUSH, ROLE_ARN, baseline, judge, prod_config, statement

PAY = "github-push-payments"
BILLING = f"{ROLE_ARN}/github-push-billing"
ISSUER = "token.actions.githubusercontent.com"
PINNED = {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:repository_id": "2000001"}
FUNCTION = f"arn:aws:lambda:us-west-2:{ACCOUNT}:function"
STACKS = f"arn:aws:cloudformation:us-west-2:{ACCOUNT}:stack/payments-*/*"


@pytest.fixture
def prod(guard: Guard) -> Guard:
    guard.client.configure(prod_config())
    return guard


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def gh(condition: dict[str, Any]) -> dict[str, Any]:
    return trust(github_statement(condition))


def pay(*statements: dict[str, Any]) -> Resource:
    """An extra inline policy on payments' push role."""
    return role_policy({"Version": "2012-10-17", "Statement": [{"Sid": f"S{i}", "Effect": "Allow", **s}
                                                               for i, s in enumerate(statements)]},
                       role_name=PAY, name="extra")


def writer(name: str, trust_policy: dict[str, Any], team: str | None = "billing") -> list[Resource]:
    """A role pushing billing's repositories, trusted as the case says."""
    return [role(name, trust_policy, team=team),
            role_policy(statement(Action=PUSH, Resource=repo_arn("billing/*")), role_name=name, name="push")]


def billing_also_trusts(service: str) -> list[Resource]:
    """The baseline with billing's push role (its one writer) also trusted by `service`."""
    document = trust_document(["repo:acme/billing:ref:refs/heads/main"], [])
    document["Statement"].append({"Sid": "Service", "Effect": "Allow", "Principal": {"Service": service},
                                  "Action": "sts:AssumeRole"})
    return [*(r for r in baseline() if r.name != "github-push-billing"),
            role("github-push-billing", document, team="billing", parent=COMPONENT + "billing")]


def passing(service: str) -> dict[str, Any]:
    return {"Action": "iam:PassRole", "Resource": BILLING,
            "Condition": {"StringEquals": {"iam:PassedToService": service}}}


# --- 1. becoming a role through compute that already runs as it, or through a service the pack did not know ----------

BECOMING = {
    "lambda-update-function-code": ("lambda.amazonaws.com", [
        {"Action": "lambda:UpdateFunctionCode", "Resource": f"{FUNCTION}:billing-fn"}]),
    "ssm-send-command": ("ec2.amazonaws.com", [
        {"Action": "ssm:SendCommand", "Resource": [f"arn:aws:ec2:us-west-2:{ACCOUNT}:instance/i-0123",
                                                   "arn:aws:ssm:us-west-2::document/AWS-RunShellScript"]}]),
    "ecs-execute-command": ("ecs-tasks.amazonaws.com", [
        {"Action": "ecs:ExecuteCommand", "Resource": f"arn:aws:ecs:us-west-2:{ACCOUNT}:task/billing/*"}]),
    "codebuild-start-existing-project": ("codebuild.amazonaws.com", [
        {"Action": "codebuild:StartBuild", "Resource": f"arn:aws:codebuild:us-west-2:{ACCOUNT}:project/billing"}]),
    "cloudformation-pass-role": ("cloudformation.amazonaws.com", [
        passing("cloudformation.amazonaws.com"), {"Action": "cloudformation:CreateStack", "Resource": STACKS}]),
    "cloudformation-update-stack": ("cloudformation.amazonaws.com", [
        {"Action": "cloudformation:UpdateStack", "Resource": STACKS}]),
    "step-functions-pass-role": ("states.amazonaws.com", [
        passing("states.amazonaws.com"),
        {"Action": "states:CreateStateMachine", "Resource": f"arn:aws:states:us-west-2:{ACCOUNT}:stateMachine:p"}]),
    "sagemaker-pass-role": ("sagemaker.amazonaws.com", [
        passing("sagemaker.amazonaws.com"),
        {"Action": "sagemaker:CreateProcessingJob",
         "Resource": f"arn:aws:sagemaker:us-west-2:{ACCOUNT}:processing-job/payments-*"}]),
}


@pytest.mark.parametrize("case", list(BECOMING))
def test_running_code_as_another_teams_role_crosses_teams(prod: Guard, case: str) -> None:
    service, statements = BECOMING[case]
    assert_violates(prod.all([*billing_also_trusts(service), pay(*statements)]), "team-isolation",
                    "'github-push-payments' can write to the repositories of 2 teams", "'github-push-billing'")


@pytest.mark.parametrize("service", sorted({service for service, _ in BECOMING.values()}))
def test_a_service_trust_nobody_can_use_is_the_passing_twin(prod: Guard, service: str) -> None:
    assert_clean(prod.all(billing_also_trusts(service)))


@pytest.mark.parametrize(("service", "read"), [
    ("cloudformation.amazonaws.com", {"Action": "cloudformation:DescribeStacks", "Resource": STACKS}),
    ("lambda.amazonaws.com", {"Action": "lambda:GetFunction", "Resource": f"{FUNCTION}:billing-fn"}),
    ("ecs-tasks.amazonaws.com", {"Action": "sts:AssumeRole", "Resource": BILLING}),  # the trust admits no account
], ids=["describe-stacks", "get-function", "assume-without-a-root-trust"])
def test_reading_the_compute_of_another_team_is_the_passing_twin(prod: Guard, service: str,
                                                                read: dict[str, Any]) -> None:
    assert_clean(prod.all([*billing_also_trusts(service), pay(read)]))


def test_updating_the_code_of_the_teams_own_function_is_the_passing_twin(prod: Guard) -> None:
    own = role("payments-fn", trust({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                     "Action": "sts:AssumeRole"}))
    assert_clean(judge(prod, own, pay({"Action": "lambda:UpdateFunctionCode", "Resource": f"{FUNCTION}:payments-fn"})))


# --- 2. writing into a team's namespace where no repository is declared yet -----------------------------------------

@pytest.mark.parametrize("name", ["billing/next", "billing/ne*"])
def test_a_write_into_another_teams_namespace_crosses_teams_before_the_repository_exists(prod: Guard,
                                                                                         name: str) -> None:
    assert_violates(judge(prod, pay({"Action": PUSH, "Resource": repo_arn(name)})), "team-isolation",
                    "can write to the repositories of 2 teams", f"'{name} (not declared yet)'")


def test_a_write_into_the_teams_own_namespace_before_the_repository_exists_is_the_passing_twin(prod: Guard) -> None:
    assert_clean(judge(prod, pay({"Action": PUSH, "Resource": repo_arn("payments/next")})))


# --- 3. IAM Identity Center permission sets --------------------------------------------------------------------------

def sso_inline(actions: list[str], resource_arn: str) -> Resource:
    return resource("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", "developers", {
        "instanceArn": "arn:aws:sso:::instance/ssoins-1",
        "permissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
        "inlinePolicy": dumps(statement(Action=actions, Resource=resource_arn))})


def test_a_permission_set_that_pushes_is_a_writer_nobody_owns(prod: Guard) -> None:
    assert_violates(judge(prod, sso_inline(PUSH, repo_arn("billing/*"))), "team-isolation",
                    "permission set 'developers'", "inlinePolicy", "ecr:PutImage", "outside every team")


def test_a_permission_set_that_pulls_is_the_passing_twin(prod: Guard) -> None:
    assert_clean(judge(prod, sso_inline(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], repo_arn("billing/*"))))


# --- 4. already refused: kept so they stay refused ------------------------------------------------------------------

SAME_ACCOUNT_PUSH = trust({"Sid": "Push", "Effect": "Allow", "Principal": {"AWS": f"{ROLE_ARN}/{PAY}"},
                           "Action": PUSH})
FOREIGN_PUSH = trust({"Sid": "Push", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                      "Action": PUSH})
DEEP = "[" * 50000 + "]" * 50000


def inline(document: Any) -> Resource:
    return role_policy(document, role_name=PAY, name="extra")


def attached(arn: str) -> Resource:
    return resource(ROLE_POLICY_ATTACHMENT, "attached", {"role": PAY, "policyArn": arn})


REFUSED: dict[str, tuple[str, list[Resource]]] = {
    # registry-wide and replication writes
    "put-registry-policy": ("team-isolation", [inline(statement(Action="ecr:PutRegistryPolicy", Resource="*"))]),
    "replicate-image-into-billing": ("team-isolation", [pay({"Action": "ecr:ReplicateImage",
                                                             "Resource": repo_arn("billing/*")})]),
    "full-access-managed-policy": ("team-isolation", [
        attached("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess")]),
    "registry-policy-to-own-account-role": ("ecr-repository-policy-restricted", [
        resource("aws:ecr/registryPolicy:RegistryPolicy", "registry", {"policy": dumps(trust({
            "Effect": "Allow", "Principal": {"AWS": f"{ROLE_ARN}/{PAY}"},
            "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"], "Resource": repo_arn("*")}))})]),
    # action and resource spellings
    "upper-case-action": ("team-isolation", [pay({"Action": "ECR:PutImage", "Resource": repo_arn("billing/api")})]),
    "mixed-case-wildcard-action": ("team-isolation", [pay({"Action": "Ecr:Put*",
                                                           "Resource": repo_arn("billing/api")})]),
    "any-region-any-account": ("team-isolation", [pay({"Action": PUSH, "Resource": "arn:aws:ecr:*:*:repository/*"})]),
    "any-partition": ("team-isolation", [pay({"Action": PUSH, "Resource": f"arn:*:ecr:us-west-2:{ACCOUNT}:repository/"
                                                                          "billing/api"})]),
    "question-mark-namespace": ("team-isolation", [pay({"Action": PUSH, "Resource": repo_arn("b?lling/*")})]),
    "namespace-prefix-without-slash": ("team-isolation", [pay({"Action": PUSH, "Resource": repo_arn("pay*")})]),
    "any-namespace-same-name": ("team-isolation", [pay({"Action": PUSH, "Resource": repo_arn("*/api")})]),
    "glob-bomb": ("team-isolation", [pay({"Action": PUSH, "Resource": repo_arn("*a" * 40 + "*b")})]),
    "not-action-with-a-deny": ("team-isolation", [inline(trust(
        {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}, {"Effect": "Deny", "NotAction": "ecr:*",
                                                                  "Resource": "*"}))]),
    "tag-billing-repositories": ("team-isolation", [pay({"Action": ["ecr:TagResource", "ecr:UntagResource"],
                                                         "Resource": repo_arn("billing/*")})]),
    "role-named-in-other-case": ("team-isolation", [role_policy(statement(Action=PUSH, Resource=repo_arn("billing/*")),
                                                                role_name="GitHub-Push-Payments", name="x")]),
    "role-named-by-arn": ("team-isolation", [role_policy(statement(Action=PUSH, Resource=repo_arn("billing/*")),
                                                         role_name=f"{ROLE_ARN}/{PAY}", name="x")]),
    # IAM escalation and becoming
    "create-policy-version-anywhere": ("iam-least-privilege", [pay({"Action": "iam:CreatePolicyVersion",
                                                                    "Resource": "*"})]),
    "lower-case-iam-wildcard": ("iam-least-privilege", [pay({"Action": "IAM:put*", "Resource": "*"})]),
    "pass-role-not-resource": ("team-isolation", [
        *writer("billing-task", trust({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                       "Action": "sts:AssumeRole"})),
        pay({"Action": ["iam:PassRole", "ecs:RunTask"], "NotResource": f"{ROLE_ARN}/admin"})]),
    "bare-account-id-trust": ("team-isolation", [
        *writer("billing-hop", trust({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})),
        pay({"Action": "sts:AssumeRole", "Resource": f"{ROLE_ARN}/billing-hop"})]),
    "arn-like-wildcard-principal": ("team-isolation", writer("hop", trust({
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:PrincipalArn": f"{ROLE_ARN}/github-*"}}}))),
    "if-exists-account-condition": ("iam-least-privilege", writer("hop", trust({
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}}}))),
    "foreign-root-with-external-id": ("iam-least-privilege", writer("ext", trust({
        "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::999999999999:root"]}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "x"}}}))),
    "saml-federated-writer": ("github-oidc-trust-scoped", writer("saml", trust({
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/okta"},
        "Action": "sts:AssumeRoleWithSAML"}))),
    "role-inline-policies": ("team-isolation", [role("side", trust_document(["repo:acme/payments:ref:refs/heads/main"],
                                                                            []), inlinePolicies=[{
        "name": "p", "policy": dumps(statement(Action=PUSH, Resource=repo_arn("billing/*")))}])]),
    "role-managed-policy-arns": ("iam-least-privilege", [role("side", managedPolicyArns=[
        "arn:aws:iam::aws:policy/AdministratorAccess"])]),
    "policy-attachment-to-users": ("team-isolation", [
        resource("aws:iam/user:User", "ci", {"name": "ci", "tags": {"team": "payments"}}),
        resource(MANAGED_POLICY, "cross", {"name": "cross", "policy": dumps(statement(
            Action=PUSH, Resource=repo_arn("billing/*")))}),
        resource("aws:iam/policyAttachment:PolicyAttachment", "pa", {
            "name": "pa", "users": ["ci"], "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/cross"})]),
    "admin-by-other-partition-arn": ("iam-least-privilege", [
        attached("arn:aws-cn:iam::aws:policy/AdministratorAccess")]),
    "admin-by-lower-case-name": ("iam-least-privilege", [attached("arn:aws:iam::aws:policy/administratoraccess")]),
    # GitHub trust shapes
    "string-not-equals-only": ("github-oidc-trust-scoped", [role("r1", gh({
        "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
        "StringNotEquals": {f"{ISSUER}:sub": "repo:evil/x:ref:refs/heads/main"}}))]),
    "for-any-value-like": ("github-oidc-trust-scoped", [role("r1", gh({
        "StringEquals": PINNED, "ForAnyValue:StringLike": {f"{ISSUER}:sub": "repo:*"}}))]),
    "main-star": ("github-oidc-trust-scoped", [role("r1", gh({
        "StringEquals": PINNED, "StringLike": {f"{ISSUER}:sub": "repo:acme/payments-api:ref:refs/heads/main*"}}))]),
    "repository-name-star": ("github-oidc-trust-scoped", [role("r1", gh({
        "StringEquals": PINNED, "StringLike": {f"{ISSUER}:sub": "repo:acme/payments-api*:ref:refs/tags/v*"}}))]),
    "upper-case-sub-key": ("github-oidc-trust-scoped", [role("r1", gh({
        "StringEquals": PINNED, "StringLike": {f"{ISSUER}:SUB": "repo:*"}}))]),
    "job-workflow-ref-only": ("github-oidc-trust-scoped", [role("r1", gh({
        "StringEquals": PINNED,
        "StringLike": {f"{ISSUER}:job_workflow_ref": "acme/payments-api/.github/workflows/d.yml@refs/heads/main"}}))]),
    "ignore-case-subject": ("github-oidc-trust-scoped", [role("r1", gh({
        "StringEquals": PINNED,
        "StringEqualsIgnoreCase": {f"{ISSUER}:sub": "repo:acme/payments-api:ref:refs/heads/main"}}))]),
    "issuer-with-trailing-slash": ("github-oidc-trust-scoped", [role("r1", trust(github_statement(
        {"StringEquals": {f"{ISSUER}/:aud": "sts.amazonaws.com"}, "StringLike": {f"{ISSUER}/:sub": "repo:*"}},
        issuer=f"{ISSUER}/")))]),
    "enterprise-issuer": ("github-oidc-trust-scoped", [role("r1", trust(github_statement(
        {"StringEquals": {f"{ISSUER}/acme:aud": "sts.amazonaws.com"}, "StringLike": {f"{ISSUER}/acme:sub": "repo:*"}},
        issuer=f"{ISSUER}/acme")))]),
    "upper-case-issuer": ("github-oidc-trust-scoped", [role("r1", trust(github_statement(
        {"StringEquals": {f"{ISSUER.upper()}:aud": "sts.amazonaws.com"},
         "StringLike": {f"{ISSUER.upper()}:sub": "repo:*"}}, issuer=ISSUER.upper())))]),
    "any-environment": ("github-oidc-trust-scoped", [role("r1", gh({
        "StringEquals": PINNED, "StringLike": {f"{ISSUER}:sub": "repo:acme/payments-api:environment:*"}}))]),
    "plus-cognito": ("github-oidc-trust-scoped", [role("r1", trust(*trust_document()["Statement"], {
        "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "sts:AssumeRoleWithWebIdentity"}))]),
    "nan-audience": ("github-oidc-trust-scoped", [role("r1", '{"Version": "2012-10-17", "Statement": [{"Effect": '
                                                       '"Allow", "Principal": {"Federated": "' + PROVIDER_ARN + '"}, '
                                                       '"Action": "sts:AssumeRoleWithWebIdentity", "Condition": '
                                                       '{"StringEquals": {"' + ISSUER + ':aud": NaN}}}]}')]),
    # documents in odd shapes
    "duplicate-json-keys": ("iam-least-privilege", [inline(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", '
        '"Action": "ecr:*", "Resource": "*"}]}')]),
    "document-is-a-list": ("iam-least-privilege", [inline(dumps([{"Effect": "Allow", "Action": "*",
                                                                  "Resource": "*"}]))]),
    "document-is-a-number": ("iam-least-privilege", [inline("42")]),
    "document-encoded-twice": ("iam-least-privilege", [inline(dumps(dumps(statement(Action="*", Resource="*"))))]),
    "statement-is-a-string": ("iam-least-privilege", [inline(dumps({"Version": "2012-10-17", "Statement": "ecr:*"}))]),
    "deeply-nested-policy": ("iam-least-privilege", [inline(DEEP)]),
    "deeply-nested-trust": ("iam-least-privilege", [role("r3", DEEP)]),
    "deeply-nested-repository-policy": ("ecr-repository-policy-restricted", [repository_policy(
        DEEP, repository_name="billing/api")]),
    "huge-policy": ("iam-policy-size", [inline('{"Version": "2012-10-17", "Statement": [' + ", ".join(
        ['{"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"}'] * 2000) + "]}")]),
    "role-policy-with-name-prefix": ("team-isolation", [resource("aws:iam/rolePolicy:RolePolicy", "np", {
        "role": PAY, "namePrefix": "x", "policy": dumps(statement(Action="ecr:*", Resource="*"))})]),
    # repository and template policies
    "repository-policy-by-arn": ("ecr-repository-policy-restricted", [resource(REPOSITORY_POLICY, "bp", {
        "repository": repo_arn("billing/api"), "policy": dumps(SAME_ACCOUNT_PUSH)})]),
    "repository-policy-other-case": ("ecr-repository-policy-restricted", [repository_policy(
        FOREIGN_PUSH, repository_name="Billing/API")]),
    "repository-policy-service-push": ("ecr-repository-policy-restricted", [repository_policy(trust({
        "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": PUSH}),
        repository_name="billing/api")]),
    "template-root-foreign": ("ecr-repository-policy-restricted", [creation_template(
        "ROOT", repositoryPolicy=dumps(FOREIGN_PUSH))]),
    "template-billing-same-account": ("ecr-repository-policy-restricted", [creation_template(
        "billing", repositoryPolicy=dumps(SAME_ACCOUNT_PUSH))]),
    "repository-tagged-for-another-team": ("team-isolation", [repository("billing/new", "payments"),
                                                              lifecycle_policy("billing/new")]),
    # the closed world
    "aws-native-role": ("unjudged-resources", [resource("aws-native:iam:Role", "nr", {"assumeRolePolicyDocument": trust(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})})]),
    "aws-native-role-policy": ("unjudged-resources", [resource("aws-native:iam:RolePolicy", "nrp", {
        "roleName": PAY, "policyName": "x", "policyDocument": statement(Action="*", Resource="*")})]),
    "aws-native-repository": ("unjudged-resources", [resource("aws-native:ecr:Repository", "nrepo",
                                                              {"repositoryName": "billing/x"})]),
    "aws-native-registry-policy": ("unjudged-resources", [resource("aws-native:ecr:RegistryPolicy", "nrp",
                                                                   {"policyText": {}})]),
    "sso-account-assignment": ("unjudged-resources", [resource("aws:ssoadmin/accountAssignment:AccountAssignment",
                                                               "aa", {"principalType": "GROUP"})]),
}


def test_an_access_key_of_a_group_member_that_may_assume_another_teams_writer_is_refused(prod: Guard) -> None:
    root_trust = trust({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "sts:AssumeRole"})
    violations = judge(prod, resource("aws:iam/user:User", "ci", {"name": "ci"}),
                       resource("aws:iam/accessKey:AccessKey", "ci-key", {"user": "ci"}),
                       resource("aws:iam/group:Group", "ops", {"name": "ops"}),
                       resource("aws:iam/userGroupMembership:UserGroupMembership", "ci-ops",
                                {"user": "ci", "groups": ["ops"]}),
                       resource(GROUP_POLICY, "ops-assume", {"group": "ops", "name": "assume", "policy": dumps(
                           statement(Action="sts:AssumeRole", Resource=f"{ROLE_ARN}/billing-hop"))}),
                       *writer("billing-hop", root_trust))
    assert_violates(violations, "team-isolation", "access key of IAM user 'ci'", "belongs to no team")


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_attack_is_refused(prod: Guard, case: str) -> None:
    policy, extra = REFUSED[case]
    assert_violates(judge(prod, *extra), policy)


# --- 5. legitimate twins ---------------------------------------------------------------------------------------------

TWINS: dict[str, list[Resource]] = {
    "deny-with-wildcards": [inline(trust({"Sid": "NoDeletes", "Effect": "Deny", "Action": ["ecr:Delete*",
                                                                                           "ecr:BatchDeleteImage"],
                                          "Resource": "*"}))],
    "statement-as-one-object": [inline({"Version": "2012-10-17", "Statement": {
        "Sid": "Pull", "Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": repo_arn("payments/*")}})],
    "lower-case-actions-own-namespace": [pay({"Action": ["ecr:putimage", "ECR:UploadLayerPart"],
                                              "Resource": repo_arn("payments/api")})],
    "pull-only-managed-policy": [attached("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly")],
    "many-wildcards-in-a-trust-condition": [role("hop", trust({
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:PrincipalArn": f"{ROLE_ARN}/" + "*a" * 40 + "*b"}}}), team="billing")],
}


@pytest.mark.parametrize("case", list(TWINS))
def test_the_legitimate_twin_is_clean(prod: Guard, case: str) -> None:
    assert_clean(judge(prod, *TWINS[case]))


# --- 6. numbers the SDK cannot read off the wire ---------------------------------------------------------------------

@pytest.mark.parametrize("number", [float("inf"), float("-inf")])
def test_a_non_finite_number_is_judged_not_a_failed_call(prod: Guard, number: float) -> None:
    attack = role_policy(statement(Action=PUSH, Resource=repo_arn("billing/*")), role_name=PAY, name="x")
    attack.inputs["policy"] = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*",
                                                                      "Resource": "*", "Sid": number}]}
    assert_violates(judge(prod, attack), "team-isolation")
    twin = repository("payments/extra", tags={"team": "payments", "n": number}, parent=COMPONENT + "payments")
    assert_clean(judge(prod, twin, lifecycle_policy("payments/extra", parent=COMPONENT + "payments")))


def test_non_finite_numbers_read_as_strings() -> None:
    from google.protobuf import struct_pb2
    from rules.wire import message_to_dict

    message = struct_pb2.Struct()
    message.update({"a": [1.5, {"b": float("inf")}], "c": float("nan"), "d": "x"})
    assert message_to_dict(message) == {"a": [1.5, {"b": "inf"}], "c": "nan", "d": "x"}

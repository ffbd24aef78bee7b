"""Issue 21, part A, as an attacker sees it: each class has failing cases and the passing twin that differs in the
one thing that makes it safe, through the analyzer protocol under `policy/config/prod.json`."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from engine.analyzer import UNKNOWN, Resource

from .conftest import Guard, assert_clean, assert_violates, of_policy
from .fixtures import ACCOUNT, ROLE_POLICY_ATTACHMENT, dumps, repo_arn, repository, resource, role
from .test_attacks import OTHER_ACCOUNT, REGISTRY_POLICY, baseline, inline, prod_config, statement

ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
FOREIGN_ROOT = f"arn:aws:iam::{OTHER_ACCOUNT}:root"
ISSUER = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"


@pytest.fixture
def prod(guard: Guard) -> Guard:
    guard.client.configure(prod_config())
    return guard


def judge(guard: Guard, *extra: Resource) -> list:
    return guard.all([*baseline(), *extra])


def key_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": ROOT_ARN}, "Action": "kms:*", "Resource": "*"},
        *statements]}


# --- KMS keys, grants and foreign keys -----------------------------------------------------------------------------

OPEN_KEYS = [
    {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"], "Resource": "*"},
    {"Effect": "Allow", "Principal": {"AWS": FOREIGN_ROOT}, "Action": "kms:Decrypt", "Resource": "*"},
    {"Effect": "Allow", "NotPrincipal": {"AWS": ROOT_ARN}, "Action": "kms:Decrypt", "Resource": "*"},
]


@pytest.mark.parametrize("kind", ["aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy"])
@pytest.mark.parametrize("grant", OPEN_KEYS, ids=range(len(OPEN_KEYS)))
def test_a_key_policy_opening_the_key_fails(prod: Guard, kind: str, grant: dict[str, Any]) -> None:
    key = resource(kind, "ecr-key", {"policy": dumps(key_policy(grant)), "keyId": "k"})
    assert_violates(judge(prod, key), "iam-least-privilege", "key policy of KMS key 'ecr-key'")


def test_a_key_policy_for_the_home_account_and_services_is_the_passing_twin(prod: Guard) -> None:
    service = {"Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"}, "Action": "kms:Decrypt",
               "Resource": "*"}
    org = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
           "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}
    assert_clean(judge(prod, resource("aws:kms/key:Key", "ecr-key", {"policy": dumps(key_policy(service, org))}),
                       resource("aws:kms/alias:Alias", "ecr-alias", {"name": "alias/ecr", "targetKeyId": "k"})))


def test_a_grant_to_a_foreign_principal_fails_and_a_home_one_passes(prod: Guard) -> None:
    def grant(principal: str) -> Resource:
        return resource("aws:kms/grant:Grant", "pull-grant", {"keyId": "k", "granteePrincipal": principal,
                                                              "operations": ["Decrypt"]})
    assert_violates(judge(prod, grant(f"arn:aws:iam::{OTHER_ACCOUNT}:role/x")), "iam-least-privilege",
                    "KMS grant 'pull-grant'", OTHER_ACCOUNT)
    assert_clean(judge(prod, grant(f"arn:aws:iam::{ACCOUNT}:role/eks-node-group-role")))


def test_a_repository_encrypted_with_a_foreign_key_fails(prod: Guard) -> None:
    def encrypted(account: str) -> Resource:
        return repository("payments/extra", encryptionConfigurations=[
            {"encryptionType": "KMS", "kmsKey": f"arn:aws:kms:us-west-2:{account}:key/1234abcd-12ab-34cd-56ef-1234"}])
    assert_violates(judge(prod, encrypted(OTHER_ACCOUNT)), "ecr-encryption", OTHER_ACCOUNT, "keyAccounts")
    assert of_policy(judge(prod, encrypted(ACCOUNT)), "ecr-encryption") == []


# --- IAM Identity Center -------------------------------------------------------------------------------------------

def test_a_permission_set_with_star_star_inline_fails(prod: Guard) -> None:
    inline_set = resource("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", "ops", {
        "permissionSetArn": "arn:aws:sso:::permissionSet/x", "inlinePolicy": dumps(statement(Action="*",
                                                                                               Resource="*"))})
    assert_violates(judge(prod, inline_set), "iam-least-privilege", "permission set 'ops'", "administrator")
    named = resource("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", "ops", {
        "inlinePolicy": dumps(statement(Action="ecr:DescribeRepositories", Resource=repo_arn("payments/api")))})
    assert_clean(judge(prod, named, resource("aws:ssoadmin/permissionSet:PermissionSet", "ops-set", {"name": "ops"})))


def test_a_permission_set_with_an_admin_managed_policy_fails(prod: Guard) -> None:
    def attached(policy: str) -> Resource:
        return resource("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment", "ops-admin", {
            "managedPolicyArn": f"arn:aws:iam::aws:policy/{policy}", "permissionSetArn": "x"})
    assert_violates(judge(prod, attached("AdministratorAccess")), "iam-least-privilege", "AdministratorAccess")
    assert_clean(judge(prod, attached("AmazonEC2ContainerRegistryReadOnly")))
    customer = resource("aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment", "c", {
        "customerManagedPolicyReference": {"name": "anything"}})
    assert_violates(judge(prod, customer), "iam-least-privilege", "customer managed policy by name")


# --- fail closed on form ------------------------------------------------------------------------------------------

def trusted(principal: Any) -> Resource:
    return role("github-push-payments", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


@pytest.mark.parametrize("principal", [{"aws": FOREIGN_ROOT}, {"federated": PROVIDER}, [FOREIGN_ROOT],
                                       FOREIGN_ROOT, {"AWS": [FOREIGN_ROOT, 7]}, {}])
def test_principals_of_the_wrong_form_are_malformed(prod: Guard, principal: Any) -> None:
    stack = [r for r in baseline() if r.name != "github-push-payments"]
    assert_violates(prod.all([*stack, trusted(principal)]), "iam-least-privilege", "is malformed")


def test_a_principal_of_the_right_form_is_the_passing_twin(prod: Guard) -> None:
    stack = [r for r in baseline() if r.name != "github-push-payments"]
    violations = prod.all([*stack, trusted({"AWS": f"arn:aws:iam::{ACCOUNT}:role/deployer"})])
    assert not [v for v in of_policy(violations, "iam-least-privilege") if "malformed" in v.message]


def deep_document(levels: int) -> str:
    return '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*",' \
           '"Condition":' + '{"k":' * levels + '"v"' + "}" * levels + "}]}"


def test_a_document_nested_thousands_deep_is_a_violation_not_a_crash(prod: Guard) -> None:
    deep = inline(deep_document(5000))
    violations = judge(prod, deep, repository("billing/loose", "billing", imageTagMutability="MUTABLE"))
    assert_violates(violations, "iam-least-privilege", "nests deeper than 32 levels")
    assert_violates(violations, "ecr-tag-immutability", "billing/loose")     # the others' verdicts stand


def test_replication_rules_that_are_not_objects_are_violations_naming_the_field(prod: Guard) -> None:
    bad = resource("aws:ecr/replicationConfiguration:ReplicationConfiguration", "replication",
                   {"replicationConfiguration": {"rules": ["everything"]}})
    assert_violates(judge(prod, bad), "ecr-repository-policy-restricted", "rules[0] is not an object")


# --- unknowns never hide knowns ------------------------------------------------------------------------------------

def test_star_on_star_with_an_unknown_condition_is_still_mandatory(prod: Guard) -> None:
    document = statement(Action="*", Resource="*", Condition={"StringEquals": {"aws:RequestedRegion": UNKNOWN}})
    assert_violates(judge(prod, inline(document)), "iam-least-privilege", "administrator")
    known = statement(Action="ecr:DescribeImages", Resource=repo_arn("payments/*"),
                      Condition={"StringEquals": {"aws:RequestedRegion": UNKNOWN}})
    assert_clean(judge(prod, inline(known)))


def test_a_github_statement_without_aud_fails_even_when_its_sub_is_unknown(prod: Guard) -> None:
    stack = [r for r in baseline() if r.name != "github-push-payments"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{ISSUER}:sub": UNKNOWN, f"{ISSUER}:repository_id": "2000001"}}}]}
    assert_violates(prod.all([*stack, role("github-push-payments", trust)]), "github-oidc-trust-scoped",
                    "does not pin the audience")
    trust["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER}:aud"] = "sts.amazonaws.com"
    assert of_policy(prod.all([*stack, role("github-push-payments", trust)]), "github-oidc-trust-scoped") == []


def test_one_unknown_replication_destination_does_not_hide_a_known_foreign_one(prod: Guard) -> None:
    def replication(*accounts: Any) -> Resource:
        return resource("aws:ecr/replicationConfiguration:ReplicationConfiguration", "replication", {
            "replicationConfiguration": {"rules": [{"destinations": [{"region": "eu-west-1", "registryId": a}
                                                                     for a in accounts]}]}})
    assert_violates(judge(prod, replication(UNKNOWN, OTHER_ACCOUNT)), "ecr-repository-policy-restricted",
                    f"copies images to account {OTHER_ACCOUNT}")
    assert_clean(judge(prod, replication(UNKNOWN, "210987654321")))


# --- "every resource" written as patterns -------------------------------------------------------------------------

EVERY = [
    ("kms:Decrypt", [f"arn:aws:kms:us-west-2:{ACCOUNT}:key/*-*-*-*-*"]),
    ("secretsmanager:GetSecretValue", [f"arn:aws:secretsmanager:us-west-2:{ACCOUNT}:secret:*-??????"]),
    ("ssm:SendCommand", [f"arn:aws:ec2:us-west-2:{ACCOUNT}:instance/i-*"]),
    ("iam:PassRole", [f"arn:aws:iam::{ACCOUNT}:role/{c}*" for c in "abcdefghijklmnopqrstuvwxyz0123456789"]),
]


@pytest.mark.parametrize(("action", "resources"), EVERY, ids=[a for a, _ in EVERY])
def test_every_resource_written_as_a_pattern_fails(prod: Guard, action: str, resources: list[str]) -> None:
    assert_violates(judge(prod, inline(statement(Action=action, Resource=resources))), "iam-least-privilege")


def test_named_resources_are_the_passing_twin(prod: Guard) -> None:
    named = statement(Action="secretsmanager:GetSecretValue",
                      Resource=f"arn:aws:secretsmanager:us-west-2:{ACCOUNT}:secret:payments/db-??????")
    assert_clean(judge(prod, inline(named)))


# --- matching in linear time ---------------------------------------------------------------------------------------

def test_many_wildcards_are_judged_quickly(prod: Guard) -> None:
    started = time.perf_counter()
    judge(prod, inline(statement(Action=["ecr:" + "*" * 12 + "zq", "ecr:" + "*?" * 20 + "zq"],
                                 Resource=repo_arn("*a" * 30 + "b"))))
    assert time.perf_counter() - started < 20, "a wildcard blow-up would time the gate out"


# --- the two false positives ---------------------------------------------------------------------------------------

NODE_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
APP_RUNNER_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "build.apprunner.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def attached_role(name: str, trust: dict[str, Any], policy: str) -> list[Resource]:
    return [resource("aws:iam/role:Role", name, {"name": name, "assumeRolePolicy": dumps(trust)}),
            resource(ROLE_POLICY_ATTACHMENT, f"{name}-policy", {"role": name,
                                                                "policyArn": f"arn:aws:iam::aws:policy/{policy}"})]


def test_the_pull_only_policy_on_a_node_role_passes(prod: Guard) -> None:
    assert_clean(judge(prod, *attached_role("eks-node-group-role", NODE_TRUST, "AmazonEC2ContainerRegistryPullOnly")))


def test_a_node_role_that_also_pushes_is_the_failing_twin(prod: Guard) -> None:
    violations = judge(prod, *attached_role("eks-node-group-role", NODE_TRUST, "AmazonEC2ContainerRegistryPullOnly"),
                       inline(statement(Action=["ecr:BatchImportUpstreamImage", "ecr:PutImage"],
                                        Resource=repo_arn("*")), "eks-node-group-role"))
    assert_violates(violations, "team-isolation", "eks-node-group-role")


def test_the_app_runner_ecr_access_policy_passes(prod: Guard) -> None:
    assert_clean(judge(prod, *attached_role("apprunner-ecr-access", APP_RUNNER_TRUST,
                                            "service-role/AWSAppRunnerServicePolicyForECRAccess")))


def test_it_fails_where_nothing_allowed_grants_as_much(prod: Guard) -> None:
    config = prod_config()
    config["iam-least-privilege"]["allowedManagedPolicies"] = []
    prod.client.configure(config)
    violations = judge(prod, *attached_role("apprunner-ecr-access", APP_RUNNER_TRUST,
                                            "service-role/AWSAppRunnerServicePolicyForECRAccess"))
    assert_violates(violations, "iam-least-privilege", "AWSAppRunnerServicePolicyForECRAccess")


# --- refs in prod --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ref", ["ref:refs/tags/*", "ref:refs/heads/*/*", "ref:refs/heads/feature/*",
                                 "ref:refs/heads/m*", "ref:refs/heads/*main"])
def test_wildcard_refs_the_config_does_not_name_fail_in_prod(prod: Guard, ref: str) -> None:
    stack = [r for r in baseline() if r.name != "github-push-payments"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:repository_id": "2000001"},
                      "StringLike": {f"{ISSUER}:sub": f"repo:acme/payments:{ref}"}}}]}
    violations = prod.all([*stack, role("github-push-payments", trust)])
    assert_violates(violations, "github-oidc-trust-scoped", "github-oidc-trust-scoped.allow")


@pytest.mark.parametrize("ref", ["ref:refs/heads/release/*", "ref:refs/tags/v*", "ref:refs/heads/main"])
def test_exact_refs_and_named_patterns_are_the_passing_twins(prod: Guard, ref: str) -> None:
    stack = [r for r in baseline() if r.name != "github-push-payments"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:repository_id": "2000001"},
                      "StringLike": {f"{ISSUER}:sub": f"repo:acme/payments:{ref}"}}}]}
    assert of_policy(prod.all([*stack, role("github-push-payments", trust)]), "github-oidc-trust-scoped") == []


def test_the_registry_policy_fixture_is_judged(prod: Guard) -> None:
    policy = resource(REGISTRY_POLICY, "registry", {"policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"aws": FOREIGN_ROOT}, "Action": "ecr:ReplicateImage", "Resource": "*"}]})})
    assert_violates(judge(prod, policy), "ecr-repository-policy-restricted", "is malformed", "'aws'")

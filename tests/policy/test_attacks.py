"""The guard as an attacker sees it: hand-written resources added to a compliant prod stack.

Every case runs through the analyzer protocol (Analyze per resource, then AnalyzeStack) under
`policy/config/prod.json`, as `pulumi preview --policy-pack-config policy/config/prod.json` would.
Each class of escape has failing cases and a passing twin that differs in the one thing that
makes it safe, so a rule that refuses everything fails these tests as surely as one that lets
everything through.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.analyzer import UNKNOWN, Resource

from .conftest import Guard, assert_clean, assert_violates
from .fixtures import (
    ACCOUNT,
    GROUP_POLICY,
    LIFECYCLE_POLICY,
    REGISTRY_SCANNING,
    ROLE,
    ROLE_POLICY_ATTACHMENT,
    USER_POLICY,
    dumps,
    github_statement,
    lifecycle_document,
    lifecycle_policy,
    managed_policy,
    push_policy_document,
    repo_arn,
    repository,
    repository_policy,
    repository_policy_document,
    resource,
    role,
    role_policy,
    signing_configuration,
    trust_document,
)

ROOT = Path(__file__).resolve().parents[2]
OTHER_ACCOUNT = "999999999999"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"
USER = "aws:iam/user:User"
COMPONENT = "urn:pulumi:test::ecr-platform::ecr-platform:index:TeamRegistry::"


def prod_config() -> dict[str, Any]:
    return json.loads((ROOT / "policy" / "config" / "prod.json").read_text())


@pytest.fixture
def prod(guard: Guard) -> Guard:
    guard.client.configure(prod_config())
    return guard


def team(name: str, *repositories: str) -> list[Resource]:
    """A team as the program declares it: repositories with lifecycle policies, one push role."""
    parent = COMPONENT + name
    out: list[Resource] = []
    for repo in repositories:
        out += [repository(f"{name}/{repo}", name, parent=parent), lifecycle_policy(f"{name}/{repo}", parent=parent)]
    trust = trust_document([f"repo:acme/{name}:ref:refs/heads/main"], [])
    document = push_policy_document(name)
    document["Statement"] = document["Statement"][:2]
    return [*out, role(f"github-push-{name}", trust, team=name, parent=parent),
            role_policy(document, role_name=f"github-push-{name}", parent=parent)]


def baseline() -> list[Resource]:
    return team("payments", "api", "worker") + team("billing", "api") + [signing_configuration()]


def statement(**fields: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Sid": "Extra", "Effect": "Allow", **fields}]}


def inline(document: Any, role_name: str = "github-push-payments") -> Resource:
    return role_policy(document, role_name=role_name, name="extra")


def judge(guard: Guard, *extra: Resource) -> list:
    return guard.all([*baseline(), *extra])


def test_the_baseline_is_clean_under_prod(prod: Guard) -> None:
    assert_clean(prod.all(baseline()))


# --- 1. escalation on named resources -------------------------------------------------------------------------------

ESCALATIONS = [
    statement(Action="iam:AttachRolePolicy", Resource=f"{ROLE_ARN}/github-push-payments"),
    statement(Action=["iam:PutRolePolicy"], Resource=[f"{ROLE_ARN}/github-push-payments"]),
    statement(Action="iam:CreatePolicyVersion", Resource=f"arn:aws:iam::{ACCOUNT}:policy/payments-push"),
    statement(Action="iam:SetDefaultPolicyVersion", Resource=f"arn:aws:iam::{ACCOUNT}:policy/payments-push"),
    statement(Action="iam:PutRolePolicy", Resource=f"{ROLE_ARN}/*",
              Condition={"StringEquals": {"aws:RequestedRegion": "us-west-2"}}),
    statement(Action="iam:UpdateAssumeRolePolicy", Resource=f"{ROLE_ARN}/github-push-payments",
              Condition={"StringEquals": {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/boundary"}}),
    statement(Action="iam:Attach*", Resource=f"{ROLE_ARN}/github-push-payments"),
    statement(Action="iam:CreateAccessKey", Resource=f"arn:aws:iam::{ACCOUNT}:user/ci"),
]


@pytest.mark.parametrize("document", ESCALATIONS, ids=lambda d: d["Statement"][0]["Action"].__str__())
def test_iam_escalation_fails_on_any_resource_and_condition(prod: Guard, document: dict[str, Any]) -> None:
    assert_violates(judge(prod, inline(document)), "iam-least-privilege", "IAM escalation")


def test_reading_iam_is_the_passing_twin(prod: Guard) -> None:
    assert_clean(judge(prod, inline(statement(Action=["iam:GetRole", "iam:ListRolePolicies"],
                                              Resource=f"{ROLE_ARN}/github-push-payments"))))


# --- 2. writers without (or with a copied) team tag -----------------------------------------------------------------

PUSH = ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]


def test_an_untagged_role_pushing_to_a_team_is_a_writer_nobody_owns(prod: Guard) -> None:
    rogue = role("release-bot", trust_document(["repo:acme/release-bot:ref:refs/heads/main"], []), team=None)
    violations = judge(prod, rogue, inline(statement(Action=PUSH, Resource=repo_arn("billing/api")), "release-bot"))
    assert_violates(violations, "team-isolation", "'release-bot' belongs to no team", "team 'billing'")


def test_an_untagged_user_pushing_everywhere_fails(prod: Guard) -> None:
    user = resource(USER, "ci", {"name": "ci"})
    policy = resource(USER_POLICY, "ci-push", {"user": "ci", "name": "push",
                                               "policy": dumps(statement(Action=PUSH, Resource=repo_arn("*")))})
    assert_violates(judge(prod, user, policy), "team-isolation", "IAM user 'ci'", "every namespace")


@pytest.mark.parametrize("copied", ["billing", "payments"])
def test_a_role_copying_a_teams_tag_is_one_writer_too_many(prod: Guard, copied: str) -> None:
    copycat = role(f"{copied}-extra", trust_document(["repo:acme/payments:ref:refs/heads/main"], []), team=copied)
    violations = judge(prod, copycat, inline(statement(Action=PUSH, Resource=repo_arn(f"{copied}/*")),
                                             f"{copied}-extra"))
    assert_violates(violations, "team-isolation", f"team '{copied}'", "2 principals", "maxWritersPerTeam",
                    f"; IAM role '{copied}-extra')")
    config = prod_config()
    config["team-isolation"]["maxWritersPerTeam"] = 2
    prod.client.configure(config)
    assert_clean(judge(prod, copycat, inline(statement(Action=PUSH, Resource=repo_arn(f"{copied}/*")),
                                             f"{copied}-extra")))


@pytest.mark.parametrize("subject", ["repo:acme/payments:ref:refs/heads/main", "repo:acme/payments:*", "repo:acme/*"])
def test_with_judge_shared_subjects_one_workflow_reaching_two_teams_fails(prod: Guard, subject: str) -> None:
    config = prod_config()
    config["github-oidc-trust-scoped"].update(allowAnyRef=True, allowOrgWide=True)
    config["team-isolation"].update(maxWritersPerTeam=2)
    prod.client.configure(config)
    wide = role("billing-extra", trust_document([], [subject]), team="billing")
    stack = [*baseline(), wide, inline(statement(Action=PUSH, Resource=repo_arn("billing/*")), "billing-extra")]
    assert_clean(prod.all(stack))
    config["team-isolation"].update(judgeSharedSubjects=True)
    prod.client.configure(config)
    assert_violates(prod.all(stack), "team-isolation", "can assume the IAM roles", "'billing-extra' (billing)",
                    "'github-push-payments' (payments)")


def test_role_chaining_into_another_team_fails(prod: Guard) -> None:
    hop = role("billing-hop", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"{ROLE_ARN}/github-push-payments"}, "Action": "sts:AssumeRole"}]},
        team="billing")
    violations = judge(prod, hop, inline(statement(Action=PUSH, Resource=repo_arn("billing/*")), "billing-hop"))
    assert_violates(violations, "team-isolation", "'github-push-payments'", "by assuming 'billing-hop' (billing)")


def test_a_role_tagged_for_one_team_writing_another_fails(prod: Guard) -> None:
    liar = role("billing-helper", trust_document(["repo:acme/billing:ref:refs/heads/main"], []), team="billing")
    violations = judge(prod, liar, inline(statement(Action=PUSH, Resource=repo_arn("payments/*")), "billing-helper"))
    assert_violates(violations, "team-isolation", "tagged for team 'billing'", "team 'payments'")


def test_a_group_policy_reaches_its_members(prod: Guard) -> None:
    user = resource(USER, "dev", {"name": "dev", "tags": {"team": "payments"}})
    group = resource(GROUP_POLICY, "pushers", {"group": "pushers", "name": "push",
                                               "policy": dumps(statement(Action=PUSH, Resource=repo_arn("billing/*")))})
    membership = resource("aws:iam/groupMembership:GroupMembership", "members", {"group": "pushers",
                                                                                 "users": ["dev"]})
    assert_violates(judge(prod, user, group, membership), "team-isolation", "IAM user 'dev'",
                    "through group 'pushers'")


def test_a_legacy_policy_attachment_reaches_every_listed_role(prod: Guard) -> None:
    cross = managed_policy(statement(Action=PUSH, Resource=repo_arn("billing/*")), name="cross")
    attachment = resource(POLICY_ATTACHMENT, "legacy", {"name": "legacy", "roles": ["github-push-payments"],
                                                        "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/cross"})
    assert_violates(judge(prod, cross, attachment), "team-isolation", "github-push-payments", "team 'billing'")


@pytest.mark.parametrize("managed", ["AmazonEC2ContainerRegistryPowerUser", "AmazonEC2ContainerRegistryFullAccess"])
@pytest.mark.parametrize("how", ["attachment", "managedPolicyArns"])
def test_aws_managed_write_policies_are_judged_by_what_they_grant(prod: Guard, managed: str, how: str) -> None:
    arn = f"arn:aws:iam::aws:policy/{managed}"
    if how == "attachment":
        extra = [resource(ROLE_POLICY_ATTACHMENT, "power", {"role": "github-push-payments", "policyArn": arn})]
        stack = [*baseline(), *extra]
    else:
        stack = [r if r.name != "github-push-payments" else
                 Resource(r.type, r.name, {**r.inputs, "managedPolicyArns": [arn]}, r.urn, r.parent)
                 for r in baseline()]
    violations = prod.all(stack)
    assert_violates(violations, "iam-least-privilege", managed, "allowedManagedPolicies")
    assert_violates(violations, "team-isolation", "github-push-payments", f"AWS managed policy '{managed}'",
                    "every namespace")


def test_the_ecr_read_only_policy_on_a_node_role_is_the_passing_twin(prod: Guard) -> None:
    attachment = resource(ROLE_POLICY_ATTACHMENT, "nodes", {
        "role": "eks-node-group-role", "policyArn": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"})
    assert_clean(judge(prod, attachment))


def test_a_policy_the_guard_cannot_read_fails_closed(prod: Guard) -> None:
    attachment = resource(ROLE_POLICY_ATTACHMENT, "mystery", {
        "role": "github-push-payments", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/declared-elsewhere"})
    assert_violates(judge(prod, attachment), "team-isolation", "declared-elsewhere", "cannot be judged")


@pytest.mark.parametrize(("role_arn", "fragment"), [
    (f"arn:aws:iam::{OTHER_ACCOUNT}:role/payments-task", OTHER_ACCOUNT),
    ("arn:aws:iam::*:role/payments-task", "named roles of a named account"),
])
def test_pass_role_to_a_role_outside_the_platform_accounts_fails(prod: Guard, role_arn: str, fragment: str) -> None:
    document = statement(Action="iam:PassRole", Resource=role_arn,
                         Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})
    assert_violates(judge(prod, inline(document)), "iam-least-privilege", "iam:PassRole", fragment)


@pytest.mark.parametrize("condition", [{"StringEquals": {"iam:PassedToService": "*"}},
                                       {"StringNotEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
                                       {"StringEquals": {"iam:AssociatedResourceArn": "x"}}])
def test_pass_role_needs_a_real_passed_to_service_condition(prod: Guard, condition: dict[str, Any]) -> None:
    document = statement(Action="iam:PassRole", Resource=f"{ROLE_ARN}/payments-task", Condition=condition)
    assert_violates(judge(prod, inline(document)), "iam-least-privilege", "iam:PassedToService")


def test_pass_role_of_the_home_account_is_the_passing_twin(prod: Guard) -> None:
    document = statement(Action="iam:PassRole", Resource=f"{ROLE_ARN}/payments-task",
                         Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})
    assert_clean(judge(prod, inline(document)))


# --- 3. trust beyond GitHub -----------------------------------------------------------------------------------------


def trusted_role(*statements: dict[str, Any]) -> Resource:
    return role("extra-role", {"Version": "2012-10-17", "Statement": list(statements)}, team=None)


FOREIGN_FEDERATED = [
    {"Effect": "Allow", "Principal": {"Federated": "accounts.google.com"}, "Action": "sts:AssumeRoleWithWebIdentity"},
    {"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
     "Action": "sts:AssumeRoleWithWebIdentity"},
    {"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/okta"},
     "Action": "sts:AssumeRoleWithSAML"},
    github_statement({"StringEquals": {"git.evil.io/_services/token:aud": "sts.amazonaws.com",
                                       "git.evil.io/_services/token:sub": "repo:acme/app:ref:refs/heads/main"}},
                     issuer="git.evil.io/_services/token"),
    github_statement({"StringEquals": {"oidc.example.com:aud": "sts.amazonaws.com",
                                       "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main"}},
                     issuer="oidc.example.com"),
]


@pytest.mark.parametrize("trust", FOREIGN_FEDERATED, ids=["google", "cognito", "saml", "ghes-suffix", "other-oidc"])
def test_federated_principals_other_than_github_fail(prod: Guard, trust: dict[str, Any]) -> None:
    assert_violates(judge(prod, trusted_role(trust)), "github-oidc-trust-scoped", "not GitHub's OIDC issuer")


def test_a_configured_federated_provider_is_the_passing_twin(prod: Guard) -> None:
    config = prod_config()
    config["github-oidc-trust-scoped"]["allowedFederated"] = ["cognito-identity.amazonaws.com"]
    prod.client.configure(config)
    assert_clean(judge(prod, trusted_role(FOREIGN_FEDERATED[1])))


OPEN = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:ResourceAccount": ACCOUNT}},
    {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
    {"StringLike": {"aws:PrincipalAccount": "2109*"}},
    {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    {"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}},
    {"ForAllValues:StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
    {"StringNotEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/deployer"}},
])
def test_conditions_that_confine_nothing_leave_aws_star_open(prod: Guard, condition: dict[str, Any]) -> None:
    assert_violates(judge(prod, trusted_role({**OPEN, "Condition": condition})), "iam-least-privilege",
                    "any principal")


def test_another_accounts_root_fails(prod: Guard) -> None:
    trust = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    assert_violates(judge(prod, trusted_role(trust)), "iam-least-privilege", f"account {OTHER_ACCOUNT}",
                    "allowedAccounts")


@pytest.mark.parametrize("trust", [
    {**OPEN, "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}},
    {**OPEN, "Condition": {"ArnEquals": {"aws:PrincipalArn": f"{ROLE_ARN}/deployer"}}},
    {"Effect": "Allow", "Principal": {"AWS": f"{ROLE_ARN}/deployer"}, "Action": "sts:AssumeRole"},
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"},
], ids=["account-condition", "arn-condition", "own-role", "service"])
def test_trust_in_named_principals_of_the_home_account_is_the_passing_twin(prod: Guard, trust: dict) -> None:
    assert_clean(judge(prod, trusted_role(trust)))


# --- 4. any branch, any environment ---------------------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["repo:acme/payments:ref:refs/heads/*", "repo:acme/payments:environment:*",
                                     "repo:acme/payments:ref:refs/heads/?*"])
def test_any_branch_or_environment_fails_in_prod(prod: Guard, subject: str) -> None:
    stack = [r for r in baseline() if r.name != "github-push-payments"]
    stack.append(role("github-push-payments", trust_document([], [subject]), team="payments",
                      parent=COMPONENT + "payments"))
    violations = prod.all(stack)
    assert_violates(violations, "github-oidc-trust-scoped", subject)
    config = prod_config()
    config["github-oidc-trust-scoped"].update(allowAnyBranch=True, allowAnyEnvironment=True)
    prod.client.configure(config)
    assert_clean(prod.all(stack))


def test_a_branch_pattern_is_the_passing_twin(prod: Guard) -> None:
    stack = [r for r in baseline() if r.name != "github-push-payments"]
    stack.append(role("github-push-payments", trust_document([], ["repo:acme/payments:ref:refs/heads/release/*"]),
                      team="payments", parent=COMPONENT + "payments"))
    assert_clean(prod.all(stack))


# --- 5. registry level ----------------------------------------------------------------------------------------------


def registry_policy(principal: Any, **condition: Any) -> Resource:
    document = {"Version": "2012-10-17", "Statement": [{
        "Sid": "Replicate", "Effect": "Allow", "Principal": principal,
        "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
        "Resource": f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository/*", **condition}]}
    return resource(REGISTRY_POLICY, "registry-policy", {"policy": dumps(document)})


def test_a_public_registry_policy_fails(prod: Guard) -> None:
    assert_violates(judge(prod, registry_policy("*")), "ecr-repository-policy-restricted", "registry policy",
                    "to everyone")


def test_a_registry_policy_for_an_allowed_account_is_the_passing_twin(prod: Guard) -> None:
    config = prod_config()
    config["ecr-repository-policy-restricted"]["allowedPushAccounts"].append("333333333333")
    prod.client.configure(config)
    assert_clean(judge(prod, registry_policy({"AWS": "arn:aws:iam::333333333333:root"})))


def unscanned() -> list[Resource]:
    return [r if r.inputs.get("name") != "billing/api" else
            Resource(r.type, r.name, {**r.inputs, "imageScanningConfiguration": {"scanOnPush": False}}, r.urn, r.parent,
                     r.protect) for r in baseline()]


def scanning(name: str = "scanning", **props: Any) -> Resource:
    return resource(REGISTRY_SCANNING, name, {"scanType": "BASIC", "rules": [{
        "scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}], **props})


def test_a_scanning_configuration_of_another_region_covers_nothing_here(prod: Guard) -> None:
    violations = prod.all([*unscanned(), scanning(region="eu-west-1")])
    assert_violates(violations, "ecr-scan-on-push", "billing/api")
    assert_clean(prod.all([*unscanned(), scanning()]))


def test_two_scanning_configurations_in_one_region_replace_each_other(prod: Guard) -> None:
    assert_violates(prod.all([*baseline(), scanning(), scanning("second")]), "ecr-scan-on-push",
                    "2 registry scanning configurations")
    assert_clean(prod.all([*baseline(), scanning(), scanning("second", region="eu-west-1")]))


def age_expiry() -> dict[str, Any]:
    document = lifecycle_document()
    document["rules"][0]["selection"] = {"tagStatus": "tagged", "tagPatternList": ["*"], "countNumber": 1,
                                         "countType": "sinceImagePushed", "countUnit": "days"}
    return document


def test_expiring_tagged_images_by_age_fails_in_prod(prod: Guard) -> None:
    stack = [r for r in baseline() if r.name != "billing-api-lifecycle"]
    stack.append(lifecycle_policy("billing/api", dumps(age_expiry()), parent=COMPONENT + "billing"))
    assert_violates(prod.all(stack), "ecr-lifecycle-policy", "expires tagged images 1 days after pushed")
    config = prod_config()
    config["ecr-lifecycle-policy"]["allowTaggedExpiryByAge"] = True
    prod.client.configure(config)
    assert_clean(prod.all(stack))


def test_a_lifecycle_policy_declared_by_another_team_fails(prod: Guard) -> None:
    stack = [r for r in baseline() if r.name != "billing-api-lifecycle"]
    hijack = lifecycle_policy("billing/api", parent=COMPONENT + "payments")
    assert_violates(prod.all([*stack, hijack]), "team-isolation", "lifecycle policy", "'billing/api'",
                    "outside the component")
    assert_clean(prod.all([*stack, lifecycle_policy("billing/api", parent=COMPONENT + "billing")]))


def test_a_second_repository_policy_for_one_repository_fails(prod: Guard) -> None:
    first = repository_policy(repository_policy_document(["333333333333"], []), "billing/api")
    first = Resource(first.type, first.name, first.inputs, first.urn, COMPONENT + "billing")
    second = Resource(first.type, "billing-api-policy-2", first.inputs, "", COMPONENT + "billing")
    assert_violates(judge(prod, first, second), "team-isolation", "2 repository policies", "'billing/api'")
    assert_clean(judge(prod, first))


def test_a_repository_policy_naming_another_teams_role_grants_it_push(prod: Guard) -> None:
    document = {"Version": "2012-10-17", "Statement": [{
        "Sid": "LetPaymentsPush", "Effect": "Allow", "Principal": {"AWS": f"{ROLE_ARN}/github-push-payments"},
        "Action": PUSH}]}
    policy = repository_policy(document, "billing/api")
    policy = Resource(policy.type, policy.name, policy.inputs, policy.urn, COMPONENT + "billing")
    assert_violates(judge(prod, policy), "team-isolation", "github-push-payments", "repository policy of "
                    "'billing/api'", "2 teams")


@pytest.mark.parametrize(("prefix", "clean"), [("payments", False), ("ROOT", False), ("docker-hub", True)])
def test_a_pull_through_cache_over_a_team_namespace_fails(prod: Guard, prefix: str, clean: bool) -> None:
    cache = resource("aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "cache", {
        "ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": "registry-1.docker.io"})
    violations = judge(prod, cache)
    if clean:
        assert_clean(violations)
    else:
        assert_violates(violations, "team-isolation", "pull-through cache rule 'cache'", "'payments'")


# --- 6. fail-open corners -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("where", "policy"), [
    ("identity", "iam-least-privilege"), ("trust", "iam-least-privilege"), ("trust", "github-oidc-trust-scoped"),
    ("repository", "ecr-repository-policy-restricted"), ("identity", "team-isolation"),
])
def test_a_statement_without_effect_fails_closed(prod: Guard, where: str, policy: str) -> None:
    if where == "identity":
        extra = inline({"Statement": [{"Action": PUSH, "Resource": repo_arn("billing/*")}]})
    elif where == "trust":
        trust = trust_document()
        del trust["Statement"][0]["Effect"]
        extra = role("github-push-payments", trust, team="payments", parent=COMPONENT + "payments")
    else:
        extra = repository_policy({"Statement": [{"Principal": "*", "Action": "ecr:*"}]}, "billing/api")
    assert_violates(judge(prod, extra), policy, "malformed", "not Allow or Deny")


def test_a_type_wide_arn_counts_as_every_resource(prod: Guard) -> None:
    assert_violates(judge(prod, inline(statement(Action="s3:GetObject", Resource="arn:aws:s3:::*"))),
                    "iam-least-privilege", "arn:aws:s3:::*", "names every resource")


def test_reading_a_named_buckets_objects_is_the_passing_twin(prod: Guard) -> None:
    assert_clean(judge(prod, inline(statement(Action="s3:GetObject", Resource="arn:aws:s3:::release-artifacts/*"))))


def test_an_unknown_nested_in_an_object_document_never_crashes(prod: Guard) -> None:
    document = statement(Action=["ecr:BatchGetImage", UNKNOWN], Resource=[repo_arn("payments/*")],
                         Condition={"StringEquals": {"aws:ResourceTag/team": UNKNOWN}})
    extra = role_policy(document, name="extra")
    extra = Resource(extra.type, extra.name, {**extra.inputs, "policy": document}, extra.urn)
    violations = judge(prod, extra, resource(ROLE, "preview-role", {"name": "preview-role", "assumeRolePolicy": {
        "Statement": [{"Effect": "Allow", "Principal": {"Federated": UNKNOWN}, "Action": "sts:AssumeRole"}]}}))
    assert_clean(violations)
    assert any("can't be known during preview" in v.message for v in violations), violations


def test_an_unknown_inside_a_cross_team_grant_still_reports_what_is_known(prod: Guard) -> None:
    document = statement(Action=PUSH, Resource=[repo_arn("billing/*"), UNKNOWN])
    extra = role_policy(document, name="extra")
    extra = Resource(extra.type, extra.name, {**extra.inputs, "policy": document}, extra.urn)
    assert_violates(judge(prod, extra), "team-isolation", "team 'billing'")


def test_a_lifecycle_policy_document_with_unknown_rules_is_skipped_not_failed(prod: Guard) -> None:
    stack = [r for r in baseline() if r.name != "billing-api-lifecycle"]
    stack.append(resource(LIFECYCLE_POLICY, "billing-api-lifecycle", {"repository": "billing/api", "policy": UNKNOWN},
                          parent=COMPONENT + "billing"))
    assert_clean(prod.all(stack))

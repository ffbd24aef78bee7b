"""Becoming someone else, shadowing, exclusive attachments, own-namespace admin and policy variables (issue 21 B).

Each case is a hand-written resource graph added to the compliant two-team prod baseline of
`test_attacks.py`, judged over the analyzer protocol under `policy/config/prod.json`; every class
has a passing twin that differs in the one thing that makes it safe.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.analyzer import UNKNOWN, Resource

from .conftest import Guard, assert_clean, assert_violates
from .fixtures import ACCOUNT, MANAGED_POLICY, ROLE_POLICY_ATTACHMENT, dumps, repo_arn, resource, role, role_policy
from .test_attacks import PUSH, ROLE_ARN, USER, baseline, judge, prod_config, statement

TEAM_ROLE = f"{ROLE_ARN}/github-push-payments"
ECS = {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def billing_writer(name: str, trust_policy: dict[str, Any], tagged: str | None = "billing") -> list[Resource]:
    """A second role writing billing's repositories, trusted as the case says."""
    return [role(name, trust_policy, team=tagged),
            role_policy(statement(Action=PUSH, Resource=repo_arn("billing/*")), role_name=name, name="push")]


@pytest.fixture
def prod(guard: Guard) -> Guard:
    guard.client.configure(prod_config())
    return guard


def configure(guard: Guard, **team_isolation: Any) -> None:
    config = prod_config()
    config["team-isolation"].update(team_isolation)
    guard.client.configure(config)


# --- who can become whom ---------------------------------------------------------------------------------------------

OWN_ACCOUNT = {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}


def test_a_role_anyone_in_the_account_may_assume_is_a_writer_nobody_owns(prod: Guard) -> None:
    open_role = billing_writer("billing-ops", trust({"Effect": "Allow", "Principal": {"AWS": "*"},
                                                    "Action": "sts:AssumeRole", "Condition": OWN_ACCOUNT}))
    violations = judge(prod, *open_role)
    assert_violates(violations, "team-isolation", f"Every principal of account {ACCOUNT} belongs to no team",
                    "'billing-ops' (billing)")
    assert_violates(violations, "team-isolation", "team 'billing'", "3 principals", "maxWritersPerTeam")


def test_the_same_open_trust_on_a_role_that_writes_nothing_is_the_passing_twin(prod: Guard) -> None:
    reader = role("billing-reader", trust({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                                           "Condition": OWN_ACCOUNT}), team="billing")
    assert_clean(judge(prod, reader, role_policy(statement(Action="ecr:BatchGetImage", Resource=repo_arn("billing/*")),
                                                 role_name="billing-reader", name="pull")))


@pytest.mark.parametrize("trusted", [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
     "Condition": {"ArnEquals": {"aws:PrincipalArn": TEAM_ROLE}}},
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/github-push-payments/gha"},
     "Action": "sts:AssumeRole"},
], ids=["star-confined-to-the-other-teams-role", "assumed-role-session"])
def test_a_role_another_teams_role_can_become_crosses_teams(prod: Guard, trusted: dict[str, Any]) -> None:
    configure(prod, maxWritersPerTeam=3)
    assert_violates(judge(prod, *billing_writer("billing-hop", trust(trusted))), "team-isolation",
                    "IAM role 'github-push-payments' can write to the repositories of 2 teams",
                    "by assuming 'billing-hop' (billing)")


ROOT_TRUST = trust({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "sts:AssumeRole"})


@pytest.mark.parametrize("grant", [
    statement(Action="sts:AssumeRole", Resource=f"{ROLE_ARN}/billing-hop"),
    statement(Action="sts:AssumeRole", Resource=f"{ROLE_ARN}/*",
              Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
    statement(Action="sts:*", Resource="*"),
], ids=["named", "abac-by-tag", "wildcard"])
def test_an_account_root_trust_plus_an_assume_role_grant_is_an_edge(prod: Guard, grant: dict[str, Any]) -> None:
    configure(prod, maxWritersPerTeam=3)
    violations = judge(prod, *billing_writer("billing-hop", ROOT_TRUST),
                       role_policy(grant, name="hop"))
    assert_violates(violations, "team-isolation", "'github-push-payments' can write to the repositories of 2 teams",
                    "by assuming 'billing-hop' (billing) via it may sts:AssumeRole on")


def test_an_account_root_trust_without_a_grant_is_the_passing_twin(prod: Guard) -> None:
    configure(prod, maxWritersPerTeam=3)
    assert_clean(judge(prod, *billing_writer("billing-hop", ROOT_TRUST)))


def test_the_eks_node_role_with_an_assume_role_grant_is_a_second_writer(prod: Guard) -> None:
    node_grant = resource("aws:iam/rolePolicy:RolePolicy", "node-hop", {
        "role": "eks-node-group-role", "name": "hop",
        "policy": dumps(statement(Action="sts:AssumeRole", Resource=f"{ROLE_ARN}/billing-hop"))})
    violations = judge(prod, *billing_writer("billing-hop", ROOT_TRUST), node_grant)
    assert_violates(violations, "team-isolation", "IAM role 'eks-node-group-role' (not declared in this stack) "
                    "belongs to no team", "by becoming 'billing-hop' (billing)")


def task_role(name: str = "billing-task") -> list[Resource]:
    return billing_writer(name, trust(ECS))


@pytest.mark.parametrize("start", ["ecs:RunTask", "ecs:RegisterTaskDefinition", "ecs:*"])
def test_pass_role_of_another_teams_task_role_with_run_task_crosses_teams(prod: Guard, start: str) -> None:
    configure(prod, maxWritersPerTeam=3)
    passing = role_policy(statement(Action=["iam:PassRole", start], Resource=[f"{ROLE_ARN}/billing-task", "*"],
                                    Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
                          name="run")
    assert_violates(judge(prod, *task_role(), passing), "team-isolation", "'github-push-payments' can write to the "
                    "repositories of 2 teams", "may iam:PassRole 'billing-task' to ecs-tasks.amazonaws.com")


def test_pass_role_without_starting_compute_is_the_passing_twin(prod: Guard) -> None:
    configure(prod, maxWritersPerTeam=3)
    passing = role_policy(statement(Action=["iam:PassRole", "ecs:UpdateService"],
                                    Resource=[f"{ROLE_ARN}/billing-task"],
                                    Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
                          name="deploy")
    assert_clean(judge(prod, *task_role(), passing))


def ci_user(secret: str | None, team: str = "billing") -> list[Resource]:
    user = resource(USER, "ci", {"name": "ci", "tags": {"team": team}})
    policy = resource("aws:iam/userPolicy:UserPolicy", "ci-push", {
        "user": "ci", "name": "push", "policy": dumps(statement(Action=PUSH, Resource=repo_arn("billing/*")))})
    extra = [resource(secret, "ci-secret", {"user": "ci"})] if secret else []
    return [user, policy, *extra]


@pytest.mark.parametrize("secret", ["aws:iam/accessKey:AccessKey", "aws:iam/userLoginProfile:UserLoginProfile"])
def test_a_user_with_an_access_key_or_password_is_usable_by_whoever_holds_it(prod: Guard, secret: str) -> None:
    configure(prod, maxWritersPerTeam=2)
    assert_violates(judge(prod, *ci_user(secret)), "team-isolation", "of IAM user 'ci' belongs to no team",
                    "'ci' (billing)")
    configure(prod, maxWritersPerTeam=2)
    assert_clean(judge(prod, *ci_user(None)))


def test_one_exact_subject_trusted_by_two_teams_roles_is_shared(prod: Guard) -> None:
    configure(prod, judgeSharedSubjects=True, maxWritersPerTeam=2)
    shared = billing_writer("billing-extra", trust({
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                       "token.actions.githubusercontent.com:sub":
                                           "repo:acme/payments:ref:refs/heads/main"}}}))
    assert_violates(judge(prod, *shared), "team-isolation", "'repo:acme/payments:ref:refs/heads/main'",
                    "'billing-extra' (billing)", "'github-push-payments' (payments)")


# --- shadowing -------------------------------------------------------------------------------------------------------


def test_two_roles_claiming_one_name_are_refused(prod: Guard) -> None:
    twin = role("GitHub-Push-Billing", trust({"Effect": "Allow", "Principal": {"AWS": TEAM_ROLE},
                                             "Action": "sts:AssumeRole"}), team="billing")
    twin = Resource(twin.type, "shadow", twin.inputs, twin.urn.replace("GitHub-Push-Billing", "shadow"))
    assert_violates(judge(prod, twin), "team-isolation", "2 resources claim the IAM role name 'github-push-billing'")
    renamed = Resource(twin.type, "shadow", {**twin.inputs, "name": "billing-other"}, twin.urn)
    assert_clean(judge(prod, renamed))


@pytest.mark.parametrize("naming", [{"namePrefix": "payments-extra"}, {}])
def test_a_policy_not_named_like_the_attached_arn_is_judged_as_the_arn(prod: Guard, naming: dict[str, Any]) -> None:
    harmless = resource(MANAGED_POLICY, "payments-extra", {
        "policy": dumps(statement(Action="ecr:BatchGetImage", Resource=repo_arn("payments/*"))), **naming})
    attachment = resource(ROLE_POLICY_ATTACHMENT, "extra", {
        "role": "github-push-payments", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/payments-extra"})
    assert_violates(judge(prod, harmless, attachment), "team-isolation", "policy/payments-extra",
                    "cannot be judged")
    named = resource(MANAGED_POLICY, "payments-extra", {**harmless.inputs, "name": "payments-extra"})
    assert_clean(judge(prod, named, attachment))


def test_an_unknown_role_name_does_not_hide_grants_to_roles_outside_the_stack(prod: Guard) -> None:
    unnamed = role("new-role", trust({**ECS}), team="billing")
    unnamed = Resource(unnamed.type, unnamed.name, {**unnamed.inputs, "name": UNKNOWN}, unnamed.urn)
    wide = role_policy(statement(Action=PUSH, Resource=repo_arn("*")), role_name="deployer", name="wide")
    assert_violates(judge(prod, unnamed, wide), "team-isolation", "IAM role 'deployer'", "every namespace")
    narrow = role_policy(statement(Action="ecr:BatchGetImage", Resource=repo_arn("payments/api")), role_name="deployer",
                         name="read")
    assert_clean(judge(prod, unnamed, narrow))


def test_a_document_whose_owner_is_unknown_is_still_judged(prod: Guard) -> None:
    orphan = resource("aws:iam/rolePolicy:RolePolicy", "orphan", {
        "role": UNKNOWN, "name": "x", "policy": dumps(statement(Action=PUSH, Resource=[repo_arn("billing/*"),
                                                                                     repo_arn("payments/*")]))})
    assert_violates(judge(prod, orphan), "team-isolation", "The IAM role named by 'orphan.role' (unknown at "
                    "preview) can write to the repositories of 2 teams")
    one_team = Resource(orphan.type, orphan.name, {**orphan.inputs, "policy": dumps(statement(
        Action=PUSH, Resource=repo_arn("billing/*")))}, orphan.urn)
    assert_clean(judge(prod, one_team))


# --- exclusive attachments -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("managed", ["PowerUserAccess", "AdministratorAccess"])
def test_exclusive_attachments_are_judged_like_attachments(prod: Guard, managed: str) -> None:
    exclusive = resource("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "exclusive", {
        "roleName": "github-push-payments", "policyArns": [f"arn:aws:iam::aws:policy/{managed}"]})
    violations = judge(prod, exclusive)
    assert_violates(violations, "iam-least-privilege", managed, "exclusive policy attachments 'exclusive'")
    assert_violates(violations, "team-isolation", "github-push-payments", f"AWS managed policy '{managed}'")


def test_an_exclusive_attachment_of_the_read_only_policy_to_the_node_role_is_the_passing_twin(prod: Guard) -> None:
    assert_clean(judge(prod, resource(
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "exclusive",
        {"roleName": "eks-node-group-role",
         "policyArns": ["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"]})))


# --- team roles get the data plane only ------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["ecr:SetRepositoryPolicy", "ecr:PutImageTagMutability", "ecr:DeleteRepository",
                                    "ecr:BatchDeleteImage", "ecr:PutLifecyclePolicy", "ecr:*"])
def test_repository_admin_inside_the_own_namespace_is_refused(prod: Guard, action: str) -> None:
    admin = role_policy(statement(Action=action, Resource=repo_arn("payments/*")), name="admin")
    assert_violates(judge(prod, admin), "team-isolation", "'github-push-payments' can change what the guard judges",
                    "allowRepositoryAdmin")
    configure(prod, allowRepositoryAdmin=True)
    assert not [v for v in judge(prod, admin) if "can change what the guard judges" in v.message]


def test_creating_repositories_in_the_own_namespace_stays_allowed(prod: Guard) -> None:
    assert_clean(judge(prod, role_policy(statement(Action="ecr:CreateRepository", Resource=repo_arn("payments/*")),
                                         name="create")))


# --- policy variables ------------------------------------------------------------------------------------------------

TAGGABLE = "sts:TagSession"


def tag_role(session_tags: bool) -> list[Resource]:
    actions = ["sts:AssumeRoleWithWebIdentity", TAGGABLE] if session_tags else "sts:AssumeRoleWithWebIdentity"
    document = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": actions,
        "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                       "token.actions.githubusercontent.com:repository_id": "2000001",
                                       "token.actions.githubusercontent.com:sub":
                                           "repo:acme/payments-api:ref:refs/heads/main"}}}]}
    base = [r for r in baseline() if r.name not in ("github-push-payments", "github-push-payments-push-to-team-"
                                                                            "repositories")]
    policy = statement(Action=PUSH, Resource=repo_arn("${aws:PrincipalTag/team}/*"))
    return [*base, role("github-push-payments", document, team="payments"),
            role_policy(policy, role_name="github-push-payments", name="abac")]


def test_a_principal_tag_the_caller_can_set_is_a_wildcard(prod: Guard) -> None:
    assert_violates(prod.all(tag_role(session_tags=True)), "team-isolation", "github-push-payments",
                    "every namespace")
    assert_clean(prod.all(tag_role(session_tags=False)))


@pytest.mark.parametrize(("user", "clean"), [("billing", False), ("payments", True)])
def test_the_username_variable_is_the_users_own_name(prod: Guard, user: str, clean: bool) -> None:
    configure(prod, maxWritersPerTeam=2)
    found = judge(prod, resource(USER, user, {"name": user, "tags": {"team": "payments"}}),
                  resource("aws:iam/userPolicy:UserPolicy", f"{user}-push", {
                      "user": user, "name": "push",
                      "policy": dumps(statement(Action=PUSH, Resource=repo_arn("${aws:username}/*")))}))
    if clean:
        assert_clean(found)
    else:
        assert_violates(found, "team-isolation", f"IAM user '{user}' is tagged for team 'payments'", "team 'billing'")


# --- organisations ---------------------------------------------------------------------------------------------------


def test_a_public_trust_confined_to_an_organisation_needs_that_organisation_listed(prod: Guard) -> None:
    org = role("org-role", trust({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                                  "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-foreign123"}}}), team=None)
    assert_violates(judge(prod, org), "iam-least-privilege", "'o-foreign123'", "allowedOrganizationIds")
    config = prod_config()
    config["iam-least-privilege"]["allowedOrganizationIds"] = ["o-foreign123"]
    prod.client.configure(config)
    assert_clean(judge(prod, org))


def test_a_users_own_principal_tag_is_its_tag(prod: Guard) -> None:
    configure(prod, maxWritersPerTeam=2)
    policy = statement(Action=PUSH, Resource=repo_arn("${aws:PrincipalTag/team}/*"))
    assert_clean(judge(prod, resource(USER, "dev", {"name": "dev", "tags": {"team": "payments"}}),
                       resource("aws:iam/userPolicy:UserPolicy", "dev-push", {
                           "user": "dev", "name": "push", "policy": dumps(policy)})))

"""The program under the SDK's mocks: what a `pulumi up` would declare, and what it exports."""

from __future__ import annotations

import json

import pulumi
import pytest

from engine.program import run_stack

REPOSITORY = "aws:ecr/repository:Repository"
ROLE = "aws:iam/role:Role"
CONTRACT_OUTPUTS = {"registryUrl", "githubOidcProviderArn", "repositoryUrls", "repositoryArns", "pushRoleArns",
                    "nodePullPolicyArn", "githubActionsVariables"}


@pytest.mark.live_stacks
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_checked_in_stacks_build_with_every_contract_output(stack):
    run = run_stack(stack)
    assert set(run.outputs) >= CONTRACT_OUTPUTS, f"missing outputs: {CONTRACT_OUTPUTS - set(run.outputs)}"
    assert set(run.outputs["repositoryUrls"]) == {r.inputs["name"] for r in run.of_type(REPOSITORY)}
    teams = run.config["ecr-platform:teams"]
    assert set(run.outputs["pushRoleArns"]) == {name for name, team in teams.items() if team.get("github")}, (
        "every team that lists GitHub repositories gets a push role, and no other team")


def test_outputs_carry_the_stack_account_and_region(run, config):
    outputs = run(config).outputs
    assert outputs["registryUrl"] == "210987654321.dkr.ecr.us-west-2.amazonaws.com"
    assert outputs["repositoryArns"]["payments/api"] == "arn:aws:ecr:us-west-2:210987654321:repository/payments/api"
    assert outputs["pushRoleArns"] == {"payments": "arn:aws:iam::210987654321:role/github-push-payments"}
    assert outputs["githubActionsVariables"]["acme/payments-api"] == {
        "AWS_REGION": "us-west-2",
        "AWS_ROLE_ARN": "arn:aws:iam::210987654321:role/github-push-payments",
        "ECR_REGISTRY": "210987654321.dkr.ecr.us-west-2.amazonaws.com",
        "ECR_REPOSITORIES": "payments/api,payments/worker",
    }
    assert "nodePullPolicyArn" not in outputs, "only when node roles are given"


def test_invalid_config_stops_before_any_resource(run, config):
    config["teams"]["payments"]["pullAccounts"] = ["nowhere"]
    with pytest.raises(pulumi.RunError) as raised:
        run(config)
    assert "teams.payments.pullAccounts[0]" in str(raised.value)


def test_reordering_config_changes_no_resource_name(run, config):
    config["teams"]["orders"] = {"repositories": ["web", "api"],
                                 "github": [{"repository": "acme/orders", "tags": ["v*"]}]}
    before = {(r.type, r.urn): r.inputs for r in run(config).resources}
    config["teams"] = dict(reversed(list(config["teams"].items())))
    for team in config["teams"].values():
        team["repositories"].reverse()
    after = {(r.type, r.urn): r.inputs for r in run(config).resources}
    assert before.keys() == after.keys(), "a reorder must not rename (and so replace) anything"
    repos = [k for k in before if k[0] == REPOSITORY]
    assert all(before[k] == after[k] for k in repos), "repository inputs must not change under a reorder"


def test_repositories_are_protected_and_never_force_deleted(run, config):
    run_ = run(config, stack="prod")
    for repo in run_.of_type(REPOSITORY):
        assert repo.protect, f"{repo.name} must be protected by default"
        assert repo.inputs["forceDelete"] is False


def test_unprotected_when_the_stack_says_so(run, config):
    config["defaults"] = {"protect": False}
    assert not any(r.protect for r in run(config).of_type(REPOSITORY))


def test_repository_settings_reach_aws(run, config):
    config["defaults"] = {"encryption": {"type": "KMS", "kmsKey": "alias/ecr"}}
    repos = {r.inputs["name"]: r.inputs for r in run(config).of_type(REPOSITORY)}
    assert repos["payments/api"]["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repos["payments/api"]["imageTagMutability"] == "IMMUTABLE"
    assert repos["payments/worker"]["imageTagMutability"] == "MUTABLE"
    assert repos["payments/api"]["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": "alias/ecr"}]


def test_every_taggable_resource_is_tagged_for_isolation(run, config):
    config["nodePullRoles"] = ["eks-node"]
    run_ = run(config, stack="prod")
    tagged = [r for r in run_.resources if r.custom and "tags" in r.outputs]
    assert {r.type for r in tagged} >= {REPOSITORY, ROLE, "aws:iam/policy:Policy",
                                        "aws:iam/openIdConnectProvider:OpenIdConnectProvider"}
    for resource in tagged:
        assert resource.inputs["tags"]["managed-by"] == "ecr-platform"
        assert resource.inputs["tags"]["environment"] == "prod"
    for resource in run_.of_type(REPOSITORY) + run_.of_type(ROLE):
        assert resource.inputs["tags"]["team"] == "payments"


def test_trust_policy_is_concrete_at_preview(run, config):
    role = run(config).named(ROLE, "payments")
    document = json.loads(role.inputs["assumeRolePolicy"])
    assert document["Statement"][0]["Principal"]["Federated"] == (
        "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com")
    assert any("GitHubOidcProvider" in d for d in role.dependencies), "the role must wait for its provider"


def test_existing_provider_is_looked_up_not_created(run, config):
    config["github"]["oidcProvider"] = "existing"
    run_ = run(config)
    assert not run_.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert run_.outputs["githubOidcProviderArn"].endswith(":oidc-provider/token.actions.githubusercontent.com")


def test_provider_arn_is_used_as_given(run, config):
    arn = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    config["github"]["oidcProvider"] = arn
    run_ = run(config)
    assert run_.outputs["githubOidcProviderArn"] == arn
    assert not run_.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")


def test_github_enterprise_issuer(run, config):
    config["github"]["issuer"] = "https://token.actions.githubusercontent.com/acme-corp"
    run_ = run(config)
    provider = run_.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0]
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com/acme-corp"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    trust = json.loads(run_.named(ROLE, "payments").inputs["assumeRolePolicy"])
    assert "token.actions.githubusercontent.com/acme-corp:sub" in trust["Statement"][0]["Condition"]["StringEquals"]


def test_no_github_means_no_provider_and_no_role(run, config):
    del config["github"]
    config["teams"]["payments"].pop("github")
    run_ = run(config)
    assert not run_.of_type(ROLE) and run_.outputs["pushRoleArns"] == {}


def test_cross_account_repository_policy_only_where_accounts_are_named(run, config):
    config["teams"]["payments"]["pushAccounts"] = ["builders"]
    policies = run(config).of_type("aws:ecr/repositoryPolicy:RepositoryPolicy")
    assert {p.inputs["repository"] for p in policies} == {"payments/api", "payments/worker"}
    statements = json.loads(policies[0].inputs["policy"])["Statement"]
    assert statements[1]["Principal"] == {"AWS": "arn:aws:iam::444444444444:root"}


def test_node_roles_get_a_pull_only_policy(run, config):
    config["nodePullRoles"] = ["eks-a", "eks-b"]
    run_ = run(config)
    document = json.loads(run_.of_type("aws:iam/policy:Policy")[0].inputs["policy"])
    actions = {a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                           else s["Action"])}
    assert not any(a in actions for a in ("ecr:PutImage", "ecr:InitiateLayerUpload"))
    attachments = run_.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert sorted(a.inputs["role"] for a in attachments) == ["eks-a", "eks-b"]


def test_creation_template_copies_repository_settings(run, config):
    config["teams"]["payments"]["allowCreateRepositories"] = True
    config["defaults"] = {"encryption": {"type": "KMS", "kmsKey": "alias/ecr"}}
    run_ = run(config)
    template = run_.of_type("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")[0].inputs
    assert template["prefix"] == "payments" and template["appliedFors"] == ["CREATE_ON_PUSH"]
    assert template["imageTagMutability"] == "IMMUTABLE"
    assert template["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": "alias/ecr"}]
    assert json.loads(template["lifecyclePolicy"])["rules"]
    assert json.loads(template["repositoryPolicy"])["Statement"][0]["Sid"] == "PullFromAccounts"
    assert template["resourceTags"]["team"] == "payments"
    creation_role = run_.named(ROLE, "repository-creation")
    trust = json.loads(creation_role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ecr.amazonaws.com"}
    grant = json.loads(run_.named("aws:iam/rolePolicy:RolePolicy", "repository-creation-create").inputs["policy"])
    kms = next(s for s in grant["Statement"] if s["Sid"] == "EncryptWithTeamKeys")
    assert kms["Resource"].startswith("arn:aws:kms:us-west-2:210987654321:key/"), "alias resolved to the key ARN"
    scanning = run_.of_type("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")[0].inputs
    assert {"filter": "payments/*", "filterType": "WILDCARD"} in scanning["rules"][0]["repositoryFilters"]

"""Every resource the dev, prod and local stacks declare, created through the AWS API (moto).

The API accepting a document is necessary, never sufficient: see the emulator's docstring for
what moto does not check. What these tests add over the unit tests: botocore's request shapes
and moto's IAM/ECR validators accept every call and document, ARNs the documents name are the
ARNs AWS gives, and what is read back is what was declared.
"""

from __future__ import annotations

import json

import pytest

from . import replay as r
from .conftest import STACKS

pytestmark = pytest.mark.emulator


@pytest.fixture(params=STACKS)
def deployed(request, deployment):
    return deployment(request.param)


def test_the_api_accepts_every_resource_the_stack_declares(deployed):
    custom = r.custom_resources(deployed.run.resources)
    skipped = {res.urn for res, _ in deployed.report.skipped}
    applied = {a.resource.urn for a in deployed.report.applied}
    assert applied | skipped == {res.urn for res in custom}, "declared resources were never sent to the API"
    assert {res.type for res, _ in deployed.report.skipped} <= set(r.SKIPPED_TYPES), (
        "only the types moto cannot create may be skipped"
    )
    assert applied, f"{deployed.stack}: nothing was created"


def test_skipped_resources_are_only_creation_templates_and_pull_through_rules(deployed):
    for resource, reason in deployed.report.skipped:
        assert resource.type in r.SKIPPED_TYPES, f"{resource.type} {resource.name} skipped: {reason}"
    if deployed.stack == "local":
        assert deployed.report.skipped == [], "the local stack must be deployable into the emulator in full"


def test_every_arn_the_mocks_promised_is_the_arn_the_api_gave(deployed):
    assert deployed.report.arn_mismatches() == [], (
        "documents and outputs name ARNs that the real resources don't have"
    )


def test_stack_outputs_name_real_resources(deployed):
    outputs, ecr, iam = deployed.run.outputs, deployed.server.client("ecr"), deployed.server.client("iam")
    repositories = {repo["repositoryName"]: repo for repo in ecr.describe_repositories()["repositories"]}
    assert set(outputs["repositoryArns"]) == set(repositories), "repositoryArns must list every repository"
    for name, repo in repositories.items():
        assert outputs["repositoryArns"][name] == repo["repositoryArn"]
        assert outputs["repositoryUrls"][name] == repo["repositoryUri"], "teams would push to a wrong URL"
        assert repo["repositoryUri"].startswith(outputs["registryUrl"] + "/")
    for team, role_arn in outputs["pushRoleArns"].items():
        role_name = role_arn.rsplit("/", 1)[1]
        assert iam.get_role(RoleName=role_name)["Role"]["Arn"] == role_arn, f"team {team}'s push role ARN"
    providers = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert outputs["githubOidcProviderArn"] in providers
    if "nodePullPolicyArn" in outputs:
        policy_arn = outputs["nodePullPolicyArn"]
        assert iam.get_policy(PolicyArn=policy_arn)["Policy"]["Arn"] == policy_arn
    for github_repo, variables in outputs["githubActionsVariables"].items():
        iam.get_role(RoleName=variables["AWS_ROLE_ARN"].rsplit("/", 1)[1])
        for name in variables["ECR_REPOSITORIES"].split(","):
            assert name in repositories, f"{github_repo}'s workflow would push to missing repository {name}"


def test_repositories_read_back_with_their_scanning_encryption_mutability_and_tags(deployed):
    ecr = deployed.server.client("ecr")
    for declared in deployed.run.of_type(r.REPOSITORY):
        inputs = declared.inputs
        repo = ecr.describe_repositories(repositoryNames=[inputs["name"]])["repositories"][0]
        scan_on_push = inputs["imageScanningConfiguration"]["scanOnPush"]
        assert repo["imageScanningConfiguration"]["scanOnPush"] == scan_on_push
        assert repo["imageTagMutability"] == inputs["imageTagMutability"]
        encryption = inputs["encryptionConfigurations"][0]
        assert repo["encryptionConfiguration"]["encryptionType"] == encryption["encryptionType"]
        if "kmsKey" in encryption:
            assert repo["encryptionConfiguration"]["kmsKey"] == encryption["kmsKey"]
        tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
        assert {t["Key"]: t["Value"] for t in tags} == inputs["tags"]


def test_documents_read_back_unchanged(deployed):
    ecr, iam = deployed.server.client("ecr"), deployed.server.client("iam")
    for declared in deployed.run.of_type(r.LIFECYCLE_POLICY):
        text = ecr.get_lifecycle_policy(repositoryName=declared.inputs["repository"])["lifecyclePolicyText"]
        assert json.loads(text) == json.loads(declared.inputs["policy"]), declared.name
    for declared in deployed.run.of_type(r.REPOSITORY_POLICY):
        text = ecr.get_repository_policy(repositoryName=declared.inputs["repository"])["policyText"]
        assert json.loads(text) == json.loads(declared.inputs["policy"]), declared.name
    for declared in deployed.run.of_type(r.ROLE):
        role = iam.get_role(RoleName=declared.inputs["name"])["Role"]
        trust = json.loads(declared.inputs["assumeRolePolicy"])
        assert role["AssumeRolePolicyDocument"] == trust, declared.name
    for declared in deployed.run.of_type(r.ROLE_POLICY):
        document = iam.get_role_policy(RoleName=declared.inputs["role"], PolicyName=declared.inputs["name"])
        assert document["PolicyDocument"] == json.loads(declared.inputs["policy"]), declared.name
    for declared in deployed.run.of_type(r.POLICY):
        arn = declared.outputs["arn"]
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        assert document == json.loads(declared.inputs["policy"]), declared.name


def test_node_roles_named_in_config_get_the_pull_policy(deployed):
    iam = deployed.server.client("iam")
    attachments = deployed.run.of_type(r.ROLE_POLICY_ATTACHMENT)
    if deployed.stack == "local":
        assert attachments == [], "a fresh emulator account has no node role to attach to"
    for declared in attachments:
        attached = iam.list_attached_role_policies(RoleName=declared.inputs["role"])["AttachedPolicies"]
        assert declared.inputs["policyArn"] in [p["PolicyArn"] for p in attached]


def test_preexisting_resources_are_only_node_roles_and_looked_up_oidc_providers(deployed):
    fixtures = deployed.report.fixtures
    assert all(f.startswith(("role ", "OIDC provider ")) for f in fixtures), fixtures
    config = deployed.run.config
    if config["ecr-platform:github"].get("oidcProvider") == "existing":
        assert any(f.startswith("OIDC provider ") for f in fixtures)


def test_dependency_order_puts_every_resource_after_what_it_depends_on(deployed):
    ordered = r.dependency_order(deployed.run.resources)
    position = {res.urn: i for i, res in enumerate(ordered)}
    for res in ordered:
        for dependency in res.dependencies:
            if dependency in position:
                assert position[dependency] < position[res.urn], f"{res.name} before {dependency}"

"""unjudged-resources, decision by decision: modelled types, inert types, what is not a cloud resource,
and the types that can grant access, which no config entry can make inert."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from rules import MODELLED_TYPES
from rules.closed_world import check_closed_world, config_problems, grants_access, is_cloud_resource, policies

ROLE = "aws:iam/role:Role"
BUCKET = "aws:s3/bucket:Bucket"
UNMODELLED = "aws:ssoadmin/accountAssignment:AccountAssignment"  # grants access; no rule models it
SIGNING = "aws:signer/signingProfile:SigningProfile"  # modelled, and cannot grant access


def urn(resource_type: str, name: str = "r", project: str = "ecr-platform") -> str:
    return f"urn:pulumi:prod::{project}::{resource_type}::{name}"


def judge(*types: str, inert: list[str] | None = None, project: str = "ecr-platform") -> list[str]:
    config = {"inertTypes": inert} if inert is not None else {}
    return [f.message for f in check_closed_world([(t, "r", urn(t, project=project)) for t in types], config,
                                                  MODELLED_TYPES)]


def test_every_type_the_program_emits_is_modelled() -> None:
    for resource_type in ("aws:ecr/repository:Repository", "aws:ecr/lifecyclePolicy:LifecyclePolicy", ROLE,
                          "aws:ecr/repositoryPolicy:RepositoryPolicy", "aws:iam/rolePolicy:RolePolicy",
                          "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate",
                          "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration",
                          "aws:ecr/replicationConfiguration:ReplicationConfiguration",
                          "aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "aws:iam/policy:Policy",
                          "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                          "aws:iam/openIdConnectProvider:OpenIdConnectProvider"):
        assert resource_type in MODELLED_TYPES, resource_type


TYPES = [
    # (types, inert, phrase or None)
    ((ROLE,), None, None),
    ((BUCKET,), None, "has the type 'aws:s3/bucket:Bucket', which no rule of the guard models"),
    ((BUCKET,), None, "list 'aws:s3/bucket:Bucket' in policy/config/<stack>.json: unjudged-resources.inertTypes"),
    ((BUCKET,), [BUCKET], None),
    ((BUCKET,), ["aws:s3/bucket:Bucke"], "which no rule of the guard models"),
    ((UNMODELLED,), None, "it can grant access, so it cannot be listed"),
    ((UNMODELLED,), [UNMODELLED], "it can grant access, so it cannot be listed"),
    ((UNMODELLED,), [UNMODELLED], f"inertTypes entry '{UNMODELLED}' can grant access, so it cannot be inert"),
    (("pulumi:pulumi:Stack",), None, None),
    (("pulumi:providers:aws",), None, None),
    (("pulumi:providers:github",), None, None),
    (("ecr-platform:index:TeamRegistry",), None, None),
    (("awsx:ecs:FargateService",), None, "has the type 'awsx:ecs:FargateService'"),
    (("awsx:ecs:FargateService",), ["awsx:ecs:FargateService"], None),
    (("pulumi:pulumi:StackReference",), None, "which no rule of the guard models"),
    (("command:local:Command",), None, "which no rule of the guard models"),
    ((), ["aws:s3/*"], "'aws:s3/*' is a pattern: list exact type tokens"),
    ((BUCKET,), ["aws:s3/*"], "has the type 'aws:s3/bucket:Bucket'"),
    ((), [BUCKET], None),
    ((), ["aws:kms/key:Key"], "'aws:kms/key:Key' can grant access"),
    ((SIGNING,), None, None),
    ((SIGNING,), [SIGNING], None),  # listing a modelled type as inert too does not make it unjudged
    ((SIGNING, BUCKET), [BUCKET], None),
]


@pytest.mark.parametrize(("types", "inert", "expected"), TYPES)
def test_closed_world_decisions(types: tuple[str, ...], inert: list[str] | None, expected: str | None) -> None:
    found = judge(*types, inert=inert)
    if expected is None:
        assert found == []
    else:
        assert any(expected in m for m in found), found


def test_a_component_of_another_project_is_not_the_programs_own() -> None:
    assert judge("ecr-platform:index:TeamRegistry", project="other") != []


def test_one_finding_per_resource_on_the_resources_urn() -> None:
    findings = check_closed_world([(BUCKET, "a", urn(BUCKET, "a")), (BUCKET, "b", urn(BUCKET, "b"))], {},
                                  MODELLED_TYPES)
    assert [(f.urn, "'a'" in f.message or "'b'" in f.message) for f in findings] == [
        (urn(BUCKET, "a"), True), (urn(BUCKET, "b"), True)]


@pytest.mark.parametrize(("resource_type", "granting"), [
    ("aws:iam/role:Role", True), ("aws:ssoadmin/permissionSet:PermissionSet", True), ("aws:kms/grant:Grant", True),
    ("aws:lambda/permission:Permission", True), ("aws:lambda/function:Function", False),
    ("aws:organizations/policy:Policy", True), ("aws:ecr/accountSetting:AccountSetting", True),
    ("aws-native:iam:Role", True), ("aws:s3/bucket:Bucket", False), ("aws:iamx/thing:Thing", False),
    ("github:index/actionsVariable:ActionsVariable", False), ("aws:identitystore/user:User", True),
    ("aws:s3/bucketPolicy:BucketPolicy", True), ("aws:ram/resourceShare:ResourceShare", True),
    ("aws:apigateway/restApi:RestApi", False), ("aws:cloudwatch/eventPermission:EventPermission", True),
    ("aws:appautoscaling/policy:Policy", False), ("aws:foo/bar:SomeGrant", True),
    ("aws:foo/bar:PermissionSet", False),
])
def test_access_granting_types(resource_type: str, granting: bool) -> None:
    assert grants_access(resource_type) is granting


@pytest.mark.parametrize(("resource_type", "urn_", "cloud"), [
    ("pulumi:pulumi:Stack", urn("pulumi:pulumi:Stack"), False),
    ("pulumi:providers:aws", urn("pulumi:providers:aws"), False),
    ("ecr-platform:index:X", urn("ecr-platform:index:X"), False),
    ("ecr-platform:index:X", "not-a-urn", True),
    ("ecr-platform:index:X", "urn:pulumi:prod::ecr-platform::ecr-platform:index:X", True),  # no name: malformed
    ("ecr-platform:index:X", urn("ecr-platform:index:X", "team::a"), False),  # a name may hold '::'
    ("ecr-platform-x:index:X", urn("ecr-platform-x:index:X", project="ecr-platform"), True),
    ("aws:s3/bucket:Bucket", urn("aws:s3/bucket:Bucket"), True),
    ("pulumi:pulumi:StackReference", urn("pulumi:pulumi:StackReference"), True),
])
def test_what_is_a_cloud_resource(resource_type: str, urn_: str, cloud: bool) -> None:
    assert is_cloud_resource(resource_type, urn_) is cloud


def test_config_problems_name_each_bad_entry_once() -> None:
    assert config_problems(["aws:s3/bucket:Bucket"]) == []
    assert len(config_problems(["aws:iam/*", "aws:iam/user:User"])) == 2


def test_the_policy_judges_the_stack_with_the_pack_config() -> None:
    [policy] = policies(MODELLED_TYPES)
    bucket = SimpleNamespace(resource_type=BUCKET, name="logs", urn=urn(BUCKET, "logs"))

    def reported(config: dict[str, Any] | None) -> list[Any]:
        found: list[Any] = []
        policy.validate(SimpleNamespace(resources=[bucket], get_config=lambda: config),
                        lambda message, urn_: found.append(urn_))
        return found

    assert reported(None) == [urn(BUCKET, "logs")]
    assert reported({}) == [urn(BUCKET, "logs")]
    assert reported({"inertTypes": [BUCKET]}) == []

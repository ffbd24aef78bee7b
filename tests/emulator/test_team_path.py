"""A product team's path, from the variables its workflow reads to an image in its repository.

For every GitHub repository in the `githubActionsVariables` output: exchange a GitHub OIDC token
for the push role (AssumeRoleWithWebIdentity, what `aws-actions/configure-aws-credentials`
does), get a registry login (GetAuthorizationToken, what `amazon-ecr-login` does), push an image
manifest (PutImage) into each repository the workflow is told about, see it (DescribeImages),
and read the repository's lifecycle policy back unchanged.

moto does not verify the token's signature or issuer and does not evaluate the trust policy's
conditions, so this proves the wiring (role, registry, repositories and outputs fit together),
not who may push: that is the policy pack's and the access report's job. The token still carries
a subject the trust policy really names, so the walk is the one a permitted workflow takes.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from . import replay as r
from .conftest import STACKS

pytestmark = pytest.mark.emulator

# moto answers ImageAlreadyExistsException where AWS answers ImageTagAlreadyExistsException.
TAG_REFUSALS = {"ImageTagAlreadyExistsException", "ImageAlreadyExistsException"}


def _b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def github_token(subject: str, issuer: str = "token.actions.githubusercontent.com") -> str:
    """A JWT shaped like GitHub's OIDC token (unsigned: moto does not check signatures)."""
    header = {"alg": "RS256", "typ": "JWT", "kid": "emulator"}
    claims = {"iss": f"https://{issuer}", "aud": "sts.amazonaws.com", "sub": subject,
              "iat": 1_700_000_000, "exp": 4_000_000_000}
    return f"{_b64url(header)}.{_b64url(claims)}.c2lnbmF0dXJl"


def trusted_subject(trust_policy: dict, github_repository: str) -> str:
    """A concrete `sub` claim that the trust policy's subject patterns for `github_repository` accept."""
    patterns: list[str] = []
    for statement in trust_policy["Statement"]:
        for values in statement.get("Condition", {}).values():
            for key, value in values.items():
                if key.endswith(":sub"):
                    patterns += [value] if isinstance(value, str) else list(value)
    for pattern in patterns:
        if pattern.split(":")[1] != github_repository:
            continue
        subject = re.sub(r":\*$", ":ref:refs/heads/main", pattern)
        subject = subject.replace("/*:", "/some-repo:").replace("*", "1")
        assert fnmatch.fnmatchcase(subject, pattern)
        return subject
    raise AssertionError(f"the trust policy names no subject for {github_repository}: {patterns}")


def manifest(layer_seed: str) -> str:
    """A minimal OCI image manifest; moto derives the digest from the layer digests."""
    layer = "sha256:" + layer_seed.encode().hex().ljust(64, "0")[:64]
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                   "digest": "sha256:" + "4" * 64},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 32, "digest": layer}],
    })


def assume_push_role(deployed, github_repository: str, variables: dict) -> dict:
    role_name = variables["AWS_ROLE_ARN"].rsplit("/", 1)[1]
    trust = deployed.server.client("iam").get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    token = github_token(trusted_subject(trust, github_repository))
    # Unsigned, like the action: the token is the only credential.
    sts = deployed.server.client("sts", region_name=variables["AWS_REGION"],
                                 config=Config(signature_version=UNSIGNED))
    answer = sts.assume_role_with_web_identity(RoleArn=variables["AWS_ROLE_ARN"],
                                               RoleSessionName="github-actions", WebIdentityToken=token)
    assert answer["AssumedRoleUser"]["Arn"].startswith(
        variables["AWS_ROLE_ARN"].replace(":iam::", ":sts::").replace(":role/", ":assumed-role/")
    )
    return answer["Credentials"]


def workflow_ecr(deployed, github_repository: str, variables: dict):
    """An ECR client holding the credentials the workflow of `github_repository` gets."""
    credentials = assume_push_role(deployed, github_repository, variables)
    return deployed.server.client(
        "ecr", region_name=variables["AWS_REGION"], aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"],
    )


@pytest.mark.parametrize("stack", STACKS)
def test_every_github_workflow_can_log_in_and_push_to_its_repositories(stack, deployment):
    deployed = deployment(stack)
    lifecycle = {p.inputs["repository"]: p.inputs["policy"] for p in deployed.run.of_type(r.LIFECYCLE_POLICY)}
    walked = 0
    workflows = deployed.run.outputs["githubActionsVariables"]
    for index, (github_repository, variables) in enumerate(workflows.items()):
        ecr = workflow_ecr(deployed, github_repository, variables)

        login = ecr.get_authorization_token()["authorizationData"][0]
        assert login["proxyEndpoint"] == f"https://{variables['ECR_REGISTRY']}", (
            f"{github_repository}'s ECR_REGISTRY is not the registry it logs in to"
        )
        assert base64.b64decode(login["authorizationToken"]).decode().startswith("AWS:")

        for repository in variables["ECR_REPOSITORIES"].split(","):
            tag = f"v1.0.{index}"
            pushed = ecr.put_image(repositoryName=repository, imageTag=tag,
                                   imageManifest=manifest(f"{github_repository}{repository}"))["image"]
            images = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
            assert [i["imageDigest"] for i in images["imageDetails"]] == [pushed["imageId"]["imageDigest"]]
            text = ecr.get_lifecycle_policy(repositoryName=repository)["lifecyclePolicyText"]
            assert json.loads(text) == json.loads(lifecycle[repository]), f"{repository}: lifecycle policy changed"
            walked += 1
    assert walked, f"{stack}: no workflow pushed anything"


def _push_role_for(deployed, repository: str) -> tuple[str, dict]:
    for github_repository, variables in deployed.run.outputs["githubActionsVariables"].items():
        if repository in variables["ECR_REPOSITORIES"].split(","):
            return github_repository, variables
    raise AssertionError(f"no workflow pushes to {repository}")


def _a_repository(deployed, mutability: str) -> str:
    """The stack's first repository with `mutability` (whichever teams the stack has today)."""
    found = [res.inputs["name"] for res in deployed.run.of_type(r.REPOSITORY)
             if res.inputs["imageTagMutability"] == mutability]
    if not found:
        pytest.skip(f"the {deployed.stack} stack has no {mutability} repository")
    return found[0]


@pytest.mark.parametrize("stack", ["dev", "local"])
def test_an_immutable_repository_refuses_to_move_a_released_tag(stack, deployment):
    deployed = deployment(stack)
    repository = _a_repository(deployed, "IMMUTABLE")
    ecr = workflow_ecr(deployed, *_push_role_for(deployed, repository))
    ecr.put_image(repositoryName=repository, imageTag="v9.9.9", imageManifest=manifest("first build"))
    with pytest.raises(ClientError) as refused:
        ecr.put_image(repositoryName=repository, imageTag="v9.9.9", imageManifest=manifest("second build"))
    assert refused.value.response["Error"]["Code"] in TAG_REFUSALS


@pytest.mark.parametrize("stack", ["dev", "local"])
def test_a_mutable_repository_lets_a_tag_move(stack, deployment):
    deployed = deployment(stack)
    repository = _a_repository(deployed, "MUTABLE")
    ecr = workflow_ecr(deployed, *_push_role_for(deployed, repository))
    ecr.put_image(repositoryName=repository, imageTag="latest", imageManifest=manifest("first cache"))
    second = ecr.put_image(repositoryName=repository, imageTag="latest", imageManifest=manifest("second cache"))
    images = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "latest"}])
    assert [i["imageDigest"] for i in images["imageDetails"]] == [second["image"]["imageId"]["imageDigest"]]

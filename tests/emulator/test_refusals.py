"""What the emulator refuses, and what it wrongly accepts.

The refusals show the validators the replay relies on are live, so the replay's acceptance of
our documents means something. The limits pin down where moto is more lenient than AWS: if one
of them starts failing, moto got stricter; turn it into a refusal test and update the list in
`devtools/emulator.py`. Acceptance by moto is necessary, never sufficient.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from . import replay as r

pytestmark = pytest.mark.emulator

EC2_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Ec2", "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]}


@pytest.fixture(scope="module")
def iam(fresh_server):
    client = fresh_server.client("iam")
    client.create_role(RoleName="refusals", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    return client


@pytest.fixture(scope="module")
def ecr(fresh_server):
    client = fresh_server.client("ecr")
    client.create_repository(repositoryName="refusals/app")
    return client


def _error_code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    return str(refused.value.response["Error"]["Code"])


def test_iam_refuses_an_identity_policy_statement_without_effect(iam):
    document = {"Version": "2012-10-17", "Statement": [{"Action": "ecr:PutImage", "Resource": "*"}]}
    assert _error_code(iam.put_role_policy, RoleName="refusals", PolicyName="p",
                       PolicyDocument=json.dumps(document)) == "MalformedPolicyDocument"


def test_iam_refuses_a_managed_policy_with_an_unknown_version(iam):
    document = {"Version": "2020-01-01", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
    assert _error_code(iam.create_policy, PolicyName="bad-version",
                       PolicyDocument=json.dumps(document)) == "MalformedPolicyDocument"


def test_iam_refuses_a_trust_policy_with_a_resource(iam):
    """The validator the replay runs every trust policy through (UpdateAssumeRolePolicy)."""
    document = {"Version": "2012-10-17", "Statement": [
        {**EC2_TRUST["Statement"][0], "Resource": "*"}]}
    assert _error_code(iam.update_assume_role_policy, RoleName="refusals",
                       PolicyDocument=json.dumps(document)) == "MalformedPolicyDocument"


def test_ecr_refuses_a_lifecycle_rule_with_an_unknown_property(ecr):
    document = {"rules": [{"rulePriority": 1, "priority": 1, "action": {"type": "expire"},
                           "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                         "countUnit": "days", "countNumber": 7}}]}
    assert _error_code(ecr.put_lifecycle_policy, repositoryName="refusals/app",
                       lifecyclePolicyText=json.dumps(document)) == "InvalidParameterException"


def test_ecr_refuses_a_repository_policy_statement_without_action(ecr):
    document = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}}]}
    assert _error_code(ecr.set_repository_policy, repositoryName="refusals/app",
                       policyText=json.dumps(document)) == "InvalidParameterException"


def test_the_replay_stops_at_the_first_document_the_api_refuses(fresh_server):
    """A broken document from the program would fail the suite, not slip through."""
    from engine.resource import Resource

    broken = Resource(
        type=r.ROLE, name="broken", urn="urn:pulumi:t::p::aws:iam/role:Role::broken", parent="", custom=True,
        inputs={"name": "broken", "assumeRolePolicy": json.dumps(
            {"Version": "2012-10-17", "Statement": [{**EC2_TRUST["Statement"][0], "Resource": "*"}]})},
        outputs={}, protect=False)
    with pytest.raises(ClientError, match="MalformedPolicyDocument"):
        r.replay(fresh_server, [broken])


def test_the_replay_refuses_an_input_it_would_drop(fresh_server):
    from engine.resource import Resource

    repository = Resource(
        type=r.REPOSITORY, name="x", urn="urn:pulumi:t::p::aws:ecr/repository:Repository::x", parent="",
        custom=True, inputs={"name": "refusals/new", "imageScanningConfigurationTypo": {"scanOnPush": True}},
        outputs={}, protect=False)
    with pytest.raises(r.UnhandledInput, match="imageScanningConfigurationTypo"):
        r.replay(fresh_server, [repository])


def test_limit_moto_accepts_a_trust_policy_without_principal(iam):
    """AWS answers MalformedPolicyDocument ("Missing required field Principal"); moto accepts it."""
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity"}]}
    iam.update_assume_role_policy(RoleName="refusals", PolicyDocument=json.dumps(document))
    iam.update_assume_role_policy(RoleName="refusals", PolicyDocument=json.dumps(EC2_TRUST))


def test_limit_moto_hands_out_credentials_for_any_web_identity_token(fresh_server, iam):
    """AWS checks the token's issuer, signature, audience and the trust conditions; moto checks none.

    So the team path proves wiring, not who may push: the policy pack and the access report do.
    """
    from botocore import UNSIGNED
    from botocore.config import Config

    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
        "Condition": {"StringEquals": {
            "token.actions.githubusercontent.com:sub": "repo:acme/only-this:ref:refs/heads/main"}},
    }]}
    arn = iam.create_role(RoleName="limit-web-identity", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    sts = fresh_server.client("sts", config=Config(signature_version=UNSIGNED))
    answer = sts.assume_role_with_web_identity(RoleArn=arn, RoleSessionName="anyone", WebIdentityToken="not.a.jwt")
    assert answer["Credentials"]["AccessKeyId"]

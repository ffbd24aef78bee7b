"""Account settings and pull-time update exclusions, and the registry policy under REGISTRY_POLICY_SCOPE V2,
through the analyzer protocol."""

from __future__ import annotations

import pytest
from rules.registry_settings import MODELLED_TYPES

from engine.analyzer import Resource

from .conftest import Guard, assert_violates, of_policy
from .fixtures import ACCOUNT, REGION, dumps, repository, resource, role, role_policy

ACCOUNT_SETTING = "aws:ecr/accountSetting:AccountSetting"
EXCLUSION = "aws:ecr/pullTimeUpdateExclusion:PullTimeUpdateExclusion"
RESTRICTED = "ecr-repository-policy-restricted"


def setting(name: str, value: str) -> Resource:
    return resource(ACCOUNT_SETTING, f"registry-{name.lower()}", {"name": name, "value": value})


def exclusion(principal: str) -> Resource:
    return resource(EXCLUSION, "registry-pull-time-exclusion", {"principalArn": principal})


def test_the_types_are_modelled():
    assert {ACCOUNT_SETTING, EXCLUSION} <= MODELLED_TYPES


@pytest.mark.parametrize(("name", "value"), [
    ("REGISTRY_POLICY_SCOPE", "V2"), ("REGISTRY_POLICY_SCOPE", "V1"), ("BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE"),
    ("BLOB_MOUNTING", "ENABLED"), ("BLOB_MOUNTING", "DISABLED"),
])
def test_values_ecr_accepts_pass(guard: Guard, name: str, value: str) -> None:
    assert of_policy(guard.analyze(setting(name, value)), RESTRICTED) == []


@pytest.mark.parametrize(("name", "value", "phrase"), [
    ("BASIC_SCAN_TYPE_VERSION", "CLAIR", "Clair was retired on 2 February 2026"),
    ("REGISTRY_POLICY_SCOPE", "V3", "use V1 or V2"),
    ("BLOB_MOUNTING", "ON", "use ENABLED or DISABLED"),
    ("SCAN_EVERYTHING", "YES", "ECR does not know"),
])
def test_values_ecr_refuses_are_violations(guard: Guard, name: str, value: str, phrase: str) -> None:
    assert_violates(guard.analyze(setting(name, value)), RESTRICTED, phrase)


def test_a_pull_time_exclusion_names_one_principal(guard: Guard) -> None:
    assert of_policy(guard.analyze(exclusion(f"arn:aws:iam::{ACCOUNT}:role/trivy")), RESTRICTED) == []
    assert_violates(guard.analyze(exclusion(f"arn:aws:iam::{ACCOUNT}:role/*")), RESTRICTED, "not one IAM role")


def registry_policy_pushing_as(role_name: str) -> Resource:
    document = {"Version": "2012-10-17", "Statement": [{
        "Sid": "PushAnywhere", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/{role_name}"},
        "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload"],
        "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*"}]}
    return resource("aws:ecr/registryPolicy:RegistryPolicy", "registry-policy", {"policy": dumps(document)})


def test_under_scope_v2_a_registry_policy_grant_counts_as_the_roles_access(guard: Guard) -> None:
    stack = [repository("payments/api"), repository("search/api", team="search"), role(), role_policy(),
             registry_policy_pushing_as("github-push-payments")]
    assert not [v for v in of_policy(guard.stack(stack), "team-isolation") if "registry policy" in v.message], (
        "under V1 the registry policy grants no push: nothing to judge as the role's")
    violation = assert_violates(guard.stack([*stack, setting("REGISTRY_POLICY_SCOPE", "V2")]), "team-isolation",
                                "github-push-payments")
    assert "registry policy" in violation.message

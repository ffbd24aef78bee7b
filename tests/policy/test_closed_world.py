"""The closed world over the analyzer protocol (prod config): a type no rule models is refused, a reviewed
inert type passes, and a type that can grant access cannot be made inert."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import ROOT, Guard, assert_clean, assert_violates, of_policy
from .fixtures import resource
from .test_attacks import COMPONENT, baseline, prod_config

POLICY = "unjudged-resources"
# An access-granting type no rule models (issue 21 B models the *Exclusive attachments; account assignments
# are not modelled): the closed world refuses it whatever the config says.
UNMODELLED = "aws:ssoadmin/accountAssignment:AccountAssignment"
BUCKET = "aws:s3/bucket:Bucket"


@pytest.fixture
def prod(guard: Guard) -> Guard:
    guard.client.configure(prod_config())
    return guard


def with_inert(guard: Guard, *types: str, env: str = "prod") -> Guard:
    config: dict[str, Any] = json.loads((ROOT / "policy" / "config" / f"{env}.json").read_text())
    config[POLICY]["inertTypes"] = [*config[POLICY]["inertTypes"], *types]
    guard.client.configure(config)
    return guard


def test_access_granting_types_nobody_models_are_refused(prod: Guard) -> None:
    admin = resource(UNMODELLED, "payments-admin", {"principalType": "USER", "principalId": "u-1",
                                                    "targetType": "AWS_ACCOUNT", "targetId": "210987654321",
                                                    "permissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1"})
    assert_violates(prod.all([*baseline(), admin]), POLICY, UNMODELLED, "can grant access, so it cannot be listed")


def test_an_unreviewed_type_is_refused_with_the_setting_to_change(prod: Guard) -> None:
    bucket = resource(BUCKET, "build-logs", {"bucket": "build-logs"})
    assert_violates(prod.all([*baseline(), bucket]), POLICY, BUCKET, "unjudged-resources.inertTypes")


def test_a_reviewed_inert_type_is_the_passing_twin(prod: Guard) -> None:
    bucket = resource(BUCKET, "build-logs", {"bucket": "build-logs"})
    assert_clean(with_inert(prod, BUCKET).all([*baseline(), bucket]))


def test_dev_only_advises(guard: Guard) -> None:
    guard.client.configure(json.loads((ROOT / "policy" / "config" / "dev.json").read_text()))
    bucket = resource(BUCKET, "build-logs", {"bucket": "build-logs"})
    violations = guard.all([*baseline(), bucket])
    assert of_policy(violations, POLICY) == []
    assert_violates(violations, POLICY, BUCKET, level="advisory")


def test_listing_an_access_granting_type_as_inert_is_itself_a_violation(prod: Guard) -> None:
    admin = resource(UNMODELLED, "payments-admin", {"principalType": "USER", "principalId": "u-1"})
    violations = with_inert(prod, UNMODELLED, "aws:kms/grant:Grant").all([*baseline(), admin])
    assert_violates(violations, POLICY, "inertTypes entry 'aws:kms/grant:Grant' can grant access, so it cannot be "
                                        "inert")
    assert_violates(violations, POLICY, "payments-admin", UNMODELLED)


def test_the_stack_providers_and_the_programs_components_are_not_cloud_resources(prod: Guard) -> None:
    extra = [resource("pulumi:pulumi:Stack", "ecr-platform-prod", {}),
             resource("pulumi:providers:aws", "default_7_0_0", {"region": "us-west-2"}),
             resource("ecr-platform:index:TeamRegistry", "payments", {})]
    assert_clean(prod.all([*baseline(), *extra]))
    assert COMPONENT.startswith("urn:pulumi:test::ecr-platform::ecr-platform:index:")

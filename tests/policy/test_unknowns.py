"""First previews: unknown values never crash a policy, and never hide what is known."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from engine.analyzer import UNKNOWN, Resource

from .conftest import Guard, assert_clean, assert_violates
from .fixtures import (
    ROLE_POLICY_ATTACHMENT,
    creation_template,
    lifecycle_policy,
    managed_policy,
    push_policy_document,
    registry_scanning,
    repository,
    repository_policy,
    resource,
    role,
    role_policy,
)


def compliant_stack() -> list[Resource]:
    return [
        repository(), lifecycle_policy(), repository_policy(), creation_template(), registry_scanning(["payments/*"]),
        role(), role_policy(), managed_policy(push_policy_document()),
        resource(ROLE_POLICY_ATTACHMENT, "attach", {"role": "github-push-payments", "policyArn": UNKNOWN}),
    ]


def unknown_everywhere(r: Resource) -> Resource:
    return replace(r, inputs={key: UNKNOWN for key in r.inputs})


def unknown_nested(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: unknown_nested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unknown_nested(v) for v in value]
    return UNKNOWN


@pytest.mark.parametrize("index", range(len(compliant_stack())))
@pytest.mark.parametrize("how", ["top-level", "nested"])
def test_unknown_properties_leave_only_advisory_notes(guard: Guard, index: int, how: str) -> None:
    original = compliant_stack()[index]
    changed = (unknown_everywhere(original) if how == "top-level"
               else replace(original, inputs={k: unknown_nested(v) for k, v in original.inputs.items()}))
    stack = [*compliant_stack()[:index], changed, *compliant_stack()[index + 1:]]
    violations = guard.all(stack)
    assert_clean(violations)


def test_a_note_says_what_could_not_be_judged(guard: Guard) -> None:
    violations = guard.analyze(repository(imageTagMutability=UNKNOWN))
    assert_violates(violations, "ecr-tag-immutability", "during preview", "imageTagMutability", level="advisory")


def test_known_problems_are_still_reported_next_to_unknowns(guard: Guard) -> None:
    violations = guard.analyze(repository(imageTagMutability=UNKNOWN, forceDelete=True))
    assert_violates(violations, "protect-registries", "forceDelete")


def test_a_stack_policy_judges_the_rest_of_the_stack(guard: Guard) -> None:
    unknown = lifecycle_policy("payments/api", document=UNKNOWN)
    broken = lifecycle_policy("payments/worker", document='{"rules": []}')
    stack = [repository(), repository("payments/worker"), repository("payments/batch"), unknown, broken]
    violations = guard.stack(stack)
    assert_violates(violations, "ecr-lifecycle-policy", "'payments/worker' is not valid")
    assert_violates(violations, "ecr-lifecycle-policy", "'payments/batch' has no lifecycle policy")
    assert_violates(violations, "ecr-lifecycle-policy", "during preview", level="advisory")


def test_an_unknown_kms_key_is_a_key_the_program_creates(guard: Guard) -> None:
    guard.configure(**{"ecr-encryption": {"minimum": "customer-managed-key"}})
    assert_clean(guard.analyze(repository(encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": UNKNOWN}])))


def test_registry_features_the_pack_does_not_judge_never_crash_it(guard: Guard) -> None:
    replication = resource("aws:ecr/replicationConfiguration:ReplicationConfiguration", "replication", {
        "replicationConfiguration": {"rules": [{"destinations": [{"region": "eu-west-1", "registryId": UNKNOWN}],
                                                "repositoryFilters": [{"filter": "payments", "filterType":
                                                                       "PREFIX_MATCH"}]}]}})
    cache = resource("aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "cache", {
        "ecrRepositoryPrefix": "ecr-public", "upstreamRegistryUrl": "public.ecr.aws"})
    assert_clean(guard.all([*compliant_stack(), replication, cache]))

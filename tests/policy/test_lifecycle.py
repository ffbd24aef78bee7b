"""ecr-lifecycle-policy: every repository has one, and ECR would accept it and expire what is meant."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine.analyzer import UNKNOWN

from .conftest import Guard, assert_passes, assert_violates
from .fixtures import creation_template, dumps, lifecycle_document, lifecycle_policy, repository


def test_a_repository_with_a_valid_lifecycle_policy_passes(guard: Guard) -> None:
    assert_passes(guard.stack([repository(), lifecycle_policy()]), "ecr-lifecycle-policy")


def test_a_repository_without_one_fails(guard: Guard) -> None:
    violations = guard.stack([repository(), lifecycle_policy("payments/worker")])
    assert_violates(violations, "ecr-lifecycle-policy", "'payments/api' has no lifecycle policy")


def test_a_policy_matched_by_dependency_counts_when_the_name_is_unknown(guard: Guard) -> None:
    repo = repository()
    policy = lifecycle_policy(UNKNOWN, property_dependencies={"repository": [repo.resolved_urn]})
    assert_passes(guard.stack([repo, policy]), "ecr-lifecycle-policy")


def _mutated(change: Any) -> str:
    document = lifecycle_document()
    change(document)
    return dumps(document)


BROKEN = {
    "no rules": (lambda d: d.update(rules=[]), "no rules"),
    "duplicate priority": (lambda d: d["rules"][1].update(rulePriority=1), "unique"),
    "any rule not last": (lambda d: (d["rules"][0].update(rulePriority=3), d["rules"][2].update(rulePriority=1)),
                          "highest rulePriority"),
    "zero count": (lambda d: d["rules"][0]["selection"].update(countNumber=0), "countNumber 0"),
    "tagged without prefixes": (lambda d: d["rules"][0]["selection"].pop("tagPrefixList"),
                                "without tagPrefixList or tagPatternList"),
    "days without unit": (lambda d: d["rules"][1]["selection"].pop("countUnit"), "countUnit 'days'"),
    "bad count type": (lambda d: d["rules"][1]["selection"].update(countType="sinceForever"), "countType"),
    "bad action": (lambda d: d["rules"][1].update(action={"type": "delete"}), "action.type"),
    "two any rules": (lambda d: d["rules"].append(copy.deepcopy(d["rules"][2]) | {"rulePriority": 4}),
                      "only one rule may select tagStatus 'any'"),
    "string priority": (lambda d: d["rules"][0].update(rulePriority="1"), "not an integer"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_invalid_lifecycle_documents_fail(guard: Guard, case: str) -> None:
    change, fragment = BROKEN[case]
    violations = guard.stack([repository(), lifecycle_policy(document=_mutated(change))])
    assert_violates(violations, "ecr-lifecycle-policy", "'payments/api' is not valid", fragment)


def test_malformed_json_fails(guard: Guard) -> None:
    violations = guard.stack([repository(), lifecycle_policy(document="{rules: [")])
    assert_violates(violations, "ecr-lifecycle-policy", "not valid JSON")


def test_a_policy_given_as_an_object_is_judged_too(guard: Guard) -> None:
    assert_passes(guard.stack([repository(), lifecycle_policy(document=lifecycle_document())]),
                  "ecr-lifecycle-policy")


def test_creation_templates_need_a_valid_lifecycle_policy(guard: Guard) -> None:
    assert_passes(guard.stack([creation_template()]), "ecr-lifecycle-policy")
    assert_violates(guard.stack([creation_template(lifecyclePolicy=None)]), "ecr-lifecycle-policy",
                    "template 'payments' has no lifecyclePolicy")
    broken = _mutated(lambda d: d["rules"][0]["selection"].update(countNumber=-1))
    assert_violates(guard.stack([creation_template(lifecyclePolicy=broken)]), "ecr-lifecycle-policy",
                    "countNumber -1")

"""ecr-scan-on-push: a stack policy, since registry scanning rules can stand in for the repository setting."""

from __future__ import annotations

import pytest

from engine.analyzer import Resource

from .conftest import Guard, assert_passes, assert_violates
from .fixtures import creation_template, registry_scanning, repository


def not_scanning() -> Resource:
    return repository(imageScanningConfiguration={"scanOnPush": False})


def test_a_repository_that_scans_on_push_passes(guard: Guard) -> None:
    assert_passes(guard.stack([repository()]), "ecr-scan-on-push")


def test_a_repository_that_does_not_scan_fails(guard: Guard) -> None:
    assert_violates(guard.stack([not_scanning()]), "ecr-scan-on-push",
                    "'payments/api' must scan images on push", "scanOnPush")


def test_a_repository_without_a_scanning_block_fails_closed(guard: Guard) -> None:
    assert_violates(guard.stack([repository(imageScanningConfiguration=None)]), "ecr-scan-on-push",
                    "has no imageScanningConfiguration")


@pytest.mark.parametrize("filters", [["payments/*"], ["*"], ["payments/api"], ["pay*"], ["other", "payments/a?i"]])
@pytest.mark.parametrize("frequency", ["SCAN_ON_PUSH", "CONTINUOUS_SCAN"])
def test_a_registry_rule_that_covers_the_repository_stands_in(guard: Guard, filters: list[str],
                                                              frequency: str) -> None:
    stack = [not_scanning(), registry_scanning(filters, frequency, "ENHANCED")]
    assert_passes(guard.stack(stack), "ecr-scan-on-push")


@pytest.mark.parametrize(("filters", "frequency"), [
    (["billing/*"], "SCAN_ON_PUSH"),
    (["payments/api-*"], "SCAN_ON_PUSH"),
    (["payments/*"], "MANUAL"),
])
def test_a_registry_rule_that_misses_the_repository_does_not(guard: Guard, filters: list[str],
                                                             frequency: str) -> None:
    stack = [not_scanning(), registry_scanning(filters, frequency)]
    assert_violates(guard.stack(stack), "ecr-scan-on-push", "'payments/api'")


def test_templates_need_a_registry_rule_for_their_prefix(guard: Guard) -> None:
    violations = guard.stack([creation_template("idp")])
    assert_violates(violations, "ecr-scan-on-push", "template 'idp'", "'idp/*'")
    assert_passes(guard.stack([creation_template("idp"), registry_scanning(["idp/*", "payments/api"])]),
                  "ecr-scan-on-push")


def test_a_narrower_rule_does_not_cover_a_template(guard: Guard) -> None:
    stack = [creation_template("idp"), registry_scanning(["idp/portal"])]
    assert_violates(guard.stack(stack), "ecr-scan-on-push", "template 'idp'")


def test_resource_level_analysis_never_judges_scanning(guard: Guard) -> None:
    assert_passes(guard.analyze(not_scanning()), "ecr-scan-on-push")

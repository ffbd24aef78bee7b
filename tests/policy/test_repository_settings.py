"""ecr-tag-immutability, ecr-encryption and protect-registries, through the analyzer protocol."""

from __future__ import annotations

import pytest

from .conftest import Guard, assert_passes, assert_violates
from .fixtures import creation_template, repository

# --- ecr-tag-immutability --------------------------------------------------------------------------


def test_an_immutable_repository_passes(guard: Guard) -> None:
    assert_passes(guard.analyze(repository()), "ecr-tag-immutability")


def test_an_immutable_creation_template_passes(guard: Guard) -> None:
    assert_passes(guard.analyze(creation_template()), "ecr-tag-immutability")


@pytest.mark.parametrize("value", ["MUTABLE", "MUTABLE_WITH_EXCLUSION", "immutable"])
def test_mutable_tags_fail(guard: Guard, value: str) -> None:
    assert_violates(guard.analyze(repository(imageTagMutability=value)), "ecr-tag-immutability",
                    "'payments/api'", value, "Set imageTagMutability to IMMUTABLE")


def test_a_repository_without_mutability_is_mutable_by_default(guard: Guard) -> None:
    assert_violates(guard.analyze(repository(imageTagMutability=None)), "ecr-tag-immutability",
                    "MUTABLE (the default")


def test_a_mutable_creation_template_fails(guard: Guard) -> None:
    assert_violates(guard.analyze(creation_template(imageTagMutability="MUTABLE")), "ecr-tag-immutability",
                    "creation template 'payments'")


def test_exclusions_count_only_when_allowed(guard: Guard) -> None:
    excluded = repository(imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
                          imageTagMutabilityExclusionFilters=[{"filter": "latest", "filterType": "WILDCARD"}])
    assert_violates(guard.analyze(excluded), "ecr-tag-immutability", "'latest'", "allowExclusions")
    guard.configure(**{"ecr-tag-immutability": {"allowExclusions": True}})
    assert_passes(guard.analyze(excluded), "ecr-tag-immutability")


def test_allowing_exclusions_never_allows_mutable(guard: Guard) -> None:
    guard.configure(**{"ecr-tag-immutability": {"allowExclusions": True}})
    assert_violates(guard.analyze(repository(imageTagMutability="MUTABLE_WITH_EXCLUSION")), "ecr-tag-immutability")


def test_advisory_level_reports_without_blocking(guard: Guard) -> None:
    guard.client.configure({"ecr-tag-immutability": {"enforcementLevel": "advisory"}})
    assert_violates(guard.analyze(repository(imageTagMutability="MUTABLE")), "ecr-tag-immutability",
                    level="advisory")


# --- ecr-encryption --------------------------------------------------------------------------------

CMK = [{"encryptionType": "KMS", "kmsKey": "arn:aws:kms:us-west-2:210987654321:key/1234"}]


@pytest.mark.parametrize(("minimum", "configurations", "passes"), [
    ("AES256", None, True),
    ("AES256", [{"encryptionType": "AES256"}], True),
    ("KMS", None, False),
    ("KMS", [{"encryptionType": "AES256"}], False),
    ("KMS", [{"encryptionType": "KMS"}], True),
    ("KMS", [{"encryptionType": "KMS_DSSE"}], True),
    ("customer-managed-key", [{"encryptionType": "KMS"}], False),
    ("customer-managed-key", [{"encryptionType": "KMS", "kmsKey": "alias/aws/ecr"}], False),
    ("customer-managed-key", [{"encryptionType": "KMS_DSSE", "kmsKey": "alias/ecr"}], True),
    ("customer-managed-key", CMK, True),
])
def test_encryption_meets_the_configured_minimum(guard: Guard, minimum: str, configurations: object,
                                                 passes: bool) -> None:
    guard.configure(**{"ecr-encryption": {"minimum": minimum}})
    violations = guard.analyze(repository(encryptionConfigurations=configurations))
    if passes:
        assert_passes(violations, "ecr-encryption")
    else:
        assert_violates(violations, "ecr-encryption", "'payments/api'", f"minimum '{minimum}'")


def test_the_default_minimum_is_kms(guard: Guard) -> None:
    assert_violates(guard.analyze(repository(encryptionConfigurations=[{"encryptionType": "AES256"}])),
                    "ecr-encryption", "minimum 'KMS'")


def test_an_aes256_creation_template_fails_a_kms_minimum(guard: Guard) -> None:
    template = creation_template(encryptionConfigurations=[{"encryptionType": "AES256"}])
    assert_violates(guard.analyze(template), "ecr-encryption", "creation template 'payments'")


def test_an_unknown_minimum_falls_back_to_the_safe_default(guard: Guard) -> None:
    guard.configure(**{"ecr-encryption": {"minimum": "none"}})
    assert_violates(guard.analyze(repository(encryptionConfigurations=None)), "ecr-encryption", "minimum 'KMS'")


# --- protect-registries ----------------------------------------------------------------------------


def test_a_protected_repository_passes(guard: Guard) -> None:
    assert_passes(guard.analyze(repository()), "protect-registries")


def test_an_unprotected_repository_fails(guard: Guard) -> None:
    assert_violates(guard.analyze(repository(protect=False)), "protect-registries", "'payments/api'", "protect=True")


def test_a_force_deletable_repository_fails_even_when_protected(guard: Guard) -> None:
    assert_violates(guard.analyze(repository(forceDelete=True)), "protect-registries", "forceDelete")


def test_protection_without_force_delete_set_passes(guard: Guard) -> None:
    assert_passes(guard.analyze(repository(forceDelete=None)), "protect-registries")


def test_disabled_in_dev_reports_nothing(guard: Guard) -> None:
    guard.client.configure({"protect-registries": {"enforcementLevel": "disabled"}})
    assert_passes(guard.analyze(repository(forceDelete=True)), "protect-registries")

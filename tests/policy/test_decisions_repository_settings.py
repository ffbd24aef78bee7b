"""ecr-tag-immutability, ecr-encryption and protect-registries, decision by decision: every setting
next to the level just above and just below the required minimum."""

from __future__ import annotations

from typing import Any

import pytest
from rules.common import CREATION_TEMPLATE, REPOSITORY, UNKNOWN
from rules.repository_settings import (
    POLICIES,
    check_encryption,
    check_protected,
    check_tag_immutability,
    encryption_level,
)

from .decisions import defaults, messages, resource, skipped

ENCRYPTION, IMMUTABILITY = [POLICIES[1]], [POLICIES[0]]

LEVELS = [
    # (encryptionConfigurations, level, description or None when unknown)
    (None, 0, "AES256 (no encryptionConfigurations, the AWS default)"),
    ([], 0, "AES256 (no encryptionConfigurations, the AWS default)"),
    ([None], 0, "AES256 (no encryptionConfigurations, the AWS default)"),
    (["junk"], 0, "AES256 (encryptionConfigurations is not an object)"),
    ({"encryptionType": "AES256"}, 0, "AES256"),
    ([{}], 0, "AES256"),
    ([{"encryptionType": ""}], 0, "AES256"),
    ([{"encryptionType": "KMS"}], 1, "KMS with the AWS-managed key"),
    ([{"encryptionType": "KMS_DSSE", "kmsKey": ""}], 1, "KMS_DSSE with the AWS-managed key"),
    ([{"encryptionType": "KMS", "kmsKey": "arn:aws:kms:us-west-2:1:alias/aws/ecr"}], 1, "KMS with the AWS-managed key"),
    ([{"encryptionType": "KMS", "kmsKey": "alias/ecr"}], 2, "KMS with the customer-managed key 'alias/ecr'"),
    ([{"encryptionType": "KMS_DSSE", "kmsKey": UNKNOWN}], 2, "KMS_DSSE with a key created by the program"),
    ([{"encryptionType": "ROT13"}], 0, "an unrecognised encryptionType 'ROT13'"),
    (UNKNOWN, None, None),
    ([UNKNOWN], None, None),
    ([{"encryptionType": UNKNOWN}], None, None),
    ([{"encryptionType": "AES256"}, {"encryptionType": "KMS", "kmsKey": "k"}], 0, "AES256"),
]


@pytest.mark.parametrize(("configurations", "level", "description"), LEVELS)
def test_encryption_levels(configurations: Any, level: int | None, description: str | None) -> None:
    found = encryption_level(configurations)
    assert found == (None if level is None else (level, description))


def repository(kind: str = REPOSITORY, **props: Any) -> Any:
    return resource(kind, "repo", name="payments/api", **props)


@pytest.mark.parametrize(("minimum", "level", "passes"), [
    ("AES256", 0, True), ("KMS", 0, False), ("KMS", 1, True), ("KMS", 2, True),
    ("customer-managed-key", 1, False), ("customer-managed-key", 2, True), ("nonsense", 0, False),
    ("nonsense", 1, True),
])
def test_encryption_against_the_minimum(minimum: str, level: int, passes: bool) -> None:
    configuration = [[{"encryptionType": "AES256"}], [{"encryptionType": "KMS"}],
                     [{"encryptionType": "KMS", "kmsKey": "alias/team"}]][level]
    found = messages(check_encryption(repository(encryptionConfigurations=configuration), {"minimum": minimum},
                                      skipped()))
    assert (found == []) is passes, found


def test_encryption_messages_name_the_fix_for_the_minimum() -> None:
    (kms,) = messages(check_encryption(repository(), defaults(ENCRYPTION), skipped()))
    assert kms.startswith("The ECR repository 'payments/api' is encrypted with AES256 (no encryptionConfigurations, "
                          "the AWS default), below the required minimum 'KMS'")
    assert "set encryptionConfigurations to [{encryptionType: KMS}] (or KMS_DSSE)" in kms
    (cmk,) = messages(check_encryption(repository(CREATION_TEMPLATE, prefix="payments"),
                                       {"minimum": "customer-managed-key"}, skipped()))
    assert cmk.startswith("The ECR repository creation template 'payments' (repositories it creates) is encrypted")
    (unnamed,) = messages(check_encryption(repository(CREATION_TEMPLATE, prefix=5), {}, skipped()))
    assert unnamed.startswith("The ECR repository creation template 'repo' (repositories it creates)")
    assert "with a customer-managed key" in cmk
    notes = skipped()
    assert check_encryption(repository(encryptionConfigurations=UNKNOWN), {}, notes) == []
    assert notes.paths == ["repo.encryptionConfigurations"]


MUTABILITY = [
    ("IMMUTABLE", {}, None),
    ("MUTABLE", {}, "must have immutable image tags (imageTagMutability is MUTABLE)"),
    (None, {}, "imageTagMutability is MUTABLE (the default when imageTagMutability is unset)"),
    ("", {}, "imageTagMutability is MUTABLE (the default"),
    ("MUTABLE_WITH_EXCLUSION", {"allowExclusions": True}, "must have immutable image tags"),
    ("IMMUTABLE_WITH_EXCLUSION", {"allowExclusions": True}, None),
    ("IMMUTABLE_WITH_EXCLUSION", {}, "IMMUTABLE_WITH_EXCLUSION, and this environment allows no exclusions"),
]


@pytest.mark.parametrize(("value", "config", "expected"), MUTABILITY)
def test_tag_immutability(value: Any, config: dict[str, Any], expected: str | None) -> None:
    if isinstance(value, str):
        value = "".join(list(value))   # as the engine sends it: equal to the literal, not the same object
    found = messages(check_tag_immutability(repository(imageTagMutability=value), defaults(IMMUTABILITY, **config),
                                            skipped()))
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found


def test_exclusions_are_listed_in_the_message_and_unknowns_are_skipped() -> None:
    filters = [{"filter": "latest", "filterType": "WILDCARD"}, "junk", {"filter": 5}]
    (found,) = messages(check_tag_immutability(repository(imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
                                                          imageTagMutabilityExclusionFilters=filters), {}, skipped()))
    assert "IMMUTABLE_WITH_EXCLUSION (exclusions 'latest'), and" in found
    (found,) = messages(check_tag_immutability(repository(imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
                                                          imageTagMutabilityExclusionFilters="x"), {}, skipped()))
    assert "IMMUTABLE_WITH_EXCLUSION, and" in found
    notes = skipped()
    assert check_tag_immutability(repository(imageTagMutability=UNKNOWN), {}, notes) == []
    assert notes.paths == ["repo.imageTagMutability"]


@pytest.mark.parametrize(("protect", "force_delete", "expected"), [
    (True, None, []), (True, False, []), (False, None, ["is not protected"]),
    (True, True, ["has forceDelete set to true"]), (False, True, ["is not protected", "has forceDelete"]),
    (True, "true", []), (True, UNKNOWN, []), (True, 1, []),
])
def test_protection(protect: bool, force_delete: Any, expected: list[str]) -> None:
    r = repository(forceDelete=force_delete)
    r.protect = protect
    found = messages(check_protected(r, {}, skipped()))
    assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found, strict=True)), found


def test_an_unknown_force_delete_is_noted() -> None:
    notes = skipped()
    r = repository(forceDelete=UNKNOWN)
    r.protect = True
    check_protected(r, {}, notes)
    assert notes.paths == ["repo.forceDelete"]

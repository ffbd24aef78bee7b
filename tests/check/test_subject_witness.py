"""Subjects that can assume more than one role: a witness exists whichever pattern is named first."""

from __future__ import annotations

import pytest

from review.access import subject_witness
from review.iam_eval import glob_match

PAIRS = [
    ("repo:acme/app:ref:refs/heads/release/*", "repo:acme/app:ref:refs/heads/*-hotfix"),
    ("repo:acme/app:*", "repo:acme/*:ref:refs/heads/main"),
    ("a*", "*b"),
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_two_patterns_with_a_common_subject_have_a_witness_in_either_order(a: str, b: str) -> None:
    for first, second in ((a, b), (b, a)):
        witness = subject_witness(first, second)
        assert witness is not None, f"{first} and {second} both match a subject, the review says none"
        assert glob_match(first, witness) and glob_match(second, witness), witness


def test_patterns_without_a_common_subject_have_none() -> None:
    assert subject_witness("repo:acme/app:ref:refs/heads/*", "repo:acme/web:*") is None
    assert subject_witness("repo:acme/*:ref:refs/heads/main", "repo:acme/app:ref:refs/tags/*") is None

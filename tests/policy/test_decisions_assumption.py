"""Who can become whom, on the pack's pure readers: the subjects and principals a trust policy admits,
and which federated subjects overlap (the inputs of role chaining and shared-subject findings)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rules.access import Subject, subjects_sharing, trusted_by

GITHUB = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
ISSUER = "token.actions.githubusercontent.com"
SUB = f"{ISSUER}:sub"


def trust(*statements: dict[str, Any], as_text: bool = True) -> Any:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return json.dumps(document) if as_text else document


def federated(condition: dict[str, Any] | None = None, effect: str = "Allow", principal: str = GITHUB) -> dict:
    statement = {"Effect": effect, "Principal": {"Federated": principal}, "Action": "sts:AssumeRoleWithWebIdentity"}
    return {**statement, "Condition": condition} if condition is not None else statement


@pytest.mark.parametrize(("condition", "expected"), [
    ({"StringEquals": {SUB: "repo:a/b:ref:refs/heads/main"}}, [("repo:a/b:ref:refs/heads/main", False)]),
    ({"StringLike": {SUB: ["repo:a/b:*", "repo:a/c:ref:refs/heads/main"]}},
     [("repo:a/b:*", True), ("repo:a/c:ref:refs/heads/main", False)]),      # StringLike without a star is exact
    ({"StringLike": {SUB: "repo:a/b:ref:refs/heads/ma?n"}}, [("repo:a/b:ref:refs/heads/ma?n", True)]),
    ({"StringEqualsIfExists": {SUB: "repo:a/b:x"}}, [("*", True)]),           # IfExists admits the absent claim
    ({"ForAllValues:StringEquals": {SUB: "repo:a/b:x"}}, [("*", True)]),
    ({"ForAnyValue:StringEquals": {SUB: "repo:a/b:x"}}, [("repo:a/b:x", False)]),
    ({"StringNotEquals": {SUB: "repo:a/b:x"}}, [("*", True)]),                # a negation admits everyone else
    ({"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}}, [("*", True)]),   # no subject condition at all
    (None, [("*", True)]),
])
def test_federated_subjects_a_trust_policy_admits(condition: dict | None, expected: list[tuple[str, bool]]) -> None:
    subjects, arns = trusted_by(trust(federated(condition)))
    assert [(s.value, s.pattern) for s in subjects] == expected
    assert {s.issuer for s in subjects} == {ISSUER} and arns == []


def test_the_issuer_comes_from_the_provider_arn_or_the_bare_host() -> None:
    (arn,), _ = trusted_by(trust(federated({"StringEquals": {SUB: "repo:a/b:x"}})))
    (bare,), _ = trusted_by(trust(federated({"StringEquals": {SUB: "repo:a/b:x"}}, principal="Accounts.Google.com")))
    assert (arn.issuer, bare.issuer) == (ISSUER, "accounts.google.com")


@pytest.mark.parametrize(("principal", "expected"), [
    ("arn:aws:iam::1:role/deploy", [("role", "deploy")]),
    ("arn:aws:iam::1:role/path/to/deploy", [("role", "deploy")]),
    ("arn:aws:iam::1:user/ci", [("user", "ci")]),
    ("arn:aws:iam::1:role/dep*", []),
    ("arn:aws:iam::1:root", []),
    ("123456789012", []),
])
def test_aws_principals_a_trust_policy_admits(principal: str, expected: list) -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    assert trusted_by(trust(statement)) == ([], expected)


@pytest.mark.parametrize("value", [None, "", "not json", 42, trust(federated(effect="Deny")),
                                   trust({"Principal": {"Federated": GITHUB}, "Action": "sts:AssumeRole"})])
def test_what_admits_nobody(value: Any) -> None:
    assert trusted_by(value) == ([], [])


def test_an_object_document_reads_like_its_text_and_later_statements_still_count() -> None:
    statements = (federated(effect="Deny"), {"Effect": "allow", "Principal": {"AWS": "arn:aws:iam::1:role/x"},
                                             "Action": "sts:AssumeRole"})
    assert trusted_by(trust(*statements)) == trusted_by(trust(*statements, as_text=False)) == ([], [("role", "x")])


def S(value: str, issuer: str = ISSUER) -> Subject:
    return Subject(issuer, value, "*" in value or "?" in value)


@pytest.mark.parametrize(("a", "b", "shared"), [
    (S("repo:o/r:ref:refs/heads/main"), S("repo:o/r:*"), True),
    (S("repo:o/r:ref:refs/heads/main"), S("repo:o/*"), True),
    (S("repo:o/r:ref:refs/heads/main"), S("*"), True),
    (S("repo:o/r:ref:refs/heads/main"), S("repo:o/r:ref:refs/heads/ma?n"), True),
    (S("repo:o/r:ref:refs/heads/main"), S("repo:o/q:*"), False),
    (S("repo:o/r:ref:refs/heads/main"), S("repo:o/r:ref:refs/heads/main", "other.example"), False),
    (S("repo:o/*"), S("repo:o/r:*"), True),                      # one pattern matches the other's text
    (S("repo:o/r:environment:*"), S("repo:o/r:ref:*"), False),
    (S("repo:o/r:x"), S("repo:o/r:y"), False),
])
def test_which_subjects_overlap(a: Subject, b: Subject, shared: bool) -> None:
    for first, second in ((a, b), (b, a)):
        out = subjects_sharing({first: {"one"}, second: {"two"}})
        assert (out[first] == {"one", "two"} and out[second] == {"one", "two"}) is shared, out
        assert out[first] >= {"one"} and out[second] >= {"two"}


def test_sharing_never_changes_its_input() -> None:
    given = {S("repo:o/r:x"): {"one"}, S("repo:o/*"): {"two"}}
    subjects_sharing(given)
    assert given == {S("repo:o/r:x"): {"one"}, S("repo:o/*"): {"two"}}

"""Reading statements (rules/documents.py), decision by decision: principals, conditions that confine a
caller, the shape IAM and ECR accept, and which statements can be judged when values are unknown."""

from __future__ import annotations

from typing import Any

import pytest
from rules.common import UNKNOWN
from rules.documents import (
    IDENTITY,
    RESOURCE_BASED,
    condition_accounts,
    condition_organizations,
    conditions,
    is_public_principal,
    judged_statements,
    open_document,
    principal_account,
    principals,
    scoping_conditions,
    shape_problems,
)

from .decisions import ACCOUNT, OTHER_ACCOUNT, skipped

OPERATORS = [
    # (operator, base operator, set qualifier, IfExists?)
    ("StringEquals", "StringEquals", "", False),
    ("StringLikeIfExists", "StringLike", "", True),
    ("ForAnyValue:StringEquals", "StringEquals", "ForAnyValue", False),
    ("ForAllValues:ArnLikeIfExists", "ArnLike", "ForAllValues", True),
    ("IfExists", "", "", True),
]


@pytest.mark.parametrize(("operator", "base", "qualifier", "if_exists"), OPERATORS)
def test_condition_operators_are_read_into_parts(operator: str, base: str, qualifier: str, if_exists: bool) -> None:
    (condition,) = conditions({"Condition": {operator: {"Aws:PrincipalOrgID": "o-1"}}})
    assert (condition.base_operator, condition.set_qualifier, condition.if_exists) == (base, qualifier, if_exists)
    assert condition.key == "aws:principalorgid"


def test_condition_values_are_text_and_malformed_blocks_are_skipped() -> None:
    found = conditions({"Condition": {"Bool": {"a": True, "b": [False, 5]}, "Null": "junk", "X": {"c": None}}})
    assert [(c.key, c.values) for c in found] == [("a", ("true",)), ("b", ("false", "5")), ("c", ())]
    assert conditions({"Condition": ["junk"]}) == [] and conditions({}) == []


PRINCIPALS = [
    (None, {}),
    ("*", {"*": ["*"]}),
    (f"arn:aws:iam::{ACCOUNT}:root", {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]}),
    ("#ci", {"AWS": ["#ci"]}),                      # sorts before the star
    (["junk"], {}),
    ({"AWS": 210987654321, "Service": ["a", True]}, {"AWS": ["210987654321"], "Service": ["a", "true"]}),
]


@pytest.mark.parametrize(("value", "expected"), PRINCIPALS)
def test_principals_in_every_form(value: Any, expected: dict[str, list[str]]) -> None:
    statement = {} if value is None else {"Principal": value}
    assert principals(statement) == expected


PUBLIC = [
    ("*", "x", True), ("AWS", "*", True), ("Service", "*", True), ("AWS", "arn:aws:iam::*:root", True),
    ("AWS", "arn:aws:iam::2109876543?1:root", True), ("AWS", f"arn:aws:iam::{ACCOUNT}:role/*", False),
    ("AWS", f"arn:aws:iam::{ACCOUNT}:root", False), ("AWS", "ci-role", False), ("Service", "ecs.amazonaws.com", False),
    ("Federated", "x*", False),
]


@pytest.mark.parametrize(("kind", "value", "public"), [*PUBLIC, ("AWS", "#ci", False), ("Service", "!x", False),
                                                      ("AWS", "2109876543?1", True)])
def test_public_principals(kind: str, value: str, public: bool) -> None:
    fresh = "".join(list(kind))  # as parsed from JSON: equal to the literal, not the same object
    assert is_public_principal(fresh, value) is public


@pytest.mark.parametrize(("value", "account"), [
    (ACCOUNT, ACCOUNT), ("21098765432", None), ("2109876543210", None), (f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", ACCOUNT), (f"arn:aws-cn:iam::{ACCOUNT}:user/u", ACCOUNT),
    (f"arn:aws:s3::{ACCOUNT}:x", None), ("arn:aws:iam::*:root", None), ("arn:aws:iam::1234:root", None),
    (f"xarn:aws:iam::{ACCOUNT}:root", None),
])
def test_principal_accounts(value: str, account: str | None) -> None:
    assert principal_account(value) == account


ORG = "o-abc123"
SCOPING = [
    # (condition block, confines?)
    ({"StringEquals": {"aws:PrincipalOrgID": ORG}}, True),
    ({"StringLike": {"aws:PrincipalOrgID": ORG}}, True),
    ({"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": ORG}}, True),
    ({"StringEqualsIgnoreCase": {"aws:PrincipalAccount": ACCOUNT}}, True),
    ({"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/ci"}}, True),
    ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}, True),
    ({"StringEquals": {"aws:PrincipalOrgPaths": f"{ORG}/r-ab12/ou-ab12-1/"}}, True),
    ({"StringEquals": {"aws:PrincipalOrgPaths": "o-*/r-ab12/"}}, False),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-*"}}, False),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-"}}, False),
    ({"StringEquals": {"aws:PrincipalOrgID": [ORG, "o-*"]}}, False),
    ({"StringEquals": {"aws:PrincipalOrgID": []}}, False),
    ({"StringEquals": {"aws:PrincipalAccount": "2109*"}}, False),
    ({"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci"}}, False),
    ({"StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}"}}, True),
    ({"StringEquals": {"aws:PrincipalArn": "arn:aws:iam:"}}, False),
    ({"StringEquals": {"aws:PrincipalArn": "arn:aws"}}, False),
    ({"StringNotEquals": {"aws:PrincipalOrgID": ORG}}, False),
    ({"StringEqualsIfExists": {"aws:PrincipalOrgID": ORG}}, False),
    ({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": ORG}}, False),
    ({"forallvalues:StringEquals": {"aws:PrincipalOrgID": ORG}}, False),
    ({"Bool": {"aws:PrincipalOrgID": ORG}}, False),
    ({"StringEquals": {"aws:ResourceAccount": ACCOUNT}}, False),
    ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, False),
    ({"StringEquals": {"aws:SourceIp": ACCOUNT}, "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:root"}},
     True),
    # a condition that does not confine never hides one that does
    ({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": ORG}, "StringEquals": {"aws:PrincipalOrgID": ORG}}, True),
    ({"Bool": {"aws:PrincipalOrgID": ORG}, "StringEquals": {"aws:PrincipalOrgID": ORG}}, True),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-*"}, "StringLike": {"aws:PrincipalOrgID": ORG}}, True),
    ({"Junk:ForAnyValue:StringEquals": {"aws:PrincipalOrgID": ORG}}, False),
]


@pytest.mark.parametrize(("block", "confines"), SCOPING)
def test_conditions_that_confine_the_caller(block: dict[str, Any], confines: bool) -> None:
    assert bool(scoping_conditions({"Condition": block})) is confines


def test_accounts_and_organisations_a_statement_is_confined_to() -> None:
    def statement(**block: Any) -> dict[str, Any]:
        return {"Condition": block}

    assert condition_accounts(statement()) is None
    assert condition_accounts(statement(StringEquals={"aws:PrincipalOrgID": ORG})) is None
    assert condition_accounts(statement(StringEquals={"aws:PrincipalAccount": [ACCOUNT, OTHER_ACCOUNT]})) == {
        ACCOUNT, OTHER_ACCOUNT}
    assert condition_accounts(statement(StringEquals={"aws:PrincipalAccount": [ACCOUNT, OTHER_ACCOUNT]},
                                        ArnLike={"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"})) == {ACCOUNT}
    assert condition_accounts(statement(ArnLike={"aws:PrincipalArn": f"arn:aws:iam::{OTHER_ACCOUNT}:role/*"})) == {
        OTHER_ACCOUNT}
    assert condition_accounts(statement(StringEquals={"aws:PrincipalOrgID": ORG,
                                                      "aws:PrincipalAccount": OTHER_ACCOUNT})) == {OTHER_ACCOUNT}
    assert condition_organizations(statement(StringEquals={"aws:PrincipalOrgID": ORG,
                                                           "aws:PrincipalOrgPaths": "o-xyz789/r-1/"})) == {
        ORG, "o-xyz789"}
    assert condition_organizations(statement(StringEquals={"aws:PrincipalAccount": ACCOUNT})) == set()


# --- shape: what IAM and ECR reject -----------------------------------------------------------------

GOOD_IDENTITY = {"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "*"}
GOOD_RESOURCE = {"Effect": "Deny", "Action": ["ecr:PutImage"], "Principal": "*"}

SHAPES = [
    # (document, kind, expected problems)
    ({"Statement": [GOOD_IDENTITY]}, IDENTITY, []),
    ({"Statement": GOOD_RESOURCE}, RESOURCE_BASED, []),
    ({"Statement": UNKNOWN}, IDENTITY, []),
    ({"Statement": [UNKNOWN, GOOD_IDENTITY]}, IDENTITY, []),
    ({"Statement": [UNKNOWN, {"Effect": "Allow", "Resource": "*"}]}, IDENTITY, [(1, "has no Action")]),
    ({}, IDENTITY, [(None, "has no Statement")]),
    ({"Statement": "x"}, IDENTITY, [(None, "has a Statement that is neither an object nor a list of objects")]),
    ({"Statement": [GOOD_IDENTITY, "x"]}, IDENTITY, [(1, "is not an object")]),
    ({"Statement": [GOOD_IDENTITY | {"Effect": "Maybe"}]}, IDENTITY, [(0, "has Effect 'Maybe', not Allow or Deny")]),
    ({"Statement": [GOOD_IDENTITY | {"Effect": "allow"}]}, IDENTITY, []),
    ({"Statement": [GOOD_IDENTITY | {"Effect": 1}]}, IDENTITY, [(0, "has Effect 1, not Allow or Deny")]),
    ({"Statement": [GOOD_IDENTITY | {"Effect": UNKNOWN}]}, IDENTITY, []),
    ({"Statement": [GOOD_IDENTITY | {"NotAction": "x"}]}, IDENTITY, [(0, "has both Action and NotAction")]),
    ({"Statement": [GOOD_IDENTITY | {"NotResource": "x"}]}, IDENTITY, [(0, "has both Resource and NotResource")]),
    ({"Statement": [GOOD_RESOURCE | {"NotPrincipal": {"AWS": "x"}}]}, RESOURCE_BASED,
     [(0, "has both Principal and NotPrincipal")]),
    ({"Statement": [GOOD_RESOURCE | {"Principal": {"aws": "x"}}]}, RESOURCE_BASED,
     [(0, "has a Principal key 'aws', not one of AWS, Federated, Service, CanonicalUser (keys are case-sensitive)")]),
    ({"Statement": [GOOD_RESOURCE | {"Principal": {"federated": "x"}}]}, RESOURCE_BASED,
     [(0, "has a Principal key 'federated', not one of AWS, Federated, Service, CanonicalUser (keys are "
          "case-sensitive)")]),
    ({"Statement": [GOOD_RESOURCE | {"Principal": ["*"]}]}, RESOURCE_BASED,
     [(0, 'has a Principal that is neither "*" nor an object of AWS, Federated, Service, CanonicalUser')]),
    ({"Statement": [GOOD_RESOURCE | {"Principal": "arn:aws:iam::1:root"}]}, RESOURCE_BASED,
     [(0, 'has a Principal that is neither "*" nor an object of AWS, Federated, Service, CanonicalUser')]),
    ({"Statement": [GOOD_RESOURCE | {"Principal": {}}]}, RESOURCE_BASED, [(0, "has an empty Principal")]),
    ({"Statement": [GOOD_RESOURCE | {"Principal": {"AWS": ["a", 1]}}]}, RESOURCE_BASED,
     [(0, "has a Principal AWS that is not a string or a list of strings")]),
    ({"Statement": [GOOD_RESOURCE | {"Principal": {"Service": {"a": "b"}}}]}, RESOURCE_BASED,
     [(0, "has a Principal Service that is not a string or a list of strings")]),
    ({"Statement": [GOOD_RESOURCE | {"Principal": {"CanonicalUser": "c", "AWS": ["a", UNKNOWN]}}]},
     RESOURCE_BASED, []),
    ({"Statement": [GOOD_RESOURCE | {"Principal": UNKNOWN}]}, RESOURCE_BASED, []),
    ({"Statement": [GOOD_RESOURCE | {"Principal": "*"}]}, RESOURCE_BASED, []),
    ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, IDENTITY, [(0, "has no Action")]),
    ({"Statement": [{"Effect": "Allow", "NotAction": "x", "Resource": "*"}]}, IDENTITY, []),
    ({"Statement": [GOOD_IDENTITY | {"Action": []}]}, IDENTITY,
     [(0, "has a Action that is not a string or a list of strings")]),
    ({"Statement": [GOOD_IDENTITY | {"Resource": ["a", 1]}]}, IDENTITY,
     [(0, "has a Resource that is not a string or a list of strings")]),
    ({"Statement": [GOOD_IDENTITY | {"Resource": ["a", UNKNOWN]}]}, IDENTITY, []),
    ({"Statement": [GOOD_IDENTITY | {"Action": {"a": 1}}]}, IDENTITY,
     [(0, "has a Action that is not a string or a list of strings")]),
    ({"Statement": [{"Effect": "Allow", "Action": "x"}]}, IDENTITY, [(0, "has no Resource")]),
    ({"Statement": [{"Effect": "Allow", "Action": "x", "NotResource": "y"}]}, IDENTITY, []),
    ({"Statement": [GOOD_IDENTITY | {"Principal": "*"}]}, IDENTITY,
     [(0, "names a Principal, which an identity policy cannot")]),
    ({"Statement": [GOOD_IDENTITY | {"NotPrincipal": "*"}]}, IDENTITY,
     [(0, "names a Principal, which an identity policy cannot")]),
    ({"Statement": [{"Effect": "Allow", "Action": "x"}]}, RESOURCE_BASED, [(0, "has no Principal")]),
    ({"Statement": [{"Effect": "Allow", "Action": "x", "NotPrincipal": {"AWS": "y"}}]}, RESOURCE_BASED, []),
    ({"Statement": [{"Effect": "Allow", "Action": "x", "NotPrincipal": "y"}]}, RESOURCE_BASED,
     [(0, 'has a NotPrincipal that is neither "*" nor an object of AWS, Federated, Service, CanonicalUser')]),
    ({"Statement": [GOOD_IDENTITY | {"Condition": {"Bool": {"a": "true"}, "X": UNKNOWN}}]}, IDENTITY, []),
    ({"Statement": [GOOD_IDENTITY | {"Condition": UNKNOWN}]}, IDENTITY, []),
    ({"Statement": [GOOD_IDENTITY | {"Condition": {"Bool": "true"}}]}, IDENTITY,
     [(0, "has a Condition that is not an object of operator: {key: values}")]),
    ({"Statement": [GOOD_IDENTITY | {"Condition": ["x"]}]}, IDENTITY,
     [(0, "has a Condition that is not an object of operator: {key: values}")]),
    ({"Statement": [GOOD_IDENTITY, {"Resource": "*"}]}, IDENTITY,
     [(1, "has Effect None, not Allow or Deny"), (1, "has no Action")]),
]


@pytest.mark.parametrize(("document", "kind", "expected"), SHAPES)
def test_shape_problems(document: dict[str, Any], kind: str, expected: list[tuple[int | None, str]]) -> None:
    assert shape_problems(document, kind) == expected


JUDGED = [
    # (document, [(index, statement)], partial)
    ({"Statement": [GOOD_IDENTITY]}, [(0, GOOD_IDENTITY)], False),
    ({"Statement": GOOD_IDENTITY}, [(0, GOOD_IDENTITY)], False),
    ({"Statement": UNKNOWN}, [], True),
    ({"Statement": ["x", GOOD_IDENTITY]}, [(1, GOOD_IDENTITY)], False),
    ({"Statement": [UNKNOWN, GOOD_IDENTITY]}, [(1, GOOD_IDENTITY)], True),
    ({"Statement": [GOOD_IDENTITY | {"Effect": UNKNOWN}, GOOD_IDENTITY]}, [(1, GOOD_IDENTITY)], True),
    ({"Statement": [GOOD_IDENTITY | {"Condition": {"Bool": {"k": UNKNOWN}}}]},
     [(0, GOOD_IDENTITY | {"Condition": {"Bool": {"k": UNKNOWN}}})], True),
    ({"Statement": [GOOD_IDENTITY | {"Condition": UNKNOWN}]}, [(0, GOOD_IDENTITY | {"Condition": UNKNOWN})], True),
    ({"Statement": [GOOD_RESOURCE | {"Principal": {"AWS": [UNKNOWN]}}]},
     [(0, GOOD_RESOURCE | {"Principal": {"AWS": [UNKNOWN]}})], True),
    ({"Statement": [GOOD_RESOURCE | {"Principal": UNKNOWN}]}, [], True),
    ({"Statement": [GOOD_RESOURCE | {"NotPrincipal": UNKNOWN}]}, [], True),
    ({"Statement": [GOOD_IDENTITY | {"Action": ["a", UNKNOWN]}]}, [(0, GOOD_IDENTITY | {"Action": ["a"]})], True),
    ({"Statement": [GOOD_IDENTITY | {"Action": ["a", "b"]}]}, [(0, GOOD_IDENTITY | {"Action": ["a", "b"]})], False),
    ({"Statement": [GOOD_IDENTITY | {"Action": [UNKNOWN]}]},
     [(0, {k: v for k, v in GOOD_IDENTITY.items() if k != "Action"})], True),
    ({"Statement": [GOOD_IDENTITY | {"Resource": UNKNOWN}]},
     [(0, {k: v for k, v in GOOD_IDENTITY.items() if k != "Resource"})], True),
    ({"Statement": [GOOD_IDENTITY | {"Condition": {"Bool": {"k": ["a"]}}}]},
     [(0, GOOD_IDENTITY | {"Condition": {"Bool": {"k": ["a"]}}})], False),
]


@pytest.mark.parametrize(("document", "expected", "partial"), JUDGED)
def test_judged_statements(document: dict[str, Any], expected: list[tuple[int, dict[str, Any]]], partial: bool) -> None:
    assert judged_statements(document) == (expected, partial)


def test_open_document_in_every_state() -> None:
    notes = skipped()
    assert open_document(UNKNOWN, IDENTITY, notes, "r.policy") is None and notes.paths == ["r.policy"]
    notes = skipped()
    assert open_document(None, IDENTITY, notes, "p") is None and open_document("", IDENTITY, notes, "p") is None
    assert notes.paths == []
    broken = open_document("{", IDENTITY, notes, "p")
    assert broken is not None and broken.statements == [] and broken.malformed[0].startswith("is not valid JSON")
    assert open_document("[1]", IDENTITY, notes, "p").malformed == ["is not a JSON object"]  # type: ignore[union-attr]
    document = open_document({"Statement": [{"Sid": "Bad", "Action": "x", "Resource": "*"}, "junk", "junk",
                                            GOOD_IDENTITY, {"Effect": "Allow", "Resource": "*"}]}, IDENTITY, notes, "p")
    assert document is not None
    assert document.malformed == ["statement 'Bad' has Effect None, not Allow or Deny", "statement #2 is not an object",
                                  "statement #3 is not an object", "statement #5 has no Action"]
    assert document.statements == [(3, GOOD_IDENTITY)]
    assert document.labelled() == [("statement #4", GOOD_IDENTITY)]
    assert notes.paths == []
    partial = open_document({"Statement": [GOOD_IDENTITY | {"Resource": ["a", UNKNOWN]}]}, IDENTITY, notes, "q")
    assert partial is not None and partial.statements == [(0, GOOD_IDENTITY | {"Resource": ["a"]})]
    assert notes.paths == ["q"]
    assert open_document({}, IDENTITY, skipped(), "p").malformed == ["has no Statement"]  # type: ignore[union-attr]


# --- unknowns inside conditions (issue 21): judged, never read as absent -------------------------------------------

def test_conditions_keep_known_values_and_mark_partial_ones() -> None:
    from rules.documents import UNKNOWN_KEY, Condition, conditions_known
    statement = {"Condition": {"StringEquals": {"aws:PrincipalAccount": [ACCOUNT, UNKNOWN], "k": "v"}}}
    assert conditions(statement) == [Condition("StringEquals", "aws:principalaccount", (ACCOUNT,), partial=True),
                                      Condition("StringEquals", "k", ("v",))]
    assert conditions({"Condition": UNKNOWN}) == [Condition("", UNKNOWN_KEY, (), partial=True)]
    assert conditions({"Condition": {"StringLike": UNKNOWN}}) == [Condition("StringLike", UNKNOWN_KEY, (), True)]
    assert conditions_known(statement) and conditions_known({}) and conditions_known({"Condition": "x"})
    assert not conditions_known({"Condition": UNKNOWN})
    assert not conditions_known({"Condition": {"StringLike": UNKNOWN, "Bool": {"a": "true"}}})


UNKNOWN_SCOPES = [
    # (condition block, scoped, accounts)
    ({"StringEquals": {"aws:PrincipalAccount": [ACCOUNT, UNKNOWN]}}, True, {ACCOUNT}),
    ({"StringEquals": {"aws:PrincipalAccount": [OTHER_ACCOUNT, UNKNOWN]}}, True, {OTHER_ACCOUNT}),
    ({"StringEquals": {"aws:PrincipalAccount": [UNKNOWN]}}, True, set()),
    ({"StringEquals": {"aws:PrincipalAccount": ["2109*", UNKNOWN]}}, False, None),
    ({"StringNotEquals": {"aws:PrincipalAccount": [UNKNOWN]}}, False, None),
    (UNKNOWN, True, None),
    ({"StringEquals": UNKNOWN}, True, None),
]


@pytest.mark.parametrize(("block", "scoped", "accounts"), UNKNOWN_SCOPES)
def test_an_unknown_condition_may_confine_but_its_known_values_are_judged(block: Any, scoped: bool,
                                                                          accounts: set[str] | None) -> None:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": block}
    assert bool(scoping_conditions(statement)) is scoped
    assert condition_accounts(statement) == accounts


def test_least_privilege_condition_readers_wait_for_unknowns() -> None:
    from rules.least_privilege import passed_to_service, selects_resources
    assert passed_to_service({"Condition": UNKNOWN}) and selects_resources({"Condition": UNKNOWN})
    assert passed_to_service({"Condition": {"StringEquals": {"iam:PassedToService": [UNKNOWN]}}})
    assert not passed_to_service({"Condition": {"StringEquals": {"iam:PassedToService": ["*", UNKNOWN]}}})
    assert selects_resources({"Condition": {"StringEquals": {"aws:ResourceTag/team": [UNKNOWN]}}})
    assert not selects_resources({"Condition": {"StringEquals": {"aws:ResourceTag/team": ["*", UNKNOWN]}}})
    assert not passed_to_service({"Condition": {"StringEquals": {"iam:PassedToService": []}}})

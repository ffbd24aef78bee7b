"""The access review's IAM evaluator, decision by decision.

Every condition operator next to its negation, each with a matching value, a different value,
an absent key and a key this tool does not know; the set qualifiers and IfExists; request values
that are wildcard patterns (a trusted GitHub subject pattern). Then the evaluation itself: every
statement that does not apply (action, principal, resource, condition) followed by one that does.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.iam_eval import (
    Decision,
    Effect,
    Glob,
    PolicyDocument,
    Principal,
    Request,
    Tri,
    describe_condition,
    evaluate,
    evaluate_condition,
    glob_covers,
    glob_match,
    globs_overlap,
    has_wildcard,
)

T, F, U = Tri.TRUE, Tri.FALSE, Tri.UNKNOWN


def fresh(text: str) -> str:
    """Equal to `text` but another object, as every string parsed from a policy's JSON is."""
    return "".join(list(text))
ROLE = "arn:aws:iam::111111111111:role/ci"
REPO = "arn:aws:ecr:us-east-1:111111111111:repository/dc43/app"

OPERATORS = [
    # (operator, policy values, request values (None: not known here, (): known absent), result)
    ("StringEquals", "abc", ["abc"], T),
    ("StringEquals", "abc", ["ABC"], F),
    ("StringEquals", "a*", ["abc"], F),
    ("StringEquals", ["x", "abc"], ["abc"], T),
    ("StringEquals", ["a"], ["a", "x"], T),        # plain operators: any request value may match
    ("StringEquals", "abc", (), F),
    ("StringEquals", "abc", None, U),
    ("StringNotEquals", "abc", ["abc"], F),
    ("StringNotEquals", "abc", ["xyz"], T),
    ("StringNotEquals", "abc", ["ABC"], T),       # case-sensitive
    ("StringNotEquals", "abc", (), T),
    ("StringNotEquals", "abc", None, U),
    ("StringNotEquals", "a*", ["abc"], T),    # not a pattern: compared literally
    ("StringNotEqualsIgnoreCase", "A*", ["abc"], T),
    ("StringEqualsIgnoreCase", "abc", ["ABC"], T),
    ("StringEqualsIgnoreCase", "abc", ["abd"], F),
    ("StringEqualsIgnoreCase", "abc", (), F),
    ("StringEqualsIgnoreCase", "A*", ["abc"], F),  # not a pattern
    ("StringNotEqualsIgnoreCase", "abc", ["ABC"], F),
    ("StringNotEqualsIgnoreCase", "abc", ["abd"], T),
    ("StringNotEqualsIgnoreCase", "abc", (), T),
    ("StringLike", "a*", ["abc"], T),
    ("StringLike", "a?c", ["abc"], T),
    ("StringLike", "a*", ["ABC"], F),
    ("StringLike", "a*", ["xbc"], F),
    ("StringLike", "a*", (), F),
    ("StringNotLike", "a*", ["abc"], F),
    ("StringNotLike", "a*", ["xbc"], T),
    ("StringNotLike", "a*", (), T),
    ("ArnEquals", "arn:aws:iam::*:role/ci", [ROLE], T),
    ("ArnEquals", "arn:aws:iam::2*:role/ci", [ROLE], F),
    ("ArnLike", "arn:aws:iam::*:role/*", [ROLE], T),
    ("ArnLike", "arn:aws:iam::*:role/CI", [ROLE], F),
    ("ArnLike", ROLE, (), F),
    ("ArnNotEquals", "arn:aws:iam::*:role/ci", [ROLE], F),
    ("ArnNotEquals", "arn:aws:iam::2*:role/ci", [ROLE], T),
    ("ArnNotEquals", "arn:aws:iam::*:role/CI", [ROLE], T),   # ARNs compare case-sensitively
    ("ArnNotLike", "arn:aws:iam::*:role/*", [ROLE], F),
    ("ArnNotLike", "arn:aws:iam::*:user/*", [ROLE], T),
    ("ArnNotLike", ROLE, (), T),
    ("Bool", "true", ["true"], T),
    ("Bool", "True", ["true"], T),
    ("Bool", True, ["true"], T),              # a JSON true in the policy: Bool compares case-insensitively
    ("Bool", "true", ["false"], F),
    ("Bool", "t*", ["true"], F),                  # not a pattern
    ("Bool", "true", (), F),
    ("Bool", "true", None, U),
    ("Null", "true", (), T),
    ("Null", "TRUE", (), T),
    ("Null", "true", ["x"], F),
    ("Null", "false", ["x"], T),
    ("Null", "false", (), F),
    ("Null", "true", None, U),
    ("Null", "yes", (), F),                        # only 'true' asks for an absent key
    ("NumericLessThan", "5", ["3"], U),       # not modelled: never decides
    ("IpAddress", "10.0.0.0/8", ["10.1.1.1"], U),
    # IfExists: holds when the key is absent, otherwise as the plain operator
    ("StringEqualsIfExists", "abc", (), T),
    ("StringEqualsIfExists", "abc", ["abc"], T),
    ("StringEqualsIfExists", "abc", ["x"], F),
    ("StringLikeIfExists", "a*", ["x"], F),
    ("BoolIfExists", "true", (), T),
    ("BoolIfExists", "true", ["false"], F),
    # set qualifiers over multi-valued keys
    ("ForAnyValue:StringEquals", ["a", "b"], ["x", "b"], T),
    ("ForAnyValue:StringEquals", ["a", "b"], ["x", "y"], F),
    ("ForAnyValue:StringEquals", ["a"], (), F),
    ("ForAllValues:StringEquals", ["a", "b", "c"], ["a", "b"], T),
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "x"], F),
    ("ForAllValues:StringEquals", ["a", "b"], ["x", "a"], F),
    ("ForAllValues:StringEquals", ["a"], (), T),
    ("ForAllValues:StringLike", ["a*"], ["ab", "ac"], T),
    ("ForAllValues:StringNotLike", ["a*"], ["xb", "yc"], T),
    ("ForAllValues:StringNotLike", ["a*"], ["xb", "ac"], F),
    ("ForAnyValue:StringNotEquals", ["a"], ["a", "b"], T),
    ("ForAnyValue:StringNotEquals", ["a"], ["a"], F),
]


@pytest.mark.parametrize(("operator", "values", "request_values", "expected"), OPERATORS)
def test_condition_operators(operator: str, values: Any, request_values: Any, expected: Tri) -> None:
    context = {} if request_values is None else {"k": request_values}
    truth, unknown = evaluate_condition({fresh(operator): {"k": values}}, context)
    assert truth is expected
    assert bool(unknown) is (expected is U)


GLOBS = [
    # request values that stand for every string matching a pattern (a trusted GitHub subject pattern)
    ("StringLike", "repo:o/r:*", Glob("repo:o/r:ref:*"), T),       # covers every value
    ("StringLike", "repo:o/r:ref:refs/heads/*", Glob("repo:o/r:*"), U),  # covers some
    ("StringLike", "repo:o/x:*", Glob("repo:o/r:*"), F),           # covers none
    ("StringNotLike", "repo:o/r:*", Glob("repo:o/r:ref:*"), F),
    ("StringNotLike", "repo:o/r:ref:refs/heads/*", Glob("repo:o/r:*"), U),
    ("StringNotLike", "repo:o/x:*", Glob("repo:o/r:*"), T),
    ("StringEquals", "repo:o/r:pull_request", Glob("repo:o/r:*"), U),
    ("StringEquals", "repo:o/x:pull_request", Glob("repo:o/r:*"), F),
    ("StringEquals", "repo:o/r:pull_request", Glob("repo:o/r:pull_request"), T),
    ("StringEquals", "repo:o/r:pull_request", Glob("repo:o/r:push"), F),
    ("StringEquals", "repo:o/r:push", Glob("repo:o/r:pull_request"), F),
    ("StringEqualsIgnoreCase", "REPO:o/r:x", Glob("repo:o/r:*"), U),
    ("StringEqualsIgnoreCase", "REPO:O/R:X", Glob("repo:o/r:x"), T),
    ("StringNotEquals", "repo:o/r:pull_request", Glob("repo:o/r:*"), U),
    ("StringNotEquals", "repo:o/x:pull_request", Glob("repo:o/r:*"), T),
    ("ForAllValues:StringLike", "repo:o/r:ref:refs/heads/*", Glob("repo:o/r:*"), U),
    ("ForAllValues:StringLike", "repo:o/x:*", Glob("repo:o/r:*"), F),
]


@pytest.mark.parametrize(("operator", "value", "request_value", "expected"), GLOBS)
def test_conditions_over_request_patterns(operator: str, value: str, request_value: Glob, expected: Tri) -> None:
    assert evaluate_condition({operator: {"sub": value}}, {"sub": [request_value]})[0] is expected


def test_condition_blocks_are_an_and_and_report_what_is_unknown() -> None:
    context = {"Known": ["a"]}
    assert evaluate_condition(None, context) == (T, ())
    assert evaluate_condition({"StringEquals": {"known": "a"}}, context) == (T, ())       # keys are case-insensitive
    assert evaluate_condition({"StringEquals": {"known": "a", "other": ["x", "y"]}}, context) == (
        U, ("other StringEquals x | y",))
    assert evaluate_condition({"StringEquals": {"other": "x", "known": "b"}}, context) == (F, ())
    assert evaluate_condition({"StringEquals": {"other": "x"}, "StringLike": {"known": "b*"}}, context) == (F, ())
    assert evaluate_condition({"StringEquals": "junk"}, context) == (U, ("StringEquals (malformed)",))
    assert evaluate_condition({"StringEquals": "junk", "StringLike": {"known": "b*"}}, context) == (F, ())
    assert describe_condition("Bool", "aws:SecureTransport", True) == "aws:SecureTransport Bool True"
    assert describe_condition("Null", "k", []) == "k Null "


# ---------------------------------------------------------------- wildcards


OVERLAPS = [
    ("a*", "*b", True), ("a*", "b*", False), ("a?c", "abc", True), ("a?c", "abd", False), ("*", "", True),
    ("", "", True), ("a", "", False), ("", "a", False), ("ab", "a", False), ("a", "ab", False),
    ("a*c", "a*d", False), ("*a*", "*b*", True), ("a**", "*", True), ("?", "", False), ("?", "*", True),
    ("x*", "*y", True), ("abc", "a*c", True), ("a*", "a", True), ("*a", "b", False), ("b", "*a", False),
    ("a", "!", False), ("!", "a", False),         # characters that sort before the star are literals
]


@pytest.mark.parametrize(("a", "b", "overlap"), OVERLAPS)
def test_glob_overlap(a: str, b: str, overlap: bool) -> None:
    assert globs_overlap(a, b) is overlap
    assert globs_overlap(b, a) is overlap


def test_glob_overlap_of_long_values() -> None:
    # past 256, lengths are no longer cached int objects: compared by value all the same
    assert globs_overlap("*", "x" * 300) and globs_overlap("x" * 300, "*x")
    assert not globs_overlap("*a", "x" * 300) and not globs_overlap("x" * 300 + "y", "x" * 300)
    assert not globs_overlap("x" * 300, "x" * 300 + "y")
    assert not globs_overlap("x" * 300, "x" * 300 + "*y") and not globs_overlap("x" * 300 + "*y", "x" * 300)
    assert globs_overlap("中", "中") and globs_overlap("中*", "*文") and not globs_overlap("中", "文")


def test_only_star_and_question_mark_are_wildcards() -> None:
    for char in "!#$%&'() ":
        assert not glob_match(f"a{char}b", "axyzb") and glob_match(f"a{char}b", f"a{char}b")


def test_glob_overlap_and_cover_with_case() -> None:
    assert globs_overlap("A*", "a*", ignore_case=True) and not globs_overlap("A*", "a*")
    assert glob_covers("A*", Glob("ab*"), ignore_case=True) is True
    assert glob_covers("A*", Glob("ab*")) is False
    assert glob_covers("ab*", Glob("a*")) is None
    assert glob_covers("a*", "abc") is True and glob_covers("b*", "abc") is False
    assert glob_match("a*", "A", ignore_case=True) and not glob_match("a*", "A")
    assert glob_match("a*", "a\nb")
    assert has_wildcard("a?") and has_wildcard("*") and not has_wildcard("a")


@st.composite
def pattern_of(draw: st.DrawFn, witness: str) -> str:
    """A wildcard pattern that `witness` matches: each character kept, made `?`, or swallowed by a `*`."""
    out, i = "", 0
    while i <= len(witness):
        if draw(st.booleans()):
            taken = draw(st.integers(0, len(witness) - i))
            out, i = out + "*", i + taken
        if i < len(witness):
            out += draw(st.sampled_from([witness[i], "?"]))
        i += 1
    return out


@st.composite
def patterns_with_a_witness(draw: st.DrawFn) -> tuple[str, str, str]:
    witness = draw(st.text("ab", max_size=5))
    return witness, draw(pattern_of(witness)), draw(pattern_of(witness))


@given(patterns_with_a_witness())
def test_two_patterns_one_string_matches_overlap(case: tuple[str, str, str]) -> None:
    witness, a, b = case
    assert glob_match(a, witness) and glob_match(b, witness)
    assert globs_overlap(a, b) and globs_overlap(b, a)


# ---------------------------------------------------------------- statements and evaluation


def doc(*statements: dict[str, Any]) -> PolicyDocument:
    return PolicyDocument.parse({"Statement": list(statements)})


def allow(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "ecr:PutImage", "Resource": REPO, **extra}


def deny(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": "ecr:PutImage", "Resource": REPO, **extra}


def decide(*statements: dict[str, Any], principal: Principal | None = None, context: Any = None,
           resource: str = REPO) -> Decision:
    return evaluate([doc(*statements)], Request("ecr:PutImage", resource, principal, context or {}))


NOT_APPLYING = [
    allow(Action="ecr:BatchGetImage"),
    allow(Resource="arn:aws:ecr:us-east-1:111111111111:repository/other"),
    allow(Condition={"StringEquals": {"k": "no"}}),
    {"Effect": "Allow", "NotAction": "ecr:PutImage", "Resource": REPO},
    {"Effect": "Allow", "Action": "ecr:PutImage", "NotResource": REPO},
    {"Effect": "Allow", "Resource": REPO},
    allow(Effect="Maybe"),
    deny(Action="ecr:BatchGetImage"),
    deny(Condition={"StringEquals": {"k": "no"}}),
    {"Action": "ecr:PutImage", "Resource": REPO},           # no Effect: grants nothing
]


@pytest.mark.parametrize("first", NOT_APPLYING)
def test_a_statement_that_does_not_apply_never_hides_the_next_one(first: dict[str, Any]) -> None:
    context = {"k": ["yes"]}
    assert decide(first, context=context).effect is Effect.NONE
    assert decide(first, allow(), context=context).effect is Effect.ALLOW
    assert decide(first, deny(), allow(), context=context).effect is Effect.DENY


def test_deny_wins_in_any_order_and_a_conditional_deny_makes_an_allow_conditional() -> None:
    assert decide(allow(), deny()).effect is Effect.DENY
    assert decide(deny(), allow()).effect is Effect.DENY
    conditional = decide(allow(), deny(Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}))
    assert conditional == Decision(Effect.CONDITIONAL, ("unless aws:MultiFactorAuthPresent Bool false",))
    assert conditional.granted
    assert decide(deny(Condition={"Bool": {"x": "false"}})).effect is Effect.NONE
    assert not decide(deny()).granted


def test_conditional_allows_are_alternatives() -> None:
    one = decide(allow(Condition={"StringEquals": {"a": "1"}}))
    assert one == Decision(Effect.CONDITIONAL, ("a StringEquals 1",))
    two = decide(allow(Condition={"StringEquals": {"b": "2"}}), allow(Condition={"StringEquals": {"a": "1", "c": "3"}}))
    assert two == Decision(Effect.CONDITIONAL, ("(a StringEquals 1 and c StringEquals 3) or (b StringEquals 2)",))
    same = decide(allow(Condition={"StringEquals": {"a": "1"}}), allow(Condition={"StringEquals": {"a": "1"}}))
    assert same == one
    assert decide(allow(Condition={"StringEquals": {"a": "1"}}), allow()) == Decision(Effect.ALLOW)
    with_deny = decide(allow(Condition={"StringEquals": {"a": "1"}}), deny(Condition={"StringEquals": {"d": "4"}}))
    assert with_deny == Decision(Effect.CONDITIONAL, ("a StringEquals 1", "unless d StringEquals 4"))


POLICY_VARIABLES = [
    ("arn:aws:ecr:us-east-1:111111111111:repository/${aws:username}/*", "arn:aws:ecr:us-east-1:111111111111:"
     "repository/alice/app", Effect.CONDITIONAL),
    ("arn:aws:ecr:us-east-1:111111111111:repository/${aws:username}/*", "arn:aws:ecr:us-east-1:222222222222:"
     "repository/alice/app", Effect.NONE),
    ("arn:aws:ecr:us-east-1:111111111111:repository/dc43/${*}", "arn:aws:ecr:us-east-1:111111111111:repository/dc43/"
     "app", Effect.ALLOW),
    ("arn:aws:ecr:us-east-1:111111111111:repository/dc43/ap${?}", "arn:aws:ecr:us-east-1:111111111111:repository/"
     "dc43/app", Effect.ALLOW),
    ("arn:aws:ecr:us-east-1:111111111111:repository/dc43/${$}", "arn:aws:ecr:us-east-1:111111111111:repository/"
     "dc43/$", Effect.ALLOW),
    ("arn:aws:ecr:us-east-1:111111111111:repository/${aws:username}", "arn:aws:ecr:us-east-1:111111111111:"
     "repository/alice", Effect.CONDITIONAL),
]


@pytest.mark.parametrize(("pattern", "resource", "effect"), POLICY_VARIABLES)
def test_policy_variables_in_resources(pattern: str, resource: str, effect: Effect) -> None:
    decision = decide(allow(Resource=pattern), resource=resource)
    assert decision.effect is effect
    if effect is Effect.CONDITIONAL:
        assert decision.conditions == (f"resource matches {pattern}",)


def test_not_resource_with_a_policy_variable_is_unknown() -> None:
    statement = {"Effect": "Allow", "Action": "ecr:PutImage", "NotResource": "arn:aws:ecr:*:*:repository/${x}/*"}
    assert decide(statement, resource=REPO).effect is Effect.CONDITIONAL
    assert decide(statement, resource="arn:aws:s3:::b").effect is Effect.ALLOW


ACCOUNT_ROLE = Principal("AWS", ROLE, "111111111111")
PRINCIPALS = [
    # (statement principal, requester, applies?)
    ("*", ACCOUNT_ROLE, True),
    ({"AWS": "*"}, ACCOUNT_ROLE, True),
    ({"AWS": ROLE}, ACCOUNT_ROLE, True),
    ({"AWS": "111111111111"}, ACCOUNT_ROLE, True),
    ({"AWS": "arn:aws:iam::111111111111:root"}, ACCOUNT_ROLE, True),
    ({"AWS": "arn:aws:iam::222222222222:root"}, ACCOUNT_ROLE, False),
    ({"AWS": "222222222222"}, ACCOUNT_ROLE, False),
    ({"AWS": "arn:aws:iam::111111111111:role/other"}, ACCOUNT_ROLE, False),
    ({"AWS": "arn:aws:iam::111111111111:root"}, Principal("AWS", "*", "111111111111"), False),
    ({"AWS": ["x", ROLE]}, ACCOUNT_ROLE, True),
    ({"Service": "ecs.amazonaws.com"}, Principal("Service", "ecs.amazonaws.com"), True),
    ({"Service": "ecs.amazonaws.com"}, Principal("Service", "lambda.amazonaws.com"), False),
    ({"AWS": "ecs.amazonaws.com"}, Principal("Service", "ecs.amazonaws.com"), False),
    ({"Service": ROLE}, ACCOUNT_ROLE, False),
    ({"AWS": "#ci"}, ACCOUNT_ROLE, False),
    (["junk"], ACCOUNT_ROLE, False),
]


@pytest.mark.parametrize(("spec", "principal", "applies"), PRINCIPALS)
def test_principals(spec: Any, principal: Principal, applies: bool) -> None:
    if isinstance(spec, dict):
        spec = {fresh(kind): values for kind, values in spec.items()}
    assert decide(allow(Principal=spec), principal=principal).effect is (Effect.ALLOW if applies else Effect.NONE)
    statement = {k: v for k, v in allow().items()} | {"NotPrincipal": spec}
    assert decide(statement, principal=principal).effect is (Effect.NONE if applies else Effect.ALLOW)


def test_documents_and_principals_parsed_from_json_are_compared_by_value() -> None:
    text = '{"Statement": [{"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "*", "Principal": "*"},' \
           ' {"Effect": "Deny", "Action": "ecr:PutImage", "Resource": "*", "Principal": "*"}]}'
    principal = Principal(fresh("AWS"), ROLE, "111111111111")
    assert evaluate([PolicyDocument.parse(text)], Request("ecr:PutImage", REPO, principal)).effect is Effect.DENY
    assert decide(allow(Principal={"AWS": "111111111111"}), principal=principal).effect is Effect.ALLOW


def test_identity_and_resource_statements_apply_to_the_right_requests() -> None:
    assert decide(allow(Principal="*")).effect is Effect.NONE             # a resource policy needs a principal
    assert decide(allow(NotPrincipal={"AWS": "x"})).effect is Effect.NONE
    assert decide(allow()).effect is Effect.ALLOW                          # an identity policy, no principal
    assert decide(allow(), principal=ACCOUNT_ROLE).effect is Effect.ALLOW


def test_trust_policies_name_no_resource() -> None:
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": ROLE}}
    request = Request("sts:AssumeRole", "anything", ACCOUNT_ROLE)
    assert evaluate([doc(statement)], request).effect is Effect.ALLOW


def test_documents_parse_from_json_objects_and_single_statements() -> None:
    assert PolicyDocument.parse('{"Statement": {"Effect": "Allow", "Action": "a", "Resource": "*"}}').statements[0] \
        .actions == ("a",)
    assert PolicyDocument.parse("[1]").statements == ()
    assert PolicyDocument.parse({"Statement": ["junk", {"Sid": "S"}]}).statements[0].sid == "S"
    assert PolicyDocument.parse({}).statements == ()
    statement = PolicyDocument.parse({"Statement": [{"Effect": "Allow", "Action": ["a", 1], "Condition": None}]}) \
        .statements[0]
    assert (statement.actions, statement.resources, statement.condition) == (("a", "1"), None, {})
    several = evaluate([doc(allow(Action="s3:*")), doc(allow())], Request("ecr:PutImage", REPO))
    assert several.effect is Effect.ALLOW

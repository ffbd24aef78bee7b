"""github-oidc-trust-scoped, decision by decision: every subject form, audience, operator and issuer.

Tables of (input, verdict) against the pure checkers; rows come in pairs on both sides of one
comparison (an audience sorting before and after `sts.amazonaws.com`, an owner in and out of the
list), and every early exit (a Deny, a non-GitHub statement) is followed by a statement that must
still be judged.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rules.common import ROLE, UNKNOWN
from rules.github_trust import (
    POLICIES,
    check_github_trust,
    is_github_issuer,
    issuer_host,
    subject_problems,
    trust_problems,
)

from .decisions import ISSUER, PROVIDER, defaults, doc, dumps, messages, resource, skipped, verdict

AUD = f"{ISSUER}:aud"
SUB = f"{ISSUER}:sub"
GOOD_SUB = "repo:acme/app:ref:refs/heads/main"


def github(condition: dict[str, Any], principal: Any = None, effect: str = "Allow") -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal or {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}


def pinned(sub: Any = GOOD_SUB, operator: str = "StringEquals", aud: Any = "sts.amazonaws.com") -> dict[str, Any]:
    condition: dict[str, Any] = {"StringEquals": {AUD: aud}}
    condition.setdefault(operator, {})[SUB] = sub
    return github(condition)


# --- one `sub` value ----------------------------------------------------------------------------------

SUBJECTS = [
    # (value, StringLike?, config, phrase of the problem or None)
    (GOOD_SUB, False, {}, None),
    (GOOD_SUB, True, {}, None),
    (5, False, {}, "not a string"),
    ("", False, {}, "empty subject"),
    ("*", False, {}, "bare wildcard"),
    ("*", True, {}, "bare wildcard"),
    ("*?*", True, {}, "bare wildcard"),
    ("**", False, {}, "does not start with 'repo:"),          # StringEquals: '**' is literal, not bare
    ("!", False, {}, "does not start with 'repo:"),           # sorts before '*'
    ("+", False, {}, "does not start with 'repo:"),           # sorts after '*'
    ("repo*", True, {}, "does not start with 'repo:"),        # not bare: a literal part remains
    ("rep:acme/app:ref:refs/heads/main", False, {}, "does not start with 'repo:"),
    ("repo:acme:ref:refs/heads/main", False, {}, "is not '<owner>/<repo>'"),
    ("repo:/app:ref:refs/heads/main", False, {}, "the owner '' is not spelled out"),
    ("repo:ac*e/app:ref:refs/heads/main", False, {}, "the owner 'ac*e' is not spelled out"),
    ("repo:ac?e/app:ref:refs/heads/main", True, {}, "the owner 'ac?e' is not spelled out"),
    ("repo:acme@12/app:ref:refs/heads/main", False, {}, None),
    ("repo:acme@1x/app:ref:refs/heads/main", False, {}, "the owner 'acme@1x'"),
    ("repo:acme/app@34:ref:refs/heads/main", False, {}, None),
    ("repo:acme/app@x4:ref:refs/heads/main", False, {}, "the repository 'app@x4' is not spelled out"),
    ("repo:acme/:ref:refs/heads/main", False, {}, "the repository '' is not spelled out"),
    ("repo:acme/ap*:ref:refs/heads/main", True, {}, "the repository 'ap*' is not spelled out"),
    ("repo:acme/ap?:ref:refs/heads/main", False, {}, "the repository 'ap?' is not spelled out"),
    ("repo:acme/*@5:ref:refs/heads/main", False, {"allowOrgWide": True}, "the repository '*@5'"),
    # allowedOrganizations: case-insensitive on both sides; empty = any owner
    ("repo:ACME/app:ref:refs/heads/main", False, {"allowedOrganizations": ["acme"]}, None),
    ("repo:acme/app:ref:refs/heads/main", False, {"allowedOrganizations": ["Acme"]}, None),
    ("repo:acme@7/app:ref:refs/heads/main", False, {"allowedOrganizations": ["acme"]}, None),
    ("repo:evil/app:ref:refs/heads/main", False, {"allowedOrganizations": ["acme", "beta"]},
     "the owner 'evil' is not one of the allowed organizations (acme, beta;"),
    ("repo:evil/app:ref:refs/heads/main", False, {"allowedOrganizations": []}, None),
    # org-wide
    ("repo:acme/*:ref:refs/heads/main", False, {}, "every repository of the owner"),
    ("repo:acme/*:ref:refs/heads/main", False, {"allowOrgWide": True}, None),
    ("repo:acme/*", True, {"allowOrgWide": True}, "matches any ref"),
    ("repo:acme/*", True, {"allowOrgWide": True, "allowAnyRef": True}, None),
    ("repo:acme/*", False, {"allowOrgWide": True}, None),      # StringEquals: literal, no context
    ("repo:acme/app", True, {}, None),                         # no context, no wildcard: matches nothing more
    # the context: any ref
    ("repo:acme/app:*", True, {}, "matches any ref"),
    ("repo:acme/app:*", True, {"allowAnyRef": True}, None),
    ("repo:acme/app:*", False, {}, None),
    ("repo:acme/app:ref:*", True, {}, "matches any ref"),
    ("repo:acme/app:ref:refs/*", True, {}, "matches any ref"),
    ("repo:acme/app:ref:refs/pull/*", True, {}, "matches any ref"),
    ("repo:acme/app:Environment:prod*", True, {}, "matches any ref"),
    ("repo:acme/app:e?vironment:prod", True, {}, "matches any ref"),
    ("repo:acme/app:environment:prod-*", True, {}, None),
    ("repo:acme/app:job_workflow_ref:acme/wf@*", True, {}, None),
    ("repo:acme/app:ref:refs/tags/v*", True, {}, "the ref pattern 'refs/tags/v*' is not one the pack config names"),
    ("repo:acme/app:ref:refs/tags/v*", True, {"allowedRefPatterns": ["refs/tags/v*"]}, None),
    ("repo:acme/app:ref:refs/tags/v*", False, {}, None),
    ("repo:acme/app:ref:refs/tags/v*", True, {"allowAnyRef": True}, None),
    ("repo:acme/app:ref:refs/heads/release/*", True, {"allowedRefPatterns": ["refs/heads/release/*"]}, None),
    ("repo:acme/app:ref:refs/heads/release/**", True, {"allowedRefPatterns": ["refs/heads/release/*"]}, None),
    ("repo:acme/app:ref:refs/heads/release/v1-*", True, {"allowedRefPatterns": ["refs/heads/release/*"]}, None),
    ("repo:acme/app:ref:refs/heads/release/*", True, {"allowedRefPatterns": ["refs/heads/release/v1-*"]},
     "not one the pack config names (refs/heads/release/v1-*)"),
    ("repo:acme/app:ref:refs/heads/release-?", True, {"allowedRefPatterns": ["refs/heads/release-?"]}, None),
    ("repo:acme/app:ref:refs/heads/release-*", True, {"allowedRefPatterns": ["refs/heads/release-?"]},
     "'refs/heads/release-*' is not one the pack config names"),
    ("repo:acme/app:ref:refs/heads/*/*", True, {"allowedRefPatterns": ["refs/heads/release/*"]},
     "'refs/heads/*/*' is not one the pack config names"),
    ("repo:acme/app:ref:refs/heads/feature/*", True, {}, "allowedRefPatterns"),
    ("repo:acme/app:ref:refs/heads/m*", True, {}, "'refs/heads/m*' is not one the pack config names"),
    ("repo:acme/app:ref:refs/heads/*main", True, {}, "'refs/heads/*main' is not one the pack config names"),
    ("repo:acme/app:ref:refs/tags/*", True, {}, "any of the repository's tags"),
    ("repo:acme/app:ref:refs/tags/*", True, {"allowAnyTag": True}, None),
    ("repo:acme/app:ref:refs/tags/*", True, {"allowAnyBranch": True}, "allowAnyTag is false"),
    # any branch / any environment
    ("repo:acme/app:ref:refs/heads/*", True, {}, "any of the repository's branches"),
    ("repo:acme/app:ref:refs/heads/?*", True, {}, "allowAnyBranch is false"),
    ("repo:acme/app:ref:refs/heads/*", True, {"allowAnyBranch": True}, None),
    ("repo:acme/app:ref:refs/heads/*", True, {"allowAnyEnvironment": True}, "any of the repository's branches"),
    ("repo:acme/app:ref:refs/heads/*", True, {"allowAnyRef": True}, None),
    ("repo:acme/app:ref:refs/heads/*", False, {}, None),
    ("repo:acme/app:ref:refs/heads/", True, {}, None),
    ("repo:acme/app:environment:*", True, {}, "any of the repository's environments"),
    ("repo:acme/app:environment:*", True, {"allowAnyEnvironment": True}, None),
    ("repo:acme/app:environment:*", True, {"allowAnyBranch": True}, "allowAnyEnvironment is false"),
    ("repo:acme/app:environment:*", True, {"allowAnyRef": True}, None),
    ("repo:acme/app:environment:*", False, {}, None),
    # pull requests
    ("repo:acme/app:pull_request", False, {}, "trusts pull_request workflows"),
    ("repo:acme/app:pull_request", True, {}, "trusts pull_request workflows"),
    ("repo:acme/app:pull_request", False, {"allowPullRequests": True}, None),
    ("repo:acme/app:pull_request", False, {"allowAnyRef": True}, "allowPullRequests is false"),
    ("repo:acme/app:pull_requests", False, {}, None),
]


@pytest.mark.parametrize(("value", "like", "config", "expected"), SUBJECTS)
def test_subject_verdicts(value: Any, like: bool, config: dict[str, Any], expected: str | None) -> None:
    verdict(subject_problems(value, like, config), expected)


def test_a_subject_has_exactly_the_problems_it_has() -> None:
    """One problem per thing wrong, so a message never repeats or hides one."""
    assert len(subject_problems("repo:evil/ap*:*", True, {"allowedOrganizations": ["acme"]})) == 3
    assert len(subject_problems("repo:acme/app:ref:refs/heads/*", True, {})) == 1
    assert len(subject_problems("repo:acme/app:*", True, {})) == 1


# --- issuers ------------------------------------------------------------------------------------------

ISSUERS = [
    (ISSUER, set(), True),
    (f"https://{ISSUER}/", set(), True),
    (ISSUER.upper(), set(), True),
    (f"{ISSUER}/acme", set(), True),                     # GitHub Enterprise Cloud
    (f"{ISSUER}.evil.com", set(), False),                # look-alike host
    (f"{ISSUER}evil", set(), False),
    (f"evil.com/{ISSUER}", set(), False),
    ("ghes.example.com/_services/token", set(), False),  # no suffix rule
    ("ghes.example.com/_services/token", {"ghes.example.com/_services/token"}, True),
    ("other.example.com/_services/token", {"ghes.example.com/_services/token"}, False),
]


@pytest.mark.parametrize(("issuer", "extra", "expected"), ISSUERS)
def test_github_issuer(issuer: str, extra: set[str], expected: bool) -> None:
    assert is_github_issuer(issuer, frozenset(extra)) is expected


def test_issuer_host_normalises_scheme_case_and_trailing_slash() -> None:
    assert issuer_host("https://GHES.example.com/_services/token/") == "ghes.example.com/_services/token"
    assert issuer_host("ghes.example.com/https://x") == "ghes.example.com/https://x"


# --- whole trust policies -----------------------------------------------------------------------------

AWS_ROLE = {"AWS": "arn:aws:iam::210987654321:role/ci"}

TRUSTS = [
    # (statements, config, phrase or None)
    ([pinned()], {}, None),
    ([pinned(["repo:acme/app:ref:refs/tags/v*"], "StringLike")], {"allowedRefPatterns": ["refs/tags/v*"]}, None),
    # audience: only StringEquals pins it, every value must be exactly sts.amazonaws.com
    ([github({"StringEquals": {SUB: GOOD_SUB}})], {}, "does not pin the audience: add StringEquals"),
    ([github({"StringLike": {AUD: "sts.amazonaws.com"}, "StringEquals": {SUB: GOOD_SUB}})], {},
     "(StringLike does not count)"),
    ([github({"ForAnyValue:StringEquals": {AUD: "sts.amazonaws.com"}, "StringEquals": {SUB: GOOD_SUB}})], {},
     "(ForAnyValue:StringEquals does not count)"),
    ([pinned(aud="sts.amazonaws.com.cn")], {}, "accepts the audience 'sts.amazonaws.com.cn'"),
    ([pinned(aud="sts.amazonaws.co")], {}, "accepts the audience 'sts.amazonaws.co'"),
    ([pinned(aud="STS.amazonaws.com")], {}, "accepts the audience 'STS.amazonaws.com'"),
    ([pinned(aud=["sts.amazonaws.com", "api://x"])], {}, "accepts the audience 'api://x'"),
    ([pinned(aud=[])], {}, "accepts the audience of any value"),
    ([pinned(aud=["sts.amazonaws.com", "sts.amazonaws.com"])], {}, None),
    # subject: only plain StringEquals / StringLike constrain it
    ([github({"StringEquals": {AUD: "sts.amazonaws.com"}})], {}, "does not constrain the subject"),
    ([pinned(GOOD_SUB, "StringNotEquals")], {}, "(StringNotEquals does not count)"),
    ([pinned(GOOD_SUB, "StringLikeIfExists")], {}, "(StringLikeIfExists does not count)"),
    ([pinned(GOOD_SUB, "ForAllValues:StringLike")], {}, "(ForAllValues:StringLike does not count)"),
    ([pinned(GOOD_SUB, "ForAnyValue:StringEquals")], {}, "does not constrain the subject"),
    ([pinned([])], {}, "has an empty"),
    ([pinned(["repo:acme/app:*"], "StringLike")], {}, "trusts the subject 'repo:acme/app:*' (StringLike): it matches"),
    ([pinned(["repo:acme/app:*"], "StringEquals")], {}, None),
    # a GitHub statement with a condition on something else is judged on its GitHub claims only
    ([github({"StringEquals": {AUD: "sts.amazonaws.com", SUB: GOOD_SUB},
              "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "Bool": {"nokey": "true"}})], {}, None),
    # a statement trusts GitHub through its claims even without a Federated principal
    ([github({"StringEquals": {SUB: GOOD_SUB}}, AWS_ROLE)], {}, "does not pin the audience"),
    # a statement that does not involve GitHub is not judged here, even with other conditions
    ([{"Effect": "Allow", "Principal": AWS_ROLE, "Action": "sts:AssumeRole",
       "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "Null": {"nokey": "false"}}}], {}, None),
    # early exits never end the judging: a Deny, then a bad Allow; a non-GitHub Allow, then a bad one
    ([github({"StringEquals": {SUB: GOOD_SUB}}, effect="Deny"), pinned(aud="sts.amazonaws.com.cn")], {},
     "statement #2 accepts the audience"),
    ([{"Effect": "Allow", "Principal": AWS_ROLE, "Action": "sts:AssumeRole"}, pinned("repo:acme/*:*", "StringLike")],
     {}, "statement #2 trusts the subject"),
    ([pinned(), github({"StringEquals": {AUD: "sts.amazonaws.com"}})], {}, "statement #2 does not constrain"),
    # Federated principals: GitHub, configured hosts or listed values only
    ([pinned() | {"Principal": {"Federated": "accounts.google.com"}}], {}, "the federated principal "
                                                                             "'accounts.google.com'"),
    ([{"Effect": "Allow", "Principal": {"Federated": "accounts.google.com"},
       "Action": "sts:AssumeRoleWithWebIdentity"}],
     {"allowedFederated": ["accounts.google.com"]}, None),
    ([{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/accounts.google.com/"},
       "Action": "sts:AssumeRoleWithWebIdentity"}], {"allowedFederated": ["accounts.google.com"]}, None),
    ([{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/accounts.google.com"},
       "Action": "sts:AssumeRoleWithWebIdentity"}], {"allowedFederated": ["cognito-identity.amazonaws.com"]},
     "not GitHub's OIDC issuer"),
    ([pinned() | {"Principal": {"Federated": [PROVIDER, "accounts.google.com"]}}], {},
     "the federated principal 'accounts.google.com'"),
    ([{"Effect": "Deny", "Principal": {"Federated": "accounts.google.com"}, "Action": "sts:AssumeRoleWithWebIdentity"},
      {"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRole"}],
     {}, "statement #2 trusts the federated principal 'cognito-identity.amazonaws.com'"),
    # GitHub Enterprise Server: its exact issuer host is judged as GitHub (and so must pin aud/sub)
    ([github({"StringEquals": {"ghes.example.com/_services/token:sub": GOOD_SUB}},
             {"Federated": "arn:aws:iam::1:oidc-provider/ghes.example.com/_services/token"})],
     {"issuers": ["https://GHES.example.com/_services/token/"]}, "does not pin the audience"),
    ([github({"StringEquals": {"ghes.example.com/_services/token:sub": GOOD_SUB,
                               "ghes.example.com/_services/token:aud": "sts.amazonaws.com"}},
             {"Federated": "arn:aws:iam::1:oidc-provider/ghes.example.com/_services/token"})],
     {"issuers": ["ghes.example.com/_services/token"]}, None),
    ([github({"StringEquals": {"ghes.example.com/_services/token:sub": GOOD_SUB,
                               "ghes.example.com/_services/token:aud": "sts.amazonaws.com"}},
             {"Federated": "arn:aws:iam::1:oidc-provider/ghes.example.com/_services/token"})],
     {}, "not GitHub's OIDC issuer"),
]


@pytest.mark.parametrize(("statements", "config", "expected"), TRUSTS)
def test_trust_policy_verdicts(statements: list[dict[str, Any]], config: dict[str, Any], expected: str | None) -> None:
    verdict(trust_problems(doc(*statements), config), expected)


def test_a_wrong_audience_reports_only_the_wrong_values() -> None:
    problems = trust_problems(doc(pinned(aud=["sts.amazonaws.com", "a", "b"])), {})
    assert problems == [f"statement #1 accepts the audience 'a', 'b' ('{AUD}'); the only audience for AWS is "
                        "'sts.amazonaws.com'"]


def test_problems_name_the_statement_by_sid() -> None:
    problems = trust_problems(doc(pinned(aud="x") | {"Sid": "GitHub"}), {})
    assert problems and problems[0].startswith("statement 'GitHub' accepts")


# --- the resource policy ------------------------------------------------------------------------------


def role(trust: Any) -> Any:
    return resource(ROLE, "push", name="github-push-payments", assumeRolePolicy=trust)


@pytest.mark.parametrize("form", [lambda d: d, dumps])
def test_check_reads_objects_and_json_alike(form: Any) -> None:
    found = messages(check_github_trust(role(form(doc(pinned(aud="x")))), {}, skipped()))
    assert found == [f"The trust policy (assumeRolePolicy) of IAM role 'github-push-payments' is too broad: "
                     f"statement #1 accepts the audience 'x' ('{AUD}'); the only audience for AWS is "
                     "'sts.amazonaws.com'."]
    assert check_github_trust(role(form(doc(pinned()))), {}, skipped()) == []


def test_operators_read_from_json_text_are_compared_by_value() -> None:
    """Operators parsed from JSON are new string objects, not the interned literals of a test."""
    text = dumps(doc(pinned("repo:acme/app:*", "StringLike")))
    verdict(messages(check_github_trust(role(text), {}, skipped())), "matches any ref")


def test_a_provider_arn_is_read_up_to_its_first_oidc_provider_marker() -> None:
    federated = f"arn:aws:iam::1:oidc-provider/{ISSUER}:oidc-provider/evil.example.com"
    verdict(trust_problems(doc(pinned() | {"Principal": {"Federated": federated}}), {}), "the federated principal")


def test_a_malformed_trust_policy_is_reported_and_its_good_statements_still_judged() -> None:
    statements = [{"Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRoleWithWebIdentity"},
                  pinned(aud="x")]
    found = messages(check_github_trust(role(doc(*statements)), {}, skipped()))
    assert len(found) == 2
    assert "is malformed" in found[0] and "statement #1 has Effect None" in found[0]
    assert "statement #2 accepts the audience 'x'" in found[1]
    assert "is not valid JSON" in messages(check_github_trust(role("{"), {}, skipped()))[0]


def test_absent_and_unknown_trust_policies() -> None:
    assert check_github_trust(role(None), {}, skipped()) == []
    assert check_github_trust(role(""), {}, skipped()) == []
    notes = skipped()
    assert check_github_trust(role(UNKNOWN), {}, notes) == []
    assert notes.paths == ["push.assumeRolePolicy"]


# --- the pack's defaults are the safe ones ------------------------------------------------------------

OPEN_BY_DEFAULT = [
    ("repo:acme/*:ref:refs/heads/main", "StringEquals", "allowOrgWide is false"),
    ("repo:acme/app:pull_request", "StringEquals", "allowPullRequests is false"),
    ("repo:acme/app:*", "StringLike", "allowAnyRef is false"),
    ("repo:acme/app:ref:refs/heads/*", "StringLike", "allowAnyBranch is false"),
    ("repo:acme/app:environment:*", "StringLike", "allowAnyEnvironment is false"),
]


@pytest.mark.parametrize(("subject", "operator", "expected"), OPEN_BY_DEFAULT)
def test_defaults_refuse_every_open_subject(subject: str, operator: str, expected: str) -> None:
    config = defaults(POLICIES)
    verdict(messages(check_github_trust(role(doc(pinned(subject, operator))), config, skipped())), expected)
    allowed = defaults(POLICIES, allowOrgWide=True, allowPullRequests=True, allowAnyRef=True)
    assert check_github_trust(role(doc(pinned(subject, operator))), allowed, skipped()) == []


def test_defaults_trust_no_other_issuer_and_any_owner() -> None:
    config = defaults(POLICIES)
    other = doc(github({"StringEquals": {AUD: "sts.amazonaws.com", SUB: GOOD_SUB}},
                       {"Federated": "arn:aws:iam::1:oidc-provider/ghes.example.com/_services/token"}))
    verdict(messages(check_github_trust(role(other), config, skipped())), "not GitHub's OIDC issuer")
    assert check_github_trust(role(doc(pinned("repo:anyone/app:ref:refs/heads/main"))), config, skipped()) == []


# --- invariants ---------------------------------------------------------------------------------------

FLAGS = ("allowOrgWide", "allowPullRequests", "allowAnyRef", "allowAnyBranch", "allowAnyTag", "allowAnyEnvironment")
subjects = st.builds(
    lambda owner, repo, context: f"repo:{owner}/{repo}{context}",
    st.sampled_from(["acme", "ACME", "evil", "ac*e", "acme@12", ""]),
    st.sampled_from(["app", "*", "ap?", "app@34", ""]),
    st.sampled_from(["", ":*", ":ref:*", ":ref:refs/heads/*", ":ref:refs/heads/main", ":ref:refs/tags/v*",
                     ":environment:*", ":environment:prod", ":pull_request", ":job_workflow_ref:x@*"]))


@given(subjects, st.booleans(), st.sets(st.sampled_from(FLAGS)), st.sampled_from(FLAGS))
def test_allowing_more_never_adds_a_problem(subject: str, like: bool, flags: set[str], extra: str) -> None:
    config: dict[str, Any] = {"allowedOrganizations": ["acme"], **{f: True for f in flags}}
    before = set(subject_problems(subject, like, config))
    after = set(subject_problems(subject, like, {**config, extra: True}))
    assert after <= before


@given(subjects, st.sets(st.sampled_from(FLAGS)))
def test_a_pattern_is_never_judged_more_leniently_than_the_same_text_taken_literally(subject: str,
                                                                                     flags: set[str]) -> None:
    config = {f: True for f in flags}
    assert len(subject_problems(subject, True, config)) >= len(subject_problems(subject, False, config))

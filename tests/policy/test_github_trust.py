"""github-oidc-trust-scoped: the tricky trust policies, one changed field at a time."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Guard, assert_passes, assert_violates
from .fixtures import ACCOUNT, ISSUER, github_statement, role, trust_document

POLICY = "github-oidc-trust-scoped"
AUD = {f"{ISSUER}:aud": "sts.amazonaws.com"}
SUB = f"{ISSUER}:sub"
PERMISSIVE = {"allowOrgWide": True, "allowPullRequests": True, "allowAnyRef": True}


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def subjects(operator: str, *values: str) -> dict[str, Any]:
    """One GitHub statement: aud pinned, sub under `operator`."""
    return github_statement({"StringEquals": dict(AUD), operator: {SUB: list(values)}}
                            if operator != "StringEquals" else {"StringEquals": {**AUD, SUB: list(values)}})


def judge(guard: Guard, document: dict[str, Any], **config: Any) -> list:
    guard.configure(**{POLICY: config})
    return guard.analyze(role(trust=document))


# --- what the program generates passes -------------------------------------------------------------


def test_exact_and_pattern_subjects_in_separate_statements_pass(guard: Guard) -> None:
    assert_passes(guard.analyze(role()), POLICY)


@pytest.mark.parametrize("subject", [
    "repo:acme/payments-api:ref:refs/heads/main",
    "repo:acme/payments-api:environment:release",
    "repo:acme/payments-api:ref:refs/tags/v1.2.3",
    "repo:ACME/payments-api:ref:refs/heads/main",
    "repo:acme@123456/payments-api@987654:ref:refs/heads/main",
])
def test_named_repository_subjects_pass(guard: Guard, subject: str) -> None:
    assert_passes(judge(guard, trust(subjects("StringEquals", subject)), allowedOrganizations=["acme"]), POLICY)


@pytest.mark.parametrize("pattern", [
    "repo:acme/payments-worker:ref:refs/tags/v*",
    "repo:acme/idp:ref:refs/heads/release/*",
    "repo:acme/idp:environment:prod-*",
])
def test_patterns_after_a_named_context_pass(guard: Guard, pattern: str) -> None:
    assert_passes(judge(guard, trust(subjects("StringLike", pattern))), POLICY)


def test_statement_order_does_not_matter(guard: Guard) -> None:
    document = trust_document()
    document["Statement"].reverse()
    assert_passes(judge(guard, document), POLICY)
    bad = trust(subjects("StringLike", "repo:acme/*"), subjects("StringEquals", "repo:acme/a:ref:refs/heads/main"))
    good_first = trust(*reversed(bad["Statement"]))
    for document in (bad, good_first):
        assert_violates(judge(guard, document), POLICY, "repo:acme/*")


# --- audience --------------------------------------------------------------------------------------


def test_a_missing_audience_fails(guard: Guard) -> None:
    statement = github_statement({"StringEquals": {SUB: "repo:acme/app:ref:refs/heads/main"}})
    assert_violates(judge(guard, trust(statement)), POLICY, "does not pin the audience", "sts.amazonaws.com")


def test_a_wrong_audience_fails(guard: Guard) -> None:
    statement = github_statement({"StringEquals": {f"{ISSUER}:aud": ["sts.amazonaws.com", "evil"],
                                                   SUB: "repo:acme/app:ref:refs/heads/main"}})
    assert_violates(judge(guard, trust(statement)), POLICY, "'evil'")


@pytest.mark.parametrize("operator", ["StringLike", "ForAllValues:StringEquals", "StringEqualsIfExists"])
def test_an_audience_not_pinned_with_string_equals_fails(guard: Guard, operator: str) -> None:
    statement = github_statement({operator: {f"{ISSUER}:aud": "sts.amazonaws.com"},
                                  "StringEquals": {SUB: "repo:acme/app:ref:refs/heads/main"}})
    assert_violates(judge(guard, trust(statement)), POLICY, "does not pin the audience", operator)


# --- subject ---------------------------------------------------------------------------------------


def test_no_subject_at_all_fails(guard: Guard) -> None:
    assert_violates(judge(guard, trust(github_statement({"StringEquals": dict(AUD)}))), POLICY,
                    "does not constrain the subject")


def test_no_condition_at_all_fails(guard: Guard) -> None:
    statement = github_statement({})
    del statement["Condition"]
    violations = judge(guard, trust(statement))
    assert_violates(violations, POLICY, "does not constrain the subject")
    assert_violates(violations, POLICY, "does not pin the audience")


@pytest.mark.parametrize("operator", [
    "StringNotEquals", "StringNotLike", "StringLikeIfExists", "StringEqualsIfExists",
    "ForAllValues:StringLike", "ForAnyValue:StringLike", "ForAnyValue:StringEquals",
])
def test_operators_that_do_not_constrain_the_subject_fail(guard: Guard, operator: str) -> None:
    statement = github_statement({"StringEquals": dict(AUD), operator: {SUB: "repo:acme/app:ref:refs/heads/main"}})
    assert_violates(judge(guard, trust(statement)), POLICY, "does not constrain the subject", operator)


@pytest.mark.parametrize(("operator", "subject", "fragment"), [
    ("StringLike", "*", "bare wildcard"),
    ("StringEquals", "*", "bare wildcard"),
    ("StringLike", "repo:*", "not '<owner>/<repo>'"),
    ("StringEquals", "repo:*", "not '<owner>/<repo>'"),
    ("StringLike", "repo:acme*/app:*", "owner 'acme*'"),
    ("StringLike", "repo:*/app:ref:refs/heads/main", "owner '*'"),
    ("StringLike", "repo:acm?/app:ref:refs/heads/main", "owner 'acm?'"),
    ("StringLike", "repo:acme/app*:ref:refs/heads/main", "repository 'app*'"),
    ("StringLike", "repo:acme/app-?:ref:refs/heads/main", "repository 'app-?'"),
    ("StringEquals", "repo:acme/app*:ref:refs/heads/main", "repository 'app*'"),
    ("StringLike", "repo:acme@*/app:ref:refs/heads/main", "owner 'acme@*'"),
    ("StringLike", "repo:acme/app@*:ref:refs/heads/main", "repository 'app@*'"),
    ("StringEquals", "invalid", "does not start with 'repo:"),
    ("StringEquals", "workflow:github-actions:repo:acme/app:ref:refs/heads/main", "does not start with 'repo:"),
    ("StringLike", "*repo:acme/app:ref:refs/heads/main", "does not start with 'repo:"),
])
def test_subjects_that_do_not_spell_out_owner_and_repository_fail(guard: Guard, operator: str, subject: str,
                                                                  fragment: str) -> None:
    violations = judge(guard, trust(subjects(operator, subject)), **PERMISSIVE)
    assert_violates(violations, POLICY, subject, fragment)


def test_a_bare_wildcard_anywhere_in_the_list_fails(guard: Guard) -> None:
    statement = subjects("StringLike", "repo:acme/app:ref:refs/heads/main", "*")
    assert_violates(judge(guard, trust(statement), **PERMISSIVE), POLICY, "'*'", "bare wildcard")


def test_a_good_statement_does_not_excuse_a_bad_one(guard: Guard) -> None:
    good = subjects("StringEquals", "repo:acme/app:ref:refs/heads/main")
    bad = github_statement({"StringEquals": dict(AUD)}, sid="Forgotten")
    assert_violates(judge(guard, trust(good, bad)), POLICY, "statement 'Forgotten'")


def test_deny_statements_are_not_judged(guard: Guard) -> None:
    deny = subjects("StringLike", "*") | {"Effect": "Deny", "Sid": "DenyAll"}
    assert_passes(judge(guard, trust(subjects("StringEquals", "repo:acme/app:ref:refs/heads/main"), deny)), POLICY)


def test_roles_not_trusting_github_are_not_judged(guard: Guard) -> None:
    service = {"Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"}, "Action": "sts:AssumeRole"}
    assert_passes(judge(guard, trust(service)), POLICY)


def test_an_unconstrained_github_statement_after_a_service_statement_fails(guard: Guard) -> None:
    service = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    unconstrained = github_statement({})
    del unconstrained["Condition"]
    assert_violates(judge(guard, trust(service, unconstrained)), POLICY, "does not constrain the subject")


# --- config: organisations, org-wide, pull requests, any ref ---------------------------------------


def test_owners_outside_allowed_organizations_fail_case_insensitively(guard: Guard) -> None:
    document = trust(subjects("StringEquals", "repo:Evil/app:ref:refs/heads/main"))
    assert_violates(judge(guard, document, allowedOrganizations=["acme"]), POLICY, "'Evil'", "allowed organizations")
    assert_passes(judge(guard, document, allowedOrganizations=["acme", "EVIL"]), POLICY)
    assert_passes(judge(guard, document, allowedOrganizations=[]), POLICY)


def test_the_immutable_id_form_is_judged_by_its_owner_name(guard: Guard) -> None:
    document = trust(subjects("StringEquals", "repo:evil@123/app@456:ref:refs/heads/main"))
    assert_violates(judge(guard, document, allowedOrganizations=["acme"]), POLICY, "'evil'")


@pytest.mark.parametrize("subject", ["repo:acme/*:ref:refs/heads/main", "repo:acme/*:environment:release"])
def test_org_wide_subjects_need_allow_org_wide(guard: Guard, subject: str) -> None:
    document = trust(subjects("StringLike", subject))
    assert_violates(judge(guard, document), POLICY, "every repository of the owner", "allowOrgWide")
    assert_passes(judge(guard, document, allowOrgWide=True), POLICY)


def test_org_wide_without_a_context_is_also_any_ref(guard: Guard) -> None:
    document = trust(subjects("StringLike", "repo:acme/*"))
    assert_violates(judge(guard, document, allowOrgWide=True), POLICY, "any ref", "allowAnyRef")
    assert_passes(judge(guard, document, allowOrgWide=True, allowAnyRef=True), POLICY)


@pytest.mark.parametrize("subject", ["repo:acme/app:*", "repo:acme/app:ref:*", "repo:acme/app:ref:refs/*",
                                     "repo:acme/app:?*", "repo:acme/app:e*"])
def test_any_ref_subjects_need_allow_any_ref(guard: Guard, subject: str) -> None:
    document = trust(subjects("StringLike", subject))
    assert_violates(judge(guard, document), POLICY, subject, "allowAnyRef")
    assert_passes(judge(guard, document, allowAnyRef=True), POLICY)


def test_a_literal_star_context_under_string_equals_matches_nothing_and_passes(guard: Guard) -> None:
    assert_passes(judge(guard, trust(subjects("StringEquals", "repo:acme/app:*"))), POLICY)


@pytest.mark.parametrize("operator", ["StringEquals", "StringLike"])
def test_pull_request_subjects_need_allow_pull_requests(guard: Guard, operator: str) -> None:
    document = trust(subjects(operator, "repo:acme/app:pull_request"))
    assert_violates(judge(guard, document), POLICY, "pull_request", "allowPullRequests")
    assert_passes(judge(guard, document, allowPullRequests=True), POLICY)


# --- issuers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("issuer", "config"), [
    ("token.actions.githubusercontent.com/acme-enterprise", {}),
    ("github.acme.internal/_services/token", {"issuers": ["github.acme.internal/_services/token"]}),
])
def test_github_enterprise_issuers_are_judged(guard: Guard, issuer: str, config: dict[str, Any]) -> None:
    good = github_statement({"StringEquals": {f"{issuer}:aud": "sts.amazonaws.com",
                                              f"{issuer}:sub": "repo:acme/app:ref:refs/heads/main"}}, issuer=issuer)
    assert_passes(judge(guard, trust(good), **config), POLICY)
    bad = github_statement({"StringLike": {f"{issuer}:aud": "sts.amazonaws.com",
                                           f"{issuer}:sub": "repo:acme/*"}}, issuer=issuer)
    violations = judge(guard, trust(bad), **config)
    assert_violates(violations, POLICY, "does not pin the audience")
    assert_violates(violations, POLICY, "every repository of the owner")


@pytest.mark.parametrize("issuer", ["oidc.git.acme.io", "evil.example.com/_services/token",
                                    "token.actions.githubusercontent.com.evil.io"])
def test_an_issuer_is_github_only_when_configured_exactly(guard: Guard, issuer: str) -> None:
    good = github_statement({"StringEquals": {f"{issuer}:aud": "sts.amazonaws.com",
                                              f"{issuer}:sub": "repo:acme/app:ref:refs/heads/main"}}, issuer=issuer)
    assert_violates(judge(guard, trust(good)), POLICY, f"'arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}'",
                    "not GitHub's OIDC issuer")
    assert_passes(judge(guard, trust(good), issuers=[f"https://{issuer}"]), POLICY)
    bad = github_statement({"StringEquals": {f"{issuer}:aud": "sts.amazonaws.com"}}, issuer=issuer)
    assert_violates(judge(guard, trust(bad), issuers=[f"https://{issuer}"]), POLICY, "does not constrain the subject")


def test_a_statement_trusting_github_only_through_condition_keys_is_judged(guard: Guard) -> None:
    statement = {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::210987654321:oidc-provider/other"},
                 "Action": "sts:AssumeRoleWithWebIdentity",
                 "Condition": {"StringEquals": dict(AUD), "StringLike": {SUB: "repo:acme/*"}}}
    assert_violates(judge(guard, trust(statement)), POLICY, "allowOrgWide")


def test_a_trust_policy_that_is_not_json_fails_closed(guard: Guard) -> None:
    assert_violates(guard.analyze(role(trust="{not json")), POLICY, "not valid JSON")


def test_the_message_names_the_role_statement_and_fix(guard: Guard) -> None:
    violation = assert_violates(judge(guard, trust(subjects("StringLike", "repo:acme/*:ref:refs/heads/main"))),
                                POLICY)
    for fragment in ("'github-push-payments'", "statement 'GitHub'", "repo:acme/*:ref:refs/heads/main",
                     "allowOrgWide"):
        assert fragment in violation.message, f"the message must name {fragment}: {violation.message}"

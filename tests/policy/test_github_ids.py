"""GitHub's immutable subjects and `requireRepositoryId` (issue 22), through the analyzer protocol.

Every rule that reads subjects reads both forms: `repo:acme/app:...` and `repo:acme@1/app@2:...`.
"""

from __future__ import annotations

from typing import Any

import pytest
from rules.github_trust import repository_id_problems, trust_problems
from rules.team_isolation import POLICIES as ISOLATION
from rules.team_isolation import check_team_isolation

from .conftest import Guard, assert_passes, assert_violates
from .decisions import defaults, messages, skipped
from .fixtures import ISSUER, github_statement, role, trust_document
from .test_attacks import prod_config
from .test_decisions_team_isolation import BILLING_WRITE, PAYMENTS, github_trust, inline, stack
from .test_decisions_team_isolation import role as team_role

POLICY = "github-oidc-trust-scoped"
AUD = {f"{ISSUER}:aud": "sts.amazonaws.com"}
SUB = f"{ISSUER}:sub"
REPOSITORY_ID = f"{ISSUER}:repository_id"
BOTH = ["repo:acme/payments-api:ref:refs/heads/main", "repo:acme@1000001/payments-api@2000001:ref:refs/heads/main"]


def pinned(subjects: list[str], pin: Any = "2000001", operator: str = "StringEquals") -> dict[str, Any]:
    """One statement as the program writes it for an entry with IDs: both forms, repository_id pinned."""
    condition: dict[str, Any] = {"StringEquals": {**AUD, SUB: subjects}}
    if pin is not None:
        condition.setdefault(operator, {})[REPOSITORY_ID] = pin
    return github_statement(condition, sid="GitHubRepository2000001Exact")


def judge(guard: Guard, *statements: dict[str, Any], **config: Any) -> list:
    guard.configure(**{POLICY: {"allowedOrganizations": ["acme"], **config}})
    return guard.analyze(role(trust={"Version": "2012-10-17", "Statement": list(statements)}))


def test_both_forms_pinned_by_repository_id_pass_with_require_repository_id(guard: Guard) -> None:
    assert_passes(judge(guard, pinned(BOTH), requireRepositoryId=True), POLICY)


def test_a_statement_without_a_repository_id_pin_names_the_setting(guard: Guard) -> None:
    violations = judge(guard, pinned(BOTH, pin=None), requireRepositoryId=True)
    assert_violates(violations, POLICY, "does not pin the repository by its ID", "requireRepositoryId",
                    "policy/config/<stack>.json: github-oidc-trust-scoped.requireRepositoryId")
    assert_passes(judge(guard, pinned(BOTH, pin=None)), POLICY)  # off by default: today's stacks keep passing


def test_the_program_s_name_only_trust_fails_when_ids_are_required(guard: Guard) -> None:
    guard.configure(**{POLICY: {"requireRepositoryId": True}})
    assert_violates(guard.analyze(role(trust=trust_document(repository_id=None))), POLICY,
                    "does not pin the repository by its ID")
    assert_passes(guard.analyze(role(trust=trust_document())), POLICY)


@pytest.mark.parametrize(("pin", "operator", "phrase"), [
    ("2000001", "StringLike", "StringLike does not count"),
    ("2*", "StringEquals", "pin one repository's numeric ID"),
    (["2000001", "3000003"], "StringEquals", "pin one repository's numeric ID"),
    ("2000001", "StringEqualsIfExists", "StringEqualsIfExists does not count"),
])
def test_only_one_exact_id_counts_as_a_pin(guard: Guard, pin: Any, operator: str, phrase: str) -> None:
    assert_violates(judge(guard, pinned(BOTH, pin=pin, operator=operator), requireRepositoryId=True), POLICY, phrase)


def test_an_id_form_subject_of_another_repository_than_the_pin_is_reported() -> None:
    other = "repo:acme@1000001/web@3000003:ref:refs/heads/main"
    problems = trust_problems({"Statement": [pinned([*BOTH, other])]}, {"requireRepositoryId": True})
    assert len(problems) == 1 and "repository ID 3000003" in problems[0] and "never match" in problems[0], problems
    assert repository_id_problems("statement 'x'", [], []) != [], "no pin at all is a problem"


@pytest.mark.parametrize(("subject", "phrase"), [
    ("repo:acme@*/payments-api@2000001:ref:refs/heads/main", "the owner 'acme@*' is not spelled out"),
    ("repo:acme*/payments-api:ref:refs/heads/main", "the owner 'acme*' is not spelled out"),
    ("repo:acme@1000001/payments-api@*:ref:refs/heads/main", "the repository 'payments-api@*' is not spelled out"),
    ("repo:other@1000001/payments-api@2000001:ref:refs/heads/main", "the owner 'other' is not one of the allowed"),
    ("repo:acme@1000001/payments-api@2000001:*", "it matches any ref"),
    ("repo:acme@1000001/payments-api@2000001:ref:refs/heads/*", "it matches any of the repository's branches"),
])
def test_rules_read_the_immutable_form_as_wide_as_it_is(guard: Guard, subject: str, phrase: str) -> None:
    statement = github_statement({"StringEquals": {**AUD, REPOSITORY_ID: "2000001"}, "StringLike": {SUB: [subject]}})
    assert_violates(judge(guard, statement, requireRepositoryId=True), POLICY, phrase)


@pytest.mark.parametrize(("subject", "shared"), [
    ("repo:acme@1/pay@2:ref:refs/heads/main", True),     # the ID form of the workflow that reaches payments
    ("repo:acme@9/pay@8:ref:refs/heads/main", True),     # any IDs: a token carries the name form or this one
    ("repo:acme@1/bill@3:ref:refs/heads/main", False),   # another repository
])
def test_a_shared_subject_is_found_in_either_form(subject: str, shared: bool) -> None:
    resources = stack(*PAYMENTS, team_role("bill", "billing", github_trust(subject)), inline("bill", BILLING_WRITE))
    config = defaults(ISOLATION, judgeSharedSubjects=True)
    found = [m for m in messages(check_team_isolation(resources, config, skipped())) if "can assume the IAM roles" in m]
    assert (len(found) == 1) is shared, found


def test_prod_s_guard_refuses_a_role_that_trusts_names_only(guard: Guard) -> None:
    guard.client.configure(prod_config())
    assert_violates(guard.analyze(role(trust=trust_document(repository_id=None))), POLICY, "requireRepositoryId")

"""The IAM evaluator behind the access report: each case is one rule of AWS's evaluation logic."""

from __future__ import annotations

import pytest

from review.iam_eval import (
    Effect,
    Glob,
    PolicyDocument,
    Principal,
    Request,
    evaluate,
    glob_match,
    globs_overlap,
)

REPO = "arn:aws:ecr:us-east-1:111111111111:repository/dc43/contracts-app"
ISSUER = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::111111111111:oidc-provider/{ISSUER}"


def policy(*statements: dict) -> PolicyDocument:
    return PolicyDocument.parse({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action="ecr:PutImage", resource=REPO, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="ecr:PutImage", resource=REPO, **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(document: PolicyDocument, action="ecr:PutImage", resource=REPO, **kwargs) -> Effect:
    return evaluate([document], Request(action, resource, **kwargs)).effect


# ---------------------------------------------------------------- wildcards


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("ecr:*", "ecr:PutImage", True),
        ("ECR:putimage", "ecr:PutImage", True),  # actions are case-insensitive
        ("ecr:Put*", "ecr:PutImage", True),
        ("ecr:Put*", "ecr:BatchGetImage", False),
        ("ecr:?utImage", "ecr:PutImage", True),
        ("ecr:?utImage", "ecr:PPutImage", False),  # ? is exactly one character
        ("*", "iam:PassRole", True),
        ("ecr:PutImag", "ecr:PutImage", False),  # no prefix matching
    ],
)
def test_action_wildcards(pattern, action, expected):
    assert (decide(policy(allow(action=pattern)), action=action) is Effect.ALLOW) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("arn:aws:ecr:us-east-1:111111111111:repository/dc43/*", True),
        ("arn:aws:ecr:us-east-1:111111111111:repository/DC43/*", False),  # ARNs are case-sensitive
        ("arn:aws:ecr:us-east-1:111111111111:repository/dc4?/contracts-app", True),
        ("arn:aws:ecr:us-east-1:111111111111:repository/dc4?/contracts-ap", False),
        ("arn:aws:ecr:*:111111111111:repository/*", True),
        ("arn:aws:ecr:us-east-1:222222222222:repository/*", False),
        ("arn:aws:ecr:us-east-1:111111111111:repository/dc43.contracts-app", False),  # `.` is not a regex
        ("*", True),
    ],
)
def test_resource_wildcards(pattern, expected):
    assert (decide(policy(allow(resource=pattern))) is Effect.ALLOW) is expected


def test_glob_overlap_finds_a_common_string_only_when_one_exists():
    assert globs_overlap("repo:acme/*:ref:refs/heads/main", "repo:acme/idp:*")
    assert not globs_overlap("repo:acme/*:ref:refs/heads/main", "repo:other/*")
    assert globs_overlap("a?c", "*c")
    assert not glob_match("a?c", "ac")


# ---------------------------------------------------------------- effects


def test_nothing_allows_by_default():
    assert decide(policy(allow(action="ecr:BatchGetImage"))) is Effect.NONE


def test_deny_overrides_allow_in_any_order():
    assert decide(policy(deny(), allow())) is Effect.DENY
    assert decide(policy(allow(action="ecr:*", resource="*"), deny(resource="*"))) is Effect.DENY


def test_deny_on_another_resource_leaves_allow():
    other = "arn:aws:ecr:us-east-1:111111111111:repository/idp/*"
    assert decide(policy(allow(), deny(resource=other))) is Effect.ALLOW


def test_not_action_allows_everything_else():
    document = policy({"Effect": "Allow", "NotAction": "ecr:Delete*", "Resource": "*"})
    assert decide(document, action="ecr:PutImage") is Effect.ALLOW
    assert decide(document, action="ecr:DeleteRepository") is Effect.NONE


def test_not_resource_allows_everything_else():
    document = policy(
        {
            "Effect": "Allow",
            "Action": "ecr:PutImage",
            "NotResource": "arn:aws:ecr:us-east-1:111111111111:repository/idp/*",
        }
    )
    assert decide(document) is Effect.ALLOW
    assert decide(document, resource="arn:aws:ecr:us-east-1:111111111111:repository/idp/portal") is Effect.NONE


def test_deny_with_not_action_denies_all_but_the_named_action():
    document = policy(
        allow(action="ecr:*", resource="*"),
        {"Effect": "Deny", "NotAction": "ecr:BatchGetImage", "Resource": "*"},
    )
    assert decide(document, action="ecr:BatchGetImage") is Effect.ALLOW
    assert decide(document, action="ecr:PutImage") is Effect.DENY


def test_single_statement_object_is_accepted():
    assert evaluate(
        [
            PolicyDocument.parse(
                f'{{"Statement": {{"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "{REPO}"}}}}'
            )
        ],
        Request("ecr:PutImage", REPO),
    ).granted


# ---------------------------------------------------------------- conditions


def test_unknown_condition_key_makes_the_grant_conditional_not_silent():
    document = policy(
        allow(
            action="iam:PassRole",
            resource="*",
            Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        )
    )
    decision = evaluate([document], Request("iam:PassRole", "arn:aws:iam::111111111111:role/task"))
    assert decision.effect is Effect.CONDITIONAL
    assert decision.conditions == ("iam:PassedToService StringEquals ecs-tasks.amazonaws.com",)


def test_unknown_operator_makes_the_grant_conditional():
    document = policy(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    assert decide(document, context={"aws:SourceIp": ["10.1.2.3"]}) is Effect.CONDITIONAL


def test_conditional_deny_makes_an_allow_conditional():
    document = policy(allow(), deny(Condition={"Bool": {"aws:SecureTransport": "false"}}))
    decision = evaluate([document], Request("ecr:PutImage", REPO))
    assert decision.effect is Effect.CONDITIONAL
    assert decision.conditions == ("unless aws:SecureTransport Bool false",)


def test_known_context_decides_a_condition():
    document = policy(allow(Condition={"StringEquals": {"aws:PrincipalAccount": "222222222222"}}))
    assert decide(document, context={"aws:PrincipalAccount": ["222222222222"]}) is Effect.ALLOW
    assert decide(document, context={"aws:PrincipalAccount": ["333333333333"]}) is Effect.NONE


def test_condition_keys_are_case_insensitive_and_values_are_not():
    document = policy(allow(Condition={"StringEquals": {"AWS:PrincipalAccount": "abc"}}))
    assert decide(document, context={"aws:principalaccount": ["abc"]}) is Effect.ALLOW
    assert decide(document, context={"aws:principalaccount": ["ABC"]}) is Effect.NONE


def test_if_exists_and_null_on_an_absent_key():
    if_exists = policy(allow(Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}))
    assert decide(if_exists, context={"aws:PrincipalOrgID": []}) is Effect.ALLOW
    null = policy(allow(Condition={"Null": {"aws:PrincipalOrgID": "true"}}))
    assert decide(null, context={"aws:PrincipalOrgID": []}) is Effect.ALLOW
    assert decide(null, context={"aws:PrincipalOrgID": ["o-1"]}) is Effect.NONE


# ---------------------------------------------------------------- GitHub trust: StringEquals vs StringLike


def trust(operator: str, subject, aud: str | None = "sts.amazonaws.com") -> PolicyDocument:
    condition: dict = {operator: {f"{ISSUER}:sub": subject}}
    if aud is not None:
        condition.setdefault("StringEquals", {})[f"{ISSUER}:aud"] = aud
    return policy(
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": PROVIDER},
            "Condition": condition,
        }
    )


def assume(document: PolicyDocument, subject, aud: str = "sts.amazonaws.com") -> Effect:
    context = {f"{ISSUER}:sub": [subject], f"{ISSUER}:aud": [aud]}
    return evaluate(
        [document], Request("sts:AssumeRoleWithWebIdentity", "*", Principal("Federated", PROVIDER), context)
    ).effect


def test_string_like_expands_wildcards_in_subjects():
    document = trust("StringLike", "repo:acme/*:ref:refs/heads/main")
    assert assume(document, "repo:acme/idp:ref:refs/heads/main") is Effect.ALLOW
    assert assume(document, "repo:acme/idp:ref:refs/heads/dev") is Effect.NONE
    assert assume(document, "repo:evil/idp:ref:refs/heads/main") is Effect.NONE


def test_string_equals_compares_a_wildcard_literally():
    document = trust("StringEquals", "repo:acme/*:ref:refs/heads/main")
    assert assume(document, "repo:acme/idp:ref:refs/heads/main") is Effect.NONE
    assert assume(document, "repo:acme/*:ref:refs/heads/main") is Effect.ALLOW


def test_wrong_audience_or_federated_provider_is_refused():
    document = trust("StringEquals", "repo:acme/dc43:environment:release")
    assert assume(document, "repo:acme/dc43:environment:release", aud="sigstore") is Effect.NONE
    other = Principal("Federated", "arn:aws:iam::111111111111:oidc-provider/gitlab.com")
    context = {
        f"{ISSUER}:sub": ["repo:acme/dc43:environment:release"],
        f"{ISSUER}:aud": ["sts.amazonaws.com"],
    }
    assert evaluate([document], Request("sts:AssumeRoleWithWebIdentity", "*", other, context)).effect is Effect.NONE


def test_a_subject_pattern_is_covered_partly_covered_or_not():
    wide = trust("StringLike", "repo:acme/*")
    assert assume(wide, Glob("repo:acme/dc43:*")) is Effect.ALLOW  # every subject in the pattern
    narrow = trust("StringLike", "repo:acme/dc43:ref:refs/heads/main")
    assert assume(narrow, Glob("repo:acme/dc43:*")) is Effect.CONDITIONAL  # only some of them
    assert assume(narrow, Glob("repo:other/*")) is Effect.NONE


def test_deny_for_pull_requests_makes_an_any_ref_pattern_conditional():
    document = policy(
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": PROVIDER},
            "Condition": {"StringLike": {f"{ISSUER}:sub": "repo:acme/dc43:*"}},
        },
        {
            "Effect": "Deny",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": PROVIDER},
            "Condition": {"StringEquals": {f"{ISSUER}:sub": "repo:acme/dc43:pull_request"}},
        },
    )
    decision = evaluate(
        [document],
        Request(
            "sts:AssumeRoleWithWebIdentity",
            "*",
            Principal("Federated", PROVIDER),
            {f"{ISSUER}:sub": [Glob("repo:acme/dc43:*")]},
        ),
    )
    assert decision.effect is Effect.CONDITIONAL
    assert decision.conditions == (f"unless {ISSUER}:sub StringEquals repo:acme/dc43:pull_request",)
    assert assume(document, "repo:acme/dc43:pull_request") is Effect.DENY


def test_for_any_value_qualifier_is_understood():
    document = trust("ForAnyValue:StringLike", ["repo:acme/a:*", "repo:acme/b:*"])
    assert assume(document, "repo:acme/b:ref:refs/heads/main") is Effect.ALLOW


# ---------------------------------------------------------------- principals in resource policies


def repository_policy(principal) -> PolicyDocument:
    return policy({"Effect": "Allow", "Action": ["ecr:BatchGetImage"], "Principal": principal})


def pull(document: PolicyDocument, principal: Principal) -> Effect:
    return evaluate([document], Request("ecr:BatchGetImage", REPO, principal)).effect


def test_account_root_grants_every_principal_of_that_account_only():
    document = repository_policy({"AWS": "arn:aws:iam::222222222222:root"})
    assert pull(document, Principal("AWS", "arn:aws:iam::222222222222:root", "222222222222")) is Effect.ALLOW
    assert pull(document, Principal("AWS", "arn:aws:iam::222222222222:role/node", "222222222222")) is Effect.ALLOW
    assert pull(document, Principal("AWS", "arn:aws:iam::333333333333:root", "333333333333")) is Effect.NONE


def test_bare_account_id_means_the_account_root():
    document = repository_policy({"AWS": ["222222222222"]})
    assert pull(document, Principal("AWS", "arn:aws:iam::222222222222:root", "222222222222")) is Effect.ALLOW


def test_star_principal_grants_anyone():
    assert pull(repository_policy("*"), Principal("AWS", "*")) is Effect.ALLOW
    assert pull(repository_policy({"AWS": "*"}), Principal("AWS", "*")) is Effect.ALLOW
    assert pull(repository_policy({"AWS": "arn:aws:iam::222222222222:root"}), Principal("AWS", "*")) is Effect.NONE


def test_not_principal_excludes_the_named_principal():
    document = policy(
        {
            "Effect": "Deny",
            "Action": "ecr:*",
            "Resource": "*",
            "NotPrincipal": {"AWS": "arn:aws:iam::222222222222:root"},
        },
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Principal": "*"},
    )
    assert pull(document, Principal("AWS", "arn:aws:iam::222222222222:root", "222222222222")) is Effect.ALLOW
    assert pull(document, Principal("AWS", "arn:aws:iam::333333333333:root", "333333333333")) is Effect.DENY


@pytest.mark.parametrize(("a", "b"), [("a*", "*b"), ("*a*", "*b*"), ("repo:acme/*", "*:ref:refs/heads/main")])
def test_two_patterns_whose_stars_face_each_other_overlap(a, b):
    # 'ab' matches both a* and *b: a subject pattern may reach a role whose trust is another pattern
    assert globs_overlap(a, b) and globs_overlap(b, a)

"""ecr-repository-policy-restricted, decision by decision: who may pull, push and manage, and where images
may be replicated to. Rows pair each account list with an account in it and one outside it."""

from __future__ import annotations

from typing import Any

import pytest
from rules.common import CREATION_TEMPLATE, REGISTRY_POLICY, REPLICATION, REPOSITORY_POLICY, UNKNOWN
from rules.repository_policy import POLICIES, check_repository_policy, policy_problems

from .decisions import ACCOUNT, OTHER_ACCOUNT, defaults, doc, dumps, messages, resource, skipped, verdict

PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = ["ecr:PutImage", "ecr:UploadLayerPart"]
ROOT = f"arn:aws:iam::{OTHER_ACCOUNT}:root"
THIRD = "444444444444"
ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}


def grant(principal: Any, actions: Any = PULL, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": actions, **extra}


CASES = [
    # (statements, config, phrase or None)
    ([grant({"AWS": ROOT})], {}, None),
    ([grant({"AWS": OTHER_ACCOUNT}, PUSH)], {}, None),
    ([grant({"AWS": ROOT})], {"allowedAccounts": [OTHER_ACCOUNT]}, None),
    ([grant({"AWS": ROOT})], {"allowedAccounts": [THIRD]}, "grants access to account 333333333333, which is not in "
                                                           "allowedAccounts (444444444444;"),
    ([grant({"AWS": ROOT})], {"allowedAccounts": [THIRD], "allowedPushAccounts": [OTHER_ACCOUNT]}, None),
    ([grant({"AWS": ROOT}, PUSH)], {"allowedPushAccounts": [OTHER_ACCOUNT]}, None),
    ([grant({"AWS": ROOT}, PUSH)], {"allowedPushAccounts": [THIRD]}, "lets account 333333333333 push "
                                                                      "('ecr:PutImage', 'ecr:UploadLayerPart'), but "
                                                                      "only 444444444444 may"),
    ([grant({"AWS": ROOT}, PULL)], {"allowedPushAccounts": [THIRD]}, None),
    ([grant({"AWS": ROOT}, "ecr:DeleteRepository")], {}, "lets account 333333333333 manage the repository "
                                                         "('ecr:DeleteRepository')"),
    ([grant({"AWS": ROOT}, "ecr:SetRepositoryPolicy")], {"managementAccounts": [OTHER_ACCOUNT]}, None),
    ([grant({"AWS": ROOT}, "ecr:SetRepositoryPolicy")], {"managementAccounts": [THIRD]}, "manage the repository"),
    ([grant({"AWS": ROOT}, "ecr:TagResource")], {}, "manage the repository ('ecr:TagResource')"),
    ([grant({"AWS": ROOT}, "ecr:*")], {"allowedPushAccounts": [OTHER_ACCOUNT]}, "manage the repository"),
    ([grant({"AWS": ROOT}, ["s3:GetObject"])], {"allowedAccounts": [THIRD]}, None),
    ([grant({"AWS": "ci-role"})], {}, "names the principal 'ci-role', which is not an account ARN"),
    # public principals
    ([grant("*")], {}, "grants 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer' to everyone ('*')"),
    ([grant({"AWS": "*"})], {}, "to everyone"),
    ([grant({"AWS": "arn:aws:iam::*:root"})], {}, "to everyone"),
    ([grant("*", Condition=ORG)], {}, None),
    ([grant("*", Condition=ORG)], {"allowedAccounts": [OTHER_ACCOUNT]},
     "grants access to a whole organisation, but only the accounts '333333333333' are allowed"),
    ([grant("*", PUSH, Condition=ORG)], {}, "lets a whole organisation write ('ecr:PutImage', 'ecr:UploadLayerPart')"),
    ([grant("*", Condition={"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}})],
     {"allowedAccounts": [OTHER_ACCOUNT]}, None),
    ([grant("*", Condition={"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}})],
     {"allowedAccounts": [THIRD]}, "grants access to account 333333333333"),
    ([grant("*", Condition={"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}})], {}, None),
    ([grant("*", "ecr:DeleteRepository", Condition={"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}})], {},
     "lets account 333333333333 manage"),
    # NotPrincipal / NotAction, service principals
    ([{"Effect": "Allow", "NotPrincipal": {"AWS": ROOT}, "Action": PULL}], {}, "uses NotPrincipal with Allow"),
    ([{"Effect": "Allow", "Principal": {"AWS": ROOT}, "NotAction": "ecr:Delete*"}], {}, "uses NotAction with Allow"),
    ([grant({"Service": "lambda.amazonaws.com"})], {}, None),
    ([grant({"Service": "lambda.amazonaws.com"}, PUSH)], {}, "lets the service principal(s) 'lambda.amazonaws.com' "
                                                             "write"),
    # early exits never end the judging
    ([grant("*", effect="Deny"), grant({"AWS": "ci"})], {}, "statement #2 names the principal 'ci'"),
    ([{"Effect": "Allow", "NotPrincipal": {"AWS": ROOT}, "Action": PULL}, grant({"AWS": "ci"})], {},
     "statement #2 names the principal 'ci'"),
    ([{"Effect": "Allow", "Principal": "*", "NotAction": PULL}, grant({"AWS": "ci"})], {},
     "statement #2 names the principal 'ci'"),
    ([grant("*", "s3:GetObject"), grant({"AWS": "ci"})], {}, "statement #2 names the principal 'ci'"),
    ([grant("*"), grant({"AWS": "ci"})], {}, "statement #2 names the principal 'ci'"),
    ([grant("*", Condition=ORG), grant({"AWS": "ci"})], {}, "statement #2 names the principal 'ci'"),
    ([grant({"AWS": ["*", "ci"]}, Condition={"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}})], {},
     "names the principal 'ci'"),
]


@pytest.mark.parametrize(("statements", "config", "expected"), CASES)
def test_repository_policy_verdicts(statements: list[dict[str, Any]], config: dict[str, Any],
                                    expected: str | None) -> None:
    verdict(policy_problems(doc(*statements), config), expected)


def test_each_account_draws_one_problem_per_rule_it_breaks() -> None:
    problems = policy_problems(doc(grant({"AWS": [ROOT, f"arn:aws:iam::{THIRD}:root"]},
                                         ["ecr:PutImage", "ecr:DeleteRepository"])),
                               {"allowedAccounts": [OTHER_ACCOUNT], "allowedPushAccounts": [OTHER_ACCOUNT]})
    assert [p.split(" (")[0] for p in problems] == [
        "statement #1 lets account 333333333333 manage the repository",
        "statement #1 grants access to account 444444444444, which is not in allowedAccounts",
        "statement #1 lets account 444444444444 push",
        "statement #1 lets account 444444444444 manage the repository"]


SUBJECTS = [
    (REPOSITORY_POLICY, {"repository": "payments/api"}, "policy", "The repository policy of ECR repository "
                                                                  "'payments/api'"),
    (REPOSITORY_POLICY, {"repository": UNKNOWN}, "policy", "The repository policy of ECR repository 'rp'"),
    (REGISTRY_POLICY, {}, "policy", "The ECR registry policy 'rp'"),
    (CREATION_TEMPLATE, {"prefix": "payments"}, "repositoryPolicy",
     "The repositoryPolicy of ECR repository creation template 'payments'"),
    (CREATION_TEMPLATE, {}, "repositoryPolicy", "The repositoryPolicy of ECR repository creation template 'rp'"),
]


@pytest.mark.parametrize(("kind", "props", "key", "subject"), SUBJECTS)
def test_every_kind_of_resource_policy_is_judged(kind: str, props: dict[str, Any], key: str, subject: str) -> None:
    policy = resource(kind, "rp", **props, **{key: dumps(doc(grant("*")))})
    assert messages(check_repository_policy(policy, {}, skipped())) == [
        f"{subject} is too open: statement #1 grants 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer' to everyone "
        "('*'); name the accounts that need access, or confine the statement with an aws:PrincipalOrgID or "
        "aws:PrincipalAccount condition."]
    fine = resource(kind, "rp", **props, **{key: doc(grant({"AWS": ROOT}))})
    assert check_repository_policy(fine, {}, skipped()) == []


def test_malformed_absent_and_unknown_policies() -> None:
    bad = resource(REPOSITORY_POLICY, "rp", repository="r", policy=doc({"Effect": "Allow", "Action": PULL},
                                                                       grant({"AWS": "ci"})))
    found = messages(check_repository_policy(bad, {}, skipped()))
    assert len(found) == 2 and "is malformed" in found[0] and "statement #1 has no Principal" in found[0]
    assert "statement #2 names the principal 'ci'" in found[1]
    assert check_repository_policy(resource(REPOSITORY_POLICY, "rp", policy=None), {}, skipped()) == []
    notes = skipped()
    assert check_repository_policy(resource(REPOSITORY_POLICY, "rp", policy=UNKNOWN), {}, notes) == []
    assert notes.paths == ["rp.policy"]


def replication(*accounts: str) -> Any:
    return resource(REPLICATION, "repl", replicationConfiguration={"rules": [
        {"destinations": [{"region": "eu-west-1", "registryId": a} for a in accounts]}]})


def test_replication_destinations() -> None:
    config = {"allowedReplicationAccounts": [ACCOUNT]}
    assert check_repository_policy(replication(ACCOUNT), config, skipped()) == []
    assert check_repository_policy(replication(OTHER_ACCOUNT), {}, skipped()) == []
    found = messages(check_repository_policy(replication(ACCOUNT, OTHER_ACCOUNT), config, skipped()))
    assert found == [f"The ECR replication configuration 'repl' copies images to account {OTHER_ACCOUNT} "
                     "(rules[0].destinations[1], region eu-west-1), which is not in allowedReplicationAccounts "
                     f"({ACCOUNT}); replicate only to registries you control, or add the account "
                     "(policy/config/<stack>.json: ecr-repository-policy-restricted.allowedReplicationAccounts)."]
    for value, path in ((UNKNOWN, ""), ({"rules": [UNKNOWN]}, ".rules"), ({"rules": UNKNOWN}, ".rules"),
                        ({"rules": [{"destinations": UNKNOWN}]}, ".rules[0].destinations"),
                        ({"rules": [{"destinations": [UNKNOWN]}]}, ".rules[0].destinations"),
                        ({"rules": [{"destinations": [{"registryId": UNKNOWN}]}]},
                         ".rules[0].destinations[0].registryId")):
        notes = skipped()
        unknown = resource(REPLICATION, "repl", replicationConfiguration=value)
        assert check_repository_policy(unknown, config, notes) == []
        assert notes.paths == [f"repl.replicationConfiguration{path}"]
    assert check_repository_policy(resource(REPLICATION, "repl"), config, skipped()) == []


def shaped(value: Any) -> list[str]:
    return messages(check_repository_policy(resource(REPLICATION, "repl", replicationConfiguration=value),
                                            {"allowedReplicationAccounts": [ACCOUNT]}, skipped()))


REPLICATION_SHAPES = [
    # (replicationConfiguration, phrase or None)
    ({"rules": []}, None),
    ({"rules": None}, None),
    ({}, None),
    ("rules", "cannot be judged, and the guard refuses what it cannot judge: replicationConfiguration is not an "
              "object"),
    ([{"destinations": []}], "replicationConfiguration is not an object with rules"),
    ({"rules": "x"}, "replicationConfiguration.rules is not a list"),
    ({"rules": {"destinations": []}}, "replicationConfiguration.rules is not a list"),
    ({"rules": ["x"]}, "replicationConfiguration.rules[0] is not an object with destinations"),
    ({"rules": [{"destinations": {"registryId": OTHER_ACCOUNT}}]},
     "replicationConfiguration.rules[0].destinations is not a list"),
    ({"rules": [{"destinations": [7]}]}, "rules[0].destinations[0] is not an object with registryId and region"),
    ({"rules": [{"destinations": [{"registryId": 210987654321}]}]},
     "rules[0].destinations[0].registryId is 210987654321, not a 12-digit account id"),
    ({"rules": [{"destinations": [{"registryId": "*"}]}]}, "registryId is '*', not a 12-digit account id"),
    ({"rules": [{"destinations": [{"registryId": None}]}]}, "registryId is None, not a 12-digit account id"),
    ({"rules": [{"destinations": [{"registryId": ACCOUNT}]}]}, None),
    ({"rules": [{"destinations": [UNKNOWN, {"registryId": OTHER_ACCOUNT}]}]},
     f"copies images to account {OTHER_ACCOUNT}"),
    ({"rules": [UNKNOWN, {"destinations": [{"registryId": OTHER_ACCOUNT}]}]},
     f"copies images to account {OTHER_ACCOUNT}"),
    ({"rules": [{"destinations": [{"registryId": UNKNOWN}, {"registryId": OTHER_ACCOUNT}]}]},
     "(rules[0].destinations[1], region None)"),
]


@pytest.mark.parametrize(("value", "expected"), REPLICATION_SHAPES)
def test_replication_shapes_and_partial_unknowns(value: Any, expected: str | None) -> None:
    verdict(shaped(value), expected)


def test_defaults_allow_any_explicit_account_to_pull_and_push_but_none_to_manage() -> None:
    config = defaults(POLICIES)
    assert policy_problems(doc(grant({"AWS": ROOT}, [*PULL, *PUSH])), config) == []
    verdict(policy_problems(doc(grant({"AWS": ROOT}, "ecr:DeleteRepository")), config), "manage the repository")
    assert check_repository_policy(replication(THIRD), config, skipped()) == []

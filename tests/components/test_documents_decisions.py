"""The document builders, decision by decision: which statements exist for which inputs, and the
edges between them (all-pattern or all-exact subjects, an account that both pulls and pushes, the
node pull policy at exactly half the managed-policy quota). Teams are plain stand-ins here: the
builders read only names, so the config model is not needed to test them."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from components.config import GitHubAccess, KeepTagged, Lifecycle
from components.documents import (
    MANAGED_POLICY_MAX_CHARS,
    compact_size,
    creation_role_policy,
    github_subjects,
    lifecycle_policy,
    node_pull_policy,
    push_policy,
    repository_policy,
    service_trust_policy,
    to_json,
    trust_policy,
)

ACCOUNT, REGION = "210987654321", "us-west-2"
ISSUER = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
PREFIX = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository"


def team(namespace: str = "payments", repositories: tuple[str, ...] = ("api",), create: bool = False,
         services: tuple[str, ...] = (), pass_roles: tuple[str, ...] = ()) -> Any:
    return SimpleNamespace(namespace=namespace, repositories=[SimpleNamespace(name=r) for r in repositories],
                           allow_create_repositories=create,
                           deploy=SimpleNamespace(ecs_services=list(services), pass_roles=list(pass_roles)))


def test_documents_serialise_with_sorted_keys() -> None:
    assert to_json({"b": 1, "a": {"d": 2, "c": 3}}) == '{"a": {"c": 3, "d": 2}, "b": 1}'
    assert compact_size({"a": "b c", "d": [1, 2]}) == len('{"a":"bc","d":[1,2]}')


# --- GitHub subjects and trust ---------------------------------------------------------------------


def test_subjects_keep_config_order_and_appear_once() -> None:
    first = GitHubAccess(repository="acme/app", branches=["main", "dev"], tags=["v*"])
    again = GitHubAccess(repository="acme/app", branches=["main"], environments=["prod"])
    assert github_subjects([first, again]) == ["repo:acme/app:ref:refs/heads/main", "repo:acme/app:ref:refs/heads/dev",
                                               "repo:acme/app:ref:refs/tags/v*", "repo:acme/app:environment:prod"]
    assert github_subjects([GitHubAccess(repository="acme/app", any_ref=True)]) == ["repo:acme/app:*"]
    assert github_subjects([GitHubAccess(repository="acme/app", pull_requests=True)]) == ["repo:acme/app:pull_request"]


TRUSTS = [
    # (subjects, [(Sid, operator, sub value)])
    (["repo:a/b:ref:refs/heads/x"], [("GitHubActionsExactSubjects", "StringEquals", "repo:a/b:ref:refs/heads/x")]),
    (["repo:a/b:ref:refs/tags/v*"], [("GitHubActionsSubjectPatterns", "StringLike", "repo:a/b:ref:refs/tags/v*")]),
    (["repo:a/b:ref:refs/tags/v?"], [("GitHubActionsSubjectPatterns", "StringLike", "repo:a/b:ref:refs/tags/v?")]),
    (["repo:a/b:*", "repo:a/c:*"], [("GitHubActionsSubjectPatterns", "StringLike", ["repo:a/b:*", "repo:a/c:*"])]),
    (["repo:a/b:pull_request", "repo:a/b:*"], [("GitHubActionsExactSubjects", "StringEquals", "repo:a/b:pull_request"),
                                              ("GitHubActionsSubjectPatterns", "StringLike", "repo:a/b:*")]),
    ([], []),
]


@pytest.mark.parametrize(("subjects", "expected"), TRUSTS)
def test_trust_policy_statements(subjects: list[str], expected: list[tuple[str, str, Any]]) -> None:
    document = trust_policy(PROVIDER, ISSUER, subjects)
    assert document["Version"] == "2012-10-17"
    got = []
    for statement in document["Statement"]:
        condition = statement["Condition"]
        assert condition["StringEquals"][f"{ISSUER}:aud"] == "sts.amazonaws.com"
        assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
            "Allow", {"Federated": PROVIDER}, "sts:AssumeRoleWithWebIdentity")
        operator = "StringLike" if "StringLike" in condition else "StringEquals"
        got.append((statement["Sid"], operator, condition[operator][f"{ISSUER}:sub"]))
    assert got == expected


def test_each_trust_statement_has_its_own_audience_condition() -> None:
    exact, pattern = trust_policy(PROVIDER, ISSUER, ["repo:a/b:x", "repo:a/b:*"])["Statement"]
    assert exact["Condition"] == {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": "repo:a/b:x"}}
    assert pattern["Condition"] == {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
                                    "StringLike": {f"{ISSUER}:sub": "repo:a/b:*"}}


# --- identity policies -----------------------------------------------------------------------------


def test_push_policy_for_a_namespace_and_for_exact_repositories() -> None:
    token, push = push_policy(team(), ACCOUNT, REGION, "aws")["Statement"]
    assert token == {"Sid": "GetAuthorizationToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
                     "Resource": "*"}
    assert push["Sid"] == "PushToTeamNamespace" and push["Resource"] == f"{PREFIX}/payments/*"
    assert push["Action"] == sorted(push["Action"]) and len(push["Action"]) == 10
    flat = push_policy(team("", ("web", "api")), ACCOUNT, REGION, "aws-cn")["Statement"][1]
    assert flat["Sid"] == "PushToTeamRepositories"
    assert flat["Resource"] == [f"arn:aws-cn:ecr:{REGION}:{ACCOUNT}:repository/web",
                                f"arn:aws-cn:ecr:{REGION}:{ACCOUNT}:repository/api"]


def test_push_policy_optional_rights() -> None:
    services = ("arn:aws:ecs:us-west-2:1:service/c/b", "arn:aws:ecs:us-west-2:1:service/c/a")
    statements = push_policy(team(create=True, services=services, pass_roles=("arn:aws:iam::1:role/t",)),
                             ACCOUNT, REGION, "aws")["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert list(by_sid) == ["GetAuthorizationToken", "PushToTeamNamespace", "CreateRepositoriesInNamespace",
                            "UpdateEcsServices", "PassTaskRolesToEcs"]
    assert by_sid["CreateRepositoriesInNamespace"]["Resource"] == f"{PREFIX}/payments/*"
    assert by_sid["UpdateEcsServices"]["Resource"] == sorted(services)
    assert by_sid["PassTaskRolesToEcs"]["Resource"] == "arn:aws:iam::1:role/t"
    assert by_sid["PassTaskRolesToEcs"]["Condition"] == {"StringEquals": {"iam:PassedToService":
                                                                          "ecs-tasks.amazonaws.com"}}
    one = push_policy(team(services=services[:1]), ACCOUNT, REGION, "aws")["Statement"][2]
    assert one["Resource"] == services[0]
    assert len(push_policy(team(), ACCOUNT, REGION, "aws")["Statement"]) == 2
    assert push_policy(team("", ()), ACCOUNT, REGION, "aws")["Statement"][1]["Resource"] == []


def pull_statement(teams: list[Any], cache: tuple[str, ...] = ()) -> dict[str, Any]:
    statements = node_pull_policy(teams, ACCOUNT, REGION, "aws", "prod", cache)["Statement"]
    assert statements[0]["Action"] == "ecr:GetAuthorizationToken"
    return statements[1]


def teams_of_size(size: int) -> list[Any]:
    """Teams whose listed pull statement is exactly `size` characters (compacted)."""
    teams = [team(f"t{i:03d}") for i in range(200)]
    entry = len(f'"{PREFIX}//*",')
    while True:
        listed = {"Sid": "PullPlatformRepositories", "Effect": "Allow",
                  "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                  "Resource": sorted(f"{PREFIX}/{t.namespace}/*" for t in teams)}
        room = size - compact_size(listed)
        if room > entry:
            break
        teams.pop()
    teams.append(team("z" * (room - entry)))
    return teams


@pytest.mark.parametrize(("size", "tagged"), [(3072, False), (3073, True), (2500, False), (4000, True)])
def test_node_pull_policy_lists_arns_up_to_half_the_quota_then_selects_by_tag(size: int, tagged: bool) -> None:
    assert MANAGED_POLICY_MAX_CHARS == 6144, "AWS's quota for a managed policy"
    teams = teams_of_size(size)
    statement = pull_statement(teams)
    if tagged:
        assert statement["Resource"] == f"{PREFIX}/*"
        assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/managed-by": "ecr-platform",
                                                           "aws:ResourceTag/environment": "prod"}}
    else:
        assert compact_size(statement) == size
        assert "Condition" not in statement and len(statement["Resource"]) == len(teams)


def test_node_pull_policy_one_repository_and_cache_prefixes() -> None:
    assert pull_statement([team()])["Resource"] == f"{PREFIX}/payments/*"
    statements = node_pull_policy([team()], ACCOUNT, REGION, "aws", "prod", ("quay", "docker-hub"))["Statement"]
    cache = statements[2]
    assert cache["Sid"] == "PullThroughCache"
    assert cache["Action"] == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:BatchImportUpstreamImage",
                               "ecr:CreateRepository", "ecr:GetDownloadUrlForLayer"]
    assert cache["Resource"] == [f"{PREFIX}/docker-hub/*", f"{PREFIX}/quay/*"]
    assert len(node_pull_policy([team()], ACCOUNT, REGION, "aws", "prod")["Statement"]) == 2


def test_creation_role_policy() -> None:
    (create,) = creation_role_policy([team("b"), team("a"), team("a")], ACCOUNT, REGION, "aws", [])["Statement"]
    assert create["Action"] == ["ecr:CreateRepository", "ecr:TagResource"]
    assert create["Resource"] == [f"{PREFIX}/a/*", f"{PREFIX}/b/*"]
    statements = creation_role_policy([team()], ACCOUNT, REGION, "aws", ["k2", "k1", "k2"])["Statement"]
    assert statements[0]["Resource"] == f"{PREFIX}/payments/*"
    assert statements[1] == {"Sid": "EncryptWithTeamKeys", "Effect": "Allow",
                             "Action": ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"],
                             "Resource": ["k1", "k2"]}
    assert creation_role_policy([team()], ACCOUNT, REGION, "aws", ["k"])["Statement"][1]["Resource"] == "k"


def test_service_trust_policy() -> None:
    assert service_trust_policy("ecr.amazonaws.com")["Statement"] == [
        {"Sid": "AssumedByService", "Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"},
         "Action": "sts:AssumeRole"}]


# --- repository documents ------------------------------------------------------------------------------

ROOT = "arn:aws:iam::{}:root"
REPOSITORY_POLICIES = [
    # (pull accounts, push accounts, pull principals, push principals or None)
    ([], [], None, None),
    (["3"], [], ROOT.format(3), None),
    (["4", "3", "4"], [], [ROOT.format(3), ROOT.format(4)], None),
    ([], ["5"], ROOT.format(5), ROOT.format(5)),
    (["3"], ["3"], ROOT.format(3), ROOT.format(3)),                 # in both: still pulls
    (["3", "5"], ["5", "6"], [ROOT.format(3), ROOT.format(5), ROOT.format(6)], [ROOT.format(5), ROOT.format(6)]),
]


@pytest.mark.parametrize(("pull", "push", "readers", "writers"), REPOSITORY_POLICIES)
def test_repository_policy(pull: list[str], push: list[str], readers: Any, writers: Any) -> None:
    document = repository_policy(pull, push, "aws")
    if readers is None:
        assert document is None
        return
    assert document is not None
    statements = document["Statement"]
    assert statements[0]["Sid"] == "PullFromAccounts" and statements[0]["Principal"] == {"AWS": readers}
    assert statements[0]["Action"] == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                       "ecr:GetDownloadUrlForLayer"]
    if writers is None:
        assert len(statements) == 1
    else:
        assert statements[1]["Sid"] == "PushFromAccounts" and statements[1]["Principal"] == {"AWS": writers}
        assert "ecr:PutImage" in statements[1]["Action"]


LIFECYCLES = [
    (Lifecycle(), []),
    (Lifecycle(untagged_expire_days=7), [("untagged", "sinceImagePushed", 7, None)]),
    (Lifecycle(keep_last=30), [("any", "imageCountMoreThan", 30, None)]),
    (Lifecycle(keep_tagged=[KeepTagged(tag_prefixes=["prod-", "v"], count=10),
                            KeepTagged(tag_patterns=["rc-*"], count=2)], untagged_expire_days=1, keep_last=50),
     [("tagged", "imageCountMoreThan", 10, ["prod-"]), ("tagged", "imageCountMoreThan", 10, ["v"]),
      ("tagged", "imageCountMoreThan", 2, ["rc-*"]), ("untagged", "sinceImagePushed", 1, None),
      ("any", "imageCountMoreThan", 50, None)]),
]


@pytest.mark.parametrize(("lifecycle", "expected"), LIFECYCLES)
def test_lifecycle_rules(lifecycle: Lifecycle, expected: list[tuple[str, str, int, Any]]) -> None:
    rules = lifecycle_policy(lifecycle)["rules"]
    assert [r["rulePriority"] for r in rules] == list(range(1, len(expected) + 1))
    got = [(r["selection"]["tagStatus"], r["selection"]["countType"], r["selection"]["countNumber"],
            r["selection"].get("tagPrefixList", r["selection"].get("tagPatternList"))) for r in rules]
    assert got == expected
    assert all(r["action"] == {"type": "expire"} for r in rules)
    for rule in rules:
        if rule["selection"]["countType"] == "sinceImagePushed":
            assert rule["selection"]["countUnit"] == "days"
    json.dumps(rules)

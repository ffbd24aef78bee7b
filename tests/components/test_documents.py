"""The pure document builders: what AWS will be asked to enforce, checked without Pulumi."""

from __future__ import annotations

import ast
from pathlib import Path

import components
from components.config import GitHubAccess, Lifecycle, load_settings
from components.documents import (
    compact_size,
    github_subjects,
    lifecycle_policy,
    node_pull_policy,
    push_policy,
    repository_policy,
    trust_policy,
)

from .conftest import base_config

PROVIDER = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
ISSUER = "token.actions.githubusercontent.com"


def team(**changes):
    config = base_config()
    config["teams"]["payments"].update(changes)
    return load_settings(config, "dev").teams[0]


def test_subjects_for_every_kind_of_ref():
    access = GitHubAccess(repository="acme/app", branches=["main"], tags=["v*"], environments=["release"],
                          pull_requests=True)
    assert github_subjects([access]) == [
        "repo:acme/app:ref:refs/heads/main", "repo:acme/app:ref:refs/tags/v*",
        "repo:acme/app:environment:release", "repo:acme/app:pull_request",
    ]
    assert github_subjects([GitHubAccess(repository="acme/app", any_ref=True)]) == ["repo:acme/app:*"]


def test_exact_and_wildcard_subjects_never_share_a_statement():
    subjects = ["repo:acme/app:ref:refs/heads/main", "repo:acme/app:ref:refs/tags/v*"]
    statements = trust_policy(PROVIDER, ISSUER, subjects)["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    exact = by_sid["GitHubActionsExactSubjects"]["Condition"]
    pattern = by_sid["GitHubActionsSubjectPatterns"]["Condition"]
    assert exact["StringEquals"][f"{ISSUER}:sub"] == "repo:acme/app:ref:refs/heads/main"
    assert "StringLike" not in exact, "a wildcard subject under StringEquals would never match"
    assert pattern["StringLike"] == {f"{ISSUER}:sub": "repo:acme/app:ref:refs/tags/v*"}
    assert f"{ISSUER}:sub" not in pattern["StringEquals"], "StringEquals and StringLike on sub would both have to hold"
    for statement in statements:
        assert statement["Condition"]["StringEquals"][f"{ISSUER}:aud"] == "sts.amazonaws.com"
        assert statement["Principal"] == {"Federated": PROVIDER}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"


def test_enterprise_issuer_prefixes_the_condition_keys():
    issuer = "token.actions.githubusercontent.com/acme-enterprise"
    condition = trust_policy(PROVIDER, issuer, ["repo:acme/app:ref:refs/heads/main"])["Statement"][0]["Condition"]
    assert set(condition["StringEquals"]) == {f"{issuer}:aud", f"{issuer}:sub"}


def test_push_policy_is_scoped_to_the_team_namespace():
    statements = {s["Sid"]: s for s in push_policy(team(), "210987654321", "us-west-2", "aws")["Statement"]}
    assert statements["GetAuthorizationToken"]["Resource"] == "*"
    assert statements["GetAuthorizationToken"]["Action"] == "ecr:GetAuthorizationToken"
    push = statements["PushToTeamNamespace"]
    assert push["Resource"] == "arn:aws:ecr:us-west-2:210987654321:repository/payments/*"
    assert "ecr:PutImage" in push["Action"] and not any(a.endswith("*") for a in push["Action"])
    assert "CreateRepositoriesInNamespace" not in statements, "creation only when allowCreateRepositories"


def test_push_policy_without_namespace_lists_exact_repository_arns():
    statements = {s["Sid"]: s for s in push_policy(team(namespace=""), "210987654321", "us-west-2", "aws")["Statement"]}
    assert statements["PushToTeamRepositories"]["Resource"] == [
        "arn:aws:ecr:us-west-2:210987654321:repository/api", "arn:aws:ecr:us-west-2:210987654321:repository/worker"]


def test_create_and_deploy_rights_are_scoped():
    resolved = team(allowCreateRepositories=True, deploy={
        "ecsServices": ["arn:aws:ecs:us-west-2:210987654321:service/payments/api"],
        "passRoles": ["arn:aws:iam::210987654321:role/payments-task"]})
    statements = {s["Sid"]: s for s in push_policy(resolved, "210987654321", "us-west-2", "aws")["Statement"]}
    assert statements["CreateRepositoriesInNamespace"]["Resource"].endswith(":repository/payments/*")
    assert statements["UpdateEcsServices"]["Resource"] == "arn:aws:ecs:us-west-2:210987654321:service/payments/api"
    passing = statements["PassTaskRolesToEcs"]
    assert passing["Resource"] == "arn:aws:iam::210987654321:role/payments-task"
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}


def test_push_policy_uses_the_partition():
    policy = push_policy(team(), "210987654321", "cn-north-1", "aws-cn")
    assert policy["Statement"][1]["Resource"].startswith("arn:aws-cn:ecr:cn-north-1:")


def test_repository_policy_gives_pull_to_readers_and_push_only_to_writers():
    policy = repository_policy(["333333333333"], ["444444444444"], "aws")
    assert policy is not None
    pull, push = policy["Statement"]
    assert pull["Principal"]["AWS"] == ["arn:aws:iam::333333333333:root", "arn:aws:iam::444444444444:root"]
    assert push["Principal"]["AWS"] == "arn:aws:iam::444444444444:root"
    assert "ecr:PutImage" in push["Action"] and "ecr:PutImage" not in pull["Action"]
    assert repository_policy([], [], "aws") is None, "no policy when no other account needs access"


def test_lifecycle_rules_follow_ecr_semantics():
    rules = lifecycle_policy(Lifecycle.model_validate({
        "keepTagged": [{"tagPrefixes": ["prod-", "v"], "count": 10}, {"tagPatterns": ["rc-*"], "count": 3}],
        "untaggedExpireDays": 7, "keepLast": 30}))["rules"]
    assert [r["rulePriority"] for r in rules] == [1, 2, 3, 4, 5], "priorities are unique and ordered"
    assert [r["selection"].get("tagPrefixList") for r in rules[:2]] == [["prod-"], ["v"]], (
        "one rule per prefix: a multi-prefix list would only match images carrying every prefix")
    assert rules[2]["selection"]["tagPatternList"] == ["rc-*"]
    assert rules[3]["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                     "countNumber": 7}
    assert rules[-1]["selection"]["tagStatus"] == "any", "the `any` rule must be evaluated last"
    assert all(r["action"] == {"type": "expire"} for r in rules)


def test_sizes_are_counted_without_whitespace():
    assert compact_size({"a": "b c"}) == len('{"a":"bc"}')


def test_node_pull_policy_switches_to_tags_before_the_managed_quota():
    config = base_config()
    config["teams"] = {f"team-{i:03d}": {"repositories": ["api"]} for i in range(300)}
    teams = load_settings(config, "prod").teams
    policy = node_pull_policy(teams, "210987654321", "us-west-2", "aws", "prod")
    assert compact_size(policy) <= 6144, "a managed policy over 6144 characters fails at deploy"
    pull = policy["Statement"][1]
    assert pull["Resource"] == "arn:aws:ecr:us-west-2:210987654321:repository/*"
    assert pull["Condition"]["StringEquals"] == {"aws:ResourceTag/managed-by": "ecr-platform",
                                                 "aws:ResourceTag/environment": "prod"}
    small = node_pull_policy(teams[:3], "210987654321", "us-west-2", "aws", "prod")["Statement"][1]
    assert "Condition" not in small and len(small["Resource"]) == 3, "small stacks list their repositories"


def test_the_builders_and_quotas_import_nothing_from_the_config():
    # Config validation builds these documents to measure them: an import back would be a cycle.
    for module in ("documents.py", "quotas.py"):
        tree = ast.parse((Path(components.__file__).parent / module).read_text())
        imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {m for m in imported if "config" in m.split(".")}, f"components/{module} imports the config"

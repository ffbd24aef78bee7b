"""Realistic stack configs of any size for the benchmarks (and `tests/bench/test_bench_smoke.py`).

Every team looks like a team of the seeds: its own namespace, five repositories (one of them with
its own lifecycle or mutability), two GitHub repositories (main + a release environment, and
`v*` tags), pull access for the clusters, and every fifth team also lets a build account push or
has deploy rights. Defaults carry a lifecycle with two keep rules and untagged expiry, as the
internal developer platform seed does.
"""

from __future__ import annotations

from typing import Any

# The dev stack's account and consumer accounts, so `policy/config/dev.json` judges these stacks as is.
ACCOUNT = "111111111111"
REGION = "us-east-1"
ACCOUNTS = {"dev-cluster": "222222222222", "test-cluster": "444444444444", "ci-builders": "555555555555"}
REPOSITORIES = ("api", "worker", "web", "migrations", "jobs")


def team_name(index: int) -> str:
    return f"team-{index:04d}"


def team_config(index: int, repositories: int = 5, github_repositories: int = 2) -> dict[str, Any]:
    """One product team: namespace, `repositories` repositories, `github_repositories` GitHub repos."""
    name = team_name(index)
    repos: list[Any] = [REPOSITORIES[i] if i < len(REPOSITORIES) else f"svc-{i:03d}" for i in range(repositories)]
    if repositories > 1:
        repos[1] = {"name": repos[1], "imageTagMutability": "MUTABLE", "lifecycle": {"keepLast": 50}}
    github: list[dict[str, Any]] = []
    for g in range(github_repositories):
        entry: dict[str, Any] = {"repository": f"acme/{name}-{g}"}
        if g % 2 == 0:
            entry.update(branches=["main"], environments=["release"])
        else:
            entry.update(tags=["v*"])
        github.append(entry)
    team: dict[str, Any] = {
        "namespace": f"products/{name}",
        "repositories": repos,
        "pullAccounts": ["dev-cluster", "test-cluster"] if index % 2 == 0 else ["dev-cluster"],
        "github": github,
    }
    if index % 5 == 0:
        team["pushAccounts"] = ["ci-builders"]
    if index % 5 == 1:
        team["deploy"] = {
            "ecsServices": [f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{name}/api"],
            "passRoles": [f"arn:aws:iam::{ACCOUNT}:role/{name}-task"],
        }
    return team


def project_config(teams: int, repositories: int = 5, github_repositories: int = 2) -> dict[str, Any]:
    """The `ecr-platform:` keys (unprefixed) of a stack with `teams` teams."""
    return {
        "environment": "dev",
        "github": {"organizations": ["acme"], "oidcProvider": "create"},
        "accounts": dict(ACCOUNTS),
        "defaults": {
            "scanOnPush": True,
            "imageTagMutability": "IMMUTABLE",
            "encryption": {"type": "AES256"},
            "lifecycle": {
                "keepTagged": [{"tagPrefixes": ["prod-", "v"], "count": 10},
                               {"tagPrefixes": ["staging-", "dev-"], "count": 5}],
                "untaggedExpireDays": 7,
            },
            "protect": True,
        },
        "nodePullRoles": ["eks-node-group-role"],
        "teams": {team_name(i): team_config(i, repositories, github_repositories) for i in range(teams)},
    }


def stack_config(teams: int, repositories: int = 5, github_repositories: int = 2) -> dict[str, Any]:
    """Fully qualified stack config (`aws:*` and `ecr-platform:*`), as `run_program` takes it."""
    project = project_config(teams, repositories, github_repositories)
    return {"aws:region": REGION, "aws:allowedAccountIds": [ACCOUNT],
            **{f"ecr-platform:{key}": value for key, value in project.items()}}


def stack_file(teams: int) -> dict[str, Any]:
    """A `Pulumi.<stack>.yaml` document for `review.check --config-file`."""
    return {"config": stack_config(teams)}

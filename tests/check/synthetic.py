"""Large stacks for the check: a valid stack config (`python -m tests.check.synthetic 200 > /tmp/200.yaml`,
then `python -m review.check --stack dev --config-file /tmp/200.yaml --timing`), and a check
result of any size built directly (`synthetic_result`), so the report's renderers can be tested at
1,000 teams without the ~100 s the program takes there under mocks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from review.access import (
    AccessReport,
    AccountAccess,
    Grant,
    Overlap,
    RepoAccess,
    RoleAccess,
    TrustEntry,
    level_actions,
)
from review.deletions import CREATION_TEMPLATE, DELETE, REPOSITORY, Deletion
from review.guard import FileChange, Guard, GuardChange, SettingChange
from review.report import CheckResult, Comparison, Summary, Violation, compare


def synthetic_config(teams: int, environment: str = "dev") -> dict[str, Any]:
    """`teams` teams of two repositories each, mixing every seed pattern the contract allows."""
    config: dict[str, Any] = {
        "aws:region": "us-east-1",
        "aws:allowedAccountIds": ["111111111111"],
        "ecr-platform:environment": environment,
        "ecr-platform:github": {"organizations": ["acme"], "oidcProvider": "create"},
        "ecr-platform:accounts": {"cluster": "222222222222", "builders": "555555555555"},
        "ecr-platform:defaults": {
            "scanOnPush": True,
            "imageTagMutability": "IMMUTABLE",
            "encryption": {"type": "AES256"},
            "lifecycle": {"untaggedExpireDays": 7},
            "protect": False,
        },
        "ecr-platform:nodePullRoles": ["eks-node-group-role"],
        "ecr-platform:teams": {},
    }
    for i in range(teams):
        name = f"team-{i:03d}"
        team: dict[str, Any] = {
            "repositories": ["api", "worker"],
            "github": [{"repository": f"acme/{name}", "branches": ["main"], "environments": ["release"]}],
        }
        if i % 3 == 0:
            team["pullAccounts"] = ["cluster"]
        if i % 10 == 0:
            team["pushAccounts"] = ["builders"]
        if i % 25 == 0:
            team["github"].append({"repository": f"acme/{name}-tools", "tags": ["v*"]})
        if i % 50 == 0:
            team["allowCreateRepositories"] = True
        config["ecr-platform:teams"][name] = team
    return config


ACCOUNT, ISSUER = "111111111111", "token.actions.githubusercontent.com"
_PULL = tuple(sorted(level_actions()["pull"] | {"ecr:BatchCheckLayerAvailability"}))
_PUSH = tuple(sorted(set(_PULL) | level_actions()["push"]))


def _repo(name: str, push: bool) -> RepoAccess:
    return RepoAccess(name, ("pull", "push", "read") if push else ("pull", "read"), _PUSH if push else _PULL)


def synthetic_result(teams: int, widened: bool = False) -> CheckResult:
    """A check result shaped like `synthetic_config(teams)` judged by the pack: per team a push role
    trusted by its main branch and release environment, two repositories, cluster pulls on every third
    team, builder pushes on every tenth, deploy rights on every seventh; a node role that pulls
    everything; an advisory violation on every fourth team and a mandatory one on every ninth.
    `widened` is the same stack after a change: an org-wide any-ref subject on team 0's role (an
    overlap with every team), builders pushing to every fifth team, and one more mandatory violation."""
    names = [f"team-{i:04d}" for i in range(teams)]
    trusts: list[TrustEntry] = []
    roles: dict[str, RoleAccess] = {}
    repository_teams: dict[str, str] = {}
    cluster = AccountAccess("222222222222", "cluster", "account", "repository policy")
    builders = AccountAccess("555555555555", "builders", "account", "repository policy")
    node = AccountAccess(ACCOUNT, "this account", f"arn:aws:iam::{ACCOUNT}:role/eks-node-group-role",
                         "identity policy", undeclared=[RepoAccess("docker-hub/*", ("pull", "manage", "read"),
                                                                   (*_PULL, "ecr:BatchImportUpstreamImage"))])
    violations: list[Violation] = []
    for i, team in enumerate(names):
        repositories = [f"{team}/api", f"{team}/worker"]
        repository_teams.update(dict.fromkeys(repositories, team))
        role = f"github-push-{team}"
        service = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/{team}/api"
        other = [Grant("ecs:UpdateService", service)] if i % 7 == 0 else []
        roles[role] = RoleAccess(role, f"arn:aws:iam::{ACCOUNT}:role/{role}", team, True,
                                 [_repo(r, True) for r in repositories], other=other, login=True)
        for subject in (f"repo:acme/{team}:ref:refs/heads/main", f"repo:acme/{team}:environment:release"):
            trusts.append(TrustEntry("github", ISSUER, role, subject, "exact"))
        node.repositories += [_repo(r, False) for r in repositories]
        if i % 3 == 0:
            cluster.repositories += [_repo(r, False) for r in repositories]
        if i % (5 if widened else 10) == 0:
            builders.repositories += [_repo(r, True) for r in repositories]
        urn = f"urn:pulumi:dev::ecr-platform::aws:ecr/repository:Repository::{team}-worker"
        if i % 4 == 0:
            violations.append(Violation("ecr-tag-immutability", "advisory",
                                        f"The ECR repository '{team}/worker' must have immutable image tags.", urn))
        if i % 9 == 0 or (widened and i == 1):
            violations.append(Violation("ecr-repository-policy-restricted", "mandatory",
                                        f"The repository policy of '{team}/api' grants push to account "
                                        f"555555555555, which is not in allowedPushAccounts.", urn))
    overlaps: list[Overlap] = []
    if widened and names:
        wide = f"github-push-{names[0]}"
        trusts.append(TrustEntry("github", ISSUER, wide, "repo:acme/*:*", "pattern"))
        overlaps = [Overlap(f"repo:acme/{team}:ref:refs/heads/main", f"repo:acme/{team}:ref:refs/heads/main",
                            f"github-push-{team}", "repo:acme/*:*", wide) for team in names[1:]]
    repositories = sorted(repository_teams)
    access = AccessReport(ACCOUNT, trusts, dict(sorted(roles.items())), [cluster, builders, node], overlaps)
    summary = Summary("dev", "dev", ACCOUNT, "us-east-1", names, repositories, sorted(roles),
                      {"aws:ecr/repository:Repository": len(repositories), "aws:iam/role:Role": len(roles)},
                      repository_teams)
    guard = Guard(Path("policy"), {}, "policy/config/dev.json", "main", "0123456789abcdef0123456789abcdef01234567")
    return CheckResult(summary, access, violations, guard, simulated=frozenset())


def synthetic_deletions(teams: int) -> list[Deletion]:
    """Every 20th team's worker repository moved to a new namespace (advisory, as dev judges it), and
    every 40th team's creation template retired."""
    found = []
    for i in range(0, teams, 20):
        team = f"team-{i:04d}"
        urn = f"urn:pulumi:dev::ecr-platform::aws:ecr/repository:Repository::{team}/worker"
        found.append(Deletion(REPOSITORY, f"{team}/worker", DELETE, f"no longer declared; the stack declares "
                              f"moved/{team}-worker instead", urn, (f"moved/{team}-worker",), enforcement="advisory"))
        if i % 40 == 0:
            found.append(Deletion(CREATION_TEMPLATE, team, DELETE, "no longer declared", f"{urn}-template",
                                  retired_by="retire.creationTemplates"))
    return found


def synthetic_change(teams: int) -> tuple[CheckResult, Comparison]:
    """The widened stack judged by the base's guard, compared with the base, with a guard change and
    the deletions of `synthetic_deletions` (each unretired one also a violation, as the check reports it)."""
    loosened = SettingChange("policy/config/dev.json", "github-oidc-trust-scoped.allowAnyRef", False, True)
    change = GuardChange("main", "0123456789abcdef0123456789abcdef01234567",
                         (FileChange("policy/config/dev.json", "modified", 2, 2),), (loosened,))
    head = synthetic_result(teams, widened=True)
    head.guard_change = change
    deletions = synthetic_deletions(teams)
    head.violations += [Violation("protect-registries", d.enforcement, d.message(), d.urn)
                        for d in deletions if d.enforcement]
    return head, compare(synthetic_result(teams), head, "main", "base: Pulumi.dev.yaml at main", change, deletions)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    sys.stdout.write(yaml.safe_dump({"config": synthetic_config(count)}, sort_keys=False))

"""Pure builders for every JSON document the stack declares (no Pulumi in here).

Each returns plain data; `to_json` serialises once, at the edge. Every statement has a Sid.
Inputs are names and ids known at preview time, so `pulumi preview` shows real documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .quotas import MANAGED_POLICY_MAX_CHARS, compact_size

VERSION = "2012-10-17"
AUDIENCE = "sts.amazonaws.com"
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
ECR_PUSH_ACTIONS = ("ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart")
ECR_DESCRIBE_ACTIONS = ("ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:ListImages")
_WILDCARD = re.compile(r"[*?]")


# --- what the builders read -------------------------------------------------------------------
# The resolved config (components.config) has these shapes. They are protocols rather than its
# classes because config validation builds these documents to measure them: no import goes back.


class GitHubEntry(Protocol):
    """A `teams.<team>.github[]` entry: one GitHub repository and the refs it may push from."""

    @property
    def repository(self) -> str: ...
    @property
    def branches(self) -> Sequence[str]: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def environments(self) -> Sequence[str]: ...
    @property
    def pull_requests(self) -> bool: ...
    @property
    def any_ref(self) -> bool: ...
    @property
    def workflow(self) -> str | None: ...


class KeepRule(Protocol):
    @property
    def tag_prefixes(self) -> Sequence[str] | None: ...
    @property
    def tag_patterns(self) -> Sequence[str] | None: ...
    @property
    def count(self) -> int: ...


class ArchiveRule(Protocol):
    @property
    def tag_prefixes(self) -> Sequence[str] | None: ...
    @property
    def tag_patterns(self) -> Sequence[str] | None: ...
    @property
    def days_without_pull(self) -> int | None: ...
    @property
    def days_since_push(self) -> int | None: ...


class Retention(Protocol):
    """A repository's lifecycle settings."""

    @property
    def keep_tagged(self) -> Sequence[KeepRule] | None: ...
    @property
    def keep_last(self) -> int | None: ...
    @property
    def untagged_expire_days(self) -> int | None: ...
    @property
    def archive(self) -> Sequence[ArchiveRule] | None: ...
    @property
    def archived_expire_days(self) -> int | None: ...


class Named(Protocol):
    @property
    def name(self) -> str: ...


class DeployRights(Protocol):
    @property
    def ecs_services(self) -> Sequence[str]: ...
    @property
    def pass_roles(self) -> Sequence[str]: ...


class TeamScope(Protocol):
    """A resolved team: where its repositories are and what its role may do besides pushing."""

    @property
    def namespace(self) -> str: ...
    @property
    def repositories(self) -> Sequence[Named]: ...
    @property
    def allow_create_repositories(self) -> bool: ...
    @property
    def deploy(self) -> DeployRights: ...


def to_json(document: dict[str, Any]) -> str:
    """The one serialisation of a document: stable key order, so diffs only show real changes."""
    return json.dumps(document, sort_keys=True)


def _one_or_many(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


# --- ARNs -----------------------------------------------------------------------------------------


def oidc_provider_arn(partition: str, account: str, issuer: str) -> str:
    return f"arn:{partition}:iam::{account}:oidc-provider/{issuer}"


def repository_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:ecr:{region}:{account}:repository/{name}"


def account_root_arn(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:root"


def signing_profile_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:signer:{region}:{account}:/signing-profiles/{name}"


def team_repository_filters(team: TeamScope) -> list[str]:
    """ECR wildcard filters selecting exactly a team's repositories: its namespace, or each name."""
    return [f"{team.namespace}/*"] if team.namespace else [repo.name for repo in team.repositories]


def signing_rules(teams: Iterable[Named], profile_of: Callable[[str], str | None],
                  filters_of: Callable[[Any], list[str]]) -> dict[str, list[str] | None]:
    """Signing profile -> the repository filters of its rule (None: the rule covers every repository).

    One rule per profile in use (ECR's rule holds one profile), in the order teams first use them; a
    profile that signs every team gets no filters, so a registry of any size needs one rule.
    """
    teams = list(teams)
    rules: dict[str, list[str]] = {}
    for team in teams:
        profile = profile_of(team.name)
        if profile is not None:
            rules.setdefault(profile, []).extend(filters_of(team))
    if len(rules) == 1 and all(profile_of(t.name) is not None for t in teams):
        return {profile: None for profile in rules}
    return dict(rules)


def team_repository_arns(team: TeamScope, partition: str, region: str, account: str) -> list[str]:
    """The ARNs a team's role reaches: its namespace, or each repository when it has none."""
    if team.namespace:
        return [repository_arn(partition, region, account, f"{team.namespace}/*")]
    return [repository_arn(partition, region, account, repo.name) for repo in team.repositories]


# --- GitHub trust ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GitHubRepositoryName:
    """`github[].repository` taken apart: `acme/app`, or GitHub's immutable form `acme@1001/app@2002`."""

    owner: str
    repo: str
    """The repository name, or `*` for every repository of the owner."""
    owner_id: str | None = None
    repo_id: str | None = None

    @property
    def name(self) -> str:
        """`<owner>/<repo>`: what GitHub's API, `job_workflow_ref` and the name-form subject use."""
        return f"{self.owner}/{self.repo}"

    @property
    def immutable(self) -> str | None:
        """`<owner>@<id>/<repo>@<id>`, the prefix of the immutable-form subject; None without IDs."""
        if self.owner_id is None or self.repo_id is None:
            return None
        return f"{self.owner}@{self.owner_id}/{self.repo}@{self.repo_id}"


def github_repository_name(value: str) -> GitHubRepositoryName:
    """Split `owner/repo` or `owner@owner_id/repo@repo_id` (validation says whether the parts are valid)."""
    owner_part, _, repo_part = value.partition("/")
    owner, _, owner_id = owner_part.partition("@")
    repo, _, repo_id = repo_part.partition("@")
    return GitHubRepositoryName(owner, repo, owner_id or None, repo_id or None)


def _entry_subjects(access: GitHubEntry, repository: str) -> list[str]:
    prefix = f"repo:{repository}"
    return (
        [f"{prefix}:*"] if access.any_ref else
        [f"{prefix}:ref:refs/heads/{b}" for b in access.branches]
        + [f"{prefix}:ref:refs/tags/{t}" for t in access.tags]
        + [f"{prefix}:environment:{e}" for e in access.environments]
        + ([f"{prefix}:pull_request"] if access.pull_requests else [])
    )


def github_subjects(accesses: Iterable[GitHubEntry]) -> list[str]:
    """The `sub` claims GitHub puts in tokens for the refs each entry names, in config order.

    An entry with IDs gets both forms of each subject: the name form (a repository that has not
    opted in to immutable subjects) and the immutable form (one created or renamed since July 2026).
    """
    subjects: list[str] = []
    for access in accesses:
        name = github_repository_name(access.repository)
        wanted = _entry_subjects(access, name.name)
        if name.immutable:
            wanted += _entry_subjects(access, name.immutable)
        subjects.extend(s for s in wanted if s not in subjects)
    return subjects


def _pinned(access: GitHubEntry) -> bool:
    """Whether the entry needs statements of its own (a repository_id or job_workflow_ref pin)."""
    return github_repository_name(access.repository).immutable is not None or access.workflow is not None


def _workflow_refs(access: GitHubEntry, name: str) -> list[str]:
    """`job_workflow_ref` values: the workflow file at each ref the entry names; `@*` where the
    subject does not name the ref (environments, pull requests, any ref)."""
    path = f"{name}/{access.workflow}"
    if access.any_ref or access.environments or access.pull_requests:
        return [f"{path}@*"]
    return [f"{path}@refs/heads/{b}" for b in access.branches] + [f"{path}@refs/tags/{t}" for t in access.tags]


def _statement_id(access: GitHubEntry, taken: set[str]) -> str:
    name = github_repository_name(access.repository)
    base = f"GitHubRepository{name.repo_id}" if name.repo_id else \
        "GitHub" + "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name.name) if part)
    if access.workflow:
        base += "Workflow" + "".join(part.capitalize() for part in
                                     re.split(r"[^A-Za-z0-9]+", access.workflow.rsplit("/", 1)[-1]) if part)
    sid, number = base, 1
    while sid in taken:
        number += 1
        sid = f"{base}N{number}"
    taken.add(sid)
    return sid


def github_trust_policy(provider_arn: str, issuer: str, accesses: Sequence[GitHubEntry]) -> dict[str, Any]:
    """The push role's trust policy for a team's `github` entries.

    Entries that name a repository only by name share the two statements `trust_policy` makes
    (the documents of stacks without IDs are unchanged, byte for byte). An entry with IDs, or a
    `workflow`, gets statements of its own: both subject forms, and in the same statement
    StringEquals `repository_id` (a re-created repository with the same name has another ID) and
    `job_workflow_ref` when a workflow is pinned, so each pin applies to that repository only.
    """
    document = trust_policy(provider_arn, issuer, github_subjects(a for a in accesses if not _pinned(a)))
    taken = {s["Sid"] for s in document["Statement"]}
    for access in accesses:
        if not _pinned(access):
            continue
        name = github_repository_name(access.repository)
        sid = _statement_id(access, taken)
        pins: dict[str, dict[str, Any]] = {}
        if name.repo_id:
            pins.setdefault("StringEquals", {})[f"{issuer}:repository_id"] = name.repo_id
        if access.workflow:
            refs = _workflow_refs(access, name.name)
            operator = "StringLike" if any(_WILDCARD.search(r) for r in refs) else "StringEquals"
            pins.setdefault(operator, {})[f"{issuer}:job_workflow_ref"] = _one_or_many(refs)
        for statement in trust_policy(provider_arn, issuer, github_subjects([access]))["Statement"]:
            kind = "Exact" if statement["Sid"].endswith("ExactSubjects") else "Patterns"
            statement["Sid"] = sid + kind
            for operator, values in pins.items():
                statement["Condition"].setdefault(operator, {}).update(values)
            document["Statement"].append(statement)
    return document


def trust_policy(provider_arn: str, issuer: str, subjects: Sequence[str]) -> dict[str, Any]:
    """Who may assume a push role: tokens for exactly `subjects`, for the STS audience.

    Exact subjects and wildcard subjects go in separate statements: in one statement,
    StringEquals and StringLike on `sub` would both have to match.
    """
    exact = [s for s in subjects if not _WILDCARD.search(s)]
    patterns = [s for s in subjects if _WILDCARD.search(s)]
    audience = {f"{issuer}:aud": AUDIENCE}
    statements = []
    for sid, operator, values in (
        ("GitHubActionsExactSubjects", "StringEquals", exact),
        ("GitHubActionsSubjectPatterns", "StringLike", patterns),
    ):
        if not values:
            continue
        condition: dict[str, dict[str, Any]] = {"StringEquals": dict(audience)}
        condition.setdefault(operator, {})[f"{issuer}:sub"] = _one_or_many(values)
        statements.append({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        })
    return {"Version": VERSION, "Statement": statements}


# --- identity policies ----------------------------------------------------------------------------


def push_policy(team: TeamScope, account: str, region: str, partition: str,
                signing_profiles: Sequence[str] = ()) -> dict[str, Any]:
    """What a team's push role may do: push and pull its own repositories, and nothing else.

    With managed signing ECR signs each push as the pusher, so the role may also sign with the
    profile(s) whose signing rules cover its repositories (`signing_profiles`, ARNs), and no other.
    """
    resources = team_repository_arns(team, partition, region, account)
    statements: list[dict[str, Any]] = [
        {
            # GetAuthorizationToken has no resource type: AWS allows nothing narrower than "*".
            "Sid": "GetAuthorizationToken",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
        {
            "Sid": "PushToTeamNamespace" if team.namespace else "PushToTeamRepositories",
            "Effect": "Allow",
            "Action": sorted(ECR_PULL_ACTIONS + ECR_PUSH_ACTIONS + ECR_DESCRIBE_ACTIONS),
            "Resource": _one_or_many(resources),
        },
    ]
    if team.allow_create_repositories:
        statements.append({
            "Sid": "CreateRepositoriesInNamespace",
            "Effect": "Allow",
            "Action": "ecr:CreateRepository",
            "Resource": repository_arn(partition, region, account, f"{team.namespace}/*"),
        })
    if signing_profiles:
        statements.append({
            "Sid": "SignWithTeamProfile",
            "Effect": "Allow",
            "Action": "signer:SignPayload",
            "Resource": _one_or_many(sorted(set(signing_profiles))),
        })
    if team.deploy.ecs_services:
        statements.append({
            "Sid": "UpdateEcsServices",
            "Effect": "Allow",
            "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
            "Resource": _one_or_many(sorted(team.deploy.ecs_services)),
        })
    if team.deploy.pass_roles:
        statements.append({
            "Sid": "PassTaskRolesToEcs",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": _one_or_many(sorted(team.deploy.pass_roles)),
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        })
    return {"Version": VERSION, "Statement": statements}


def node_pull_policy(teams: Iterable[TeamScope], account: str, region: str, partition: str,
                     environment: str, cache_prefixes: Sequence[str] = ()) -> dict[str, Any]:
    """Pull-only rights on every repository of the stack, for node roles (EKS, ECS hosts).

    Repositories are listed by ARN pattern while that fits the managed policy quota; past it,
    one statement selects them by the tags every repository of this stack carries.
    Pulling through a cache rule creates the cached repository and imports the upstream image
    on first pull, so cache prefixes also get those two actions, and nothing else.
    """
    teams = list(teams)
    resources = sorted({arn for team in teams for arn in team_repository_arns(team, partition, region, account)})
    pull: dict[str, Any] = {"Sid": "PullPlatformRepositories", "Effect": "Allow", "Action": list(ECR_PULL_ACTIONS),
                            "Resource": _one_or_many(resources)}
    if compact_size(pull) > MANAGED_POLICY_MAX_CHARS // 2:
        pull["Resource"] = repository_arn(partition, region, account, "*")
        pull["Condition"] = {"StringEquals": {"aws:ResourceTag/managed-by": "ecr-platform",
                                              "aws:ResourceTag/environment": environment}}
    statements: list[dict[str, Any]] = [
        {"Sid": "GetAuthorizationToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        pull,
    ]
    if cache_prefixes:
        statements.append({
            "Sid": "PullThroughCache",
            "Effect": "Allow",
            "Action": sorted((*ECR_PULL_ACTIONS, "ecr:BatchImportUpstreamImage", "ecr:CreateRepository")),
            "Resource": _one_or_many([repository_arn(partition, region, account, f"{p}/*")
                                      for p in sorted(cache_prefixes)]),
        })
    return {"Version": VERSION, "Statement": statements}


def creation_role_policy(teams: Iterable[TeamScope], account: str, region: str, partition: str,
                         kms_key_arns: Sequence[str]) -> dict[str, Any]:
    """What ECR may do with the role a creation template names: create and tag, in the namespaces."""
    namespaces = sorted({repository_arn(partition, region, account, f"{t.namespace}/*") for t in teams})
    statements: list[dict[str, Any]] = [{
        "Sid": "CreateRepositoriesInNamespaces",
        "Effect": "Allow",
        "Action": ["ecr:CreateRepository", "ecr:TagResource"],
        "Resource": _one_or_many(namespaces),
    }]
    if kms_key_arns:
        statements.append({
            "Sid": "EncryptWithTeamKeys",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"],
            "Resource": _one_or_many(sorted(set(kms_key_arns))),
        })
    return {"Version": VERSION, "Statement": statements}


def service_trust_policy(service: str) -> dict[str, Any]:
    return {
        "Version": VERSION,
        "Statement": [{"Sid": "AssumedByService", "Effect": "Allow", "Principal": {"Service": service},
                       "Action": "sts:AssumeRole"}],
    }


# --- repository documents -------------------------------------------------------------------------


def repository_policy(pull_accounts: Sequence[str], push_accounts: Sequence[str],
                      partition: str) -> dict[str, Any] | None:
    """Cross-account access to one repository; None when no other account needs any."""
    readers = sorted(set(pull_accounts) | set(push_accounts))
    if not readers:
        return None
    statements = [{
        "Sid": "PullFromAccounts",
        "Effect": "Allow",
        "Principal": {"AWS": _one_or_many([account_root_arn(partition, a) for a in readers])},
        "Action": list(ECR_PULL_ACTIONS),
    }]
    if push_accounts:
        statements.append({
            "Sid": "PushFromAccounts",
            "Effect": "Allow",
            "Principal": {"AWS": _one_or_many([account_root_arn(partition, a) for a in sorted(set(push_accounts))])},
            "Action": list(ECR_PUSH_ACTIONS),
        })
    return {"Version": VERSION, "Statement": statements}


def lifecycle_policy(lifecycle: Retention) -> dict[str, Any]:
    """ECR lifecycle rules: tagged keeps first, archive transitions and archived expiry, untagged expiry
    next, the `any` cap last.

    One rule per tag prefix: with several prefixes in one tagPrefixList ECR selects only
    images carrying all of them, which is never what "keep prod- and v images" means.
    """
    rules: list[dict[str, Any]] = []

    def add(description: str, selection: dict[str, Any], action: dict[str, Any] | None = None) -> None:
        rules.append({"rulePriority": len(rules) + 1, "description": description,
                      "selection": selection, "action": action or {"type": "expire"}})

    for keep in lifecycle.keep_tagged or ():
        for prefix in keep.tag_prefixes or ():
            add(f"Keep the newest {keep.count} images tagged {prefix}*",
                {"tagStatus": "tagged", "tagPrefixList": [prefix], "countType": "imageCountMoreThan",
                 "countNumber": keep.count})
        for pattern in keep.tag_patterns or ():
            add(f"Keep the newest {keep.count} images tagged {pattern}",
                {"tagStatus": "tagged", "tagPatternList": [pattern], "countType": "imageCountMoreThan",
                 "countNumber": keep.count})
    to_archive = {"type": "transition", "targetStorageClass": "archive"}
    for archive in lifecycle.archive or ():
        count_type, days, why = (("sinceImagePulled", archive.days_without_pull, "without a pull")
                                 if archive.days_without_pull else
                                 ("sinceImagePushed", archive.days_since_push, "after push"))
        for key, values, suffix in (("tagPrefixList", archive.tag_prefixes, "*"),
                                    ("tagPatternList", archive.tag_patterns, "")):
            for value in values or ():
                add(f"Archive images tagged {value}{suffix} {days} days {why}",
                    {"tagStatus": "tagged", key: [value], "storageClass": "standard", "countType": count_type,
                     "countUnit": "days", "countNumber": days}, to_archive)
    if lifecycle.archived_expire_days:
        add(f"Expire archived images {lifecycle.archived_expire_days} days after archiving",
            {"tagStatus": "tagged", "tagPatternList": ["*"], "storageClass": "archive",
             "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": lifecycle.archived_expire_days})
    if lifecycle.untagged_expire_days:
        add(f"Expire untagged images {lifecycle.untagged_expire_days} days after push",
            {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
             "countNumber": lifecycle.untagged_expire_days})
    if lifecycle.keep_last:
        add(f"Keep at most {lifecycle.keep_last} images in all",
            {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": lifecycle.keep_last})
    return {"rules": rules}

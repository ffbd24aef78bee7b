"""Rules no single section can check: they need every team, or the settings after layering.

They run once the whole configuration is valid (pydantic's after-validators wait the same way),
so they never report a consequence of a bad value. Each returns `path: message` lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..documents import (
    github_repository_name,
    github_trust_policy,
    oidc_provider_arn,
    push_policy,
    signing_rules,
    team_repository_filters,
)
from ..quotas import inline_policy_problem, trust_policy_problem
from .messages import did_you_mean
from .models import archive_overlaps
from .registry import MAX_FILTERS, MAX_SIGNING_RULES
from .resolve import ResolvedTeam, Settings
from .retire import retire_problems
from .values import ROLE_NAME, repository_name_problem

# Documents are measured with a placeholder account and region: every account id has 12 digits,
# and the region only appears in ARNs that a namespace keeps to one pattern.
PLACEHOLDER_ACCOUNT = "000000000000"
PLACEHOLDER_REGION = "us-east-1"


def stack_problems(settings: Settings) -> list[str]:
    """Every problem of the resolved stack, in the teams' order, each once."""
    problems = [p for team in settings.teams for p in _team_problems(team, settings)]
    problems += _earlier_names(settings.teams)
    problems += _shared_repositories(settings.teams)
    problems += _nested_namespaces(settings.teams)
    problems += _shared_roles_and_github_repositories(settings.teams)
    problems += _registry_problems(settings)
    problems += _signing_problems(settings)
    problems += retire_problems(settings)
    return list(dict.fromkeys(problems))


def _team_problems(team: ResolvedTeam, settings: Settings) -> Iterator[str]:
    where = f"teams.{team.name}"
    if not ROLE_NAME.match(team.role_name):  # a roleName given is valid already: this is the default one
        yield f'{where}: the default role name "{team.role_name}" is over 64 characters; set roleName'
    for index, old in enumerate(team.previous_names):
        if old == team.name:
            yield f'{where}.previousNames[{index}]: "{old}" is not an earlier team name: it is the current one'
    for index, repo in enumerate(team.repositories):
        problem = repository_name_problem(repo.name)
        if problem:
            yield f"{where}.repositories[{index}]: {problem}"
        if not repo.lifecycle.has_rules:
            yield (f"{where}.repositories[{index}]: the lifecycle settings leave no rule; set "
                   "untaggedExpireDays, keepTagged or keepLast (ECR needs at least one rule)")
        for archive, keep, selector in archive_overlaps(repo.lifecycle.keep_tagged or (), repo.lifecycle.archive or ()):
            yield (f'{where}.repositories[{index}]: lifecycle.archive[{archive}] "{selector}" would archive images '
                   f"lifecycle.keepTagged[{keep}] keeps pullable (the two come from different levels); archive tags "
                   "no keepTagged entry selects")
        if repo.image_tag_mutability.endswith("_WITH_EXCLUSION") and not repo.tag_mutability_exclusions:
            yield (f"{where}.repositories[{index}]: imageTagMutability {repo.image_tag_mutability} needs "
                   "tagMutabilityExclusions (e.g. [latest, dev-*])")
    github = settings.github
    if team.github and github:
        provider = oidc_provider_arn("aws", PLACEHOLDER_ACCOUNT, github.issuer)
        trust = github_trust_policy(provider, github.issuer, team.github)
        problem = trust_policy_problem(trust, github.trust_policy_max_chars)
        if problem:
            yield f"{where}.github: {problem}"
        problem = inline_policy_problem(push_policy(team, PLACEHOLDER_ACCOUNT, PLACEHOLDER_REGION, "aws",
                                                    settings.signing_profiles(team.name, PLACEHOLDER_ACCOUNT,
                                                                              PLACEHOLDER_REGION, "aws")))
        if problem:
            yield f"{where}: {problem}"


def _earlier_names(teams: tuple[ResolvedTeam, ...]) -> Iterator[str]:
    current = {team.name for team in teams}
    earlier: dict[str, str] = {}
    for team in teams:
        for old in team.previous_names:
            if old == team.name:
                continue  # said by _team_problems
            if old in current:
                yield (f'teams.{team.name}.previousNames: "{old}" is the name of a current team; a name '
                       "can only be reused once no stack resource carries it")
            elif earlier.setdefault(old, team.name) != team.name:
                yield (f'teams.{team.name}.previousNames: "{old}" is also an earlier name of '
                       f"teams.{earlier[old]}; each earlier name belongs to one team")


def _shared_repositories(teams: tuple[ResolvedTeam, ...]) -> Iterator[str]:
    owner_of_repo: dict[str, str] = {}
    for team in teams:
        for repo in team.repositories:
            if repo.name in owner_of_repo:
                owner = owner_of_repo[repo.name]
                where = "twice in this team" if owner == team.name else f"also in teams.{owner}"
                yield (f'teams.{team.name}.repositories: "{repo.name}" is a duplicate repository ({where}); '
                       "each repository belongs to exactly one team")
            owner_of_repo.setdefault(repo.name, team.name)


def _nested_namespaces(teams: tuple[ResolvedTeam, ...]) -> Iterator[str]:
    # Each namespace and unprefixed repository looks up the namespaces enclosing it, rather than every
    # pair of teams being compared (quadratic: 0.3 s at 1000 teams); problems follow the teams' order.
    namespaces: dict[str, list[int]] = {}
    for index, team in enumerate(teams):
        if team.namespace:
            namespaces.setdefault(team.namespace, []).append(index)
    for index, other in enumerate(teams):
        names = [other.namespace] if other.namespace else [repo.name for repo in other.repositories]
        for name in names:
            parts = name.split("/")
            for depth in range(1, len(parts) + (1 if other.namespace else 0)):
                for outer in namespaces.get("/".join(parts[:depth]), ()):
                    if depth == len(parts) and outer >= index:  # the same namespace: said once, by the later team
                        continue
                    team = teams[outer]
                    yield (
                        f'teams.{other.name}.namespace: "{name}" lies inside teams.{team.name}\'s namespace '
                        f'"{team.namespace}", so {team.name} could push to it; give each team its own namespace'
                        if other.namespace else
                        f'teams.{other.name}.repositories: "{name}" lies inside teams.{team.name}\'s namespace '
                        f'"{team.namespace}"; rename it or move it to {team.name}'
                    )


def _shared_roles_and_github_repositories(teams: tuple[ResolvedTeam, ...]) -> Iterator[str]:
    roles: dict[str, str] = {}
    github_repos: dict[str, str] = {}
    for team in teams:
        if team.github and team.role_name in roles:
            yield (f'teams.{team.name}.roleName: "{team.role_name}" is also the role of '
                   f"teams.{roles[team.role_name]}; role names are unique per account")
        roles.setdefault(team.role_name, team.name)
        for index, access in enumerate(team.github):
            name = github_repository_name(access.repository)
            for key in (name.name.lower(), name.repo_id and f"@{name.repo_id}"):
                if key and github_repos.setdefault(key, team.name) != team.name:
                    yield (f'teams.{team.name}.github[{index}].repository: "{access.repository}" is already listed '
                           f"by teams.{github_repos[key]}; a GitHub repository pushes for one team (its AWS_ROLE_ARN)")
                    break


def _covered(name: str, filters: list[str]) -> bool:
    return any(re.fullmatch(re.escape(f).replace(r"\*", ".*"), name) for f in filters)


def _registry_problems(settings: Settings) -> Iterator[str]:
    registry, teams = settings.registry, settings.teams
    if registry.scanning:
        filters = [f for rule in registry.scanning.rules for f in rule.filters]
        for team in teams:
            if team.allow_create_repositories and not _covered(f"{team.namespace}/new-repository", filters):
                yield (f'registry.scanning: no rule covers "{team.namespace}/*", where teams.{team.name} '
                       "creates repositories that must be scanned; add that filter")
    namespaces = {t.namespace: t.name for t in teams if t.namespace}
    names = {r.name: r.team for t in teams for r in t.repositories}
    for prefix in registry.pull_through_cache:
        clash = namespaces.get(prefix) or next((team for name, team in names.items()
                                                if name == prefix or name.startswith(prefix + "/")), None)
        if clash:
            yield (f'registry.pullThroughCache.{prefix}: the prefix is also used by teams.{clash}; cached '
                   "images would land in its repositories; choose another prefix")


def _signing_problems(settings: Settings) -> Iterator[str]:
    signing = settings.registry.signing
    teams = {team.name for team in settings.teams}
    if signing is None:  # whether a stack must sign is the guard's (ecr-image-signing.requireSigning)
        return
    for team in signing.teams:
        if team not in teams:
            hint = did_you_mean(team, teams)
            yield f'registry.signing.teams.{team}: not a team in teams{"; " + hint if hint else ""}'
    if settings.environment == "prod":
        unsigned = [team.name for team in settings.teams if signing.profile_of(team.name) is None]
        if unsigned:
            yield (f"registry.signing: teams {', '.join(unsigned)} are not signed; in prod every team repository is "
                   "signed: set default, or list them under teams")
    rules = signing_rules(settings.teams, signing.profile_of, team_repository_filters)
    if len(rules) > MAX_SIGNING_RULES:
        yield (f"registry.signing: {len(rules)} profiles sign repositories, but ECR holds at most "
               f"{MAX_SIGNING_RULES} signing rules (one profile each); let teams share profiles")
    for profile, filters in rules.items():
        if filters is not None and len(filters) > MAX_FILTERS:
            yield (f"registry.signing.profiles.{profile}: signs {len(filters)} namespaces/repositories, but an ECR "
                   f"signing rule takes at most {MAX_FILTERS} filters; make it the default for every team or split "
                   "its teams over more profiles")

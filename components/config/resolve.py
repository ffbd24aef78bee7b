"""Resolution: every setting decided, layered built-in < `defaults` < team < repository, field by field.

`resolve` is pure and total over a validated `StackConfig`; it decides names (namespace and role
name from the oldest team name) and account ids. What the resolved stack may not be is `rules.py`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..documents import signing_profile_arn
from .models import Deploy, Encryption, GitHubAccess, GitHubSettings, Lifecycle, RepositorySettings, StackConfig, Team
from .registry import RegistryConfig
from .retire import Retire

BUILT_IN = RepositorySettings(
    scan_on_push=True,
    image_tag_mutability="IMMUTABLE",
    encryption=Encryption(type="AES256", kms_key=None),
    lifecycle=Lifecycle(keep_tagged=[], keep_last=None, untagged_expire_days=14),
    protect=True,
)


@dataclass(frozen=True)
class ResolvedRepository:
    """One repository with every setting decided."""

    name: str
    """Full ECR repository name (`<namespace>/<name>`)."""
    team: str
    scan_on_push: bool
    image_tag_mutability: str
    tag_mutability_exclusions: tuple[str, ...]
    """Tag wildcards exempt from the mutability mode (only with a *_WITH_EXCLUSION mode)."""
    encryption: Encryption
    lifecycle: Lifecycle
    protect: bool


@dataclass(frozen=True)
class ResolvedRole:
    """Push role knobs after layering (None: AWS's default)."""

    max_session_duration: int | None
    permissions_boundary: str | None
    path: str


@dataclass(frozen=True)
class ResolvedTeam:
    """A team with accounts resolved to ids, defaults layered and names decided."""

    name: str
    namespace: str
    repositories: tuple[ResolvedRepository, ...]
    template: ResolvedRepository
    """The settings a repository created by CI inside the namespace gets."""
    pull_account_ids: tuple[str, ...]
    push_account_ids: tuple[str, ...]
    role_name: str
    previous_names: tuple[str, ...]
    """Earlier names, oldest first: logical names that moved keep their identity through aliases."""
    allow_create_repositories: bool
    github: tuple[GitHubAccess, ...]
    deploy: Deploy
    role: ResolvedRole

    @property
    def role_arn_suffix(self) -> str:
        """`role/<path><name>`, the resource part of the push role's ARN."""
        return f"role{self.role.path}{self.role_name}"


@dataclass(frozen=True)
class Settings:
    """The validated configuration: what `__main__` builds the stack from."""

    environment: str
    github: GitHubSettings | None
    """None when GitHub is not configured: no OIDC provider, no push roles."""
    accounts: Mapping[str, str]
    node_pull_roles: tuple[str, ...]
    teams: tuple[ResolvedTeam, ...]
    registry: RegistryConfig
    retire: Retire
    """What this change deletes on purpose (read by `make check --compare`; the program declares nothing)."""

    @property
    def repositories(self) -> tuple[ResolvedRepository, ...]:
        return tuple(repo for team in self.teams for repo in team.repositories)

    @property
    def teams_on_github(self) -> tuple[ResolvedTeam, ...]:
        return tuple(team for team in self.teams if team.github)

    @property
    def creating_teams(self) -> tuple[ResolvedTeam, ...]:
        return tuple(team for team in self.teams if team.allow_create_repositories)

    def signing_profiles(self, team: str, account: str, region: str, partition: str) -> list[str]:
        """The ARNs of the Signer profiles that sign `team`'s repositories: what its push role may sign with."""
        signing = self.registry.signing
        name = signing.profile_of(team) if signing else None
        if signing is None or name is None:
            return []
        return [signing.profiles[name].arn or signing_profile_arn(partition, region, account, name)]


def resolve(config: StackConfig, stack: str) -> Settings:
    """The settings the components are built from; the environment defaults to the stack name."""
    return Settings(
        environment=config.environment or stack,
        github=config.github,
        accounts=dict(config.accounts),
        node_pull_roles=tuple(config.node_pull_roles),
        teams=tuple(_team(name, team, config) for name, team in config.teams.items()),
        registry=config.registry or RegistryConfig(),
        retire=config.retire or Retire(),
    )


def _team(name: str, team: Team, config: StackConfig) -> ResolvedTeam:
    original = team.previous_names[0] if team.previous_names else name
    namespace = original if team.namespace is None else team.namespace

    def account_ids(names: list[str]) -> tuple[str, ...]:
        return tuple(sorted({config.accounts[a] for a in names}))

    return ResolvedTeam(
        name=name,
        namespace=namespace,
        repositories=tuple(_repository(f"{namespace}/{entry.name}" if namespace else entry.name, name,
                                       layer(BUILT_IN, config.defaults, team, entry))
                           for entry in team.repositories),
        template=_repository(f"{namespace}/*", name, layer(BUILT_IN, config.defaults, team)),
        pull_account_ids=account_ids(team.pull_accounts),
        push_account_ids=account_ids(team.push_accounts),
        role_name=team.role_name or f"github-push-{original}",
        previous_names=tuple(team.previous_names),
        allow_create_repositories=team.allow_create_repositories,
        github=tuple(team.github),
        deploy=team.deploy or Deploy(),
        role=ResolvedRole(
            max_session_duration=_first_set(team.max_session_duration, config.defaults.max_session_duration),
            permissions_boundary=_first_set(team.permissions_boundary, config.defaults.permissions_boundary),
            path=_first_set(team.role_path, config.defaults.role_path) or "/",
        ),
    )


def _first_set(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def layer(*levels: RepositorySettings) -> RepositorySettings:
    """Later levels win, field by field; `lifecycle` merges field by field too."""
    merged: dict[str, Any] = {}
    lifecycle: dict[str, Any] = {}
    for level in levels:
        for name in level.model_fields_set & set(RepositorySettings.model_fields):
            value = getattr(level, name)
            if name == "lifecycle" and value is not None:
                lifecycle.update({f: getattr(value, f) for f in value.model_fields_set})
            elif value is not None:
                merged[name] = value
    merged["lifecycle"] = Lifecycle.model_construct(**lifecycle)  # cross-level rules: rules.py
    # Each level was validated on its own; an inherited exclusion list is simply unused by a repository
    # whose own mode has none, so the combination is not re-validated.
    return RepositorySettings.model_construct(**merged)


def _repository(name: str, team: str, settings: RepositorySettings) -> ResolvedRepository:
    assert settings.encryption is not None and settings.lifecycle is not None
    mode = str(settings.image_tag_mutability)
    return ResolvedRepository(
        name=name,
        team=team,
        scan_on_push=bool(settings.scan_on_push),
        image_tag_mutability=mode,
        tag_mutability_exclusions=tuple(settings.tag_mutability_exclusions or ())
        if mode.endswith("_WITH_EXCLUSION") else (),
        encryption=settings.encryption,
        lifecycle=settings.lifecycle,
        protect=bool(settings.protect),
    )

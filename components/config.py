"""The stack configuration contract (`ecr-platform:*`) as typed models, and `load_settings`.

Field names are exactly the stack YAML's (camelCase aliases); unknown keys are errors. Every
problem becomes one line naming the key path and the fix, and nothing is declared until the
whole configuration is valid. Defaults are written once, here, and layered by `_layer`:
built-in < `defaults` < team < repository.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .config_base import Model
from .documents import (
    PLACEHOLDER_ACCOUNT,
    compact_size,
    github_subjects,
    lifecycle_policy,
    oidc_provider_arn,
    push_policy,
    trust_policy,
)
from .registry_config import (
    PullThroughCache,
    RegistryConfig,
    Replication,
    ReplicationDestination,
    ReplicationRule,
    Scanning,
    ScanRule,
)
from .retire_config import Retire, retire_problems

# ECR repository names: lowercase path segments joined by `/` (AWS CreateRepository regex).
_SEGMENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REPOSITORY_NAME = re.compile(rf"^(?:{_SEGMENT}/)*{_SEGMENT}$")
NAMESPACE = REPOSITORY_NAME
TEAM_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
GITHUB_REPO = re.compile(r"^(?:[A-Za-z0-9._-]{1,100}|\*)$")
OIDC_PROVIDER_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:oidc-provider/(?P<issuer>.+)$")
ECS_SERVICE_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:ecs:[a-z0-9-]+:\d{12}:service/[\w-]+/[\w-]+$")
ROLE_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")
POLICY_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::(?:\d{12}|aws):policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,128}$")
KMS_KEY = re.compile(
    r"^(?:alias/[\w/-]+|[0-9a-f-]{36}|arn:aws(?:-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:(?:key|alias)/.+)$"
)
GIT_REF_VALUE = re.compile(r"^[^\s:~^\\]+$")
DEFAULT_ISSUER = "token.actions.githubusercontent.com"
DEFAULT_TRUST_POLICY_MAX_CHARS = 2048
INLINE_POLICY_MAX_CHARS = 10240
REPOSITORY_NAME_MAX = 256


class ConfigError(Exception):
    """The stack configuration is invalid; `problems` holds one `path: message` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"ecr-platform: the stack configuration has {len(problems)} problem(s); nothing was declared:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


# --- repository settings, layered ---------------------------------------------------------------


class KeepTagged(Model):
    """Keep the newest `count` images whose tags start with a prefix (or match a pattern)."""

    tag_prefixes: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, min_length=1, description="Tag prefixes; each prefix keeps its own newest `count` images."
    )
    tag_patterns: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, min_length=1, description="Tag wildcard patterns (`*`), as ECR's tagPatternList; one rule each."
    )
    count: int = Field(ge=1, description="How many images to keep per prefix or pattern.")

    @model_validator(mode="after")
    def _one_selector(self) -> KeepTagged:
        if (self.tag_prefixes is None) == (self.tag_patterns is None):
            raise ValueError("give exactly one of tagPrefixes or tagPatterns")
        return self


class Lifecycle(Model):
    """Image retention; generates the repository's ECR lifecycle policy."""

    keep_tagged: list[KeepTagged] | None = Field(None, description="Per-prefix retention of tagged images.")
    keep_last: int | None = Field(None, ge=1, description="At most N images of any kind (the last rule).")
    untagged_expire_days: int | None = Field(
        None, ge=1, description="Expire untagged images this many days after push."
    )


class Encryption(Model):
    """At-rest encryption of a repository."""

    type: Literal["AES256", "KMS", "KMS_DSSE"] = Field(description="AES256, KMS or KMS_DSSE.")
    kms_key: str | None = Field(None, description="KMS key ARN, id or alias; default: the AWS managed key.")

    @model_validator(mode="after")
    def _key_only_with_kms(self) -> Encryption:
        if self.type == "AES256" and self.kms_key is not None:
            raise ValueError("kmsKey only applies to type KMS or KMS_DSSE; remove it or set type: KMS")
        if self.kms_key is not None and not KMS_KEY.match(self.kms_key):
            raise ValueError(f'kmsKey "{self.kms_key}" is not a KMS key ARN, key id or alias/<name>')
        return self


Mutability = Literal["MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"]
MAX_MUTABILITY_EXCLUSIONS = 5


class RepositorySettings(Model):
    """Settings every repository has; any level (defaults, team, repository) may set them."""

    scan_on_push: bool | None = Field(None, description="Scan images for vulnerabilities on push. Built-in: `true`.")
    image_tag_mutability: Mutability | None = Field(
        None, description="`MUTABLE`, `IMMUTABLE`, or `IMMUTABLE_WITH_EXCLUSION` with `tagMutabilityExclusions`. "
        "Built-in: `IMMUTABLE`."
    )
    tag_mutability_exclusions: list[Annotated[str, Field(pattern=r"^[\w.*-]{1,128}$")]] | None = Field(
        None, max_length=MAX_MUTABILITY_EXCLUSIONS,
        description="Tag wildcards (`latest`, `dev-*`) exempt from the mutability setting (at most 5).",
    )
    encryption: Encryption | None = Field(None, description="`{type: AES256}` or `{type: KMS, kmsKey: ...}`. "
                                          "Built-in: AES256.")
    lifecycle: Lifecycle | None = Field(None, description="Retention rules. Built-in: untagged images expire "
                                        "after 14 days; tagged images are kept.")
    protect: bool | None = Field(None, description="Protect repositories from deletion by `pulumi up/destroy` "
                                 "and never force-delete images. Built-in: `true`.")

    @model_validator(mode="after")
    def _exclusions_need_a_with_exclusion_mode(self) -> RepositorySettings:
        mode = self.image_tag_mutability
        if self.tag_mutability_exclusions and mode is not None and not mode.endswith("_WITH_EXCLUSION"):
            raise ValueError(f"tagMutabilityExclusions only apply with imageTagMutability "
                             f"{mode}_WITH_EXCLUSION; change the mode or remove the exclusions")
        return self


class RoleSettings(Model):
    """Push role knobs; `defaults` or a team may set them."""

    max_session_duration: int | None = Field(
        None, ge=3600, le=43200, description="Longest session (seconds) a workflow gets; AWS default 3600."
    )
    permissions_boundary: str | None = Field(None, description="Permissions boundary policy ARN for push roles.")
    role_path: str | None = Field(None, description="IAM path for push roles, e.g. `/ci/`; default `/`.")

    @field_validator("permissions_boundary")
    @classmethod
    def _boundary(cls, value: str | None) -> str | None:
        if value is not None and not POLICY_ARN.match(value):
            raise ValueError(f'"{value}" is not a managed policy ARN arn:aws:iam::<account|aws>:policy/<name>')
        return value

    @field_validator("role_path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^/(?:[\w+=,.@-]+/)*$", value):
            raise ValueError(f'"{value}" is not an IAM path: it starts and ends with "/", e.g. /ci/')
        return value


class Defaults(RepositorySettings, RoleSettings):
    """Settings for every repository and push role unless a team or repository overrides them."""


BUILT_IN = RepositorySettings(
    scan_on_push=True,
    image_tag_mutability="IMMUTABLE",
    encryption=Encryption(type="AES256", kms_key=None),
    lifecycle=Lifecycle(keep_tagged=[], keep_last=None, untagged_expire_days=14),
    protect=True,
)


def _as_mapping(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class RepositoryEntry(RepositorySettings):
    """One repository: a bare name, or a name with overrides."""

    name: str = Field(description="Repository name inside the team's namespace.")


# --- GitHub ---------------------------------------------------------------------------------------


class Reviewers(Model):
    """Who must approve a deployment to a GitHub environment (GitHub's numeric ids)."""

    users: list[int] = Field(default_factory=list, description="GitHub user ids.")
    teams: list[int] = Field(default_factory=list, description="GitHub team ids.")


class GitHubAccess(Model):
    """A GitHub repository whose workflows may assume the team's push role, and from which refs."""

    repository: str = Field(description="`<owner>/<repo>`, or `<owner>/*` for every repository of an owner.")
    branches: list[str] = Field(default_factory=list, description="Branches (wildcards allowed).")
    tags: list[str] = Field(default_factory=list, description="Git tags (wildcards allowed).")
    environments: list[str] = Field(default_factory=list, description="GitHub deployment environments.")
    pull_requests: bool = Field(False, description="Also trust `pull_request` workflow runs.")
    any_ref: bool = Field(False, description="Trust every ref (`repo:<owner>/<repo>:*`).")
    reviewers: Reviewers | None = Field(
        None, description="With `github.manageVariables`: required reviewers of the `environments` it creates."
    )

    @field_validator("repository")
    @classmethod
    def _owner_repo(cls, value: str) -> str:
        owner, _, repo = value.partition("/")
        if not repo or not GITHUB_OWNER.match(owner) or not GITHUB_REPO.match(repo):
            raise ValueError(f'"{value}" is not <owner>/<repo> (or <owner>/* for a whole organisation)')
        return value

    @field_validator("branches", "tags", "environments")
    @classmethod
    def _ref_values(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value or not GIT_REF_VALUE.match(value):
                raise ValueError(f'"{value}" is not a usable ref or environment name (no spaces, ":", "~", "^")')
        if len(set(values)) != len(values):
            raise ValueError("lists a value twice")
        return values

    @model_validator(mode="after")
    def _says_which_refs(self) -> GitHubAccess:
        selectors = self.branches or self.tags or self.environments or self.pull_requests
        if not selectors and not self.any_ref:
            raise ValueError(
                "says nothing about which refs may push: add branches, tags, environments or "
                "pullRequests: true, or anyRef: true to trust every ref"
            )
        if selectors and self.any_ref:
            raise ValueError("anyRef: true already trusts every ref; remove branches/tags/environments/pullRequests")
        if self.reviewers and not self.environments:
            raise ValueError("reviewers apply to environments; list environments or remove reviewers")
        return self

    @property
    def org_wide(self) -> bool:
        return self.repository.endswith("/*")

    @property
    def owner(self) -> str:
        return self.repository.partition("/")[0]


class GitHubSettings(Model):
    """How GitHub Actions reaches AWS."""

    organizations: list[str] = Field(
        min_length=1, description="GitHub owners; every GitHub repository a team lists must belong to one."
    )
    oidc_provider: str = Field(
        "create", description="`create`, `existing` (look it up by issuer URL) or an OIDC provider ARN."
    )
    issuer: str = Field(DEFAULT_ISSUER, description="Token issuer host (GitHub Enterprise: its own issuer).")
    manage_variables: bool = Field(
        False, description="Set each listed GitHub repository's Actions variables (and create its environments) "
        "with the Pulumi GitHub provider; the token comes from GITHUB_TOKEN."
    )
    trust_policy_max_chars: int = Field(
        DEFAULT_TRUST_POLICY_MAX_CHARS, ge=2048, le=8192,
        description="The account's role trust policy quota (2048 unless raised).",
    )

    @field_validator("organizations")
    @classmethod
    def _owners(cls, values: list[str]) -> list[str]:
        for value in values:
            if not GITHUB_OWNER.match(value):
                raise ValueError(f'"{value}" is not a GitHub owner name')
        return values

    @field_validator("issuer")
    @classmethod
    def _issuer_host(cls, value: str) -> str:
        value = value.removeprefix("https://").rstrip("/")
        if not re.match(r"^[a-z0-9.-]+\.[a-z]{2,}(?:/[\w.-]+)*$", value):
            raise ValueError(f'"{value}" is not an issuer host such as {DEFAULT_ISSUER}')
        return value

    @model_validator(mode="after")
    def _provider_mode(self) -> GitHubSettings:
        if self.oidc_provider in ("create", "existing"):
            return self
        match = OIDC_PROVIDER_ARN.match(self.oidc_provider)
        if not match:
            raise ValueError(
                f'oidcProvider "{self.oidc_provider}" must be create, existing or '
                "arn:aws:iam::<account>:oidc-provider/<issuer>"
            )
        if match["issuer"] != self.issuer:
            raise ValueError(f'oidcProvider is for issuer "{match["issuer"]}" but issuer is "{self.issuer}"')
        return self


# --- teams ----------------------------------------------------------------------------------------


class Deploy(Model):
    """Extra rights for the push role, so the same workflow can roll out what it pushed."""

    ecs_services: list[str] = Field(default_factory=list, description="ECS service ARNs it may update.")
    pass_roles: list[str] = Field(default_factory=list, description="Task role ARNs it may pass to ECS.")

    @field_validator("ecs_services")
    @classmethod
    def _services(cls, values: list[str]) -> list[str]:
        for value in values:
            if not ECS_SERVICE_ARN.match(value):
                raise ValueError(f'"{value}" is not arn:aws:ecs:<region>:<account>:service/<cluster>/<service>')
        return values

    @field_validator("pass_roles")
    @classmethod
    def _roles(cls, values: list[str]) -> list[str]:
        for value in values:
            if not ROLE_ARN.match(value):
                raise ValueError(f'"{value}" is not a role ARN arn:aws:iam::<account>:role/<name> (no wildcards)')
        return values


class Team(RepositorySettings, RoleSettings):
    """A product team: its repositories, who may pull them and which workflows may push."""

    namespace: str | None = Field(None, description='Repository prefix; default: the team name; "" = none.')
    repositories: list[Annotated[RepositoryEntry, BeforeValidator(_as_mapping)]] = Field(
        default_factory=list, description="Names (inside the namespace) or `{name, <overrides>}`."
    )
    pull_accounts: list[str] = Field(default_factory=list, description="Names from `accounts` that may pull.")
    push_accounts: list[str] = Field(default_factory=list, description="Names from `accounts` that may push.")
    role_name: str | None = Field(None, description="Push role name; default `github-push-<team>`.")
    previous_names: list[str] = Field(
        default_factory=list, description="Earlier names of this team, oldest first. A rename that lists the old "
        "name keeps the namespace and role name derived from the oldest, and every resource named after the team "
        "keeps its identity (Pulumi aliases): nothing is replaced, no image is lost."
    )
    allow_create_repositories: bool = Field(
        False, description="CI may create repositories inside the namespace (a creation template applies the "
        "same settings)."
    )
    github: list[GitHubAccess] = Field(default_factory=list, description="Who may assume the push role.")
    deploy: Deploy | None = Field(None, description="`ecsServices` / `passRoles` the push role may also use.")

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        if value and not NAMESPACE.match(value):
            raise ValueError(f'"{value}" is not a repository namespace (lowercase letters, digits, . _ - and /)')
        return value

    @field_validator("role_name")
    @classmethod
    def _role_name(cls, value: str | None) -> str | None:
        if value is not None and not ROLE_NAME.match(value):
            raise ValueError(f'"{value}" is not an IAM role name (1-64 of letters, digits and +=,.@_-)')
        return value


def _account_id(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        if len(str(value)) != 12:
            raise ValueError(f"{value} is not a 12-digit account id (quote account ids: YAML drops leading zeros)")
        return str(value)
    return value


AccountId = Annotated[str, BeforeValidator(_account_id), Field(pattern=ACCOUNT_ID.pattern)]


class StackConfig(Model):
    """Everything under `ecr-platform:` in `Pulumi.<stack>.yaml`."""

    environment: str | None = Field(None, description="Environment name for tags; default: the stack name.")
    github: GitHubSettings | None = Field(None, description="GitHub organisations, OIDC provider and issuer.")
    accounts: dict[str, AccountId] = Field(
        default_factory=dict, description="Named AWS accounts that consume images (12-digit ids, quoted)."
    )
    defaults: Defaults = Field(
        default_factory=lambda: Defaults(), description="Settings for every repository and push role unless "
        "overridden."
    )
    node_pull_roles: list[str] = Field(
        default_factory=list, description="Roles in this account (e.g. EKS node roles) that get pull rights."
    )
    teams: dict[str, Team] = Field(min_length=1, description="Teams by name.")
    registry: RegistryConfig | None = Field(
        None, description="Registry-wide: replication, scanning, pull-through cache."
    )
    retire: Retire | None = Field(
        None, description="Stateful resources this change deletes on purpose; `make check COMPARE=<ref>` refuses "
        "other deletions where the guard says so (prod)."
    )

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[a-z0-9][a-z0-9-]{0,31}$", value):
            raise ValueError(f'"{value}" is not an environment name (lowercase letters, digits, -)')
        return value

    @field_validator("node_pull_roles")
    @classmethod
    def _node_roles(cls, values: list[str]) -> list[str]:
        for value in values:
            if not ROLE_NAME.match(value):
                raise ValueError(f'"{value}" is not an IAM role name')
        return values


# --- the resolved settings the components consume --------------------------------------------------


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

    @property
    def repositories(self) -> tuple[ResolvedRepository, ...]:
        return tuple(repo for team in self.teams for repo in team.repositories)

    @property
    def teams_on_github(self) -> tuple[ResolvedTeam, ...]:
        return tuple(team for team in self.teams if team.github)

    @property
    def creating_teams(self) -> tuple[ResolvedTeam, ...]:
        return tuple(team for team in self.teams if team.allow_create_repositories)


def _layer(*levels: RepositorySettings) -> RepositorySettings:
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
    merged["lifecycle"] = Lifecycle(**lifecycle)
    # Each level was validated on its own; an inherited exclusion list is simply unused by a repository
    # whose own mode has none, so the combination is not re-validated.
    return RepositorySettings.model_construct(**merged)


def _resolve_repository(name: str, team: str, settings: RepositorySettings) -> ResolvedRepository:
    assert settings.encryption is not None and settings.lifecycle is not None
    return ResolvedRepository(
        name=name,
        team=team,
        scan_on_push=bool(settings.scan_on_push),
        image_tag_mutability=str(settings.image_tag_mutability),
        tag_mutability_exclusions=tuple(settings.tag_mutability_exclusions or ())
        if str(settings.image_tag_mutability).endswith("_WITH_EXCLUSION") else (),
        encryption=settings.encryption,
        lifecycle=settings.lifecycle,
        protect=bool(settings.protect),
    )


# --- loading --------------------------------------------------------------------------------------


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-before[_as_mapping(), RepositoryEntry]",):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def to_snake(camel: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()


def _model_for(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose keys live at `loc`, to list them (and suggest one) for an unknown key."""
    model: type[BaseModel] = StackConfig
    keyed = False
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        name = to_snake(str(part))
        sub = _SUBMODELS.get(f"{model.__name__}.{name}", _SUBMODELS.get(name)) if name in model.model_fields else None
        if sub is None:
            return None
        keyed = name in ("teams", "pull_through_cache")
        model = sub
    return model


# The model under each nested key (keys mean the same thing wherever they appear).
_SUBMODELS: dict[str, type[BaseModel]] = {
    "github": GitHubSettings, "defaults": Defaults, "teams": Team, "repositories": RepositoryEntry,
    "deploy": Deploy, "reviewers": Reviewers, "lifecycle": Lifecycle, "encryption": Encryption,
    "keep_tagged": KeepTagged,
    "registry": RegistryConfig, "replication": Replication, "rules": ReplicationRule, "destinations":
    ReplicationDestination, "scanning": Scanning, "pull_through_cache": PullThroughCache, "Scanning.rules": ScanRule,
    "retire": Retire,
}


def _message(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    path = _path(loc) or "ecr-platform"
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_for(loc[:-1])
        known = sorted(f.alias or name for name, f in model.model_fields.items()) if model else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f'did you mean "{close[0]}"? ' if close else ""
        return f"{path}: unknown key; {hint}expected one of: {', '.join(known)}"
    if kind == "missing":
        return f"{path}: is required"
    message = str(error["msg"]).removeprefix("Value error, ")
    shown = json.dumps(error.get("input"), default=str)
    if kind in _EXPECTED:
        message = f"{shown} is not {_EXPECTED[kind]}"
    elif kind in ("greater_than_equal", "less_than_equal"):
        limit = error.get("ctx", {})
        message = (f"{shown} is below the minimum of {limit['ge']}" if "ge" in limit
                   else f"{shown} is above the maximum of {limit['le']}")
    elif kind == "literal_error":
        message = f"{json.dumps(error.get('input'))} is not allowed; {message[0].lower()}{message[1:]}"
    elif kind == "string_pattern_mismatch" and path.startswith("accounts."):
        message = f'"{error.get("input")}" is not a 12-digit AWS account id (quote it in YAML)'
    return f"{path}: {message}"


_EXPECTED = {
    "bool_parsing": "true or false", "bool_type": "true or false", "int_parsing": "a whole number",
    "int_type": "a whole number", "string_type": "a string", "list_type": "a list", "dict_type": "a mapping",
    "model_type": "a mapping of keys",
}


def load_settings(raw: Mapping[str, Any], stack: str) -> Settings:
    """Validate the `ecr-platform:*` config (keys without the project prefix) into `Settings`.

    Raises `ConfigError` listing every problem; returns only a configuration that can be
    declared in full.
    """
    try:
        config = StackConfig.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError(_with_cross_problems(raw, exc)) from None
    teams, problems = _resolve(config)
    if problems:
        raise ConfigError(problems)
    return Settings(
        environment=config.environment or stack,
        github=config.github,
        accounts=dict(config.accounts),
        node_pull_roles=tuple(config.node_pull_roles),
        teams=tuple(teams),
        registry=config.registry or RegistryConfig(),
    )


def _without(raw: Any, loc: tuple[Any, ...]) -> None:
    """Drop the value at `loc` (a list item or mapping key) from `raw`, in place."""
    node = raw
    for part in loc[:-1]:
        in_mapping = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_mapping or in_list:
            node = node[part]
        else:
            return
    last = loc[-1] if loc else None
    if isinstance(node, dict) and last in node:
        del node[last]
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = None


def _with_cross_problems(raw: Mapping[str, Any], error: ValidationError) -> list[str]:
    """The model's problems, plus the cross-field ones found once the invalid values are set aside,
    so a user fixes every problem in one round (except those that touch a value set aside)."""
    problems = [_message(e) for e in error.errors()]
    pruned, removed = copy.deepcopy(dict(raw)), []
    for _ in range(3):
        kept: dict[str, list[int]] = {}
        try:
            config = StackConfig.model_validate(_drop_none_items(pruned, "", kept))
        except ValidationError as again:
            for e in again.errors():
                loc = _original_loc(tuple(p for p in e["loc"] if not str(p).startswith("function-")), kept)
                removed.append(_path(loc))
                _without(pruned, loc if e["type"] != "missing" else loc[:-1])
            continue
        extra = [_reindexed(p, kept) for p in _resolve(config)[1]]
        extra = [p for p in extra if not any(p.startswith(r) for r in removed)]
        return list(dict.fromkeys(problems + extra))
    return problems


def _drop_none_items(value: Any, path: str, kept: dict[str, list[int]]) -> Any:
    """`value` without set-aside (None) list items; `kept[path]` maps new list indexes to old."""
    if isinstance(value, dict):
        return {k: _drop_none_items(v, f"{path}.{k}" if path else str(k), kept) for k, v in value.items()}
    if isinstance(value, list):
        kept[path] = [i for i, v in enumerate(value) if v is not None]
        return [_drop_none_items(value[i], f"{path}[{i}]", kept) for i in kept[path]]
    return value


def _original_loc(loc: tuple[Any, ...], kept: dict[str, list[int]]) -> tuple[Any, ...]:
    out: list[Any] = []
    for part in loc:
        if isinstance(part, int) and _path(tuple(out)) in kept:
            part = kept[_path(tuple(out))][part]
        out.append(part)
    return tuple(out)


def _reindexed(problem: str, kept: dict[str, list[int]]) -> str:
    """A problem's `a.b[new]` path rewritten to the index the user wrote."""
    for list_path in sorted(kept, key=len, reverse=True):
        prefix = list_path + "["
        if problem.startswith(prefix):
            index, _, rest = problem[len(prefix):].partition("]")
            if index.isdigit() and int(index) < len(kept[list_path]):
                return f"{prefix}{kept[list_path][int(index)]}]{rest}"
    return problem


def _resolve(config: StackConfig) -> tuple[list[ResolvedTeam], list[str]]:
    """Teams with every setting decided, and the problems that need the whole (well-typed)
    config to see: references, overlaps, quotas."""
    problems: list[str] = []
    if config.github is None and any(team.github for team in config.teams.values()):
        problems.append("github: is required when a team lists GitHub repositories (github.organizations)")
    teams = [_resolve_team(name, team, config, problems) for name, team in config.teams.items()]
    problems.extend(_cross_team_problems(teams, config))
    problems.extend(_registry_problems(config.registry or RegistryConfig(), teams, config))
    problems.extend(retire_problems(config.retire, teams, config))
    for role in config.node_pull_roles:
        if config.node_pull_roles.count(role) > 1:
            problems.append(f'nodePullRoles: "{role}" is listed twice')
            break
    return teams, list(dict.fromkeys(problems))


def _resolve_team(name: str, team: Team, config: StackConfig, problems: list[str]) -> ResolvedTeam:
    where = f"teams.{name}"
    if not TEAM_NAME.match(name):
        problems.append(f'{where}: team name "{name}" must be lowercase letters, digits and single hyphens, '
                        "as it names the namespace, the role and the `team` tag")
    for index, old in enumerate(team.previous_names):
        if not TEAM_NAME.match(old) or old == name or team.previous_names.index(old) != index:
            problems.append(f'{where}.previousNames[{index}]: "{old}" is not an earlier team name (lowercase '
                            "letters, digits and single hyphens, not the current name, listed once)")
    original = team.previous_names[0] if team.previous_names else name
    namespace = original if team.namespace is None else team.namespace
    role_name = team.role_name or f"github-push-{original}"
    if not ROLE_NAME.match(role_name):
        problems.append(f'{where}: the default role name "{role_name}" is over 64 characters; set roleName')

    repositories = []
    for index, entry in enumerate(team.repositories):
        full = f"{namespace}/{entry.name}" if namespace else entry.name
        if not REPOSITORY_NAME.match(entry.name) or not 2 <= len(full) <= REPOSITORY_NAME_MAX:
            problems.append(
                f'{where}.repositories[{index}]: "{entry.name}" is not a valid ECR repository name '
                "(2-256 characters of lowercase letters, digits, . _ - separated by /)"
            )
        repository = _resolve_repository(full, name, _layer(BUILT_IN, config.defaults, team, entry))
        if not lifecycle_policy(repository.lifecycle)["rules"]:
            problems.append(f"{where}.repositories[{index}]: the lifecycle settings leave no rule; set "
                            "untaggedExpireDays, keepTagged or keepLast (ECR needs at least one rule)")
        repositories.append(repository)
    if not team.repositories and not team.allow_create_repositories:
        problems.append(f"{where}.repositories: lists no repository; add one or set allowCreateRepositories: true")
    if team.allow_create_repositories and not namespace:
        problems.append(f'{where}.allowCreateRepositories: needs a namespace to scope CreateRepository; '
                        'set namespace (it is "")')

    def account_ids(key: str, names: list[str]) -> tuple[str, ...]:
        for index, account in enumerate(names):
            if account not in config.accounts:
                known = ", ".join(sorted(config.accounts)) or "none defined"
                problems.append(f'{where}.{key}[{index}]: "{account}" is not an account name in accounts ({known})')
        return tuple(sorted({config.accounts[a] for a in names if a in config.accounts}))

    github = config.github
    allowed = {org.lower() for org in github.organizations} if github else set()
    for index, access in enumerate(team.github if github else ()):
        if access.owner.lower() not in allowed:
            problems.append(
                f'{where}.github[{index}].repository: owner "{access.owner}" of "{access.repository}" is not in '
                f"github.organizations ({', '.join(sorted(allowed))}); add it there or fix the owner"
            )
    resolved = ResolvedTeam(
        name=name,
        namespace=namespace,
        repositories=tuple(repositories),
        template=_resolve_repository(f"{namespace}/*", name, _layer(BUILT_IN, config.defaults, team)),
        pull_account_ids=account_ids("pullAccounts", team.pull_accounts),
        push_account_ids=account_ids("pushAccounts", team.push_accounts),
        role_name=role_name,
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
    for index, repo in enumerate(repositories):
        if repo.image_tag_mutability.endswith("_WITH_EXCLUSION") and not repo.tag_mutability_exclusions:
            problems.append(f"{where}.repositories[{index}]: imageTagMutability {repo.image_tag_mutability} needs "
                            "tagMutabilityExclusions (e.g. [latest, dev-*])")
    if resolved.github and github:
        size = compact_size(trust_policy(oidc_provider_arn("aws", PLACEHOLDER_ACCOUNT, github.issuer), github.issuer,
                                         github_subjects(resolved.github)))
        if size > github.trust_policy_max_chars:
            problems.append(
                f"{where}.github: the push role's trust policy would be {size} characters, over the "
                f"{github.trust_policy_max_chars} quota; use fewer or wildcard subjects, split the team, "
                "or raise the quota and set github.trustPolicyMaxChars"
            )
        size = compact_size(push_policy(resolved, PLACEHOLDER_ACCOUNT, "us-east-1", "aws"))
        if size > INLINE_POLICY_MAX_CHARS:
            problems.append(
                f"{where}: the push role's policy would be {size} characters, over the IAM inline quota of "
                f"{INLINE_POLICY_MAX_CHARS}; give the team a namespace so one ARN pattern covers its repositories"
            )
    return resolved


def _first_set(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _covered(name: str, filters: list[str]) -> bool:
    return any(re.fullmatch(re.escape(f).replace(r"\*", ".*"), name) for f in filters)


def _registry_problems(registry: RegistryConfig, teams: list[ResolvedTeam], config: StackConfig) -> list[str]:
    problems: list[str] = []
    for r_index, rule in enumerate(registry.replication.rules if registry.replication else ()):
        for d_index, destination in enumerate(rule.destinations):
            if destination.account is not None and destination.account not in config.accounts:
                problems.append(
                    f"registry.replication.rules[{r_index}].destinations[{d_index}].account: "
                    f'"{destination.account}" is not an account name in accounts; add it there (its registry policy '
                    "must allow this account to replicate)")
    if registry.scanning:
        filters = [f for rule in registry.scanning.rules for f in rule.filters]
        for team in teams:
            if team.allow_create_repositories and not _covered(f"{team.namespace}/new-repository", filters):
                problems.append(f'registry.scanning: no rule covers "{team.namespace}/*", where teams.{team.name} '
                                "creates repositories that must be scanned; add that filter")
    namespaces = {t.namespace: t.name for t in teams if t.namespace}
    names = {r.name: r.team for t in teams for r in t.repositories}
    for prefix in registry.pull_through_cache:
        clash = namespaces.get(prefix) or next((team for name, team in names.items()
                                                if name == prefix or name.startswith(prefix + "/")), None)
        if clash:
            problems.append(f'registry.pullThroughCache.{prefix}: the prefix is also used by teams.{clash}; cached '
                            "images would land in its repositories; choose another prefix")
    return problems


def _cross_team_problems(teams: list[ResolvedTeam], config: StackConfig) -> list[str]:
    problems: list[str] = []
    current = {team.name for team in teams}
    earlier: dict[str, str] = {}
    for team in teams:
        for old in team.previous_names:
            if old in current:
                problems.append(f'teams.{team.name}.previousNames: "{old}" is the name of a current team; a name '
                                "can only be reused once no stack resource carries it")
            elif earlier.setdefault(old, team.name) != team.name:
                problems.append(f'teams.{team.name}.previousNames: "{old}" is also an earlier name of '
                                f"teams.{earlier[old]}; each earlier name belongs to one team")
    owner_of_repo: dict[str, str] = {}
    for team in teams:
        for repo in team.repositories:
            if repo.name in owner_of_repo:
                owner = owner_of_repo[repo.name]
                where = "twice in this team" if owner == team.name else f"also in teams.{owner}"
                problems.append(f'teams.{team.name}.repositories: "{repo.name}" is a duplicate repository ({where}); '
                                "each repository belongs to exactly one team")
            owner_of_repo.setdefault(repo.name, team.name)
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
                    problems.append(
                        f'teams.{other.name}.namespace: "{name}" lies inside teams.{team.name}\'s namespace '
                        f'"{team.namespace}", so {team.name} could push to it; give each team its own namespace'
                        if other.namespace else
                        f'teams.{other.name}.repositories: "{name}" lies inside teams.{team.name}\'s namespace '
                        f'"{team.namespace}"; rename it or move it to {team.name}'
                    )
    roles: dict[str, str] = {}
    github_repos: dict[str, str] = {}
    for team in teams:
        if team.github and team.role_name in roles:
            problems.append(f'teams.{team.name}.roleName: "{team.role_name}" is also the role of '
                            f"teams.{roles[team.role_name]}; role names are unique per account")
        roles.setdefault(team.role_name, team.name)
        for index, access in enumerate(team.github):
            key = access.repository.lower()
            if key in github_repos and github_repos[key] != team.name:
                problems.append(
                    f'teams.{team.name}.github[{index}].repository: "{access.repository}" is already listed by '
                    f"teams.{github_repos[key]}; a GitHub repository pushes for one team (its AWS_ROLE_ARN)"
                )
            github_repos.setdefault(key, team.name)
    return problems

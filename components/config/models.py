"""The stack configuration contract (`ecr-platform:*`) as typed models, one per section.

Field names are exactly the stack YAML's (camelCase aliases); unknown keys are errors. Each field
carries its description (the README's config reference is generated from them). Single values
are checked by their types (`values.py`), rules between the keys of one model by its
`model_validator(mode="after")`; rules that need every team or the layered settings are in
`rules.py`. Each default is written once: in its field, or for repository settings in
`resolve.BUILT_IN`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from ..documents import github_repository_name
from ..quotas import TRUST_POLICY_MAX_CHARS, TRUST_POLICY_RAISED_MAX_CHARS
from .base import Model
from .messages import problem_at
from .registry import RegistryConfig
from .retire import Retire
from .values import (
    DEFAULT_ISSUER,
    OIDC_PROVIDER_ARN,
    AccountId,
    AccountName,
    EarlierTeamName,
    EcsServiceArn,
    Environment,
    GitHubOwner,
    GitHubRepository,
    GitRef,
    IssuerHost,
    KmsKey,
    Namespace,
    OidcProviderSetting,
    PolicyArn,
    RoleArn,
    RoleName,
    RolePath,
    TagWildcard,
    TeamName,
    Unique,
    WorkflowPath,
    repository_name_problem,
)

MAX_MUTABILITY_EXCLUSIONS = 5
MIN_DAYS_IN_ARCHIVE = 90  # ECR: no lifecycle rule may delete an image archived less than 90 days ago
Mutability = Literal["MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"]


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


class Archive(Model):
    """Move tagged images to the archive storage class (not pullable until restored) after a quiet period."""

    tag_prefixes: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, min_length=1, description="Tag prefixes to archive; one rule each."
    )
    tag_patterns: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, min_length=1, description="Tag wildcard patterns (`*`) to archive; one rule each."
    )
    days_without_pull: int | None = Field(
        None, ge=1, description="Archive images not pulled for this many days (`sinceImagePulled`)."
    )
    days_since_push: int | None = Field(
        None, ge=1, description="Archive images this many days after push (`sinceImagePushed`)."
    )

    @model_validator(mode="after")
    def _one_selector_one_period(self) -> Archive:
        if (self.tag_prefixes is None) == (self.tag_patterns is None):
            raise ValueError("give exactly one of tagPrefixes or tagPatterns")
        if (self.days_without_pull is None) == (self.days_since_push is None):
            raise ValueError("give exactly one of daysWithoutPull or daysSincePush")
        return self

    @property
    def selectors(self) -> list[str]:
        """Each selection as a tag wildcard (a prefix `v` is `v*`)."""
        return [f"{p}*" for p in self.tag_prefixes or ()] + list(self.tag_patterns or ())


def _keep_selectors(keep: KeepTagged) -> list[str]:
    return [f"{p}*" for p in keep.tag_prefixes or ()] + list(keep.tag_patterns or ())


def tags_overlap(first: str, second: str) -> bool:
    """Whether some tag matches both wildcards (`*` = any run of characters): a product walk, memoised."""

    @functools.cache
    def meet(i: int, j: int) -> bool:
        if i == len(first) and j == len(second):
            return True
        if i < len(first) and first[i] == "*":
            return meet(i + 1, j) or (j < len(second) and meet(i, j + 1))
        if j < len(second) and second[j] == "*":
            return meet(i, j + 1) or (i < len(first) and meet(i + 1, j))
        return i < len(first) and j < len(second) and first[i] == second[j] and meet(i + 1, j + 1)

    return meet(0, 0)


def archive_overlaps(keep_tagged: Sequence[KeepTagged], archive: Sequence[Archive]) -> list[tuple[int, int, str]]:
    """(archive index, keepTagged index, wildcard) where an archive rule would take images a keep rule keeps."""
    return [(a, k, selector) for a, rule in enumerate(archive) for selector in rule.selectors
            for k, keep in enumerate(keep_tagged)
            if any(tags_overlap(selector, kept) for kept in _keep_selectors(keep))]


class Lifecycle(Model):
    """Image retention; generates the repository's ECR lifecycle policy."""

    keep_tagged: list[KeepTagged] | None = Field(None, description="Per-prefix retention of tagged images.")
    keep_last: int | None = Field(None, ge=1, description="At most N images of any kind (the last rule).")
    untagged_expire_days: int | None = Field(
        None, ge=1, description="Expire untagged images this many days after push."
    )
    archive: list[Archive] | None = Field(
        None, description="Archive tagged images after `daysWithoutPull` / `daysSincePush` (never the ones "
        "`keepTagged` keeps)."
    )
    archived_expire_days: int | None = Field(
        None, ge=MIN_DAYS_IN_ARCHIVE, description="Expire archived images this many days after archiving; ECR "
        "refuses fewer than 90."
    )

    @model_validator(mode="after")
    def _archive_spares_kept_images(self) -> Lifecycle:
        for index, keep, selector in archive_overlaps(self.keep_tagged or (), self.archive or ()):
            raise problem_at(f"archive[{index}]", f'"{selector}" would archive images keepTagged[{keep}] keeps '
                                        "pullable; archive tags no keepTagged entry selects")
        if self.archived_expire_days is not None and not self.archive:
            raise problem_at("archivedExpireDays", "expires archived images, but no archive rule archives any; "
                                                   "add lifecycle.archive or remove it")
        return self

    @property
    def has_rules(self) -> bool:
        """Whether the lifecycle policy gets any rule (ECR refuses one without)."""
        return bool(self.keep_tagged or self.keep_last or self.untagged_expire_days or self.archive)


class Encryption(Model):
    """At-rest encryption of a repository."""

    type: Literal["AES256", "KMS", "KMS_DSSE"] = Field(description="AES256, KMS or KMS_DSSE.")
    kms_key: KmsKey | None = Field(None, description="KMS key ARN, id or alias; default: the AWS managed key.")

    @model_validator(mode="after")
    def _key_only_with_kms(self) -> Encryption:
        if self.type == "AES256" and self.kms_key is not None:
            raise ValueError("kmsKey only applies to type KMS or KMS_DSSE; remove it or set type: KMS")
        return self


class RepositorySettings(Model):
    """Settings every repository has; any level (defaults, team, repository) may set them."""

    scan_on_push: bool | None = Field(None, description="Scan images for vulnerabilities on push. Built-in: `true`.")
    image_tag_mutability: Mutability | None = Field(
        None, description="`MUTABLE`, `IMMUTABLE`, or `IMMUTABLE_WITH_EXCLUSION` with `tagMutabilityExclusions`. "
        "Built-in: `IMMUTABLE`."
    )
    tag_mutability_exclusions: list[TagWildcard] | None = Field(
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
    permissions_boundary: PolicyArn | None = Field(
        None, description="Permissions boundary policy ARN for push roles.")
    role_path: RolePath | None = Field(None, description="IAM path for push roles, e.g. `/ci/`; default `/`.")


class Defaults(RepositorySettings, RoleSettings):
    """Settings for every repository and push role unless a team or repository overrides them."""


class RepositoryEntry(RepositorySettings):
    """One repository: a bare name, or a name with overrides."""

    name: str = Field(description="Repository name inside the team's namespace.")


def _as_entry(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


def _valid_name(entry: RepositoryEntry) -> RepositoryEntry:
    problem = repository_name_problem(entry.name, shortest=1)  # the full name's length: rules.py
    if problem:
        raise ValueError(problem)
    return entry


# A bare name or `{name, <overrides>}`; a bad name is reported at the item (`repositories[2]`), as written.
Repository = Annotated[RepositoryEntry, BeforeValidator(_as_entry), AfterValidator(_valid_name)]


# --- GitHub ---------------------------------------------------------------------------------------


class Reviewers(Model):
    """Who must approve a deployment to a GitHub environment (GitHub's numeric ids)."""

    users: list[int] = Field(default_factory=list, description="GitHub user ids.")
    teams: list[int] = Field(default_factory=list, description="GitHub team ids.")


class GitHubAccess(Model):
    """A GitHub repository whose workflows may assume the team's push role, and from which refs."""

    repository: GitHubRepository = Field(
        description="`<owner>/<repo>`, `<owner>/*` for every repository of an owner, or GitHub's immutable form "
        "`<owner>@<owner id>/<repo>@<repo id>`: then the role trusts both subject forms and pins "
        "`repository_id` (`gh api repos/OWNER/REPO --jq '.owner.id, .id'` prints the IDs).")
    branches: Annotated[list[GitRef], Unique] = Field(
        default_factory=list, description="Branches (wildcards allowed).")
    tags: Annotated[list[GitRef], Unique] = Field(default_factory=list, description="Git tags (wildcards allowed).")
    environments: Annotated[list[GitRef], Unique] = Field(
        default_factory=list, description="GitHub deployment environments.")
    pull_requests: bool = Field(False, description="Also trust `pull_request` workflow runs.")
    any_ref: bool = Field(False, description="Trust every ref (`repo:<owner>/<repo>:*`).")
    reviewers: Reviewers | None = Field(
        None, description="With `github.manageVariables`: required reviewers of the `environments` it creates."
    )
    workflow: WorkflowPath | None = Field(
        None, description="Only this workflow file (`.github/workflows/release.yml`) may assume the role, on the refs "
        "listed (`job_workflow_ref`); any ref of that file with environments or pull requests."
    )

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
        return github_repository_name(self.repository).owner

    @property
    def name(self) -> str:
        """`<owner>/<repo>` without IDs: what GitHub's API and the Actions variables are keyed by."""
        return github_repository_name(self.repository).name

    @property
    def repository_id(self) -> str | None:
        return github_repository_name(self.repository).repo_id


class GitHubSettings(Model):
    """How GitHub Actions reaches AWS."""

    organizations: list[GitHubOwner] = Field(
        min_length=1, description="GitHub owners; every GitHub repository a team lists must belong to one."
    )
    oidc_provider: OidcProviderSetting = Field(
        "create", description="`create`, `existing` (look it up by issuer URL) or an OIDC provider ARN."
    )
    issuer: IssuerHost = Field(DEFAULT_ISSUER, description="Token issuer host (GitHub Enterprise: its own issuer).")
    manage_variables: bool = Field(
        False, description="Set each listed GitHub repository's Actions variables (and create its environments) "
        "with the Pulumi GitHub provider; the token comes from GITHUB_TOKEN."
    )
    trust_policy_max_chars: int = Field(
        TRUST_POLICY_MAX_CHARS, ge=TRUST_POLICY_MAX_CHARS, le=TRUST_POLICY_RAISED_MAX_CHARS,
        description="The account's role trust policy quota (2048 unless raised).",
    )

    @model_validator(mode="after")
    def _provider_mode(self) -> GitHubSettings:
        if self.oidc_provider in ("create", "existing"):
            return self
        match = OIDC_PROVIDER_ARN.match(self.oidc_provider)
        if not match:
            raise problem_at("oidcProvider", f'"{self.oidc_provider}" must be create, existing or '
                                             "arn:aws:iam::<account>:oidc-provider/<issuer>")
        if match["issuer"] != self.issuer:
            raise problem_at("oidcProvider", f'the provider is for issuer "{match["issuer"]}" but issuer is '
                                             f'"{self.issuer}"; make them the same')
        return self


# --- teams ----------------------------------------------------------------------------------------


class Deploy(Model):
    """Extra rights for the push role, so the same workflow can roll out what it pushed."""

    ecs_services: list[EcsServiceArn] = Field(default_factory=list, description="ECS service ARNs it may update.")
    pass_roles: list[RoleArn] = Field(default_factory=list, description="Task role ARNs it may pass to ECS.")


class Team(RepositorySettings, RoleSettings):
    """A product team: its repositories, who may pull them and which workflows may push."""

    namespace: Namespace | None = Field(
        None, description='Repository prefix; default: the team name; "" = none.')
    repositories: list[Repository] = Field(
        default_factory=list, description="Names (inside the namespace) or `{name, <overrides>}`."
    )
    pull_accounts: list[AccountName] = Field(default_factory=list, description="Names from `accounts` that may pull.")
    push_accounts: list[AccountName] = Field(default_factory=list, description="Names from `accounts` that may push.")
    role_name: RoleName | None = Field(None, description="Push role name; default `github-push-<team>`.")
    previous_names: Annotated[list[EarlierTeamName], Unique] = Field(
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

    @field_validator("allow_create_repositories")
    @classmethod
    def _create_needs_a_namespace(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("namespace") == "":
            raise ValueError('needs a namespace to scope CreateRepository; set namespace (it is "")')
        return value

    @model_validator(mode="after")
    def _has_repositories(self) -> Team:
        if not self.repositories and not self.allow_create_repositories:
            raise problem_at("repositories", "lists no repository; add one or set allowCreateRepositories: true")
        return self


class StackConfig(Model):
    """Everything under `ecr-platform:` in `Pulumi.<stack>.yaml`."""

    environment: Environment | None = Field(
        None, description="Environment name for tags; default: the stack name.")
    github: GitHubSettings | None = Field(None, description="GitHub organisations, OIDC provider and issuer.")
    accounts: dict[str, AccountId] = Field(
        default_factory=dict, description="Named AWS accounts that consume images (12-digit ids, quoted)."
    )
    defaults: Defaults = Field(
        default_factory=lambda: Defaults(), description="Settings for every repository and push role unless "
        "overridden."
    )
    node_pull_roles: Annotated[list[RoleName], Unique] = Field(
        default_factory=list, description="Roles in this account (e.g. EKS node roles) that get pull rights."
    )
    teams: dict[TeamName, Team] = Field(min_length=1, description="Teams by name.")
    registry: RegistryConfig | None = Field(
        None, description="Registry-wide: replication, scanning, pull-through cache, signing, pull-time update "
        "exclusions, account settings."
    )
    retire: Retire | None = Field(
        None, description="Stateful resources this change deletes on purpose; `make check COMPARE=<ref>` refuses "
        "other deletions where the guard says so (prod)."
    )

    @model_validator(mode="after")
    def _github_when_teams_use_it(self) -> StackConfig:
        if self.github is None and any(team.github for team in self.teams.values()):
            raise problem_at("github", "is required when a team lists GitHub repositories (github.organizations)")
        return self

"""`ecr-platform:registry`: registry-wide replication, scanning, pull-through cache, signing, pull-time
exclusions and account settings."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import Model
from .messages import problem_at
from .values import (
    AccountName,
    CachePrefix,
    PrincipalArn,
    PullThroughSecretArn,
    Region,
    ScanFilter,
    SigningProfileArn,
    SigningProfileName,
    TeamName,
    Unique,
)

SECRET_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache/.+$")
MAX_REPLICATION_RULES = 10
MAX_REPLICATION_DESTINATIONS = 25
MAX_FILTERS = 100
MAX_SIGNING_RULES = 10  # ECR: a signing configuration holds at most 10 rules, each one profile
MAX_PULL_TIME_EXCLUSIONS = 100  # ECR: per account
SIGNING_PLATFORM = "Notation-OCI-SHA384-ECDSA"  # the Signer platform ECR's managed signing uses

# Upstreams ECR knows by name, their registry host, and whether ECR requires a credential.
UPSTREAMS: dict[str, tuple[str, bool]] = {
    "docker-hub": ("registry-1.docker.io", True),
    "ghcr": ("ghcr.io", True),
    "gitlab": ("registry.gitlab.com", True),
    "public-ecr": ("public.ecr.aws", False),
    "quay": ("quay.io", False),
    "k8s": ("registry.k8s.io", False),
}


class ReplicationDestination(Model):
    """Where replicated images go."""

    region: Region = Field(description="Destination region.")
    account: AccountName | None = Field(None, description="A name from `accounts`; default: this account.")


class ReplicationRule(Model):
    """Replicate some (or all) repositories to up to 25 destinations."""

    destinations: list[ReplicationDestination] = Field(
        min_length=1, max_length=MAX_REPLICATION_DESTINATIONS, description="Regions/accounts to replicate to."
    )
    repository_prefixes: list[str] = Field(
        default_factory=list, max_length=MAX_FILTERS,
        description="Repository name prefixes (e.g. a namespace `payments/`); empty = every repository.",
    )


class Replication(Model):
    """Registry replication; the destination registry's policy is the destination owner's to grant."""

    rules: list[ReplicationRule] = Field(min_length=1, max_length=MAX_REPLICATION_RULES,
                                         description="At most 10 rules, as ECR allows.")


class ScanRule(Model):
    """Which repositories a registry scanning rule covers, and how often."""

    frequency: Literal["SCAN_ON_PUSH", "CONTINUOUS_SCAN"] = Field(description="SCAN_ON_PUSH or CONTINUOUS_SCAN.")
    filters: list[ScanFilter] = Field(default_factory=lambda: ["*"], min_length=1, max_length=MAX_FILTERS,
                                      description="Repository name wildcards (`payments/*`); default every repository.")


class Scanning(Model):
    """Registry-level scanning (BASIC: Amazon ECR; ENHANCED: Amazon Inspector)."""

    scan_type: Literal["BASIC", "ENHANCED"] = Field("BASIC", description="BASIC or ENHANCED.")
    rules: list[ScanRule] = Field(min_length=1, max_length=2, description="Scanning rules.")

    @model_validator(mode="after")
    def _basic_scans_on_push_only(self) -> Scanning:
        if self.scan_type == "BASIC" and any(r.frequency != "SCAN_ON_PUSH" for r in self.rules):
            raise ValueError("BASIC scanning only supports frequency SCAN_ON_PUSH; use scanType: ENHANCED "
                             "for CONTINUOUS_SCAN")
        return self


class PullThroughCache(Model):
    """An upstream registry mirrored under an ECR prefix."""

    upstream: str = Field(description="docker-hub, ghcr, gitlab, public-ecr, quay, k8s, or a registry host.")
    credential_arn: PullThroughSecretArn | None = Field(
        None, description="Secrets Manager ARN (name `ecr-pullthroughcache/...`); required by docker-hub, ghcr, "
        "gitlab."
    )

    @model_validator(mode="after")
    def _credential(self) -> PullThroughCache:
        host, needs_credential = UPSTREAMS.get(self.upstream, (self.upstream, False))
        if not re.match(r"^[a-z0-9.-]+\.[a-z]{2,}$", host):
            raise ValueError(f'upstream "{self.upstream}" is neither a known upstream '
                             f"({', '.join(UPSTREAMS)}) nor a registry host")
        if needs_credential and not self.credential_arn:
            raise ValueError(f"upstream {self.upstream} needs credentialArn: a Secrets Manager secret named "
                             "ecr-pullthroughcache/<name> holding the registry credentials")
        if self.credential_arn and not SECRET_ARN.match(self.credential_arn):
            raise ValueError(f'credentialArn "{self.credential_arn}" must be a Secrets Manager secret ARN whose name '
                             "starts with ecr-pullthroughcache/")
        return self

    @property
    def upstream_url(self) -> str:
        return UPSTREAMS.get(self.upstream, (self.upstream, False))[0]



class SigningProfile(Model):
    """A Signer signing profile: created by the stack (platform Notation-OCI-SHA384-ECDSA) or referenced."""

    arn: SigningProfileArn | None = Field(
        None, description="An existing profile's ARN; default: the stack creates a profile named as the key."
    )
    signature_validity_months: int | None = Field(
        None, ge=1, le=135, description="How long signatures stay valid (created profiles only); Signer's default "
        "is 135 months."
    )

    @model_validator(mode="after")
    def _validity_only_when_created(self) -> SigningProfile:
        if self.arn and self.signature_validity_months is not None:
            raise problem_at("signatureValidityMonths", "only applies to a profile the stack creates; remove it or "
                                                        "remove arn")
        return self


class Signing(Model):
    """ECR managed signing: every image pushed to a covered repository is signed with its team's profile."""

    profiles: dict[SigningProfileName, SigningProfile] = Field(
        min_length=1, description="Signer profiles by name, e.g. `prod_release: {}` (created) or "
        "`{arn: arn:aws:signer:...}` (existing)."
    )
    default: str | None = Field(  # a key of `profiles`: a bad name is said once, there
        None, description="The profile that signs every team not listed in `teams`; omit to sign only those teams."
    )
    teams: dict[TeamName, str] = Field(
        default_factory=dict, description="Team -> profile, for teams signed with their own profile."
    )

    @model_validator(mode="after")
    def _profiles_exist(self) -> Signing:
        known = ", ".join(self.profiles)
        if self.default is not None and self.default not in self.profiles:
            raise problem_at("default", f'"{self.default}" is not a profile in registry.signing.profiles ({known})')
        for team, profile in self.teams.items():
            if profile not in self.profiles:
                raise problem_at(f"teams.{team}", f'"{profile}" is not a profile in registry.signing.profiles '
                                                  f"({known})")
        if self.default is None and not self.teams:
            raise problem_at("default", "signs nothing: set default (every team) or teams (team -> profile)")
        return self

    def profile_of(self, team: str) -> str | None:
        """The profile name that signs `team`'s repositories (None: not signed)."""
        return self.teams.get(team, self.default)


class AccountSettings(Model):
    """ECR account settings (PutAccountSetting), each set only when given."""

    registry_policy_scope: Literal["V1", "V2"] | None = Field(
        None, description="REGISTRY_POLICY_SCOPE: V2 makes the registry policy cover every ECR action."
    )
    basic_scan_type_version: Literal["AWS_NATIVE"] | None = Field(
        None, description="BASIC_SCAN_TYPE_VERSION: AWS_NATIVE (Clair was retired on 2 February 2026)."
    )
    blob_mounting: Literal["ENABLED", "DISABLED"] | None = Field(
        None, description="BLOB_MOUNTING: ENABLED lets a push reuse layers already in another repository."
    )

    def as_settings(self) -> dict[str, str]:
        """ECR setting name -> value, for the settings given."""
        names = {"registry_policy_scope": "REGISTRY_POLICY_SCOPE",
                 "basic_scan_type_version": "BASIC_SCAN_TYPE_VERSION", "blob_mounting": "BLOB_MOUNTING"}
        return {names[field]: str(value) for field in names if (value := getattr(self, field)) is not None}

class RegistryConfig(Model):
    """Registry-wide features (one set per account and region)."""

    replication: Replication | None = Field(None, description="Cross-region / cross-account replication.")
    scanning: Scanning | None = Field(
        None, description="Registry scanning; default: basic scan on push for namespaces CI creates repositories in."
    )
    pull_through_cache: dict[CachePrefix, PullThroughCache] = Field(
        default_factory=dict, description="Cache rules by ECR prefix, e.g. `docker-hub: {upstream: docker-hub, ...}`."
    )
    signing: Signing | None = Field(
        None, description="Managed image signing: Signer profiles and which teams each signs (at most 10 in use)."
    )
    pull_time_update_exclusions: Annotated[list[PrincipalArn], Unique] = Field(
        default_factory=list, max_length=MAX_PULL_TIME_EXCLUSIONS,
        description="IAM role/user ARNs (scanners) whose pulls do not count as a pull for `sinceImagePulled` rules.",
    )
    account_settings: AccountSettings | None = Field(
        None, description="`registryPolicyScope`, `basicScanTypeVersion`, `blobMounting`."
    )

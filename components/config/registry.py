"""`ecr-platform:registry`: registry-wide replication, scanning and pull-through cache settings."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from .base import Model
from .values import AccountName, CachePrefix, PullThroughSecretArn, Region, ScanFilter

SECRET_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache/.+$")
MAX_REPLICATION_RULES = 10
MAX_REPLICATION_DESTINATIONS = 25
MAX_FILTERS = 100

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


class RegistryConfig(Model):
    """Registry-wide features (one set per account and region)."""

    replication: Replication | None = Field(None, description="Cross-region / cross-account replication.")
    scanning: Scanning | None = Field(
        None, description="Registry scanning; default: basic scan on push for namespaces CI creates repositories in."
    )
    pull_through_cache: dict[CachePrefix, PullThroughCache] = Field(
        default_factory=dict, description="Cache rules by ECR prefix, e.g. `docker-hub: {upstream: docker-hub, ...}`."
    )

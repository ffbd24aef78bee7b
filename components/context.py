"""Where the stack deploys and which stack config it reads: values known at preview time."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi.runtime.config import CONFIG, get_config_env

from .config import Settings, load_settings

PROJECT = "ecr-platform"


@dataclass(frozen=True)
class AwsContext:
    """The account, region and partition the provider deploys to, from invokes (known at preview)."""

    account: str
    region: str
    partition: str
    dns_suffix: str

    @classmethod
    def current(cls) -> AwsContext:
        partition = aws.get_partition()
        return cls(
            account=aws.get_caller_identity().account_id,
            region=aws.get_region().region,
            partition=partition.partition,
            dns_suffix=partition.dns_suffix,
        )

    @property
    def registry_url(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.{self.dns_suffix}"


def _parsed(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def project_config(namespace: str = PROJECT) -> dict[str, Any]:
    """Every `ecr-platform:*` key of the stack (so typos in top-level keys are caught too), without the
    prefix; with `namespace="aws"`, the AWS provider's keys."""
    merged = {**get_config_env(), **CONFIG.get()}
    prefix = f"{namespace}:"
    return {key[len(prefix):]: _parsed(value) for key, value in merged.items() if key.startswith(prefix)}


def read_settings() -> Settings:
    """The validated settings of the current stack; a `pulumi.RunError` listing every problem otherwise."""
    from .config import ConfigError

    try:
        return load_settings(project_config(), stack=pulumi.get_stack(), provider=project_config("aws"),
                             environ=os.environ)
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None


def tags(environment: str, team: str | None = None) -> dict[str, str]:
    """The tags every taggable resource carries; `team` is what the policy pack isolates by."""
    base = {"managed-by": PROJECT, "environment": environment}
    return {**base, "team": team} if team else base


def renamed(previous_names: tuple[str, ...], logical: str = "{}") -> list[pulumi.Input[str | pulumi.Alias]]:
    """Aliases for a logical name derived from a team's name (`logical` formats it), one per earlier name."""
    return [pulumi.Alias(name=logical.format(old)) for old in previous_names]

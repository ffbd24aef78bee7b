"""The stack configuration (`ecr-platform:*`): validated, resolved, or refused with one line per problem.

Where things are:
- `models.py`, `registry.py`: one model per section, named as the YAML; each field's description
  is the README's config reference. `values.py`: the constrained names, ids and ARNs they use.
- `resolve.py`: layering (built-in < `defaults` < team < repository) into the `Settings` the
  components are built from.
- `rules.py`: the rules that need every team or the layered settings (duplicates, nesting, quotas).
- `provider.py`: the AWS provider's keys (`aws:*`): known to the installed provider, the region, the
  account in prod; where every ARN of the config must point.
- `messages.py`: how a problem reads (key path, what was expected, "did you mean", the fix).

`load_settings` is the one entry point, a pure function over what `Config.require_object` returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from .messages import ConfigError, describe_all
from .models import (
    Defaults,
    Deploy,
    Encryption,
    GitHubAccess,
    GitHubSettings,
    KeepTagged,
    Lifecycle,
    RepositoryEntry,
    RepositorySettings,
    Reviewers,
    RoleSettings,
    StackConfig,
    Team,
)
from .provider import home_of, provider_problems
from .registry import (
    PullThroughCache,
    RegistryConfig,
    Replication,
    ReplicationDestination,
    ReplicationRule,
    Scanning,
    ScanRule,
)
from .resolve import BUILT_IN, ResolvedRepository, ResolvedRole, ResolvedTeam, Settings, resolve
from .rules import stack_problems
from .values import Declared

__all__ = [
    "BUILT_IN", "ConfigError", "Defaults", "Deploy", "Encryption", "GitHubAccess", "GitHubSettings", "KeepTagged",
    "Lifecycle", "PullThroughCache", "RegistryConfig", "Replication", "ReplicationDestination", "ReplicationRule",
    "RepositoryEntry", "RepositorySettings", "ResolvedRepository", "ResolvedRole", "ResolvedTeam", "Reviewers",
    "RoleSettings", "ScanRule", "Scanning", "Settings", "StackConfig", "Team", "load_settings",
]


def load_settings(raw: Mapping[str, Any], stack: str, provider: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Validate the `ecr-platform:*` config (keys without the project prefix) into `Settings`.

    `provider` is the stack's `aws:*` keys (without the prefix) and `environ` the environment the
    provider would read (AWS_REGION): given, they are checked too (`provider.py`), and every ARN must
    point where they say the stack deploys. The program always gives them; tests of one section may not.

    Raises `ConfigError` listing every problem; returns only a configuration that can be
    declared in full. Values are checked first, each where it is written; the rules across teams
    and layers run once every value is valid.
    """
    problems: list[str] = []
    context = Declared.of(raw)
    if provider is not None:
        environ = {} if environ is None else environ
        problems = provider_problems(provider, str(raw.get("environment") or stack), environ)
        home = home_of(provider, environ)
        context = Declared.of(raw, home.accounts, home.region)
    try:
        config = StackConfig.model_validate(dict(raw), context=context)
    except ValidationError as error:
        raise ConfigError(problems + describe_all(error.errors(), StackConfig)) from None
    if problems:
        raise ConfigError(problems)
    settings = resolve(config, stack)
    problems = stack_problems(settings)
    if problems:
        raise ConfigError(problems)
    return settings

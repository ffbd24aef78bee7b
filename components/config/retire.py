"""`ecr-platform:retire`: stateful resources a change may delete, said in the stack file the reviewer reads.

The program declares nothing from it. `make check COMPARE=<ref>` lets a deletion listed here pass
where the environment's guard would refuse it, and reports it as a planned deletion. An entry must
name something the stack no longer declares, so a name retired once cannot silently accept the
deletion of a resource declared again later under it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from .base import Model
from .values import Unique

if TYPE_CHECKING:
    from .resolve import Settings


class Retire(Model):
    """What this change may delete, by the names ECR knows them by."""

    repositories: Annotated[list[Annotated[str, Field(min_length=1)]], Unique] = Field(
        default_factory=list, description="Full repository names (`payments/legacy`) this change deletes, with "
        "every image in them."
    )
    creation_templates: Annotated[list[Annotated[str, Field(min_length=1)]], Unique] = Field(
        default_factory=list, description="Namespaces whose repository creation template this change deletes "
        "(CI can no longer create repositories there)."
    )
    pull_through_cache: Annotated[list[Annotated[str, Field(min_length=1)]], Unique] = Field(
        default_factory=list, description="Pull-through cache prefixes whose rule this change deletes (cached "
        "repositories stay)."
    )
    oidc_provider: bool = Field(
        False, description="This change deletes the GitHub OIDC provider the stack created (every role trusting it "
        "stops working)."
    )
    replication: bool = Field(False, description="This change deletes the registry's replication configuration.")



def retire_problems(settings: Settings) -> list[str]:
    """Entries that name something the stack still declares: it cannot be both kept and deleted."""
    retire, teams, config = settings.retire, settings.teams, settings
    problems: list[str] = []
    owners = {repo.name: team.name for team in teams for repo in team.repositories}
    for index, name in enumerate(retire.repositories):
        if name in owners:
            problems.append(
                f'retire.repositories[{index}]: "{name}" is still declared by teams.{owners[name]}.repositories; '
                f"remove it there to delete it, or remove it from retire.repositories to keep it")
    creating = {team.namespace: team.name for team in teams if team.allow_create_repositories}
    for index, prefix in enumerate(retire.creation_templates):
        if prefix in creating:
            problems.append(
                f'retire.creationTemplates[{index}]: "{prefix}" is still the namespace of '
                f"teams.{creating[prefix]}, which sets allowCreateRepositories: true; set it to false to delete the "
                "template, or remove the entry to keep it")
    cached = config.registry.pull_through_cache
    for index, prefix in enumerate(retire.pull_through_cache):
        if prefix in cached:
            problems.append(
                f'retire.pullThroughCache[{index}]: "{prefix}" is still declared in registry.pullThroughCache; '
                "remove it there to delete the rule, or remove the entry to keep it")
    if retire.oidc_provider and config.github is not None and config.github.oidc_provider == "create":
        problems.append(
            "retire.oidcProvider: the stack still creates the OIDC provider (github.oidcProvider: create); set "
            "github.oidcProvider to existing or an ARN (or remove github) to stop declaring it, or set "
            "retire.oidcProvider: false to keep it")
    if retire.replication and config.registry is not None and config.registry.replication is not None:
        problems.append(
            "retire.replication: registry.replication is still set; remove it to delete the replication "
            "configuration, or set retire.replication: false to keep it")
    return problems

"""Stack outputs product teams read: pure functions of the settings and the AWS context."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pulumi

from .config import ResolvedTeam, Settings
from .context import AwsContext


def role_arn(ctx: AwsContext, team: ResolvedTeam) -> str:
    return f"arn:{ctx.partition}:iam::{ctx.account}:{team.role_arn_suffix}"


def github_actions_variables(settings: Settings, ctx: AwsContext) -> dict[str, dict[str, str]]:
    """Per GitHub repository, the Actions variables its workflow needs to push."""
    variables: dict[str, dict[str, str]] = {}
    for team in settings.teams:
        for access in team.github:
            variables[access.name] = {
                "AWS_REGION": ctx.region,
                "AWS_ROLE_ARN": role_arn(ctx, team),
                "ECR_REGISTRY": ctx.registry_url,
                "ECR_REPOSITORIES": ",".join(repo.name for repo in team.repositories),
            }
    return variables


def merged(maps: Iterable[pulumi.Output[dict[str, str]]]) -> pulumi.Output[dict[str, str]]:
    """One map from the per-team maps (repository names are unique across teams)."""

    def merge(parts: list[Mapping[str, str]]) -> dict[str, str]:
        return {key: value for part in parts for key, value in part.items()}

    return pulumi.Output.all(*maps).apply(merge)

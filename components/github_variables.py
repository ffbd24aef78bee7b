"""`GitHubVariables`: each team repository's Actions variables, set in GitHub itself (opt-in).

With `github.manageVariables: true` a product team never copies a role ARN by hand. Entries
with `environments` get the variables per GitHub environment (created here, with required
reviewers when configured), so the dev and prod stacks can both serve one repository; other
entries get repository variables. Organisation-wide entries (`owner/*`) name no repository and
are skipped. The GitHub token comes from the provider's standard `GITHUB_TOKEN` variable.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_github as github

from .config import Settings
from .context import AwsContext
from .outputs import github_actions_variables


@dataclass(frozen=True)
class GitHubVariablesArgs:
    settings: Settings
    """The teams, their GitHub entries, and what each repository's workflow needs."""
    aws: AwsContext
    """Account, region and partition of the stack (the variables' values)."""


class GitHubVariables(pulumi.ComponentResource):
    def __init__(self, name: str, args: GitHubVariablesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecr-platform:index:GitHubVariables", name, None, opts)
        values = github_actions_variables(args.settings, args.aws)
        providers: dict[str, github.Provider] = {}
        for team in args.settings.teams:
            for access in team.github:
                if access.org_wide:
                    continue
                owner, repository = access.name.split("/", 1)
                if owner.lower() not in providers:
                    providers[owner.lower()] = github.Provider(
                        f"{name}-{owner.lower()}", owner=owner, opts=pulumi.ResourceOptions(parent=self))
                child = pulumi.ResourceOptions(parent=self, provider=providers[owner.lower()])
                variables = values[access.name]
                if not access.environments:
                    for variable, value in variables.items():
                        github.ActionsVariable(f"{access.name}:{variable}", repository=repository,
                                               variable_name=variable, value=value, opts=child)
                for environment in access.environments:
                    created = github.RepositoryEnvironment(
                        f"{access.name}:{environment}",
                        repository=repository,
                        environment=environment,
                        reviewers=[github.RepositoryEnvironmentReviewerArgs(
                            users=access.reviewers.users, teams=access.reviewers.teams)] if access.reviewers else None,
                        prevent_self_review=True if access.reviewers else None,
                        opts=child,
                    )
                    for variable, value in variables.items():
                        github.ActionsEnvironmentVariable(
                            f"{access.name}:{environment}:{variable}", repository=repository,
                            environment=created.environment, variable_name=variable, value=value, opts=child)
        self.register_outputs({})

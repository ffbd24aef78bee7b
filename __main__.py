"""ecr-platform: per-team ECR repositories and GitHub Actions push roles, from stack config."""

import pulumi

from components.context import AwsContext, read_settings
from components.github_variables import GitHubVariables, GitHubVariablesArgs
from components.node_pull import NodePullAccess, NodePullAccessArgs
from components.oidc_provider import GitHubOidcProvider, GitHubOidcProviderArgs
from components.outputs import github_actions_variables, merged
from components.push_role import GitHubPushRole, GitHubPushRoleArgs
from components.registry import RegistryFeatures, RegistryFeaturesArgs
from components.repository_creation import RepositoryCreation, RepositoryCreationArgs
from components.signing import ImageSigning, ImageSigningArgs
from components.team_registry import TeamRegistry, TeamRegistryArgs

settings = read_settings()
env, ctx = settings.environment, AwsContext.current()

registries = [TeamRegistry(team.name, TeamRegistryArgs(team, env, ctx)) for team in settings.teams]
push_roles: dict[str, pulumi.Output[str]] = {}
if settings.github:
    github = GitHubOidcProvider("github", GitHubOidcProviderArgs(settings.github, env, ctx))
    pulumi.export("githubOidcProviderArn", github.arn)
    for team in settings.teams_on_github:
        signs_with = tuple(settings.signing_profiles(team.name, ctx.account, ctx.region, ctx.partition))
        role = GitHubPushRole(team.name, GitHubPushRoleArgs(team, github, env, ctx, signs_with))
        push_roles[team.name] = role.role_arn
    if settings.github.manage_variables:
        GitHubVariables("github-variables", GitHubVariablesArgs(settings, ctx))
if settings.creating_teams:
    RepositoryCreation("repository-creation", RepositoryCreationArgs(settings.creating_teams, env, ctx))
RegistryFeatures("registry", RegistryFeaturesArgs(settings, ctx))
if settings.registry.signing:
    pulumi.export("signingProfileArns", ImageSigning("signing", ImageSigningArgs(settings, ctx)).profile_arns)
if settings.node_pull_roles:
    node_pull = NodePullAccess("node-pull", NodePullAccessArgs(settings.teams, settings.node_pull_roles,
                                                                 tuple(settings.registry.pull_through_cache), env, ctx))
    pulumi.export("nodePullPolicyArn", node_pull.policy_arn)

pulumi.export("registryUrl", ctx.registry_url)
pulumi.export("repositoryUrls", merged(r.repository_urls for r in registries))
pulumi.export("repositoryArns", merged(r.repository_arns for r in registries))
pulumi.export("pushRoleArns", push_roles)
pulumi.export("githubActionsVariables", github_actions_variables(settings, ctx))

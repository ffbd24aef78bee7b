"""`GitHubPushRole`: the role a team's GitHub workflows assume to push to its repositories only."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import ResolvedTeam
from .context import AwsContext, renamed, tags
from .documents import github_trust_policy, push_policy, to_json
from .oidc_provider import GitHubOidcProvider


@dataclass(frozen=True)
class GitHubPushRoleArgs:
    team: ResolvedTeam
    """The team: its namespace, repositories, GitHub entries and deploy rights."""
    github: GitHubOidcProvider
    """The provider the role trusts: its ARN (known at preview) and issuer; created first."""
    environment: str
    """Environment name for tags."""
    aws: AwsContext
    """Account, region and partition of the stack."""
    signing_profiles: tuple[str, ...] = ()
    """ARNs of the Signer profiles that sign the team's repositories (managed signing signs as the pusher)."""


class GitHubPushRole(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    """The ARN workflows pass to aws-actions/configure-aws-credentials."""

    def __init__(self, name: str, args: GitHubPushRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # A renamed team keeps its component's identity: an alias per earlier name.
        kept = pulumi.ResourceOptions(aliases=renamed(args.team.previous_names))
        super().__init__("ecr-platform:index:GitHubPushRole", name, None, pulumi.ResourceOptions.merge(opts, kept))
        team = args.team
        role = aws.iam.Role(
            name,
            name=team.role_name,
            path=team.role.path,
            max_session_duration=team.role.max_session_duration,
            permissions_boundary=team.role.permissions_boundary,
            description=f"GitHub Actions push role for team {team.name} ({args.environment}), managed by ecr-platform",
            assume_role_policy=to_json(github_trust_policy(args.github.known_arn, args.github.issuer, team.github)),
            tags=tags(args.environment, team.name),
            # IAM refuses a trust policy naming a provider that does not exist yet.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.github], aliases=renamed(team.previous_names)),
        )
        aws.iam.RolePolicy(
            f"{name}-push",
            role=role.name,
            name="push-to-team-repositories",
            policy=to_json(push_policy(team, args.aws.account, args.aws.region, args.aws.partition,
                                       args.signing_profiles)),
            opts=pulumi.ResourceOptions(parent=self, aliases=renamed(team.previous_names, "{}-push")),
        )
        self.role_arn = role.arn
        self.register_outputs({"roleArn": self.role_arn})

"""`NodePullAccess`: a pull-only managed policy attached to existing node roles (EKS, ECS hosts)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import ResolvedTeam
from .context import AwsContext, tags
from .documents import node_pull_policy, to_json


@dataclass(frozen=True)
class NodePullAccessArgs:
    teams: tuple[ResolvedTeam, ...]
    """Every team whose repositories nodes may pull from."""
    role_names: tuple[str, ...]
    """Existing roles in this account that get the policy."""
    cache_prefixes: tuple[str, ...]
    """Pull-through cache prefixes nodes may pull (and so populate) through."""
    environment: str
    """Environment name for the policy name and tags."""
    aws: AwsContext
    """Account, region and partition of the stack."""


class NodePullAccess(pulumi.ComponentResource):
    policy_arn: pulumi.Output[str]
    """The managed pull policy, for roles this stack does not manage."""

    def __init__(self, name: str, args: NodePullAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecr-platform:index:NodePullAccess", name, None, opts)
        policy = aws.iam.Policy(
            name,
            name=f"ecr-platform-{args.environment}-node-pull",
            description="Pull images from the ecr-platform repositories",
            policy=to_json(node_pull_policy(args.teams, args.aws.account, args.aws.region, args.aws.partition,
                                            args.environment, args.cache_prefixes)),
            tags=tags(args.environment),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for role in args.role_names:
            aws.iam.RolePolicyAttachment(
                f"{name}-{role}",
                role=role,
                policy_arn=policy.arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.policy_arn = policy.arn
        self.register_outputs({"policyArn": self.policy_arn})

"""`RepositoryCreation`: repositories CI creates on first push get the declared repositories' settings.

Per team that allows it, an ECR repository creation template for its namespace
(`CREATE_ON_PUSH`) carries mutability, encryption, lifecycle, repository policy and tags; ECR
applies tags and KMS keys through a role it assumes, scoped to those namespaces. Templates have
no scan setting: `RegistryFeatures` adds a registry scanning rule for those namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import ResolvedTeam
from .context import AwsContext, renamed, tags
from .documents import (
    creation_role_policy,
    lifecycle_policy,
    repository_policy,
    service_trust_policy,
    to_json,
)


@dataclass(frozen=True)
class RepositoryCreationArgs:
    creating_teams: tuple[ResolvedTeam, ...]
    """Teams whose CI may create repositories inside their namespace."""
    environment: str
    """Environment name for names and tags."""
    aws: AwsContext
    """Account, region and partition of the stack."""


def kms_key_arn(key: str, ctx: AwsContext) -> str:
    """A KMS key's ARN from an ARN, key id or alias (aliases resolved by invoke, known at preview)."""
    if key.startswith("arn:") and ":key/" in key:
        return key
    if key.startswith("alias/") or ":alias/" in key:
        return aws.kms.get_alias(name=key.split(":")[-1]).target_key_arn
    return f"arn:{ctx.partition}:kms:{ctx.region}:{ctx.account}:key/{key}"


class RepositoryCreation(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    """The role ECR assumes to create, tag and encrypt repositories from the templates."""

    def __init__(self, name: str, args: RepositoryCreationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecr-platform:index:RepositoryCreation", name, None, opts)
        ctx = args.aws
        keys = [kms_key_arn(t.template.encryption.kms_key, ctx) for t in args.creating_teams
                if t.template.encryption.kms_key]
        role = aws.iam.Role(
            name,
            name=f"ecr-platform-{args.environment}-repository-creation",
            description="Assumed by Amazon ECR to create repositories from ecr-platform creation templates",
            assume_role_policy=to_json(service_trust_policy("ecr.amazonaws.com")),
            tags=tags(args.environment),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-create",
            role=role.name,
            name="create-repositories-in-namespaces",
            policy=to_json(creation_role_policy(args.creating_teams, ctx.account, ctx.region, ctx.partition, keys)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for team in args.creating_teams:
            template = team.template
            access = repository_policy(team.pull_account_ids, team.push_account_ids, ctx.partition)
            aws.ecr.RepositoryCreationTemplate(
                f"{team.name}-template",
                prefix=team.namespace,
                applied_fors=["CREATE_ON_PUSH"],
                description=f"Repositories team {team.name} creates on push, managed by ecr-platform",
                image_tag_mutability=template.image_tag_mutability,
                image_tag_mutability_exclusion_filters=[
                    aws.ecr.RepositoryCreationTemplateImageTagMutabilityExclusionFilterArgs(
                        filter=f, filter_type="WILDCARD") for f in template.tag_mutability_exclusions] or None,
                encryption_configurations=[aws.ecr.RepositoryCreationTemplateEncryptionConfigurationArgs(
                    encryption_type=template.encryption.type, kms_key=template.encryption.kms_key)],
                lifecycle_policy=to_json(lifecycle_policy(template.lifecycle)),
                repository_policy=to_json(access) if access else None,
                resource_tags=tags(args.environment, team.name),
                custom_role_arn=role.arn,
                opts=pulumi.ResourceOptions(parent=self, aliases=renamed(team.previous_names, "{}-template")),
            )
        self.role_arn = role.arn
        self.register_outputs({"roleArn": self.role_arn})

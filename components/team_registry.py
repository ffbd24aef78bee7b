"""`TeamRegistry`: a team's ECR repositories with scanning, encryption, retention and access."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import ResolvedRepository, ResolvedTeam
from .context import AwsContext, renamed, tags
from .documents import lifecycle_policy, repository_policy, to_json


@dataclass(frozen=True)
class TeamRegistryArgs:
    team: ResolvedTeam
    """The team with every repository setting decided."""
    environment: str
    """Environment name for tags."""
    aws: AwsContext
    """Account, region and partition of the stack."""


def encryption_configurations(repo: ResolvedRepository) -> list[aws.ecr.RepositoryEncryptionConfigurationArgs]:
    return [aws.ecr.RepositoryEncryptionConfigurationArgs(
        encryption_type=repo.encryption.type, kms_key=repo.encryption.kms_key,
    )]


class TeamRegistry(pulumi.ComponentResource):
    repository_urls: pulumi.Output[dict[str, str]]
    """Repository URL by repository name."""
    repository_arns: pulumi.Output[dict[str, str]]
    """Repository ARN by repository name."""

    def __init__(self, name: str, args: TeamRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # A renamed team keeps its component's identity: an alias per earlier name.
        kept = pulumi.ResourceOptions(aliases=renamed(args.team.previous_names))
        super().__init__("ecr-platform:index:TeamRegistry", name, None, pulumi.ResourceOptions.merge(opts, kept))
        team = args.team
        access = repository_policy(team.pull_account_ids, team.push_account_ids, args.aws.partition)
        urls: dict[str, pulumi.Output[str]] = {}
        arns: dict[str, pulumi.Output[str]] = {}
        for repo in team.repositories:
            repository = aws.ecr.Repository(
                repo.name,
                name=repo.name,
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=repo.scan_on_push),
                image_tag_mutability=repo.image_tag_mutability,
                image_tag_mutability_exclusion_filters=[
                    aws.ecr.RepositoryImageTagMutabilityExclusionFilterArgs(filter=f, filter_type="WILDCARD")
                    for f in repo.tag_mutability_exclusions] or None,
                encryption_configurations=encryption_configurations(repo),
                # Deleting a repository must never take its images with it.
                force_delete=False if repo.protect else None,
                tags=tags(args.environment, team.name),
                opts=pulumi.ResourceOptions(parent=self, protect=repo.protect),
            )
            aws.ecr.LifecyclePolicy(
                f"{repo.name}-lifecycle",
                repository=repository.name,
                policy=to_json(lifecycle_policy(repo.lifecycle)),
                opts=pulumi.ResourceOptions(parent=self),
            )
            if access is not None:
                aws.ecr.RepositoryPolicy(
                    f"{repo.name}-policy",
                    repository=repository.name,
                    policy=to_json(access),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            urls[repo.name] = repository.repository_url
            arns[repo.name] = repository.arn
        self.repository_urls = pulumi.Output.all(urls).apply(lambda values: values[0])
        self.repository_arns = pulumi.Output.all(arns).apply(lambda values: values[0])
        self.register_outputs({"repositoryUrls": self.repository_urls, "repositoryArns": self.repository_arns})

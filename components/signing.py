"""`ImageSigning`: ECR managed signing: Signer profiles and the registry's signing configuration.

pulumi-aws has no resource for ECR's signing configuration; pulumi-aws-native (the generated
Cloud Control provider) has `ecr.SigningConfiguration`. Its provider is built here from the stack's
AWS account and region, so a stack sets `aws:region` once and never a second `aws-native:region`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_aws_native as aws_native

from .config import Settings
from .config.registry import SIGNING_PLATFORM
from .context import AwsContext, tags
from .documents import signing_profile_arn, signing_rules, team_repository_filters


@dataclass(frozen=True)
class ImageSigningArgs:
    settings: Settings
    """The validated settings: `registry.signing` and the teams it signs."""
    aws: AwsContext
    """Account, region and partition of the stack."""


class ImageSigning(pulumi.ComponentResource):
    profile_arns: pulumi.Output[dict[str, str]]
    """Signer profile ARN by profile name (created or referenced)."""

    def __init__(self, name: str, args: ImageSigningArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecr-platform:index:ImageSigning", name, None, opts)
        settings, ctx = args.settings, args.aws
        signing = settings.registry.signing
        assert signing is not None, "ImageSigning needs registry.signing"
        rules = signing_rules(settings.teams, signing.profile_of, team_repository_filters)
        arns: dict[str, pulumi.Input[str]] = {}
        created: list[pulumi.Resource] = []
        for profile, spec in signing.profiles.items():
            if spec.arn:
                arns[profile] = spec.arn
                continue
            validity = (aws.signer.SigningProfileSignatureValidityPeriodArgs(type="MONTHS",
                                                                             value=spec.signature_validity_months)
                        if spec.signature_validity_months else None)
            created.append(aws.signer.SigningProfile(
                f"{name}-{profile}",
                name=profile,
                platform_id=SIGNING_PLATFORM,
                signature_validity_period=validity,
                tags=tags(settings.environment),
                opts=pulumi.ResourceOptions(parent=self),
            ))
            # The ARN Signer gives a named profile: known at preview, so the guard sees real rules.
            arns[profile] = signing_profile_arn(ctx.partition, ctx.region, ctx.account, profile)
        # The one aws-native provider: same account guard and region as the aws provider.
        native = aws_native.Provider(
            f"{name}-aws-native",
            region=ctx.region,
            allowed_account_ids=[ctx.account],
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws_native.ecr.SigningConfiguration(
            f"{name}-configuration",
            rules=[aws_native.ecr.SigningConfigurationRuleArgs(
                signing_profile_arn=arns[profile],
                repository_filters=[aws_native.ecr.SigningConfigurationRepositoryFilterArgs(
                    filter=f, filter_type=aws_native.ecr.SigningConfigurationFilterType.WILDCARD_MATCH)
                    for f in filters] if filters is not None else None,
            ) for profile, filters in rules.items()],
            opts=pulumi.ResourceOptions(parent=self, provider=native, depends_on=created),
        )
        self.profile_arns = pulumi.Output.all(arns).apply(lambda values: values[0])
        self.register_outputs({"profileArns": self.profile_arns})

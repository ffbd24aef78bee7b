"""`RegistryFeatures`: the account-wide ECR settings: scanning, replication, pull-through cache, pull-time
update exclusions and account settings.

Each is a singleton per registry (account and region), so one component owns them all.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import Settings
from .context import AwsContext


@dataclass(frozen=True)
class RegistryFeaturesArgs:
    settings: Settings
    """The validated settings: `registry`, the teams (for default scan filters) and `accounts`."""
    aws: AwsContext
    """Account, region and partition of the stack."""


def default_scan_filters(settings: Settings) -> list[str]:
    """Without `registry.scanning`: scan on push where CI creates repositories, plus every declared
    repository that scans, so a registry-level rule never leaves one of them unscanned."""
    created = sorted({f"{t.namespace}/*" for t in settings.creating_teams if t.template.scan_on_push})
    covered = tuple(f[:-1] for f in created)
    declared = sorted({r.name for r in settings.repositories if r.scan_on_push and not r.name.startswith(covered)})
    return created + declared if created else []


def scanning_rules(settings: Settings) -> tuple[str, list[aws.ecr.RegistryScanningConfigurationRuleArgs]]:
    """The scan type and rules to declare; no rules means leave the registry's scanning alone."""

    def rule(frequency: str, filters: list[str]) -> aws.ecr.RegistryScanningConfigurationRuleArgs:
        return aws.ecr.RegistryScanningConfigurationRuleArgs(
            scan_frequency=frequency,
            repository_filters=[aws.ecr.RegistryScanningConfigurationRuleRepositoryFilterArgs(
                filter=f, filter_type="WILDCARD") for f in filters])

    scanning = settings.registry.scanning
    if scanning:
        return scanning.scan_type, [rule(r.frequency, r.filters) for r in scanning.rules]
    filters = default_scan_filters(settings)
    return "BASIC", [rule("SCAN_ON_PUSH", filters)] if filters else []


class RegistryFeatures(pulumi.ComponentResource):
    def __init__(self, name: str, args: RegistryFeaturesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecr-platform:index:RegistryFeatures", name, None, opts)
        settings, ctx = args.settings, args.aws
        scan_type, rules = scanning_rules(settings)
        if rules:
            aws.ecr.RegistryScanningConfiguration(
                f"{name}-scanning", scan_type=scan_type, rules=rules, opts=pulumi.ResourceOptions(parent=self))
        replication = settings.registry.replication
        if replication:
            aws.ecr.ReplicationConfiguration(
                f"{name}-replication",
                replication_configuration=aws.ecr.ReplicationConfigurationReplicationConfigurationArgs(rules=[
                    aws.ecr.ReplicationConfigurationReplicationConfigurationRuleArgs(
                        destinations=[aws.ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs(
                            region=d.region,
                            registry_id=settings.accounts[d.account] if d.account else ctx.account,
                        ) for d in rule.destinations],
                        repository_filters=[
                            aws.ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs(
                                filter=prefix, filter_type="PREFIX_MATCH") for prefix in rule.repository_prefixes
                        ] or None,
                    ) for rule in replication.rules]),
                opts=pulumi.ResourceOptions(parent=self),
            )
        for prefix, cache in settings.registry.pull_through_cache.items():
            aws.ecr.PullThroughCacheRule(
                f"{name}-cache-{prefix}",
                ecr_repository_prefix=prefix,
                upstream_registry_url=cache.upstream_url,
                credential_arn=cache.credential_arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
        for principal in settings.registry.pull_time_update_exclusions:
            aws.ecr.PullTimeUpdateExclusion(
                f"{name}-pull-time-exclusion-{principal.split('::', 1)[1]}",  # <account>:role/<name>
                principal_arn=principal,
                opts=pulumi.ResourceOptions(parent=self),
            )
        account_settings = settings.registry.account_settings
        for setting, value in (account_settings.as_settings() if account_settings else {}).items():
            aws.ecr.AccountSetting(
                f"{name}-{setting.lower().replace('_', '-')}",
                name=setting,
                value=value,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})

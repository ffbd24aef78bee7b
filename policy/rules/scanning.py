"""`ecr-scan-on-push` (stack policy): every image is scanned when it is pushed.

A repository passes when it sets `imageScanningConfiguration.scanOnPush: true`, or when a
registry scanning configuration in the same stack has a rule with `SCAN_ON_PUSH` or
`CONTINUOUS_SCAN` whose repository filter matches its name (ECR `WILDCARD` filters: `*` matches
any run of characters). That is why this is a stack policy: the two halves are different
resources. A repository creation template has no scan setting of its own, so the repositories it
creates under `<prefix>/` must be covered by such a rule (a filter like `<prefix>/*` or `*`).

Registry scanning is per account and region: a configuration covers only repositories of its own
region (a resource's `region` input, pulumi-aws v7, else its provider's region; resources that
name neither share the default provider's). An account and region has one scanning
configuration, and each `pulumi up` of a second one replaces the first, so two in the same
region are a violation, not double coverage.

Filters are matched with `common.glob_match`, which never backtracks, so a filter with many
wildcards costs no more than one with a few.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    CREATION_TEMPLATE,
    REGISTRY_SCANNING,
    REPOSITORY,
    Finding,
    Resource,
    Skipped,
    as_list,
    contains_unknown,
    glob_match,
    is_unknown,
    namespace_under,
    stack_policy,
)

SCANNING_FREQUENCIES = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")


def scanning_filters(resources: list[Resource], skipped: Skipped) -> tuple[dict[Any, list[str]], bool]:
    """Per region: repository filters of every registry rule that scans on push or continuously; all known?"""
    filters: dict[Any, list[str]] = {}
    complete = True
    for config in resources:
        if config.resource_type != REGISTRY_SCANNING:
            continue
        if is_unknown(config.region):
            skipped.add(f"{config.name}.region")
            complete = False
            continue
        found = filters.setdefault(config.region, [])
        rules = config.props.get("rules")
        if is_unknown(rules):
            skipped.add(f"{config.name}.rules")
            complete = False
            continue
        for rule in as_list(rules):
            if contains_unknown(rule) and not isinstance(rule, dict):
                skipped.add(f"{config.name}.rules")
                complete = False
                continue
            if not isinstance(rule, dict):
                continue
            frequency = rule.get("scanFrequency")
            if is_unknown(frequency):
                skipped.add(f"{config.name}.rules.scanFrequency")
                complete = False
                continue
            if frequency not in SCANNING_FREQUENCIES:
                continue
            entries = rule.get("repositoryFilters")
            for entry in [entries] if is_unknown(entries) else as_list(entries):
                value = entry.get("filter") if isinstance(entry, dict) else entry
                if isinstance(value, str) and value:
                    found.append(value)
                elif is_unknown(value):
                    skipped.add(f"{config.name}.rules.repositoryFilters")
                    complete = False
    return filters, complete


def singleton_findings(resources: list[Resource]) -> list[Finding]:
    """Two scanning configurations for one region replace each other on every `up`."""
    by_region: dict[Any, list[Resource]] = {}
    for r in resources:
        if r.resource_type == REGISTRY_SCANNING and not is_unknown(r.region):
            by_region.setdefault(r.region, []).append(r)
    return [Finding(
        f"{len(found)} registry scanning configurations ({', '.join(repr(r.name) for r in found)}) are declared for "
        f"region {region or '(the default provider region)'}: a registry has one, so each `pulumi up` replaces the "
        "other and the repositories only one of them covers lose scanning. Merge their rules into one.", found[-1].urn)
        for region, found in by_region.items() if len(found) > 1]


def rule_shape_problems(rules: Any) -> list[str]:
    """'field problem' phrases for scanning rules ECR would not read as written (unknowns are not problems)."""
    if is_unknown(rules) or rules is None:
        return []
    if not isinstance(rules, list):
        return ["rules is not a list"]
    problems = []
    for index, rule in enumerate(rules):
        where = f"rules[{index}]"
        if is_unknown(rule):
            continue
        if not isinstance(rule, dict):
            problems.append(f"{where} is not an object")
            continue
        frequency = rule.get("scanFrequency")
        if not is_unknown(frequency) and not isinstance(frequency, str):
            problems.append(f"{where}.scanFrequency is {frequency!r}, not a string")
        filters = rule.get("repositoryFilters")
        if is_unknown(filters) or filters is None:
            continue
        if not isinstance(filters, list):
            problems.append(f"{where}.repositoryFilters is not a list")
            continue
        for f_index, entry in enumerate(filters):
            value = entry.get("filter") if isinstance(entry, dict) else entry
            if not is_unknown(entry) and not is_unknown(value) and not (isinstance(entry, dict)
                                                                         and isinstance(value, str)):
                problems.append(f"{where}.repositoryFilters[{f_index}] is not an object with a string filter")
    return problems


def shape_findings(resources: list[Resource]) -> list[Finding]:
    """Registry scanning configurations whose rules have the wrong shape: refused, never read as 'no rule'."""
    return [Finding(f"The registry scanning configuration '{r.name}' cannot be judged, and the guard refuses what "
                    f"it cannot judge: {'; '.join(problems)}. Give rules the shape the provider documents "
                    "([{scanFrequency, repositoryFilters: [{filter, filterType}]}]).", r.urn)
            for r in resources if r.resource_type == REGISTRY_SCANNING
            and (problems := rule_shape_problems(r.props.get("rules")))]


def covers_all_under(pattern: str, prefix: str) -> bool:
    """Whether a WILDCARD filter matches every repository name beginning with `prefix`."""
    if pattern == "*":
        return True
    literal = pattern.split("*", 1)[0]
    return pattern.endswith("*") and pattern.count("*") == 1 and "?" not in pattern and prefix.startswith(literal)


def check_scan_on_push(resources: list[Resource], config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    filters, complete = scanning_filters(resources, skipped)
    combined = {region: found for region, found in filters.items() if found}
    findings = [*singleton_findings(resources), *shape_findings(resources)]
    for resource in resources:
        region = resource.region
        if resource.resource_type in (REPOSITORY, CREATION_TEMPLATE) and is_unknown(region):
            skipped.add(f"{resource.name}.region")
            continue
        where = f" in region {region}" if region else ""
        if resource.resource_type == REPOSITORY:
            scanning = resource.props.get("imageScanningConfiguration")
            scan_on_push = scanning.get("scanOnPush") if isinstance(scanning, dict) else scanning
            if is_unknown(scan_on_push):
                skipped.add(f"{resource.name}.imageScanningConfiguration")
                continue
            if scan_on_push is True:
                continue
            name = resource.props.get("name")
            if is_unknown(name):
                skipped.add(f"{resource.name}.name")
                continue
            if isinstance(name, str) and any(glob_match(f, name) for f in combined.get(region, ())):
                continue
            if not complete:
                skipped.add(f"{resource.name}: registry scanning coverage")
                continue
            why = ("has no imageScanningConfiguration" if scanning is None
                   else "sets imageScanningConfiguration.scanOnPush to false")
            findings.append(Finding(
                f"The ECR repository '{resource.label}' must scan images on push "
                f"(imageScanningConfiguration.scanOnPush): it {why} and no registry scanning rule with "
                f"SCAN_ON_PUSH or CONTINUOUS_SCAN{where} matches it. Set imageScanningConfiguration.scanOnPush to "
                "true, or add its name to the repositoryFilters of a registry scanning rule of the same region.",
                resource.urn))
        elif resource.resource_type == CREATION_TEMPLATE:
            prefix = resource.props.get("prefix")
            if is_unknown(prefix):
                skipped.add(f"{resource.name}.prefix")
                continue
            if not isinstance(prefix, str) or not prefix:
                continue
            under = namespace_under(prefix)
            if any(covers_all_under(f, under) for f in filters.get(region, ())):
                continue
            if not complete:
                skipped.add(f"{resource.name}: registry scanning coverage")
                continue
            wanted = f"{under}*"
            findings.append(Finding(
                f"Repositories created from the ECR repository creation template '{prefix}' would not be "
                "scanned on push: templates carry no scan setting and no registry scanning rule with "
                f"SCAN_ON_PUSH or CONTINUOUS_SCAN{where} covers every repository under '{under or '(all)'}'. Add a "
                f"registry scanning rule with the repository filter '{wanted}' in the same region.", resource.urn))
    return findings


MODELLED_TYPES: frozenset[str] = frozenset({REPOSITORY, CREATION_TEMPLATE, REGISTRY_SCANNING})
"""The resource types this module's rules read and judge (the closed world: `closed_world.py`)."""

POLICIES = [
    stack_policy(
        name="ecr-scan-on-push",
        description="Every ECR repository must scan images on push, itself or through a registry scanning rule.",
        resource_types=sorted(MODELLED_TYPES),
        check=check_scan_on_push,
        severity=Severity.HIGH,
        remediation_steps="Set imageScanningConfiguration.scanOnPush to true on the repository, or declare an "
                          "aws.ecr.RegistryScanningConfiguration rule (SCAN_ON_PUSH or CONTINUOUS_SCAN) whose "
                          "repositoryFilters match it; creation templates need such a rule for '<prefix>/*'.",
    ),
]

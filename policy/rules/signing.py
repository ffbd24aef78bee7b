"""`ecr-image-signing` (stack policy): images are signed on push, each team with its own profile.

ECR managed signing (`aws-native:ecr:SigningConfiguration`, pulumi-aws-native) signs every image
pushed to a repository its rules cover, with the rule's Signer profile and the identity of the
pusher, who therefore needs `signer:SignPayload` on that profile. A rule with no repository
filters covers every repository; filters are ECR `WILDCARD_MATCH` (`*` = any run of characters).

- `requireSigning` (default false; mandatory in prod): every repository and every namespace CI
  creates repositories in (creation template `<prefix>/*`) is covered by a signing rule. Without
  a signing configuration nothing is signed: each repository is a violation.
- Whoever can sign does so only with a profile that signs repositories it can push to: a
  principal allowed `signer:SignPayload` (directly, or through `signer:*`, `*` or NotAction) on
  a profile whose rules cover none of the repositories it can write signs as another team; on a
  wildcard Resource it can sign with any profile, present or future. Both are violations.
- A signing configuration with more than 10 rules, or a rule with an empty filter list, is
  refused by ECR: a violation.

Profiles are matched by the ARN the rule names (a created profile's ARN is known at preview:
`arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>`). Regions are not compared:
a stack signs in its one region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Severity

from .access import TYPES as ACCESS_TYPES
from .access import build_access_model
from .common import (
    CREATION_TEMPLATE,
    REPOSITORY,
    SIGNER_PROFILE,
    SIGNING_CONFIGURATION,
    Finding,
    Resource,
    Skipped,
    as_list,
    config_bool,
    contains_unknown,
    glob_match,
    has_wildcard,
    is_allow,
    is_unknown,
    namespace_under,
    pack_config,
    quoted,
    stack_policy,
)
from .documents import IDENTITY, open_document
from .scanning import covers_all_under
from .team_isolation import RepositoryIndex, principal_writes

POLICY = "ecr-image-signing"
SIGN_ACTION = "signer:SignPayload"
MAX_SIGNING_RULES = 10
MODELLED_TYPES: frozenset[str] = frozenset({SIGNING_CONFIGURATION, SIGNER_PROFILE})


@dataclass(frozen=True)
class SigningRule:
    profile: str
    """The Signer profile ARN the rule signs with."""
    filters: tuple[str, ...] | None
    """Repository name wildcards; None = every repository."""

    def covers(self, name: str) -> bool:
        return self.filters is None or any(glob_match(f, name) for f in self.filters)


def signing_rules(resources: list[Resource], skipped: Skipped) -> tuple[list[SigningRule], list[Finding], bool]:
    """Every rule of every signing configuration; findings for what ECR refuses; whether all are known."""
    rules: list[SigningRule] = []
    findings: list[Finding] = []
    complete = True
    for config in resources:
        if config.resource_type != SIGNING_CONFIGURATION:
            continue
        entries = config.props.get("rules")
        if contains_unknown(entries):
            skipped.add(f"{config.name}.rules")
            complete = False
            continue
        entries = as_list(entries)
        if len(entries) > MAX_SIGNING_RULES:
            findings.append(Finding(
                f"The ECR signing configuration '{config.name}' has {len(entries)} rules; ECR accepts at most "
                f"{MAX_SIGNING_RULES}. Let teams share a profile and cover them with repository filters.", config.urn))
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("signingProfileArn"), str):
                findings.append(Finding(f"Rule {index + 1} of the ECR signing configuration '{config.name}' names no "
                                        "signingProfileArn; give each rule a Signer profile ARN.", config.urn))
                continue
            raw = entry.get("repositoryFilters")
            filters = None if raw is None else tuple(
                str(f.get("filter")) for f in as_list(raw) if isinstance(f, dict) and f.get("filter"))
            if filters == ():
                findings.append(Finding(
                    f"Rule {index + 1} of the ECR signing configuration '{config.name}' has an empty repositoryFilters "
                    "list, which ECR refuses; omit it to sign every repository, or list filters.", config.urn))
                continue
            rules.append(SigningRule(entry["signingProfileArn"], filters))
    return rules, findings, complete


def coverage_findings(resources: list[Resource], rules: list[SigningRule], skipped: Skipped) -> list[Finding]:
    """Repositories (and namespaces CI creates repositories in) no signing rule covers."""
    findings: list[Finding] = []
    fix = ("Add its name or namespace (`payments/*`) to the repositoryFilters of an ECR signing rule "
           "(registry.signing in the stack config)")
    for resource in resources:
        if resource.resource_type == REPOSITORY:
            name = resource.props.get("name")
            if is_unknown(name):
                skipped.add(f"{resource.name}.name")
                continue
            if isinstance(name, str) and any(rule.covers(name) for rule in rules):
                continue
            findings.append(Finding(f"The ECR repository '{resource.label}' is not covered by any signing rule, so "
                                    f"images pushed to it are not signed. {fix}.", resource.urn))
        elif resource.resource_type == CREATION_TEMPLATE:
            prefix = resource.props.get("prefix")
            if is_unknown(prefix):
                skipped.add(f"{resource.name}.prefix")
                continue
            if not isinstance(prefix, str) or not prefix:
                continue
            under = namespace_under(prefix)
            if any(rule.filters is None or any(covers_all_under(f, under) for f in rule.filters) for rule in rules):
                continue
            findings.append(Finding(f"Repositories CI creates from the ECR repository creation template '{prefix}' "
                                    f"would not be signed: no signing rule covers every repository under "
                                    f"'{under or '(all)'}'. {fix}.", resource.urn))
    return findings


def _may_sign(statement: Mapping[str, Any]) -> bool:
    if "NotAction" in statement:
        return not any(glob_match(str(a), SIGN_ACTION, case_sensitive=False) for a in as_list(statement["NotAction"]))
    return any(glob_match(str(a), SIGN_ACTION, case_sensitive=False) for a in as_list(statement.get("Action")))


def signer_findings(resources: list[Resource], rules: list[SigningRule], skipped: Skipped) -> list[Finding]:
    """Principals that may sign with a profile other than the ones signing repositories they can push to."""
    names = [n for r in resources if r.resource_type == REPOSITORY and isinstance(n := r.props.get("name"), str)]
    index = RepositoryIndex([(name, name) for name in names])  # each repository its own "team": what it writes
    profiles = sorted({rule.profile for rule in rules})
    findings: list[Finding] = []
    for principal in build_access_model(resources).principals:
        reached: dict[str, set[str]] = {}
        wildcards: list[str] = []
        for source in principal.all_sources():
            document = open_document(source.document, IDENTITY, skipped, f"{principal.name}: {source.where}")
            if document is None:
                continue
            for label, statement in document.labelled():
                if not is_allow(statement) or not _may_sign(statement):
                    continue
                patterns = ["*"] if "NotResource" in statement else [str(p) for p in as_list(statement.get("Resource"))]
                for pattern in patterns:
                    via = f"{source.where} {label}"
                    if has_wildcard(pattern):
                        wildcards.append(f"{via} ('{pattern}')")
                    for profile in profiles:
                        if glob_match(pattern, profile):
                            reached.setdefault(profile, set()).add(via)
        if wildcards:
            findings.append(Finding(
                f"The {principal.label} may sign (signer:SignPayload) with any Signer profile through "
                f"{'; '.join(wildcards)}, so it can sign images as any team. Name the ARN of the profile that signs "
                "its own repositories.", principal.urn))
            continue
        if not reached:
            continue
        writable = set(principal_writes(principal, index, [], skipped).teams)
        for profile, routes in sorted(reached.items()):
            covered = [rule for rule in rules if rule.profile == profile]
            if any(rule.covers(name) for rule in covered for name in writable):
                continue
            findings.append(Finding(
                f"The {principal.label} may sign with the Signer profile '{profile}' ({'; '.join(sorted(routes))}), "
                f"but that profile signs none of the repositories it can push to"
                f"{' (' + quoted(sorted(writable)) + ')' if writable else ''}: it could sign images as another team. "
                "Allow signer:SignPayload only on the profile whose signing rule covers its own repositories.",
                principal.urn))
    return findings


def check_signing(resources: list[Resource], config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    rules, findings, complete = signing_rules(resources, skipped)
    if config_bool(config, "requireSigning", False):
        if complete:
            findings.extend(coverage_findings(resources, rules, skipped))
        else:
            skipped.add(f"signing coverage ({pack_config(POLICY, 'requireSigning')})")
    findings.extend(signer_findings(resources, rules, skipped))
    return findings


POLICIES = [
    stack_policy(
        name=POLICY,
        description="ECR images are signed on push where the guard requires it, and each principal signs only with "
                    "the profile of the repositories it pushes to.",
        resource_types=(REPOSITORY, CREATION_TEMPLATE, SIGNING_CONFIGURATION, SIGNER_PROFILE, *ACCESS_TYPES),
        check=check_signing,
        severity=Severity.HIGH,
        config_properties={"requireSigning": {
            "type": "boolean", "default": False,
            "description": "Every repository (and namespace CI creates repositories in) must be covered by an ECR "
                           "signing rule (mandatory in prod)."}},
        remediation_steps="Declare an aws-native ecr.SigningConfiguration whose rules cover every repository "
                          "(repository filters per team namespace, or none for all), and give each push role "
                          "signer:SignPayload on its own team's Signer profile ARN only.",
    ),
]

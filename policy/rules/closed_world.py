"""`unjudged-resources`: the guard is a closed world; what no rule models is refused, not passed.

Every other policy judges the resource types it knows (each rule module exports them as
`MODELLED_TYPES`) and cannot see the rest: a `RolePolicyAttachmentsExclusive` putting
AdministratorAccess on a role, or a KMS key policy opening a key to everyone, would pass them all.
So every resource in the stack must be one of:

- a type some rule models (the union of the rule modules' `MODELLED_TYPES`, derived in
  `rules/__init__.py`, never listed twice);
- not a cloud resource: the stack itself (`pulumi:pulumi:Stack`), a provider
  (`pulumi:providers:<pkg>`: credentials and a region, it creates nothing in the cloud) or a
  component of the program's own package (a type whose package is the project named in the
  URN, e.g. `ecr-platform:index:TeamRegistry`). A component cannot grant anything by itself:
  only its children touch the cloud, and each child is judged here like any other resource.
  Components of other packages (`awsx:ecs:FargateService`) are not assumed harmless: a package
  may implement a "component" as a provider resource, so they are listed in `inertTypes` after
  review like anything else;
- a type listed in `inertTypes`: a reviewed allowlist in `policy/config/<stack>.json` (e.g. an
  S3 bucket for build logs). Under `make check POLICY_REF=<base>` the config is the base
  branch's, so a pull request cannot allowlist its own new type.

Anything else is a violation naming the type and the setting (mandatory in prod, advisory in dev
and local). Types that can grant access (ACCESS_GRANTING: IAM, SSO and identity store, KMS,
Organizations, Lambda permissions, ECR itself, and their `aws-native` twins) cannot be inert: an
`inertTypes` entry naming one is itself a violation, so such a type is modelled by a rule or
refused. Entries are exact type tokens (a wildcard would allowlist types nobody reviewed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import Finding, config_strings, glob_match, has_wildcard, pack_config, with_defaults

POLICY = "unjudged-resources"

ACCESS_GRANTING = (
    "aws:iam/*", "aws:ssoadmin/*", "aws:identitystore/*", "aws:kms/*", "aws:organizations/*",
    "aws:lambda/permission:*", "aws:ecr/*", "aws:ecrpublic/*", "aws:sts/*", "aws:ram/*",
    "aws:s3/bucketPolicy:*", "aws:sqs/queuePolicy:*", "aws:sns/topicPolicy:*", "aws:secretsmanager/secretPolicy:*",
    "aws:lambda/functionUrl:*", "aws:cloudwatch/eventPermission:*", "*Permission", "*Grant",
    "aws-native:iam:*", "aws-native:sso:*", "aws-native:identitystore:*", "aws-native:kms:*",
    "aws-native:organizations:*", "aws-native:lambda:Permission", "aws-native:ecr:*", "aws-native:ecrpublic:*",
)
"""Type patterns that can grant access (or change what the guard judges): modelled, or refused. Besides the
services that hold identities, keys and the registry: resource policies and resource sharing elsewhere, and any
type whose class is a Permission or a Grant."""

STACK = "pulumi:pulumi:Stack"
PROVIDERS = "pulumi:providers:"


def grants_access(resource_type: str) -> bool:
    """Whether a type token can grant access, so only a rule may accept it (ACCESS_GRANTING)."""
    return any(glob_match(pattern, resource_type) for pattern in ACCESS_GRANTING)


def project_of(urn: str) -> str:
    """The project named in a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`); '' when malformed."""
    parts = urn.split("::")
    return parts[1] if len(parts) >= 4 else ""


def is_cloud_resource(resource_type: str, urn: str) -> bool:
    """False for the stack, providers and components of the program's own package (see the module doc)."""
    if resource_type == STACK or resource_type.startswith(PROVIDERS):
        return False
    project = project_of(urn)
    return not (project and resource_type.split(":", 1)[0] == project)


def config_problems(inert: Iterable[str]) -> list[str]:
    """Why entries of `inertTypes` cannot be accepted (access-granting types, wildcards)."""
    problems = []
    for entry in inert:
        if has_wildcard(entry):
            problems.append(f"'{entry}' is a pattern: list exact type tokens, each one reviewed")
        elif grants_access(entry):
            problems.append(f"'{entry}' can grant access, so it cannot be inert: a rule must model it")
    return problems


def check_closed_world(resources: Iterable[tuple[str, str, str]], config: Mapping[str, Any],
                       modelled: frozenset[str]) -> list[Finding]:
    """Findings for (type, name, urn) of every resource: unmodelled, non-inert cloud types; bad config entries."""
    inert = config_strings(config, "inertTypes")
    setting = pack_config(POLICY, "inertTypes")
    findings = [Finding(f"The pack config's inertTypes entry {problem} ({setting}). Remove the entry; a type that can "
                        "grant access is judged by a rule or refused.") for problem in config_problems(inert)]
    accepted = modelled | {t for t in inert if not has_wildcard(t) and not grants_access(t)}
    unjudged: dict[str, list[tuple[str, str]]] = {}
    for resource_type, name, urn in resources:
        if resource_type not in accepted and is_cloud_resource(resource_type, urn):
            unjudged.setdefault(resource_type, []).append((name, urn))
    for resource_type, found in unjudged.items():
        if grants_access(resource_type):
            fix = (f"it can grant access, so it cannot be listed in {setting}: no rule of the pack reads it yet, "
                   "so declare what it does with the types the pack models (or extend the pack to model it)")
        else:
            fix = (f"if it grants nobody access and changes nothing the guard judges, have it reviewed and list "
                   f"'{resource_type}' in {setting}")
        for name, urn in found:
            findings.append(Finding(f"The resource '{name}' has the type '{resource_type}', which no rule of the "
                                    f"guard models, so what it does cannot be judged and the guard refuses it: "
                                    f"{fix}.", urn))
    return findings


CONFIG_PROPERTIES: dict[str, dict[str, Any]] = {
    "inertTypes": {
        "type": "array", "items": {"type": "string"}, "default": [],
        "description": "Resource type tokens reviewed as inert (they grant nobody access and change nothing the "
                       "guard judges), accepted although no rule models them; exact tokens, never an "
                       "access-granting type (IAM, SSO, KMS, Organizations, Lambda permissions, ECR)."},
}

def policies(modelled: frozenset[str]) -> list[StackValidationPolicy]:
    """The policy, judging against `modelled`: the union of every rule module's MODELLED_TYPES."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = with_defaults(args.get_config() or {}, CONFIG_PROPERTIES)
        resources = ((r.resource_type, r.name, r.urn) for r in args.resources)
        for finding in check_closed_world(resources, config, modelled):
            report_violation(finding.message, finding.urn)

    return [StackValidationPolicy(
        name=POLICY,
        description="Every resource must be of a type the guard models or that the pack config lists as inert; "
                    "types that can grant access are modelled or refused.",
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(properties=dict(CONFIG_PROPERTIES)),
        severity=Severity.HIGH,
        remediation_steps="Declare access with resource types the pack models (see the README's policy table); list "
                          "a reviewed, inert type in policy/config/<stack>.json under unjudged-resources.inertTypes.",
    )]

"""Settings every ECR repository must carry: immutable tags, encryption, deletion protection.

Repository creation templates are judged like repositories: ECR applies their settings to every
repository it creates from them (on push, by replication or by a pull-through cache).

- `ecr-tag-immutability`: `imageTagMutability` must be `IMMUTABLE` (absent means MUTABLE, the
  provider default); `IMMUTABLE_WITH_EXCLUSION` only when `allowExclusions`; the `MUTABLE*`
  values always fail, since any overwritable tag lets a push replace an image already deployed.
- `ecr-encryption`: at least `minimum`, on the scale AES256 < KMS < customer-managed-key.
  Absent configuration is AES256 (the AWS default). `KMS_DSSE` counts as KMS. A customer-managed
  key is KMS with an explicit `kmsKey` other than the AWS-managed `alias/aws/ecr`; a key that is
  unknown at preview is a key the program creates, so it counts as customer managed.
- `protect-registries`: the repository has the `protect` resource option and `forceDelete` is
  not true, so neither `pulumi destroy` nor a replacement can take its images with it. Its
  `deletions` setting is read by the offline check, not by this pack: a pack sees one graph, so it
  cannot tell what a change deletes. `ecr-platform-check --compare <ref>` compares the two graphs
  and reports each stateful resource (repository, OIDC provider, creation template, replication,
  pull-through cache rule) that the change deletes or replaces without the stack file retiring it,
  as a `protect-registries` violation at this level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .common import (
    CREATION_TEMPLATE,
    REPOSITORY,
    Finding,
    Resource,
    Skipped,
    config_bool,
    config_choice,
    config_strings,
    is_unknown,
    pack_config,
    resource_policy,
)

ENCRYPTION_LEVELS = ("AES256", "KMS", "customer-managed-key")
AWS_MANAGED_ECR_KEY = "alias/aws/ecr"


def subject(resource: Resource) -> str:
    """How messages name the judged resource."""
    if resource.resource_type == CREATION_TEMPLATE:
        prefix = resource.props.get("prefix")
        shown = prefix if isinstance(prefix, str) and prefix else resource.name
        return f"The ECR repository creation template '{shown}' (repositories it creates)"
    return f"The ECR repository '{resource.label}'"


# --- ecr-tag-immutability --------------------------------------------------------------------------


def check_tag_immutability(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    allow_exclusions = config_bool(config, "allowExclusions", False)
    value = resource.props.get("imageTagMutability")
    if is_unknown(value):
        skipped.add(f"{resource.name}.imageTagMutability")
        return []
    shown = value if isinstance(value, str) and value else "MUTABLE (the default when imageTagMutability is unset)"
    if value == "IMMUTABLE":
        return []
    if value == "IMMUTABLE_WITH_EXCLUSION":
        if allow_exclusions:
            return []
        filters = resource.props.get("imageTagMutabilityExclusionFilters")
        patterns = [f.get("filter") for f in filters if isinstance(f, dict)] if isinstance(filters, list) else []
        listed = f" (exclusions {', '.join(repr(p) for p in patterns if isinstance(p, str))})" if patterns else ""
        return [Finding(
            f"{subject(resource)} lets some tags be overwritten: imageTagMutability is "
            f"IMMUTABLE_WITH_EXCLUSION{listed}, and this environment allows no exclusions. "
            "Set imageTagMutability to IMMUTABLE, or allow exclusions "
            f"({pack_config('ecr-tag-immutability', 'allowExclusions')}).")]
    return [Finding(
        f"{subject(resource)} must have immutable image tags (imageTagMutability is {shown}): "
        "a push could silently replace an image that is already deployed. Set imageTagMutability to IMMUTABLE.")]


# --- ecr-encryption --------------------------------------------------------------------------------


def encryption_level(configurations: Any) -> tuple[int, str] | None:
    """(level index in ENCRYPTION_LEVELS, description) or None when unknown at preview."""
    if is_unknown(configurations):
        return None
    entries = configurations if isinstance(configurations, list) else [configurations] if configurations else []
    entries = [e for e in entries if e is not None]
    if not entries:
        return 0, "AES256 (no encryptionConfigurations, the AWS default)"
    entry = entries[0]
    if is_unknown(entry):
        return None
    if not isinstance(entry, dict):
        return 0, "AES256 (encryptionConfigurations is not an object)"
    kind = entry.get("encryptionType")
    if is_unknown(kind):
        return None
    key = entry.get("kmsKey")
    if kind in (None, "", "AES256"):
        return 0, "AES256"
    if kind in ("KMS", "KMS_DSSE"):
        if is_unknown(key):
            return 2, f"{kind} with a key created by the program"
        if isinstance(key, str) and key and not key.endswith(AWS_MANAGED_ECR_KEY):
            return 2, f"{kind} with the customer-managed key '{key}'"
        return 1, f"{kind} with the AWS-managed key"
    return 0, f"an unrecognised encryptionType {kind!r}"


def check_encryption(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    minimum = config_choice(config, "minimum", ENCRYPTION_LEVELS, "KMS")
    wanted = ENCRYPTION_LEVELS.index(minimum)
    found = encryption_level(resource.props.get("encryptionConfigurations"))
    if found is None:
        skipped.add(f"{resource.name}.encryptionConfigurations")
        return []
    level, description = found
    foreign = foreign_key_finding(resource, config)
    if level >= wanted:
        return foreign
    fix = {
        "KMS": "set encryptionConfigurations to [{encryptionType: KMS}] (or KMS_DSSE)",
        "customer-managed-key": "set encryptionConfigurations to [{encryptionType: KMS, kmsKey: <your key ARN or "
                                "alias>}] with a customer-managed key",
    }[minimum]
    return [Finding(
        f"{subject(resource)} is encrypted with {description}, below the required minimum "
        f"'{minimum}' ({pack_config('ecr-encryption', 'minimum')}; encryptionConfigurations[0]). To fix, {fix}; "
        "encryption can only be chosen "
        "when a repository is created, so this replaces it."), *foreign]


def key_account(key: Any) -> str | None:
    """The account of a KMS key given by ARN (`arn:<partition>:kms:<region>:<account>:key/...` or `alias/...`);
    None for a key id or alias name, which ECR resolves in the repository's own account."""
    if not isinstance(key, str) or not key.startswith("arn:"):
        return None
    parts = key.split(":")
    return parts[4] if len(parts) > 5 else ""


def foreign_key_finding(resource: Resource, config: Mapping[str, Any]) -> list[Finding]:
    """A key of an account outside keyAccounts: its owner controls (and can revoke or read) every image."""
    allowed = set(config_strings(config, "keyAccounts"))
    entries = resource.props.get("encryptionConfigurations")
    entry = entries[0] if isinstance(entries, list) and entries else entries
    key = entry.get("kmsKey") if isinstance(entry, dict) else None
    account = key_account(key)
    if not allowed or account is None or account in allowed:
        return []
    return [Finding(
        f"{subject(resource)} is encrypted with the KMS key '{key}' of account {account or '(none)'}, which is not "
        f"in keyAccounts ({', '.join(sorted(allowed))}; {pack_config('ecr-encryption', 'keyAccounts')}): that "
        "account's key policy decides who can read every image, and it can make them unreadable. Use a key of "
        "this platform's accounts; encryption can only be chosen when a repository is created, so this "
        "replaces it.")]


# --- protect-registries ----------------------------------------------------------------------------


def check_protected(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    findings = []
    if not resource.protect:
        findings.append(Finding(
            f"{subject(resource)} is not protected: `pulumi destroy` or a replacement would delete it "
            "and every image in it. Declare it with the resource option protect=True."))
    force_delete = resource.props.get("forceDelete")
    if is_unknown(force_delete):
        skipped.add(f"{resource.name}.forceDelete")
    elif force_delete is True:
        findings.append(Finding(
            f"{subject(resource)} has forceDelete set to true, so deleting it also deletes all of its "
            "images. Set forceDelete to false (or leave it unset)."))
    return findings


MODELLED_TYPES: frozenset[str] = frozenset({REPOSITORY, CREATION_TEMPLATE})
"""The resource types this module's rules read and judge (the closed world: `closed_world.py`)."""

POLICIES = [
    resource_policy(
        name="ecr-tag-immutability",
        description="ECR repositories and creation templates must make image tags immutable.",
        resource_types=(REPOSITORY, CREATION_TEMPLATE),
        check=check_tag_immutability,
        severity=Severity.HIGH,
        remediation_steps="Set imageTagMutability to IMMUTABLE; publish a new tag for every build instead of "
                          "moving `latest`. IMMUTABLE_WITH_EXCLUSION is accepted only with allowExclusions.",
        config_properties={"allowExclusions": {
            "type": "boolean", "default": False,
            "description": "Whether IMMUTABLE_WITH_EXCLUSION (some tag patterns stay mutable) is accepted."}},
    ),
    resource_policy(
        name="ecr-encryption",
        description="ECR repositories and creation templates must be encrypted at least at the configured minimum.",
        resource_types=(REPOSITORY, CREATION_TEMPLATE),
        check=check_encryption,
        severity=Severity.MEDIUM,
        remediation_steps="Set encryptionConfigurations to [{encryptionType: KMS, kmsKey: <customer key>}] "
                          "(or the level the environment requires); the repository is replaced.",
        config_properties={"minimum": {
            "type": "string", "enum": list(ENCRYPTION_LEVELS), "default": "KMS",
            "description": "Weakest accepted encryption: AES256 < KMS (incl. KMS_DSSE) < customer-managed-key."},
            "keyAccounts": {
                "type": "array", "items": {"type": "string"}, "default": [],
                "description": "Accounts whose KMS keys may encrypt repositories when a key is given by ARN; "
                               "empty = any (a key id or alias is always the repository's own account)."}},
    ),
    resource_policy(
        name="protect-registries",
        description="ECR repositories must be protected from deletion and must not be force-deletable.",
        resource_types=(REPOSITORY,),
        check=check_protected,
        severity=Severity.HIGH,
        remediation_steps="Declare repositories with ResourceOptions(protect=True) and forceDelete false; "
                          "unprotect explicitly (`pulumi state unprotect`) when a deletion is intended.",
        config_properties={"deletions": {
            "type": "string", "enum": ["mandatory", "advisory"], "default": "mandatory",
            "description": "How the offline check (`--compare <ref>`) reports a change that deletes or replaces a "
                           "stateful resource the stack file does not retire: mandatory fails it, advisory warns. "
                           "The pack cannot see the base graph; the check reads this from the guard's config."}},
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]

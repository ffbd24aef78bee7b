"""One compliant resource per type, shaped as the program declares it; tests change one field.

Builders return fresh `Resource`s, so a test can mutate `inputs` freely. Documents are built as
dicts and serialised the way the program does (`json.dumps(..., sort_keys=True)`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from engine.analyzer import Resource, default_urn

ACCOUNT = "210987654321"
REGION = "us-west-2"
ISSUER = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
PULL_ACCOUNT = "333333333333"
PUSH_ACCOUNT = "777777777777"

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
CREATION_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH_ACTIONS = ["ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"]


def dumps(document: Any) -> str:
    return json.dumps(document, sort_keys=True)


def tags(team: str | None = "payments") -> dict[str, str]:
    out = {"managed-by": "ecr-platform", "environment": "prod"}
    if team:
        out["team"] = team
    return out


def repo_arn(name: str) -> str:
    return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"


def resource(type_: str, name: str, props: dict[str, Any], **options: Any) -> Resource:
    return Resource(type=type_, name=name, urn=default_urn(type_, name), inputs=copy.deepcopy(props), **options)


# --- ECR -----------------------------------------------------------------------------------------


def repository(name: str = "payments/api", team: str | None = "payments", protect: bool = True, parent: str = "",
               **changes: Any) -> Resource:
    props: dict[str, Any] = {
        "name": name,
        "imageScanningConfiguration": {"scanOnPush": True},
        "imageTagMutability": "IMMUTABLE",
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": "alias/ecr"}],
        "forceDelete": False,
        "tags": tags(team),
    }
    props.update(changes)
    return resource(REPOSITORY, name.replace("/", "-"), {k: v for k, v in props.items() if v is not None},
                    protect=protect, parent=parent)


def lifecycle_document() -> dict[str, Any]:
    return {"rules": [
        {"rulePriority": 1, "description": "Keep the newest 10 images tagged v*",
         "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan",
                       "countNumber": 10}, "action": {"type": "expire"}},
        {"rulePriority": 2, "description": "Expire untagged images 7 days after push",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": 7}, "action": {"type": "expire"}},
        {"rulePriority": 3, "description": "Keep at most 30 images in all",
         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
         "action": {"type": "expire"}},
    ]}


def lifecycle_policy(repository_name: str = "payments/api", document: Any = None,
                     **options: Any) -> Resource:
    policy = dumps(lifecycle_document()) if document is None else document
    return resource(LIFECYCLE_POLICY, f"{repository_name.replace('/', '-')}-lifecycle",
                    {"repository": repository_name, "policy": policy}, **options)


def repository_policy_document(pull: list[str] | None = None, push: list[str] | None = None) -> dict[str, Any]:
    pull = [PULL_ACCOUNT, PUSH_ACCOUNT] if pull is None else pull
    push = [PUSH_ACCOUNT] if push is None else push
    statements: list[dict[str, Any]] = [{
        "Sid": "PullFromAccounts", "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in pull]}, "Action": PULL_ACTIONS,
    }]
    if push:
        statements.append({"Sid": "PushFromAccounts", "Effect": "Allow",
                           "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in push]}, "Action": PUSH_ACTIONS})
    return {"Version": "2012-10-17", "Statement": statements}


def repository_policy(document: Any = None, repository_name: str = "payments/api") -> Resource:
    policy = dumps(repository_policy_document()) if document is None else document
    if isinstance(policy, dict):
        policy = dumps(policy)
    return resource(REPOSITORY_POLICY, f"{repository_name.replace('/', '-')}-policy",
                    {"repository": repository_name, "policy": policy})


def creation_template(prefix: str = "payments", **changes: Any) -> Resource:
    props: dict[str, Any] = {
        "prefix": prefix,
        "appliedFors": ["CREATE_ON_PUSH"],
        "imageTagMutability": "IMMUTABLE",
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": "alias/ecr"}],
        "lifecyclePolicy": dumps(lifecycle_document()),
        "repositoryPolicy": dumps(repository_policy_document()),
        "resourceTags": tags(prefix),
    }
    props.update(changes)
    return resource(CREATION_TEMPLATE, f"{prefix}-template", {k: v for k, v in props.items() if v is not None})


def registry_scanning(filters: list[str], frequency: str = "SCAN_ON_PUSH", scan_type: str = "BASIC") -> Resource:
    return resource(REGISTRY_SCANNING, "scanning", {
        "scanType": scan_type,
        "rules": [{"scanFrequency": frequency,
                   "repositoryFilters": [{"filter": f, "filterType": "WILDCARD"} for f in filters]}],
    })


# --- IAM -----------------------------------------------------------------------------------------


def trust_document(exact: list[str] | None = None, patterns: list[str] | None = None,
                   issuer: str = ISSUER, repository_id: str | None = "2000001") -> dict[str, Any]:
    """The program's push-role trust policy: exact subjects and patterns in separate statements, each
    pinning `repository_id` as prod's entries with IDs do (None: a stack without IDs)."""
    exact = ["repo:acme/payments-api:ref:refs/heads/main"] if exact is None else exact
    patterns = ["repo:acme/payments-worker:ref:refs/tags/v*"] if patterns is None else patterns
    statements = []
    for sid, operator, values in (("GitHubActionsExactSubjects", "StringEquals", exact),
                                  ("GitHubActionsSubjectPatterns", "StringLike", patterns)):
        if not values:
            continue
        condition: dict[str, dict[str, Any]] = {"StringEquals": {f"{issuer}:aud": "sts.amazonaws.com"}}
        if repository_id is not None:
            condition["StringEquals"][f"{issuer}:repository_id"] = repository_id
        condition.setdefault(operator, {})[f"{issuer}:sub"] = values[0] if len(values) == 1 else values
        statements.append({"Sid": sid, "Effect": "Allow",
                           "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"},
                           "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition})
    return {"Version": "2012-10-17", "Statement": statements}


def github_statement(condition: dict[str, Any], sid: str = "GitHub", issuer: str = ISSUER) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"},
            "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}


def role(name: str = "github-push-payments", trust: Any = None, team: str | None = "payments", parent: str = "",
         **changes: Any) -> Resource:
    document = trust_document() if trust is None else trust
    props: dict[str, Any] = {
        "name": name,
        "assumeRolePolicy": dumps(document) if isinstance(document, dict) else document,
        "tags": tags(team),
    }
    props.update(changes)
    return resource(ROLE, name, props, parent=parent)


def push_policy_document(namespace: str = "payments") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "GetAuthorizationToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PushToTeamNamespace", "Effect": "Allow",
         "Action": sorted([*PULL_ACTIONS, *PUSH_ACTIONS, "ecr:DescribeImages", "ecr:DescribeRepositories",
                           "ecr:ListImages"]),
         "Resource": repo_arn(f"{namespace}/*")},
        {"Sid": "UpdateEcsServices", "Effect": "Allow", "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
         "Resource": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/payments/api"},
        {"Sid": "PassTaskRolesToEcs", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": f"arn:aws:iam::{ACCOUNT}:role/payments-task",
         "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
    ]}


def role_policy(document: Any = None, role_name: str = "github-push-payments",
                name: str = "push-to-team-repositories", **options: Any) -> Resource:
    policy = push_policy_document() if document is None else document
    return resource(ROLE_POLICY, f"{role_name}-{name}", {
        "role": role_name, "name": name, "policy": dumps(policy) if isinstance(policy, dict) else policy,
    }, **options)


def statement_policy(*statements: dict[str, Any], type_: str = ROLE_POLICY) -> Resource:
    """An identity policy made of the given statements (Effect Allow unless they say otherwise)."""
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **s} for s in statements]}
    if type_ == ROLE_POLICY:
        return role_policy(document)
    if type_ == MANAGED_POLICY:
        return resource(MANAGED_POLICY, "node-pull", {"name": "node-pull", "policy": dumps(document),
                                                      "tags": tags(None)})
    owner = {USER_POLICY: "user", GROUP_POLICY: "group"}[type_]
    return resource(type_, f"{owner}-inline", {owner: "ci", "name": "inline", "policy": dumps(document)})


def managed_policy(document: Any, name: str = "node-pull") -> Resource:
    return resource(MANAGED_POLICY, name, {"name": name, "policy": dumps(document) if isinstance(document, dict)
                                           else document, "tags": tags(None)})


def signing_configuration(*rules: dict[str, Any]) -> Resource:
    """ECR managed signing (pulumi-aws-native); default: one profile signing every repository."""
    every = {"signingProfileArn": f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/prod_release"}
    return resource("aws-native:ecr:SigningConfiguration", "signing-configuration", {"rules": list(rules) or [every]})

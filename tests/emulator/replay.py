"""Replay what the program declares, resource by resource, as the AWS API calls that create it.

A test harness, not a deploy path (users deploy with `pulumi up`): it takes the resources the
program recorded under SDK mocks and makes the same calls the AWS provider would, through boto3
against the emulator, in dependency order. Every input a handler does not consume is an error,
so a new field in the program can't be silently left out of the proof.

Also checked here: the ARN the mocks promised for each resource is the ARN the API gives it, so
documents that name other resources by ARN (trust policies naming the OIDC provider, policies
naming repositories) name real ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.resource import Resource

OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
REPLICATION = "aws:ecr/replicationConfiguration:ReplicationConfiguration"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

# moto answers HTTP 500 (not implemented) for these; the unit tests and the policy pack prove
# their inputs under mocks instead.
SKIPPED_TYPES: dict[str, str] = {
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate":
        "moto does not implement CreateRepositoryCreationTemplate (HTTP 500)",
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule":
        "moto does not implement CreatePullThroughCacheRule (HTTP 500)",
    "aws-native:ecr:SigningConfiguration": "moto does not implement ECR's PutSigningConfiguration",
    "pulumi:providers:aws-native": "a provider: configuration, no API call",
    "aws:ecr/pullTimeUpdateExclusion:PullTimeUpdateExclusion":
        "moto does not implement RegisterPullTimeUpdateExclusion",
    "aws:ecr/accountSetting:AccountSetting": "moto does not implement ECR's PutAccountSetting",
}
# Inputs that configure the provider's own behaviour and become no API field at creation.
PROVIDER_ONLY_INPUTS = {"forceDelete"}
# Stands in for the node role an EKS cluster already has in the account.
NODE_ROLE_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Ec2Nodes", "Effect": "Allow", "Action": "sts:AssumeRole",
                   "Principal": {"Service": "ec2.amazonaws.com"}}],
})


class Clients(Protocol):
    def client(self, service: str, **kwargs: Any) -> Any: ...


class UnhandledInput(AssertionError):
    """The replay met an input (or a type) it does not know how to send: teach it, don't drop it."""


@dataclass
class Applied:
    """One resource created through the API: the calls made and what the API called it."""

    resource: Resource
    calls: list[str]
    arn: str | None = None


@dataclass
class ReplayReport:
    applied: list[Applied] = field(default_factory=list)
    skipped: list[tuple[Resource, str]] = field(default_factory=list)
    fixtures: list[str] = field(default_factory=list)
    """What the account had before the stack (created by the harness, not by the program)."""

    def arn_mismatches(self) -> list[str]:
        """Resources whose mocked ARN (what documents and outputs name) differs from the real one."""
        found = []
        for applied in self.applied:
            promised = applied.resource.outputs.get("arn")
            if applied.arn is not None and promised is not None and promised != applied.arn:
                found.append(f"{applied.resource.type} {applied.resource.name}: mocks said {promised}, "
                             f"the API said {applied.arn}")
        return found


def custom_resources(resources: Iterable[Resource]) -> list[Resource]:
    """The resources the provider creates (ComponentResources are grouping only)."""
    return [r for r in resources if r.custom]


def dependency_order(resources: list[Resource]) -> list[Resource]:
    """Custom resources ordered so each comes after everything it depends on (stable otherwise).

    A dependency on a component means every custom resource inside it, as the engine reads it.
    """
    custom = {r.urn: r for r in resources if r.custom}
    children: dict[str, list[str]] = {}
    for r in resources:
        children.setdefault(r.parent, []).append(r.urn)

    def expand(urn: str) -> set[str]:
        if urn in custom:
            return {urn}
        found: set[str] = set()
        for child in children.get(urn, []):
            found |= expand(child)
        return found

    needs: dict[str, set[str]] = {}
    for urn, r in custom.items():
        direct = set(r.dependencies) | {d for deps in r.property_dependencies.values() for d in deps}
        needs[urn] = set().union(*(expand(d) for d in direct)) - {urn} if direct else set()
    ordered: list[Resource] = []
    done: set[str] = set()
    pending = [r.urn for r in resources if r.custom]
    while pending:
        ready = [urn for urn in pending if needs[urn] <= done]
        if not ready:
            raise UnhandledInput(f"dependency cycle among {sorted(pending)}")
        for urn in ready:
            ordered.append(custom[urn])
            done.add(urn)
        pending = [urn for urn in pending if urn not in done]
    return ordered


def _tags(tags: dict[str, str] | None, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted((tags or {}).items())]


class _Inputs:
    """A resource's inputs; `take` consumes one, `finish` fails on any left unconsumed."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.left = {k: v for k, v in resource.inputs.items() if k not in PROVIDER_ONLY_INPUTS}

    def take(self, key: str, default: Any = None) -> Any:
        return self.left.pop(key, default)

    def finish(self) -> None:
        if self.left:
            raise UnhandledInput(
                f"{self.resource.type} {self.resource.name}: the replay does not send input(s) "
                f"{sorted(self.left)}; map them to the API call in tests/emulator/replay.py"
            )


def _oidc_provider(aws: Clients, inputs: _Inputs) -> Applied:
    request: dict[str, Any] = {"Url": inputs.take("url"), "ClientIDList": inputs.take("clientIdLists", []),
                               "Tags": _tags(inputs.take("tags"))}
    thumbprints = inputs.take("thumbprintLists")
    if thumbprints:
        request["ThumbprintList"] = thumbprints
    inputs.finish()
    arn = aws.client("iam").create_open_id_connect_provider(**request)["OpenIDConnectProviderArn"]
    return Applied(inputs.resource, ["iam:CreateOpenIDConnectProvider"], arn)


def _repository(aws: Clients, inputs: _Inputs) -> Applied:
    request: dict[str, Any] = {"repositoryName": inputs.take("name"), "tags": _tags(inputs.take("tags"))}
    scanning = inputs.take("imageScanningConfiguration")
    if scanning is not None:
        request["imageScanningConfiguration"] = {"scanOnPush": bool(scanning.get("scanOnPush"))}
    mutability = inputs.take("imageTagMutability")
    if mutability is not None:
        request["imageTagMutability"] = mutability
    filters = inputs.take("imageTagMutabilityExclusionFilters")
    if filters:
        request["imageTagMutabilityExclusionFilters"] = filters
    encryption = inputs.take("encryptionConfigurations") or []
    if len(encryption) > 1:
        raise UnhandledInput(f"{inputs.resource.name}: ECR takes one encryption configuration: {encryption}")
    if encryption:
        config = {"encryptionType": encryption[0]["encryptionType"]}
        if encryption[0].get("kmsKey"):
            config["kmsKey"] = encryption[0]["kmsKey"]
        request["encryptionConfiguration"] = config
    inputs.finish()
    created = aws.client("ecr").create_repository(**request)["repository"]
    return Applied(inputs.resource, ["ecr:CreateRepository"], created["repositoryArn"])


def _lifecycle_policy(aws: Clients, inputs: _Inputs) -> Applied:
    request = {"repositoryName": inputs.take("repository"), "lifecyclePolicyText": inputs.take("policy")}
    inputs.finish()
    aws.client("ecr").put_lifecycle_policy(**request)
    return Applied(inputs.resource, ["ecr:PutLifecyclePolicy"])


def _repository_policy(aws: Clients, inputs: _Inputs) -> Applied:
    request = {"repositoryName": inputs.take("repository"), "policyText": inputs.take("policy")}
    inputs.finish()
    aws.client("ecr").set_repository_policy(**request)
    return Applied(inputs.resource, ["ecr:SetRepositoryPolicy"])


def _registry_scanning(aws: Clients, inputs: _Inputs) -> Applied:
    rules = [{"scanFrequency": rule["scanFrequency"],
              "repositoryFilters": [{"filter": f["filter"], "filterType": f["filterType"]}
                                    for f in rule.get("repositoryFilters", [])]}
             for rule in inputs.take("rules", [])]
    request = {"scanType": inputs.take("scanType"), "rules": rules}
    inputs.finish()
    aws.client("ecr").put_registry_scanning_configuration(**request)
    return Applied(inputs.resource, ["ecr:PutRegistryScanningConfiguration"])


def _replication(aws: Clients, inputs: _Inputs) -> Applied:
    configuration = inputs.take("replicationConfiguration") or {}
    rules = [{"destinations": [{"region": d["region"], "registryId": d["registryId"]} for d in rule["destinations"]],
              **({"repositoryFilters": [{"filter": f["filter"], "filterType": f["filterType"]}
                                        for f in rule["repositoryFilters"]]} if rule.get("repositoryFilters") else {})}
             for rule in configuration.get("rules", [])]
    inputs.finish()
    aws.client("ecr").put_replication_configuration(replicationConfiguration={"rules": rules})
    return Applied(inputs.resource, ["ecr:PutReplicationConfiguration"])


def _role(aws: Clients, inputs: _Inputs) -> Applied:
    name, trust = inputs.take("name"), inputs.take("assumeRolePolicy")
    request: dict[str, Any] = {"RoleName": name, "AssumeRolePolicyDocument": trust,
                               "Tags": _tags(inputs.take("tags"))}
    optional = (("description", "Description"), ("path", "Path"),
                ("maxSessionDuration", "MaxSessionDuration"), ("permissionsBoundary", "PermissionsBoundary"))
    for key, api in optional:
        value = inputs.take(key)
        if value is not None:
            request[api] = value
    inputs.finish()
    iam = aws.client("iam")
    arn = iam.create_role(**request)["Role"]["Arn"]
    # moto's CreateRole validates nothing; UpdateAssumeRolePolicy runs its trust policy validator.
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
    return Applied(inputs.resource, ["iam:CreateRole", "iam:UpdateAssumeRolePolicy"], arn)


def _role_policy(aws: Clients, inputs: _Inputs) -> Applied:
    request = {"RoleName": inputs.take("role"), "PolicyName": inputs.take("name"),
               "PolicyDocument": inputs.take("policy")}
    inputs.finish()
    aws.client("iam").put_role_policy(**request)
    return Applied(inputs.resource, ["iam:PutRolePolicy"])


def _policy(aws: Clients, inputs: _Inputs) -> Applied:
    request: dict[str, Any] = {"PolicyName": inputs.take("name"), "PolicyDocument": inputs.take("policy"),
                               "Tags": _tags(inputs.take("tags"))}
    for key, api in (("description", "Description"), ("path", "Path")):
        value = inputs.take(key)
        if value is not None:
            request[api] = value
    inputs.finish()
    arn = aws.client("iam").create_policy(**request)["Policy"]["Arn"]
    return Applied(inputs.resource, ["iam:CreatePolicy"], arn)


def _role_policy_attachment(aws: Clients, inputs: _Inputs) -> Applied:
    request = {"RoleName": inputs.take("role"), "PolicyArn": inputs.take("policyArn")}
    inputs.finish()
    aws.client("iam").attach_role_policy(**request)
    return Applied(inputs.resource, ["iam:AttachRolePolicy"])


def _signing_profile(aws: Clients, inputs: _Inputs) -> Applied:
    request: dict[str, Any] = {"profileName": inputs.take("name"), "platformId": inputs.take("platformId"),
                               "tags": inputs.take("tags") or {}}
    validity = inputs.take("signatureValidityPeriod")
    if validity:
        request["signatureValidityPeriod"] = {"type": validity["type"], "value": int(validity["value"])}
    inputs.finish()
    arn = aws.client("signer").put_signing_profile(**request)["arn"]
    return Applied(inputs.resource, ["signer:PutSigningProfile"], arn)


HANDLERS = {
    OIDC_PROVIDER: _oidc_provider,
    REPOSITORY: _repository,
    LIFECYCLE_POLICY: _lifecycle_policy,
    REPOSITORY_POLICY: _repository_policy,
    REGISTRY_SCANNING: _registry_scanning,
    REPLICATION: _replication,
    ROLE: _role,
    ROLE_POLICY: _role_policy,
    POLICY: _policy,
    ROLE_POLICY_ATTACHMENT: _role_policy_attachment,
    "aws:signer/signingProfile:SigningProfile": _signing_profile,
}


def create_preexisting(aws: Clients, resources: list[Resource]) -> list[str]:
    """Create what the stack expects the account to have already, and say what was created.

    - roles the stack attaches policies to but does not declare (EKS node roles named in
      `nodePullRoles`): created with an EC2 trust policy;
    - OIDC providers that trust policies name but the stack does not declare
      (`oidcProvider: existing` or an ARN): created for the issuer in the ARN.
    """
    declared_roles = {r.inputs.get("name") for r in resources if r.type == ROLE}
    declared_providers = {r.outputs.get("arn") for r in resources if r.type == OIDC_PROVIDER}
    iam = aws.client("iam")
    created: list[str] = []
    for r in resources:
        if r.type in (ROLE_POLICY_ATTACHMENT, ROLE_POLICY) and r.inputs["role"] not in declared_roles:
            declared_roles.add(r.inputs["role"])
            iam.create_role(RoleName=r.inputs["role"], AssumeRolePolicyDocument=NODE_ROLE_TRUST)
            created.append(f"role {r.inputs['role']} (an existing node role the stack attaches to)")
    for r in resources:
        if r.type != ROLE:
            continue
        for statement in json.loads(r.inputs["assumeRolePolicy"])["Statement"]:
            federated = statement.get("Principal", {}).get("Federated")
            if federated and federated not in declared_providers:
                declared_providers.add(federated)
                host = federated.split(":oidc-provider/", 1)[1]
                iam.create_open_id_connect_provider(Url=f"https://{host}", ClientIDList=["sts.amazonaws.com"])
                created.append(f"OIDC provider {host} (an existing provider the stack looks up)")
    return created


def replay(aws: Clients, resources: list[Resource]) -> ReplayReport:
    """Create every custom resource through the API in dependency order; raise on the first refusal."""
    report = ReplayReport(fixtures=create_preexisting(aws, resources))
    for resource in dependency_order(resources):
        if resource.type in SKIPPED_TYPES:
            report.skipped.append((resource, SKIPPED_TYPES[resource.type]))
            continue
        handler = HANDLERS.get(resource.type)
        if handler is None:
            raise UnhandledInput(f"the replay has no API mapping for {resource.type} ({resource.name})")
        report.applied.append(handler(aws, _Inputs(resource)))
    return report

"""The one mocks module: the Pulumi engine replaced, the real program and pulumi-aws SDK kept.

`RecordingMocks` answers invokes and resource registrations the way AWS would (ARNs with the
stack's account, region and partition), so tests catch ARN mistakes; an invoke it does not
know raises instead of returning something plausible. `RecordingMonitor` also keeps what the
plain mock monitor drops (parent, protect, dependencies), which the policy pack needs to see.
"""

from __future__ import annotations

import zlib
from typing import Any

from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.mocks import MockMonitor

from .resource import Resource

# AWS partitions by region prefix; everything else is the commercial partition.
_PARTITIONS = {"cn-": ("aws-cn", "amazonaws.com.cn"), "us-gov-": ("aws-us-gov", "amazonaws.com")}


def partition_of(region: str) -> tuple[str, str]:
    """The partition name and DNS suffix AWS uses for `region`."""
    for prefix, answer in _PARTITIONS.items():
        if region.startswith(prefix):
            return answer
    return ("aws", "amazonaws.com")


class RecordingMocks(Mocks):
    """Realistic answers for the invokes and resources the program uses, in one account/region."""

    def __init__(self, account_id: str = "123456789012", region: str = "us-east-1") -> None:
        self.account_id = account_id
        self.region = region
        self.partition, self.dns_suffix = partition_of(region)
        # OIDC providers that "already exist" in the account, by URL, for `oidcProvider: existing`.
        self.existing_oidc_providers: set[str] = {"https://token.actions.githubusercontent.com"}
        # Values made up here that AWS would choose (key ids, generated names): reports mark them.
        self.simulated: set[str] = set()

    def _arn(self, service: str, resource: str, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            caller = self._arn("iam", "user/platform-ci", regional=False)
            self.simulated.update((caller, "AIDAEXAMPLEUSERID"))
            return {"accountId": self.account_id, "arn": caller, "userId": "AIDAEXAMPLEUSERID",
                    "id": self.account_id}, []
        if token == "aws:index/getPartition:getPartition":
            return {
                "partition": self.partition,
                "dnsSuffix": self.dns_suffix,
                "reverseDnsPrefix": ".".join(reversed(self.dns_suffix.split("."))),
                "id": self.partition,
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region,
                    "endpoint": f"ec2.{self.region}.{self.dns_suffix}"}, []
        if token == "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
            url = args.args.get("url", "")
            if url not in self.existing_oidc_providers:
                return {}, [("url", f"no OpenID Connect provider with URL {url} in account {self.account_id}")]
            host = url.removeprefix("https://")
            return {
                "arn": self._arn("iam", f"oidc-provider/{host}", regional=False),
                "url": host,
                "clientIdLists": ["sts.amazonaws.com"],
                "thumbprintLists": [],
                "tags": {},
                "id": self._arn("iam", f"oidc-provider/{host}", regional=False),
            }, []
        if token == "aws:kms/getAlias:getAlias":
            name = str(args.args.get("name", ""))
            key_id = f"{zlib.crc32(name.encode()) % 10**8:08d}-0000-4000-8000-000000000000"
            self.simulated.add(key_id)
            return {
                "arn": self._arn("kms", name),
                "name": name,
                "targetKeyId": key_id,
                "targetKeyArn": self._arn("kms", f"key/{key_id}"),
                "id": self._arn("kms", name),
            }, []
        raise NotImplementedError(f"RecordingMocks has no answer for invoke {token}; add one that AWS would give")

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        typ, name = args.typ, args.name
        physical = inputs.get("name")
        if not physical:  # the engine's auto-name: a random suffix AWS-side
            physical = f"{name}-{zlib.crc32(name.encode()) % 10**7:07d}"
            self.simulated.add(physical)
        outputs: dict[str, Any] = {**inputs}
        if typ == "aws:ecr/repository:Repository":
            outputs.update(
                name=physical,
                arn=self._arn("ecr", f"repository/{physical}"),
                registryId=self.account_id,
                repositoryUrl=f"{self.account_id}.dkr.ecr.{self.region}.{self.dns_suffix}/{physical}",
            )
            return physical, outputs
        if typ == "aws:iam/role:Role":
            path = inputs.get("path") or "/"
            outputs.update(name=physical, arn=self._arn("iam", f"role{path}{physical}", regional=False),
                           uniqueId="AROAEXAMPLE" + physical.upper()[:8])
            return physical, outputs
        if typ == "aws:iam/policy:Policy":
            path = inputs.get("path") or "/"
            arn = self._arn("iam", f"policy{path}{physical}", regional=False)
            outputs.update(name=physical, arn=arn, policyId="ANPAEXAMPLE")
            return arn, outputs
        if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            host = str(inputs.get("url", "")).removeprefix("https://")
            arn = self._arn("iam", f"oidc-provider/{host}", regional=False)
            outputs.update(arn=arn)
            return arn, outputs
        if typ == "aws:iam/rolePolicy:RolePolicy":
            return f"{inputs.get('role')}:{inputs.get('name')}", outputs
        if typ in ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy"):
            outputs.update(registryId=self.account_id)
            return str(inputs.get("repository")), outputs
        if typ == "aws:signer/signingProfile:SigningProfile":
            version = f"{zlib.crc32(physical.encode()) % 10**10:010d}"
            self.simulated.add(version)
            arn = self._arn("signer", f"/signing-profiles/{physical}")
            outputs.update(name=physical, arn=arn, version=version, versionArn=f"{arn}/{version}", status="Active",
                           platformDisplayName="Notation for Container Registries")
            return arn, outputs
        if typ == "aws-native:ecr:SigningConfiguration":
            outputs.update(registryId=self.account_id)
            return self.account_id, outputs
        if typ == "aws:ecr/pullTimeUpdateExclusion:PullTimeUpdateExclusion":
            return str(inputs.get("principalArn")), outputs
        if typ == "aws:ecr/accountSetting:AccountSetting":
            return str(inputs.get("name")), outputs
        if typ == "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate":
            outputs.update(registryId=self.account_id)
            return str(inputs.get("prefix")), outputs
        return f"{name}-id", outputs


class RecordingMonitor(MockMonitor):
    """A mock monitor that remembers every registration with its options, in declaration order."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[Resource] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            state = self.resources[response.urn].state
            self.recorded.append(
                Resource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    custom=bool(request.custom),
                    inputs=_plain(_deserialize(request.object)),
                    outputs=_plain(state),
                    protect=bool(request.protect),
                    dependencies=list(request.dependencies),
                    property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                    aliases=[_alias_urn(alias, request, response.urn) for alias in request.aliases],
                )
            )
        return response


def _alias_urn(alias: Any, request: Any, urn: str) -> str:
    """The URN an alias names: given as is, or built from its spec the way this monitor builds URNs."""
    if alias.urn:
        return str(alias.urn)
    spec = alias.spec
    prefix, project, _, _ = urn.split("::", 3)
    stack = f"urn:pulumi:{spec.stack}" if spec.stack else prefix
    parent = "" if spec.noParent else (spec.parentUrn or request.parent)
    type_ = spec.type or request.type
    qualified = f"{parent.split('::')[2].split('$')[-1]}${type_}" if parent else type_
    return f"{stack}::{spec.project or project}::{qualified}::{spec.name or request.name}"


def _deserialize(struct: Any) -> dict[str, Any]:
    from pulumi.runtime import rpc

    return rpc.deserialize_properties(struct)


def _plain(value: Any) -> Any:
    """Inputs as plain JSON-able data (the analyzer protocol and boto3 both want that)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value

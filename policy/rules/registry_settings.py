"""Registry-wide ECR settings judged under `ecr-repository-policy-restricted`: account settings and
pull-time update exclusions (both change who can do what across every repository of the registry).

- `aws.ecr.AccountSetting`: the name is one ECR knows and the value one it accepts
  (`REGISTRY_POLICY_SCOPE` V1/V2, `BLOB_MOUNTING` ENABLED/DISABLED, `BASIC_SCAN_TYPE_VERSION`
  AWS_NATIVE: Clair was retired on 2 February 2026, so `CLAIR` leaves basic scanning broken).
  With `REGISTRY_POLICY_SCOPE: V2` the registry policy covers every ECR action on every repository;
  the access model then counts its grants to roles and users like identity policies (team-isolation,
  ecr-image-signing), and the registry policy itself is always judged for every action it names.
- `aws.ecr.PullTimeUpdateExclusion`: `principalArn` names one IAM role or user (no wildcard):
  its pulls no longer refresh `lastRecordedPullTime`, so `sinceImagePulled` rules may archive or
  expire images it keeps pulling; a pattern would exempt principals nobody reviewed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .common import ACCOUNT_SETTING, PULL_TIME_EXCLUSION, Finding, Resource, Skipped, is_unknown

MODELLED_TYPES: frozenset[str] = frozenset({ACCOUNT_SETTING, PULL_TIME_EXCLUSION})
ACCOUNT_SETTINGS: dict[str, tuple[str, ...]] = {
    "REGISTRY_POLICY_SCOPE": ("V1", "V2"),
    "BASIC_SCAN_TYPE_VERSION": ("AWS_NATIVE",),
    "BLOB_MOUNTING": ("ENABLED", "DISABLED"),
}
_PRINCIPAL = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:(?:role|user)/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")


def registry_policy_scope_v2(resources: list[Resource]) -> bool:
    """Whether the stack sets REGISTRY_POLICY_SCOPE to V2 (the registry policy then covers every ECR action)."""
    return any(r.resource_type == ACCOUNT_SETTING and r.props.get("name") == "REGISTRY_POLICY_SCOPE"
               and r.props.get("value") == "V2" for r in resources)


def check_registry_setting(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    if resource.resource_type == PULL_TIME_EXCLUSION:
        principal = resource.props.get("principalArn")
        if is_unknown(principal):
            skipped.add(f"{resource.name}.principalArn")
            return []
        if isinstance(principal, str) and _PRINCIPAL.match(principal):
            return []
        return [Finding(f"The ECR pull-time update exclusion '{resource.name}' names {principal!r}, which is not one "
                        "IAM role or user ARN: its pulls would stop counting for sinceImagePulled rules for principals "
                        "nobody named. Give the exact ARN of the scanner's role.")]
    name, value = resource.props.get("name"), resource.props.get("value")
    if is_unknown(name) or is_unknown(value):
        skipped.add(f"{resource.name}.name/value")
        return []
    if name not in ACCOUNT_SETTINGS:
        return [Finding(f"The ECR account setting '{resource.name}' names {name!r}, which ECR does not know; use one "
                        f"of {', '.join(ACCOUNT_SETTINGS)}.")]
    if value not in ACCOUNT_SETTINGS[name]:
        retired = " (Clair was retired on 2 February 2026)" if value == "CLAIR" else ""
        return [Finding(f"The ECR account setting {name} is {value!r}{retired}; use "
                        f"{' or '.join(ACCOUNT_SETTINGS[name])}.")]
    return []

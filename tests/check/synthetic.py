"""A large, valid stack config for timing the check: `python -m tests.check.synthetic 200 > /tmp/200.yaml`,
then `python -m ecr_platform_tools.check --stack dev --config-file /tmp/200.yaml --timing`."""

from __future__ import annotations

import sys
from typing import Any

import yaml


def synthetic_config(teams: int, environment: str = "dev") -> dict[str, Any]:
    """`teams` teams of two repositories each, mixing every seed pattern the contract allows."""
    config: dict[str, Any] = {
        "aws:region": "us-east-1",
        "aws:allowedAccountIds": ["111111111111"],
        "ecr-platform:environment": environment,
        "ecr-platform:github": {"organizations": ["acme"], "oidcProvider": "create"},
        "ecr-platform:accounts": {"cluster": "222222222222", "builders": "555555555555"},
        "ecr-platform:defaults": {
            "scanOnPush": True,
            "imageTagMutability": "IMMUTABLE",
            "encryption": {"type": "AES256"},
            "lifecycle": {"untaggedExpireDays": 7},
            "protect": False,
        },
        "ecr-platform:nodePullRoles": ["eks-node-group-role"],
        "ecr-platform:teams": {},
    }
    for i in range(teams):
        name = f"team-{i:03d}"
        team: dict[str, Any] = {
            "repositories": ["api", "worker"],
            "github": [{"repository": f"acme/{name}", "branches": ["main"], "environments": ["release"]}],
        }
        if i % 3 == 0:
            team["pullAccounts"] = ["cluster"]
        if i % 10 == 0:
            team["pushAccounts"] = ["builders"]
        if i % 25 == 0:
            team["github"].append({"repository": f"acme/{name}-tools", "tags": ["v*"]})
        if i % 50 == 0:
            team["allowCreateRepositories"] = True
        config["ecr-platform:teams"][name] = team
    return config


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    sys.stdout.write(yaml.safe_dump({"config": synthetic_config(count)}, sort_keys=False))

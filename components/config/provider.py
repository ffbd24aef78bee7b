"""The AWS provider's keys of the stack (`aws:*`): each one the provider knows, and the two the stack needs.

The known keys are the installed pulumi-aws package's own: its generated `config/vars.py` reads each
provider setting with `__config__.get*('<key>')`, so the list follows the locked provider version
(the package ships no config schema file: `pulumi-plugin.json` names the plugin only, and
`pulumi package get-schema aws` needs the CLI and the plugin binary, which the offline check does not
have). The region comes from `aws:region` or, as the provider reads it, `AWS_REGION` /
`AWS_DEFAULT_REGION`; prod must also name its account (`aws:allowedAccountIds`), so that the provider
refuses any other account's credentials and the check judges the account the stack deploys to.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .messages import closest, did_you_mean
from .values import yaml_number_problem

PROVIDER = "aws"
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$")
_ACCOUNT = re.compile(r"^\d{12}$")
# Environments that must name their account: the check has to know which account it judges.
ACCOUNT_REQUIRED_IN = ("prod",)


@cache
def provider_keys() -> frozenset[str]:
    """Every configuration key of the installed AWS provider (`region`, `allowedAccountIds`, ...)."""
    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or spec.origin is None:
        raise RuntimeError("pulumi-aws is not installed; run `make setup`")
    tree = ast.parse((Path(spec.origin).parent / "config" / "vars.py").read_text())
    return frozenset(
        node.args[0].value for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "__config__"
        and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
    )


@dataclass(frozen=True)
class Home:
    """Where the stack deploys, as far as its config says: None where it does not say (or says it wrongly)."""

    accounts: frozenset[str] | None
    """`aws:allowedAccountIds`."""
    region: str | None
    """`aws:region`, else AWS_REGION / AWS_DEFAULT_REGION."""


def _parsed(value: Any) -> Any:
    # `pulumi config` hands the program structured values as JSON text
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def home_of(provider: Mapping[str, Any], environ: Mapping[str, str]) -> Home:
    region = _parsed(provider.get("region")) or next((environ[v] for v in REGION_VARIABLES if environ.get(v)), None)
    accounts = _parsed(provider.get("allowedAccountIds"))
    valid_accounts = isinstance(accounts, list) and accounts and all(
        isinstance(a, str) and _ACCOUNT.match(a) for a in accounts)
    return Home(accounts=frozenset(accounts) if valid_accounts else None,
                region=region if isinstance(region, str) and _REGION.match(region) else None)


def provider_problems(provider: Mapping[str, Any], environment: str, environ: Mapping[str, str]) -> list[str]:
    """One `aws:<key>: ...` line per problem of the stack's AWS provider keys (given without the prefix)."""
    problems = []
    known = provider_keys()
    misspelt = set()  # a required key written under a close misspelling is said once, as the typo
    for key in provider:
        if key not in known:
            misspelt.add(closest(key, known))
            hint = did_you_mean(key, known).replace('"', f'"{PROVIDER}:', 1)
            problems.append(f"{PROVIDER}:{key}: not a configuration key of the AWS provider; "
                            + (hint or f"see the provider's keys: {', '.join(sorted(known))}"))
    region = _parsed(provider.get("region"))
    if region is None:
        if not any(environ.get(v) for v in REGION_VARIABLES) and "region" not in misspelt:
            problems.append(f"{PROVIDER}:region: is required: the region the stack deploys to, e.g. "
                            f"`pulumi config set {PROVIDER}:region us-west-2` (or AWS_REGION in the environment)")
    elif not isinstance(region, str) or not _REGION.match(region):
        problems.append(f"{PROVIDER}:region: {json.dumps(region)} is not an AWS region such as us-west-2")
    accounts = _parsed(provider.get("allowedAccountIds"))
    if accounts is None:
        if environment in ACCOUNT_REQUIRED_IN and "allowedAccountIds" not in misspelt:
            problems.append(f'{PROVIDER}:allowedAccountIds: is required in {environment}: list the account the stack '
                            'deploys to, e.g. ["210987654321"], so the provider refuses any other account\'s '
                            "credentials and the check judges that account")
    elif not isinstance(accounts, list) or not accounts:
        problems.append(f"{PROVIDER}:allowedAccountIds: {json.dumps(accounts)} is not a list of account ids; "
                        'write it as ["210987654321"]')
    else:
        problems += [f"{PROVIDER}:allowedAccountIds[{index}]: {account_problem(account)}"
                     for index, account in enumerate(accounts) if account_problem(account)]
    return problems


def account_problem(value: Any) -> str | None:
    """Why `value` is not a 12-digit account id as YAML hands it over, in words that name YAML's reading."""
    if isinstance(value, str) and _ACCOUNT.match(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return yaml_number_problem(value)
    return f"{json.dumps(value)} is not a 12-digit AWS account id"

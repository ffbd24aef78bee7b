"""Each environment's policy pack config names the same accounts and owners as its stack config.

The pack cannot read the program's config (it guards any program), so the two files are kept in
step by hand; this is what catches a new account added to one and forgotten in the other.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def stack(env: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{env}.yaml").read_text())["config"]


def pack(env: str) -> dict:
    return json.loads((ROOT / "policy" / "config" / f"{env}.json").read_text())


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_pack_accounts_match_the_stack(env):
    config, guard = stack(env), pack(env)["ecr-repository-policy-restricted"]
    accounts = config.get("ecr-platform:accounts", {})
    teams = config["ecr-platform:teams"].values()
    pulling = {accounts[a] for t in teams for a in t.get("pullAccounts", []) + t.get("pushAccounts", [])}
    pushing = {accounts[a] for t in teams for a in t.get("pushAccounts", [])}
    assert pulling <= set(guard["allowedAccounts"]), "a pull account of the stack is not allowed by the pack"
    assert pushing <= set(guard["allowedPushAccounts"]), "a push account of the stack is not allowed by the pack"
    assert set(guard["allowedAccounts"]) <= set(accounts.values()), "the pack allows an account the stack never names"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_pack_organizations_match_the_stack(env):
    organizations = stack(env)["ecr-platform:github"]["organizations"]
    assert sorted(pack(env)["github-oidc-trust-scoped"]["allowedOrganizations"]) == sorted(organizations)


@pytest.mark.parametrize("env", ["dev", "prod", "local"])
def test_the_guard_knows_the_stack_account(env):
    home = stack(env)["aws:allowedAccountIds"]
    assert sorted(pack(env)["iam-least-privilege"]["allowedAccounts"]) == sorted(home), (
        "iam:PassRole and trust policies would be judged against another account than the one the stack deploys to")

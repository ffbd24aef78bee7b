"""Each stack's policy pack config names the same accounts, owners and quotas as its stack config.

The pack cannot read the program's config (it guards any program), so the two files are kept in
step by hand; this is what catches a new account added to one and forgotten in the other. It holds
for the environments (`Pulumi.<env>.yaml` + `policy/config/<env>.json`) and for every example
(`examples/<name>.yaml` + `examples/<name>.policy.json`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.live_stacks

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ISSUER = "token.actions.githubusercontent.com"
DEFAULT_TRUST_POLICY_MAX_CHARS = 2048

PAIRS: dict[str, tuple[Path, Path]] = {
    **{env: (ROOT / f"Pulumi.{env}.yaml", ROOT / "policy" / "config" / f"{env}.json")
       for env in ("dev", "prod", "local")},
    **{f"examples/{p.stem}": (p, p.with_name(f"{p.stem}.policy.json"))
       for p in sorted((ROOT / "examples").glob("*.yaml"))},
}
# The emulator's guard is lenient on purpose: its empty lists allow any account and owner.
LENIENT = {"local"}


def _load(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    stack_file, pack_file = PAIRS[name]
    return yaml.safe_load(stack_file.read_text())["config"], json.loads(pack_file.read_text())


@pytest.fixture(params=sorted(PAIRS.keys() - LENIENT))
def pair(request) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the stack's `config:` block, its pack config), for each stack whose guard names its accounts."""
    return _load(request.param)


@pytest.fixture(params=sorted(PAIRS))
def any_pair(request) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same, for every stack."""
    return _load(request.param)


def test_pack_accounts_match_the_stack(pair):
    config, pack = pair
    guard = pack["ecr-repository-policy-restricted"]
    accounts = config.get("ecr-platform:accounts", {})
    teams = config["ecr-platform:teams"].values()
    pulling = {accounts[a] for t in teams for a in t.get("pullAccounts", []) + t.get("pushAccounts", [])}
    pushing = {accounts[a] for t in teams for a in t.get("pushAccounts", [])}
    named = set(accounts.values()) | set(config["aws:allowedAccountIds"])
    assert pulling <= set(guard["allowedAccounts"]), "a pull account of the stack is not allowed by the pack"
    assert pushing <= set(guard["allowedPushAccounts"]), "a push account of the stack is not allowed by the pack"
    assert set(guard["allowedAccounts"]) <= named, "the pack allows an account the stack never names"
    assert set(guard["allowedPushAccounts"]) <= named, "the pack allows pushes from an account the stack never names"


def test_pack_replication_accounts_match_the_stack(pair):
    config, pack = pair
    accounts, (own,) = config.get("ecr-platform:accounts", {}), config["aws:allowedAccountIds"]
    rules = ((config.get("ecr-platform:registry") or {}).get("replication") or {}).get("rules", [])
    destinations = {accounts[d["account"]] if "account" in d else own for r in rules for d in r["destinations"]}
    allowed = set(pack["ecr-repository-policy-restricted"].get("allowedReplicationAccounts", []))
    assert destinations <= allowed, "the stack replicates to a registry the pack does not allow"
    assert allowed <= set(accounts.values()) | {own}, "the pack allows replication to an account the stack never names"


def test_pack_organizations_match_the_stack(pair):
    config, pack = pair
    organizations = config["ecr-platform:github"]["organizations"]
    assert sorted(pack["github-oidc-trust-scoped"]["allowedOrganizations"]) == sorted(organizations)


def test_pack_knows_the_stack_issuer_and_trust_quota(pair):
    config, pack = pair
    github = config["ecr-platform:github"]
    issuer = github.get("issuer", DEFAULT_ISSUER)
    if issuer != DEFAULT_ISSUER:
        assert issuer in pack["github-oidc-trust-scoped"].get("issuers", []), (
            f"the stack's GitHub issuer {issuer} is not in the pack's github-oidc-trust-scoped.issuers")
    quota = github.get("trustPolicyMaxChars", DEFAULT_TRUST_POLICY_MAX_CHARS)
    assert pack["iam-policy-size"]["trustPolicyMaxChars"] == quota, (
        "iam-policy-size.trustPolicyMaxChars differs from the stack's github.trustPolicyMaxChars")


def test_the_guard_knows_the_stack_account(any_pair):
    config, pack = any_pair
    home = config["aws:allowedAccountIds"]
    assert sorted(pack["iam-least-privilege"]["allowedAccounts"]) == sorted(home), (
        "iam:PassRole and trust policies would be judged against another account than the one the stack deploys to")

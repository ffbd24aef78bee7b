"""What the CLI learns from GetAnalyzerInfo, and the per-environment config files it is given."""

from __future__ import annotations

import json

import pytest

from engine.analyzer import PolicyPackClient

from .conftest import PACK_DIR, POLICY_NAMES

CONFIG_PROPERTIES = {
    "ecr-encryption": {"minimum"},
    "ecr-tag-immutability": {"allowExclusions"},
    "github-oidc-trust-scoped": {"allowedOrganizations", "allowOrgWide", "allowPullRequests", "allowAnyRef"},
    "ecr-repository-policy-restricted": {"allowedAccounts", "allowedPushAccounts"},
    "iam-policy-size": {"trustPolicyMaxChars"},
}


def test_the_pack_lists_exactly_the_contract_policies(pack_client: PolicyPackClient) -> None:
    info = pack_client.info()
    assert info.name == "ecr-platform-guardrails"
    assert info.supports_config
    assert sorted(p.name for p in info.policies) == sorted(POLICY_NAMES), "a renamed policy breaks every config file"


def test_every_policy_documents_itself(pack_client: PolicyPackClient) -> None:
    for policy in pack_client.info().policies:
        assert policy.description.endswith("."), f"{policy.name}: the description is a sentence"
        assert policy.remediation_steps, f"{policy.name}: users need remediation steps"
        assert policy.severity, f"{policy.name}: severity is set"
        assert policy.enforcement_level == "mandatory", f"{policy.name}: safe default enforcement"


def test_config_schemas_declare_the_contract_properties_with_defaults(pack_client: PolicyPackClient) -> None:
    schemas = {p.name: p.config_schema.get("properties", {}) for p in pack_client.info().policies}
    for policy, names in CONFIG_PROPERTIES.items():
        assert names <= set(schemas[policy]), f"{policy} must declare {names - set(schemas[policy])}"
        for name in names:
            assert "default" in schemas[policy][name], f"{policy}.{name} needs a safe default"
    assert schemas["ecr-encryption"]["minimum"]["enum"] == ["AES256", "KMS", "customer-managed-key"]
    assert schemas["iam-policy-size"]["trustPolicyMaxChars"]["default"] == 2048


@pytest.mark.live_stacks
@pytest.mark.parametrize("env", ["dev", "prod", "local"])
def test_environment_config_files_match_the_schemas(pack_client: PolicyPackClient, env: str) -> None:
    config = json.loads((PACK_DIR / "config" / f"{env}.json").read_text())
    schemas = {p.name: p.config_schema.get("properties", {}) for p in pack_client.info().policies}
    assert set(config) == set(POLICY_NAMES), f"{env}.json must set every policy"
    for policy, entry in config.items():
        assert entry["enforcementLevel"] in ("mandatory", "advisory", "disabled")
        unknown = set(entry) - {"enforcementLevel"} - set(schemas[policy])
        assert not unknown, f"{env}.json sets {unknown} that {policy} does not read"


@pytest.mark.live_stacks
def test_prod_enforces_every_policy() -> None:
    config = json.loads((PACK_DIR / "config" / "prod.json").read_text())
    assert {e["enforcementLevel"] for e in config.values()} == {"mandatory"}


def test_the_pack_process_never_outlives_its_client() -> None:
    client = PolicyPackClient(PACK_DIR).start()
    process = client._process
    assert process is not None and process.poll() is None
    client.close()
    assert process.poll() is not None, "an orphaned pack process would hold a port and CPU"

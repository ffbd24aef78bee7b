"""The README's config reference is generated from the models, so docs and defaults can't drift."""

from devtools.config_docs import README, current_block, render


def test_readme_config_reference_matches_the_models():
    assert current_block(README.read_text()) == render(), (
        "README config reference is stale: run `venv/bin/python -m devtools.config_docs --write`")


def test_every_contract_key_is_documented():
    text = render()
    for key in ("organizations", "oidcProvider", "issuer", "accounts", "defaults", "scanOnPush", "imageTagMutability",
                "encryption", "kmsKey", "keepTagged", "keepLast", "untaggedExpireDays", "protect", "nodePullRoles",
                "namespace", "repositories", "pullAccounts", "pushAccounts", "roleName", "allowCreateRepositories",
                "branches", "tags", "environments", "pullRequests", "anyRef", "ecsServices", "passRoles"):
        assert f"`{key}`" in text, f"{key} is missing from the config reference"

"""Stack config validation: every bad value is one line naming its key path, before any resource."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.config import ConfigError, load_settings

from .conftest import base_config


def with_change(path: str, value: Any) -> dict[str, Any]:
    """The base config with the value at a dotted path (list indexes as numbers) replaced."""
    config = copy.deepcopy(base_config())
    *parents, last = path.split(".")
    node: Any = config
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return config


def problems(config: dict[str, Any], stack: str = "dev") -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_settings(config, stack)
    return raised.value.problems


BAD_VALUES = [
    # (what is wrong, path to change, bad value, the key path the message must name, a word of the fix)
    ("unknown top-level key", "team", {}, "team:", 'did you mean "teams"'),
    ("unknown team key", "teams.payments.reposotories", [], "teams.payments.reposotories", "repositories"),
    ("repository not owner/repo", "teams.payments.github.0.repository", "acme", "teams.payments.github[0].repository",
     "<owner>/<repo>"),
    ("github entry with no refs", "teams.payments.github.0", {"repository": "acme/x"}, "teams.payments.github[0]",
     "anyRef"),
    ("owner outside organizations", "teams.payments.github.0", {"repository": "evil/x", "branches": ["main"]},
     "teams.payments.github[0].repository", "github.organizations"),
    ("uppercase repository name", "teams.payments.repositories.0", "API", "teams.payments.repositories[0]",
     "lowercase"),
    ("repository name with a space", "teams.payments.repositories.0", "my api", "teams.payments.repositories[0]",
     "ECR repository name"),
    ("repository name too long", "teams.payments.repositories.0", "a" * 260, "teams.payments.repositories[0]",
     "2-256"),
    ("account id not 12 digits", "accounts.prod-cluster", "12345", "accounts.prod-cluster", "12-digit"),
    ("account id as a short number", "accounts.prod-cluster", 12345, "accounts.prod-cluster", "quote"),
    ("pull account not in accounts", "teams.payments.pullAccounts", ["staging"], "teams.payments.pullAccounts[0]",
     "accounts"),
    ("push account not in accounts", "teams.payments.pushAccounts", ["nope"], "teams.payments.pushAccounts[0]",
     "accounts"),
    ("bad tag mutability", "teams.payments.imageTagMutability", "SOMETIMES", "teams.payments.imageTagMutability",
     "IMMUTABLE"),
    ("scanOnPush not a boolean", "defaults.scanOnPush", "maybe", "defaults.scanOnPush", "true or false"),
    ("kmsKey with AES256", "defaults.encryption", {"type": "AES256", "kmsKey": "alias/ecr"}, "defaults.encryption",
     "type: KMS"),
    ("unknown encryption type", "defaults.encryption", {"type": "ROT13"}, "defaults.encryption.type", "AES256"),
    ("lifecycle count zero", "defaults.lifecycle", {"keepTagged": [{"tagPrefixes": ["v"], "count": 0}]},
     "defaults.lifecycle.keepTagged[0].count", "1"),
    ("keepTagged with prefixes and patterns", "defaults.lifecycle",
     {"keepTagged": [{"tagPrefixes": ["v"], "tagPatterns": ["v*"], "count": 3}]}, "defaults.lifecycle.keepTagged[0]",
     "exactly one"),
    ("bad namespace", "teams.payments.namespace", "Pay/Ments", "teams.payments.namespace", "namespace"),
    ("bad role name", "teams.payments.roleName", "has spaces in it", "teams.payments.roleName", "IAM role name"),
    ("bad ECS service ARN", "teams.payments.deploy", {"ecsServices": ["arn:aws:ecs:*:*:service/*"]},
     "teams.payments.deploy.ecsServices", "service/<cluster>/<service>"),
    ("wildcard pass role", "teams.payments.deploy", {"passRoles": ["arn:aws:iam::210987654321:role/*"]},
     "teams.payments.deploy.passRoles", "no wildcards"),
    ("bad oidcProvider", "github.oidcProvider", "maybe", "github", "create, existing"),
    ("organizations empty", "github.organizations", [], "github.organizations", "at least 1"),
    ("anyRef and branches", "teams.payments.github.0",
     {"repository": "acme/x", "anyRef": True, "branches": ["main"]}, "teams.payments.github[0]", "anyRef"),
    ("team with no repositories", "teams.payments.repositories", [], "teams.payments.repositories",
     "allowCreateRepositories"),
    ("create without namespace", "teams.payments.namespace", "", None, None),
    ("team name not usable", "teams.Payments_Team", {"repositories": ["x"]}, "teams.Payments_Team", "lowercase"),
    ("node pull role name", "nodePullRoles", ["bad role"], "nodePullRoles", "IAM role name"),
    ("environment name", "environment", "Prod Env", "environment", "environment name"),
    ("no teams", "teams", {}, "teams", "at least 1"),
    ("branch with a colon", "teams.payments.github.0", {"repository": "acme/x", "branches": ["a:b"]},
     "teams.payments.github[0].branches", "ref"),
]


@pytest.mark.parametrize(("case", "path", "value", "key_path", "fix"),
                         [c for c in BAD_VALUES if c[3]], ids=[c[0] for c in BAD_VALUES if c[3]])
def test_bad_value_is_one_clear_line_naming_the_path(case, path, value, key_path, fix):
    found = problems(with_change(path, value))
    matching = [p for p in found if p.startswith(key_path)]
    assert matching, f"{case}: no message names {key_path!r}; got {found}"
    assert any(fix.lower() in p.lower() for p in matching), f"{case}: message does not say how to fix: {matching}"
    assert all("\n" not in p and "Traceback" not in p for p in found)


def test_a_one_letter_repository_needs_a_namespace():
    config = with_change("teams.payments.repositories", ["x"])
    assert load_settings(config, "dev").teams[0].repositories[0].name == "payments/x"
    config["teams"]["payments"]["namespace"] = ""
    assert problems(config) == ['teams.payments.repositories[0]: "x" is not a valid ECR repository name '
                                "(2-256 characters of lowercase letters, digits, . _ - separated by /)"]


def test_create_repositories_needs_a_namespace():
    config = with_change("teams.payments.namespace", "")
    config["teams"]["payments"]["allowCreateRepositories"] = True
    assert any(p.startswith("teams.payments.allowCreateRepositories") and "namespace" in p for p in problems(config))


def test_duplicate_repository_across_teams_is_named_in_both_places():
    config = base_config()
    config["teams"]["orders"] = {"namespace": "payments", "repositories": ["api"]}
    found = problems(config)
    assert any('"payments/api" is a duplicate repository' in p and "teams.payments" in p for p in found), found


def test_a_namespace_inside_another_teams_namespace_is_refused():
    config = base_config()
    config["teams"]["ledger"] = {"namespace": "payments/ledger", "repositories": ["api"]}
    found = problems(config)
    assert any(p.startswith("teams.ledger.namespace") and "payments could push" in p for p in found), found


def test_an_unprefixed_repository_inside_a_namespace_is_refused():
    config = base_config()
    config["teams"]["tools"] = {"namespace": "", "repositories": ["payments/cli"]}
    assert any(p.startswith("teams.tools.repositories") for p in problems(config))


def test_a_github_repository_pushes_for_one_team_only():
    config = base_config()
    config["teams"]["orders"] = {"repositories": ["api"],
                                 "github": [{"repository": "acme/payments-api", "tags": ["v*"]}]}
    assert any(p.startswith("teams.orders.github[0].repository") and "teams.payments" in p for p in problems(config))


def test_trust_policy_over_the_quota_is_caught_before_deploy():
    config = base_config()
    config["teams"]["payments"]["github"] = [
        {"repository": f"acme/service-{i:03d}", "branches": ["main", "release"], "environments": ["production"]}
        for i in range(30)
    ]
    found = problems(config)
    assert any(p.startswith("teams.payments.github") and "2048" in p and "trustPolicyMaxChars" in p for p in found)


def test_a_raised_trust_policy_quota_is_honoured():
    config = base_config()
    config["github"]["trustPolicyMaxChars"] = 8192
    config["teams"]["payments"]["github"] = [{"repository": f"acme/s-{i}", "branches": ["main"]} for i in range(40)]
    assert load_settings(config, "dev").teams[0].github


def test_every_problem_is_reported_at_once():
    config = base_config()
    config["teams"]["payments"]["pullAccounts"] = ["nope"]
    config["teams"]["payments"]["github"] = [{"repository": "evil/x", "branches": ["main"]}]
    assert len(problems(config)) == 2


def test_owner_match_is_case_insensitive_like_github():
    config = with_change("teams.payments.github.0", {"repository": "ACME/payments-api", "branches": ["main"]})
    assert load_settings(config, "dev").teams[0].github[0].repository == "ACME/payments-api"


def test_layering_builtin_then_defaults_then_team_then_repository():
    config = base_config()
    config["defaults"] = {"imageTagMutability": "MUTABLE", "lifecycle": {"untaggedExpireDays": 3, "keepLast": 50},
                          "encryption": {"type": "KMS", "kmsKey": "alias/ecr"}}
    config["teams"]["payments"]["lifecycle"] = {"keepLast": 20}
    config["teams"]["payments"]["repositories"] = [
        "api", {"name": "worker", "imageTagMutability": "IMMUTABLE", "lifecycle": {"untaggedExpireDays": 1}}]
    api, worker = load_settings(config, "dev").teams[0].repositories
    assert api.scan_on_push is True and api.protect is True, "built-in safe defaults apply when nobody overrides"
    assert api.image_tag_mutability == "MUTABLE" and api.encryption.kms_key == "alias/ecr", "defaults apply"
    assert (api.lifecycle.untagged_expire_days, api.lifecycle.keep_last) == (3, 20), "team overrides one field only"
    assert worker.image_tag_mutability == "IMMUTABLE", "repository overrides the defaults"
    assert (worker.lifecycle.untagged_expire_days, worker.lifecycle.keep_last) == (1, 20)


def test_environment_defaults_to_the_stack_name():
    assert load_settings(base_config(), "staging").environment == "staging"


def test_quoted_and_unquoted_twelve_digit_accounts_are_the_same():
    config = with_change("accounts.prod-cluster", 333333333333)
    assert load_settings(config, "dev").teams[0].pull_account_ids == ("333333333333",)


def test_type_errors_and_reference_errors_are_reported_in_one_round():
    config = base_config()
    config["teams"]["payments"]["repositories"] = ["api", "API"]
    config["teams"]["payments"]["pullAccounts"] = ["staging"]
    config["teams"]["payments"]["github"] = [{"repository": "acme"}, {"repository": "evil/x", "branches": ["main"]}]
    found = problems(config)
    assert any(p.startswith("teams.payments.github[0].repository") for p in found), found
    assert any(p.startswith("teams.payments.repositories[1]") for p in found), found
    assert any(p.startswith("teams.payments.pullAccounts[0]") for p in found), found
    assert any(p.startswith("teams.payments.github[1].repository") and '"evil"' in p for p in found), (
        "a reference problem after a removed list item keeps the index the user wrote")

"""ECR 2025-26 features (issue 26): managed signing, archive, pull-time exclusions, account settings."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError, load_settings
from engine.program import ProgramRun, run_stack
from review.iam_eval import Effect, PolicyDocument, Request, evaluate

from .conftest import ACCOUNT, REGION, base_config

ROOT = Path(__file__).resolve().parents[2]
SIGNING_CONFIGURATION = "aws-native:ecr:SigningConfiguration"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
VENDOR_PROFILE = f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/vendor_release"


def profile_arn(name: str) -> str:
    return f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/{name}"


def problems(config: dict[str, Any], stack: str = "dev") -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_settings(config, stack)
    return raised.value.problems


def two_teams() -> dict[str, Any]:
    """payments (namespace) and web (no namespace), each with its own GitHub repository."""
    config = base_config()
    config["teams"]["web"] = {"namespace": "", "repositories": ["storefront"],
                              "github": [{"repository": "acme/storefront", "branches": ["main"]}]}
    return config


def signing_rules(run: ProgramRun) -> list[dict[str, Any]]:
    (configuration,) = run.of_type(SIGNING_CONFIGURATION)
    return configuration.inputs["rules"]


def covered(name: str, rules: list[dict[str, Any]]) -> bool:
    return any("repositoryFilters" not in rule
               or any(fnmatch.fnmatchcase(name, f["filter"]) for f in rule["repositoryFilters"]) for rule in rules)


def push_document(run: ProgramRun, team: str) -> PolicyDocument:
    return PolicyDocument.parse(json.loads(run.named(ROLE_POLICY, f"{team}-push").inputs["policy"]))


# --- under mocks: examples/everything.yaml builds every feature ---------------------------------------


@pytest.fixture(scope="module")
def everything() -> ProgramRun:
    return run_stack("everything", config_file=ROOT / "examples" / "everything.yaml")


def test_everything_builds_a_signing_configuration_through_its_own_aws_native_provider(everything):
    (provider,) = everything.of_type("pulumi:providers:aws-native")
    assert provider.inputs["region"] == everything.config["aws:region"], "aws-native must sign in the stack's region"
    assert signing_rules(everything), "no signing rule: pushed images would not be signed"
    profile = everything.named("aws:signer/signingProfile:SigningProfile", "signing-staging_release")
    assert profile.inputs["platformId"] == "Notation-OCI-SHA384-ECDSA"


def test_everything_builds_pull_time_exclusions_and_account_settings(everything):
    exclusions = everything.of_type("aws:ecr/pullTimeUpdateExclusion:PullTimeUpdateExclusion")
    assert [e.inputs["principalArn"] for e in exclusions] == ["arn:aws:iam::460000000006:role/trivy-scanner"]
    declared = everything.of_type("aws:ecr/accountSetting:AccountSetting")
    assert {s.inputs["name"]: s.inputs["value"] for s in declared} == {
        "REGISTRY_POLICY_SCOPE": "V2", "BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE", "BLOB_MOUNTING": "ENABLED"}


def test_everything_archives_with_a_lifecycle_transition(everything):
    policy = json.loads(everything.named("aws:ecr/lifecyclePolicy:LifecyclePolicy", "payments/api-lifecycle")
                        .inputs["policy"])
    actions = [rule["action"] for rule in policy["rules"]]
    assert {"type": "transition", "targetStorageClass": "archive"} in actions
    archived = [r for r in policy["rules"] if r["selection"].get("storageClass") == "archive"]
    assert archived and all(r["selection"]["countNumber"] >= 90 for r in archived), "ECR refuses under 90 days"


# --- signing: who is covered, who may sign with what -------------------------------------------------


def test_one_environment_profile_covers_every_repository_with_one_rule(run):
    config = two_teams()
    config["registry"] = {"signing": {"profiles": {"prod_release": {}}, "default": "prod_release"}}
    result = run(config, stack="prod")
    rules = signing_rules(result)
    assert rules == [{"signingProfileArn": profile_arn("prod_release")}], "one rule, no filters: every repository"
    for repository in result.of_type("aws:ecr/repository:Repository"):
        assert covered(repository.inputs["name"], rules), f"{repository.inputs['name']} would push unsigned"


def test_per_team_profiles_get_one_filtered_rule_each(run):
    config = two_teams()
    config["registry"] = {"signing": {"profiles": {"payments_release": {}, "vendor_release": {"arn": VENDOR_PROFILE}},
                                      "teams": {"payments": "payments_release", "web": "vendor_release"}}}
    result = run(config)
    rules = signing_rules(result)
    assert rules == [
        {"signingProfileArn": profile_arn("payments_release"),
         "repositoryFilters": [{"filter": "payments/*", "filterType": "WILDCARD_MATCH"}]},
        {"signingProfileArn": VENDOR_PROFILE,
         "repositoryFilters": [{"filter": "storefront", "filterType": "WILDCARD_MATCH"}]},
    ]
    assert len(result.of_type("aws:signer/signingProfile:SigningProfile")) == 1, "a referenced profile is not created"


def test_iam_evaluation_lets_each_push_role_sign_with_its_profile_and_no_other(run):
    config = two_teams()
    config["registry"] = {"signing": {"profiles": {"payments_release": {}, "vendor_release": {"arn": VENDOR_PROFILE}},
                                      "teams": {"payments": "payments_release", "web": "vendor_release"}}}
    result = run(config)
    own = {"payments": profile_arn("payments_release"), "web": VENDOR_PROFILE}
    for team, profile in own.items():
        document = push_document(result, team)
        assert evaluate([document], Request("signer:SignPayload", profile)).effect == Effect.ALLOW, (
            f"{team}'s pushes would fail: ECR signs as the pusher")
        for other, other_profile in own.items():
            if other != team:
                assert evaluate([document], Request("signer:SignPayload", other_profile)).effect == Effect.NONE, (
                    f"{team} could sign images as {other}")


def test_unsigned_teams_get_no_signer_rights(run):
    config = two_teams()
    config["registry"] = {"signing": {"profiles": {"payments_release": {}}, "teams": {"payments": "payments_release"}}}
    result = run(config)
    assert evaluate([push_document(result, "web")], Request("signer:SignPayload", "*")).effect == Effect.NONE
    assert not covered("storefront", signing_rules(result))


def test_every_prod_like_stack_signs_every_repository():
    for path in sorted(ROOT.glob("Pulumi.*.yaml")):
        result = run_stack(path.name.split(".")[1], config_file=path)
        if result.config.get("ecr-platform:environment") != "prod":
            continue
        rules = signing_rules(result)
        for repository in result.of_type("aws:ecr/repository:Repository"):
            assert covered(repository.inputs["name"], rules), f"{path.name}: {repository.inputs['name']} is unsigned"


# --- bad values stop with one line at the key path -----------------------------------------------


@pytest.mark.parametrize(("registry", "path", "phrase"), [
    ({"signing": {"profiles": {"rel": {"arn": "arn:aws:iam::210987654321:role/x"}}, "default": "rel"}},
     "registry.signing.profiles.rel.arn", "is not a Signer profile ARN"),
    ({"signing": {"profiles": {"rel": {}}, "default": "other"}}, "registry.signing.default", "is not a profile"),
    ({"signing": {"profiles": {"rel": {}}}}, "registry.signing.default", "signs nothing"),
    ({"signing": {"profiles": {"rel": {}}, "teams": {"paymnts": "rel"}}}, "registry.signing.teams.paymnts",
     'did you mean "payments"?'),
    ({"signing": {"profiles": {"r-1": {}}, "default": "r-1"}}, "registry.signing.profiles.r-1", "Signer profile name"),
    ({"signing": {"profiles": {"rel": {"arn": VENDOR_PROFILE, "signatureValidityMonths": 12}}, "default": "rel"}},
     "registry.signing.profiles.rel.signatureValidityMonths", "only applies to a profile the stack creates"),
    ({"pullTimeUpdateExclusions": ["trivy"]}, "registry.pullTimeUpdateExclusions[0]", "is not an IAM role or user"),
    ({"accountSettings": {"basicScanTypeVersion": "CLAIR"}}, "registry.accountSettings.basicScanTypeVersion",
     "is not allowed"),
    ({"accountSettings": {"registryPolicyScope": "V3"}}, "registry.accountSettings.registryPolicyScope",
     "is not allowed"),
])
def test_bad_registry_values_name_their_key(registry, path, phrase):
    config = base_config()
    config["registry"] = registry
    found = problems(config)
    assert len(found) == 1 and found[0].startswith(f"{path}:") and phrase in found[0], found


def test_more_than_ten_signing_profiles_are_refused():
    config = base_config()
    config["teams"] = {f"team{i}": {"repositories": ["app"]} for i in range(11)}
    config.pop("github")
    config["registry"] = {"signing": {"profiles": {f"p{i}x": {} for i in range(11)},
                                      "teams": {f"team{i}": f"p{i}x" for i in range(11)}}}
    assert any(p.startswith("registry.signing:") and "at most 10" in p for p in problems(config))


def test_prod_refuses_a_signing_configuration_that_leaves_a_team_unsigned():
    config = two_teams()
    config["registry"] = {"signing": {"profiles": {"rel": {}}, "teams": {"payments": "rel"}}}
    assert problems(config, "prod") == ["registry.signing: teams web are not signed; in prod every team repository "
                                        "is signed: set default, or list them under teams"]
    load_settings(config, "dev")  # dev may sign some teams only


@pytest.mark.parametrize(("lifecycle", "path", "phrase"), [
    ({"archive": [{"tagPatterns": ["build-*"], "daysWithoutPull": 30}], "archivedExpireDays": 30},
     "defaults.lifecycle.archivedExpireDays", "below the minimum of 90"),
    ({"archive": [{"tagPatterns": ["build-*"], "daysWithoutPull": 0}]}, "defaults.lifecycle.archive[0].daysWithoutPull",
     "below the minimum of 1"),
    ({"archive": [{"tagPatterns": ["build-*"]}]}, "defaults.lifecycle.archive[0]", "daysWithoutPull or daysSincePush"),
    ({"archive": [{"tagPatterns": ["b*"], "daysWithoutPull": 3, "daysSincePush": 3}]}, "defaults.lifecycle.archive[0]",
     "exactly one of daysWithoutPull"),
    ({"archivedExpireDays": 120}, "defaults.lifecycle.archivedExpireDays", "no archive rule"),
    ({"keepTagged": [{"tagPrefixes": ["v"], "count": 5}], "archive": [{"tagPatterns": ["v1*"], "daysSincePush": 9}]},
     "defaults.lifecycle.archive[0]", "keepTagged[0] keeps pullable"),
])
def test_bad_archive_values_name_their_key(lifecycle, path, phrase):
    config = base_config()
    config["defaults"] = {"lifecycle": lifecycle}
    found = problems(config)
    assert len(found) == 1 and found[0].startswith(f"{path}:") and phrase in found[0], found


def test_archive_from_a_team_may_not_take_what_defaults_keep():
    config = base_config()
    config["defaults"] = {"lifecycle": {"keepTagged": [{"tagPrefixes": ["v"], "count": 5}]}}
    config["teams"]["payments"]["lifecycle"] = {"archive": [{"tagPrefixes": ["v2"], "daysWithoutPull": 60}]}
    found = problems(config)
    assert found and all(p.startswith("teams.payments.repositories[") and "keepTagged[0]" in p for p in found), found


def test_archive_beside_keeps_is_declared_after_them(run, config):
    config["defaults"] = {"lifecycle": {"keepTagged": [{"tagPrefixes": ["v"], "count": 5}], "untaggedExpireDays": 3,
                                        "archive": [{"tagPrefixes": ["build-"], "daysWithoutPull": 30}],
                                        "archivedExpireDays": 90}}
    policy = json.loads(run(config).named("aws:ecr/lifecyclePolicy:LifecyclePolicy", "payments/api-lifecycle")
                        .inputs["policy"])
    kinds = [(r["action"]["type"], r["selection"]["countType"], r["selection"].get("storageClass"))
             for r in policy["rules"]]
    assert kinds == [("expire", "imageCountMoreThan", None), ("transition", "sinceImagePulled", "standard"),
                     ("expire", "sinceImageTransitioned", "archive"), ("expire", "sinceImagePushed", None)]

"""Registry-wide features and role knobs (issue 7): validated, and declared as AWS expects."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError, load_settings

from .conftest import base_config

DOCKER_SECRET = "arn:aws:secretsmanager:us-west-2:210987654321:secret:ecr-pullthroughcache/docker-hub-AbCdEf"


def problems(config) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_settings(config, "prod")
    return raised.value.problems


def test_replication_to_a_named_account_and_another_region(run, config):
    config["accounts"]["dr"] = "999999999999"
    config["registry"] = {"replication": {"rules": [
        {"destinations": [{"region": "us-east-1"}, {"region": "eu-west-1", "account": "dr"}],
         "repositoryPrefixes": ["payments/"]}]}}
    replication = run(config).of_type("aws:ecr/replicationConfiguration:ReplicationConfiguration")[0].inputs
    rule = replication["replicationConfiguration"]["rules"][0]
    assert rule["destinations"] == [{"region": "us-east-1", "registryId": "210987654321"},
                                    {"region": "eu-west-1", "registryId": "999999999999"}]
    assert rule["repositoryFilters"] == [{"filter": "payments/", "filterType": "PREFIX_MATCH"}]


def test_replication_refuses_unknown_accounts_and_too_many_rules():
    config = base_config()
    config["registry"] = {"replication": {"rules": [{"destinations": [{"region": "us-east-1", "account": "x"}]}]}}
    assert any(p.startswith("registry.replication.rules[0].destinations[0].account") for p in problems(config))
    config["registry"] = {"replication": {"rules": [{"destinations": [{"region": "us-east-1"}]}] * 11}}
    assert any(p.startswith("registry.replication.rules") and "10" in p for p in problems(config))


def test_enhanced_scanning_is_declared_as_configured(run, config):
    config["registry"] = {"scanning": {"scanType": "ENHANCED", "rules": [
        {"frequency": "CONTINUOUS_SCAN", "filters": ["payments/*"]}, {"frequency": "SCAN_ON_PUSH"}]}}
    scanning = run(config).of_type("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")[0].inputs
    assert scanning["scanType"] == "ENHANCED"
    assert scanning["rules"][0] == {"scanFrequency": "CONTINUOUS_SCAN",
                                    "repositoryFilters": [{"filter": "payments/*", "filterType": "WILDCARD"}]}
    assert scanning["rules"][1]["repositoryFilters"] == [{"filter": "*", "filterType": "WILDCARD"}]


def test_basic_scanning_cannot_scan_continuously():
    config = base_config()
    config["registry"] = {"scanning": {"rules": [{"frequency": "CONTINUOUS_SCAN"}]}}
    assert any(p.startswith("registry.scanning") and "ENHANCED" in p for p in problems(config))


def test_scanning_must_cover_namespaces_ci_creates_in():
    config = base_config()
    config["teams"]["payments"]["allowCreateRepositories"] = True
    config["registry"] = {"scanning": {"rules": [{"frequency": "SCAN_ON_PUSH", "filters": ["other/*"]}]}}
    assert any(p.startswith("registry.scanning") and '"payments/*"' in p for p in problems(config))


def test_no_registry_scanning_is_declared_unless_needed(run, config):
    assert not run(config).of_type("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")


def test_pull_through_cache_rules_and_node_rights(run, config):
    config["nodePullRoles"] = ["eks-node"]
    config["registry"] = {"pullThroughCache": {
        "docker-hub": {"upstream": "docker-hub", "credentialArn": DOCKER_SECRET},
        "ecr-public": {"upstream": "public-ecr"}}}
    run_ = run(config)
    rules = {r.inputs["ecrRepositoryPrefix"]: r.inputs for r in run_.of_type(
        "aws:ecr/pullThroughCacheRule:PullThroughCacheRule")}
    assert rules["docker-hub"]["upstreamRegistryUrl"] == "registry-1.docker.io"
    assert rules["docker-hub"]["credentialArn"] == DOCKER_SECRET
    assert rules["ecr-public"]["upstreamRegistryUrl"] == "public.ecr.aws"
    statements = json.loads(run_.of_type("aws:iam/policy:Policy")[0].inputs["policy"])["Statement"]
    cache = next(s for s in statements if s["Sid"] == "PullThroughCache")
    assert "ecr:BatchImportUpstreamImage" in cache["Action"] and "ecr:PutImage" not in cache["Action"]
    assert "arn:aws:ecr:us-west-2:210987654321:repository/docker-hub/*" in cache["Resource"]


@pytest.mark.parametrize(("cache", "words"), [
    ({"upstream": "docker-hub"}, "needs credentialArn"),
    ({"upstream": "ghcr", "credentialArn": "arn:aws:secretsmanager:us-west-2:210987654321:secret:mine"},
     "ecr-pullthroughcache/"),
    ({"upstream": "not a host"}, "neither a known upstream"),
])
def test_pull_through_cache_mistakes(cache, words):
    config = base_config()
    config["registry"] = {"pullThroughCache": {"mirror": cache}}
    found = problems(config)
    assert any(p.startswith("registry.pullThroughCache.mirror") and words in p for p in found), found


def test_cache_prefix_may_not_take_a_team_namespace():
    config = base_config()
    config["registry"] = {"pullThroughCache": {"payments": {"upstream": "quay"}}}
    assert any(p.startswith("registry.pullThroughCache.payments") for p in problems(config))


def test_role_knobs_layer_from_defaults_to_team(run, config):
    boundary = "arn:aws:iam::210987654321:policy/platform-boundary"
    config["defaults"] = {"maxSessionDuration": 7200, "permissionsBoundary": boundary, "rolePath": "/ci/"}
    config["teams"]["payments"]["maxSessionDuration"] = 3600
    run_ = run(config)
    role = run_.named("aws:iam/role:Role", "payments").inputs
    assert (role["maxSessionDuration"], role["permissionsBoundary"], role["path"]) == (3600, boundary, "/ci/")
    assert run_.outputs["pushRoleArns"]["payments"] == "arn:aws:iam::210987654321:role/ci/github-push-payments"
    variables = run_.outputs["githubActionsVariables"]["acme/payments-api"]
    assert variables["AWS_ROLE_ARN"] == run_.outputs["pushRoleArns"]["payments"], "the variable must match the role"


@pytest.mark.parametrize(("knob", "value", "words"), [
    ("maxSessionDuration", 60, "minimum of 3600"),
    ("maxSessionDuration", 50000, "maximum of 43200"),
    ("permissionsBoundary", "boundary", "policy ARN"),
    ("rolePath", "ci", "IAM path"),
])
def test_role_knob_mistakes(knob, value, words):
    config = base_config()
    config["teams"]["payments"][knob] = value
    assert any(p.startswith(f"teams.payments.{knob}") and words in p for p in problems(config))


def test_tag_mutability_exclusions_reach_the_repository_and_template(run, config):
    config["teams"]["payments"].update(imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
                                       tagMutabilityExclusions=["latest", "dev-*"], allowCreateRepositories=True)
    run_ = run(config)
    api = run_.named("aws:ecr/repository:Repository", "payments/api").inputs
    assert api["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert api["imageTagMutabilityExclusionFilters"] == [{"filter": "latest", "filterType": "WILDCARD"},
                                                         {"filter": "dev-*", "filterType": "WILDCARD"}]
    worker = run_.named("aws:ecr/repository:Repository", "payments/worker").inputs
    assert worker["imageTagMutability"] == "MUTABLE" and "imageTagMutabilityExclusionFilters" not in worker
    template = run_.of_type("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")[0].inputs
    assert len(template["imageTagMutabilityExclusionFilters"]) == 2


def test_exclusions_need_a_with_exclusion_mode_and_vice_versa():
    config = base_config()
    config["defaults"] = {"imageTagMutability": "IMMUTABLE", "tagMutabilityExclusions": ["latest"]}
    assert any(p.startswith("defaults") and "_WITH_EXCLUSION" in p for p in problems(config))
    config["defaults"] = {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"}
    assert any("needs tagMutabilityExclusions" in p for p in problems(config))


def test_github_variables_are_off_by_default(run, config):
    assert not [r for r in run(config).resources if r.type.startswith("github:")]


def test_github_variables_per_repository_and_per_environment(run, config):
    config["github"]["manageVariables"] = True
    config["teams"]["payments"]["github"] = [
        {"repository": "acme/payments-api", "branches": ["main"]},
        {"repository": "acme/payments-deploy", "environments": ["production"], "reviewers": {"teams": [42]}},
        {"repository": "acme/*", "tags": ["v*"]},
    ]
    run_ = run(config)
    expected = run_.outputs["githubActionsVariables"]
    repo_vars = {(r.inputs["repository"], r.inputs["variableName"]): r.inputs["value"]
                 for r in run_.of_type("github:index/actionsVariable:ActionsVariable")}
    assert repo_vars == {("payments-api", k): v for k, v in expected["acme/payments-api"].items()}
    env_vars = {(r.inputs["repository"], r.inputs["environment"], r.inputs["variableName"]): r.inputs["value"]
                for r in run_.of_type("github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable")}
    assert env_vars == {("payments-deploy", "production", k): v for k, v in expected["acme/payments-deploy"].items()}
    environment = run_.of_type("github:index/repositoryEnvironment:RepositoryEnvironment")[0].inputs
    assert environment["reviewers"] == [{"teams": [42], "users": []}] and environment["preventSelfReview"] is True
    providers = [r for r in run_.resources if r.type == "pulumi:providers:github"]
    assert [p.inputs["owner"] for p in providers] == ["acme"]
    assert "token" not in providers[0].inputs, "the token comes from GITHUB_TOKEN, never from config"


def test_reviewers_need_environments():
    config = base_config()
    config["teams"]["payments"]["github"][0]["reviewers"] = {"users": [1]}
    assert any(p.startswith("teams.payments.github[0]") and "environments" in p for p in problems(config))

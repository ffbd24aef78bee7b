"""ecr-image-signing through the analyzer protocol: coverage where required, each role its own profile."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from rules.signing import MODELLED_TYPES

from engine.analyzer import Resource
from engine.program import run_stack

from .conftest import Guard, assert_violates, of_policy
from .fixtures import ACCOUNT, REGION, push_policy_document, repo_arn, repository, resource, role, role_policy
from .test_program_stacks import judge

POLICY = "ecr-image-signing"
SIGNING_CONFIGURATION = "aws-native:ecr:SigningConfiguration"
PAYMENTS = f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/payments_release"
SEARCH = f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/search_release"


def signing(*rules: dict[str, Any]) -> Resource:
    return resource(SIGNING_CONFIGURATION, "signing-configuration", {"rules": list(rules)})


def rule(profile: str, *filters: str) -> dict[str, Any]:
    out: dict[str, Any] = {"signingProfileArn": profile}
    if filters:
        out["repositoryFilters"] = [{"filter": f, "filterType": "WILDCARD_MATCH"} for f in filters]
    return out


def signs_with(profile: str, role_name: str = "github-push-payments", namespace: str = "payments") -> Resource:
    document = push_policy_document(namespace)
    document["Statement"].append({"Sid": "SignWithTeamProfile", "Effect": "Allow", "Action": "signer:SignPayload",
                                  "Resource": profile})
    return role_policy(document, role_name=role_name)


def two_teams(payments_profile: str = PAYMENTS) -> list[Resource]:
    return [
        repository("payments/api"), repository("search/indexer", team="search"),
        role(), signs_with(payments_profile),
        role("github-push-search", team="search"), signs_with(SEARCH, "github-push-search", "search"),
        signing(rule(PAYMENTS, "payments/*"), rule(SEARCH, "search/*")),
    ]


@pytest.fixture
def required(guard: Guard) -> Guard:
    return guard.configure(**{POLICY: {"requireSigning": True}})


def test_each_team_signing_with_its_own_profile_passes(required):
    assert of_policy(required.stack(two_teams()), POLICY, None) == []


def test_a_role_that_may_sign_with_another_teams_profile_is_refused(required):
    violation = assert_violates(required.stack(two_teams(payments_profile=SEARCH)), POLICY, "github-push-payments",
                                "search_release", "signs none of the repositories it can push to")
    assert "payments/api" in violation.message


def test_a_role_that_may_sign_with_any_profile_is_refused(required):
    resources = two_teams(payments_profile=f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/*")
    assert_violates(required.stack(resources), POLICY, "github-push-payments", "any Signer profile")


def test_signer_star_reaches_sign_payload(required):
    resources = two_teams()
    resources[3] = role_policy({"Version": "2012-10-17", "Statement": [
        *push_policy_document()["Statement"],
        {"Sid": "Signer", "Effect": "Allow", "Action": "signer:*", "Resource": SEARCH}]})
    assert_violates(required.stack(resources), POLICY, "search_release")


def test_an_environment_profile_shared_by_every_team_passes(required):
    resources = [r for r in two_teams(payments_profile=SEARCH) if r.type != SIGNING_CONFIGURATION]
    assert of_policy(required.stack([*resources, signing(rule(SEARCH))]), POLICY, None) == []


def test_an_uncovered_repository_is_refused_only_where_signing_is_required(guard):
    resources = [*two_teams(), repository("billing/api", team="billing")]
    assert not of_policy(guard.stack(resources), POLICY), "dev does not require signing"
    guard.configure(**{POLICY: {"requireSigning": True}})
    assert_violates(guard.stack(resources), POLICY, "billing/api", "not covered by any signing rule")


def test_a_namespace_ci_creates_in_must_be_covered(required):
    template = resource("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "billing-template",
                        {"prefix": "billing", "appliedFors": ["CREATE_ON_PUSH"]})
    assert_violates(required.stack([*two_teams(), template]), POLICY, "creation template 'billing'")
    covered = [r for r in two_teams() if r.type != SIGNING_CONFIGURATION]
    assert not of_policy(required.stack([*covered, template, signing(rule(PAYMENTS, "payments/*"),
                                                                      rule(SEARCH, "search/*", "billing/*"))]),
                         POLICY)


@pytest.mark.parametrize(("rules", "phrase"), [
    ([rule(PAYMENTS, f"team{i}/*") for i in range(11)], "has 11 rules; ECR accepts at most 10"),
    ([{"signingProfileArn": PAYMENTS, "repositoryFilters": []}], "empty repositoryFilters"),
])
def test_what_ecr_refuses_in_a_signing_configuration(guard, rules, phrase):
    assert_violates(guard.stack([repository(), signing(*rules)]), POLICY, phrase)


def test_new_modules_model_the_new_types():
    assert {SIGNING_CONFIGURATION, "aws:signer/signingProfile:SigningProfile"} <= MODELLED_TYPES


# --- the prod stack, judged with policy/config/prod.json ---------------------------------------------


@pytest.fixture(scope="module")
def prod() -> list[Resource]:
    return run_stack("prod").resources


def test_the_guard_refuses_the_prod_graph_with_its_signing_removed(pack_client, prod):
    unsigned = [r for r in copy.deepcopy(prod) if r.type != SIGNING_CONFIGURATION]
    violations = judge(pack_client, "prod", unsigned)
    names = [r.inputs["name"] for r in prod if r.type == "aws:ecr/repository:Repository"]
    for name in names:
        assert_violates(violations, POLICY, f"'{name}' is not covered by any signing rule")


def test_a_prod_push_role_widened_to_every_profile_is_refused(pack_client, prod):
    resources = copy.deepcopy(prod)
    policy = next(r for r in resources if r.type == "aws:iam/rolePolicy:RolePolicy" and r.name == "dc43-push")
    for props in (policy.inputs, policy.outputs):
        props["policy"] = props["policy"].replace("/signing-profiles/prod_release", "/signing-profiles/*")
    assert_violates(judge(pack_client, "prod", resources), POLICY, "any Signer profile")


def test_a_repository_arn_is_no_profile(required):
    # A SignPayload grant whose Resource is not a profile ARN reaches no profile: nothing to refuse here.
    resources = [*two_teams()[:3], signs_with(repo_arn("payments/api")), *two_teams()[4:]]
    assert of_policy(required.stack(resources), POLICY, None) == []

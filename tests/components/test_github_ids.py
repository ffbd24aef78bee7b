"""GitHub's immutable subjects (`repo:OWNER@OWNER_ID/REPO@REPO_ID:...`) and repository_id pinning (issue 22).

The trust policies are evaluated by the access review's IAM evaluator (`review/iam_eval.py`), which
knows nothing of how the builder writes them: a token is a set of claims, as GitHub mints it, and
the question is AWS's: may it assume the role.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.config import ConfigError, GitHubAccess, load_settings
from components.documents import compact_size, github_trust_policy, to_json
from review.iam_eval import Effect, PolicyDocument, Principal, Request, evaluate

from .conftest import base_config

ISSUER = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::210987654321:oidc-provider/{ISSUER}"
BEFORE = Path(__file__).parent / "data" / "trust_policies_before_ids.json"


def token(sub: str, repository_id: str, audience: str = "sts.amazonaws.com",
          workflow_ref: str = "acme/dc43/.github/workflows/ecr-push.yml@refs/heads/main") -> dict[str, list[str]]:
    """The claims AWS STS sees for a GitHub Actions token (the ones our trust policies can read)."""
    return {f"{ISSUER}:sub": [sub], f"{ISSUER}:aud": [audience], f"{ISSUER}:repository_id": [repository_id],
            f"{ISSUER}:job_workflow_ref": [workflow_ref]}


def may_assume(policy: dict, claims: dict[str, list[str]]) -> bool:
    decision = evaluate([PolicyDocument.parse(policy)],
                        Request("sts:AssumeRoleWithWebIdentity", "*", Principal("Federated", PROVIDER), claims))
    assert decision.effect in (Effect.ALLOW, Effect.NONE), f"every claim is known, so yes or no: {decision}"
    return decision.effect is Effect.ALLOW


def entry(**fields) -> GitHubAccess:
    return GitHubAccess.model_validate(fields)


WITH_IDS = entry(repository="acme@1000001/dc43@2000001", branches=["main"], environments=["release"])


def test_an_entry_with_ids_accepts_both_forms_of_its_own_tokens():
    policy = github_trust_policy(PROVIDER, ISSUER, [WITH_IDS])
    for sub in ("repo:acme@1000001/dc43@2000001:ref:refs/heads/main", "repo:acme/dc43:ref:refs/heads/main",
                "repo:acme@1000001/dc43@2000001:environment:release", "repo:acme/dc43:environment:release"):
        assert may_assume(policy, token(sub, "2000001")), f"{sub}: the repository's own workflow would be refused"


@pytest.mark.parametrize("claims, why", [
    (token("repo:acme/dc43:ref:refs/heads/main", "2999999"), "a re-created repository with the same name"),
    (token("repo:acme@1000001/dc43@2999999:ref:refs/heads/main", "2999999"), "the ID form of another repository"),
    (token("repo:acme@1999999/dc43@2000001:ref:refs/heads/main", "2000001"), "the ID form naming another owner"),
    (token("repo:acme@1000001/dc43@2000001:ref:refs/heads/dev", "2000001"), "another branch"),
    (token("repo:acme/dc43:ref:refs/heads/dev", "2000001"), "another branch, name form"),
    (token("repo:acme@1000001/dc43@2000001:ref:refs/heads/main", "2000001", audience="https://github.com/acme"),
     "another audience"),
    (token("repo:acme/other:ref:refs/heads/main", "2000001"), "another repository name"),
])
def test_an_entry_with_ids_refuses_every_other_token(claims, why):
    assert not may_assume(github_trust_policy(PROVIDER, ISSUER, [WITH_IDS]), claims), f"{why} could push"


def test_the_repository_id_pin_applies_to_its_own_repository_only():
    other = entry(repository="acme@1000001/web@3000003", branches=["main"])
    plain = entry(repository="acme/legacy", branches=["main"])
    policy = github_trust_policy(PROVIDER, ISSUER, [WITH_IDS, other, plain])
    assert may_assume(policy, token("repo:acme/legacy:ref:refs/heads/main", "4444")), "a name-only entry stays as today"
    assert not may_assume(policy, token("repo:acme/dc43:ref:refs/heads/main", "3000003")), (
        "dc43's subjects with web's ID: each pin must hold for its own repository's subjects only")
    assert not may_assume(policy, token("repo:acme@1000001/web@3000003:ref:refs/heads/main", "2000001"))
    sids = [s["Sid"] for s in policy["Statement"]]
    assert sids == ["GitHubActionsExactSubjects", "GitHubRepository2000001Exact", "GitHubRepository3000003Exact"]
    assert all(set(s["Condition"]) == {"StringEquals"} for s in policy["Statement"]), "no wildcard was added"


def test_patterns_and_exact_subjects_of_one_repository_each_carry_the_pin():
    policy = github_trust_policy(PROVIDER, ISSUER, [entry(repository="acme@1/dc43@2", branches=["main"],
                                                          tags=["v*"])])
    for statement in policy["Statement"]:
        assert statement["Condition"]["StringEquals"][f"{ISSUER}:repository_id"] == "2"
    assert may_assume(policy, token("repo:acme@1/dc43@2:ref:refs/tags/v1.2", "2"))
    assert not may_assume(policy, token("repo:acme@1/dc43@2:ref:refs/tags/v1.2", "3"))


def test_a_pinned_workflow_is_the_only_one_that_may_assume():
    pinned = entry(repository="acme@1/dc43@2", branches=["main"], tags=["v*"],
                   workflow=".github/workflows/release.yml")
    policy = github_trust_policy(PROVIDER, ISSUER, [pinned])
    main = "repo:acme@1/dc43@2:ref:refs/heads/main"
    assert may_assume(policy, token(main, "2", workflow_ref="acme/dc43/.github/workflows/release.yml@refs/heads/main"))
    assert may_assume(policy, token("repo:acme/dc43:ref:refs/tags/v2", "2",
                                    workflow_ref="acme/dc43/.github/workflows/release.yml@refs/tags/v2"))
    assert not may_assume(policy, token(main, "2", workflow_ref="acme/dc43/.github/workflows/ci.yml@refs/heads/main"))
    assert not may_assume(policy, token(main, "2", workflow_ref="evil/x/.github/workflows/release.yml@refs/heads/main"))
    exact = {s["Sid"]: s["Condition"] for s in policy["Statement"]}["GitHubRepository2WorkflowReleaseYmlExact"]
    assert exact["StringLike"][f"{ISSUER}:job_workflow_ref"] == [
        "acme/dc43/.github/workflows/release.yml@refs/heads/main",
        "acme/dc43/.github/workflows/release.yml@refs/tags/v*"], "StringLike only because a tag is a pattern"


def test_a_workflow_on_exact_refs_is_pinned_with_string_equals():
    policy = github_trust_policy(PROVIDER, ISSUER, [entry(repository="acme/dc43", branches=["main"],
                                                          workflow=".github/workflows/release.yml")])
    (statement,) = policy["Statement"]
    assert statement["Condition"]["StringEquals"][f"{ISSUER}:job_workflow_ref"] == \
        "acme/dc43/.github/workflows/release.yml@refs/heads/main"


def test_entries_without_ids_give_byte_identical_trust_policies():
    """Every team of the examples and stacks as the builder wrote them before IDs existed: no diff, no update."""
    before = json.loads(BEFORE.read_text())
    assert len(before) >= 10
    for where, case in before.items():
        accesses = [GitHubAccess.model_validate(e) for e in case["github"]]
        provider = f"arn:aws:iam::123456789012:oidc-provider/{case['issuer']}"
        assert to_json(github_trust_policy(provider, case["issuer"], accesses)) == case["trustPolicy"], where


# --- config --------------------------------------------------------------------------------------------


def problems_of(repository: str, **more) -> list[str]:
    config = base_config()
    config["teams"]["payments"]["github"] = [{"repository": repository, "branches": ["main"], **more}]
    with pytest.raises(ConfigError) as raised:
        load_settings(config, "dev")
    return raised.value.problems


def test_the_immutable_form_is_accepted_and_keeps_the_name_for_variables():
    config = base_config()
    config["teams"]["payments"]["github"] = [{"repository": "acme@1000001/payments-api@2000001", "branches": ["main"]}]
    (access,) = load_settings(config, "dev").teams[0].github
    assert (access.name, access.owner, access.repository_id) == ("acme/payments-api", "acme", "2000001")


@pytest.mark.parametrize("value", ["acme@x/dc43@2", "acme@0/dc43@2", "acme@1/dc43", "acme/dc43@2", "acme@1/dc43@-2",
                                   "acme@1@2/dc43@3", "acme@/dc43@"])
def test_a_malformed_id_is_one_problem_that_says_how_to_get_the_ids(value):
    (problem,) = problems_of(value)
    assert problem.startswith("teams.payments.github[0].repository: "), problem
    assert "gh api repos/acme/dc43 --jq '.owner.id, .id'" in problem, problem


def test_an_organisation_wide_entry_cannot_carry_ids():
    (problem,) = problems_of("acme@1/*")
    assert "no repository ID to pin" in problem


def test_the_owner_allow_list_compares_the_owner_name():
    (problem,) = problems_of("other@1/dc43@2")
    assert 'owner "other"' in problem and "github.organizations" in problem


def test_the_same_repository_id_under_two_teams_is_refused():
    config = base_config()
    config["teams"]["payments"]["github"] = [{"repository": "acme@1/payments-api@2", "branches": ["main"]}]
    config["teams"]["billing"] = {"repositories": ["api"],
                                  "github": [{"repository": "acme@1/renamed@2", "branches": ["main"]}]}
    with pytest.raises(ConfigError) as raised:
        load_settings(config, "dev")
    assert any("teams.billing.github[0].repository" in p and "teams.payments" in p for p in raised.value.problems)


@pytest.mark.parametrize("workflow", ["release.yml", ".github/workflows/", "../x.yml", ".github/workflows/a/b.yml"])
def test_a_workflow_must_be_a_workflow_file(workflow):
    (problem,) = problems_of("acme/dc43", workflow=workflow)
    assert problem.startswith("teams.payments.github[0].workflow: "), problem


def test_the_quota_check_counts_both_forms():
    config = base_config()
    branches = [f"release-{i:02d}" for i in range(20)]
    config["teams"]["payments"]["github"] = [{"repository": "acme/payments-api", "branches": branches}]
    load_settings(config, "dev")  # fits with one form
    config["teams"]["payments"]["github"][0]["repository"] = "acme@1000001/payments-api@2000001"
    with pytest.raises(ConfigError) as raised:
        load_settings(config, "dev")
    (problem,) = raised.value.problems
    assert problem.startswith("teams.payments.github: the push role's trust policy would be") and "2048" in problem
    size = int(problem.split("would be ")[1].split(" ")[0])
    entries = [GitHubAccess.model_validate(config["teams"]["payments"]["github"][0])]
    provider = f"arn:aws:iam::000000000000:oidc-provider/{ISSUER}"
    assert size == compact_size(github_trust_policy(provider, ISSUER, entries)), "the size IAM would count"


# --- every token GitHub would mint, and no other ---------------------------------------------------------

_NAME = st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True)
_ID = st.integers(min_value=1, max_value=10**12).map(str)
_REF = st.from_regex(r"[a-z][a-z0-9._/-]{0,10}[a-z0-9]", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(owner=_NAME, repo=_NAME, owner_id=_ID, repo_id=_ID, other_id=_ID, branches=st.lists(_REF, min_size=1,
       max_size=3, unique=True), tags=st.lists(_REF, max_size=2, unique=True), asked=_REF)
def test_a_role_accepts_exactly_the_tokens_github_mints_for_the_entry(owner, repo, owner_id, repo_id, other_id,
                                                                       branches, tags, asked):
    access = entry(repository=f"{owner}@{owner_id}/{repo}@{repo_id}", branches=branches, tags=tags)
    policy = github_trust_policy(PROVIDER, ISSUER, [access])
    refs = [f"refs/heads/{b}" for b in branches] + [f"refs/tags/{t}" for t in tags]
    for ref in [*refs, f"refs/heads/{asked}"]:
        expected = ref in refs
        for prefix in (f"{owner}/{repo}", f"{owner}@{owner_id}/{repo}@{repo_id}"):
            assert may_assume(policy, token(f"repo:{prefix}:ref:{ref}", repo_id)) == expected, (prefix, ref)
            if other_id != repo_id:
                assert not may_assume(policy, token(f"repo:{prefix}:ref:{ref}", other_id)), "another repository ID"
        if other_id != repo_id:
            assert not may_assume(policy, token(f"repo:{owner}@{owner_id}/{repo}@{other_id}:ref:{ref}", other_id))

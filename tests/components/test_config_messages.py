"""How configuration problems read: the model where a key was written, one line per root cause,
the index of a bad list item, and the fix (the mistakes a newcomer made, issue 14)."""

from __future__ import annotations

import pytest
import yaml

from components.config import ConfigError, load_settings

from .conftest import base_config


def problems(config) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_settings(config, "dev")
    return raised.value.problems


def test_a_typo_in_a_github_entry_lists_the_keys_of_that_entry():
    config = base_config()
    config["teams"]["payments"]["github"][0]["enviroments"] = ["release"]

    assert problems(config) == [
        'teams.payments.github[0].enviroments: unknown key; did you mean "environments"? expected one of: '
        "repository, branches, tags, environments, pullRequests, anyRef, reviewers, workflow"
    ], "the keys listed must be a github entry's, not those of the top-level github: section"


@pytest.mark.parametrize(("where", "typo", "suggested", "listed"), [
    (("teams", "payments", "repositories", 1), "imageTagMutabilty", "imageTagMutability", "name, scanOnPush"),
    (("defaults", "lifecycle", "keepTagged", 0), "cout", "count", "tagPrefixes, tagPatterns, count"),
    (("registry", "scanning", "rules", 0), "frequncy", "frequency", "frequency, filters"),
    (("registry", "replication", "rules", 0), "destination", "destinations", "destinations, repositoryPrefixes"),
])
def test_an_unknown_key_is_matched_against_the_model_where_it_was_written(where, typo, suggested, listed):
    config = base_config()
    config["defaults"] = {"lifecycle": {"keepTagged": [{"tagPrefixes": ["v"], "count": 3}]}}
    config["registry"] = {"scanning": {"rules": [{"frequency": "SCAN_ON_PUSH"}]},
                          "replication": {"rules": [{"destinations": [{"region": "us-east-1"}]}]}}
    node = config
    for part in where:
        node = node[part]
    node[typo] = node.pop(suggested, True)

    (problem,) = problems(config)
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")
    assert problem.startswith(f'{path}.{typo}: unknown key; did you mean "{suggested}"? expected one of: {listed}')


def test_a_bad_account_id_is_one_problem_where_it_is_written():
    config = base_config()
    config["accounts"]["prod-cluster"] = 33333333333  # unquoted, one digit short
    config["teams"]["payments"]["pushAccounts"] = ["prod-cluster"]
    config["teams"]["orders"] = {"repositories": ["web"], "pullAccounts": ["prod-cluster"]}

    assert problems(config) == [
        "accounts.prod-cluster: 33333333333 is what YAML made of an unquoted number, not a 12-digit account id "
        '(YAML drops leading zeros); quote the account id as written, e.g. "012345678901"'
    ], "teams naming a declared account must not be reported for that account's bad id"


def test_an_unquoted_account_id_with_a_leading_zero_is_said_as_typed():
    config = base_config()
    config["accounts"]["prod-cluster"] = yaml.safe_load("012345670123")  # YAML 1.1: octal, 1402433619
    assert problems(config) == [
        "accounts.prod-cluster: 1402433619 is what YAML made of an unquoted 012345670123: digits after a leading 0 "
        'are read as an octal number; quote the account id: "012345670123"'
    ], "the user must recognise the id they typed, not only YAML's reading of it"


def test_a_misspelt_account_name_suggests_the_declared_one():
    config = base_config()
    config["teams"]["payments"]["pullAccounts"] = ["prod-clustr"]

    assert problems(config) == [
        'teams.payments.pullAccounts[0]: "prod-clustr" is not an account name in accounts (builders, prod-cluster); '
        'did you mean "prod-cluster"?'
    ]


def test_a_bad_organization_is_not_reported_again_for_the_teams():
    config = base_config()
    config["github"]["organizations"] = ["acme", "ac me"]

    assert problems(config) == ['github.organizations[1]: "ac me" is not a GitHub owner name']


def test_a_single_name_where_a_list_belongs_shows_the_list():
    config = base_config()
    config["teams"]["payments"]["repositories"] = "api"

    assert problems(config) == ['teams.payments.repositories: "api" is not a list; write it as one: [api]']


@pytest.mark.parametrize(("path", "values", "index", "fix"), [
    ("teams.payments.repositories", ["api", "worker", "Bad Name"], 2, "lowercase letters"),
    ("teams.payments.github[0].branches", ["main", "a:b"], 1, '":"'),
    ("teams.payments.deploy.passRoles", ["arn:aws:iam::210987654321:role/task", "arn:aws:iam::210987654321:role/*"],
     1, "no wildcards"),
    ("teams.payments.deploy.ecsServices", ["arn:aws:ecs:us-west-2:210987654321:service/c/s", "service"], 1,
     "service/<cluster>/<service>"),
    ("teams.payments.pushAccounts", ["builders", "staging"], 1, "accounts"),
    ("teams.payments.previousNames", ["billing", "Old_Name"], 1, "lowercase letters"),
    ("github.organizations", ["acme", "-acme"], 1, "GitHub owner"),
    ("nodePullRoles", ["eks-node", "bad role"], 1, "IAM role name"),
])
def test_each_list_item_is_checked_and_reported_at_its_index(path, values, index, fix):
    config = base_config()
    config["teams"]["payments"]["deploy"] = {}
    node = config
    *parents, last = path.replace("[0]", ".0").split(".")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = values

    (problem,) = problems(config)
    assert problem.startswith(f"{path}[{index}]: "), problem
    assert fix in problem, f"the message does not say what is expected: {problem}"


def test_a_value_listed_twice_is_reported_at_its_second_place():
    config = base_config()
    config["teams"]["payments"]["github"][0]["branches"] = ["main", "release", "main"]

    assert problems(config) == [
        'teams.payments.github[0].branches[2]: "main" is listed twice ([0] and [2]); it must be listed once']


def test_a_rule_of_a_model_names_the_key_it_is_about():
    config = base_config()
    config["github"]["oidcProvider"] = "sometimes"

    (problem,) = problems(config)
    assert problem.startswith('github.oidcProvider: "sometimes" must be create, existing or arn:aws:iam::'), problem


def test_a_misspelt_required_key_is_one_problem_not_also_a_missing_one():
    config = base_config()
    config["teams"]["payments"]["github"] = [{"repostory": "acme/payments-api", "branches": ["main"]}]

    assert problems(config) == [
        'teams.payments.github[0].repostory: unknown key; did you mean "repository"? expected one of: '
        "repository, branches, tags, environments, pullRequests, anyRef, reviewers, workflow"]

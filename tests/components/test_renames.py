"""Renaming a team never loses images: with `previousNames`, every resource keeps its identity.

The program runs under mocks before and after the rename; each resource after it is identified by
its URN or one of its aliases, as the engine resolves them. A resource whose identity does not carry
over would be deleted and created again (for a repository: its images deleted with it).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from engine.resource import Resource

# Inputs that name the team for people (tags, descriptions): updated in place, never a replacement.
DISPLAY = ("tags", "resourceTags", "description")


def renamed_config(config: dict[str, Any], previous: bool = True) -> dict[str, Any]:
    team = config["teams"].pop("payments")
    if previous:
        team["previousNames"] = ["payments"]
    config["teams"]["checkout"] = team
    return config


def identities(resources: list[Resource]) -> dict[str, Resource]:
    """Every URN a resource answers to (its own and its aliases) -> the resource."""
    return {urn: r for r in resources for urn in (r.urn, *r.aliases)}


def creating(config: dict[str, Any]) -> dict[str, Any]:
    config["teams"]["payments"]["allowCreateRepositories"] = True
    return config


def test_a_renamed_team_with_previous_names_replaces_nothing(run, config):
    config = creating(config)
    before = run(config).resources
    after = run(renamed_config(config)).resources
    found = identities(after)
    missing = [r.urn for r in before if r.urn not in found]
    assert not missing, f"these would be deleted and created again: {missing}"
    assert len(after) == len(before), "the rename declared resources that did not exist before"
    for old in before:
        new = found[old.urn]
        changed = {k for k in old.inputs.keys() | new.inputs.keys() if old.inputs.get(k) != new.inputs.get(k)}
        assert changed <= set(DISPLAY), f"{old.urn}: {sorted(changed)} change, which AWS may replace"
    repositories = {r.inputs["name"] for r in after if r.type == "aws:ecr/repository:Repository"}
    assert repositories == {"payments/api", "payments/worker"}, "the namespace must stay with the repositories"
    role = next(r for r in after if r.type == "aws:iam/role:Role" and "checkout" in r.urn)
    assert role.inputs["name"] == "github-push-payments", "product teams' workflows keep their role ARN"
    assert role.inputs["tags"]["team"] == "checkout", "the team tag follows the team's current name"


def test_without_previous_names_a_rename_moves_every_repository(run, config):
    before = {r.urn for r in run(config).resources if r.custom}
    after = identities(run(renamed_config(config, previous=False)).resources)
    lost = [urn for urn in before if urn not in after and "repository:Repository" in urn]
    assert len(lost) == 2, "this is what previousNames exists to prevent: new repositories, old ones deleted"


@pytest.mark.parametrize(("previous", "fragment"), [
    (["checkout"], "not an earlier team name"),
    (["Payments"], "not an earlier team name"),
    (["payments", "payments"], "listed once"),
])
def test_bad_previous_names_are_refused_with_the_key_path(run, config, previous, fragment):
    config = renamed_config(config)
    config["teams"]["checkout"]["previousNames"] = previous
    with pytest.raises(pulumi.RunError) as raised:
        run(config)
    assert "teams.checkout.previousNames[" in str(raised.value) and fragment in str(raised.value)


def test_an_earlier_name_of_a_current_team_is_refused(run, config):
    config["teams"]["orders"] = {"repositories": ["web"], "previousNames": ["payments"]}
    with pytest.raises(pulumi.RunError) as raised:
        run(config)
    assert 'teams.orders.previousNames: "payments" is the name of a current team' in str(raised.value)

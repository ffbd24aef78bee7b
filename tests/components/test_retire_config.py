"""`ecr-platform:retire`: an entry names something the stack no longer declares, or the stack is refused
with the key path and the fix (a name retired once must not silently accept a later deletion)."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import load_settings

from .test_config import problems


def retiring(config: dict[str, Any], **retire: Any) -> dict[str, Any]:
    return {**config, "retire": retire}


def test_a_retired_repository_the_stack_no_longer_declares_is_valid(config):
    config["teams"]["payments"]["repositories"] = ["api"]
    load_settings(retiring(config, repositories=["payments/worker"]), "prod")


def test_a_retired_repository_still_declared_is_refused_naming_the_key_and_the_fix(config):
    (problem,) = problems(retiring(config, repositories=["payments/legacy", "payments/worker"]))
    assert problem.startswith('retire.repositories[1]: "payments/worker" is still declared by '
                              "teams.payments.repositories;"), problem
    assert "remove it there to delete it, or remove it from retire.repositories to keep it" in problem


@pytest.mark.parametrize(("retire", "key", "fix"), [
    ({"creationTemplates": ["payments"]}, "retire.creationTemplates[0]", "allowCreateRepositories"),
    ({"pullThroughCache": ["docker-hub"]}, "retire.pullThroughCache[0]", "registry.pullThroughCache"),
    ({"oidcProvider": True}, "retire.oidcProvider", "github.oidcProvider"),
    ({"replication": True}, "retire.replication", "registry.replication"),
])
def test_retiring_anything_else_still_declared_is_refused(config, retire, key, fix):
    config["teams"]["payments"]["allowCreateRepositories"] = True
    config["registry"] = {"pullThroughCache": {"docker-hub": {"upstream": "public-ecr"}},
                          "replication": {"rules": [{"destinations": [{"region": "us-east-1"}]}]}}
    (problem,) = problems(retiring(config, **retire))
    assert problem.startswith(f"{key}: ") and fix in problem, problem


def test_what_the_stack_no_longer_declares_may_be_retired(config):
    config["github"]["oidcProvider"] = "existing"
    load_settings(retiring(config, creationTemplates=["payments"], pullThroughCache=["docker-hub"],
                           oidcProvider=True, replication=True), "prod")


def test_retire_keys_are_checked_like_every_other(config):
    found = sorted(problems(retiring(config, repository=["payments/legacy"], pullThroughCache=["ghcr", "ghcr"])))
    assert found[0] == 'retire.pullThroughCache[1]: "ghcr" is listed twice ([0] and [1]); it must be listed once', found
    assert found[1].startswith('retire.repository: unknown key; did you mean "repositories"?'), found

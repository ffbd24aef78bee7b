"""The program's own stacks, run under mocks and fed to the pack as `pulumi preview/up` would.

The checked-in stacks must pass their environment's policy config; known-bad mutations of the
prod stack (what a careless pull request could do) must each draw a mandatory violation.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.analyzer import PolicyPackClient, Violation
from engine.program import ProgramRun, load_stack_config, run_program, run_stack, stack_config_path
from engine.resource import Resource

from .conftest import assert_clean, assert_violates

ROOT = Path(__file__).resolve().parents[2]


def env_config(env: str) -> dict[str, Any]:
    return json.loads((ROOT / "policy" / "config" / f"{env}.json").read_text())


def judge(client: PolicyPackClient, env: str, resources: list[Resource]) -> list[Violation]:
    """Analyze each resource's inputs, then the stack's outputs, under `policy/config/<env>.json`."""
    client.configure(env_config(env))
    return client.analyze_all(resources)


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    return run_stack("prod")


@pytest.mark.live_stacks
@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_checked_in_stacks_draw_no_mandatory_violation(pack_client, stack, preview):
    assert_clean(judge(pack_client, stack, run_stack(stack, preview=preview).resources))


def _document(resource: Resource, key: str, change: Callable[[dict[str, Any]], None]) -> None:
    for props in (resource.inputs, resource.outputs):
        document = json.loads(props[key])
        change(document)
        props[key] = json.dumps(document)


def _find(resources: list[Resource], type_: str, name: str) -> Resource:
    return next(r for r in resources if r.type == type_ and r.name == name)


def _widen_push(doc: dict[str, Any]) -> None:
    doc["Statement"][1]["Resource"] = "arn:aws:ecr:us-west-2:210987654321:repository/*"


def _org_wide_trust(doc: dict[str, Any]) -> None:
    doc["Statement"][0]["Condition"]["StringLike"] = {"token.actions.githubusercontent.com:sub": "repo:acme/*"}
    doc["Statement"][0]["Condition"]["StringEquals"].pop("token.actions.githubusercontent.com:sub")


def _drop_audience(doc: dict[str, Any]) -> None:
    doc["Statement"][0]["Condition"]["StringEquals"].pop("token.actions.githubusercontent.com:aud")


def _public_pull(doc: dict[str, Any]) -> None:
    doc["Statement"][0]["Principal"] = "*"


def _any_rule_first(doc: dict[str, Any]) -> None:
    doc["rules"][0]["rulePriority"], doc["rules"][-1]["rulePriority"] = 99, 1


def _star_action(doc: dict[str, Any]) -> None:
    doc["Statement"][1]["Action"] = "ecr:*"


def _pass_any_role(doc: dict[str, Any]) -> None:
    statement = next(s for s in doc["Statement"] if s["Sid"] == "PassTaskRolesToEcs")
    statement["Resource"] = "*"


MUTATIONS: list[tuple[str, str, Callable[[list[Resource]], None]]] = [
    ("push role reaches every repository", "team-isolation",
     lambda rs: _document(_find(rs, "aws:iam/rolePolicy:RolePolicy", "dc43-push"), "policy", _widen_push)),
    ("service-wide ECR actions", "iam-least-privilege",
     lambda rs: _document(_find(rs, "aws:iam/rolePolicy:RolePolicy", "dc43-push"), "policy", _star_action)),
    ("PassRole on any role", "iam-least-privilege",
     lambda rs: _document(_find(rs, "aws:iam/rolePolicy:RolePolicy", "jwt-pizza-push"), "policy", _pass_any_role)),
    ("trust widened to a whole organisation", "github-oidc-trust-scoped",
     lambda rs: _document(_find(rs, "aws:iam/role:Role", "dc43"), "assumeRolePolicy", _org_wide_trust)),
    ("trust without audience", "github-oidc-trust-scoped",
     lambda rs: _document(_find(rs, "aws:iam/role:Role", "dc43"), "assumeRolePolicy", _drop_audience)),
    ("repository pullable by anyone", "ecr-repository-policy-restricted",
     lambda rs: _document(_find(rs, "aws:ecr/repositoryPolicy:RepositoryPolicy", "dc43/contracts-app-policy"),
                          "policy", _public_pull)),
    ("lifecycle `any` rule evaluated first", "ecr-lifecycle-policy",
     lambda rs: _document(_find(rs, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "chatgpt-web-lifecycle"), "policy",
                          _any_rule_first)),
]


@pytest.mark.parametrize(("case", "policy", "mutate"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_known_bad_mutations_of_prod_are_caught(pack_client, prod, case, policy, mutate):
    resources = copy.deepcopy(prod.resources)
    mutate(resources)
    assert_violates(judge(pack_client, "prod", resources), policy)


@pytest.mark.parametrize(("case", "setting", "value", "policy"), [
    ("scan on push off", "imageScanningConfiguration", {"scanOnPush": False}, "ecr-scan-on-push"),
    ("mutable tags", "imageTagMutability", "MUTABLE", "ecr-tag-immutability"),
    ("AES256 in prod", "encryptionConfigurations", [{"encryptionType": "AES256"}], "ecr-encryption"),
    ("force delete", "forceDelete", True, "protect-registries"),
])
def test_repository_setting_mutations_of_prod_are_caught(pack_client, prod, case, setting, value, policy):
    # The registry scanning rule stands in for a repository's own setting, so it goes too.
    resources = [r for r in copy.deepcopy(prod.resources)
                 if r.type != "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"]
    repo = _find(resources, "aws:ecr/repository:Repository", "chatgpt-web")
    repo.inputs[setting] = repo.outputs[setting] = value
    assert_violates(judge(pack_client, "prod", resources), policy)


def test_unprotected_prod_repository_is_caught(pack_client, prod):
    resources = copy.deepcopy(prod.resources)
    _find(resources, "aws:ecr/repository:Repository", "dc43/http-backend").protect = False
    assert_violates(judge(pack_client, "prod", resources), "protect-registries", "dc43/http-backend")


def _replicate_elsewhere(rs: list[Resource]) -> None:
    replication = _find(rs, "aws:ecr/replicationConfiguration:ReplicationConfiguration", "registry-replication")
    for props in (replication.inputs, replication.outputs):
        props["replicationConfiguration"]["rules"][0]["destinations"][0]["registryId"] = "999999999999"


def test_replication_to_an_unlisted_account_is_caught(pack_client, prod):
    resources = copy.deepcopy(prod.resources)
    _replicate_elsewhere(resources)
    assert_violates(judge(pack_client, "prod", resources), "ecr-repository-policy-restricted", "999999999999",
                    "allowedReplicationAccounts")


@pytest.mark.parametrize(("key", "value", "subject"), [
    ("branches", ["*"], "ref:refs/heads/*"),
    ("environments", ["*"], "environment:*"),
])
def test_any_branch_or_environment_in_the_prod_stack_file_is_caught(pack_client, key, value, subject):
    config = load_stack_config(stack_config_path("prod"))
    team = next(iter(config["ecr-platform:teams"].values()))
    entry = team["github"][0]
    for ref in ("branches", "tags", "environments", "anyRef", "pullRequests"):
        entry.pop(ref, None)
    entry[key] = value
    resources = run_program(config, stack="prod").resources
    assert_violates(judge(pack_client, "prod", resources), "github-oidc-trust-scoped",
                    f"{entry['repository']}:{subject}", "policy/config/<stack>.json: github-oidc-trust-scoped.")

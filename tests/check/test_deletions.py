"""What a change deletes: `--compare` lists every stateful resource the change deletes or replaces, first,
and the environment's guard decides whether an unretired one fails the check.

The first tests compare two program runs directly (the graphs, by URN and by the names AWS knows);
the rest run the check as the pull-request workflow does, in a git repository with a base commit and
a change commit.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.program import run_program
from review.deletions import (
    CREATION_TEMPLATE,
    DELETE,
    OIDC_PROVIDER,
    PULL_THROUGH_CACHE,
    REPLACE,
    REPLICATION,
    Deletion,
    find_deletions,
    retire_of,
)

from ..components.conftest import base_config, stack_config
from .checkout import check_in, commit_all, copy_checkout, edit_json, edit_stack, git

Change = Callable[[dict[str, Any]], None]


def deletions_after(change: Change, start: Change = lambda config: None) -> list[Deletion]:
    """The deletions a change makes to the small test stack (payments: api and worker), after `start`."""
    config = base_config()
    start(config)
    before = run_program(stack_config(config), stack="prod").resources
    config = copy.deepcopy(config)
    change(config)
    after = run_program(stack_config(config), stack="prod").resources
    return find_deletions(before, after, retire_of({"ecr-platform:retire": config.get("retire")}))


def rename_payments(previous: bool) -> Change:
    def rename(config: dict[str, Any]) -> None:
        team = config["teams"].pop("payments")
        config["teams"]["checkout"] = {**team, **({"previousNames": ["payments"]} if previous else {})}
    return rename


def creating(config: dict[str, Any]) -> None:
    config["teams"]["payments"]["allowCreateRepositories"] = True


def test_a_team_renamed_with_previous_names_deletes_nothing():
    assert deletions_after(rename_payments(previous=True), creating) == []


def test_a_team_renamed_without_previous_names_moves_its_repositories():
    found = deletions_after(rename_payments(previous=False), creating)
    repositories = [d for d in found if d.kind.label == "ECR repository"]
    assert [(d.action, d.name, d.created_as) for d in repositories] == [
        (DELETE, "payments/api", ("checkout/api",)), (DELETE, "payments/worker", ("checkout/worker",))]
    message = repositories[0].message()
    assert "ECR cannot rename a repository" in message and "crane copy" in message
    assert "`previousNames: [payments]`" in message, "the cheap fix for a rename is named"
    (template,) = [d for d in found if d.type == CREATION_TEMPLATE]
    assert (template.action, template.name) == (DELETE, "payments")


def test_a_repository_dropped_while_a_new_team_declares_its_name_is_a_plain_deletion():
    def drop_worker_and_add_a_team(config: dict[str, Any]) -> None:
        config["teams"]["payments"]["repositories"] = ["api"]
        config["teams"]["checkout"] = {"repositories": ["worker"], "pullAccounts": ["prod-cluster"]}

    (deletion,) = [d for d in deletions_after(drop_worker_and_add_a_team) if d.type == "aws:ecr/repository:Repository"]
    assert (deletion.action, deletion.name, deletion.created_as) == (DELETE, "payments/worker", ()), (
        "payments still exists: its worker is deleted, not moved to the new team that happens to have a worker")
    assert deletion.reason == "no longer declared"
    assert "previousNames" not in deletion.message(), "no rename is suggested for a team that still exists"


def test_a_resource_declared_under_another_identity_is_replaced():
    def rename_keeping_namespace(config: dict[str, Any]) -> None:
        config["teams"]["payments"]["namespace"] = "payments"
        rename_payments(previous=False)(config)

    (template,) = deletions_after(rename_keeping_namespace, creating)
    assert (template.type, template.action, template.name) == (CREATION_TEMPLATE, REPLACE, "payments")
    assert "payments-template becomes" in template.reason and "checkout-template" in template.reason
    assert "previousNames" in template.advice()


def test_new_encryption_replaces_a_repository_and_its_images_go_with_it():
    def kms(config: dict[str, Any]) -> None:
        config["teams"]["payments"]["encryption"] = {"type": "KMS", "kmsKey": "alias/ecr"}

    found = deletions_after(kms)
    assert [(d.action, d.name) for d in found] == [(REPLACE, "payments/api"), (REPLACE, "payments/worker")]
    assert "encryptionConfigurations changes from AES256 to KMS alias/ecr" in found[0].reason
    assert found[0].lost == "every image in it (the new one starts empty)"
    assert "ECR cannot rename a repository or change its encryption in place" in found[0].advice()


def test_the_oidc_provider_is_stateful_and_can_be_retired():
    def reuse(config: dict[str, Any]) -> None:
        config["github"]["oidcProvider"] = "existing"

    (provider,) = deletions_after(reuse)
    assert (provider.type, provider.action, provider.retired_by) == (OIDC_PROVIDER, DELETE, "")
    assert "AssumeRoleWithWebIdentity fails" in provider.lost
    assert "ecr-platform:retire.oidcProvider: true" in provider.advice()

    def reuse_and_retire(config: dict[str, Any]) -> None:
        reuse(config)
        config["retire"] = {"oidcProvider": True}

    (provider,) = deletions_after(reuse_and_retire)
    assert provider.retired_by == "retire.oidcProvider"


def with_registry(config: dict[str, Any]) -> None:
    config["registry"] = {"pullThroughCache": {"quay": {"upstream": "quay"}, "k8s": {"upstream": "k8s"}},
                          "replication": {"rules": [{"destinations": [{"region": "us-east-1"}]}]}}


def test_registry_rules_are_deleted_replaced_and_retired_by_name():
    def change(config: dict[str, Any]) -> None:
        config["registry"] = {"pullThroughCache": {"quay": {"upstream": "public-ecr"}}}
        config["retire"] = {"pullThroughCache": ["k8s"]}

    found = {d.type if d.type == REPLICATION else d.name: d for d in deletions_after(change, with_registry)}
    assert found["quay"].action == REPLACE and "upstreamRegistryUrl changes from quay.io to public.ecr.aws" in (
        found["quay"].reason)
    assert (found["k8s"].type, found["k8s"].action, found["k8s"].retired_by) == (
        PULL_THROUGH_CACHE, DELETE, "retire.pullThroughCache")
    assert found[REPLICATION].action == DELETE and found[REPLICATION].retired_by == ""
    assert set(found) == {"quay", "k8s", REPLICATION}


# ---------------------------------------------------------------- the check, on a base commit and a change


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory) -> tuple[Path, str]:
    """This checkout's program, pack and stack files, committed: the base every change below starts from."""
    repo = tmp_path_factory.mktemp("base")
    return repo, copy_checkout(repo)


def change_commit(base_repo: tuple[Path, str], tmp_path: Path, stack: str, change: Change,
                  guard: Callable[[Any], None] | None = None) -> tuple[Path, str]:
    """A clone of the base with one commit that edits Pulumi.<stack>.yaml (and the stack's pack config)."""
    origin, base = base_repo
    repo = tmp_path / "change"
    git(tmp_path, "clone", "-q", str(origin), str(repo))
    edit_stack(repo / f"Pulumi.{stack}.yaml", change)
    if guard is not None:
        edit_json(repo / "policy" / "config" / f"{stack}.json", guard)
    commit_all(repo, "the change")
    return repo, base


def check_against(repo: Path, base: str, stack: str, *extra: str) -> tuple[int, dict[str, Any], str]:
    """Exit code, JSON document and full Markdown report of the check as the pull-request workflow runs it."""
    markdown = repo / "full.md"
    run = check_in(repo, "--stack", stack, "--policy-ref", base, "--compare", base, "--format", "json",
                   "--full-report", str(markdown), *extra)
    assert run.returncode in (0, 1), run.stdout + run.stderr
    return run.returncode, json.loads(run.stdout), markdown.read_text()


def drop_http_backend(config: dict[str, Any]) -> None:
    config["ecr-platform:teams"]["dc43"]["repositories"] = ["contracts-app"]


def protect_findings(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(v["enforcement"], v["resource"]) for v in document["violations"] if v["policy"] == "protect-registries"]


def test_a_prod_team_renamed_with_previous_names_deletes_nothing(base_repo, tmp_path):
    def rename(config: dict[str, Any]) -> None:
        teams = config["ecr-platform:teams"]
        teams["contracts"] = {"previousNames": ["dc43"], **teams.pop("dc43")}

    code, document, markdown = check_against(*change_commit(base_repo, tmp_path, "prod", rename), "prod")
    assert code == 0, document["violations"]
    assert document["comparison"]["deletions"] == []
    assert "No stateful resource is deleted or replaced." in markdown


def test_removing_a_prod_repository_without_retire_fails_naming_it(base_repo, tmp_path):
    code, document, markdown = check_against(*change_commit(base_repo, tmp_path, "prod", drop_http_backend), "prod")
    assert code == 1, "prod refuses a deletion the stack file does not retire"
    (deletion,) = document["comparison"]["deletions"]
    assert (deletion["action"], deletion["kind"], deletion["name"]) == ("delete", "ECR repository", "dc43/http-backend")
    assert protect_findings(document) == [("mandatory", "dc43/http-backend")]
    assert "ecr-platform:retire.repositories: [dc43/http-backend]" in deletion["message"], "the message names the fix"
    top = markdown.split("### ❌ Mandatory violations", 1)[0]
    assert "**This change deletes or replaces 1 stateful resource**" in top, "the deletion comes before the violations"
    urn = deletion["urn"]
    assert urn.startswith("urn:pulumi:prod::") and urn.endswith("::dc43/http-backend"), urn
    unprotect = f"pulumi state unprotect --stack prod '{urn}'"
    row = (f"| **delete** | ECR repository `dc43/http-backend`<br>URN `{urn}`<br>protected: `{unprotect}` "
           "| no longer declared | every image in it | ❌ mandatory |")
    assert row in top, "the row names the URN and the command docs/onboarding.md has prod admins run"


def test_a_retired_prod_repository_passes_and_the_report_says_it_will_be_deleted(base_repo, tmp_path):
    def retire(config: dict[str, Any]) -> None:
        drop_http_backend(config)
        config["ecr-platform:retire"] = {"repositories": ["dc43/http-backend"]}

    repo, base = change_commit(base_repo, tmp_path, "prod", retire)
    code, document, _ = check_against(repo, base, "prod")
    assert code == 0, document["violations"]
    assert protect_findings(document) == []
    text = check_in(repo, "--stack", "prod", "--policy-ref", base, "--compare", base).stdout
    top = text.split("  teams (", 1)[0]
    assert top.splitlines()[2] == "  THIS CHANGE DELETES OR REPLACES 1 STATEFUL RESOURCE:", (
        "the deletion opens the report, under the stack and the guard")
    assert ("    - delete ECR repository dc43/http-backend [retired (retire.repositories)]: no longer declared; "
            "lost: every image in it") in top


def test_dev_shows_a_deletion_as_a_warning(base_repo, tmp_path):
    def warn(config: dict[str, Any]) -> None:
        config["protect-registries"] = {"enforcementLevel": "advisory", "deletions": "advisory"}

    repo, base = change_commit(base_repo, tmp_path, "dev", drop_http_backend, guard=warn)
    markdown = repo / "full.md"
    run = check_in(repo, "--stack", "dev", "--compare", base, "--format", "json", "--full-report", str(markdown))
    assert run.returncode == 0, "a guard with protect-registries.deletions: advisory warns"
    document = json.loads(run.stdout)
    (deletion,) = document["comparison"]["deletions"]
    assert deletion["name"] == "dc43/http-backend" and deletion["enforcement"] == "advisory"
    assert ("advisory", "dc43/http-backend") in protect_findings(document)
    assert "| ⚠️ advisory |" in markdown.read_text().split("### Advisory violations", 1)[0]


def test_a_guard_that_disables_protect_registries_lists_a_deletion_without_a_finding(base_repo, tmp_path):
    code, document, markdown = check_against(*change_commit(base_repo, tmp_path, "dev", drop_http_backend), "dev")
    assert code == 0
    assert protect_findings(document) == [], "dev.json disables protect-registries: a disabled policy finds nothing"
    (deletion,) = document["comparison"]["deletions"]
    assert deletion["name"] == "dc43/http-backend" and deletion["enforcement"] == "disabled"
    assert "not retired; not judged: `protect-registries` is disabled here" in markdown, (
        "the reviewer still sees the deletion, and why nothing judged it")


def test_a_namespace_change_deletes_and_creates_every_repository_in_it(base_repo, tmp_path):
    def move(config: dict[str, Any]) -> None:
        config["ecr-platform:teams"]["data"]["namespace"] = "data"

    code, document, markdown = check_against(*change_commit(base_repo, tmp_path, "prod", move), "prod")
    assert code == 1
    moved = {(d["action"], d["name"], tuple(d["createdAs"])) for d in document["comparison"]["deletions"]}
    assert moved == {("delete", "shared/data/etl", ("data/etl",)), ("delete", "shared/data/notebooks",
                                                                     ("data/notebooks",))}
    for message in (d["message"] for d in document["comparison"]["deletions"]):
        assert "ECR cannot rename a repository" in message and "crane copy" in message, message
    assert "ECR repository `shared/data/etl` → `data/etl`" in markdown


def test_a_change_cannot_relax_the_deletion_rule_it_is_judged_by(base_repo, tmp_path):
    def relax(config: dict[str, Any]) -> None:
        config["protect-registries"]["deletions"] = "advisory"

    repo, base = change_commit(base_repo, tmp_path, "prod", drop_http_backend, guard=relax)
    code, document, _ = check_against(repo, base, "prod")
    assert code == 1 and protect_findings(document) == [("mandatory", "dc43/http-backend")], (
        "the base's guard decides, not the one the pull request brings")
    assert check_in(repo, "--stack", "prod", "--compare", base).returncode == 0, "its own guard would let it pass"


def test_running_base_and_head_at_once_changes_nothing_in_the_report(base_repo, tmp_path):
    repo, base = change_commit(base_repo, tmp_path, "prod", drop_http_backend)
    outputs = {}
    for jobs in ("1", "2"):
        for form in ("json", "markdown"):
            run = check_in(repo, "--stack", "prod", "--policy-ref", base, "--compare", base, "--format", form,
                           "--jobs", jobs)
            outputs[(jobs, form)] = (run.returncode, run.stdout)
    for form in ("json", "markdown"):
        assert outputs[("1", form)] == outputs[("2", form)], f"--jobs 2 changed the {form} report or its verdict"
    assert outputs[("2", "json")][0] == 1, "the deletion still fails prod"


def test_a_pull_request_with_an_invalid_stack_file_gets_its_error_and_nothing_else(base_repo, tmp_path):
    """The base's worker is started before the stack file is read: when the head's is invalid, the check still
    says only what is wrong, naming the key path (no warning from the worker's process left behind)."""
    def break_it(config: dict[str, Any]) -> None:
        config["ecr-platform:defaults"]["scanOnPush"] = ["yes"]

    repo, base = change_commit(base_repo, tmp_path, "prod", break_it)
    run = check_in(repo, "--stack", "prod", "--policy-ref", base, "--compare", base, "--format", "markdown")
    assert run.returncode == 2 and run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert lines[0].startswith("ecr-platform: the stack configuration has 1 problem(s)"), run.stderr
    assert lines[1:] == ['  - defaults.scanOnPush: ["yes"] is not true or false'], run.stderr

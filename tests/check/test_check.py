"""`ecr-platform-check`: the report a reviewer reads, the diff of a widening change, the exit codes.

Golden files hold the user-facing report without the policy pack's findings (those are the
pack's text, tested in tests/policy), for the fixture stacks in tests/fixtures/stacks (never the
live ones: onboarding a team must not touch a test). Regenerate them after an intended change with:
    UPDATE_GOLDEN=1 venv/bin/python -m pytest tests/check/test_check.py
which writes what these commands print:
    python -m review.check --stack dev --config-file tests/fixtures/stacks/dev.yaml --no-policy --format markdown \
        > tests/golden/dev.md
    python -m review.check --stack dev --config-file tests/fixtures/stacks/dev.yaml --no-policy > tests/golden/dev.txt
    python -m review.check --stack prod --config-file tests/fixtures/stacks/prod.yaml --no-policy \
        > tests/golden/prod.txt
and, for dev-widened.{md,txt}, the same with `--compare <base>` where the base commit holds the
fixture dev stack and the working tree the widening below (`widened`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from engine.analyzer import Violation
from engine.program import ROOT, ProgramRun
from review.check import judge, run_program_for
from review.deletions import find_deletions
from review.guard import Guard
from review.markdown import render_markdown
from review.report import ADDED, SIMULATED, collapsed, compare, render_text, to_json

from .. import fixtures
from ..components.conftest import base_config, stack_config
from .conftest import run_cli

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    expected = path.read_text() if path.exists() else ""
    assert text == expected, f"{path} is out of date; if the change is intended, rerun with UPDATE_GOLDEN=1"


@pytest.fixture(scope="module")
def prod_run() -> ProgramRun:
    return fixtures.run_fixture("prod")


def dev_config() -> dict:
    return fixtures.stack_config("dev")


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


# ---------------------------------------------------------------- the report


def test_dev_report_matches_the_golden_files(dev):
    result = judge("dev", dev_config(), dev.resources, None)
    golden("dev.md", render_markdown(result))
    golden("dev.txt", render_text(result))


def test_prod_report_marks_what_only_the_simulation_has(prod_run):
    result = judge("prod", prod_run.config, prod_run.resources, None, simulated=prod_run.simulated)
    text = render_text(result)
    golden("prod.txt", text)
    kms = [line for line in text.splitlines() if "arn:aws:kms:" in line and ":key/" in line]
    assert kms and all(line.endswith(SIMULATED) for line in kms), "a made-up KMS key id must not pass for the real one"
    assert json.loads(to_json(result))["simulated"], "JSON readers must learn which values are simulated"


def test_the_documented_command_prints_the_golden_markdown():
    run = run_cli("--stack", "dev", "--config-file", str(fixtures.stack_file("dev")), "--no-policy",
                  "--format", "markdown")
    assert run.returncode == 0, run.stderr
    assert run.stdout == (GOLDEN / "dev.md").read_text()


def test_dev_stack_draws_no_mandatory_violation(dev, dev_pack, dev_guard):
    result = judge("dev", dev_config(), dev.resources, dev_pack, dev_guard)
    assert result.mandatory == [], "\n".join(f"{v.policy}: {v.message}" for v in result.mandatory)
    assert result.exit_code == 0
    markdown = render_markdown(result)
    assert "Judged by `policy/` in the working tree with `tests/fixtures/stacks/dev.json`." in markdown


def test_json_lists_every_grant_as_a_fact(dev):
    document = json.loads(run_cli("--config-file", str(fixtures.stack_file("dev")), "--no-policy",
                                  "--format", "json").stdout)
    facts = document["facts"]
    assert "repo:acme/dc43:environment:release → github-push-dc43 → dc43/contracts-app: push" in facts
    assert "222222222222 (dev-cluster) → account → dc43/contracts-app: pull" in facts
    assert not any(f.startswith("222222222222") and f.endswith(": push") for f in facts)
    assert document["exitCode"] == 0


# ---------------------------------------------------------------- exit codes


@pytest.mark.live_stacks
def test_clean_stack_exits_0():
    run = run_cli("--stack", "prod")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Result: OK" in run.stdout
    assert "guard: policy/config/prod.json, policy/ in the working tree" in run.stdout


def test_a_mutated_document_is_a_mandatory_violation(dev, dev_pack):
    wide = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]})
    resources = [
        dataclasses.replace(r, inputs={**r.inputs, "policy": wide}, outputs={**r.outputs, "policy": wide})
        if r.name == "dc43-push"
        else r
        for r in dev.resources
    ]
    result = judge("dev", dev_config(), resources, dev_pack)
    assert result.exit_code == 1
    assert "iam-least-privilege" in {v.policy for v in result.mandatory}, result.violations
    assert len(result.access.repositories_of("github-push-dc43", "delete")) == 9, "the report must show the damage"


def test_a_violation_names_the_pack_config_file_this_run_uses(tmp_path):
    config = fixtures.stack_config("prod")
    team = next(iter(config["ecr-platform:teams"].values()))
    team["github"][0] = {"repository": team["github"][0]["repository"], "branches": ["*"]}
    run = run_cli("--stack", "prod", "--config-file", str(write_config(tmp_path / "any-branch.yaml", config)),
                  "--policy-config", str(fixtures.pack_config_file("prod")))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "tests/fixtures/stacks/prod.json: github-oidc-trust-scoped.allowAnyBranch" in run.stdout, run.stdout
    assert "<stack>" not in run.stdout, "the reader must see which file to edit, not a placeholder"


def test_invalid_config_exits_2_naming_the_path_without_a_traceback(tmp_path):
    config = dev_config()
    config["ecr-platform:accounts"]["dev-cluster"] = "2222"
    run = run_cli("--config-file", str(write_config(tmp_path / "bad.yaml", config)))
    assert run.returncode == 2
    assert "accounts.dev-cluster" in run.stderr
    assert "Traceback" not in run.stderr and "Task was destroyed" not in run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "pdf"],
        ["--config-file", "/nonexistent/Pulumi.dev.yaml"],
        ["--policy-config", "/nonexistent/dev.json"],
        ["--compare", "no-such-ref"],
    ],
)
def test_usage_errors_exit_2(args):
    run = run_cli(*args)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr


# ---------------------------------------------------------------- --compare


def widened(config: dict) -> dict:
    """dc43 also pushes from the dev cluster's account and from any ref of a tools repository."""
    config = json.loads(json.dumps(config))
    team = config["ecr-platform:teams"]["dc43"]
    team["pushAccounts"] = ["dev-cluster"]
    team["github"].append({"repository": "acme/dc43-tools", "anyRef": True})
    return config


@pytest.fixture(scope="module")
def widening(dev, dev_pack, dev_guard):
    base = judge("dev", dev_config(), dev.resources, dev_pack, dev_guard)
    head_config = widened(dev_config())
    head = judge("dev", head_config, run_program_for("dev", head_config).resources, dev_pack, dev_guard)
    return head, compare(base, head, "main")


def test_widening_diff_matches_the_golden_files(dev):
    base = judge("dev", dev_config(), dev.resources, None)
    head_config = widened(dev_config())
    head_run = run_program_for("dev", head_config)
    head = judge("dev", head_config, head_run.resources, None)
    comparison = compare(base, head, "main", "base: Pulumi.dev.yaml at main, run with this tree's program",
                         deletions=find_deletions(dev.resources, head_run.resources))
    golden("dev-widened.md", render_markdown(head, comparison))
    golden("dev-widened.txt", render_text(head, comparison))


def test_widening_change_shows_added_grants_and_new_violations(widening):
    _, comparison = widening
    added = {f.line() for f in comparison.added}
    assert "repo:acme/dc43-tools:* → github-push-dc43 → dc43/http-backend: push" in added
    assert {(w.who_before, w.target, w.level_after) for w in comparison.widened} == {
        ("222222222222 (dev-cluster)", r, "pull, push") for r in ("dc43/contracts-app", "dc43/http-backend")}, (
        "the dev cluster, which could pull, can now push: a widening of its access")
    assert not any("shared/data" in line for line in added), "nothing else may change"
    assert comparison.removed == []
    assert comparison.new_violations and all(v.enforcement == "mandatory" for v in comparison.new_violations)


def test_a_subject_that_can_now_assume_another_role_is_in_the_diff(widening):
    head, comparison = widening
    # the tools repository's main branch matches the data team's org-wide `repo:acme/*:ref:refs/heads/main`
    (change,) = comparison.overlaps
    assert change.subject.startswith("repo:acme/dc43-tools:") and change.before == ("ecr-shared-data-push",)
    assert change.gained == ("github-push-dc43",) and change.lost == ()
    text = render_text(head, comparison)
    assert f"    + {change.subject}: ecr-shared-data-push, github-push-dc43 (was: ecr-shared-data-push)" in text
    (document,) = json.loads(to_json(head, comparison))["comparison"]["overlapChanges"]
    assert document["subject"] == change.subject and document["gained"] == ["github-push-dc43"]
    assert f"| {ADDED} | `{change.subject}` | `ecr-shared-data-push`, `github-push-dc43` |" in render_markdown(
        head, comparison)


def test_an_account_that_can_now_push_is_a_widening_with_before_and_after(widening):
    head, comparison = widening
    document = json.loads(to_json(head, comparison))["comparison"]
    cross = {(w["whoBefore"], w["target"], w["levelBefore"], w["levelAfter"]) for w in document["widened"]}
    assert cross == {("222222222222 (dev-cluster)", r, "pull", "pull, push")
                     for r in ("dc43/contracts-app", "dc43/http-backend")}
    markdown = render_markdown(head, comparison)
    section = markdown.split("### ⚠️ What widened", 1)[1].split("###", 1)[0]
    row = ("| **widened** (access) | `222222222222 (dev-cluster)` | whole account | dc43/{contracts-app,http-backend} "
           "| pull → **pull, push** |")
    assert row in section
    assert "github-push-dc43" not in section, "a new subject is a grant, not a widening"
    assert "  widened:\n    ^ 222222222222 (dev-cluster) → whole account → dc43/" in render_text(head, comparison)


def test_the_comment_shows_the_change_before_the_rest(widening):
    head, comparison = widening
    markdown = render_markdown(head, comparison, max_chars=60_000)
    order = [markdown.index(marker) for marker in (
        "## ecr-platform check: `dev` compared with `main`", "### ❌ New mandatory violations",
        "### ⚠️ What widened", "### Changes against `main`",
        "#### ⚠️ Subjects that can assume more than one role", "#### Grants",
        "#### Violations", "### Changed teams (1)", "### Full report", "#### Other teams (4)")]
    assert order == sorted(order), "a reviewer reads the verdict, the new violations, what changed, then the rest"
    assert "<code>dc43</code>" in markdown.split("### Changed teams", 1)[1].split("### Full report", 1)[0]
    assert comparison.changed_teams == ["dc43"]


def test_json_keys_are_camel_case(widening):
    head, comparison = widening

    def keys(value: object) -> set[str]:
        if isinstance(value, dict):
            return {k for k in value} | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    found = keys(json.loads(to_json(head, comparison)))
    snake = sorted(k for k in found if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", k))
    assert not snake, f"one key style for JSON readers (camelCase), these are snake_case: {snake}"
    assert {"resourceCounts", "repositoryTeams", "alsoRole", "changedTeams"} <= found


def test_a_widened_branch_is_one_row_with_before_and_after():
    def project(branches: list[str]) -> dict:
        config = base_config()
        config["teams"]["payments"]["github"] = [{"repository": "acme/payments-api", "branches": branches}]
        return stack_config(config)

    base_config_, head_config = project(["main"]), project(["*"])
    base = judge("dev", base_config_, run_program_for("dev", base_config_).resources, None)
    head = judge("dev", head_config, run_program_for("dev", head_config).resources, None)
    comparison = compare(base, head, "main")
    assert {(w.who_before, w.who_after) for w in comparison.widened} == {
        ("repo:acme/payments-api:ref:refs/heads/main", "repo:acme/payments-api:ref:refs/heads/*")}
    assert comparison.added == comparison.removed == [], "a widening is not an addition and a removal apart"
    markdown = render_markdown(head, comparison)
    rows = [line for line in markdown.splitlines() if line.startswith("| **widened**")]
    assert rows == ["| **widened** (who) | `repo:acme/payments-api:ref:refs/heads/main` → "
                    "**`repo:acme/payments-api:ref:refs/heads/*`** (acme/payments-api, any branch) | "
                    "`github-push-payments` (team `payments`) | payments/{api,worker} | **pull, push** |   |"]
    assert comparison.changed_teams == ["payments"]


def test_more_access_for_the_same_account_is_a_widening_of_its_access():
    def project(push: bool) -> dict:
        config = base_config()
        if push:
            config["teams"]["payments"]["pushAccounts"] = ["prod-cluster"]
        return stack_config(config)

    base = judge("dev", project(False), run_program_for("dev", project(False)).resources, None)
    head = judge("dev", project(True), run_program_for("dev", project(True)).resources, None)
    comparison = compare(base, head, "main")
    assert {(w.kind, w.who_before, w.level_before, w.level_after) for w in comparison.widened} == {
        ("access", "333333333333 (prod-cluster)", "pull", "pull, push")}
    line = "    ^ 333333333333 (prod-cluster) → whole account → payments/{api,worker}: pull → pull, push"
    assert line in render_text(head, comparison)


def test_identical_findings_are_one_row_with_their_count():
    violations = [Violation("ecr-tag-immutability", "advisory", f"The ECR repository '{name}' must be immutable.",
                            f"urn:pulumi:dev::ecr-platform::aws:ecr/repository:Repository::{name}")
                  for name in (f"team-{i:04d}/worker" for i in range(30))]
    (finding,) = collapsed(violations)
    assert len(finding.resources) == 30
    result = judge("dev", stack_config(base_config()), run_program_for("dev", stack_config(base_config())).resources,
                   None)
    result.guard = Guard(ROOT / "policy", {}, "policy/config/dev.json")
    result.violations = violations
    markdown = render_markdown(result)
    rows = [line for line in markdown.splitlines() if "must be immutable" in line]
    assert len(rows) == 1 and "30 resources" in rows[0] and "29 more" in rows[0], rows


def test_compare_reads_the_base_from_git(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    config = write_config(repo / "Pulumi.dev.yaml", dev_config())

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", "Pulumi.dev.yaml")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    write_config(config, widened(dev_config()))
    run = run_cli("--config-file", str(config), "--compare", "HEAD", "--format", "json",
                  "--policy-config", str(fixtures.pack_config_file("dev")))
    assert run.returncode == 1, run.stderr  # the widening breaks the push-account allow list
    comparison = json.loads(run.stdout)["comparison"]
    pushes = {(w["whoBefore"], w["target"]) for w in comparison["widened"] if "push" in w["levelAfter"]}
    assert ("222222222222 (dev-cluster)", "dc43/contracts-app") in pushes
    assert comparison["removed"] == []
    assert all(v["enforcement"] == "mandatory" for v in comparison["newViolations"])


def test_a_stack_new_at_the_base_counts_every_grant_as_added(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "-C", str(repo), "init", "-q"], check=True)
    (repo / "README").write_text("x")
    subprocess.run(["git", "-C", str(repo), "add", "README"], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"],
        check=True,
    )
    config = write_config(repo / "Pulumi.dev.yaml", dev_config())
    run = run_cli("--config-file", str(config), "--compare", "HEAD", "--no-policy")
    assert run.returncode == 0, run.stderr
    assert "did not exist at HEAD" in run.stdout
    line = "    + repo:acme/dc43:environment:release → github-push-dc43 (team dc43) → dc43/{contracts-app,http-backend}"
    assert f"{line}: pull, push" in run.stdout

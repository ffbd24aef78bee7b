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
import subprocess
from pathlib import Path

import pytest
import yaml

from engine.program import ProgramRun
from review.check import judge, run_program_for
from review.deletions import find_deletions
from review.markdown import render_markdown
from review.report import ADDED, SIMULATED, compare, render_text, to_json

from .. import fixtures
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
    assert "222222222222 (dev-cluster) → account → dc43/contracts-app: push" in added
    assert "repo:acme/dc43-tools:* → github-push-dc43 → dc43/http-backend: push" in added
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


def test_cross_account_grants_are_a_section_of_their_own(widening):
    head, comparison = widening
    document = json.loads(to_json(head, comparison))["comparison"]
    cross = {(f["who"], f["target"], f["level"]) for f in document["crossAccountAdded"]}
    assert cross == {("222222222222 (dev-cluster)", r, "push") for r in ("dc43/contracts-app", "dc43/http-backend")}
    markdown = render_markdown(head, comparison)
    section = markdown.split("#### Cross-account access", 1)[1].split("####", 1)[0]
    row = "`222222222222 (dev-cluster)` | whole account | dc43/{contracts-app,http-backend} | **push** |"
    assert f"| {ADDED} | {row}" in section
    assert "github-push-dc43" not in section, "role grants belong to the Grants table"
    assert "  cross-account access:\n    + 222222222222 (dev-cluster) → whole account → dc43/" in render_text(
        head, comparison)


def test_the_comment_shows_the_diff_before_the_full_report(widening):
    head, comparison = widening
    markdown = render_markdown(head, comparison, max_chars=60_000)
    order = [markdown.index(marker) for marker in (
        "## ecr-platform check: `dev` compared with `main`", "### ❌ Mandatory violations",
        "### Changes against `main`",
        "#### ⚠️ Subjects that can assume more than one role", "#### Cross-account access", "#### Grants",
        "#### Violations", "### Full report", "#### By team (5)")]
    assert order == sorted(order), "a reviewer reads the verdict, the violations, then what changed, then the rest"
    new = [line for line in markdown.splitlines() if line.startswith(f"| {ADDED} | `")]
    assert len(new) >= len(comparison.new_violations), "new violations are marked in the violations table"


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
    pushes = {(f["who"], f["target"]) for f in comparison["added"] if f["level"] == "push"}
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
    assert "    + repo:acme/dc43:environment:release → github-push-dc43 → dc43/{contracts-app,http-backend}: push" in (
        run.stdout
    )

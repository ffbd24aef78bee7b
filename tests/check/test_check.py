"""`ecr-platform-check`: the report a reviewer reads, the diff of a widening change, the exit codes.

Golden files hold the user-facing report without the policy pack's findings (those are the
pack's text, tested in tests/policy). Regenerate them after an intended change with:
    UPDATE_GOLDEN=1 python -m pytest tests/check/test_check.py
which writes what these commands print:
    python -m ecr_platform_tools.check --stack dev --no-policy --format markdown > tests/golden/dev.md
    python -m ecr_platform_tools.check --stack dev --no-policy > tests/golden/dev.txt
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from ecr_platform_tools.check import judge, run_program_for
from ecr_platform_tools.program import ROOT, load_stack_config
from ecr_platform_tools.report import ADDED, compare, render_comparison_markdown, render_markdown, render_text

from .conftest import run_cli

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    expected = path.read_text() if path.exists() else ""
    assert text == expected, f"{path} is out of date; if the change is intended, rerun with UPDATE_GOLDEN=1"


def dev_config() -> dict:
    return load_stack_config(ROOT / "Pulumi.dev.yaml")


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


# ---------------------------------------------------------------- the report


def test_dev_report_matches_the_golden_files(dev):
    result = judge("dev", dev_config(), dev.resources, None)
    golden("dev.md", render_markdown(result))
    golden("dev.txt", render_text(result))


def test_the_documented_command_prints_the_golden_markdown():
    run = run_cli("--stack", "dev", "--no-policy", "--format", "markdown")
    assert run.returncode == 0, run.stderr
    assert run.stdout == (GOLDEN / "dev.md").read_text()


def test_dev_stack_draws_no_mandatory_violation(dev, dev_pack):
    result = judge("dev", dev_config(), dev.resources, dev_pack, "policy/config/dev.json")
    assert result.mandatory == [], "\n".join(f"{v.policy}: {v.message}" for v in result.mandatory)
    assert result.exit_code == 0
    markdown = render_markdown(result)
    assert "### Policy violations" in markdown and "`policy/config/dev.json`" in markdown


def test_json_lists_every_grant_as_a_fact(dev):
    document = json.loads(run_cli("--stack", "dev", "--no-policy", "--format", "json").stdout)
    facts = document["facts"]
    assert "repo:acme/dc43:environment:release → github-push-dc43 → dc43/contracts-app: push" in facts
    assert "222222222222 (dev-cluster) → account → dc43/contracts-app: pull" in facts
    assert not any(f.startswith("222222222222") and f.endswith(": push") for f in facts)
    assert document["exitCode"] == 0


# ---------------------------------------------------------------- exit codes


def test_clean_stack_exits_0():
    run = run_cli("--stack", "prod")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Result: OK" in run.stdout and "policy/config/prod.json" in run.stdout


def test_mutable_tags_in_prod_exit_1(tmp_path):
    config = load_stack_config(ROOT / "Pulumi.prod.yaml")
    config["ecr-platform:defaults"]["imageTagMutability"] = "MUTABLE"
    run = run_cli("--stack", "prod", "--config-file", str(write_config(tmp_path / "Pulumi.prod.yaml", config)))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "[mandatory] ecr-tag-immutability" in run.stdout
    assert "Result: FAIL" in run.stdout


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


def test_widening_change_shows_added_grants_and_new_violations(dev, dev_pack):
    base = judge("dev", dev_config(), dev.resources, dev_pack)
    head_config = widened(dev_config())
    head = judge("dev", head_config, run_program_for("dev", head_config), dev_pack)
    comparison = compare(base, head, "main")
    added = {f.line() for f in comparison.added}
    assert "222222222222 (dev-cluster) → account → dc43/contracts-app: push" in added
    assert "repo:acme/dc43-tools:* → github-push-dc43 → dc43/http-backend: push" in added
    assert not any("shared/data" in line for line in added), "nothing else may change"
    assert comparison.removed == []
    assert {v.policy for v in comparison.new_violations} == {"ecr-repository-policy-restricted"}
    markdown = render_comparison_markdown(comparison, head)
    row = "`222222222222 (dev-cluster)` | whole account | dc43/{contracts-app,http-backend} | **push** |"
    assert f"| {ADDED} | {row}" in markdown
    assert f"### {ADDED} New violations (2)" in markdown


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
    run = run_cli("--config-file", str(config), "--compare", "HEAD", "--format", "json")
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
    assert "  + repo:acme/dc43:environment:release → github-push-dc43 → dc43/{contracts-app,http-backend}: push" in (
        run.stdout
    )

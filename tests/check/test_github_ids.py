"""The access report and COMPARE with GitHub repository IDs (issue 22): each repository with its ID,
an ID that changed for the same name, and subjects added or removed per form."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from review.check import judge, run_program_for
from review.markdown import render_markdown
from review.report import CheckResult, compare, render_text, to_json

from .conftest import run_cli

FIXTURE = {
    "aws:region": "us-west-2",
    "aws:allowedAccountIds": ["210987654321"],
    "ecr-platform:github": {"organizations": ["acme"]},
    "ecr-platform:teams": {"dc43": {"repositories": ["contracts-app"],
                                    "github": [{"repository": "acme/dc43", "environments": ["release"]}]}},
}


def checked(repository: str) -> CheckResult:
    config: dict[str, Any] = json.loads(json.dumps(FIXTURE))
    config["ecr-platform:teams"]["dc43"]["github"][0]["repository"] = repository
    return judge("fixture", config, run_program_for("fixture", config).resources, None)


@pytest.fixture(scope="module")
def name_only() -> CheckResult:
    return checked("acme/dc43")


@pytest.fixture(scope="module")
def with_ids() -> CheckResult:
    return checked("acme@1000001/dc43@2000001")


def test_the_report_shows_each_repository_with_its_id(with_ids: CheckResult) -> None:
    text = render_text(with_ids)
    assert "trusted by repo:acme/dc43:environment:release (when repository ID 2000001)" in text
    assert "trusted by repo:acme@1000001/dc43@2000001:environment:release (when repository ID 2000001)" in text


def test_compare_calls_out_an_id_that_changed_for_the_same_name(with_ids: CheckResult) -> None:
    recreated = checked("acme@1000001/dc43@2999999")
    comparison = compare(with_ids, recreated, "main")
    (moved,) = comparison.moved
    assert (moved.name, moved.before, moved.after) == ("acme/dc43", ("2000001",), ("2999999",))
    assert "TRUST MOVES TO ANOTHER REPOSITORY: acme/dc43: repository ID 2000001 → 2999999" in \
        render_text(recreated, comparison)
    assert "Trust moves to another repository" in render_markdown(recreated, comparison)
    assert json.loads(to_json(recreated, comparison))["comparison"]["movedRepositories"] == [
        {"name": "acme/dc43", "before": ["2000001"], "after": ["2999999"]}]
    assert compare(with_ids, with_ids, "main").moved == [] and compare(with_ids, with_ids, "main").unchanged


def test_adding_ids_shows_the_subjects_per_form(name_only: CheckResult, with_ids: CheckResult) -> None:
    comparison = compare(name_only, with_ids, "main")
    added = {f.line() for f in comparison.added}
    removed = {f.line() for f in comparison.removed}
    assert any(line.startswith("repo:acme@1000001/dc43@2000001:environment:release (when repository ID 2000001)")
               for line in added), added
    assert any(line.startswith("repo:acme/dc43:environment:release (when repository ID 2000001)") for line in added)
    assert any(line.startswith("repo:acme/dc43:environment:release →") for line in removed), removed
    assert comparison.moved == [], "a name gaining its first ID is no move"




def test_a_malformed_id_stops_the_check_with_one_line_at_the_key_path(tmp_path) -> None:
    config: dict[str, Any] = json.loads(json.dumps(FIXTURE))
    config["ecr-platform:teams"]["dc43"]["github"][0]["repository"] = "acme@1000001/dc43@two"
    stack = tmp_path / "Pulumi.fixture.yaml"
    stack.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    run = run_cli("--stack", "prod", "--config-file", str(stack), "--no-policy")
    assert run.returncode == 2 and run.stdout == "", run.stdout + run.stderr
    problems = [line for line in run.stderr.splitlines() if line.lstrip().startswith("- ")]
    assert problems == ["  - teams.dc43.github[0].repository: \"acme@1000001/dc43@two\" is not GitHub's immutable "
                        "form <owner>@<owner id>/<repo>@<repo id> (both IDs positive integers); get them with: "
                        "gh api repos/acme/dc43 --jq '.owner.id, .id'"], run.stderr
    assert "Traceback" not in run.stderr

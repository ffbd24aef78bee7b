"""Least privilege and pinning in the platform's workflows, and the checks catch violations."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import pytest
import yaml

from devtools import workflow_snippet

from .lint import ACTIONS, PINNED_USES, PLATFORM_WORKFLOWS, ROOT, WORKFLOWS
from .rules import SAME_REPO_GUARD, all_problems, jobs, load, steps, uses


def text(name: str) -> str:
    return (WORKFLOWS / name).read_text()


@pytest.mark.parametrize("name", PLATFORM_WORKFLOWS)
def test_workflow_is_least_privilege_and_pinned(name: str) -> None:
    assert all_problems(text(name)) == []


def mutated(name: str, change: Any) -> str:
    workflow = load(text(name))
    change(workflow)
    return yaml.safe_dump(workflow, sort_keys=False)


def test_an_unpinned_action_is_caught() -> None:
    broken = text("ci.yml").replace(
        "actions/checkout@8e8c483db84b4bee98b60c0593521ed34d9990e8 # v6.0.1", "actions/checkout@v6")
    assert any(p.startswith("not pinned: ") for p in all_problems(broken))


def test_a_pin_without_its_release_comment_is_caught() -> None:
    broken = text("ci.yml").replace(" # v6.0.1", "")
    assert any(p.startswith("not pinned: ") for p in all_problems(broken))


def test_id_token_without_the_same_repo_guard_is_caught() -> None:
    def drop_guard(workflow: dict[str, Any]) -> None:
        del workflow["jobs"]["preview"]["if"]

    assert "job preview: id-token: write without `if: " + SAME_REPO_GUARD + "`" in all_problems(
        mutated("pull-request.yml", drop_guard))


def test_id_token_on_a_job_without_aws_credentials_is_caught() -> None:
    def grant_check_id_token(workflow: dict[str, Any]) -> None:
        workflow["jobs"]["check"]["permissions"]["id-token"] = "write"

    problems = all_problems(mutated("pull-request.yml", grant_check_id_token))
    assert "job check: id-token: write without configure-aws-credentials or pulumi/auth-actions" in problems


def test_workflow_wide_write_permissions_are_caught() -> None:
    def widen(workflow: dict[str, Any]) -> None:
        workflow["permissions"] = {"id-token": "write", "contents": "read"}

    assert any(p.startswith("top-level permissions") for p in all_problems(mutated("deploy.yml", widen)))


def test_missing_timeout_and_persisted_credentials_are_caught() -> None:
    def loosen(workflow: dict[str, Any]) -> None:
        job = workflow["jobs"]["ci"]
        del job["timeout-minutes"]
        job["steps"][0]["with"]["persist-credentials"] = True

    problems = all_problems(mutated("ci.yml", loosen))
    assert "job ci: no timeout-minutes" in problems
    assert "job ci: checkout without persist-credentials: false" in problems


def test_fork_pull_requests_get_the_check_without_credentials() -> None:
    workflow = load(text("pull-request.yml"))
    check = workflow["jobs"]["check"]
    assert "if" not in check, "the offline check must run for every pull request, forks included"
    assert check["permissions"] == {"contents": "read"}
    assert check["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    script = "\n".join(str(s.get("run", "")) for s in steps(check))
    assert "make setup" in script and 'venv/bin/ecr-platform-check --stack "$STACK" --format markdown' in script
    assert ">> \"$GITHUB_STEP_SUMMARY\"" in script
    assert not any("secrets." in str(s) for s in steps(check)), "fork runs get no secrets: the check needs none"


def check_step(workflow: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in steps(workflow["jobs"]["check"]) if "ecr-platform-check" in str(s.get("run", ""))]
    return step


def test_a_pull_request_is_judged_by_its_base_guard_with_the_checks_own_exit_code() -> None:
    step = check_step(load(text("pull-request.yml")))
    assert step["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert '--policy-ref "$BASE_SHA"' in step["run"], "the guard must come from the base, not the pull request"
    assert '--compare "$BASE_SHA"' in step["run"]
    assert "make -s check" not in step["run"], "make would turn the check's 1 or 3 into its own 2"
    assert 'exit "$status"' in step["run"]


def test_the_whole_report_is_an_artifact_the_comment_does_not_download() -> None:
    check = load(text("pull-request.yml"))["jobs"]["check"]
    step = check_step(load(text("pull-request.yml")))
    assert '--full-report "full-report/check-$STACK.md"' in step["run"] and "--max-chars 60000" in step["run"]
    uploads = {u["with"]["name"]: u["with"]["path"] for u in uses(check, "actions/upload-artifact@")}
    assert uploads["full-report-${{ matrix.stack }}"] == "full-report/"
    (download,) = uses(load(text("pull-request-comment.yml"))["jobs"]["comment"], "actions/download-artifact@")
    pattern = download["with"]["pattern"].rstrip("*")
    assert [name for name in uploads if name.startswith(pattern)] == ["check-${{ matrix.stack }}"]
    assert "full-report-$STACK artifact" in step["run"], "a shortened comment says where the rest is"


def test_the_comment_is_never_cut_mid_markdown() -> None:
    posted = "\n".join(str(s.get("run", "")) for s in steps(load(text("pull-request-comment.yml"))["jobs"]["comment"]))
    assert not re.search(r"head -c \d+ \S*check-", posted), "cutting bytes leaves tables and <details> broken"
    assert "jq -Rs length comment.md) > 65000" in posted
    assert 'marker="<!-- ecr-platform-check:$stack -->"' in posted, "one sticky comment per stack"


def test_the_comment_workflow_runs_no_pull_request_code() -> None:
    workflow = load(text("pull-request-comment.yml"))
    assert set(workflow["on"]) == {"workflow_run"}
    assert workflow["on"]["workflow_run"]["workflows"] == [load(text("pull-request.yml"))["name"]]
    for name, job in jobs(workflow):
        assert not uses(job, "actions/checkout@"), f"job {name} checks out code next to a write token"
        assert "workflow_run.event == 'pull_request'" in job["if"]
        assert job["permissions"] == {"actions": "read", "pull-requests": "write"}


def test_the_generators_pins_are_where_dependabot_updates_them() -> None:
    # Dependabot's github-actions updater reads workflows under `/` and action.yml files in the
    # directories listed: the pins file must be in one, each pin in the form it updates.
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    (actions,) = [u for u in config["updates"] if u["package-ecosystem"] == "github-actions"]
    where = "/" + workflow_snippet.PINS_FILE.parent.relative_to(ROOT).as_posix()
    assert workflow_snippet.PINS_FILE.name == "action.yml"
    assert any(fnmatch.fnmatchcase(where, d) for d in actions["directories"]), f"Dependabot never reads {where}"
    lines = [line for line in workflow_snippet.PINS_FILE.read_text().splitlines() if re.match(r"\s*-?\s*uses:", line)]
    assert lines and all(PINNED_USES.search(line) for line in lines), lines
    pins = {str(pin) for pin in workflow_snippet.read_pins().values()}
    assert pins == {PINNED_USES.search(line).group(0).removeprefix("uses:").strip() for line in lines}  # type: ignore[union-attr]


def test_no_workflow_runs_the_pins_action() -> None:
    files = [*WORKFLOWS.glob("*.yml"), *ACTIONS.glob("*/action.yml")]
    name = workflow_snippet.PINS_FILE.parent.name
    assert not [p for p in files if f"$/.github/actions/{name}" in p.read_text()]


def test_the_comment_reads_what_the_check_uploads() -> None:
    check = load(text("pull-request.yml"))["jobs"]["check"]
    comment = load(text("pull-request-comment.yml"))["jobs"]["comment"]
    (upload,) = [u for u in uses(check, "actions/upload-artifact@") if u["with"]["path"] == "report/"]
    (download,) = uses(comment, "actions/download-artifact@")
    assert upload["with"]["name"] == "check-${{ matrix.stack }}" and download["with"]["pattern"] == "check-*"
    written = "\n".join(str(s.get("run", "")) for s in steps(check))
    posted = "\n".join(str(s.get("run", "")) for s in steps(comment))
    assert '> "report/check-$STACK.md"' in written and "> report/pr-number" in written
    assert f"for stack in {' '.join(check['strategy']['matrix']['stack'])}; do" in posted
    assert '"report/check-$stack.md"' in posted and "report/pr-number" in posted

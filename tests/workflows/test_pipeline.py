"""The delivery pipeline holds the least privilege it enforces: what each point of issue 17 asks
of the workflows, checked on the files, each check shown to catch the violation it names.

- Pulumi access by OIDC: no stored token; the preview scope for previews, an environment-scoped
  scope (and AWS role) for each `up`.
- Deploy waits for CI, per-environment concurrency that queues instead of cancelling, and the
  prod preview (with its saved plan) before the approval-gated `up`, which applies that plan.
- One pinned Pulumi CLI and the locked runtime in every Pulumi job; Dependabot; CODEOWNERS.
- A scheduled drift check that opens, updates or closes an issue.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from .lint import ACTIONS, ROOT, WORKFLOWS
from .rules import PULUMI, PULUMI_AUTH, all_problems, called, jobs, load, steps, uses

SETUP_ACTION = "$/.github/actions/pulumi-setup"


def workflow(name: str) -> dict[str, Any]:
    return load((WORKFLOWS / name).read_text())


def setup_step(job: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if s.get("uses") == SETUP_ACTION]
    return step


def pulumi_step(job: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith(PULUMI)]
    return step


def problems_of(document: dict[str, Any]) -> list[str]:
    return all_problems(yaml.safe_dump(document, sort_keys=False))


# Every job that runs the Pulumi CLI against a real stack: (workflow, job, read-only?).
PULUMI_JOBS = [("pull-request.yml", "preview", True), ("pulumi-stack.yml", "preview", True),
               ("pulumi-stack.yml", "up", False), ("drift.yml", "preview", True)]


# --- Pulumi credentials by OIDC ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "job_name", "read_only"), PULUMI_JOBS)
def test_each_pulumi_job_gets_its_own_short_lived_credentials(name: str, job_name: str, read_only: bool) -> None:
    job = workflow(name)["jobs"][job_name]
    setup = setup_step(job)["with"]
    if read_only:
        # previews (pull requests, before an approval, drift): the read-only Pulumi scope and role,
        # outside any environment
        assert "environment" not in job
        assert setup["pulumi-scope"] == "${{ vars.PULUMI_PREVIEW_SCOPE }}"
        assert "PREVIEW_ROLE_ARN" in setup["aws-role"] or setup["aws-role"] in (
            "${{ matrix.aws-role }}", "${{ inputs.preview-role }}")
    else:
        # up: only a job in the GitHub environment can read its scope and deploy role
        assert job["environment"] == "${{ inputs.environment }}"
        assert setup["pulumi-scope"] == "${{ vars.PULUMI_TOKEN_SCOPE }}"
        assert setup["aws-role"] == "${{ vars.PULUMI_DEPLOY_ROLE_ARN }}"
    assert job["permissions"]["id-token"] == "write"
    assert "env" not in pulumi_step(job), "the Pulumi token comes from pulumi/auth-actions, not an env secret"


def test_the_setup_action_exchanges_the_oidc_token_for_a_scoped_pulumi_token() -> None:
    action = yaml.safe_load((ACTIONS / "pulumi-setup" / "action.yml").read_text())
    (auth,) = uses(action["runs"], PULUMI_AUTH)
    assert auth["if"] == "inputs.backend-url == ''", "skipped only for a self-managed backend"
    assert auth["with"]["organization"] == "${{ inputs.pulumi-organization }}"
    assert auth["with"]["scope"] == "${{ inputs.pulumi-scope }}"
    assert auth["with"]["requested-token-type"] == "${{ steps.stack.outputs.token-type }}"
    assert int(auth["with"]["token-expiration"]) <= 3600
    script = next(s["run"] for s in action["runs"]["steps"] if s.get("id") == "stack")
    # only team or personal tokens: an organization token would be an admin token for every stack
    assert "^(team|user):" in script and "access_token:team" in script and "access_token:personal" in script
    assert "access_token:organization" not in (ACTIONS / "pulumi-setup" / "action.yml").read_text()
    (aws,) = uses(action["runs"], "aws-actions/configure-aws-credentials@")
    assert "${{ github.run_id }}" in aws["with"]["role-session-name"]


def test_a_stored_pulumi_token_is_caught() -> None:
    stack = workflow("pulumi-stack.yml")
    pulumi_step(stack["jobs"]["up"])["env"] = {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
    assert "a stored secret: every credential comes by OIDC (GitHub token only)" in problems_of(stack)


def test_no_workflow_or_action_mentions_a_long_lived_pulumi_token() -> None:
    for path in [*WORKFLOWS.glob("*.yml"), *ACTIONS.glob("*/action.yml")]:
        assert "secrets.PULUMI_ACCESS_TOKEN" not in path.read_text(), path


# --- deploy: CI first, per-environment queues, prod preview before up -------------------------------


def test_deploy_waits_for_ci_on_the_same_commit() -> None:
    deploy = workflow("deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    assert deploy["jobs"]["ci"]["uses"] == "$/.github/workflows/ci.yml"
    assert (deploy["jobs"]["dev"]["needs"], deploy["jobs"]["prod"]["needs"]) == ("ci", "dev")
    ci = workflow("ci.yml")
    assert "workflow_call" in ci["on"] and "push" not in ci["on"], "main is tested once, inside the deploy"
    assert any(s.get("run") == "bash .ci/run" for s in ci["jobs"]["ci"]["steps"])


def test_concurrency_is_per_environment_and_queues_every_deploy() -> None:
    deploy = workflow("deploy.yml")
    assert "concurrency" not in deploy, "a workflow-wide group makes prod's approval block dev"
    groups = {}
    for name in ("dev", "prod"):
        concurrency = deploy["jobs"][name]["concurrency"]
        assert concurrency["cancel-in-progress"] is False
        assert concurrency["queue"] == "max", "without it a newer merge cancels the pending deploy"
        groups[name] = concurrency["group"]
    assert len(set(groups.values())) == 2 and all("${{" not in g for g in groups.values())
    assert "concurrency" not in workflow("pulumi-stack.yml"), "the callers hold the groups"


def test_each_environment_runs_its_own_stack_behind_its_own_protection_rules() -> None:
    deploy = workflow("deploy.yml")
    calls = {name: deploy["jobs"][name] for name in ("dev", "prod")}
    for job in calls.values():
        assert job["uses"] == "$/.github/workflows/pulumi-stack.yml"
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert calls["dev"]["with"] == {"stack": "dev", "environment": "dev",
                                    "preview-role": "${{ vars.PULUMI_PREVIEW_ROLE_ARN_DEV }}"}
    assert calls["prod"]["with"] == {"stack": "prod", "environment": "production",
                                     "preview-role": "${{ vars.PULUMI_PREVIEW_ROLE_ARN_PROD }}"}


def approval_problems(stack: dict[str, Any]) -> list[str]:
    """What keeps the approver from approving exactly what `up` applies, in pulumi-stack.yml."""
    problems = []
    preview, up = stack["jobs"]["preview"], stack["jobs"]["up"]
    if up.get("needs") != "preview":
        problems.append("up does not wait for the preview")
    if "environment" in preview:
        problems.append("the preview waits for the approval it should inform")
    shown, applied = pulumi_step(preview)["with"], pulumi_step(up)["with"]
    if (shown.get("command"), shown.get("comment-on-summary"), shown.get("diff")) != ("preview", True, True):
        problems.append("the preview's diff is not in the run summary")
    if applied.get("command") != "up" or not shown.get("plan") or applied.get("plan") != shown.get("plan"):
        problems.append("up does not apply the plan the preview saved")
    uploads, downloads = uses(preview, "actions/upload-artifact@"), uses(up, "actions/download-artifact@")
    plan_file = Path(str(shown.get("plan"))).name
    if not (uploads and downloads and uploads[0]["with"]["path"] == shown.get("plan")
            and uploads[0]["with"].get("overwrite") is True
            and downloads[0]["with"]["name"] == uploads[0]["with"]["name"]
            and Path(downloads[0]["with"]["path"], plan_file).as_posix() == applied.get("plan")):
        problems.append("the plan does not travel from the preview job to up")
    for job in (preview, up):
        settings = pulumi_step(job)["with"]
        if (settings.get("policyPacks"), settings.get("policyPackConfigs")) != (
                "policy", "policy/config/${{ inputs.stack }}.json"):
            problems.append("a pulumi step without the policy pack and its environment config")
    return problems


@pytest.mark.parametrize("job_name", ["preview", "up"])
def test_only_the_tip_of_main_is_previewed_and_deployed(job_name: str) -> None:
    # a re-run of an old deploy run, or a late queued one, would apply an older commit's plan
    job = workflow("pulumi-stack.yml")["jobs"][job_name]
    names = [str(s.get("name") or s.get("uses") or s.get("run")) for s in job["steps"]]
    (guard,) = [s for s in job["steps"] if "scripts/deploy_guard.sh" in str(s.get("run", ""))]
    assert guard["run"] == 'bash scripts/deploy_guard.sh "$GITHUB_SHA" "$STACK"'
    assert guard["env"]["STACK"] == "${{ inputs.stack }}"
    position = job["steps"].index(guard)
    assert position < names.index(SETUP_ACTION), "the guard runs before any credentials"
    assert all(not str(s.get("uses", "")).startswith(PULUMI) for s in job["steps"][:position])
    assert (ROOT / "scripts" / "deploy_guard.sh").is_file()


def test_the_approver_sees_the_preview_and_up_applies_exactly_its_plan() -> None:
    assert approval_problems(workflow("pulumi-stack.yml")) == []


def test_an_up_without_the_plan_or_before_the_preview_is_caught() -> None:
    stack = workflow("pulumi-stack.yml")
    del pulumi_step(stack["jobs"]["up"])["with"]["plan"]
    del stack["jobs"]["up"]["needs"]
    stack["jobs"]["preview"]["environment"] = "${{ inputs.environment }}"
    pulumi_step(stack["jobs"]["preview"])["with"]["comment-on-summary"] = False
    assert approval_problems(stack) == [
        "up does not wait for the preview", "the preview waits for the approval it should inform",
        "the preview's diff is not in the run summary", "up does not apply the plan the preview saved",
        "the plan does not travel from the preview job to up"]


@pytest.mark.parametrize(("name", "job_name"), [("pull-request.yml", "preview"), ("drift.yml", "preview")])
def test_matrix_previews_cover_both_stacks_with_their_own_policy_config(name: str, job_name: str) -> None:
    job = workflow(name)["jobs"][job_name]
    include = job["strategy"]["matrix"]["include"]
    assert [(m["stack"], m["aws-role"]) for m in include] == [
        ("dev", "${{ vars.PULUMI_PREVIEW_ROLE_ARN_DEV }}"), ("prod", "${{ vars.PULUMI_PREVIEW_ROLE_ARN_PROD }}")]
    for entry in include:
        assert (ROOT / f"policy/config/{entry['stack']}.json").is_file()
        assert (ROOT / f"Pulumi.{entry['stack']}.yaml").is_file()
    assert setup_step(job)["with"]["stack"] == "${{ matrix.stack }}"


def test_the_pull_request_preview_comments_with_the_policy_pack() -> None:
    step = pulumi_step(workflow("pull-request.yml")["jobs"]["preview"])["with"]
    assert (step["command"], step["comment-on-pr"], step["policyPacks"]) == ("preview", True, "policy")
    assert step["policyPackConfigs"] == "policy/config/${{ matrix.stack }}.json"
    assert step["stack-name"] == "${{ steps.setup.outputs.stack-name }}"


# --- one CLI, the locked runtime ----------------------------------------------------------------------


def test_every_pulumi_step_installs_the_pinned_cli() -> None:
    found = [(path.name, name) for path in WORKFLOWS.glob("*.yml") for name, job in jobs(load(path.read_text()))
             if uses(job, PULUMI)]
    assert sorted(found) == sorted({(n, j) for n, j, _ in PULUMI_JOBS}), "a Pulumi job these tests do not know"
    for name, job_name in found:
        for step in uses(workflow(name)["jobs"][job_name], PULUMI):
            assert step["with"]["pulumi-version-file"] == ".pulumi-version", (name, job_name)


def test_a_floating_cli_a_dev_venv_and_a_missing_token_exchange_are_caught() -> None:
    stack = workflow("pulumi-stack.yml")
    up = stack["jobs"]["up"]
    del pulumi_step(up)["with"]["pulumi-version-file"]
    pulumi_step(up)["with"]["pulumi-version"] = "^3"
    up["steps"].insert(1, {"run": "make setup"})
    up["steps"] = [s for s in up["steps"] if s.get("uses") != SETUP_ACTION]
    problems = problems_of(stack)
    assert "job up: pulumi/actions without pulumi-version-file: .pulumi-version" in problems
    assert "job up: `make setup` puts dev and benchmark tools next to cloud credentials" in problems
    assert "job up: runs pulumi without `make runtime` (the locked runtime venvs)" in problems
    assert "job up: runs pulumi without pulumi/auth-actions (a short-lived Pulumi token)" in problems
    assert "job up: id-token: write without configure-aws-credentials or pulumi/auth-actions" in problems


def test_a_caller_granting_more_than_the_called_workflow_uses_is_caught() -> None:
    deploy = workflow("deploy.yml")
    deploy["jobs"]["prod"]["permissions"]["issues"] = "write"
    assert "job prod: issues: write that no job of $/.github/workflows/pulumi-stack.yml uses" in problems_of(deploy)


def test_the_setup_action_installs_the_runtime_not_the_dev_venv() -> None:
    action = yaml.safe_load((ACTIONS / "pulumi-setup" / "action.yml").read_text())
    scripts = [s.get("run", "") for s in steps(action["runs"])]
    assert "make runtime" in scripts and not any("make setup" in s for s in scripts)


# --- the drift check ----------------------------------------------------------------------------------


def test_drift_is_checked_every_day_read_only_and_reported_as_issues() -> None:
    drift = workflow("drift.yml")
    assert drift["on"]["schedule"] and "workflow_dispatch" in drift["on"]
    preview = drift["jobs"]["preview"]
    script = "\n".join(str(s.get("run", "")) for s in preview["steps"])
    assert re.search(r"pulumi preview --stack \"\$STACK_NAME\" --refresh --json", script)
    assert "--policy-pack" not in script and "up" not in re.findall(r"pulumi (\w+)", script)
    assert ".github/scripts/drift_report.py" in script and (ROOT / ".github/scripts/drift_report.py").is_file()
    (upload,) = uses(preview, "actions/upload-artifact@")
    report = drift["jobs"]["report"]
    assert report["needs"] == "preview" and report["permissions"] == {"issues": "write"}
    assert not uses(report, "actions/checkout@"), "the job that can write issues runs no repository code"
    (download,) = uses(report, "actions/download-artifact@")
    assert upload["with"]["name"] == "drift-${{ matrix.stack }}" and download["with"]["pattern"] == "drift-*"
    posted = "\n".join(str(s.get("run", "")) for s in report["steps"])
    stacks = " ".join(m["stack"] for m in preview["strategy"]["matrix"]["include"])
    assert f"for stack in {stacks}; do" in posted
    for call in ('--method POST "repos/$REPO/issues"', '"repos/$REPO/issues/$existing/comments"',
                 "-f state=closed"):
        assert call in posted


def test_drift_runs_from_main_only_and_says_so_elsewhere() -> None:
    # the preview roles trust main: from another branch every check would fail at AssumeRole
    drift = workflow("drift.yml")
    for name in ("preview", "report"):
        assert "github.ref == 'refs/heads/main'" in drift["jobs"][name]["if"], name
    elsewhere = drift["jobs"]["main-only"]
    assert elsewhere["if"] == "github.ref != 'refs/heads/main'" and elsewhere["permissions"] == {}
    script = elsewhere["steps"][0]["run"]
    assert "::error::" in script and "run it from main" in script and script.rstrip().endswith("exit 1")


# --- Dependabot and CODEOWNERS -------------------------------------------------------------------------


def test_dependabot_watches_every_pin_and_every_lock() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"github-actions", "pip"}
    action_dirs = updates["github-actions"]["directories"]
    listed = {"/" + p.parent.relative_to(ROOT).as_posix() for p in ACTIONS.glob("*/action.yml")}
    assert listed, "no composite action found"
    assert "/" in action_dirs and listed <= set(action_dirs), (
        f"Dependabot would never bump the pins in {sorted(listed - set(action_dirs))}: list each action folder")
    lock_dirs = {"/" + p.parent.relative_to(ROOT).as_posix().removeprefix(".")
                 for p in [*ROOT.glob("requirements*.txt"), *ROOT.glob("*/requirements*.txt")]}
    assert lock_dirs == {"/", "/policy"} == set(updates["pip"]["directories"])
    for update in updates.values():
        assert update["cooldown"]["default-days"] >= 3 and update["groups"]


def test_codeowners_guard_the_pack_and_the_pipeline() -> None:
    owners = {}
    for line in (ROOT / ".github" / "CODEOWNERS").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, *teams = line.split()
            owners[pattern] = teams
            assert teams and all(t.startswith("@") for t in teams), line
            assert list(ROOT.glob(pattern.strip("/"))), f"CODEOWNERS pattern {pattern} matches nothing"
    assert {"/policy/", "/.github/", "/Pulumi.yaml", "/devtools/templates/", "/scripts/deploy_guard.sh",
            "/.pulumi-version"} <= set(owners)


def test_every_local_reference_resolves() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for name, job in jobs(load(path.read_text())):
            if str(job.get("uses", "")).startswith("$/"):
                assert called(job) is not None, (path.name, name)
            steps(job)  # loads every `$/` composite action or fails

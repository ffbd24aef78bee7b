"""Every workflow, the platform's and the generated ones, passes actionlint; a broken one does not."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from .lint import ACTIONS, PLATFORM_WORKFLOWS, WORKFLOWS, actionlint, by_release_tag, tool


def platform_workflows() -> list[Path]:
    found = sorted(WORKFLOWS.glob("*.y*ml"))
    assert {p.name for p in found} >= set(PLATFORM_WORKFLOWS), f"workflows missing from {WORKFLOWS}: {found}"
    return found


def test_platform_workflows_pass_actionlint() -> None:
    findings = actionlint(platform_workflows())
    assert not findings, "actionlint findings:\n" + "\n".join(map(str, findings))


def test_pinned_actions_are_used_as_their_release_defines(tmp_path: Path) -> None:
    # A SHA pin hides the action from actionlint's catalogue; under its release tag, inputs,
    # required inputs and deprecated runtimes (node20) are checked too.
    # The composite actions come along, so the inputs each workflow passes them are checked too
    # (actionlint finds `$/` actions from the repository root: hence `git init`).
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for path in platform_workflows():
        (workflows / path.name).write_text(by_release_tag(path.read_text()))
    for action in ACTIONS.glob("*/action.yml"):
        copy = tmp_path / action.relative_to(ACTIONS.parents[1])
        copy.parent.mkdir(parents=True)
        copy.write_text(by_release_tag(action.read_text()))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    findings = actionlint(sorted(workflows.iterdir()), cwd=tmp_path)
    assert not findings, "under their release tags:\n" + "\n".join(map(str, findings))


def test_a_wrong_input_to_the_composite_action_is_caught(tmp_path: Path) -> None:
    shutil.copytree(ACTIONS.parent, tmp_path / ".github")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    drift = tmp_path / ".github" / "workflows" / "drift.yml"
    drift.write_text(drift.read_text().replace("purpose: drift", "purpos: drift"))
    messages = "\n".join(map(str, actionlint([drift], cwd=tmp_path)))
    assert 'input "purpos" is not defined' in messages and 'missing input "purpose"' in messages


def test_the_composite_actions_scripts_pass_shellcheck(tmp_path: Path) -> None:
    # actionlint shellchecks workflow steps only; the composite's steps are checked here.
    scripts = []
    for action in sorted(ACTIONS.glob("*/action.yml")):
        for index, step in enumerate(yaml.safe_load(action.read_text())["runs"]["steps"]):
            if "run" in step:
                assert step.get("shell") == "bash", f"{action}: step {index} needs shell: bash"
                assert "${{" not in step["run"], f"{action}: step {index}: pass expressions through env"
                script = tmp_path / f"{action.parent.name}-{index}.sh"
                script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"])
                scripts.append(str(script))
    assert scripts, "no composite action scripts found"
    result = subprocess.run([tool("shellcheck"), "--severity=style", *scripts], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout


BROKEN = """\
name: broken
on:
  pull_request:
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
      - run: echo $UNQUOTED
      - run: echo "${{ steps.nope.outputs.x }}"
      - uses: actions/checkout@v6
        with:
          persist-credential: false
  deploy:
    needs: nonexistent
    runs-on: ubuntu-latest
"""


def test_actionlint_fails_on_a_broken_workflow(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "broken.yml").write_text(BROKEN)
    findings = actionlint([workflows / "broken.yml"], cwd=tmp_path)
    kinds = {f.kind for f in findings}
    messages = "\n".join(map(str, findings))
    # script injection, shellcheck (so the integration is live), an unknown step, a misspelt
    # input and a job dependency that does not exist: each must be caught
    assert "potentially untrusted" in messages, messages
    assert "shellcheck" in kinds, messages
    assert any("steps.nope" in f.message or '"nope"' in f.message for f in findings), messages
    assert "persist-credential" in messages, messages
    assert "nonexistent" in messages, messages

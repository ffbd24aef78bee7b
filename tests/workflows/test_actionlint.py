"""Every workflow, the platform's and the generated ones, passes actionlint; a broken one does not."""

from __future__ import annotations

from pathlib import Path

from .lint import PLATFORM_WORKFLOWS, WORKFLOWS, actionlint, by_release_tag


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
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for path in platform_workflows():
        (workflows / path.name).write_text(by_release_tag(path.read_text()))
    findings = actionlint(sorted(workflows.iterdir()), cwd=tmp_path)
    assert not findings, "under their release tags:\n" + "\n".join(map(str, findings))


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

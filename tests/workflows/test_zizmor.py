"""zizmor (the GitHub Actions static analyser) finds nothing in the platform's workflows, its
composite action and its Dependabot config, in every persona (regular, pedantic, auditor),
run offline; every finding it is told to ignore is justified in a comment next to the ignore.

The product-team workflows the generator writes are checked in test_workflow_snippet.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .lint import ROOT, zizmor

GITHUB = ROOT / ".github"
PERSONAS = ("regular", "pedantic", "auditor")


def platform_files() -> list[Path]:
    files = sorted([*GITHUB.glob("workflows/*.yml"), *GITHUB.glob("actions/*/action.yml"), GITHUB / "dependabot.yml"])
    assert len(files) >= 8, files
    return files


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_platform_is_clean(persona: str) -> None:
    run = zizmor([GITHUB.relative_to(ROOT)], persona)
    assert sorted(run.audited) == sorted(str(p.relative_to(ROOT)) for p in platform_files()), "zizmor skipped a file"
    assert run.findings == [], "\n".join(map(str, run.findings))


IGNORE = re.compile(r"#\s*zizmor:\s*ignore\[(?P<rules>[\w,\s-]+)\]")


def ignores() -> list[tuple[Path, int, list[str], str]]:
    """Every ignore comment: file, line, the audits it silences, and the comment block above it."""
    found = []
    for path in platform_files():
        lines = path.read_text().splitlines()
        for index, line in enumerate(lines):
            match = IGNORE.search(line)
            if match is None:
                continue
            block = []
            above = index - 1
            while above >= 0 and lines[above].lstrip().startswith("#"):
                block.insert(0, lines[above].strip().lstrip("#").strip())
                above -= 1
            rules = [r.strip() for r in match.group("rules").split(",")]
            found.append((path, index + 1, rules, " ".join(block)))
    return found


def test_every_ignore_names_its_audit_and_says_why() -> None:
    for path, line, rules, justification in ignores():
        where = f"{path.relative_to(ROOT)}:{line}"
        assert all(rule in justification for rule in rules), f"{where}: the comment above must name {rules}"
        assert len(justification.split()) >= 20, f"{where}: say why the finding does not apply here"


def test_an_ignore_silences_only_its_finding(tmp_path: Path) -> None:
    # Without its ignore comment the comment workflow is flagged: the ignore is what silences it,
    # and zizmor audits that file.
    shutil.copytree(GITHUB, tmp_path / ".github")
    target = tmp_path / ".github" / "workflows" / "pull-request-comment.yml"
    assert ignores(), "no ignore comments: this test would prove nothing"
    target.write_text(IGNORE.sub("", target.read_text()))
    run = zizmor([tmp_path / ".github"], "regular", cwd=tmp_path)
    assert [(f.file.rsplit("/", 1)[-1], f.kind) for f in run.findings] == [
        ("pull-request-comment.yml", "dangerous-triggers")]


BROKEN = """\
name: broken
on:
  pull_request_target:
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v6
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_zizmor_fails_a_dangerous_workflow(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "broken.yml").write_text(BROKEN)
    kinds = {f.kind for f in zizmor([workflows / "broken.yml"], "regular", cwd=tmp_path).findings}
    assert {"template-injection", "unpinned-uses", "dangerous-triggers", "excessive-permissions",
            "artipacked"} <= kinds, kinds


def test_pedantic_asks_more_than_regular(tmp_path: Path) -> None:
    # the pedantic run is not a copy of the regular one: an unnamed job, no concurrency and a
    # Dependabot entry without a cooldown pass the regular persona only
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "plain.yml").write_text(
        "name: plain\non:\n  push:\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n"
        "    timeout-minutes: 5\n    steps:\n      - run: echo hello\n")
    (tmp_path / ".github" / "dependabot.yml").write_text(
        "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n    schedule:\n      interval: weekly\n")
    regular = zizmor([tmp_path / ".github"], "regular", cwd=tmp_path).findings
    pedantic = {f.kind for f in zizmor([tmp_path / ".github"], "pedantic", cwd=tmp_path).findings}
    assert {"anonymous-definition", "concurrency-limits", "dependabot-cooldown"} <= pedantic
    assert {"anonymous-definition", "concurrency-limits"}.isdisjoint(f.kind for f in regular)

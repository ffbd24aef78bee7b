"""The drift check's verdict (.github/scripts/drift_report.py), run as drift.yml runs it, on
`pulumi preview --json` digests in the CLI's format (pkg/backend/display/json.go: `steps[]` with
`op`, `urn`, `diffReasons`; `changeSummary` by operation)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .lint import ROOT

SCRIPT = ROOT / ".github" / "scripts" / "drift_report.py"
STACK_URN = "urn:pulumi:prod::ecr-platform::pulumi:pulumi:Stack::ecr-platform-prod"


def urn(kind: str, name: str) -> str:
    return f"urn:pulumi:prod::ecr-platform::ecr-platform:index:TeamRegistry${kind}::{name}"


def digest(*steps: dict[str, Any]) -> str:
    summary: dict[str, int] = {}
    for step in steps:
        summary[step["op"]] = summary.get(step["op"], 0) + 1
    return json.dumps({"steps": list(steps), "changeSummary": summary, "diagnostics": []})


def run(tmp_path: Path, preview: str, exit_code: int = 0, stderr: str = "") -> tuple[int, str, str]:
    (tmp_path / "preview.json").write_text(preview)
    (tmp_path / "preview.err").write_text(stderr)
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--stack", "prod", "--exit-code", str(exit_code),
         "--preview", str(tmp_path / "preview.json"), "--stderr", str(tmp_path / "preview.err"),
         "--run-url", "https://example.invalid/run/1", "--out", str(tmp_path / "drift")],
        capture_output=True, text=True, timeout=30, check=False)
    status = (tmp_path / "drift" / "drift-prod.status").read_text().strip()
    return result.returncode, status, (tmp_path / "drift" / "drift-prod.md").read_text()


def test_a_stack_that_matches_main_is_clean(tmp_path: Path) -> None:
    code, status, report = run(tmp_path, digest(
        {"op": "same", "urn": STACK_URN},
        {"op": "refresh", "urn": urn("aws:ecr/repository:Repository", "payments-api")},
        {"op": "same", "urn": urn("aws:ecr/repository:Repository", "payments-api")},
        {"op": "read", "urn": urn("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github")}))
    assert (code, status) == (0, "clean")
    assert "`prod` matches main" in report and "https://example.invalid/run/1" in report


def test_a_resource_changed_outside_pulumi_is_drift_with_what_changed(tmp_path: Path) -> None:
    code, status, report = run(tmp_path, digest(
        {"op": "same", "urn": STACK_URN},
        {"op": "update", "urn": urn("aws:ecr/repository:Repository", "payments-api"),
         "diffReasons": ["imageTagMutability", "imageScanningConfiguration"]},
        {"op": "create", "urn": urn("aws:iam/rolePolicy:RolePolicy", "payments-push")}))
    assert (code, status) == (0, "drift"), "drift is reported by the issue, not by a red job"
    assert "proposes 1 create, 1 update" in report
    assert ("| update | `aws:ecr/repository:Repository` | `payments-api` | `imageTagMutability`, "
            "`imageScanningConfiguration` |") in report
    assert "| create | `aws:iam/rolePolicy:RolePolicy` | `payments-push` | — |" in report


def test_a_preview_that_failed_is_an_error_not_a_verdict(tmp_path: Path) -> None:
    code, status, report = run(tmp_path, "", exit_code=255,
                               stderr="error: getting stack: 403 Forbidden: team token lacks stack:read\n")
    assert (code, status) == (1, "error")
    assert "could not run" in report and "lacks stack:read" in report
    # a zero exit without a digest says nothing either
    assert run(tmp_path, "not json", exit_code=0)[:2] == (1, "error")
    # nor does a failure whose output happens to be a digest with changes
    failed = digest({"op": "delete", "urn": urn("aws:ecr/repository:Repository", "x")})
    assert run(tmp_path, failed, exit_code=255)[:2] == (1, "error")


def test_a_long_report_is_capped_and_cells_cannot_break_the_table(tmp_path: Path) -> None:
    steps = [{"op": "update", "urn": urn("aws:ecr/repository:Repository", f"team-{i}"), "diffReasons": ["tags"]}
             for i in range(130)]
    steps.insert(0, {"op": "delete", "urn": urn("aws:ecr/repository:Repository", "a|b")})
    _, status, report = run(tmp_path, digest(*steps))
    assert status == "drift"
    rows = [line for line in report.splitlines() if line.startswith("| update |")]
    assert len(rows) == 99 and "| … | 31 more in the run's log | | |" in report
    assert "| delete | `aws:ecr/repository:Repository` | `a\\|b` | — |" in report

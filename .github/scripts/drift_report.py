"""Turn one `pulumi preview --refresh --json` of a stack into the drift check's verdict and report.

    python .github/scripts/drift_report.py --stack prod --exit-code 0 \\
        --preview preview.json --stderr preview.err --run-url URL --out report/

Writes `<out>/drift-<stack>.status` (`clean`, `drift` or `error`) and `<out>/drift-<stack>.md`
(what differs, for the issue drift.yml opens or updates). Exit 0 for `clean` and `drift` (the
issue is the signal), 1 for `error`: a preview that failed says nothing about drift, so the job
goes red instead.

`--expect-no-changes` is not used: it turns "the stack drifted" into the same non-zero exit as
"the preview could not run" (no credentials, a policy error). The JSON digest says which.
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# Steps that change nothing: unchanged resources, reads of external resources, the refresh itself.
NO_CHANGE = frozenset({"same", "read", "refresh"})
MAX_ROWS = 100
MAX_STDERR = 4000


def changes(digest: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of the preview that would change something."""
    return [step for step in digest.get("steps") or [] if step.get("op") not in NO_CHANGE]


def summary_counts(digest: dict[str, Any]) -> dict[str, int]:
    return {op: n for op, n in (digest.get("changeSummary") or {}).items() if op not in NO_CHANGE and n}


def _type_and_name(urn: str) -> tuple[str, str]:
    # urn:pulumi:<stack>::<project>::<qualified type>::<name>
    parts = urn.split("::")
    return (parts[2].rsplit("$", 1)[-1], parts[3]) if len(parts) >= 4 else ("?", urn)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def verdict(exit_code: int, preview_text: str) -> tuple[str, dict[str, Any] | None]:
    """(`clean` | `drift` | `error`, the parsed digest when there is one)."""
    try:
        digest = json.loads(preview_text) if preview_text.strip() else None
    except json.JSONDecodeError:
        digest = None
    if exit_code != 0 or not isinstance(digest, dict) or "steps" not in digest:
        return "error", digest if isinstance(digest, dict) else None
    return ("drift" if changes(digest) or summary_counts(digest) else "clean"), digest


def markdown(stack: str, status: str, digest: dict[str, Any] | None, stderr: str, run_url: str) -> str:
    lines = []
    if status == "clean":
        lines.append(f"`{stack}` matches main: `pulumi preview --refresh` proposes no change.")
    elif status == "error":
        lines += [f"The drift check of `{stack}` could not run; it says nothing about drift.", "", "~~~",
                  stderr[-MAX_STDERR:].strip() or "(no error output)", "~~~"]
    else:
        counts = summary_counts(digest or {})
        found = changes(digest or {})
        lines += [
            f"`{stack}` differs from main: `pulumi preview --refresh` (the cloud as it is now, against the "
            "program on main) proposes "
            + ", ".join(f"{n} {op}" for op, n in sorted(counts.items())) + ".",
            "",
            "Either someone changed these resources outside Pulumi (make the change in the stack config, or "
            "let the next deploy put them back), or main has changes that were not deployed (a rejected or "
            "failed prod deploy).",
            "",
            "| operation | type | name | changed properties |",
            "| --- | --- | --- | --- |",
        ]
        for step in found[:MAX_ROWS]:
            kind, name = _type_and_name(str(step.get("urn", "")))
            reasons = ", ".join(f"`{r}`" for r in step.get("diffReasons") or []) or "—"
            lines.append(f"| {_cell(str(step.get('op')))} | `{_cell(kind)}` | `{_cell(name)}` | {_cell(reasons)} |")
        if len(found) > MAX_ROWS:
            lines.append(f"| … | {len(found) - MAX_ROWS} more in the run's log | | |")
    lines += ["", f"[drift check run]({run_url})"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--exit-code", type=int, required=True, help="the exit code of `pulumi preview`")
    parser.add_argument("--preview", type=Path, required=True, help="its stdout (--json)")
    parser.add_argument("--stderr", type=Path, required=True, help="its stderr")
    parser.add_argument("--run-url", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    preview = args.preview.read_text() if args.preview.exists() else ""
    stderr = args.stderr.read_text(errors="replace") if args.stderr.exists() else ""
    status, digest = verdict(args.exit_code, preview)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"drift-{args.stack}.status").write_text(status + "\n")
    (args.out / f"drift-{args.stack}.md").write_text(markdown(args.stack, status, digest, stderr, args.run_url))
    print(f"{args.stack}: {status}")
    return 1 if status == "error" else 0


if __name__ == "__main__":
    sys.exit(main())

"""The pull-request gate at scale: the check as `make check` and the pull-request workflow run it, on
`bench/configs.py` stacks of N teams, with the sizes of the comment and of the whole report.

    venv/bin/python bench/gate.py --teams 1000          # about 5 minutes on 2 cores
    venv/bin/python bench/gate.py --teams 10,300 --json /tmp/gate.json

Each run is a fresh `python -m review.check ... --timing` (the command `make check`
runs; make adds one fork):
- `make check FORMAT=markdown`: the program under mocks, the pack, the access report, the comment;
- `pull request`: what `.github/workflows/pull-request.yml` runs, `--policy-ref HEAD --compare <base>
  --full-report`, in a git repository whose base commit holds the stack and whose working tree makes
  issue 23's pull request: team-0003 drops its `jobs` repository, team-0002's branch widens to `*`, the
  build account may push to team-0001, team-0004 trusts `pull_request` runs, and a new team (which has a
  `jobs` repository too) is added. Both the base and the head stack run through the program and the pack
  (at once, `--jobs 2`, unless `--jobs 1`);
- `program`: one run of the program under mocks on the head stack in a fresh interpreter (`run_program`'s
  own time, then the interpreter's wall time), the yardstick of the pull-request run (at most 1.5x).
The comment is checked as a reviewer reads it: its size, whether it names every changed team, says
"widened", shows `products/team-0003/jobs` deleted (not moved), and the most rows one finding takes.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/gate.py`: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bench.configs import stack_file, team_config, team_name

ROOT = Path(__file__).resolve().parent.parent
_TIMING = re.compile(r"timing: program ([\d.]+)s, start pack ([\d.]+)s, judge ([\d.]+)s, total ([\d.]+)s")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
                   check=True, capture_output=True)


CHANGED = (1, 2, 3, 4)  # the teams the pull request edits; the new team is `teams` itself


def _comment_checks(comment: str, teams: int) -> dict[str, Any]:
    """What issue 23 asks of the comment at this size."""
    changed = [team_name(i) for i in (*CHANGED, teams)]
    line = next((x for x in comment.splitlines() if x.startswith("Changed teams (")), "")
    rows = Counter(re.sub(r"[`'][^`']*[`']", "", x) for x in comment.splitlines() if x.startswith("| "))
    deleted = [x for x in comment.splitlines() if "products/team-0003/jobs" in x and x.startswith("| **delete**")]
    return {
        "namesChangedTeams": all(f"`{t}`" in line for t in changed),
        "saysWidened": "**widened**" in comment,
        "deletedNotMoved": bool(deleted) and all("→" not in x for x in deleted),
        "mostRowsOfOneFinding": max((n for x, n in rows.items() if "must have immutable" in x), default=0),
    }


def _program(stack: Path) -> dict[str, float]:
    """One run of the program under mocks, in a fresh interpreter: run_program's time and the wall time."""
    code = ("import sys, time; sys.path.insert(0, '.'); from engine.program import run_stack; t = time.perf_counter(); "
            f"run_stack('dev', config_file=__import__('pathlib').Path({str(stack)!r})); "
            "print(time.perf_counter() - t)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return {"run": float(done.stdout.strip().splitlines()[-1]), "wall": time.perf_counter() - started}


def _run(arguments: list[str], workdir: Path) -> dict[str, Any]:
    full = workdir / "full.md"
    full.unlink(missing_ok=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "review.check", *arguments, "--timing"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"check {' '.join(arguments)} exited {done.returncode}:\n{done.stderr}")
    phases = _TIMING.search(done.stderr)
    comment = done.stdout
    return {
        "wall": wall,
        "phases": [float(x) for x in phases.groups()] if phases else [],
        "exitCode": done.returncode,
        "commentChars": len(comment),
        "commentTeams": len(re.findall(r"<details><summary><code>team-\d+</code>", comment)),
        "comment": comment,
        "stderr": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "",
        "fullChars": len(full.read_text()) if full.exists() else None,
    }


def measure(teams: int, workdir: Path, jobs: int = 2) -> dict[str, dict[str, Any]]:
    repo = workdir / f"stack-{teams}"
    repo.mkdir()
    stack = repo / "Pulumi.bench.yaml"
    document = stack_file(teams)
    stack.write_text(yaml.safe_dump(document, sort_keys=False))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    plain = ["--stack", "dev", "--config-file", str(stack), "--format", "markdown"]
    results = {"make check FORMAT=markdown": _run(plain, workdir)}
    print(f"  {teams} teams: make check done", file=sys.stderr)

    project = document["config"]["ecr-platform:teams"]
    project[team_name(3)]["repositories"] = [r for r in project[team_name(3)]["repositories"] if r != "jobs"]
    project[team_name(2)]["github"][0]["branches"] = ["*"]
    project[team_name(1)]["pushAccounts"] = ["ci-builders"]
    project[team_name(4)]["github"][0]["pullRequests"] = True
    project[team_name(teams)] = team_config(teams)
    stack.write_text(yaml.safe_dump(document, sort_keys=False))
    pull_request = [*plain, "--policy-ref", "HEAD", "--compare", "HEAD", "--max-chars", "60000",
                    "--full-report", str(workdir / "full.md"), "--jobs", str(jobs)]
    results["pull request"] = _run(pull_request, workdir)
    results["pull request"].update(_comment_checks(results["pull request"].pop("comment"), teams))
    print(f"  {teams} teams: pull request done", file=sys.stderr)
    results["program"] = _program(stack)
    print(f"  {teams} teams: program done", file=sys.stderr)
    return results


def table(results: dict[int, dict[str, dict[str, Any]]]) -> str:
    lines = ["| teams | run | wall | program | start pack | judge | exit | comment | teams in the comment "
             "| whole report |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for teams, runs in results.items():
        for label, r in runs.items():
            if label == "program":
                continue
            program, start, judge, _ = r["phases"] or [0.0] * 4
            full = f"{r['fullChars']:,} chars" if r["fullChars"] is not None else "—"
            lines.append(f"| {teams:,} | {label} | {r['wall']:.1f} s | {program:.1f} s | {start:.1f} s | {judge:.1f} s "
                         f"| {r['exitCode']} | {r['commentChars']:,} chars | {r['commentTeams']:,} | {full} |")
    lines += ["", "| teams | program (run / wall) | pull request | ÷ the program's run / wall | changed teams named "
              "| says widened | deleted, not moved | most rows of one finding |", "| ---: | ---: | ---: | ---: | --- "
              "| --- | --- | ---: |"]
    for teams, runs in results.items():
        program, pr = runs["program"], runs["pull request"]
        lines.append(f"| {teams:,} | {program['run']:.1f} / {program['wall']:.1f} s | {pr['wall']:.1f} s "
                     f"| {pr['wall'] / program['run']:.2f}x / {pr['wall'] / program['wall']:.2f}x "
                     f"| {pr['namesChangedTeams']} | {pr['saysWidened']} "
                     f"| {pr['deletedNotMoved']} | {pr['mostRowsOfOneFinding']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", default="1000", help="comma-separated sizes (default: 1000)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--jobs", type=int, default=2, help="the check's --jobs for the pull-request run (default 2)")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.teams.split(",")]
    with tempfile.TemporaryDirectory(prefix="ecr-platform-gate-") as temporary:
        results = {teams: measure(teams, Path(temporary), args.jobs) for teams in sizes}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

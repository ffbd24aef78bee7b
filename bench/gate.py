"""The pull-request gate at scale: the check as `make check` and the pull-request workflow run it, on
`bench/configs.py` stacks of N teams, with the sizes of the comment and of the whole report.

    venv/bin/python bench/gate.py --teams 1000          # about 5 minutes on 2 cores
    venv/bin/python bench/gate.py --teams 10,300 --json /tmp/gate.json

Each run is a fresh `python -m review.check ... --timing` (the command `make check`
runs; make adds one fork):
- `make check FORMAT=markdown`: the program under mocks, the pack, the access report, the comment;
- `pull request`: what `.github/workflows/pull-request.yml` runs, `--policy-ref HEAD --compare <base>
  --full-report`, in a git repository whose base commit holds the stack and whose working tree adds
  one team and lets the build account push to another team, so the diff has something to show. Both
  the base and the head stack run through the program and the pack.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
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
        "fullChars": len(full.read_text()) if full.exists() else None,
    }


def measure(teams: int, workdir: Path) -> dict[str, dict[str, Any]]:
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

    project = document["config"]
    project["ecr-platform:teams"][team_name(teams)] = team_config(teams)
    project["ecr-platform:teams"][team_name(1)]["pushAccounts"] = ["ci-builders"]
    stack.write_text(yaml.safe_dump(document, sort_keys=False))
    pull_request = [*plain, "--policy-ref", "HEAD", "--compare", "HEAD", "--max-chars", "60000",
                    "--full-report", str(workdir / "full.md")]
    results["pull request"] = _run(pull_request, workdir)
    print(f"  {teams} teams: pull request done", file=sys.stderr)
    return results


def table(results: dict[int, dict[str, dict[str, Any]]]) -> str:
    lines = ["| teams | run | wall | program | start pack | judge | exit | comment | teams in the comment "
             "| whole report |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for teams, runs in results.items():
        for label, r in runs.items():
            program, start, judge, _ = r["phases"] or [0.0] * 4
            full = f"{r['fullChars']:,} chars" if r["fullChars"] is not None else "—"
            lines.append(f"| {teams:,} | {label} | {r['wall']:.1f} s | {program:.1f} s | {start:.1f} s | {judge:.1f} s "
                         f"| {r['exitCode']} | {r['commentChars']:,} chars | {r['commentTeams']:,} | {full} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", default="1000", help="comma-separated sizes (default: 1000)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.teams.split(",")]
    with tempfile.TemporaryDirectory(prefix="ecr-platform-gate-") as temporary:
        results = {teams: measure(teams, Path(temporary)) for teams in sizes}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What finding a change's deletions costs (`review.deletions.find_deletions`, run by
`make check COMPARE=<ref>` between the base's and the head's program runs), on `bench/configs.py` stacks.

    venv/bin/python bench/deletions.py --teams 300,1000    # about 2 minutes on 2 cores (the program runs)

The program runs once per size (the base); each head is derived from it without a second run:
- `drop`: the repositories at every tenth place of the declaration order are gone (deleted with their images);
- `move`: every repository gets a new name and URN under `moved/` (a namespace change everywhere: each
  deletion is paired with the repository created instead, the worst case for that pairing).
Times are the best and worst of 5 calls after a full garbage collection (the program run's heap would
otherwise be collected inside the first call).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/deletions.py`: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.configs import stack_config
from engine.program import run_program
from engine.resource import Resource
from review.deletions import REPOSITORY, find_deletions


def _moved(resource: Resource) -> Resource:
    name = f"moved/{resource.inputs['name']}"
    return dataclasses.replace(resource, urn=f"{resource.urn.rsplit('::', 1)[0]}::{name}",
                               inputs={**resource.inputs, "name": name})


def measure(teams: int, repeat: int = 5) -> dict[str, Any]:
    """Resources, deletions found and seconds (best, worst) per head, for a stack of `teams` teams."""
    base = run_program(stack_config(teams), stack="dev").resources
    heads = {
        "drop": [r for i, r in enumerate(base) if not (r.type == REPOSITORY and i % 10 == 0)],
        "move": [_moved(r) if r.type == REPOSITORY else r for r in base],
    }
    out: dict[str, Any] = {"resources": len(base)}
    for label, head in heads.items():
        gc.collect()
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            found = find_deletions(base, head)
            times.append(time.perf_counter() - started)
        out[label] = {"deletions": len(found), "moved": sum(bool(d.created_as) for d in found),
                      "best": min(times), "worst": max(times)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", default="300,1000", help="comma-separated sizes (default 300,1000)")
    args = parser.parse_args(argv)
    print("| teams | resources | head | deletions (moved) | find_deletions best / worst |")
    print("| --- | --- | --- | --- | --- |")
    for teams in (int(n) for n in args.teams.split(",")):
        result = measure(teams)
        for label in ("drop", "move"):
            r = result[label]
            print(f"| {teams:,} | {result['resources']:,} | {label} | {r['deletions']:,} ({r['moved']:,}) | "
                  f"{r['best'] * 1000:.1f} / {r['worst'] * 1000:.1f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

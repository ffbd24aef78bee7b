"""The report and the guard agree on who can write where (issue 23's "one model", first step).

`review/guard_model.py` asks the pack's own effective-access model (`policy/rules/access.py`) what
each principal can write; the access report computes it with `review/access.py`. For the fixture
dev and prod stacks and every example the two must name the same writers of the same repositories,
so a reviewer never reads a report the guard would contradict.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.program import ROOT, load_stack_config, run_program
from engine.resource import Resource
from review.access import REPOSITORY, build_access_report, role_writes
from review.guard_model import guard_writers

from .. import fixtures
from .attack_graphs import attack_graphs

STACKS = sorted([fixtures.stack_file("dev"), fixtures.stack_file("prod"), *(ROOT / "examples").glob("*.yaml")])


def report_writers(resources: list[Resource]) -> dict[str, set[str]]:
    """Principal -> the team-tagged repositories the report shows it can push to, delete or manage: its role lines,
    and what the report's section from the guard's model adds (IAM users and groups, writes the lines miss)."""
    tagged = {str(r.state.get("name")) for r in resources
              if r.custom and r.type == REPOSITORY and (r.inputs.get("tags") or {}).get("team")}
    report = build_access_report(resources)
    writers: dict[str, set[str]] = {}
    for name, role in report.roles.items():
        if written := role_writes(role) & tagged:
            writers[name] = written
    for writer in report.other_writers:
        writers.setdefault(writer.name, set()).update(writer.repositories)
    return writers


@pytest.mark.parametrize("stack", STACKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_report_and_the_guard_name_the_same_writers(stack: Path) -> None:
    resources = run_program(load_stack_config(stack)).resources
    report, guard = report_writers(resources), guard_writers(resources)
    assert guard, f"{stack.name}: the guard's model sees no writer at all: the comparison would prove nothing"
    differ = {who: (sorted(report.get(who, set()) - guard.get(who, set())),
                    sorted(guard.get(who, set()) - report.get(who, set())))
              for who in report.keys() | guard.keys() if report.get(who) != guard.get(who)}
    assert not differ, f"{stack.name}: who writes where, (report only, guard only): {differ}"



ATTACKS = attack_graphs()
SLOW = "test_many_wildcards_are_judged_quickly"
"""Left out: the report's own evaluator (review/iam_eval) takes minutes on it, where the guard takes milliseconds."""


def test_the_attack_graphs_are_collected() -> None:
    assert len(ATTACKS) > 100, f"only {len(ATTACKS)} adversarial graphs recorded from tests/policy/test_attacks*.py"


@pytest.mark.parametrize("case", sorted(k for k in ATTACKS if SLOW not in k))
def test_the_report_follows_the_guard_on_the_attack_graphs(case: str) -> None:
    resources = ATTACKS[case]
    report, guard = report_writers(resources), guard_writers(resources)
    differ = {who: (sorted(report.get(who, set()) - guard.get(who, set())),
                    sorted(guard.get(who, set()) - report.get(who, set())))
              for who in report.keys() | guard.keys() if report.get(who) != guard.get(who)}
    assert not differ, f"{case}: who writes where, (report only, guard only): {differ}"

"""`make mutation` stays runnable without running it: its module table, the reviewed list of equivalent
mutants, and the scheduled workflow that runs it (never per pull request)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("mutation_run", ROOT / "mutation" / "run.py")
assert _spec and _spec.loader
run = importlib.util.module_from_spec(_spec)
sys.modules["mutation_run"] = run
_spec.loader.exec_module(run)


def test_every_scored_module_and_its_focused_tests_exist() -> None:
    modules = run.load_modules()
    assert {m.path for m in modules} >= {"policy/rules/github_trust.py", "policy/rules/least_privilege.py",
                                         "policy/rules/team_isolation.py", "policy/rules/access.py",
                                         "review/iam_eval.py", "components/documents.py"}
    for module in modules:
        assert (ROOT / module.path).is_file(), module.path
        assert module.tests and all((ROOT / t).is_file() for t in module.tests), module.tests
        assert module.threshold >= 90


def test_every_equivalent_mutant_names_a_line_that_exists_and_says_why() -> None:
    scored = {m.path for m in run.load_modules()}
    for entry in run.load_equivalents():
        assert entry.module in scored, entry
        assert entry.operator.startswith("core/"), entry
        assert len(entry.reason.split()) >= 5, f"say why no test can kill it: {entry}"
        lines = {line.strip() for line in (ROOT / entry.module).read_text().splitlines()}
        assert entry.line in lines, f"stale: the line is gone from {entry.module}: {entry.line}"


def test_mutants_inside_annotations_are_found_and_nothing_else() -> None:
    source = "def f(a: int | None, b=1 | 2) -> str | None:\n    x: list[int] = [1 | 2]\n    return str(a)\n"
    spans = run.annotation_lines(source)
    assert run._inside((1, 12), spans)            # the `|` of `int | None`
    assert not run._inside((1, 24), spans)        # the `|` of the default `1 | 2`
    assert run._inside((1, 39), spans)            # the return annotation
    assert run._inside((2, 10), spans) and not run._inside((2, 20), spans)


def test_the_workflow_runs_on_a_schedule_not_per_pull_request() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "mutation.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]   # YAML 1.1 reads `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert any("make mutation" in str(step.get("run", "")) for step in job["steps"])

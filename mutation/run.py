"""Mutation testing of the guard, the access review's IAM evaluator and the document builders.

`make mutation` (or `venv/bin/python mutation/run.py [--module NAME ...] [--jobs N]`): for each
module in mutation/modules.toml, cosmic-ray (https://cosmic-ray.readthedocs.io) makes every mutant
(one operator changed at one place), runs the module's focused tests against it and counts the
mutants the tests kill. Each module runs in its own copy of the work tree under
build/mutation/<name>/, because cosmic-ray mutates files in place: the work tree is never touched
and two modules can run side by side (`--jobs 2`).

Not counted, before anything runs:
- mutants inside type annotations: every module has `from __future__ import annotations`, so an
  annotation is never evaluated and no test can tell a mutated one apart;
- the equivalent mutants listed in mutation/equivalent.toml, each with the reason no test can kill
  it. An entry that matches no mutant is an error: the list is reviewed, so it must not go stale.

Prints, and writes to build/mutation/report.md, the score per module (killed / run) and every
surviving mutant as a diff. Exits 1 when a module scores below its threshold.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import random
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "mutation"
BUILD = ROOT / "build" / "mutation"


@dataclass
class Module:
    name: str
    path: str
    tests: list[str]
    threshold: float
    sample: int | None = None


@dataclass
class Equivalent:
    module: str
    operator: str
    line: str
    reason: str
    mutant: str | None = None
    """The mutated line (stripped), when the operator applies more than once on `line`."""
    function: str | None = None
    """The enclosing function, when the same line appears in several."""
    matched: int = 0


@dataclass
class Score:
    module: Module
    total: int = 0
    killed: int = 0
    annotation: int = 0
    equivalent: int = 0
    sampled_out: int = 0
    survivors: list[str] = field(default_factory=list)

    @property
    def run(self) -> int:
        return self.total - self.annotation - self.equivalent - self.sampled_out

    @property
    def score(self) -> float:
        return 100.0 * self.killed / self.run if self.run else 100.0


def load_modules() -> list[Module]:
    raw = tomllib.loads((HERE / "modules.toml").read_text())
    threshold = float(raw.get("threshold", 90))
    return [Module(name, spec["path"], list(spec["tests"]), float(spec.get("threshold", threshold)),
                   spec.get("sample")) for name, spec in raw["module"].items()]


def load_equivalents() -> list[Equivalent]:
    raw = tomllib.loads((HERE / "equivalent.toml").read_text())
    out = []
    for entry in raw.get("equivalent", []):
        missing = {"module", "operator", "line", "reason"} - entry.keys()
        if missing or not str(entry.get("reason", "")).strip():
            raise SystemExit(f"mutation/equivalent.toml: entry {entry} needs module, operator, line and a reason")
        mutant = entry.get("mutant")
        out.append(Equivalent(entry["module"], entry["operator"], entry["line"].strip(), entry["reason"],
                              mutant.strip() if mutant else None, entry.get("function")))
    return out


def annotation_lines(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of every annotation in a module (never evaluated under PEP 563)."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations = []
        if isinstance(node, ast.arg) and node.annotation is not None:
            annotations.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for a in annotations:
            spans.append(((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0)))
    return spans


def _inside(position: tuple[int, int], spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    return any(start <= position < end for start, end in spans)


def copy_tree(destination: Path) -> None:
    """The work tree as git sees it (tracked and new files, not ignored ones), without build/ or venv/."""
    if destination.exists():
        shutil.rmtree(destination)
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _db_tools():  # cosmic-ray is imported late: `make mutation` installs it, `make setup` does not
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult
    return use_db, WorkDB, WorkResult, WorkerOutcome


def write_config(module: Module, work: Path) -> tuple[Path, str]:
    """The cosmic-ray config for `module`, with the module's tests as they are listed now; and its test command."""
    config = work / "cosmic-ray.toml"
    command = shlex.join([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                          "-W", "ignore::DeprecationWarning", *module.tests])
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {module.path!r}\n"
        "timeout = 120.0\n"
        "excluded-modules = []\n"
        f"test-command = {command!r}\n"
        "[cosmic-ray.distributor]\nname = \"local\"\n")
    return config, command


def prepare(module: Module, equivalents: list[Equivalent], seed: int) -> tuple[Path, Path, Path]:
    """A fresh tree copy, the cosmic-ray config and a session with the uncounted mutants skipped."""
    work = BUILD / module.name
    tree = work / "tree"
    copy_tree(tree)
    session = work / "session.sqlite"
    session.unlink(missing_ok=True)
    config, command = write_config(module, work)
    baseline = subprocess.run(shlex.split(command), cwd=tree, capture_output=True, text=True)
    if baseline.returncode != 0:  # otherwise every mutant would count as killed
        raise SystemExit(f"{module.name}: the focused tests fail before any mutation:\n{baseline.stdout[-3000:]}")
    subprocess.run([sys.executable, "-m", "cosmic_ray.cli", "init", str(config), str(session), "--force"],
                   cwd=tree, check=True)
    skip_uncounted(module, tree, session, equivalents, seed)
    return tree, config, session


def skip_uncounted(module: Module, tree: Path, session: Path, equivalents: list[Equivalent], seed: int) -> None:
    """Mark the pending mutants inside annotations, sampled out, or listed as equivalent as skipped.

    The sample is drawn before the equivalent list is applied, from mutants in a stable order
    (position, operator, occurrence), so the same seed picks the same mutants whatever the list says.
    """
    use_db, _, WorkResult, WorkerOutcome = _db_tools()
    source = (tree / module.path).read_text()
    lines = source.splitlines()
    spans = annotation_lines(source)
    mine = [e for e in equivalents if e.module == module.path]

    def position(item: Any) -> tuple[Any, ...]:
        m = item.mutations[0]
        return (tuple(m.start_pos), m.operator_name, m.occurrence)

    with use_db(str(session)) as db:
        skipped: dict[str, str] = {}
        kept = []
        for item in sorted(db.pending_work_items, key=position):
            if _inside(item.mutations[0].start_pos, spans):
                skipped[item.job_id] = "annotation"
            else:
                kept.append(item)
        if module.sample and len(kept) > module.sample:
            chosen = set(random.Random(seed).sample(range(len(kept)), module.sample))
            skipped.update({item.job_id: "sampled out" for i, item in enumerate(kept) if i not in chosen})
            kept = [item for i, item in enumerate(kept) if i in chosen]
        for item in kept:
            mutation = item.mutations[0]
            line = lines[mutation.start_pos[0] - 1].strip()
            for entry in mine:
                if entry.operator == mutation.operator_name and entry.line == line \
                        and entry.function in (None, mutation.definition_name) \
                        and (entry.mutant is None or entry.mutant == mutated_line(source, mutation)):
                    entry.matched += 1
                    skipped[item.job_id] = "equivalent: " + entry.reason
                    break
        for job_id, reason in skipped.items():
            db.set_result(job_id, WorkResult(output=reason, worker_outcome=WorkerOutcome.SKIPPED))


def mutated_line(source: str, mutation: Any) -> str:
    """The line of `mutation` as the mutant has it (stripped)."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    operator = get_operator(mutation.operator_name)(**(mutation.operator_args or {}))
    mutated = mutate_code(source, operator, mutation.occurrence) or source
    return str(mutated.splitlines()[mutation.start_pos[0] - 1].strip())


def execute(tree: Path, config: Path, session: Path) -> None:
    subprocess.run([sys.executable, "-m", "cosmic_ray.cli", "exec", str(config), str(session)], cwd=tree, check=True)


def score(module: Module, session: Path) -> Score:
    use_db, _, _, WorkerOutcome = _db_tools()
    out = Score(module)
    with use_db(str(session)) as db:
        for item, result in db.completed_work_items:
            out.total += 1
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                text = result.output or ""
                if text == "annotation":
                    out.annotation += 1
                elif text == "sampled out":
                    out.sampled_out += 1
                else:
                    out.equivalent += 1
                continue
            if result.is_killed:
                out.killed += 1
            else:
                mutation = item.mutations[0]
                out.survivors.append(f"{mutation.operator_name} at {module.path}:{mutation.start_pos[0]}\n"
                                     f"{result.diff or ''}")
        out.total += len(db.pending_work_items)
    return out


def run_module(module: Module, equivalents: list[Equivalent], seed: int, rerun: bool) -> Score:
    work = BUILD / module.name
    session = work / "session.sqlite"
    if rerun and session.exists():
        use_db, _, _, _ = _db_tools()
        with use_db(str(session)) as db:  # forget the survivors: the tests changed, run those again
            survivors = [i.job_id for i, r in db.completed_work_items if r.test_outcome == "survived"]
        _forget(session, survivors)
        copy_tree(work / "tree")
        skip_uncounted(module, work / "tree", session, equivalents, seed)
        # the module's test list may have grown since the first run: a new test file must be run too
        execute(work / "tree", write_config(module, work)[0], session)
    else:
        execute(*prepare(module, equivalents, seed))
    return score(module, session)


def _forget(session: Path, job_ids: list[str]) -> None:
    import sqlite3

    with sqlite3.connect(session) as db:
        db.executemany("DELETE FROM work_results WHERE job_id = ?", [(j,) for j in job_ids])


def stale_equivalents(modules: list[Module], equivalents: list[Equivalent]) -> list[Equivalent]:
    """Entries that match no mutant of the current code (cheap: lists the mutants, runs no test)."""
    for module in modules:
        work = BUILD / module.name
        work.mkdir(parents=True, exist_ok=True)
        config, session = work / "list.toml", work / "list.sqlite"
        config.write_text(f"[cosmic-ray]\nmodule-path = {module.path!r}\ntimeout = 1.0\nexcluded-modules = []\n"
                          "test-command = \"true\"\n[cosmic-ray.distributor]\nname = \"local\"\n")
        subprocess.run([sys.executable, "-m", "cosmic_ray.cli", "init", str(config), str(session), "--force"],
                       cwd=ROOT, check=True)
        skip_uncounted(Module(module.name, module.path, module.tests, module.threshold), ROOT, session,
                       equivalents, 0)
    paths = {m.path for m in modules}
    return [e for e in equivalents if e.matched == 0 and e.module in paths]


def report(scores: list[Score]) -> str:
    rows = ["| module | mutants | annotations | equivalent | sampled out | run | killed | score |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in scores:
        rows.append(f"| {s.module.path} | {s.total} | {s.annotation} | {s.equivalent} | {s.sampled_out} | {s.run} | "
                    f"{s.killed} | {s.score:.1f}% |")
    text = "\n".join(rows) + "\n"
    for s in scores:
        if s.survivors:
            text += f"\n## Survivors in {s.module.path} ({len(s.survivors)})\n\n"
            text += "\n".join(f"```diff\n{d.strip()}\n```" for d in s.survivors) + "\n"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", help="a name from mutation/modules.toml (default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="modules run side by side (each runs its tests serially)")
    parser.add_argument("--seed", type=int, default=18, help="seed of the sample for modules with `sample`")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="run only the last run's survivors again (after adding tests)")
    parser.add_argument("--report-only", action="store_true", help="score the last sessions, run nothing")
    parser.add_argument("--check-equivalents", action="store_true",
                        help="only check that every entry of mutation/equivalent.toml still matches a mutant")
    args = parser.parse_args(argv)
    modules = load_modules()
    known = {m.name for m in modules}
    if args.module and (unknown := set(args.module) - known):
        parser.error(f"unknown module(s) {sorted(unknown)}; mutation/modules.toml has {sorted(known)}")
    chosen = [m for m in modules if not args.module or m.name in args.module]
    equivalents = load_equivalents()
    BUILD.mkdir(parents=True, exist_ok=True)
    if args.check_equivalents:
        stale = stale_equivalents(chosen, equivalents)
        for e in stale:
            print(f"stale: {e.module}: {e.operator} on `{e.line}`" + (f" -> `{e.mutant}`" if e.mutant else ""))
        return 1 if stale else 0
    if args.report_only:
        scores = [score(m, BUILD / m.name / "session.sqlite") for m in chosen]
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            scores = list(pool.map(lambda m: run_module(m, equivalents, args.seed, args.rerun_survivors), chosen))
    text = report(scores)
    (BUILD / "report.md").write_text(text)
    print(text)
    low = [s for s in scores if s.score < s.module.threshold]
    for s in low:
        print(f"{s.module.path}: {s.score:.1f}% is below the threshold {s.module.threshold:.0f}%", file=sys.stderr)
    stale = [] if args.report_only or args.rerun_survivors else stale_equivalents(chosen, load_equivalents())
    if stale:
        print("mutation/equivalent.toml: these entries match no mutant any more; remove or update them:",
              *(f"  - {e.module}: {e.operator} on `{e.line}`" for e in stale), sep="\n", file=sys.stderr)
    return 1 if low or stale else 0


if __name__ == "__main__":
    sys.exit(main())

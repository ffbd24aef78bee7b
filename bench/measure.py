"""The measurements `bench/run.py` makes; each returns plain data for the report.

- `program_sample`: one timed run of the program (or of its floor) under the SDK mocks, in the
  calling process, after a warm-up run of one team (imports and first-use costs are reported
  apart as `startup`).
- `pack_timings`: the policy pack and the trivial pack, over the analyzer protocol, on a recorded
  graph: every custom resource through Analyze (inputs), the whole graph through AnalyzeStack
  (outputs), as `review.check` and `pulumi preview` send them.
- `document_sizes`: trust and push policy characters (whitespace-free) and resources per unit.
- `check_timings`: `python -m review.check` wall time, as a user runs it.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pulumi.runtime.proto import analyzer_pb2

from engine.analyzer import PolicyPackClient, analyze_request, analyze_stack_request
from engine.program import ROOT, run_program
from engine.resource import Resource

from .configs import ACCOUNT, REGION, project_config, stack_config
from .graph import floor_spec, signature

FLOOR_PROGRAM = ROOT / "bench" / "floor_program"
POLICY_PACK = ROOT / "policy"
TRIVIAL_PACK = ROOT / "bench" / "trivial_pack"
POLICY_CONFIG = ROOT / "policy" / "config" / "dev.json"


def max_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- the program and its floor


def floor_config(spec_path: Path) -> dict[str, Any]:
    return {"aws:region": REGION, "aws:allowedAccountIds": [ACCOUNT], "floor:spec": str(spec_path)}


def write_floor_spec(teams: int, path: Path) -> tuple[list[Resource], dict[str, Any]]:
    """Run the real program once for `teams` and write the floor's spec of what it declared."""
    run = run_program(stack_config(teams), stack="dev")
    path.write_text(json.dumps(floor_spec(run.resources, run.outputs)))
    return run.resources, run.outputs


def run_kind(kind: str, teams: int, workdir: Path) -> list[Resource]:
    """One run of `real` (the program) or `floor` (bench/floor_program on the spec in `workdir`)."""
    if kind == "real":
        return run_program(stack_config(teams), stack="dev").resources
    spec = workdir / f"spec-{teams}.json"
    return run_program(floor_config(spec), stack="dev", project_dir=FLOOR_PROGRAM).resources


def program_sample(kind: str, teams: int, workdir: Path, keep: bool = False, gc_off: bool = False) -> dict[str, Any]:
    """Warm up on one team, then time one run for `teams`; `keep` saves the floor spec and the
    recorded resources (for the pack benchmark) of a real run, after the clock stops. `gc_off`
    turns the cyclic garbage collector off for the timed run, to show the code's own growth."""
    started = time.perf_counter()
    run_kind(kind, 1, workdir)
    startup = time.perf_counter() - started
    rss_base = max_rss_mib()
    if gc_off:
        gc.disable()
    started = time.perf_counter()
    if kind == "real":
        run = run_program(stack_config(teams), stack="dev")
        resources, outputs = run.resources, run.outputs
    else:
        resources, outputs = run_kind(kind, teams, workdir), {}
    wall = time.perf_counter() - started
    rss_peak = max_rss_mib()
    if keep and kind == "real":
        (workdir / f"spec-{teams}.json").write_text(json.dumps(floor_spec(resources, outputs)))
        with (workdir / f"records-{teams}.pickle").open("wb") as handle:
            pickle.dump(resources, handle)
    return {"kind": kind, "teams": teams, "gcOff": gc_off, "wall": wall, "startup": startup, "rssBase": rss_base,
            "rssPeak": rss_peak, "signature": signature(resources)}


def program_sample_subprocess(kind: str, teams: int, workdir: Path, keep: bool = False,
                              gc_off: bool = False) -> dict[str, Any]:
    """`program_sample` in a fresh interpreter, so peak memory and warm caches are its own."""
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--child-program", kind, "--teams", str(teams),
               "--workdir", str(workdir)] + (["--keep"] if keep else []) + (["--gc-off"] if gc_off else [])
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_records(workdir: Path, teams: int) -> list[Resource]:
    with (workdir / f"records-{teams}.pickle").open("rb") as handle:
        return pickle.load(handle)


# ---------------------------------------------------------------- the policy pack and its floor


def analyze_requests(resources: Sequence[Resource]) -> list[analyzer_pb2.AnalyzeRequest]:
    """What the engine sends per custom resource: its inputs and options."""
    return [analyze_request(r) for r in resources if r.custom]


def whole_stack_request(resources: Sequence[Resource]) -> analyzer_pb2.AnalyzeStackRequest:
    """What the engine sends once per preview: every resource with its outputs, parents, dependencies."""
    return analyze_stack_request(resources)


def _levels(responses: Sequence[analyzer_pb2.AnalyzeResponse]) -> dict[str, int]:
    names = {v: k for k, v in analyzer_pb2.EnforcementLevel.items()}
    counts: dict[str, int] = {}
    for response in responses:
        for d in response.diagnostics:
            level = names.get(d.enforcementLevel, str(d.enforcementLevel)).lower()
            counts[level] = counts.get(level, 0) + 1
    return counts


def pack_shape() -> tuple[int, int]:
    """How many resource and stack policies `policy/` has (the SDK's per-policy cost scales with both)."""
    from pulumi_policy import StackValidationPolicy

    sys.path.insert(0, str(POLICY_PACK))
    try:
        from rules import ALL_POLICIES
    finally:
        sys.path.remove(str(POLICY_PACK))
    stack = sum(isinstance(p, StackValidationPolicy) for p in ALL_POLICIES)
    return len(ALL_POLICIES) - stack, stack


def _trivial(resource_policies: int, stack_policies: int, gc_off: bool = False) -> PolicyPackClient:
    return PolicyPackClient(TRIVIAL_PACK, env={**_gc_env(gc_off),
                                               "BENCH_TRIVIAL_RESOURCE_POLICIES": str(resource_policies),
                                               "BENCH_TRIVIAL_STACK_POLICIES": str(stack_policies)})


def _gc_env(gc_off: bool) -> dict[str, str]:
    """The environment for a pack process; with `gc_off`, `bench/gc_off/sitecustomize.py` disables the GC."""
    if not gc_off:
        return dict(os.environ)
    path = os.pathsep.join(p for p in (str(ROOT / "bench" / "gc_off"), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "BENCH_GC_OFF": "1"}


def pack_timings(resources: Sequence[Resource], repeat: int) -> dict[str, Any]:
    """Analyze per custom resource and AnalyzeStack once, for the pack and the trivial packs in turn.

    `trivial` has one policy of each kind; `shaped` as many trivial policies of each kind as the
    pack. `packNoGc` and `shapedNoGc` are the same packs with the cyclic GC off in their process,
    asked only for AnalyzeStack. Requests are built before the clock starts: what is timed is the
    pack (and the local gRPC round trip every pack pays the same), not this client's serialisation.
    """
    per_resource = analyze_requests(resources)
    whole = whole_stack_request(resources)
    shape = pack_shape()
    packs = {"pack": PolicyPackClient(POLICY_PACK), "trivial": _trivial(1, 1), "shaped": _trivial(*shape),
             "packNoGc": PolicyPackClient(POLICY_PACK, env=_gc_env(True)), "shapedNoGc": _trivial(*shape, gc_off=True)}
    result: dict[str, Any] = {"custom": len(per_resource), "resources": len(resources), "shape": shape}
    try:
        for name, client in packs.items():
            client.start()
            client.configure(json.loads(POLICY_CONFIG.read_text()) if name.startswith("pack") else {})
            # first contact (imports of lazily loaded rule data, gRPC warm-up) is not per-resource cost
            client.stub.Analyze(per_resource[0])
            result[name] = {"analyze": [], "stack": [], "diagnostics": {}}
        for rep in range(repeat):
            for name, client in packs.items():
                started = time.perf_counter()
                replies = [] if name.endswith("NoGc") else [client.stub.Analyze(request) for request in per_resource]
                analyzed = time.perf_counter()
                stack_reply = client.stub.AnalyzeStack(whole)
                stacked = time.perf_counter()
                result[name]["analyze"].append(analyzed - started)
                result[name]["stack"].append(stacked - analyzed)
                if rep == 0:
                    result[name]["diagnostics"] = _levels([*replies, stack_reply])
    finally:
        for client in packs.values():
            client.close()
    return result


# ---------------------------------------------------------------- document sizes


def document_sizes() -> dict[str, Any]:
    """Trust policy characters per subject, push policy characters per repository, resources per unit."""
    from components.config import ConfigError, load_settings
    from components.documents import oidc_provider_arn, push_policy, trust_policy
    from components.quotas import INLINE_POLICY_MAX_CHARS, compact_size

    issuer = "token.actions.githubusercontent.com"
    provider = oidc_provider_arn("aws", ACCOUNT, issuer)

    def trust(n: int) -> int:
        return compact_size(trust_policy(provider, issuer, [f"repo:acme/team-0000-{i}:ref:refs/heads/main"
                                                             for i in range(n)]))

    def most(size_of: Callable[[int], int], limit: int) -> int:
        n = 1
        while size_of(n + 1) <= limit:
            n += 1
        return n

    trust_rows = [(n, trust(n)) for n in (1, 2, 5, 10, 20, 50)]
    settings = load_settings(project_config(1), stack="dev")
    team = settings.teams[0]

    def team_with(repositories: int, namespace: str) -> Any:
        template = team.repositories[0]
        repos = tuple(replace(template, name=f"{namespace + '/' if namespace else ''}svc-{i:03d}")
                      for i in range(repositories))
        return replace(team, namespace=namespace, repositories=repos)

    def push(repositories: int, namespace: str) -> int:
        return compact_size(push_policy(team_with(repositories, namespace), ACCOUNT, REGION, "aws"))

    counts = (5, 10, 50, 100, 500)
    push_rows = [(k, push(k, team.namespace), push(k, "")) for k in counts]
    unprefixed_max = most(lambda k: push(k, ""), INLINE_POLICY_MAX_CHARS)
    refusal = ""
    over = project_config(1, repositories=unprefixed_max + 1)
    over["teams"]["team-0000"]["namespace"] = ""
    try:
        load_settings(over, stack="dev")
    except ConfigError as error:
        refusal = next((p for p in error.problems if "inline quota" in p), "")

    def resources(teams: int, repositories: int) -> int:
        return len(run_program(stack_config(teams, repositories), stack="dev").resources)

    base = resources(2, 5)
    per_team = (resources(4, 5) - base) / 2
    per_repository = (resources(2, 10) - base) / 10
    return {
        "trust": trust_rows,
        "trustPerSubject": (trust(50) - trust(10)) / 40,
        "trustMax2048": most(trust, 2048),
        "trustMax8192": most(trust, 8192),
        "push": push_rows,
        "pushNamespace": team.namespace,
        "unprefixedMax": unprefixed_max,
        "unprefixedPerRepository": (push(500, "") - push(100, "")) / 400,
        "refusal": refusal,
        "inlineQuota": INLINE_POLICY_MAX_CHARS,
        "perTeam": per_team,
        "perRepository": per_repository,
        "fixed": base - 2 * per_team,
    }


# ---------------------------------------------------------------- make check


_TIMING = re.compile(r"timing: program ([\d.]+)s, start pack ([\d.]+)s, judge ([\d.]+)s, total ([\d.]+)s")


def check_timings(arguments: Sequence[str], repeat: int) -> dict[str, Any]:
    """Wall time of `python -m review.check <arguments> --timing`, interpreter start included."""
    walls: list[float] = []
    phases: list[tuple[float, ...]] = []
    exit_codes: set[int] = set()
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "review.check", *arguments, "--timing"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        walls.append(time.perf_counter() - started)
        exit_codes.add(done.returncode)
        found = _TIMING.search(done.stderr)
        if found:
            phases.append(tuple(float(x) for x in found.groups()))
        elif done.returncode not in (0, 1):
            raise RuntimeError(f"check {' '.join(arguments)} failed ({done.returncode}):\n{done.stderr}")
    median_phases = tuple(statistics.median(p[i] for p in phases) for i in range(4)) if phases else ()
    return {"walls": walls, "phases": median_phases, "exitCodes": sorted(exit_codes)}

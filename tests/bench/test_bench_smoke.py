"""The benchmark can't rot: its configs are valid stacks, its floor declares the program's graph, and
one tiny size runs end to end into a report. No timings are asserted; `make bench` measures."""

from __future__ import annotations

from pathlib import Path

from bench import run
from bench.configs import project_config, team_name
from bench.graph import signature
from bench.measure import run_kind, write_floor_spec
from components.config import load_settings


def test_generated_stacks_are_valid_with_the_promised_shape() -> None:
    settings = load_settings(project_config(6), stack="dev")

    assert [t.name for t in settings.teams] == [team_name(i) for i in range(6)]
    assert all(len(t.repositories) == 5 and len(t.github) == 2 for t in settings.teams), \
        "every bench team should have 5 repositories and 2 GitHub repositories"
    assert all(t.namespace and t.pull_account_ids for t in settings.teams), "bench teams use namespaces and pulls"


def test_the_floor_declares_the_programs_graph(tmp_path: Path) -> None:
    program, _ = write_floor_spec(2, tmp_path / "spec-2.json")

    floor = run_kind("floor", 2, tmp_path)

    assert signature(floor) == signature(program), "the floor must declare the same graph, or the ratio means nothing"
    assert {r.urn: r.inputs for r in floor} == {r.urn: r.inputs for r in program}


def test_one_tiny_size_runs_end_to_end(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n\nWritten by people.\n\n" + run.BEGIN + "\nold\n" + run.END + "\n\nAfter.\n")

    code = run.main(["--sizes", "1", "--repeat", "1", "--sections", "program,pack,documents", "--no-gc-variant",
                     "--write", str(report)])

    text = report.read_text()
    assert code == 0
    assert "Written by people." in text and "After." in text and "\nold\n" not in text, \
        "the generated block is replaced and the hand-written text around it is kept"
    for heading in ("The program under SDK mocks", "The policy pack over the analyzer protocol", "Document sizes"):
        assert heading in text


def test_the_gate_bench_runs_its_commands_at_five_teams(tmp_path: Path) -> None:
    from bench import gate

    results = {5: gate.measure(5, tmp_path)}

    runs = results[5]
    assert set(runs) == {"make check FORMAT=markdown", "pull request", "program"}
    pull_request = runs["pull request"]
    assert pull_request["fullChars"] >= pull_request["commentChars"] > 0
    assert pull_request["commentTeams"] == 6, "the pull request adds a team to the five"
    assert pull_request["namesChangedTeams"] and pull_request["saysWidened"] and pull_request["deletedNotMoved"]
    assert "| 5 | pull request |" in gate.table(results)


def test_the_deletions_bench_finds_what_it_removes() -> None:
    from bench import deletions

    result = deletions.measure(2, repeat=1)

    assert result["move"]["deletions"] == result["move"]["moved"] == 10, "every repository of 2 teams moved"
    assert 0 < result["drop"]["deletions"] < 10 and result["drop"]["moved"] == 0

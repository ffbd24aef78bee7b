"""How the pack serves (policy/rules/serving.py) changes no verdict: only repeated work is skipped.

The SDK's own `Analyze` and `AnalyzeStack` and ours run side by side, in this process, on the fixture stacks
and on every adversarial graph of tests/policy, and must answer byte for byte the same. `AnalyzeEach` is
checked over the wire against Analyze per resource, as the check uses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pulumi_policy.policy as sdk
import pytest
from pulumi.runtime.proto import analyzer_pb2
from rules import ALL_POLICIES, serving
from rules.common import plain

from engine.analyzer import PolicyPackClient, analyze_request, analyze_stack_request
from engine.resource import Resource

from .. import fixtures
from ..check.attack_graphs import attack_graphs
from .conftest import PACK_DIR, POLICY_NAMES

ORIGINAL_ANALYZE = sdk._PolicyAnalyzerServicer.Analyze
ORIGINAL_ANALYZE_STACK = sdk._PolicyAnalyzerServicer.AnalyzeStack
GRAPHS: dict[str, list[Resource]] = {
    **attack_graphs(),
    "fixture dev": list(fixtures.run_fixture("dev").resources),
    "fixture prod": list(fixtures.run_fixture("prod").resources),
}


def configured(config: dict[str, Any]) -> Any:
    servicer = sdk._PolicyAnalyzerServicer("ecr-platform-guardrails", "0.0.1", list(ALL_POLICIES),
                                           sdk.EnforcementLevel.MANDATORY)
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for policy, settings in config.items():
        entry = dict(settings)
        level = entry.pop("enforcementLevel", "mandatory")
        properties = analyzer_pb2.ConfigureAnalyzerRequest().policyConfig["x"].properties
        properties.update(entry)
        request.policyConfig[policy].CopyFrom(analyzer_pb2.PolicyConfig(
            enforcementLevel=getattr(analyzer_pb2, level.upper()), properties=properties))
    servicer.Configure(request, None)
    return servicer


@pytest.fixture(scope="module", params=["prod", "every policy mandatory"])
def servicer(request: pytest.FixtureRequest) -> Any:
    if request.param == "prod":
        return configured(fixtures.pack_config("prod"))
    return configured({name: {"enforcementLevel": "mandatory"} for name in POLICY_NAMES})


def answers(reply: analyzer_pb2.AnalyzeResponse) -> bytes:
    return reply.SerializeToString(deterministic=True)


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_analyze_stack_answers_as_the_sdks_own(servicer: Any, graph: str) -> None:
    request = analyze_stack_request(GRAPHS[graph])
    ours = serving._per_call(serving._analyze_stack)(servicer, request, None)
    assert answers(ours) == answers(ORIGINAL_ANALYZE_STACK(servicer, request, None))


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_analyze_answers_as_the_sdks_own(servicer: Any, graph: str) -> None:
    for resource in (r for r in GRAPHS[graph] if r.custom):
        request = analyze_request(resource)
        ours = serving._per_call(serving._analyze)(servicer, request, None)
        assert answers(ours) == answers(ORIGINAL_ANALYZE(servicer, request, None)), resource.name


def test_the_fixture_graphs_are_judged_at_all(servicer: Any) -> None:
    """The comparison above means something only where the guard has something to say."""
    said = sum(len(ORIGINAL_ANALYZE_STACK(servicer, analyze_stack_request(g), None).diagnostics)
               for g in GRAPHS.values())
    assert said > len(GRAPHS) / 2


@pytest.fixture(scope="module")
def wire_pack() -> Iterator[PolicyPackClient]:
    with PolicyPackClient(PACK_DIR, analyze_each=True) as client:
        client.configure(fixtures.pack_config("prod"))
        yield client


@pytest.mark.parametrize("graph", ["fixture dev", "fixture prod", *sorted(GRAPHS)[:40]])
def test_analyze_each_answers_as_analyze_per_resource(wire_pack: PolicyPackClient, graph: str) -> None:
    requests = [analyze_request(r) for r in GRAPHS[graph] if r.custom]
    each = wire_pack._analyze(requests)
    assert wire_pack._analyze_each, "our pack offers AnalyzeEach"
    one_by_one = [wire_pack.stub.Analyze(r) for r in requests]
    assert [answers(r) for r in each] == [answers(r) for r in one_by_one]


def test_a_pack_without_analyze_each_is_asked_per_resource(tmp_path: Any) -> None:
    """An older guard (a base at `--policy-ref`) lacks the method: the client falls back, same answers."""
    older = tmp_path / "policy"
    older.mkdir()
    for path in PACK_DIR.rglob("*.py"):
        target = older / path.relative_to(PACK_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    main = older / "__main__.py"
    main.write_text(main.read_text().replace("serve_analyze_each()\n", ""))
    graph: Sequence[Resource] = GRAPHS["fixture prod"]
    with PolicyPackClient(older, analyze_each=True) as client:
        client.configure(json.loads(json.dumps(fixtures.pack_config("prod"))))
        found = client.analyze_all(graph)
        assert not client._analyze_each, "UNIMPLEMENTED turns AnalyzeEach off for this pack"
    with PolicyPackClient(PACK_DIR) as client:
        client.configure(fixtures.pack_config("prod"))
        assert found == client.analyze_all(graph)


def shape(resources: Sequence[Any]) -> list[tuple[Any, ...]]:
    def urn(r: Any) -> str | None:
        return None if r is None else str(r.urn)

    return [(r.resource_type, r.urn, r.name, urn(r.parent), [urn(d) for d in r.dependencies],
             {k: [urn(d) for d in v] for k, v in r.property_dependencies.items()}, r.opts.protect, r.opts.parent,
             plain(r.props), r.provider and (r.provider.urn, plain(r.provider.props)))
            for r in resources]


@pytest.mark.parametrize("graph", ["fixture dev", "fixture prod"])
def test_the_stack_is_built_as_the_sdk_builds_it_for_each_policy(graph: str) -> None:
    seen: list[Any] = []
    recorder = sdk.StackValidationPolicy(name="recorder", description="records what a stack policy gets",
                                         validate=lambda args, report: seen.append(list(args.resources)))
    servicer = sdk._PolicyAnalyzerServicer("recorder", "0.0.1", [recorder], sdk.EnforcementLevel.MANDATORY)
    request = analyze_stack_request(GRAPHS[graph])
    ORIGINAL_ANALYZE_STACK(servicer, request, None)
    built = shape(serving._stack_resources(servicer, request))
    assert built == shape(seen[0])
    assert any(parent for _, _, _, parent, *_ in built) and any(deps for *_, deps, _, _, _, _, _ in built), (
        "the graph has parents and dependencies to link")


def test_the_fork_follows_the_sdk_version_the_pack_installs() -> None:
    """`_analyze_stack` copies the SDK's AnalyzeStack: an upgrade of the lock must revisit it (until then the
    pack keeps the SDK's own method for any other version)."""
    lock = (PACK_DIR / "requirements.txt").read_text()
    assert f"pulumi-policy=={serving.FORKED_FROM} " in lock


def test_analyze_each_chunks_by_count_and_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.analyzer as analyzer

    small = [analyzer_pb2.AnalyzeRequest(type="t", urn=f"u{i}") for i in range(7)]
    monkeypatch.setattr(analyzer, "EACH_CHUNK", 3)
    assert [len(c) for c in analyzer._chunks(small)] == [3, 3, 1]
    big = analyzer_pb2.AnalyzeRequest(type="t", urn="big")
    big.properties.update({"document": "x" * 1000})
    monkeypatch.setattr(analyzer, "EACH_CHUNK_BYTES", 1000)
    assert [[r.urn for r in c] for c in analyzer._chunks([small[0], big, small[1]])] == [["u0"], ["big"], ["u1"]]

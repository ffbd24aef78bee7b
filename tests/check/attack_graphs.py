"""The adversarial resource graphs of `tests/policy/test_attacks*.py`, as the pack judged them there.

Each attack test is run once against a recording stand-in for the pack: every resource list it hands to the
guard is kept (the test's own assertions then fail on the empty verdict, which is expected and ignored).
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

from _pytest.mark.structures import ParameterSet

from engine.resource import Resource

from ..policy import test_attacks, test_attacks_closed_world, test_attacks_principal_graph

MODULES: tuple[ModuleType, ...] = (test_attacks, test_attacks_closed_world, test_attacks_principal_graph)


class _Recorder:
    """Stands in for `tests/policy/conftest.Guard` and its client: records, judges nothing."""

    def __init__(self) -> None:
        self.graphs: list[list[Resource]] = []
        self.client = self

    def configure(self, *args: Any, **kwargs: Any) -> _Recorder:
        return self

    def _record(self, resources: Sequence[Resource] | Resource) -> list[Any]:
        self.graphs.append(list(resources) if isinstance(resources, Sequence) else [resources])
        return []

    all = stack = analyze = analyze_all = analyze_stack = analyze_resource = _record


def _values(value: Any, names: int) -> Sequence[Any]:
    if isinstance(value, ParameterSet):
        return value.values
    return value if names > 1 else (value,)


def _cases(test: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    """Every parameter combination of a test's `parametrize` marks."""
    axes: list[list[dict[str, Any]]] = []
    for mark in getattr(test, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        names, values = mark.args[0], mark.args[1]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        axes.append([dict(zip(names, _values(v, len(names)), strict=True)) for v in values])
    for combination in itertools.product(*axes):
        yield {k: v for case in combination for k, v in case.items()}


def attack_graphs() -> dict[str, list[Resource]]:
    """Test id -> the largest resource graph that test hands to the guard."""
    found: dict[str, list[Resource]] = {}
    for module in MODULES:
        for name, test in sorted(vars(module).items()):
            if not name.startswith("test_") or not inspect.isfunction(test):
                continue
            for i, case in enumerate(_cases(test)):
                recorder = _Recorder()
                with contextlib.suppress(Exception):  # the verdicts are empty on purpose; the graphs are recorded
                    test(recorder, **case)
                if recorder.graphs:
                    found[f"{module.__name__.rsplit('.', 1)[-1]}::{name}[{i}]"] = max(recorder.graphs, key=len)
    return found

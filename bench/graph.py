"""A recorded resource graph as the floor program's spec, and a signature to prove two graphs alike."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from engine.resource import Resource

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def keyword_form(value: Any) -> Any:
    """Recorded (wire, camelCase) inputs as the pulumi-aws classes take them (snake_case dicts).

    Keys that are not identifiers (tag keys such as `managed-by`) are data and stay as they are.
    """
    if isinstance(value, Mapping):
        return {(snake(k) if k.isidentifier() else k): keyword_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keyword_form(v) for v in value]
    return value


def module_and_class(type_token: str) -> tuple[str, str]:
    """`aws:ecr/repository:Repository` -> (`ecr`, `Repository`)."""
    _, module_path, cls = type_token.split(":")
    return module_path.split("/")[0], cls


def floor_spec(resources: Sequence[Resource], outputs: Mapping[str, Any]) -> dict[str, Any]:
    """What `bench/floor_program` declares: the same graph with every value already decided."""
    index = {r.urn: i for i, r in enumerate(resources)}
    spec: list[dict[str, Any]] = []
    for r in resources:
        from_outputs = {prop: [index[u] for u in urns if u in index]
                        for prop, urns in r.property_dependencies.items() if urns}
        carried = {u for urns in r.property_dependencies.values() for u in urns}
        entry: dict[str, Any] = {
            "type": r.type,
            "name": r.name,
            "component": not r.custom,
            "parent": index.get(r.parent),
            "protect": r.protect,
            "dependsOn": [index[u] for u in r.dependencies if u in index and u not in carried],
        }
        if r.custom:
            entry.update(
                {"class": module_and_class(r.type), "kwargs": keyword_form(r.inputs),
                 "outputInputs": {snake(prop): urns for prop, urns in from_outputs.items()}},
            )
        spec.append(entry)
    return {"resources": spec, "outputs": dict(outputs)}


def signature(resources: Sequence[Resource]) -> dict[str, Any]:
    """What must match between the program and its floor: types, parents, options, input sizes."""
    types = {r.urn: r.type for r in resources}
    shape = Counter(
        (r.type, types.get(r.parent, "<stack>"), r.custom, r.protect, len(r.dependencies)) for r in resources)
    return {
        "resources": len(resources),
        "custom": sum(r.custom for r in resources),
        "shape": sorted([*key, count] for key, count in shape.items()),
        "inputChars": sum(len(json.dumps(r.inputs, sort_keys=True)) for r in resources),
    }

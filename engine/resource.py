"""The one shape of a resource in the tooling: what the mocks record, what the analyzer client sends
to a policy pack, and what the access review and the tests read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def default_urn(type_: str, name: str, stack: str = "test", project: str = "ecr-platform") -> str:
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


@dataclass
class Resource:
    """One resource as the engine sees it: inputs, resource options and, once declared, its outputs.

    A resource written by hand for a test needs only `type`, `name` and `inputs`."""

    type: str
    name: str
    inputs: dict[str, Any] = field(default_factory=dict)
    """The input properties (camelCase): what a pack's `Analyze` sees."""
    urn: str = ""
    parent: str = ""
    protect: bool = False
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    """The engine's final state (the mocks' outputs): what `AnalyzeStack` sees; None for a resource
    written by hand, which is then judged by its inputs in both."""
    custom: bool = True
    """False for a component resource: the engine asks a pack about custom resources only."""
    aliases: list[str] = field(default_factory=list)
    """URNs this resource was known by (its `aliases` option), as the engine resolves them."""

    @property
    def state(self) -> dict[str, Any]:
        """The outputs, or the inputs of a resource written by hand."""
        return self.inputs if self.outputs is None else self.outputs

    @property
    def resolved_urn(self) -> str:
        return self.urn or default_urn(self.type, self.name)

"""The base of every config model: stack YAML names (camelCase), unknown keys refused, frozen.

A model also answers what a message needs: its keys, and which model holds the keys at an error's
location (`teams.payments.github[0]` -> the GitHub entry), by reading the field annotations.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=False
    )

    @classmethod
    def keys(cls) -> list[str]:
        """The YAML keys this model takes, its own before those it shares with other levels."""
        inherited = {name for base in cls.__bases__ if issubclass(base, BaseModel) for name in base.model_fields}
        fields = sorted(cls.model_fields.items(), key=lambda item: item[0] in inherited)
        return [field.alias or name for name, field in fields]

    @classmethod
    def model_at(cls, loc: Sequence[str | int]) -> type[Model] | None:
        """The model whose keys live at `loc` (a pydantic error location below this model), if any."""
        node: Any = cls
        for part in loc:
            node = _unwrapped(node)
            if isinstance(node, type) and issubclass(node, BaseModel):
                field = next((f for n, f in node.model_fields.items() if part in (n, f.alias)), None)
                node = field.annotation if field else None
            elif typing.get_origin(node) in (list, dict):
                node = typing.get_args(node)[-1]
            else:
                return None
        node = _unwrapped(node)
        return node if isinstance(node, type) and issubclass(node, Model) else None


def _unwrapped(annotation: Any) -> Any:
    """`X` for `X | None` and `Annotated[X, ...]`."""
    while typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation

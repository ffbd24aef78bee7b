"""What the SDK cannot read off the wire: numbers that are not finite.

A property value is a protobuf `Value`, which carries `Infinity` and `NaN` as numbers, but the SDK
turns each resource's properties into Python with `json_format.MessageToDict`, which raises on them:
the whole Analyze or AnalyzeStack call would fail before any rule runs. `tolerate_non_finite_numbers`
makes the SDK read such a number as the string `'inf'`, `'-inf'` or `'nan'` instead, so the rules see
a value of the wrong type where a number or a document belongs and refuse it like any other.
"""

from __future__ import annotations

import math
from typing import Any

import pulumi_policy.policy as sdk
from google.protobuf import json_format, struct_pb2
from google.protobuf.message import Message


def _finite(value: struct_pb2.Value) -> None:
    kind = value.WhichOneof("kind")
    if kind == "number_value" and not math.isfinite(value.number_value):
        value.string_value = repr(value.number_value)
    elif kind == "struct_value":
        for item in value.struct_value.fields.values():
            _finite(item)
    elif kind == "list_value":
        for item in value.list_value.values:
            _finite(item)


def message_to_dict(message: Message, *args: Any, **kwargs: Any) -> Any:
    """`json_format.MessageToDict`, reading non-finite numbers of a Struct as strings (costs nothing otherwise)."""
    try:
        return json_format.MessageToDict(message, *args, **kwargs)
    except ValueError:
        if not isinstance(message, struct_pb2.Struct):
            raise
        readable = struct_pb2.Struct()
        readable.CopyFrom(message)
        for item in readable.fields.values():
            _finite(item)
        return json_format.MessageToDict(readable, *args, **kwargs)


class _JsonFormat:
    """The SDK's view of `json_format`: everything as is, but `MessageToDict`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)

    MessageToDict = staticmethod(message_to_dict)


def tolerate_non_finite_numbers() -> None:
    """Make the SDK's policy server read non-finite numbers (see the module doc)."""
    sdk.json_format = _JsonFormat()  # type: ignore[assignment]

"""How a configuration problem reads: one line naming the key path, what was expected, and the fix.

Pydantic finds the problems (the validators in `values.py` and `models.py`); this module only
words them. `describe` turns one pydantic error into a line; a model validator raises `problem_at`
to point at one of its own keys; `did_you_mean` suggests the closest known name.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic_core import ErrorDetails, PydanticCustomError

from .base import Model

PROBLEM = "config_problem"
# Pydantic's error types, worded from the error's context: `{input}` is the value as JSON.
_TEMPLATES = {
    PROBLEM: "{message}",
    "value_error": "{error}",
    "missing": "is required",
    "bool_parsing": "{input} is not true or false",
    "bool_type": "{input} is not true or false",
    "int_parsing": "{input} is not a whole number",
    "int_type": "{input} is not a whole number",
    "int_from_float": "{input} is not a whole number",
    "string_type": "{input} is not a string",
    "dict_type": "{input} is not a mapping",
    "greater_than_equal": "{input} is below the minimum of {ge}",
    "less_than_equal": "{input} is above the maximum of {le}",
    "too_short": "needs at least {min_length} (has {actual_length})",
    "string_too_short": "{input} is too short: at least {min_length} character(s)",
    "too_long": "takes at most {max_length} (has {actual_length})",
    "literal_error": "{input} is not allowed; use {expected}",
}


class ConfigError(Exception):
    """The stack configuration is invalid; `problems` holds one `path: message` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"ecr-platform: the stack configuration has {len(problems)} problem(s); nothing was declared:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def problem_at(key: str | int, message: str) -> PydanticCustomError:
    """The error a validator raises about one of its model's keys (or a list's item): pydantic places
    it at the model (the list), and `describe` adds the key (`[index]`) to the path."""
    return PydanticCustomError(PROBLEM, "{message}", {"message": message, "key": key})


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to `name` (difflib's ratio of at least 0.6), if any."""
    return next(iter(difflib.get_close_matches(name, list(known), n=1)), None)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`did you mean "<closest>"?` when a known name is close to `name`, else an empty string."""
    close = closest(name, known)
    return f'did you mean "{close}"?' if close else ""


def path(loc: Sequence[str | int]) -> str:
    """`teams.payments.github[0].repository` for a pydantic location."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "ecr-platform"


def describe_all(errors: list[ErrorDetails], root: type[Model]) -> list[str]:
    """A line per error of a validation of `root`, but one per misspelt key: a required key that is
    missing because it was written under a close misspelling is said once, as the typo."""
    misspelt = set()
    for error in errors:
        if error["type"] == "extra_forbidden":
            model = root.model_at(error["loc"][:-1])
            misspelt.add((*error["loc"][:-1], closest(str(error["loc"][-1]), model.keys() if model else ())))
    return [describe(e, root) for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in misspelt)]


def describe(error: ErrorDetails, root: type[Model]) -> str:
    """One pydantic error as one line: `<key path>: <what is wrong; the fix>`."""
    loc = [part for part in error["loc"] if part != "[key]"]  # a mapping key's own error: the key's path
    ctx: dict[str, Any] = error.get("ctx") or {}
    if error["type"] == PROBLEM:
        loc.append(ctx["key"])
    return f"{path(loc)}: {_what(error, ctx, loc, root)}"


def _what(error: ErrorDetails, ctx: dict[str, Any], loc: list[str | int], root: type[Model]) -> str:
    kind, value = error["type"], error.get("input")
    shown = json.dumps(value, default=str)
    if kind in _TEMPLATES:
        return _TEMPLATES[kind].format(input=shown, **ctx)
    if kind == "extra_forbidden":
        model = root.model_at(loc[:-1])
        keys = model.keys() if model else []
        hint = did_you_mean(str(loc[-1]), keys)
        return f"unknown key; {hint + ' ' if hint else ''}expected one of: {', '.join(keys)}"
    if kind in ("model_type", "model_attributes_type"):
        model = root.model_at(loc)
        return f"{shown} is not a mapping" + (f" with keys from: {', '.join(model.keys())}" if model else "")
    if kind == "list_type":
        scalar = isinstance(value, (str, int, float))
        return f"{shown} is not a list" + (f"; write it as one: [{value}]" if scalar else "")
    return str(error["msg"])

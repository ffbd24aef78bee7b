"""The README's config reference, generated from the config models (as terraform-docs does).

`python -m devtools.config_docs --write` rewrites the block between the markers in
README.md; a test fails when the README and the models disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from components import config
from components.config.retire import Retire

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- config-reference:begin (generated: python -m devtools.config_docs --write) -->"
END = "<!-- config-reference:end -->"

# (key path shown to users, model); settings shared by defaults/team/repository are listed once.
SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("ecr-platform:", config.StackConfig),
    ("github.", config.GitHubSettings),
    ("defaults. / teams.<team>. / repositories[]. (repository settings)", config.RepositorySettings),
    ("defaults. / teams.<team>. (push role settings)", config.RoleSettings),
    ("encryption.", config.Encryption),
    ("lifecycle.", config.Lifecycle),
    ("lifecycle.keepTagged[].", config.KeepTagged),
    ("teams.<team>.", config.Team),
    ("teams.<team>.repositories[].", config.RepositoryEntry),
    ("teams.<team>.github[].", config.GitHubAccess),
    ("teams.<team>.github[].reviewers.", config.Reviewers),
    ("teams.<team>.deploy.", config.Deploy),
    ("registry.", config.RegistryConfig),
    ("registry.replication.", config.Replication),
    ("registry.replication.rules[].", config.ReplicationRule),
    ("registry.replication.rules[].destinations[].", config.ReplicationDestination),
    ("registry.scanning.", config.Scanning),
    ("registry.scanning.rules[].", config.ScanRule),
    ("registry.pullThroughCache.<prefix>.", config.PullThroughCache),
    ("retire.", Retire),
]


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map of {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return getattr(annotation, "__name__", str(annotation))


def _default(model: type[BaseModel], name: str) -> str:
    field = model.model_fields[name]
    if issubclass(model, config.RepositorySettings) and name in config.RepositorySettings.model_fields:
        value = getattr(config.BUILT_IN, name)
        if isinstance(value, BaseModel):
            return "see below"
        return f"`{json.dumps(value)}` (built-in)"
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        return "`[]`" if value == [] else "`{}`" if value == {} else "see below"
    if field.default is None or field.default is PydanticUndefined:
        return "—"
    return f"`{json.dumps(field.default)}`"


def render() -> str:
    lines: list[str] = []
    for prefix, model in SECTIONS:
        lines += [f"#### `{prefix}`", "", "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        own = model.model_fields
        shared = {name for base in (config.RepositorySettings, config.RoleSettings) if base is not model
                  and issubclass(model, base) for name in base.model_fields}
        for name, field in own.items():
            if name in shared:
                continue
            key = field.alias or name
            description = (field.description or "").replace("|", "\\|")
            lines.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(model, name)} | {description} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def current_block(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the README block in place")
    args = parser.parse_args(argv)
    if not args.write:
        sys.stdout.write(render())
        return 0
    text = README.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    README.write_text(text[:start] + "\n" + render() + text[end:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

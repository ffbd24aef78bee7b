"""examples/: every stack file builds under the SDK mocks and passes the pack with its own pack config.

`examples/<name>.yaml` is judged with `examples/<name>.policy.json` by the pack in this working
tree, so an example that a new pack version flags fails here and gets fixed. `everything.yaml`
sets every configuration key, each pack config explains how it differs from the project's strictest
guard, and the README's feature table points at the examples.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from components.config import RepositorySettings, RoleSettings, StackConfig, load_settings
from devtools.config_docs import SECTIONS
from engine.program import load_stack_config, run_stack

from ..policy.conftest import assert_clean
from .conftest import judge, program_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
REPOSITORY = "aws:ecr/repository:Repository"
STRICTEST = ROOT / "policy" / "config" / "prod.json"
# Pack settings that name the stack's own accounts and owners (checked by test_environment_consistency).
STACK_LISTS = {"allowedAccounts", "allowedPushAccounts", "allowedReplicationAccounts", "allowedOrganizations",
               "allowedRefPatterns"}


def pack_config(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.policy.json").read_text())


def test_every_example_has_its_pack_config():
    packs = sorted(p.name.removesuffix(".policy.json") for p in EXAMPLES.glob("*.policy.json"))
    assert packs == NAMES, "each examples/<name>.yaml needs examples/<name>.policy.json, and no pack config is orphaned"
    assert "everything" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_example_names_its_account_and_region(name):
    config = load_stack_config(EXAMPLES / f"{name}.yaml")
    assert config.get("aws:region"), f"{name}.yaml: set aws:region"
    assert len(config.get("aws:allowedAccountIds") or []) == 1, (
        f"{name}.yaml: set aws:allowedAccountIds to the one account, so the provider refuses any other")


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
@pytest.mark.parametrize("name", NAMES)
def test_example_passes_the_pack_with_its_pack_config(pack_client, name, preview):
    run = run_stack(name, config_file=EXAMPLES / f"{name}.yaml", preview=preview)
    assert run.of_type(REPOSITORY), f"{name}.yaml declares no repository, so the pack judged nothing"
    assert_clean(judge(pack_client, pack_config(name), run.resources))


# --- everything.yaml sets every key ----------------------------------------------------------------


def _container_and_model(annotation: Any) -> tuple[type | None, type[BaseModel] | None]:
    """(list, dict or None; the model of the values, if any) for a field's annotation."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return _container_and_model(next(a for a in args if a is not type(None)))
    if origin is typing.Annotated:
        return _container_and_model(args[0])
    if origin in (list, dict):
        return origin, _container_and_model(args[-1])[1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return None, annotation
    return None, None


def keys_set(model: type[BaseModel], raw: Any, found: set[tuple[type[BaseModel], str]]) -> None:
    """Add (model, field) for every key the raw YAML sets, descending into nested models."""
    if not isinstance(raw, Mapping):
        return  # a bare repository name
    by_alias = {field.alias or name: name for name, field in model.model_fields.items()}
    for key, value in raw.items():
        name = by_alias[key]
        found.add((model, name))
        container, sub = _container_and_model(model.model_fields[name].annotation)
        if sub is None:
            continue
        items = value if container is list else value.values() if container is dict else [value]
        for item in items:
            keys_set(sub, item, found)


def test_everything_sets_every_config_key():
    raw = program_config(EXAMPLES / "everything.yaml")
    load_settings(raw, "everything")
    found: set[tuple[type[BaseModel], str]] = set()
    keys_set(StackConfig, raw, found)
    missing = []
    for section, model in SECTIONS:
        # Settings every level shares are one section of their own (as in the README's reference).
        shared = {n for base in (RepositorySettings, RoleSettings) if base is not model and issubclass(model, base)
                  for n in base.model_fields}
        for name, field in model.model_fields.items():
            if name not in shared and not any(issubclass(m, model) and n == name for m, n in found):
                missing.append(f"{section}{field.alias or name}")
    assert not missing, f"examples/everything.yaml never sets: {', '.join(missing)}"


# --- pack configs say why they differ from the strictest guard ------------------------------------


def relaxations(config: Mapping[str, Any]) -> list[str]:
    """`policy.property` for every setting that differs from policy/config/prod.json (account lists aside)."""
    strictest = json.loads(STRICTEST.read_text())
    return [f"{policy}.{key}" for policy, settings in config.items() for key, value in settings.items()
            if key not in STACK_LISTS and strictest.get(policy, {}).get(key) != value]


def readme_section(name: str) -> str:
    text = (EXAMPLES / "README.md").read_text()
    match = re.search(rf"^### `{re.escape(name)}\.yaml`\n(.*?)(?=^##|\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"examples/README.md has no section ### `{name}.yaml`"
    return match.group(1)


@pytest.mark.parametrize("name", NAMES)
def test_each_relaxation_of_a_pack_config_is_explained(name):
    section = readme_section(name)
    unexplained = [r for r in relaxations(pack_config(name)) if f"`{r}`" not in section]
    assert not unexplained, (f"examples/{name}.policy.json differs from policy/config/prod.json in "
                             f"{', '.join(unexplained)}; say why in examples/README.md under {name}.yaml")


def test_relaxations_are_found():
    config = json.loads(STRICTEST.read_text())
    config["github-oidc-trust-scoped"] = {**config["github-oidc-trust-scoped"], "allowOrgWide": True,
                                          "allowedOrganizations": ["someone-else"]}
    config["protect-registries"] = {"enforcementLevel": "advisory"}
    assert relaxations(config) == ["github-oidc-trust-scoped.allowOrgWide", "protect-registries.enforcementLevel"]


# --- the README's feature table -------------------------------------------------------------------


def feature_rows() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## What you get"):]
    section = section[:section.index("\n## ", 1)]
    return [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| ---")][1:]


def anchors(markdown: Path) -> set[str]:
    """The heading anchors GitHub makes: lowercase, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_the_readme_feature_table_links_each_feature_to_an_example():
    linked: set[str] = set()
    for row in feature_rows():
        links = re.findall(r"\]\(((?:examples|docs)/[^)#]+)(?:#([^)]+))?\)", row)
        assert links, f"README feature row links no example: {row[:80]}"
        for link, anchor in links:
            assert (ROOT / link).is_file(), f"README links {link}, which does not exist"
            assert not anchor or anchor in anchors(ROOT / link), f"README links {link}#{anchor}: no such heading"
        linked.update(link for link, _ in links)
    unlinked = [n for n in NAMES if f"examples/{n}.yaml" not in linked]
    assert not unlinked, f"no README feature links these examples: {', '.join(unlinked)}"

"""docs/onboarding.md: its snippets, applied in order to this repository's files, keep every check green.

Each YAML or JSON snippet follows a line naming its file (`Pulumi.dev.yaml`:); its keys are added
to that file's, mappings merged and lists replaced, as the guide tells the reader. Every YAML step
must be valid config (`load_settings`), and after each section the program and the pack, with the
environment's pack config as the guide left it, must report no mandatory violation: a reader who
follows the guide gets a green `make check` on the first run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import ConfigError, load_settings
from engine.program import ProgramRun, load_stack_config, run_stack
from review.deletions import find_deletions, retire_of

from ..policy.conftest import assert_violates
from .conftest import judge, program_config

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "onboarding.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
CAPTION = re.compile(r"^`([^`]+)`:$")
STACK_FILE = re.compile(r"^Pulumi\.([a-z0-9-]+)\.yaml$")
PACK_FILE = re.compile(r"^policy/config/([a-z0-9-]+)\.json$")


@dataclass(frozen=True)
class Snippet:
    section: str
    file: str
    """The file the guide says it goes into, relative to the repository root ("" if it names none)."""
    content: Any
    line: int


def snippets() -> list[Snippet]:
    """The guide's YAML and JSON snippets, in order."""
    text = GUIDE.read_text()
    found = []
    for match in FENCE.finditer(text):
        language, body = match.groups()
        if language not in ("yaml", "json"):
            continue
        before = text[:match.start()].rstrip("\n").splitlines()
        caption = CAPTION.match(before[-1]) if before else None
        section = next((line[3:] for line in reversed(before) if line.startswith("## ")), "")
        content = yaml.safe_load(body) if language == "yaml" else json.loads(body)
        line = text.count("\n", 0, match.start()) + 1
        found.append(Snippet(section, caption.group(1) if caption else "", content, line))
    return found


def merged(base: Any, patch: Any) -> Any:
    """`patch` added to `base`: mappings merge key by key, anything else (lists too) is replaced."""
    if isinstance(base, Mapping) and isinstance(patch, Mapping):
        return {**base, **{key: merged(base.get(key), value) for key, value in patch.items()}}
    return patch


class Workspace:
    """The repository's stack and pack config files as the reader has edited them so far (in tmp_path)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.contents: dict[str, Any] = {}

    def apply(self, snippet: Snippet) -> None:
        if snippet.file not in self.contents:
            original = (ROOT / snippet.file).read_text()
            self.contents[snippet.file] = yaml.safe_load(original) if snippet.file.endswith(".yaml") \
                else json.loads(original)
        self.contents[snippet.file] = merged(self.contents[snippet.file], snippet.content)

    def stack_file(self, env: str) -> Path:
        path = self.tmp_path / f"Pulumi.{env}.yaml"
        path.write_text(yaml.safe_dump(self.contents.get(f"Pulumi.{env}.yaml")
                                       or yaml.safe_load((ROOT / f"Pulumi.{env}.yaml").read_text())))
        return path

    def pack_config(self, env: str) -> dict[str, Any]:
        return self.contents.get(f"policy/config/{env}.json") \
            or json.loads((ROOT / "policy" / "config" / f"{env}.json").read_text())


def env_of(file: str) -> str:
    match = STACK_FILE.match(file) or PACK_FILE.match(file)
    assert match, file
    return match.group(1)


def test_every_snippet_names_an_existing_stack_or_pack_config_file():
    found = snippets()
    assert len(found) >= 5, "the guide's snippets were not found"
    for snippet in found:
        assert STACK_FILE.match(snippet.file) or PACK_FILE.match(snippet.file), (
            f"docs/onboarding.md:{snippet.line}: put the file it goes into on the line before the snippet, "
            "e.g. `Pulumi.dev.yaml`:")
        assert (ROOT / snippet.file).is_file(), f"docs/onboarding.md:{snippet.line}: {snippet.file} does not exist"


def test_following_the_guide_keeps_every_environment_green(pack_client, tmp_path):
    workspace = Workspace(tmp_path)
    found = snippets()
    for section in dict.fromkeys(s.section for s in found):
        envs = set()
        for snippet in (s for s in found if s.section == section):
            workspace.apply(snippet)
            env = env_of(snippet.file)
            envs.add(env)
            if STACK_FILE.match(snippet.file):
                try:
                    load_settings(program_config(workspace.stack_file(env)), env)
                except ConfigError as error:
                    pytest.fail(f"docs/onboarding.md:{snippet.line} ({section}) leaves invalid config:\n{error}")
        for env in sorted(envs):
            run = run_stack(env, config_file=workspace.stack_file(env))
            mandatory = [v for v in judge(pack_client, workspace.pack_config(env), run.resources)
                         if v.enforcement == "mandatory"]
            assert not mandatory, (f"after the guide's section '{section}', `make check STACK={env}` fails:\n"
                                   + "\n".join(f"  - {v}" for v in mandatory))


def test_an_account_added_to_the_stack_alone_is_refused_as_the_guide_says(pack_client, tmp_path):
    workspace = Workspace(tmp_path)
    found = snippets()
    first = next(i for i, s in enumerate(found) if s.section.startswith("Add an account"))
    stack_steps = [s for s in found if s.section == found[first].section and STACK_FILE.match(s.file)]
    for snippet in found[:first] + stack_steps:
        workspace.apply(snippet)
    env = env_of(stack_steps[0].file)
    added = {account for step in stack_steps for account in step.content["config"]["ecr-platform:accounts"].values()}
    run = run_stack(env, config_file=workspace.stack_file(env))
    violations = judge(pack_client, workspace.pack_config(env), run.resources)
    for account in added:
        assert_violates(violations, "ecr-repository-policy-restricted", account, "allowedAccounts")


def test_each_step_of_the_guide_deletes_only_what_it_retires(tmp_path):
    """What `make check COMPARE=origin/main` finds between one step and the next: every stateful resource
    a step deletes is listed under its `retire:`, so prod's guard would let the guide's moves through."""
    workspace = Workspace(tmp_path)
    before: dict[str, ProgramRun] = {}
    retired: list[str] = []
    for snippet in snippets():
        workspace.apply(snippet)
        if not STACK_FILE.match(snippet.file):
            continue
        env = env_of(snippet.file)
        path = workspace.stack_file(env)
        run = run_stack(env, config_file=path)
        found = find_deletions((before.get(env) or run_stack(env)).resources, run.resources,
                               retire_of(load_stack_config(path)))
        unretired = [d.message() for d in found if not d.retired_by]
        assert not unretired, f"docs/onboarding.md:{snippet.line} ({snippet.section}) deletes:\n" + "\n".join(unretired)
        retired += [d.name for d in found]
        before[env] = run
    assert {"payments/worker", "payments/api"} <= set(retired), "the guide retires and moves repositories"

"""docs/onboarding.md: its snippets, applied in order to this repository's files, keep every check green.

Each YAML or JSON snippet follows a line naming its file (`Pulumi.dev.yaml`:); its keys are added
to that file's, mappings merged and lists replaced, as the guide tells the reader. Every YAML step
must be valid config (`load_settings`), and after each section the program and the pack, with the
environment's pack config as the guide left it, must report no mandatory violation: a reader who
follows the guide gets a green `make check` on the first run. And the test suite stays green: a
copy of this repository with the onboarding sections applied passes every `live_stacks` test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import ConfigError, load_settings
from engine.program import ProgramRun, load_stack_config, run_stack
from review.deletions import find_deletions, retire_of

from .. import fixtures
from ..policy.conftest import assert_violates
from .conftest import judge, program_config

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "onboarding.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
CAPTION = re.compile(r"^`([^`]+)`:$")
STACK_FILE = re.compile(r"^Pulumi\.([a-z0-9-]+)\.yaml$")
PACK_FILE = re.compile(r"^policy/config/([a-z0-9-]+)\.json$")
# What onboarding a team takes, as the guide orders it; the sections after these change teams that exist.
ONBOARDING = ("Add a team", "Add an account", "Promote a team to prod")


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


def live_file(file: str) -> Path:
    """The repository's own file the guide names (`Pulumi.dev.yaml`, `policy/config/dev.json`)."""
    return ROOT / file


def fixture_file(file: str) -> Path:
    """The fixture stack's copy of that file (tests/fixtures/stacks): what the live ones were."""
    env = env_of(file)
    return fixtures.stack_file(env) if STACK_FILE.match(file) else fixtures.pack_config_file(env)


class Workspace:
    """The stack and pack config files as the reader has edited them so far (in tmp_path), starting
    from the repository's own files (`original=live_file`) or from the fixture stacks."""

    def __init__(self, tmp_path: Path, original: Callable[[str], Path] = live_file) -> None:
        self.tmp_path = tmp_path
        self.original = original
        self.contents: dict[str, Any] = {}

    def _read(self, file: str) -> Any:
        text = self.original(file).read_text()
        return yaml.safe_load(text) if file.endswith(".yaml") else json.loads(text)

    def apply(self, snippet: Snippet) -> None:
        if snippet.file not in self.contents:
            self.contents[snippet.file] = self._read(snippet.file)
        self.contents[snippet.file] = merged(self.contents[snippet.file], snippet.content)

    def stack_file(self, env: str) -> Path:
        path = self.tmp_path / f"Pulumi.{env}.yaml"
        name = f"Pulumi.{env}.yaml"
        path.write_text(yaml.safe_dump(self.contents.get(name) or self._read(name)))
        return path

    def pack_config(self, env: str) -> dict[str, Any]:
        name = f"policy/config/{env}.json"
        return self.contents.get(name) or self._read(name)

    def write_into(self, repository: Path) -> None:
        """Every file edited so far, written over its namesake in `repository` (a copy of this one)."""
        for file, content in self.contents.items():
            text = yaml.safe_dump(content, sort_keys=False) if file.endswith(".yaml") \
                else json.dumps(content, indent=2) + "\n"
            (repository / file).write_text(text)


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
    # from the fixture stacks: the live guard may allow the guide's example account already
    workspace = Workspace(tmp_path, fixture_file)
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


def copy_of_this_repository(destination: Path) -> Path:
    """The working tree's files (tracked, or new and not ignored) copied to `destination`."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is gone from the copy too
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def test_onboarding_a_team_by_the_guide_keeps_the_live_stack_tests_green(tmp_path):
    """The guide's onboarding sections, applied to a copy of this repository's stack and pack files as a
    reader would, then every test over the live stacks (`-m live_stacks`) run on that copy."""
    workspace = Workspace(tmp_path)
    steps = [s for s in snippets() if s.section in ONBOARDING]
    assert {s.section for s in steps} == set(ONBOARDING), "the guide's onboarding sections were renamed"
    for snippet in steps:
        workspace.apply(snippet)
    copy = copy_of_this_repository(tmp_path / "repository")
    workspace.write_into(copy)
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("PYTEST_", "COV_"))} | {"PYTHONPATH": str(copy)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "live_stacks", "-p", "no:cacheprovider", "tests"],
                         cwd=copy, env=environment, capture_output=True, text=True,
                         timeout=600, check=False)
    assert run.returncode == 0, ("after docs/onboarding.md's " + ", ".join(ONBOARDING)
                                 + ", the live-stack tests fail:\n" + run.stdout[-6000:] + run.stderr[-2000:])
    assert " passed" in run.stdout and " deselected" in run.stdout, run.stdout[-2000:]

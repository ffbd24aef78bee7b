"""A copy of this checkout in a temporary git repository, for tests that need a base commit and a change:
the program, the pack and the tool itself, run as that copy's own code runs them, with the fixture
stacks (tests/fixtures) as its dev and prod stack and pack config files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from engine.program import ROOT

from .. import fixtures

# What the check needs to run from another checkout: the program, the pack and the tool itself.
CHECKOUT = ("__main__.py", "Pulumi.yaml", "components", "policy", "engine", "review")
FIXTURE_STACKS = ("dev", "prod")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def copy_checkout(repo: Path) -> str:
    """This checkout's program, pack and stack files in a new git repository at `repo`; the base commit."""
    ignore = shutil.ignore_patterns("__pycache__", "venv", "*.pyc")
    for name in CHECKOUT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=ignore)
        else:
            shutil.copy2(source, repo / name)
    for env in FIXTURE_STACKS:
        shutil.copy2(fixtures.stack_file(env), repo / f"Pulumi.{env}.yaml")
        shutil.copy2(fixtures.pack_config_file(env), repo / "policy" / "config" / f"{env}.json")
    git(repo, "init", "-q")
    return commit_all(repo, "base")


def edit_json(path: Path, change: Callable[[Any], None]) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2) + "\n")


def edit_stack(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = yaml.safe_load(path.read_text())
    change(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def check_in(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The check as that checkout's own code runs it."""
    env = {**os.environ, "PYTHONPATH": str(repo)}
    return subprocess.run([sys.executable, "-m", "review.check", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300, check=False)

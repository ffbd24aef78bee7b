"""scripts/deploy_guard.sh, which every deploy job runs before credentials and `pulumi up`: only the
current tip of main deploys. Run in temporary git repositories: a bare `origin` and a clone of it
standing in for the job's checkout."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from .lint import ROOT, tool

GUARD = ROOT / "scripts" / "deploy_guard.sh"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True,
                          check=True).stdout.strip()


def commit(clone: Path, message: str) -> str:
    git(clone, "commit", "-q", "--allow-empty", "-m", message)
    return git(clone, "rev-parse", "HEAD")


@dataclass
class Repositories:
    origin: Path
    job: Path
    """The deploy job's checkout."""
    developer: Path
    """Where newer commits come from."""


@pytest.fixture
def repos(tmp_path: Path) -> Repositories:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    developer = tmp_path / "developer"
    git(tmp_path, "clone", "-q", str(origin), str(developer))
    git(developer, "checkout", "-q", "-b", "main")
    commit(developer, "first")
    git(developer, "push", "-q", "origin", "main")
    job = tmp_path / "job"
    git(tmp_path, "clone", "-q", str(origin), str(job))
    return Repositories(origin, job, developer)


def guard(checkout: Path, sha: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(GUARD), sha, "prod"], cwd=checkout, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV, **env}, timeout=60, check=False)


def test_the_tip_of_main_deploys(repos: Repositories) -> None:
    tip = git(repos.job, "rev-parse", "HEAD")
    result = guard(repos.job, tip)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{tip} is the tip of main: deploying it to prod" in result.stdout


def test_a_commit_main_has_moved_past_is_refused_before_it_rolls_back(repos: Repositories) -> None:
    # the job's checkout was made at the old tip; main moved since: the guard fetches and sees it
    old = git(repos.job, "rev-parse", "HEAD")
    new = commit(repos.developer, "second")
    git(repos.developer, "push", "-q", "origin", "main")
    result = guard(repos.job, old)
    assert result.returncode == 1
    assert f"::error::not deploying {old} to prod: main has moved on to {new}" in result.stdout
    assert "would roll prod back" in result.stdout and f"The deploy run of {new} applies main" in result.stdout


def test_a_commit_that_is_not_on_main_is_refused(repos: Repositories) -> None:
    git(repos.job, "checkout", "-q", "-b", "elsewhere")
    other = commit(repos.job, "not merged")
    result = guard(repos.job, other)
    assert result.returncode == 1 and f"::error::not deploying {other} to prod: it is not on main" in result.stdout


def test_main_that_cannot_be_fetched_refuses(repos: Repositories) -> None:
    git(repos.job, "remote", "set-url", "origin", str(repos.origin.parent / "gone.git"))
    result = guard(repos.job, git(repos.job, "rev-parse", "HEAD"))
    assert result.returncode == 1 and "::error::cannot fetch main from origin" in result.stdout


def test_the_guard_passes_shellcheck() -> None:
    result = subprocess.run([tool("shellcheck"), str(GUARD)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_the_jobs_token_authenticates_the_fetch_and_only_it(repos: Repositories, tmp_path: Path) -> None:
    # the workflows check out without persisted credentials: the token is handed to this one
    # fetch through git's environment config, never written to .git/config
    real_git = shutil.which("git")
    assert real_git is not None
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/usr/bin/env bash\nprintf "%s|%s|%s\\n" "$1" "${{GIT_CONFIG_KEY_0-}}" '
                       f'"${{GIT_CONFIG_VALUE_0-}}" >> "{tmp_path}/git.log"\nexec {real_git} "$@"\n')
    wrapper.chmod(0o755)
    result = guard(repos.job, git(repos.job, "rev-parse", "HEAD"), GH_TOKEN="s3cret",
                   GITHUB_SERVER_URL="https://github.example", PATH=f"{wrapper.parent}:{os.environ['PATH']}")
    assert result.returncode == 0, result.stdout + result.stderr
    header = "AUTHORIZATION: basic " + base64.b64encode(b"x-access-token:s3cret").decode()
    assert f"fetch|http.https://github.example/.extraheader|{header}" in (tmp_path / "git.log").read_text()
    assert "s3cret" not in (repos.job / ".git" / "config").read_text() and "s3cret" not in result.stdout

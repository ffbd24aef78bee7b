"""Which guard judges a stack, and what a change does to it.

The guard is the policy pack (`policy/`) and its config (`policy/config/<stack>.json`, chosen by
the stack name, never by a value inside the stack file). It comes from the working tree, or, with
a git ref, as it was at that commit (`git archive` into a temporary directory): a pull request is
judged by its base branch's guard, so it cannot loosen the rules it is judged by. `guard_change`
says what the working tree changes in `policy/` against a ref, for the top of the report.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.program import ROOT

PACK = "policy"
CONFIGS = f"{PACK}/config"


class GuardError(Exception):
    """The guard cannot be had as asked (no such ref, no config for the stack): the message is for the user."""


@dataclass(frozen=True)
class Guard:
    """The policy pack directory and its config that judge this run."""

    pack_dir: Path
    config: dict[str, Any]
    config_shown: str  # `policy/config/prod.json`, repository-relative when it can be
    ref: str | None = None  # the git ref the guard was taken from; None: the working tree
    commit: str | None = None

    @property
    def source(self) -> str:
        """`policy/ at main (1a2b3c4d5e6f)` or `policy/ in the working tree`."""
        return f"{PACK}/ in the working tree" if self.ref is None else f"{PACK}/ at {self.ref_shown}"

    @property
    def ref_shown(self) -> str:
        return shown_ref(self.ref or "", self.commit)


def shown_ref(ref: str, commit: str | None = None) -> str:
    """`main (1a2b3c4d5e6f)`, or a commit id cut to 12 characters."""
    if re.fullmatch(r"[0-9a-f]{13,40}", ref):
        return ref[:12]
    if commit and commit.startswith(ref):
        return commit[:12]
    return f"{ref} ({commit[:12]})" if commit else ref


@dataclass(frozen=True)
class FileChange:
    """One file under `policy/` that differs between the ref and the working tree."""

    path: str
    status: str  # added | deleted | modified
    added: int  # lines; -1 for a binary file
    removed: int


@dataclass(frozen=True)
class SettingChange:
    """One pack config value that differs: `github-oidc-trust-scoped.allowAnyRef` false -> true."""

    file: str
    setting: str
    before: Any  # MISSING when the setting is new
    after: Any  # MISSING when the setting was removed


MISSING = "(not set)"


@dataclass(frozen=True)
class GuardChange:
    """What the working tree changes in `policy/` against `ref`."""

    ref: str
    commit: str
    files: tuple[FileChange, ...]
    settings: tuple[SettingChange, ...]

    @property
    def ref_shown(self) -> str:
        return shown_ref(self.ref, self.commit)

    def file_summary(self, change: FileChange) -> str:
        """`policy/config/prod.json (modified, +2 -2)`."""
        lines = "binary" if change.added < 0 else f"+{change.added} -{change.removed}"
        return f"{change.path} ({change.status}, {lines})"

    def setting_summary(self, change: SettingChange) -> str:
        """`policy/config/prod.json: github-oidc-trust-scoped.allowAnyRef false -> true`."""
        return f"{change.file}: {change.setting} {shown_value(change.before)} → {shown_value(change.after)}"

    def summary(self) -> str:
        """One line: the files and, for config files, the settings that changed."""
        parts = [self.file_summary(f) for f in self.files]
        if self.settings:
            parts.append("settings: " + "; ".join(self.setting_summary(s) for s in self.settings))
        return "; ".join(parts)


def shown_value(value: Any) -> str:
    """A setting's value as JSON, or `(not set)`."""
    return value if value is MISSING else json.dumps(value, sort_keys=True)


# ---------------------------------------------------------------- git


def git(directory: Path, *args: str, text: bool = True) -> subprocess.CompletedProcess[Any]:
    """`git -C directory args...`, never raising: callers read returncode and stdout."""
    return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=text, check=False)


def resolve_commit(ref: str, root: Path = ROOT, option: str = "--policy-ref") -> str:
    """The commit `ref` names in the repository at `root`; GuardError when there is none."""
    if git(root, "rev-parse", "--show-toplevel").returncode != 0:
        raise GuardError(f"{option} {ref}: {root} is not inside a git repository")
    found = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise GuardError(f"{option} {ref}: not a commit in {root} (fetch it first, e.g. `git fetch origin {ref}`)")
    return str(found.stdout.strip())


def _extract_pack(commit: str, root: Path, destination: Path) -> Path:
    """`policy/` as it is at `commit`, written under `destination`; its path. Run from `root`, git
    names paths relative to it, also when `root` is a subdirectory of a larger repository."""
    archive = git(root, "archive", "--format=tar", commit, "--", PACK, text=False)
    if archive.returncode != 0:
        raise GuardError(f"there is no {PACK}/ at {commit[:12]}: nothing to judge with")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    return destination / PACK


# ---------------------------------------------------------------- the guard


def _read_config(path: Path, shown: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise GuardError(f"{shown}: no such policy pack config file") from None
    except ValueError as error:
        raise GuardError(f"{shown}: not JSON: {error}") from None
    if not isinstance(document, dict):
        raise GuardError(f"{shown}: a policy pack config is a JSON object keyed by policy name")
    return document


def _missing_config(stack: str, ref: str | None) -> GuardError:
    wanted = f"{CONFIGS}/{stack}.json"
    if ref is None:
        return GuardError(
            f"no policy pack config for stack '{stack}': create {wanted} (the guard is chosen by the stack name, "
            f"never by ecr-platform:environment in the stack file), or pass --policy-config FILE"
        )
    return GuardError(
        f"no policy pack config for stack '{stack}' at {ref}: {wanted} must exist there, because the guard is taken "
        f"from {ref}; add {wanted} to that branch first (in its own pull request), then rerun"
    )


@contextlib.contextmanager
def guard_for(stack: str, policy_config: Path | None = None, ref: str | None = None,
              root: Path = ROOT) -> Iterator[Guard]:
    """The guard for `stack`: `policy/` and `policy/config/<stack>.json` (or `policy_config`) from the
    working tree, or as they were at git `ref` (extracted into a temporary directory for the run)."""
    if ref is None:
        if policy_config is None:
            policy_config = root / CONFIGS / f"{stack}.json"
            if not policy_config.is_file():
                raise _missing_config(stack, None)
        shown = _relative(policy_config, root)
        yield Guard(root / PACK, _read_config(policy_config, shown), shown)
        return
    commit = resolve_commit(ref, root)
    wanted = f"{CONFIGS}/{stack}.json"
    if policy_config is not None:
        wanted = _relative(policy_config, root)
        if not wanted.startswith(f"{PACK}/"):
            raise GuardError(
                f"--policy-config {policy_config}: with --policy-ref the pack config is read at {ref}, "
                f"so it must be a file under {PACK}/ (e.g. {CONFIGS}/{stack}.json)"
            )
    with tempfile.TemporaryDirectory(prefix="ecr-platform-guard-") as temporary:
        pack_dir = _extract_pack(commit, root, Path(temporary))
        config_file = pack_dir.parent / wanted
        if not config_file.is_file():
            raise _missing_config(stack, ref) if policy_config is None else GuardError(
                f"--policy-config {wanted}: no such file at {ref}")
        yield Guard(pack_dir, _read_config(config_file, f"{wanted} at {ref}"), wanted, ref, commit)


def _relative(path: Path, root: Path) -> str:
    resolved = path.resolve()
    return resolved.relative_to(root.resolve()).as_posix() if resolved.is_relative_to(root.resolve()) else str(path)


# ---------------------------------------------------------------- what a change does to the guard


def guard_change(ref: str, root: Path = ROOT, option: str = "--policy-ref") -> GuardChange | None:
    """What the working tree (committed or not, untracked files included) changes under `policy/`
    against `ref`; None when nothing does."""
    commit = resolve_commit(ref, root, option)
    numstat = git(root, "diff", "--numstat", "--no-renames", "--relative", commit, "--", PACK)
    status = git(root, "diff", "--name-status", "--no-renames", "--relative", commit, "--", PACK)
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "--", PACK)
    statuses = {path: code for code, path in (line.split("\t", 1) for line in status.stdout.splitlines() if line)}
    files: list[FileChange] = []
    for line in numstat.stdout.splitlines():
        added, removed, path = line.split("\t", 2)
        kind = {"A": "added", "D": "deleted"}.get(statuses.get(path, "M")[:1], "modified")
        files.append(FileChange(path, kind, *_counts(added, removed)))
    for path in untracked.stdout.splitlines():
        local = root / path
        lines = len(local.read_text(errors="replace").splitlines()) if local.is_file() else 0
        files.append(FileChange(path, "added", lines, 0))
    if not files:
        return None
    settings = [
        s for f in files if f.path.startswith(f"{CONFIGS}/") and f.path.endswith(".json")
        for s in _setting_changes(f.path, _json_at(root, commit, f.path), _json_file(root / f.path))
    ]
    return GuardChange(ref, commit, tuple(sorted(files, key=lambda f: f.path)), tuple(settings))


def _counts(added: str, removed: str) -> tuple[int, int]:
    return (-1, -1) if added == "-" else (int(added), int(removed))


def _json_at(root: Path, commit: str, path: str) -> Any:
    shown = git(root, "show", f"{commit}:./{path}")
    return _loads(shown.stdout) if shown.returncode == 0 else {}


def _json_file(path: Path) -> Any:
    return _loads(path.read_text()) if path.is_file() else {}


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return {}


def _flatten(document: Any, prefix: str = "") -> dict[str, Any]:
    """`{"a": {"b": 1}}` -> `{"a.b": 1}`; lists are values."""
    if not isinstance(document, Mapping) or (prefix and not document):
        return {prefix: document} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in document.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _setting_changes(path: str, before: Any, after: Any) -> list[SettingChange]:
    old, new = _flatten(before), _flatten(after)
    return [
        SettingChange(path, key, old.get(key, MISSING), new.get(key, MISSING))
        for key in sorted(old.keys() | new.keys())
        if old.get(key, MISSING) != new.get(key, MISSING)
    ]

"""Least-privilege rules for workflow files, as functions returning problems (empty: compliant),
so tests can show both that the real workflows comply and that a violation is caught.

Steps of the repository's own composite actions (`uses: $/.github/actions/<name>`) count as the
job's steps, and a job that calls a reusable workflow (`uses: $/.github/workflows/<file>`) is
judged by the jobs of that workflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from .lint import PINNED_USES, ROOT

SAME_REPO_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"
CONFIGURE_AWS = "aws-actions/configure-aws-credentials@"
PULUMI_AUTH = "pulumi/auth-actions@"
PULUMI = "pulumi/actions@"
SELF = "$/"  # GitHub's self-repository reference: the action or workflow at the running commit
PULUMI_VERSION_FILE = ".pulumi-version"
# Steps that consume the job's OIDC token.
OIDC_CONSUMERS = (CONFIGURE_AWS, PULUMI_AUTH)


def load(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    # YAML 1.1 reads the key `on` as True
    if True in document:
        document["on"] = document.pop(True)
    return document


def jobs(workflow: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from (workflow.get("jobs") or {}).items()


def local(reference: str, root: Path = ROOT) -> Path:
    """The file a `$/...` reference names: a workflow file, or an action directory's action.yml."""
    path = root / reference[len(SELF):]
    return path if path.suffix in (".yml", ".yaml") else path / "action.yml"


def steps(job: Mapping[str, Any], root: Path = ROOT) -> list[dict[str, Any]]:
    """The job's steps, with the steps of the repository's own composite actions in their place."""
    found: list[dict[str, Any]] = []
    for step in job.get("steps") or []:
        found.append(step)
        reference = str(step.get("uses", ""))
        if reference.startswith(SELF):
            action = yaml.safe_load(local(reference, root).read_text())
            found += steps(action["runs"], root)
    return found


def uses(job: Mapping[str, Any], prefix: str, root: Path = ROOT) -> list[dict[str, Any]]:
    return [s for s in steps(job, root) if str(s.get("uses", "")).startswith(prefix)]


def called(job: Mapping[str, Any], root: Path = ROOT) -> dict[str, Any] | None:
    """The reusable workflow a job calls (`jobs.<id>.uses: $/...`), loaded; None for a normal job."""
    reference = str(job.get("uses", ""))
    return load(local(reference, root).read_text()) if reference.startswith(SELF) else None


def grants(permissions: Any, scope: str) -> bool:
    if permissions in ("write-all",):
        return True
    return isinstance(permissions, Mapping) and permissions.get(scope) == "write"


def unpinned_uses(text: str) -> list[str]:
    """Every `uses:` line that is neither `owner/repo@<40-hex sha> # vX.Y.Z` nor `$/<path>`."""
    return [
        line.strip() for line in text.splitlines()
        if re.match(r"\s*(-\s+)?uses:", line) and not PINNED_USES.search(line)
        and not re.match(r"\s*(-\s+)?uses:\s+\$/[\w./-]+\s*$", line)
    ]


def permission_problems(workflow: Mapping[str, Any], root: Path = ROOT) -> list[str]:
    problems = []
    top = workflow.get("permissions", "missing")
    if top not in ({}, {"contents": "read"}):
        problems.append(f"top-level permissions must be {{}} or contents: read, not {top}")
    for name, job in jobs(workflow):
        permissions = job.get("permissions", {})
        callee = called(job, root)
        if callee is not None:
            # the caller's grant is the ceiling of the called workflow's jobs: no more than they use
            for scope in ("id-token", "pull-requests", "issues", "contents"):
                if grants(permissions, scope) and not any(grants(j.get("permissions", {}), scope)
                                                          for _, j in jobs(callee)):
                    problems.append(f"job {name}: {scope}: write that no job of {job['uses']} uses")
            continue
        if grants(permissions, "id-token") and not any(uses(job, consumer, root) for consumer in OIDC_CONSUMERS):
            problems.append(f"job {name}: id-token: write without configure-aws-credentials or pulumi/auth-actions")
        if grants(permissions, "pull-requests") and not posts_comment(job, root):
            problems.append(f"job {name}: pull-requests: write but posts no comment")
    return problems


def posts_comment(job: Mapping[str, Any], root: Path = ROOT) -> bool:
    commenting_pulumi = any(str(s.get("with", {}).get("comment-on-pr")).lower() == "true"
                            for s in uses(job, PULUMI, root))
    api_comment = any("/comments" in str(s.get("run", "")) for s in steps(job, root))
    return commenting_pulumi or api_comment


def pull_request_problems(workflow: Mapping[str, Any]) -> list[str]:
    """Jobs of a pull_request workflow: credentials only behind the same-repository guard."""
    problems = []
    for name, job in jobs(workflow):
        if grants(job.get("permissions", {}), "id-token") and SAME_REPO_GUARD not in str(job.get("if", "")):
            problems.append(f"job {name}: id-token: write without `if: {SAME_REPO_GUARD}`")
    return problems


def pulumi_problems(workflow: Mapping[str, Any], root: Path = ROOT) -> list[str]:
    """Every Pulumi CLI a job runs is the pinned one, from a locked runtime, with OIDC credentials."""
    problems = []
    for name, job in jobs(workflow):
        pulumi_steps = uses(job, PULUMI, root)
        for step in pulumi_steps:
            settings = step.get("with") or {}
            if settings.get("pulumi-version-file") != PULUMI_VERSION_FILE or "pulumi-version" in settings:
                problems.append(f"job {name}: pulumi/actions without pulumi-version-file: {PULUMI_VERSION_FILE}")
        if not pulumi_steps:
            continue
        scripts = [str(s.get("run", "")) for s in steps(job, root)]
        if not any(re.search(r"(^|\s)make runtime\b", s) for s in scripts):
            problems.append(f"job {name}: runs pulumi without `make runtime` (the locked runtime venvs)")
        if any(re.search(r"(^|\s)make setup\b", s) for s in scripts):
            problems.append(f"job {name}: `make setup` puts dev and benchmark tools next to cloud credentials")
        if not uses(job, PULUMI_AUTH, root):
            problems.append(f"job {name}: runs pulumi without pulumi/auth-actions (a short-lived Pulumi token)")
    return problems


def hygiene_problems(workflow: Mapping[str, Any], text: str) -> list[str]:
    problems = []
    if "pull_request_target" in (workflow.get("on") or {}):
        problems.append("pull_request_target runs fork code with a write token")
    if re.search(r"\bsecrets\.(?!GITHUB_TOKEN\b)", text):
        problems.append("a stored secret: every credential comes by OIDC (GitHub token only)")
    for name, job in jobs(workflow):
        if "timeout-minutes" not in job and "uses" not in job:
            problems.append(f"job {name}: no timeout-minutes")
        for step in uses(job, "actions/checkout@"):
            if step.get("with", {}).get("persist-credentials") is not False:
                problems.append(f"job {name}: checkout without persist-credentials: false")
    return problems


def all_problems(text: str, root: Path = ROOT) -> list[str]:
    workflow = load(text)
    problems = [f"not pinned: {line}" for line in unpinned_uses(text)]
    problems += permission_problems(workflow, root) + hygiene_problems(workflow, text) + pulumi_problems(workflow, root)
    if "pull_request" in (workflow.get("on") or {}):
        problems += pull_request_problems(workflow)
    return problems

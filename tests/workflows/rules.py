"""Least-privilege rules for workflow files, as functions returning problems (empty: compliant),
so tests can show both that the real workflows comply and that a violation is caught."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from .lint import PINNED_USES

SAME_REPO_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"
CONFIGURE_AWS = "aws-actions/configure-aws-credentials@"
PULUMI = "pulumi/actions@"


def load(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    # YAML 1.1 reads the key `on` as True
    if True in document:
        document["on"] = document.pop(True)
    return document


def jobs(workflow: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from (workflow.get("jobs") or {}).items()


def steps(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def uses(job: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith(prefix)]


def grants(permissions: Any, scope: str) -> bool:
    if permissions in ("write-all",):
        return True
    return isinstance(permissions, Mapping) and permissions.get(scope) == "write"


def unpinned_uses(text: str) -> list[str]:
    """Every `uses:` line that is not `owner/repo@<40-hex sha> # vX.Y.Z`."""
    return [
        line.strip() for line in text.splitlines()
        if re.match(r"\s*(-\s+)?uses:", line) and not PINNED_USES.search(line)
    ]


def permission_problems(workflow: Mapping[str, Any]) -> list[str]:
    problems = []
    top = workflow.get("permissions", "missing")
    if top not in ({}, {"contents": "read"}):
        problems.append(f"top-level permissions must be {{}} or contents: read, not {top}")
    for name, job in jobs(workflow):
        permissions = job.get("permissions", {})
        if grants(permissions, "id-token") and not uses(job, CONFIGURE_AWS):
            problems.append(f"job {name}: id-token: write without configure-aws-credentials")
        if grants(permissions, "pull-requests") and not posts_comment(job):
            problems.append(f"job {name}: pull-requests: write but posts no comment")
    return problems


def posts_comment(job: Mapping[str, Any]) -> bool:
    commenting_pulumi = any(str(s.get("with", {}).get("comment-on-pr")).lower() == "true" for s in uses(job, PULUMI))
    api_comment = any("/comments" in str(s.get("run", "")) for s in steps(job))
    return commenting_pulumi or api_comment


def pull_request_problems(workflow: Mapping[str, Any]) -> list[str]:
    """Jobs of a pull_request workflow: credentials only behind the same-repository guard."""
    problems = []
    for name, job in jobs(workflow):
        if grants(job.get("permissions", {}), "id-token") and SAME_REPO_GUARD not in str(job.get("if", "")):
            problems.append(f"job {name}: id-token: write without `if: {SAME_REPO_GUARD}`")
    return problems


def hygiene_problems(workflow: Mapping[str, Any]) -> list[str]:
    problems = []
    if "pull_request_target" in (workflow.get("on") or {}):
        problems.append("pull_request_target runs fork code with a write token")
    for name, job in jobs(workflow):
        if "timeout-minutes" not in job:
            problems.append(f"job {name}: no timeout-minutes")
        for step in uses(job, "actions/checkout@"):
            if step.get("with", {}).get("persist-credentials") is not False:
                problems.append(f"job {name}: checkout without persist-credentials: false")
    return problems


def all_problems(text: str) -> list[str]:
    workflow = load(text)
    problems = [f"not pinned: {line}" for line in unpinned_uses(text)]
    problems += permission_problems(workflow) + hygiene_problems(workflow)
    if "pull_request" in (workflow.get("on") or {}):
        problems += pull_request_problems(workflow)
    return problems

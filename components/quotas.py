"""The IAM size quotas the stack's documents must fit, measured the way AWS counts them.

The one place for these numbers: the document builders (`documents.py`) size what they emit with
them, and config validation refuses a team whose documents would not fit, before anything is
declared. It imports neither, so both can import it.
"""

from __future__ import annotations

import json
import re
from typing import Any

TRUST_POLICY_MAX_CHARS = 2048
"""A role's trust policy, unless the account's quota was raised (IAM allows up to 8192)."""
TRUST_POLICY_RAISED_MAX_CHARS = 8192
INLINE_POLICY_MAX_CHARS = 10240
"""All inline policies of one role together."""
MANAGED_POLICY_MAX_CHARS = 6144


def compact_size(document: dict[str, Any]) -> int:
    """Characters IAM and ECR count against their quotas (whitespace is not counted)."""
    return len(re.sub(r"\s", "", json.dumps(document, separators=(",", ":"))))


def trust_policy_problem(document: dict[str, Any], quota: int) -> str | None:
    """Why a push role's trust policy does not fit the account's quota, or None when it does."""
    size = compact_size(document)
    if size <= quota:
        return None
    return (f"the push role's trust policy would be {size} characters, over the {quota} quota; use fewer or "
            "wildcard subjects, split the team, or raise the quota and set github.trustPolicyMaxChars")


def inline_policy_problem(document: dict[str, Any]) -> str | None:
    """Why a push role's inline policy does not fit IAM's quota, or None when it does."""
    size = compact_size(document)
    if size <= INLINE_POLICY_MAX_CHARS:
        return None
    return (f"the push role's policy would be {size} characters, over the IAM inline quota of "
            f"{INLINE_POLICY_MAX_CHARS}; give the team a namespace so one ARN pattern covers its repositories")

"""AWS managed policies, by ARN: their documents ship with the pack (`data/`, see
scripts/refresh_managed_policies.py), so an attached `AmazonEC2ContainerRegistryPowerUser` is
judged by what it grants, not by its name. Loaded once, on first use (~0.1 s).
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

_DATA = Path(__file__).resolve().parent / "data" / "aws_managed_policies.json.gz"
_AWS_MANAGED = ":iam::aws:policy/"


@cache
def _by_name() -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = json.loads(gzip.decompress(_DATA.read_bytes()))
    return entries


def aws_managed_name(arn: Any) -> str | None:
    """`AmazonEC2ContainerRegistryPowerUser` for `arn:<partition>:iam::aws:policy/[path/]<name>`, else None."""
    if not isinstance(arn, str) or _AWS_MANAGED not in arn or not arn.startswith("arn:"):
        return None
    return arn.split(_AWS_MANAGED, 1)[1].rsplit("/", 1)[-1] or None


def aws_managed_document(name: str) -> dict[str, Any] | None:
    """The latest document of an AWS managed policy, None when the pack's data does not know it."""
    entry = _by_name().get(name)
    return entry["document"] if entry else None

"""Helpers for the decision tables (test_decisions_*.py): pure checkers, no pack process.

Each table row is (input, verdict); a verdict is the phrase the finding must contain, or None
for "no finding". Rows come in pairs that sit on both sides of one comparison.
"""

from __future__ import annotations

import json
from typing import Any

from rules.common import Resource, Skipped, with_defaults

ACCOUNT = "210987654321"
OTHER_ACCOUNT = "333333333333"
ISSUER = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"


def resource(resource_type: str, logical: str = "r", **props: Any) -> Resource:
    """A resource as the checkers see it; `logical` is its logical name, `props` its inputs.

    The type token is a fresh string, as one read from the engine is: never the interned constant.
    """
    resource_type = "".join(list(resource_type))
    return Resource(resource_type, logical, f"urn:pulumi:prod::ecr-platform::{resource_type}::{logical}", props)


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource_: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource_, **extra}


def deny(action: Any, resource_: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource_, **extra}


def dumps(document: Any) -> str:
    return json.dumps(document, sort_keys=True)


def defaults(policies: list[Any], **config: Any) -> dict[str, Any]:
    """The config a policy's validate hands its checker: the schema's defaults under `config`."""
    return with_defaults(config, policies[0].config_schema.properties)


def messages(findings: list[Any]) -> list[str]:
    return [f.message for f in findings]


def verdict(problems: list[str], expected: str | None) -> None:
    """`expected` None: no problem; else one problem contains the phrase."""
    if expected is None:
        assert problems == [], problems
    else:
        assert any(expected in p for p in problems), f"wanted {expected!r} in {problems}"


def skipped() -> Skipped:
    return Skipped()

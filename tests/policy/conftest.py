"""Policy tests talk to the real pack over the analyzer protocol, as the Pulumi CLI does.

One pack process per xdist worker (startup is the slow part); each test configures it afresh.
`policy/` is on sys.path so pure-checker tests can import `rules` directly.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from engine.analyzer import PolicyPackClient, Resource, Violation

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policy"
sys.path.insert(0, str(PACK_DIR))

POLICY_NAMES = (
    "ecr-scan-on-push", "ecr-tag-immutability", "ecr-encryption", "ecr-lifecycle-policy",
    "ecr-repository-policy-restricted", "github-oidc-trust-scoped", "iam-least-privilege",
    "iam-policy-size", "team-isolation", "protect-registries", "ecr-image-signing",
)


class Guard:
    """The pack, configured for one test: every policy mandatory unless the test says otherwise."""

    def __init__(self, client: PolicyPackClient) -> None:
        self.client = client
        self.configure()

    def configure(self, **policies: Mapping[str, Any]) -> Guard:
        """`configure(**{"ecr-encryption": {"minimum": "AES256"}})`; unnamed policies are mandatory."""
        config: dict[str, Any] = {name: {"enforcementLevel": "mandatory"} for name in POLICY_NAMES}
        for name, value in policies.items():
            config[name] = {"enforcementLevel": "mandatory", **value}
        self.client.configure(config)
        return self

    def analyze(self, resource: Resource) -> list[Violation]:
        return self.client.analyze_resource(resource)

    def stack(self, resources: Sequence[Resource]) -> list[Violation]:
        return self.client.analyze_stack(resources)

    def all(self, resources: Sequence[Resource]) -> list[Violation]:
        return self.client.analyze_all(resources)


@pytest.fixture(scope="session")
def pack_client() -> Iterator[PolicyPackClient]:
    with PolicyPackClient(PACK_DIR) as client:
        yield client


@pytest.fixture
def guard(pack_client: PolicyPackClient) -> Guard:
    return Guard(pack_client)


def _listing(violations: Sequence[Violation]) -> str:
    return "\n".join(f"  - {v}".replace("\n", "\n      ") for v in violations) or "  (none)"


def of_policy(violations: Sequence[Violation], policy: str, level: str | None = "mandatory") -> list[Violation]:
    return [v for v in violations if v.policy == policy and (level is None or v.enforcement == level)]


def assert_violates(violations: Sequence[Violation], policy: str, *fragments: str,
                    level: str = "mandatory") -> Violation:
    """One violation of `policy` at `level` mentions every fragment; prints all received when not."""
    for violation in of_policy(violations, policy, level):
        if all(f in violation.message for f in fragments):
            return violation
    raise AssertionError(f"expected a {level} violation of {policy} mentioning {fragments!r}; got:\n"
                         f"{_listing(violations)}")


def assert_passes(violations: Sequence[Violation], policy: str) -> None:
    """No mandatory or advisory violation of `policy` (preview notes are advisory, so they count too)."""
    found = of_policy(violations, policy, level=None)
    assert not found, f"expected no violation of {policy}; got:\n{_listing(violations)}"


def assert_clean(violations: Sequence[Violation]) -> None:
    mandatory = [v for v in violations if v.enforcement == "mandatory"]
    assert not mandatory, f"expected no mandatory violations; got:\n{_listing(violations)}"

"""A pull request's base is judged without doing the head's work twice, and with the same verdicts.

The base's resource policies are answered by the head's pack after the head's (`Side.complete`): a
resource policy sees nothing but its resource, so a request the head already asked (the same bytes:
resource, inputs, options) has the same answer, and only what the change touches is sent again.
"""

from __future__ import annotations

import copy
import gc
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from review.check import Known, judge_side

from .. import fixtures


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """`judge_side` freezes the program's heap (the check unfreezes it when it ends): so does this test."""
    yield
    gc.unfreeze()


def a_change(base: dict[str, Any]) -> dict[str, Any]:
    """The base with a new violation (a mutable repository), one fixed (`build-cache` made immutable), a team
    gone and a team added."""
    head = copy.deepcopy(base)
    teams = head["ecr-platform:teams"]
    first, second, *_ = sorted(teams)
    idp = teams["platform"]
    idp["repositories"] = [dict(r, imageTagMutability="IMMUTABLE") if isinstance(r, dict) else r
                           for r in idp["repositories"]]
    teams[first]["repositories"] = [{"name": "scratch", "imageTagMutability": "MUTABLE"}, *teams[first]["repositories"]]
    newcomer = copy.deepcopy(teams.pop(second))
    newcomer["namespace"] = "products/newcomer"
    teams["newcomer"] = newcomer
    return head


def test_the_base_judged_by_the_heads_pack_gets_the_verdicts_it_gets_alone(dev_guard, dev_pack, unfrozen):
    base = fixtures.stack_config("dev")
    head = a_change(base)
    known: Known = {}
    head_side = judge_side("dev", head, dev_guard, dev_pack, known)
    answered_for_the_head = dict(known)

    deferred = judge_side("dev", base, dev_guard, defer_resources=True)
    requests = list(deferred.requests)
    deferred.complete(dev_pack, known)
    alone = judge_side("dev", base, dev_guard)

    def verdicts(side: Any) -> Counter[tuple[str, str, str, str]]:
        return Counter((v.policy, v.enforcement, v.urn, v.message) for v in side.result.violations)

    assert verdicts(deferred) == verdicts(alone), "answering the base from the head's replies changed a verdict"
    assert verdicts(deferred) != verdicts(head_side), "the change must make a difference for this test to mean much"
    assert any(v.policy == "ecr-tag-immutability" and "build-cache" in v.urn for v in deferred.result.violations), (
        "a violation only the base has comes from a request the head never asked")

    changed = set(requests) - set(answered_for_the_head)
    assert changed and len(changed) < len(requests) / 2
    assert set(known) == set(answered_for_the_head) | changed, "only what the change touches is asked again"
    assert not deferred.requests, "completed once"


def test_a_side_with_deferred_resources_has_only_the_stack_policies_verdicts_until_completed(dev_guard, unfrozen):
    deferred = judge_side("dev", fixtures.stack_config("dev"), dev_guard, defer_resources=True)
    assert deferred.requests
    resource_policies = {"ecr-tag-immutability", "ecr-scan-on-push"}
    assert not [v for v in deferred.result.violations if v.policy in resource_policies]


def test_two_pack_processes_judge_as_one(dev_guard, dev, unfrozen):
    """The head's pack judges the stack policies in a second process while the first judges each resource."""
    from review.check import PolicyPack

    found = {}
    for processes in (1, 2):
        with PolicyPack(dev_guard.pack_dir, dev_guard.config, processes=processes) as pack:
            found[processes] = pack.violations(dev.resources)
    assert found[1] == found[2] and found[1]

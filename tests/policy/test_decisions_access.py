"""The effective-access model: every way IAM lets a document reach a principal, one row each.

A row is a stack and what one principal ends up with: the places its documents come from
(`where`), and the policies it is granted but the guard cannot read. Every attachment kind,
names and ARNs, and names unknown at preview (resolved through property dependencies).
"""

from __future__ import annotations

from typing import Any

import pytest
from rules.access import Principal, build_access_model, principal_name
from rules.common import (
    ACCOUNT_SETTING,
    GROUP,
    GROUP_MEMBERSHIP,
    GROUP_POLICY,
    GROUP_POLICY_ATTACHMENT,
    MANAGED_POLICY,
    POLICY_ATTACHMENT,
    REGISTRY_POLICY,
    REPOSITORY_POLICY,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    UNKNOWN,
    USER,
    USER_GROUP_MEMBERSHIP,
    USER_POLICY,
    USER_POLICY_ATTACHMENT,
)

from .decisions import ACCOUNT, allow, doc, dumps, resource

POLICY_DOC = dumps(doc(allow("ecr:PutImage")))
AWS = "arn:aws:iam::aws:policy"
IN_STACK = f"arn:aws:iam::{ACCOUNT}:policy/push"


def principals() -> list[Any]:
    return [resource(ROLE, "ci-res", name="ci"), resource(USER, "dev-res", name="dev"),
            resource(GROUP, "ops-res", name="ops"), resource(MANAGED_POLICY, "push-res", name="push",
                                                              policy=POLICY_DOC)]


def find(resources: list[Any], kind: str, name: str) -> Principal:
    model = build_access_model(resources)
    matches = [p for p in model.principals if p.kind == kind and p.name == name]
    assert len(matches) == 1, [(p.kind, p.name) for p in model.principals]
    return matches[0]


def wheres(principal: Principal) -> list[str]:
    return [s.where for s in principal.all_sources()]


ROWS = [
    # (extra resources, (kind, name), sources, unreadable)
    ([resource(ROLE_POLICY, "p", name="inline", role="ci", policy=POLICY_DOC)], ("role", "ci"),
     ["the inline policy 'inline'"], []),
    ([resource(ROLE_POLICY, "p", role=f"arn:aws:iam::{ACCOUNT}:role/path/ci", policy=POLICY_DOC)], ("role", "ci"),
     ["the inline policy 'p'"], []),
    ([resource(USER_POLICY, "p", user="dev", policy=POLICY_DOC)], ("user", "dev"), ["the inline policy 'p'"], []),
    ([resource(GROUP_POLICY, "p", group="ops", policy=POLICY_DOC)], ("group", "ops"), ["the inline policy 'p'"], []),
    ([resource(ROLE_POLICY_ATTACHMENT, "a", role="ci", policyArn=IN_STACK)], ("role", "ci"),
     ["the managed policy 'push'"], []),
    ([resource(USER_POLICY_ATTACHMENT, "a", user="dev", policyArn=IN_STACK)], ("user", "dev"),
     ["the managed policy 'push'"], []),
    ([resource(GROUP_POLICY_ATTACHMENT, "a", group="ops", policyArn=IN_STACK)], ("group", "ops"),
     ["the managed policy 'push'"], []),
    ([resource(POLICY_ATTACHMENT, "a", roles=["ci"], users=["dev"], groups=["ops"], policyArn=IN_STACK)],
     ("user", "dev"), ["the managed policy 'push'"], []),
    ([resource(POLICY_ATTACHMENT, "a", roles=["ci"], users=["dev"], groups=["ops"], policyArn=IN_STACK)],
     ("group", "ops"), ["the managed policy 'push'"], []),
    ([resource(POLICY_ATTACHMENT, "a", roles=["ci"], policyArn=f"{AWS}/AdministratorAccess")], ("role", "ci"),
     ["the AWS managed policy 'AdministratorAccess'"], []),
    ([resource(ROLE_POLICY_ATTACHMENT, "a", role="ci", policyArn=f"{AWS}/NoSuchPolicyAnywhere")], ("role", "ci"),
     [], ["the AWS managed policy 'NoSuchPolicyAnywhere' (unknown to the pack's data)"]),
    ([resource(ROLE_POLICY_ATTACHMENT, "a", role="ci", policyArn=f"arn:aws:iam::{ACCOUNT}:policy/elsewhere")],
     ("role", "ci"), [],
     [f"the managed policy 'arn:aws:iam::{ACCOUNT}:policy/elsewhere' (not declared in this stack)"]),
    ([resource(ROLE_POLICY_ATTACHMENT, "a", role="ci", policyArn=5)], ("role", "ci"), [], []),
    # a role's own inline policies and managed policy ARNs
    ([resource(ROLE, "x", name="x", inlinePolicies=[{"name": "own", "policy": POLICY_DOC}, "junk", {"policy": "{}"},
                                                    {"name": 5, "policy": "{}"}],
               managedPolicyArns=[IN_STACK, f"{AWS}/AmazonEC2ContainerRegistryReadOnly"])], ("role", "x"),
     ["the inline policy 'own'", "the inline policy 'inlinePolicies[2]'", "the inline policy 'inlinePolicies[3]'",
      "the managed policy 'push'",
      "the AWS managed policy 'AmazonEC2ContainerRegistryReadOnly'"], []),
    # groups: both membership resources
    ([resource(GROUP_POLICY, "p", group="ops", policy=POLICY_DOC),
      resource(GROUP_MEMBERSHIP, "m", group="ops", users=["dev"])], ("user", "dev"),
     ["the inline policy 'p' (through group 'ops')"], []),
    ([resource(GROUP_POLICY, "p", group="ops", policy=POLICY_DOC),
      resource(USER_GROUP_MEMBERSHIP, "m", user="dev", groups=["ops"])], ("user", "dev"),
     ["the inline policy 'p' (through group 'ops')"], []),
    ([resource(GROUP_POLICY_ATTACHMENT, "a", group="ops", policyArn=f"arn:aws:iam::{ACCOUNT}:policy/elsewhere"),
      resource(USER_GROUP_MEMBERSHIP, "m", user="dev", groups=["ops"])], ("user", "dev"), [],
     [f"the managed policy 'arn:aws:iam::{ACCOUNT}:policy/elsewhere' (not declared in this stack) "
      "(through group 'ops')"]),
    # a repository policy naming a role or user grants it that repository directly
    ([resource(REPOSITORY_POLICY, "rp", repository="payments/api", policy=dumps(
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/ci",
                                                                 f"arn:aws:iam::{ACCOUNT}:root"]},
                        "Action": "ecr:PutImage"}]}))], ("role", "ci"),
     ["the repository policy of 'payments/api'"], []),
    ([resource(REPOSITORY_POLICY, "rp", repository="payments/api", policy=dumps(
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/dev"},
                        "Action": "ecr:PutImage"}]}))], ("user", "dev"),
     ["the repository policy of 'payments/api'"], []),
]


@pytest.mark.parametrize(("extra", "who", "sources", "unreadable"), ROWS)
def test_documents_reach_principals(extra: list[Any], who: tuple[str, str], sources: list[str],
                                    unreadable: list[str]) -> None:
    principal = find([*principals(), *extra], *who)
    assert wheres(principal) == sources
    assert principal.all_unreadable() == unreadable


def test_a_repository_policy_grant_is_that_repository_only() -> None:
    policy = resource(REPOSITORY_POLICY, "rp", repository="payments/api", policy={"Statement": [
        {"Sid": "S", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"},
         "Action": ["ecr:PutImage"]}]})
    source = find([*principals(), policy], "role", "ci").sources[0]
    assert source.document == {"Statement": [{"Sid": "S", "Effect": "Allow", "Action": ["ecr:PutImage"],
                                              "Resource": "arn:aws:ecr:*:*:repository/payments/api"}]}


GRANTS_CI = dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"},
                                  "Action": "ecr:PutImage"}]})


V2 = resource(ACCOUNT_SETTING, "scope", name="REGISTRY_POLICY_SCOPE", value="V2")


@pytest.mark.parametrize(("setting", "sources"), [
    ([V2], ["the registry policy 'registry' (scope V2)"]),      # V2: the registry policy covers every ECR action
    ([resource(ACCOUNT_SETTING, "scope", name="REGISTRY_POLICY_SCOPE", value="V1")], []),
    ([], []),                                                     # the scope may be V1: nothing credited
])
def test_a_registry_policy_grants_the_principals_it_names_only_under_scope_v2(setting: list[Any],
                                                                               sources: list[str]) -> None:
    registry = resource(REGISTRY_POLICY, "registry", policy=GRANTS_CI)
    assert wheres(find([*principals(), registry, *setting], "role", "ci")) == sources
    repository_policy = resource(REPOSITORY_POLICY, "rp", repository="payments/api", policy=GRANTS_CI)
    assert wheres(find([*principals(), repository_policy, V2], "role", "ci")) == \
        ["the repository policy of 'payments/api'"], "a repository policy is not the registry's"


@pytest.mark.parametrize("policy", [UNKNOWN, None, "", "not json", dumps(["a list"])])
def test_unreadable_repository_policies_grant_nothing(policy: Any) -> None:
    rp = resource(REPOSITORY_POLICY, "rp", repository="payments/api", policy=policy)
    assert find([*principals(), rp], "role", "ci").sources == []
    rp = resource(REPOSITORY_POLICY, "rp", repository=UNKNOWN, policy=GRANTS_CI)
    assert find([*principals(), rp], "role", "ci").sources == []


def test_a_policy_arn_is_resolved_by_its_name_before_its_dependency() -> None:
    other = resource(MANAGED_POLICY, "other-res", name="other", policy=dumps(doc(allow("s3:GetObject"))))
    # inline policies of the same name are not managed policies
    same_names = [resource(ROLE_POLICY, "rp", name="push", role="x", policy="{}"),
                  resource(GROUP_POLICY, "gp", name="push", group="ops", policy="{}"),
                  resource(USER_GROUP_MEMBERSHIP, "push", user="dev", groups=[])]
    attach = resource(ROLE_POLICY_ATTACHMENT, "a", role="ci", policyArn=IN_STACK)
    attach.property_dependencies = {"policyArn": [other.urn]}
    (source,) = find([*principals(), other, *same_names, attach], "role", "ci").sources
    assert (source.where, source.document) == ("the managed policy 'push'", POLICY_DOC)


def test_a_policy_arn_that_names_no_policy_of_the_stack_is_unreadable_even_with_a_dependency() -> None:
    # AWS attaches whatever policy has that ARN, not the in-stack document the value was derived from
    other = resource(MANAGED_POLICY, "other-res", name="other", policy=dumps(doc(allow("s3:GetObject"))))
    renamed = f"arn:aws:iam::{ACCOUNT}:policy/path/renamed"
    attach = resource(ROLE_POLICY_ATTACHMENT, "a", role="ci", policyArn=renamed)
    attach.property_dependencies = {"policyArn": [other.urn]}
    ci = find([*principals(), other, attach], "role", "ci")
    assert ci.sources == [] and ci.all_unreadable() == [f"the managed policy '{renamed}' (not declared in this stack)"]
    other.props["arn"] = renamed                                   # its known ARN is the attached one
    assert wheres(find([*principals(), other, attach], "role", "ci")) == ["the managed policy 'other'"]


@pytest.mark.parametrize("props", [{"namePrefix": "push"}, {}, {"name": UNKNOWN}])
def test_a_policy_named_by_prefix_or_autonamed_is_never_the_literal_arn(props: dict[str, Any]) -> None:
    harmless = resource(MANAGED_POLICY, "push", policy=dumps(doc(allow("s3:GetObject"))), **props)
    attach = resource(ROLE_POLICY_ATTACHMENT, "a", role="ci", policyArn=IN_STACK)
    ci = find([resource(ROLE, "ci-res", name="ci"), harmless, attach], "role", "ci")
    assert ci.sources == [] and ci.all_unreadable() == [f"the managed policy '{IN_STACK}' (not declared in this stack)"]


def test_names_unknown_at_preview_resolve_through_property_dependencies() -> None:
    attach = resource(ROLE_POLICY_ATTACHMENT, "a", role=UNKNOWN, policyArn=UNKNOWN)
    attach.property_dependencies = {"role": [principals()[0].urn], "policyArn": [principals()[3].urn]}
    model = build_access_model([*principals(), attach])
    ci = next(p for p in model.principals if p.name == "ci")
    assert wheres(ci) == ["the managed policy 'push'"] and model.unresolved == []
    orphan = resource(ROLE_POLICY_ATTACHMENT, "b", role=UNKNOWN, policyArn=UNKNOWN)
    model = build_access_model([*principals(), orphan])
    assert model.unresolved == ["b.role", "b.policyArn"]


def test_an_attachment_to_a_role_the_stack_does_not_declare_creates_that_principal() -> None:
    attach = resource(ROLE_POLICY_ATTACHMENT, "a", role="eks-node", policyArn=IN_STACK)
    node = find([*principals(), attach], "role", "eks-node")
    assert node.resource is None and node.label == "IAM role 'eks-node' (not declared in this stack)"
    assert node.urn is None and node.tag("team") is None


def test_while_some_role_name_is_unknown_a_grant_reaches_the_named_role_and_the_unnamed_ones() -> None:
    new_role = resource(ROLE, "new", name=UNKNOWN)
    attach = resource(ROLE_POLICY_ATTACHMENT, "a", role="eks-node", policyArn=IN_STACK)
    model = build_access_model([*principals(), new_role, attach])
    assert "role 'eks-node'" in model.unresolved
    by_name = {p.name: p for p in model.principals}
    assert wheres(by_name["eks-node"]) == wheres(by_name["new"]) == ["the managed policy 'push'"]
    assert wheres(by_name["ci"]) == []                              # a known name is not what it could be


def test_a_document_whose_owner_is_unknown_reaches_a_stand_in() -> None:
    orphan = resource(ROLE_POLICY, "p", role=UNKNOWN, policy=POLICY_DOC)
    model = build_access_model([*principals(), orphan])
    (stand_in,) = [p for p in model.principals if p.stand_in]
    assert wheres(stand_in) == ["the inline policy 'p'"] and stand_in.tag("team") is UNKNOWN   # it may be 'ci'
    assert stand_in.label == "the IAM role named by 'p.role' (unknown at preview)"
    (alone,) = build_access_model([orphan]).principals
    assert alone.tag("team") is None and alone.subject == "The IAM role named by 'p.role' (unknown at preview)"


@pytest.mark.parametrize(("first", "second"), [("ci", "ci"), ("ci", "CI")])
def test_two_resources_claiming_one_name_are_one_principal_with_both_documents(first: str, second: str) -> None:
    one = resource(ROLE, "one", name=first, inlinePolicies=[{"name": "a", "policy": POLICY_DOC}])
    two = resource(ROLE, "two", name=second, inlinePolicies=[{"name": "b", "policy": POLICY_DOC}])
    model = build_access_model([one, two])
    (ci,) = model.principals
    assert wheres(ci) == ["the inline policy 'a'", "the inline policy 'b'"] and ci.claims == [one, two]
    assert [(k, n, [r.name for r in rs]) for k, n, rs in model.duplicates] == [("role", first, ["one", "two"])]
    policies = [resource(MANAGED_POLICY, f"p{i}", name="push", policy=POLICY_DOC) for i in range(2)]
    assert [k for k, _, _ in build_access_model(policies).duplicates] == ["policy"]
    assert build_access_model([one, resource(ROLE, "three", namePrefix="ci")]).duplicates == []


def test_unknown_managed_policy_arns_and_unknown_entries() -> None:
    role = resource(ROLE, "x", name="x", managedPolicyArns=UNKNOWN)
    assert build_access_model([role]).unresolved == ["x.managedPolicyArns"]
    role = resource(ROLE, "x", name="x", managedPolicyArns=[UNKNOWN])
    assert build_access_model([role]).unresolved == ["x.managedPolicyArns"]
    attach = resource(POLICY_ATTACHMENT, "a", roles=[UNKNOWN, "ci"], policyArn=IN_STACK)
    model = build_access_model([*principals(), attach])
    assert model.unresolved == []                                  # the known entry is resolved
    assert build_access_model([resource(POLICY_ATTACHMENT, "a", roles=[UNKNOWN], policyArn=IN_STACK)]).unresolved \
        == ["a.roles"]
    assert wheres(next(p for p in model.principals if p.name == "ci")) == ["the managed policy 'push'"]


def test_labels_and_tags() -> None:
    tagged = resource(ROLE, "r", name="ci", tags={"team": "payments", "empty": ""})
    ci = find([tagged], "role", "ci")
    assert ci.label == "IAM role 'ci'" and ci.urn == tagged.urn
    assert (ci.tag("team"), ci.tag("empty"), ci.tag("other")) == ("payments", None, None)
    assert find([resource(USER, "u", name="dev", tags=UNKNOWN)], "user", "dev").tag("team") is UNKNOWN
    assert find([resource(GROUP, "g", name="ops", tags={"team": UNKNOWN})], "group", "ops").tag("team") is UNKNOWN
    assert find([resource(GROUP, "g", name="ops")], "group", "ops").label == "IAM group 'ops'"
    assert find([resource(USER, "u", name="")], "user", "u").label == "IAM user 'u'"


@pytest.mark.parametrize(("value", "name"), [
    ("ci", "ci"), (f"arn:aws:iam::{ACCOUNT}:role/path/ci", "ci"), ("path/ci", "path/ci"), ("", None), (None, None),
    (5, None), (f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:root"),
])
def test_principal_names_from_names_and_arns(value: Any, name: str | None) -> None:
    assert principal_name(value) == name

"""Who can become whom, decision by decision, on the pure graph builder (rules.principal_graph).

Each row is a small stack and the edges (source -> target) the graph must hold, or must not;
then the closure (cycles, chains, stand-ins kept implicit), the paths a report reads, and the
readers it is built from: action grants, Resource patterns with policy variables.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from rules.access import Principal, build_access_model
from rules.common import ROLE, ROLE_POLICY, USER, USER_POLICY
from rules.principal_graph import (
    Edge,
    Graph,
    build_principal_graph,
    grants,
    resolve_variables,
    resource_patterns,
    session_taggable,
)

from .decisions import ACCOUNT, allow, doc, dumps, resource

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role"
FUNCTION = f"arn:aws:lambda:us-west-2:{ACCOUNT}:function"


def assume(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


def role(name: str, *trust: dict[str, Any], **props: Any) -> Any:
    return resource(ROLE, name, name=name, assumeRolePolicy=dumps(doc(*trust)), **props)


def inline(owner: str, *statements: dict[str, Any], kind: str = ROLE_POLICY) -> Any:
    key = "role" if kind == ROLE_POLICY else "user"
    return resource(kind, f"{owner}-{len(statements)}", **{key: owner}, policy=dumps(doc(*statements)))


def graph(*resources: Any) -> Graph:
    resources_ = list(resources)
    return build_principal_graph(build_access_model(resources_), resources_)


def edges(g: Graph) -> set[tuple[str, str]]:
    return {(e.source.name, e.target.name) for e in g.edges}


ECS = {"Service": "ecs-tasks.amazonaws.com"}
ROOT = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
OWN = {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}

EDGE_ROWS = [
    # (stack, edge that must exist, or None: the edges that must not)
    ([role("a"), role("b", assume({"AWS": f"{ROLE_ARN}/a"}))], ("a", "b")),
    ([role("a"), role("b", assume({"AWS": f"{ROLE_ARN}/path/A"}))], ("a", "b")),          # path, case
    ([role("a"), role("b", assume({"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/a/session"}))], ("a", "b")),
    ([role("a"), role("b", assume({"AWS": f"{ROLE_ARN}/a*"}))], None),                     # IAM refuses wildcards
    ([role("a"), role("b", assume({"AWS": f"{ROLE_ARN}/a"}, Effect="Deny"))], None),
    ([role("a"), role("b", assume(ROOT))], None),                                          # root needs a grant
    ([role("a"), role("b", assume(ROOT)), inline("a", allow("sts:AssumeRole", f"{ROLE_ARN}/b"))], ("a", "b")),
    ([role("a"), role("b", assume(ROOT)), inline("a", allow("sts:AssumeRole", f"{ROLE_ARN}/c"))], None),
    ([role("a"), role("b", assume(ROOT)), inline("a", allow("sts:Assume*", "arn:aws:iam::*:role/*"))], ("a", "b")),
    ([role("a"), role("b", assume(ROOT)), inline("a", {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})],
     ("a", "b")),
    ([role("a"), role("b", assume(ROOT)), inline("a", allow(["ecr:PutImage", "S?S:AssumeRole"], "*"))], ("a", "b")),
    ([role("a"), role("b", assume(ROOT)), inline("a", allow(["ecr:PutImage", "STS:AssumeRole"], "*"))], ("a", "b")),
    ([role("a"), role("b", assume(ROOT)), inline("a", allow(["ecr:PutImage", "s3:AssumeRole"], "*"))], None),
    ([role("a"), role("b", assume(ROOT)), inline("a", allow([5, "sts:AssumeRole"], f"{ROLE_ARN}/b"))],
     ("a", "b")),                                                                          # a malformed action too
    ([role("a"), role("b", assume(ROOT)), inline("a", allow("ecr:PutImage", "*"),                # a later statement
                                                 allow("sts:AssumeRole", f"{ROLE_ARN}/b"))], ("a", "b")),
    ([role("a"), role("b", assume(ROOT)), inline("a", {"Effect": "Allow", "Action": "sts:AssumeRole",
                                                       "NotResource": f"{ROLE_ARN}/c"})], ("a", "b")),
    ([role("a"), role("b", assume(ROOT)), inline("a", allow("sts:AssumeRole", "arn:aws:iam::999999999999:role/b"))],
     None),                                                                                # another account's b
    ([role("a"), role("b", assume(ROOT)), inline("a", allow("sts:AssumeRole", f"{ROLE_ARN}/${{aws:username}}"))],
     ("a", "b")),                                                                          # a variable is '*'
    ([role("a"), role("b", assume(ECS)), inline("a", allow(["iam:PassRole", "ecs:RunTask"], f"{ROLE_ARN}/b"))],
     ("a", "b")),
    ([role("a"), role("b", assume(ECS)), inline("a", allow("iam:PassRole", f"{ROLE_ARN}/b"),
                                                allow("ecs:CreateService", "*"))], ("a", "b")),
    ([role("a"), role("b", assume(ECS)), inline("a", allow(["iam:PassRole", "ecs:UpdateService"], f"{ROLE_ARN}/b"))],
     None),                                                                                # starts no new code
    ([role("a"), role("b", assume(ECS)), inline("a", allow(["iam:PassRole", "lambda:CreateFunction"],
                                                           f"{ROLE_ARN}/b"))], None),     # b is not Lambda's
    ([role("a"), role("b", assume({"Service": "lambda.amazonaws.com"})),
      inline("a", allow(["iam:PassRole", "lambda:CreateFunction"], "*"))], ("a", "b")),
    ([role("a"), role("b", assume(ECS)), inline("a", allow(["ecs:RunTask"], f"{ROLE_ARN}/b"))], None),
    ([role("a"), role("b", assume(ECS)), inline("a", allow(["iam:PassRole", "ecs:RunTask"], f"{ROLE_ARN}/b?x"))],
     None),                                                                                # its prefix, not it
    ([role("a"), role("b", assume(ECS)), inline("a", allow(["iam:PassRole", "ecs:RunTask"], "arn:aws:iam::1"))],
     None),                                                                                # no resource part
    ([role("a"), role("b", assume(ROOT)), inline("a", allow("sts:AssumeRole", f"{ROLE_ARN}/*b"))], ("a", "b")),
    ([role("a"), role("b", assume({"AWS": ["*", f"{ROLE_ARN}/a"]}, Condition=OWN))], ("a", "b")),
    ([role("a"), role("b", assume({"AWS": "*"}, Condition={"ArnEquals": {"aws:PrincipalArn": f"{ROLE_ARN}/a"}}))],
     ("a", "b")),
    # code run inside compute that already runs as b: no PassRole, and the Resource names the compute
    ([role("a"), role("b", assume({"Service": "lambda.amazonaws.com"})),
      inline("a", allow("lambda:UpdateFunctionCode", f"{FUNCTION}:f"))], ("a", "b")),
    ([role("a"), role("b", assume({"Service": "ec2.amazonaws.com"})), inline("a", allow("SSM:SendCommand", "*"))],
     ("a", "b")),
    ([role("a"), role("b", assume(ECS)), inline("a", allow("ecs:ExecuteCommand", "*"))], ("a", "b")),
    ([role("a"), role("b", assume(ECS)), inline("a", allow("lambda:UpdateFunctionCode", "*"))], None),  # not Lambda's
    ([role("a"), role("b", assume({"Service": "lambda.amazonaws.com"})), inline("a", allow("lambda:GetFunction", "*"))],
     None),                                                                                # reads run nothing
    # a service the pack does not know how code starts in: PassRole is enough, and so is any write of that service
    ([role("a"), role("b", assume({"Service": "states.amazonaws.com"})),
      inline("a", allow("iam:PassRole", f"{ROLE_ARN}/b"))], ("a", "b")),
    ([role("a"), role("b", assume({"Service": "cloudformation.amazonaws.com"})),
      inline("a", allow("cloudformation:UpdateStack", "*"))], ("a", "b")),
    ([role("a"), role("b", assume({"Service": "cloudformation.amazonaws.com"})),
      inline("a", allow("cloudformation:DescribeStacks", "*"))], None),
    ([role("a"), role("b", assume({"Service": "madeup.amazonaws.com"})), inline("a", allow("madeup:Anything", "*"))],
     ("a", "b")),                                                                          # unknown: any action
    # ECR acts as a creation template's role only to apply the template: pushing runs nothing as it
    ([role("a"), role("b", assume({"Service": "ecr.amazonaws.com"})), inline("a", allow("ecr:PutImage", "*"))], None),
    ([role("a"), role("b", assume({"Service": "ecr.amazonaws.com"})),
      inline("a", allow("iam:PassRole", f"{ROLE_ARN}/b"))], None),
    ([role("a"), role("b", assume(ECS), path="/x:y/"),                                      # a path may hold ':'
      inline("a", allow(["iam:PassRole", "ecs:RunTask"], f"{ROLE_ARN}/x:y/b"))], ("a", "b")),
]


def becomes(g: Graph) -> set[tuple[str, str]]:
    """(source, target) for every principal that can become another through explicit edges."""
    principals = [n for n in g.nodes if n.kind != "pattern"]
    by_id = {id(n): n for n in principals}
    return {(n.name, by_id[k].name) for n in principals for k in g.reachable(n, implicit=False) if k in by_id}


@pytest.mark.parametrize(("stack", "edge"), EDGE_ROWS)
def test_edges(stack: list[Any], edge: tuple[str, str] | None) -> None:
    found = becomes(graph(*stack))
    if edge is None:
        assert not {e for e in found if e[1] == "b"}, found
    else:
        assert edge in found, found


def test_a_wildcard_grant_is_one_pattern_node_shared_by_every_principal_granted_it() -> None:
    grant = allow("sts:AssumeRole", f"{ROLE_ARN}/team-*")
    g = graph(*[role(f"team-{i}", assume(ROOT)) for i in range(3)], role("other", assume(ROOT)),
              role("a"), role("c"), inline("a", grant), inline("c", grant))
    (hub,) = [n for n in g.nodes if n.kind == "pattern"]
    assert hub.stand_in == f"the roles matching '{ROLE_ARN}/team-*'"
    assert edges(g) == {("a", hub.name), ("c", hub.name), *((hub.name, f"team-{i}") for i in range(3))}
    assert {e.how for e in g.edges if e.source is hub} == {f"'team-{i}' matches it and trusts its account root"
                                                          for i in range(3)}
    assert ("a", "team-2") in becomes(g) and ("a", "other") not in becomes(g)


@pytest.mark.parametrize(("condition", "stand_in"), [
    (None, "every principal of every AWS account"),
    (OWN, f"every principal of account {ACCOUNT}"),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, "every principal of organisation o-abc123"),
    ({"ArnLike": {"aws:PrincipalArn": f"{ROLE_ARN}/ci-*"}}, f"every principal matching {ROLE_ARN}/ci-*"),
    ({"StringEquals": {"aws:ResourceAccount": ACCOUNT}}, "every principal of every AWS account"),  # confines nothing
    ({"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:root"}},
     f"every principal matching arn:aws:iam::{ACCOUNT}:root"),
])
def test_star_in_a_trust_is_a_stand_in_everyone_can_become(condition: dict | None, stand_in: str) -> None:
    extra = {"Condition": condition} if condition else {}
    g = graph(role("a"), role("b", assume({"AWS": "*"}, **extra)))
    assert edges(g) == {(stand_in, "b")}
    (hub,) = g.everyone
    a = next(n for n in g.nodes if n.name == "a")
    assert hub.stand_in == stand_in and hub.tag("team") is None
    paths = g.reachable(a)
    assert [e.target.name for e in paths[id(next(n for n in g.nodes if n.name == "b"))]] == [stand_in, "b"]
    assert id(hub) not in g.reachable(a, implicit=False)


@pytest.mark.parametrize("secret", ["aws:iam/accessKey:AccessKey", "aws:iam/userLoginProfile:UserLoginProfile"])
def test_a_users_secret_in_the_outputs_is_a_stand_in_for_whoever_holds_it(secret: str) -> None:
    g = graph(resource(USER, "u", name="ci"), resource(secret, "key", user="ci"))
    kind = "access key" if secret.endswith("AccessKey") else "console password"
    assert edges(g) == {(f"whoever holds the {kind} of IAM user 'ci'", "ci")} and g.everyone == []
    assert edges(graph(resource(USER, "u", name="ci"), resource(secret, "key", user="other"),
                       resource(secret, "k2", user=5))) <= {("whoever holds the access key of IAM user 'other'",
                                                                "other"),
                                                               ("whoever holds the console password of IAM user "
                                                                "'other'", "other")}


def closure_of(g: Graph, own: dict[str, set[str]]) -> dict[str, set[str]]:
    by_name = {n.name: n for n in g.nodes}
    found = g.closure({id(by_name[k]): v for k, v in own.items()})
    return {n.name: found[id(n)] for n in g.nodes}


def chain(*names: str, cycle: bool = False) -> list[Any]:
    """Roles where each trusts the one before it (and the first trusts the last when `cycle`)."""
    out = []
    for index, name in enumerate(names):
        previous = names[index - 1] if index or cycle else None
        trust = [assume({"AWS": f"{ROLE_ARN}/{previous}"})] if previous else [assume(ECS)]
        out.append(role(name, *trust))
    return out


def test_closure_follows_chains() -> None:
    g = graph(*chain("a", "b", "c"))
    assert closure_of(g, {"c": {"t"}, "b": {"u"}}) == {"a": {"t", "u"}, "b": {"t", "u"}, "c": {"t"}}


def test_closure_of_a_cycle_is_shared_by_every_member() -> None:
    g = graph(*chain("a", "b", "c", cycle=True), role("d", assume({"AWS": f"{ROLE_ARN}/a"})),
              role("x", assume({"AWS": f"{ROLE_ARN}/d"})))
    found = closure_of(g, {"a": {"t"}, "x": {"u"}})      # a -> b -> c -> a, a -> d -> x
    assert found["a"] == found["b"] == found["c"] == {"t", "u"}
    assert found["d"] == found["x"] == {"u"}


def test_closure_ignores_the_implicit_everyone_edges() -> None:
    g = graph(role("a"), role("b", assume({"AWS": "*"}, Condition=OWN)))
    found = closure_of(g, {"b": {"t"}})
    assert found["a"] == set() and found[f"every principal of account {ACCOUNT}"] == {"t"}


def test_a_long_chain_is_not_recursive() -> None:
    names = [f"r{i}" for i in range(3000)]
    g = graph(*chain(*names))
    assert closure_of(g, {names[-1]: {"t"}})[names[0]] == {"t"}
    assert len(g.reachable(next(n for n in g.nodes if n.name == "r0"))) == 2999


def test_paths_say_how_each_step_is_taken() -> None:
    g = graph(*chain("a", "b", "c"))
    a = next(n for n in g.nodes if n.name == "a")
    path = next(p for p in g.reachable(a).values() if p[-1].target.name == "c")
    assert [e.how for e in path] == [f"the trust policy of 'b' names '{ROLE_ARN}/a'",
                                     f"the trust policy of 'c' names '{ROLE_ARN}/b'"]


@pytest.mark.parametrize(("statement", "action", "granted"), [
    (allow("sts:AssumeRole"), "sts:AssumeRole", True),
    (allow("STS:assumerole"), "sts:AssumeRole", True),
    (allow("sts:Assume?ole"), "sts:AssumeRole", True),
    (allow(["s3:*", "sts:*"]), "sts:AssumeRole", True),
    (allow("sts:AssumeRoleWithSAML"), "sts:AssumeRole", False),
    ({"Effect": "Allow", "NotAction": "sts:AssumeRole", "Resource": "*"}, "sts:AssumeRole", False),
    ({"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}, "sts:AssumeRole", True),
    (allow(5), "sts:AssumeRole", False),
])
def test_grants(statement: dict[str, Any], action: str, granted: bool) -> None:
    assert grants(statement, action) is granted


def principal(kind: str = "role", name: str = "payments", **tags: str) -> Principal:
    return Principal(kind, name, resource(ROLE if kind == "role" else USER, name, name=name, tags=tags))


@pytest.mark.parametrize(("pattern", "who", "session_tags", "resolved"), [
    ("repository/payments/*", None, True, "repository/payments/*"),
    ("repository/${aws:PrincipalTag/team}/*", principal(team="payments"), True, "repository/*/*"),
    ("repository/${aws:PrincipalTag/team}/*", principal(team="payments"), False, "repository/payments/*"),
    ("repository/${aws:principaltag/team}/*", principal(team="pay*"), False, "repository/*/*"),
    ("repository/${aws:PrincipalTag/team}/*", principal(), False, "repository/*/*"),        # no such tag
    ("repository/${aws:PrincipalTag/team/unit}/*", principal(**{"team/unit": "pay", "team": "x"}), False,
     "repository/pay/*"),                                                                    # a key with a slash
    ("repository/${aws:username}/*", principal("user", "ci"), True, "repository/ci/*"),
    ("repository/${aws:username}/*", principal("role", "ci"), True, "repository/*/*"),
    ("repository/${aws:userid}/*", principal("user", "ci"), True, "repository/*/*"),
    ("repository/${aws:PrincipalAccount}/x", None, True, "repository/*/x"),
    ("repository/a${*}b${?}${$}", None, True, "repository/a*b?$"),
    ("repository/${unclosed", None, True, "repository/${unclosed"),
])
def test_policy_variables(pattern: str, who: Principal | None, session_tags: bool, resolved: str) -> None:
    assert resolve_variables(pattern, who, session_tags) == resolved


def test_session_tags_are_settable_when_the_trust_allows_tag_session() -> None:
    tagged = build_access_model([role("a", {**assume(ECS), "Action": ["sts:AssumeRole", "sts:TagSession"]})])
    plain = build_access_model([role("a", assume(ECS)), inline("a", allow("sts:TagSession"))])
    assert session_taggable(tagged.principals[0]) and not session_taggable(plain.principals[0])
    assert not session_taggable(build_access_model([resource(USER, "u", name="u")]).principals[0])


def test_a_user_policy_grant_is_an_edge_from_the_user() -> None:
    g = graph(resource(USER, "u", name="ci"), role("b", assume(ROOT)),
              inline("ci", allow("sts:AssumeRole", f"{ROLE_ARN}/b"), kind=USER_POLICY))
    assert edges(g) == {("ci", "b")}


def test_a_role_trusting_itself_is_no_edge_and_an_arn_names_its_own_kind() -> None:
    assert edges(graph(role("a", assume({"AWS": f"{ROLE_ARN}/a"})))) == set()
    same_names = [resource(USER, "u", name="ci"), role("ci"),
                  role("b", assume({"AWS": f"arn:aws:iam::{ACCOUNT}:user/ci"}))]
    g = graph(*same_names)
    assert [(e.source.kind, e.source.name, e.target.name) for e in g.edges] == [("user", "ci", "b")]
    g = graph(*same_names[:2], role("b", assume({"AWS": "*"}, Condition={
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/ci"}})))
    assert [(e.source.kind, e.source.name, e.target.name) for e in g.edges] == [("user", "ci", "b")]


def test_a_role_admitting_only_its_own_arn_through_star_is_no_edge() -> None:
    g = graph(role("a", assume({"AWS": "*"}, Condition={"ArnEquals": {"aws:PrincipalArn": f"{ROLE_ARN}/a"}})))
    assert edges(g) == set() and g.everyone == []


def test_closure_covers_a_node_after_one_already_reached() -> None:
    g = graph(*chain("a", "b"), role("c", assume(ECS)))      # a -> b; c stands alone, after b in the nodes
    assert closure_of(g, {"b": {"t"}, "c": {"u"}}) == {"a": {"t"}, "b": {"t"}, "c": {"u"}}


def test_an_edge_cannot_be_changed_once_built() -> None:
    a, b = Principal("role", "a"), Principal("role", "b")
    with pytest.raises(dataclasses.FrozenInstanceError):
        Edge(a, b, "trusts it").how = "other"  # type: ignore[misc]


def test_find_stops_at_the_limit_however_large() -> None:
    start = Principal("role", "start")
    targets = [Principal("role", f"r{i}") for i in range(301)]
    g = Graph([start, *targets], [Edge(start, t, "trusts it") for t in targets])
    assert len(g.find(start, lambda n: True, 300)) == 300
    assert len(g.find(start, lambda n: True, 3)) == 3


def test_a_secret_names_its_user_by_name_or_arn() -> None:
    g = graph(resource(USER, "u", name="ci"), resource("aws:iam/accessKey:AccessKey", "key",
                                                       user=f"arn:aws:iam::{ACCOUNT}:user/ci"))
    assert edges(g) == {("whoever holds the access key of IAM user 'ci'", "ci")}


def test_an_account_wildcard_root_is_everyone() -> None:
    g = graph(role("b", assume({"AWS": "arn:aws:iam::*:root"})), role("c", assume({"aws": "*"})))
    assert edges(g) == {("every principal of every AWS account", "b"), ("every principal of every AWS account", "c")}


def test_session_tags_are_the_callers_unless_told_otherwise() -> None:
    assert resolve_variables("x/${aws:PrincipalTag/team}", principal(team="payments")) == "x/*"


def test_resource_patterns_take_session_tags_as_the_callers_unless_told_otherwise() -> None:
    statement = allow("ecr:PutImage", "x/${aws:PrincipalTag/team}/*")
    assert resource_patterns(statement, principal(team="payments")) == ["x/*/*"]
    assert resource_patterns(statement, principal(team="payments"), session_tags=False) == ["x/payments/*"]


def test_closure_of_hundreds_of_principals_and_a_cycle_after_them() -> None:
    start, x, y = Principal("role", "start"), Principal("role", "x"), Principal("role", "y")
    targets = [Principal("role", f"r{i}") for i in range(300)]
    g = Graph([start, *targets, x, y], [*(Edge(start, t, "trusts it") for t in targets), Edge(x, y, "trusts it"),
                                        Edge(y, x, "trusts it")])
    found = g.closure({id(targets[-1]): {"t"}, id(y): {"u"}})
    assert found[id(start)] == {"t"} and found[id(targets[0])] == set()
    assert found[id(x)] == found[id(y)] == {"u"}


def test_find_passes_over_a_node_already_seen_to_the_next_edge() -> None:
    g = graph(role("a", assume({"AWS": f"{ROLE_ARN}/b"})), role("b", assume({"AWS": f"{ROLE_ARN}/a"})),
              role("c", assume({"AWS": f"{ROLE_ARN}/b"})))
    a = next(n for n in g.nodes if n.name == "a")
    (path,) = g.find(a, lambda n: n.name == "c", 2)
    assert [e.target.name for e in path] == ["b", "c"]
    assert g.find(a, lambda n: n.name in ("b", "c"), 1) == [path[:1]]

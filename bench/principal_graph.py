"""Who can become whom (`rules.principal_graph`) on its own, by stack size: linear in principals + grants.

    venv/bin/python bench/principal_graph.py              # 250 .. 4000 teams, prints a Markdown table
    venv/bin/python bench/principal_graph.py 1000         # one size

Each team is what a hand-written stack with deployments holds: a GitHub push role, an ECS task role
the push role may pass and run (PassRole + RunTask), a deploy role trusting the account root that
the push role may assume (and a `<team>-x*` pattern of its own), a CI user with an access key that
may assume the push role, and a role chain closing a cycle (deploy trusts the task role's session).
Time per node + edge should stay flat.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))

from rules.access import build_access_model
from rules.common import Resource
from rules.principal_graph import build_principal_graph

ACCOUNT = "210987654321"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **s} for s in statements]})


def team(i: int) -> list[Resource]:
    name = f"t{i}"

    def r(kind: str, logical: str, **props: object) -> Resource:
        return Resource(f"aws:iam/{kind}", logical, f"urn:{logical}", dict(props))

    github = {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"}
    return [
        r("role:Role", f"{name}-push", name=f"{name}-push", assumeRolePolicy=doc(
            {"Principal": github, "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {"token.actions.githubusercontent.com:sub": f"repo:acme/{name}:ref:main"}}},
            {"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{name}-ci"}, "Action": "sts:AssumeRole"})),
        r("rolePolicy:RolePolicy", f"{name}-push-p", role=f"{name}-push", policy=doc(
            {"Action": "iam:PassRole", "Resource": f"{ROLE_ARN}/{name}-task"},
            {"Action": "ecs:RunTask", "Resource": "*"},
            {"Action": "sts:AssumeRole", "Resource": [f"{ROLE_ARN}/{name}-deploy", f"{ROLE_ARN}/{name}-x*"]})),
        r("role:Role", f"{name}-task", name=f"{name}-task", assumeRolePolicy=doc(
            {"Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"})),
        r("role:Role", f"{name}-deploy", name=f"{name}-deploy", assumeRolePolicy=doc(
            {"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"},
            {"Principal": {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}-task/s"}, "Action": "sts:AssumeRole"})),
        r("user:User", f"{name}-ci", name=f"{name}-ci"),
        r("accessKey:AccessKey", f"{name}-key", user=f"{name}-ci"),
        r("userPolicy:UserPolicy", f"{name}-ci-p", user=f"{name}-ci", policy=doc(
            {"Action": "sts:AssumeRole", "Resource": f"{ROLE_ARN}/{name}-push"})),
    ]


def best_of(resources: list[Resource], runs: int = 3) -> tuple[float, int, int]:
    best, size = float("inf"), (0, 0)
    for _ in range(runs):
        started = time.perf_counter()
        graph = build_principal_graph(build_access_model(resources), resources)
        found = graph.closure({id(n): {n.name} for n in graph.nodes if n.name.endswith("-task")})
        best = min(best, time.perf_counter() - started)
        size = (len(graph.nodes), len(graph.edges))
        assert len(found) == len(graph.nodes)
    return best, *size


def main(sizes: list[int]) -> None:
    print("| teams | resources | nodes | edges | graph + closure (min of 3) | µs per node + edge | "
          "µs per node + edge, GC off |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for teams in sizes:
        resources = [r for i in range(teams) for r in team(i)]
        on, nodes, edges = best_of(resources)
        gc.disable()
        off, _, _ = best_of(resources)
        gc.enable()
        print(f"| {teams} | {len(resources)} | {nodes} | {edges} | {on:.3f} s | {on / (nodes + edges) * 1e6:.1f} | "
              f"{off / (nodes + edges) * 1e6:.1f} |")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [250, 1000, 4000])

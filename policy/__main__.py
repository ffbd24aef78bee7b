"""The ecr-platform-guardrails policy pack: assembles the rules; `PolicyPack` serves them and never returns."""

import sys

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import ALL_POLICIES
from rules.serving import convert_once_per_call, serve_analyze_each
from rules.wire import tolerate_non_finite_numbers

# The SDK converts each resource's properties recursively before any rule runs; a value nested a few
# hundred levels deep would fail the whole RPC there. Past that, rules.common.MAX_DEPTH refuses it.
sys.setrecursionlimit(20_000)
# `Infinity` and `NaN` are numbers on the wire but fail the SDK's conversion of the whole call: read them as strings.
tolerate_non_finite_numbers()
# Each resource converted once per call, not once per policy; no cyclic GC while a call runs.
convert_once_per_call()
# `make check` asks for many resources' Analyze in one call (the CLI never does): see rules/serving.py.
serve_analyze_each()

PolicyPack(
    name="ecr-platform-guardrails",
    description="Guardrails for ECR registries and their GitHub Actions push roles: scanning, immutable tags, "
                "encryption, lifecycle, restricted repository policies, scoped GitHub trust, least privilege, "
                "policy sizes, team isolation and deletion protection.",
    policies=ALL_POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
)

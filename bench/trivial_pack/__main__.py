"""The benchmark floor pack: resource and stack policies that look at the type of what they get and pass.

The SDK hands every policy its own deserialized copy of the resource (Analyze) or of the whole stack
(AnalyzeStack), so the floor's shape matters: by default one policy of each kind (the floor of any
pack); `BENCH_TRIVIAL_RESOURCE_POLICIES` / `BENCH_TRIVIAL_STACK_POLICIES` give it as many of each
as the measured pack has, which leaves only the rules' own work in the difference.
"""

import os

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def _resource(args, report_violation):
    if args.resource_type == "bench:trivial:Never":
        report_violation("never", None)


def _stack(args, report_violation):
    if sum(1 for r in args.resources if r.resource_type == "bench:trivial:Never"):
        report_violation("never", None)


resource_policies = int(os.environ.get("BENCH_TRIVIAL_RESOURCE_POLICIES", "1"))
stack_policies = int(os.environ.get("BENCH_TRIVIAL_STACK_POLICIES", "1"))
PolicyPack(
    name="bench-trivial",
    policies=[
        *(ResourceValidationPolicy(name=f"trivial-resource-{i}", description="Looks at the type and passes.",
                                   validate=_resource) for i in range(resource_policies)),
        *(StackValidationPolicy(name=f"trivial-stack-{i}", description="Looks at every resource's type and passes.",
                                validate=_stack) for i in range(stack_policies)),
    ],
    enforcement_level=EnforcementLevel.MANDATORY,
)

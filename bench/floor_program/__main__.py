"""The SDK floor: declares a recorded resource graph through the same pulumi-aws classes, with no logic.

`bench/graph.py` writes the spec from a run of the real program: every resource's type, name,
parent, options and inputs (already in the classes' keyword form), which inputs came from another
resource's output, and the stack outputs. This program only replays it: same types, same count,
same parents (ComponentResources included), same input values, same dependency edges, the same
invokes, so the difference to the real program is the real program's own work.
"""

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

spec = json.loads(Path(pulumi.Config("floor").require("spec")).read_text())
aws.get_partition()
aws.get_caller_identity()
aws.get_region()

declared: list[pulumi.Resource] = []


def once_resolved(sources: list[pulumi.Resource], value: Any) -> pulumi.Output[Any]:
    """`value`, as an output of `sources`: the dependency edge an input like `role=role.name` makes."""
    return pulumi.Output.all(*[s.urn for s in sources]).apply(lambda _: value)


for r in spec["resources"]:
    opts = pulumi.ResourceOptions(
        parent=None if r["parent"] is None else declared[r["parent"]],
        protect=r["protect"] or None,
        depends_on=[declared[i] for i in r["dependsOn"]] or None,
    )
    if r["component"]:
        component = pulumi.ComponentResource(r["type"], r["name"], None, opts)
        component.register_outputs({})
        declared.append(component)
        continue
    kwargs = dict(r["kwargs"])
    for prop, sources in r["outputInputs"].items():
        kwargs[prop] = once_resolved([declared[i] for i in sources], kwargs[prop])
    module, cls = r["class"]
    declared.append(getattr(getattr(aws, module), cls)(r["name"], opts=opts, **kwargs))

for key, value in spec["outputs"].items():
    pulumi.export(key, value)

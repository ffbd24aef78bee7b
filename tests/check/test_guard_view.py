"""The access report shows what the guard's model judged where the report's own role lines do not reach: IAM users
and groups with policies (issue 23, "one model"), and who can become whom with the path, in text, Markdown and JSON."""

from __future__ import annotations

import json

import pytest

from engine.program import ProgramRun
from engine.resource import Resource
from review.check import judge
from review.markdown import render_markdown
from review.report import CheckResult, render_text, to_json

from .markdown_shape import problems

PUSH = ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
        "ecr:BatchCheckLayerAvailability"]


def _document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def result(dev: ProgramRun) -> CheckResult:
    """The dev stack plus, written by hand, an IAM user that pushes to dc43 and may assume a new role."""
    user = Resource("aws:iam/user:User", "ci", {"name": "ci", "tags": {"team": "dc43"}})
    policy = Resource("aws:iam/userPolicy:UserPolicy", "ci-push", {"user": "ci", "policy": _document(
        {"Sid": "Push", "Effect": "Allow", "Action": PUSH, "Resource": "arn:aws:ecr:*:*:repository/dc43/*"})})
    role = Resource("aws:iam/role:Role", "ci-deploy", {"name": "ci-deploy", "assumeRolePolicy": _document(
        {"Sid": "Ci", "Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"AWS": "arn:aws:iam::123456789012:user/ci"}})})
    return judge("dev", dev.config, [*dev.resources, user, policy, role], None)


def test_an_iam_user_with_a_policy_is_reported_with_what_the_guard_says_it_writes(result):
    (writer,) = [w for w in result.access.other_writers if w.name == "ci"]
    assert writer.kind == "user" and writer.team == "dc43"
    assert set(writer.repositories) == {"dc43/contracts-app", "dc43/http-backend"}, "the user's pushes are lost"
    text = render_text(result)
    assert "Other principals that can write (the guard's model)" in text
    assert "  IAM user 'ci' (team dc43): writes dc43/{contracts-app,http-backend}" in text


def test_who_can_become_whom_is_reported_with_the_path(result):
    (becoming,) = [b for b in result.access.can_become if b.principal == "IAM user 'ci'"]
    assert becoming.becomes == "IAM role 'ci-deploy'"
    assert becoming.via == ("the trust policy of 'ci-deploy' names 'arn:aws:iam::123456789012:user/ci'",)
    assert ("  IAM user 'ci' can become IAM role 'ci-deploy' via the trust policy of 'ci-deploy' names "
            "'arn:aws:iam::123456789012:user/ci'") in render_text(result)


def test_markdown_and_json_carry_the_guards_view(result):
    markdown = render_markdown(result)
    assert not problems(markdown), problems(markdown)
    assert "#### Other principals that can write (the guard's model)" in markdown
    assert "#### Who can become whom (the guard's principal graph)" in markdown
    assert "| IAM user 'ci' (team `dc43`) |" in markdown
    access = json.loads(to_json(result))["access"]
    assert access["canBecome"][0]["becomes"] == "IAM role 'ci-deploy'"
    assert access["otherWriters"][0]["repositories"] == ["dc43/contracts-app", "dc43/http-backend"]


def test_a_stack_without_them_shows_no_empty_section(dev: ProgramRun):
    text = render_text(judge("dev", dev.config, dev.resources, None))
    assert "the guard's model" not in text and "principal graph" not in text


def test_a_legacy_attachment_of_an_aws_managed_policy_shows_the_roles_other_writes(dev: ProgramRun):
    legacy = Resource("aws:iam/policyAttachment:PolicyAttachment", "legacy", {
        "name": "legacy", "roles": ["github-push-dc43"],
        "policyArn": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"})
    result = judge("dev", dev.config, [*dev.resources, legacy], None)
    (writer,) = result.access.other_writers
    assert writer.name == "github-push-dc43" and writer.everywhere, "the guard's registry-wide push is not shown"
    assert "dc43/contracts-app" not in writer.repositories, "what the role's own lines show is not repeated"
    assert any("AmazonEC2ContainerRegistryPowerUser" in v for v in writer.via)
    assert ("  IAM role 'github-push-dc43' (team dc43): writes every repository, and any created later"
            in render_text(result))

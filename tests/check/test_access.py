"""The access report for the fixture dev stack (tests/fixtures), asserted as facts, and what a changed
document shows."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from engine.program import ProgramRun
from review.access import ROLE, ROLE_POLICY, AccessReport, build_access_report

from .. import fixtures

DC43 = ["dc43/contracts-app", "dc43/http-backend"]
SHARED = ["shared/data/etl", "shared/data/notebooks"]


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return fixtures.run_fixture("dev")


@pytest.fixture(scope="module")
def report(dev: ProgramRun) -> AccessReport:
    return build_access_report(dev.resources, dev.config["ecr-platform:accounts"])


def account(report: AccessReport, number: str, principal: str = "account"):
    rows = [a for a in report.accounts if a.account == number and a.principal == principal]
    assert len(rows) == 1, f"expected one row for {principal} in {number}, got {report.accounts}"
    return {r.repository: r.levels for r in rows[0].repositories}


def test_release_environment_reaches_only_the_dc43_repositories(report):
    assert report.role_of("repo:acme/dc43:environment:release") == ["github-push-dc43"]
    role = report.roles["github-push-dc43"]
    assert report.repositories_of("github-push-dc43", "push") == DC43, "dc43 must push to its own repos only"
    assert [r.repository for r in role.repositories] == DC43, "the dc43 role must not even read other teams' repos"
    assert role.login and not role.create and not role.other


def test_dev_cluster_account_pulls_but_pushes_nothing(report):
    access = account(report, "222222222222")
    assert set(DC43) <= set(access), "the dev cluster must pull the dc43 images"
    assert all("push" not in levels and "delete" not in levels for levels in access.values()), access


def test_org_wide_main_branch_reaches_the_shared_data_repositories(report):
    assert report.role_of("repo:acme/*:ref:refs/heads/main") == ["ecr-shared-data-push"]
    assert report.repositories_of("ecr-shared-data-push", "push") == SHARED
    wide = next(t for t in report.trusts if t.subject == "repo:acme/*:ref:refs/heads/main")
    assert wide.match == "pattern"


def test_org_wide_pattern_overlaps_the_platform_main_branch(report):
    examples = {(o.example, o.role, o.also_role) for o in report.overlaps}
    assert ("repo:acme/idp:ref:refs/heads/main", "github-push-platform", "ecr-shared-data-push") in examples
    assert all("release" not in o.example for o in report.overlaps), "a ref cannot contain ':' on GitHub"


def test_ci_builders_push_only_to_the_shared_data_repositories(report):
    access = account(report, "555555555555")
    assert sorted(a for a, levels in access.items() if "push" in levels) == SHARED


def test_deploy_rights_are_scoped_and_pass_role_is_conditional(report):
    other = {(g.action, g.resource): g.conditions for g in report.roles["github-push-jwt-pizza"].other}
    service = "arn:aws:ecs:us-east-1:111111111111:service/jwt-pizza/jwt-pizza-service"
    assert other[("ecs:UpdateService", service)] == ()
    assert other[("iam:PassRole", "arn:aws:iam::111111111111:role/jwt-pizza-ecs-task")] == (
        "iam:PassedToService StringEquals ecs-tasks.amazonaws.com",
    )


def test_creation_is_limited_to_the_platform_namespace(report):
    assert [g.resource for g in report.roles["github-push-platform"].create] == ["idp/*"]
    github_roles = {t.role for t in report.trusts if t.kind == "github"}
    assert [name for name in sorted(github_roles) if report.roles[name].create] == ["github-push-platform"]
    assert [g.resource for g in report.roles["ecr-platform-dev-repository-creation"].create] == ["idp/*"]


def test_node_role_pulls_every_repository_and_pushes_none(dev, report):
    node = account(report, "111111111111", "arn:aws:iam::111111111111:role/eks-dev-node-group-role")
    assert sorted(node) == sorted(dev.outputs["repositoryArns"])
    assert all(levels == ("pull", "read") for levels in node.values())


# ---------------------------------------------------------------- labels: what a reviewer reads


def labels(holder) -> dict[str, tuple[str, ...]]:
    return {r.repository: r.labels for r in [*holder.repositories, *holder.undeclared]}


def test_a_cache_prefix_grant_is_named_by_its_one_manage_action(report):
    (node,) = [a for a in report.accounts if a.principal.endswith("role/eks-dev-node-group-role")]
    cache = labels(node)["docker-hub/*"]
    assert "manage" in next(r for r in node.undeclared if r.repository == "docker-hub/*").levels
    assert cache == ("pull", "ecr:BatchImportUpstreamImage"), "`manage` would hide that it is one upstream import"


def test_whole_levels_keep_their_names(report):
    assert set(labels(report.roles["github-push-dc43"]).values()) == {("pull", "push")}
    assert set(labels(report.roles["ecr-platform-dev-repository-creation"]).values()) == {("ecr:TagResource",)}


def test_a_service_wide_grant_is_named_by_levels(dev):
    everything = {"Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
    role = build_access_report(mutate(dev, ROLE_POLICY, "dc43-push", policy=everything)).roles["github-push-dc43"]
    assert set(labels(role).values()) == {("pull", "push", "delete", "manage")}


def test_a_partial_push_is_named_by_its_actions(dev):
    policy = {"Statement": [{"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:BatchGetImage",
                                                            "ecr:GetDownloadUrlForLayer"], "Resource": "*"}]}
    role = build_access_report(mutate(dev, ROLE_POLICY, "dc43-push", policy=policy)).roles["github-push-dc43"]
    assert set(labels(role).values()) == {("pull", "ecr:PutImage")}


def test_the_mocks_mark_the_key_id_they_made_up():
    prod = fixtures.run_fixture("prod")
    key_ids = set(re.findall(r"arn:aws:kms:[^:]+:\d{12}:key/([\w-]+)", json.dumps([r.inputs for r in prod.resources])))
    assert key_ids, "prod encrypts with the key behind alias/ecr"
    assert key_ids <= prod.simulated, "its key id exists only in this simulation"
    assert not any(s == "210987654321" or s.startswith("arn:aws:ecr:") for s in prod.simulated), (
        "account ids and repository ARNs come from the config: they are real")


# ---------------------------------------------------------------- mutated documents


def mutate(run: ProgramRun, type_: str, name: str, **inputs) -> list:
    """The run's resources with one resource's inputs changed (JSON documents given as dicts)."""
    changed = []
    for r in run.resources:
        if r.type == type_ and r.name == name:
            new = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in inputs.items()}
            r = dataclasses.replace(r, inputs={**r.inputs, **new}, outputs={**r.outputs, **new})
        changed.append(r)
    return changed


def test_a_service_wide_grant_shows_every_repository(dev):
    everything = {"Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
    report = build_access_report(mutate(dev, ROLE_POLICY, "dc43-push", policy=everything))
    role = report.roles["github-push-dc43"]
    assert len(role.repositories) == len(dev.outputs["repositoryArns"])
    assert all({"push", "delete", "manage"} <= set(r.levels) for r in role.repositories)
    assert [g.resource for g in role.create] == ["*"]


def test_a_policy_with_a_wrong_region_grants_nothing(dev):
    policy = json.loads(dev.named(ROLE_POLICY, "dc43-push").inputs["policy"])
    wrong = json.loads(json.dumps(policy).replace("us-east-1", "us-west-2"))
    report = build_access_report(mutate(dev, ROLE_POLICY, "dc43-push", policy=wrong))
    assert report.roles["github-push-dc43"].repositories == []


def test_a_deny_statement_removes_push(dev):
    policy = json.loads(dev.named(ROLE_POLICY, "dc43-push").inputs["policy"])
    policy["Statement"].append({"Effect": "Deny", "Action": "ecr:PutImage", "Resource": "*"})
    report = build_access_report(mutate(dev, ROLE_POLICY, "dc43-push", policy=policy))
    role = report.roles["github-push-dc43"]
    assert all("ecr:PutImage" not in r.actions for r in role.repositories)


def trust_of(run: ProgramRun, role: str) -> dict:
    return json.loads(run.named(ROLE, role).inputs["assumeRolePolicy"])


def test_a_wildcard_under_string_equals_is_flagged_as_literal(dev):
    trust = trust_of(dev, "dc43")
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    condition["token.actions.githubusercontent.com:sub"] = "repo:acme/*"
    entry = next(
        t
        for t in build_access_report(mutate(dev, ROLE, "dc43", assumeRolePolicy=trust)).trusts
        if t.role == "github-push-dc43"
    )
    assert entry.match == "literal" and "compares literally" in entry.notes[0]


def test_a_trust_without_audience_is_noted(dev):
    trust = trust_of(dev, "dc43")
    del trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"]
    report = build_access_report(mutate(dev, ROLE, "dc43", assumeRolePolicy=trust))
    entry = next(t for t in report.trusts if t.role == "github-push-dc43")
    assert entry.notes == ("audience not pinned to sts.amazonaws.com",)


def test_a_trust_without_subject_is_any_workflow_on_github(dev):
    trust = trust_of(dev, "dc43")
    del trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    report = build_access_report(mutate(dev, ROLE, "dc43", assumeRolePolicy=trust))
    assert report.role_of("*") == ["github-push-dc43"]


def test_an_unknown_trust_condition_makes_the_subject_conditional(dev):
    trust = trust_of(dev, "dc43")
    trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:job_workflow_ref"] = (
        "acme/workflows/.github/workflows/push.yml@refs/heads/main"
    )
    report = build_access_report(mutate(dev, ROLE, "dc43", assumeRolePolicy=trust))
    entry = next(t for t in report.trusts if t.role == "github-push-dc43")
    assert entry.effect == "conditional" and "job_workflow_ref" in entry.conditions[0]


def test_a_public_repository_policy_shows_anyone(dev):
    public = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage"]}]}
    report = build_access_report(
        mutate(dev, "aws:ecr/repositoryPolicy:RepositoryPolicy", "dc43/contracts-app-policy", policy=public)
    )
    anyone = account(report, "*", "*")
    assert anyone == {"dc43/contracts-app": ("pull",)}


def test_the_same_policy_text_is_judged_by_each_repositorys_own_scope(dev):
    """Repositories carrying the same policy are evaluated once (the report's shortcut); a statement that names
    a Resource is evaluated per repository again, and one that names another repository grants nothing here."""
    kind = "aws:ecr/repositoryPolicy:RepositoryPolicy"
    policy = json.loads(dev.named(kind, "dc43/contracts-app-policy").inputs["policy"])
    before = account(build_access_report(dev.resources), "222222222222")
    assert {"dc43/contracts-app", "dc43/http-backend"} <= set(before)
    elsewhere = dict(policy, Statement=[dict(s, Resource="arn:aws:ecr:us-east-1:111111111111:repository/elsewhere")
                                        for s in policy["Statement"]])
    after = account(build_access_report(mutate(dev, kind, "dc43/http-backend-policy", policy=elsewhere)),
                    "222222222222")
    assert "dc43/http-backend" not in after
    assert after["dc43/contracts-app"] == before["dc43/contracts-app"]


def test_repositories_a_role_reaches_alike_share_a_decision_and_others_do_not(dev):
    """The report decides once per distinct way a role's statements match a repository (its shortcut); a
    statement that matches one repository of the namespace and not the other still tells them apart."""
    policy = json.loads(dev.named(ROLE_POLICY, "dc43-push").inputs["policy"])
    push, pull = "ecr:PutImage", "ecr:BatchGetImage"
    policy["Statement"][1]["Action"] = [pull, "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    policy["Statement"].append({"Effect": "Allow", "Action": [push, "ecr:InitiateLayerUpload",
                                "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"],
                                "Resource": "arn:aws:ecr:us-east-1:111111111111:repository/dc43/http-*"})
    role = build_access_report(mutate(dev, ROLE_POLICY, "dc43-push", policy=policy)).roles["github-push-dc43"]
    levels = {r.repository: r.levels for r in role.repositories}
    assert "pull" in levels["dc43/contracts-app"] and "push" not in levels["dc43/contracts-app"]
    assert {"pull", "push"} <= set(levels["dc43/http-backend"])

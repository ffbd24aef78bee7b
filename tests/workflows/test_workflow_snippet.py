"""Product-team workflows: every trigger yields a token the role trusts, and they pass actionlint.

Trust is judged independently of the generator: the trigger and `environment:` of each generated
workflow are turned into the `sub` claims GitHub would issue, and the IAM evaluator decides
whether the role's trust policy (as the program declared it) allows AssumeRoleWithWebIdentity.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from devtools import workflow_snippet
from devtools.workflow_snippet import SnippetError, Subject, Trust, github_filter, plan_for
from engine.program import ProgramRun, run_stack
from review.iam_eval import Effect, Glob, PolicyDocument, Principal, Request, evaluate

from .. import fixtures
from .lint import actionlint, zizmor
from .rules import all_problems, load

STACKS = ("dev", "prod", "local")


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    return {stack: run_stack(stack) for stack in STACKS}


@pytest.fixture(scope="module")
def generated(runs: dict[str, ProgramRun]) -> dict[str, list[workflow_snippet.Snippet]]:
    return {stack: workflow_snippet.snippets(run) for stack, run in runs.items()}


@pytest.fixture(scope="module")
def linted(generated: dict[str, list[workflow_snippet.Snippet]]) -> dict[str, list[workflow_snippet.Snippet]]:
    """The stacks' workflows and those of examples/everything.yaml, whose roles trust pull requests."""
    example = run_stack("dev", config_file=Path(__file__).resolve().parents[2] / "examples" / "everything.yaml")
    found = {**generated, "everything": workflow_snippet.snippets(example)}
    assert any("pull_request:" in s.text for s in found["everything"]), "no pull-request workflow is linted"
    return found


@pytest.fixture(scope="module")
def fixture_runs() -> dict[str, ProgramRun]:
    """The fixture stacks (tests/fixtures): for tests that name a team's repositories."""
    return {stack: fixtures.run_fixture(stack) for stack in ("dev", "prod")}


@pytest.fixture(scope="module")
def fixture_generated(fixture_runs: dict[str, ProgramRun]) -> dict[str, list[workflow_snippet.Snippet]]:
    return {stack: workflow_snippet.snippets(run) for stack, run in fixture_runs.items()}


# --- what GitHub would put in the token ------------------------------------------------------------


def _glob(github_filter_pattern: str) -> str:
    """GitHub filter -> IAM-style glob that matches at least the same refs (`**` and `*` -> `*`)."""
    out, escaped = [], False
    for char in github_filter_pattern:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out).replace("**", "*")


def token_subjects(workflow: Mapping[str, Any], repository: str) -> list[str]:
    """Every `sub` claim (as a pattern when a trigger covers many refs) this workflow's jobs can get."""
    prefix = f"repo:{repository}"
    triggers = workflow["on"]
    subjects: list[str] = []
    for job in workflow["jobs"].values():
        environment = job.get("environment")
        if isinstance(environment, Mapping):
            environment = environment["name"]
        if environment:  # GitHub: the environment replaces the ref in `sub`, whatever the trigger
            subjects.append(f"{prefix}:environment:{environment}")
            continue
        for trigger, spec in triggers.items():
            spec = spec or {}
            if trigger == "push":
                assert not {"branches-ignore", "tags-ignore"} & set(spec), "negative filters: not judged here"
                if "branches" not in spec and "tags" not in spec:
                    subjects += [f"{prefix}:ref:refs/heads/*", f"{prefix}:ref:refs/tags/*"]
                subjects += [f"{prefix}:ref:refs/heads/{_glob(b)}" for b in spec.get("branches", [])]
                subjects += [f"{prefix}:ref:refs/tags/{_glob(t)}" for t in spec.get("tags", [])]
            elif trigger == "pull_request":
                subjects.append(f"{prefix}:pull_request")
            elif trigger == "workflow_dispatch":
                subjects.append(f"{prefix}:ref:*")  # any branch or tag the person picks
            else:
                pytest.fail(f"trigger {trigger}: its subject is not modelled here")
    return subjects


def role_policy(run: ProgramRun, role_arn: str) -> dict[str, Any]:
    name = role_arn.rsplit("/", 1)[-1]
    (role,) = [r for r in run.of_type("aws:iam/role:Role") if r.inputs.get("name") == name]
    policy = role.inputs["assumeRolePolicy"]
    return json.loads(policy) if isinstance(policy, str) else policy


def untrusted(policy: Mapping[str, Any], subjects: list[str], repository_id: str = "") -> list[str]:
    """The subjects for which AssumeRoleWithWebIdentity is not unconditionally allowed (for a token of
    the repository with `repository_id`, the claim every GitHub token carries)."""
    (statement, *_) = policy["Statement"]
    provider = statement["Principal"]["Federated"]
    issuer = provider.split("oidc-provider/", 1)[1]
    document = PolicyDocument.parse(policy)
    refused = []
    for subject in subjects:
        value: str | Glob = Glob(subject) if "*" in subject else subject
        request = Request(
            action="sts:AssumeRoleWithWebIdentity",
            principal=Principal("Federated", provider),
            context={f"{issuer}:sub": [value], f"{issuer}:aud": ["sts.amazonaws.com"],
                     f"{issuer}:repository_id": [repository_id]},
        )
        if evaluate([document], request).effect is not Effect.ALLOW:
            refused.append(subject)
    return refused


# --- the generated workflows -----------------------------------------------------------------------


@pytest.mark.live_stacks
@pytest.mark.parametrize("stack", STACKS)
def test_every_trigger_of_every_workflow_is_trusted_by_its_role(
        stack: str, runs: dict[str, ProgramRun], generated: dict[str, list[workflow_snippet.Snippet]]) -> None:
    variables = runs[stack].outputs["githubActionsVariables"]
    assert {s.repository for s in generated[stack]} == set(variables), "one workflow per GitHub repository"
    for snippet in generated[stack]:
        subjects = token_subjects(load(snippet.text), snippet.repository)
        assert subjects, snippet.repository
        policy = role_policy(runs[stack], variables[snippet.repository]["AWS_ROLE_ARN"])
        ids = re.findall(r"pinned to repository ID (\d+)", snippet.text)
        assert untrusted(policy, subjects, *ids) == [], (
            f"{snippet.repository} ({stack}): these runs would fail at AssumeRoleWithWebIdentity")


def test_a_trigger_the_role_does_not_trust_is_caught(
        fixture_runs: dict[str, ProgramRun], fixture_generated: dict[str, list[workflow_snippet.Snippet]]) -> None:
    # the judge above is not vacuous: a widened trigger and a dropped environment are refused
    runs, generated = fixture_runs, fixture_generated
    by_repo = {s.repository: load(s.text) for s in generated["dev"]}
    variables = runs["dev"].outputs["githubActionsVariables"]

    pizza = by_repo["pizza-labs/jwt-pizza"]
    pizza["on"]["push"]["branches"].append("develop")
    policy = role_policy(runs["dev"], variables["pizza-labs/jwt-pizza"]["AWS_ROLE_ARN"])
    assert untrusted(policy, token_subjects(pizza, "pizza-labs/jwt-pizza")) == [
        "repo:pizza-labs/jwt-pizza:ref:refs/heads/develop"]

    dc43 = by_repo["acme/dc43"]
    del dc43["jobs"]["push"]["environment"]
    policy = role_policy(runs["dev"], variables["acme/dc43"]["AWS_ROLE_ARN"])
    assert "repo:acme/dc43:ref:refs/heads/main" in untrusted(policy, token_subjects(dc43, "acme/dc43"))


def test_environment_scoped_trust_gets_a_job_in_that_environment(
        fixture_generated: dict[str, list[workflow_snippet.Snippet]]) -> None:
    generated = fixture_generated
    for stack in ("dev", "prod"):
        dc43 = next(load(s.text) for s in generated[stack] if s.repository == "acme/dc43")
        assert dc43["jobs"]["push"]["environment"] == "release"
    pizza = next(load(s.text) for s in generated["dev"] if s.repository == "pizza-labs/jwt-pizza")
    assert "environment" not in pizza["jobs"]["push"], "a ref-trusted role refuses environment subjects"
    assert set(pizza["on"]) == {"push"}, "no workflow_dispatch: it could run on an untrusted branch"


def test_the_git_tag_is_pushed_only_where_tags_can_trigger(
        fixture_generated: dict[str, list[workflow_snippet.Snippet]]) -> None:
    generated = fixture_generated
    prod = {s.repository: s.text for s in generated["prod"]}
    assert "GIT_TAG: ${{ github.ref_type == 'tag' && github.ref_name || '' }}" in prod["acme/data-pipelines"]
    assert load(prod["acme/data-pipelines"])["on"]["push"] == {"branches": ["main"], "tags": ["v*"]}
    assert "GIT_TAG" not in prod["pizza-labs/jwt-pizza"]
    dev_chatgpt = next(s.text for s in generated["dev"] if s.repository == "acme/chatgpt-web")
    assert "GIT_TAG" in dev_chatgpt, "anyRef trusts tag pushes too"


@pytest.mark.live_stacks
def test_each_workflow_assumes_its_role_and_pushes_its_repositories(
        runs: dict[str, ProgramRun], generated: dict[str, list[workflow_snippet.Snippet]]) -> None:
    for stack in STACKS:
        variables = runs[stack].outputs["githubActionsVariables"]
        for snippet in generated[stack]:
            workflow = load(snippet.text)
            assert workflow["permissions"] == {}
            job = workflow["jobs"]["push"]
            assert job["permissions"] == {"contents": "read", "id-token": "write"}
            (configure,) = [s for s in job["steps"] if "configure-aws-credentials@" in s.get("uses", "")]
            assert configure["with"] == {"role-to-assume": "${{ vars.AWS_ROLE_ARN }}",
                                         "aws-region": "${{ vars.AWS_REGION }}",
                                         "mask-aws-account-id": True,
                                         "role-session-name": "ecr-push-${{ github.run_id }}-${{ github.run_attempt }}"}
            assert any("amazon-ecr-login@" in s.get("uses", "") for s in job["steps"])
            pushed = [entry["repository"] for entry in job["strategy"]["matrix"]["include"]]
            assert pushed == variables[snippet.repository]["ECR_REPOSITORIES"].split(",")
            assert variables[snippet.repository]["AWS_ROLE_ARN"] in snippet.text, "the header names the role"
            assert re.search(r'docker push "\$IMAGE:\$(COMMIT|tag)"', snippet.text)


def test_runs_of_one_commit_queue_and_runs_of_different_commits_do_not(
        generated: dict[str, list[workflow_snippet.Snippet]]) -> None:
    # a branch push and a tag push of the same commit: the second waits and reuses the first's image
    for found in generated.values():
        for snippet in found:
            assert load(snippet.text)["concurrency"] == {
                "group": "ecr-push-${{ github.sha }}", "cancel-in-progress": False, "queue": "max"}


HEADER_REPOSITORY = re.compile(r"^#   (?P<name>[\w./-]+): (?P<setting>[A-Z_]+) \(", re.MULTILINE)


@pytest.mark.parametrize("stack", STACKS)
def test_the_header_states_each_repositorys_own_tag_mutability(
        stack: str, runs: dict[str, ProgramRun], generated: dict[str, list[workflow_snippet.Snippet]]) -> None:
    declared = {r.inputs["name"]: r.inputs["imageTagMutability"]
                for r in runs[stack].of_type("aws:ecr/repository:Repository")}
    for snippet in generated[stack]:
        stated = {m["name"]: m["setting"] for m in HEADER_REPOSITORY.finditer(snippet.text)}
        pushed = [entry["repository"] for entry in load(snippet.text)["jobs"]["push"]["strategy"]["matrix"]["include"]]
        assert list(stated) == pushed, snippet.repository
        assert stated == {name: declared[name] for name in pushed}, snippet.repository
        assert "(IMMUTABLE: each tag can be pushed once)" not in snippet.text


def test_mutability_descriptions_say_what_a_second_push_does() -> None:
    describe = workflow_snippet.describe_mutability
    assert "always names the same image" in describe("IMMUTABLE")
    assert "moves it" in describe("MUTABLE")
    assert describe("IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-*"]) == (
        "IMMUTABLE_WITH_EXCLUSION (tags never move, except those matching latest, dev-*)")
    assert describe("MUTABLE_WITH_EXCLUSION", ["v*"]) == (
        "MUTABLE_WITH_EXCLUSION (tags move, except those matching v*, which never do)")


def test_a_dev_repository_that_is_mutable_is_said_to_be(
        fixture_generated: dict[str, list[workflow_snippet.Snippet]]) -> None:
    idp = {stack: next(s.text for s in found if s.repository == "acme/idp")
           for stack, found in fixture_generated.items()}
    assert "#   idp/build-cache: MUTABLE (pushing an existing tag moves it to the new image)" in idp["dev"]
    assert "#   idp/build-cache: IMMUTABLE (a tag, once pushed, always names the same image)" in idp["prod"]


def written(tmp_path: Path, generated: dict[str, list[workflow_snippet.Snippet]]) -> Path:
    """Every generated workflow, as files in `tmp_path/.github/workflows`."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for stack, found in generated.items():
        for snippet in found:
            name = snippet.repository.replace("/", "--").replace("*", "all")
            (workflows / f"{stack}--{name}.yml").write_text(snippet.text)
    return workflows


@pytest.mark.parametrize("persona", ["regular", "pedantic", "auditor"])
def test_generated_workflows_pass_zizmor(persona: str, tmp_path: Path,
                                         linted: dict[str, list[workflow_snippet.Snippet]]) -> None:
    workflows = written(tmp_path, linted)
    run = zizmor([workflows], persona, cwd=tmp_path)
    assert len(run.audited) == sum(map(len, linted.values())) >= 14
    assert run.findings == [], "\n".join(map(str, run.findings))


# What the build step does: log in, check for the commit's image, pull it, push layers and tags.
WORKFLOW_ACTIONS = ("ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload", "ecr:PutImage")


@pytest.mark.live_stacks
@pytest.mark.parametrize("stack", STACKS)
def test_the_role_permits_what_the_workflow_does(stack: str, runs: dict[str, ProgramRun]) -> None:
    run = runs[stack]
    for repository, variables in run.outputs["githubActionsVariables"].items():
        role = variables["AWS_ROLE_ARN"].rsplit("/", 1)[-1]
        documents = [PolicyDocument.parse(p.inputs["policy"]) for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
                     if p.inputs.get("role") == role]
        assert evaluate(documents, Request("ecr:GetAuthorizationToken")).effect is Effect.ALLOW
        for name in variables["ECR_REPOSITORIES"].split(","):
            arn = f"arn:aws:ecr:{variables['AWS_REGION']}:{variables['AWS_ROLE_ARN'].split(':')[4]}:repository/{name}"
            refused = [a for a in WORKFLOW_ACTIONS if evaluate(documents, Request(a, arn)).effect is not Effect.ALLOW]
            assert refused == [], f"{repository} -> {name}: the workflow's step would be denied {refused}"
            assert evaluate(documents, Request("ecr:DeleteRepository", arn)).effect is Effect.NONE


def test_generated_workflows_follow_the_platform_rules(linted: dict[str, list[workflow_snippet.Snippet]]) -> None:
    # pinned actions, no workflow-wide grants, id-token only beside configure-aws-credentials,
    # timeouts, checkout without persisted credentials
    for stack, found in linted.items():
        for snippet in found:
            assert all_problems(snippet.text) == [], f"{stack} {snippet.repository}"


def test_generated_workflows_pass_actionlint(tmp_path: Path,
                                             linted: dict[str, list[workflow_snippet.Snippet]]) -> None:
    workflows = written(tmp_path, linted)
    findings = actionlint(sorted(workflows.iterdir()), cwd=tmp_path)
    assert not findings, "\n".join(map(str, findings))


# --- trust to triggers, unit by unit ---------------------------------------------------------------


def test_github_filters_match_no_more_than_the_iam_subject() -> None:
    assert github_filter(Subject("main", pattern=False)) == "main"
    assert github_filter(Subject("release/*", pattern=True)) == "release/*"
    assert github_filter(Subject("feat+x", pattern=False)) == "feat\\+x", "`+` is a filter operator"
    assert github_filter(Subject("v[1]*", pattern=True)) == "v\\[1\\]*"
    assert github_filter(Subject("v*", pattern=False)) == "v\\*", "StringEquals: `*` is a literal"
    assert github_filter(Subject("v?", pattern=True)) is None, "IAM `?` is one character; GitHub has none"


def trust(**kwargs: Any) -> Trust:
    return Trust("acme/app", "github-push-app", (Subject("repo:acme/app:...", False),), **kwargs)


def test_any_ref_trust_runs_on_every_push_and_by_hand() -> None:
    plan = plan_for(trust(any_ref=True))
    assert (plan.environment, plan.branches, plan.tags, plan.all_refs, plan.dispatch) == (None, (), (), True, True)
    assert plan.runs_on_tags


def test_a_pattern_github_cannot_express_is_left_out_and_said() -> None:
    plan = plan_for(trust(branches=(Subject("main", False), Subject("v?", True))))
    assert plan.branches == ("main",)
    assert any("'v?'" in note for note in plan.notes)


def test_a_role_no_trigger_can_reach_is_an_error() -> None:
    with pytest.raises(SnippetError, match="trusts no subject a workflow trigger can produce"):
        plan_for(trust(branches=(Subject("r?", True),)))


def test_trust_is_read_from_the_policy_subjects_of_that_repository() -> None:
    github = {"Federated": "arn:aws:iam::123456789012:oidc-provider/t"}
    policy = {"Statement": [
        {"Effect": "Allow", "Principal": github, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {
            "StringEquals": {"t:aud": "sts.amazonaws.com", "t:sub": ["repo:acme/app:ref:refs/heads/main",
                                                                     "repo:acme/other:environment:prod"]},
            "StringLike": {"t:sub": "repo:acme/app:ref:refs/tags/v*"}}},
        {"Effect": "Deny", "Principal": github, "Action": "sts:AssumeRoleWithWebIdentity",
         "Condition": {"StringEquals": {"t:sub": "repo:acme/app:pull_request"}}},
    ]}
    found = workflow_snippet.trust_for("acme/app", "r", workflow_snippet.trusted_subjects(policy))
    assert found.branches == (Subject("main", False),)
    assert found.tags == (Subject("v*", True),)
    assert found.environments == () and not found.pull_requests, "another repository's and denied subjects"


# --- the command -----------------------------------------------------------------------------------


def test_cli_writes_one_file_per_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert workflow_snippet.main(["--stack", "dev", "--config-file", str(fixtures.stack_file("dev")),
                                  "--out-dir", str(tmp_path)]) == 0
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.yml"))
    assert written == ["acme/@every-repository.yml", "acme/chatgpt-web.yml", "acme/dc43.yml", "acme/idp.yml",
                       "pizza-labs/jwt-pizza-service.yml", "pizza-labs/jwt-pizza.yml"]
    assert "acme/dc43:" in capsys.readouterr().out


def test_cli_falls_back_to_the_owner_wide_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert workflow_snippet.main(["--stack", "dev", "--config-file", str(fixtures.stack_file("dev")),
                                  "--repository", "acme/new-service"]) == 0
    out = capsys.readouterr().out
    assert "for every repository of acme" in out and "role/ecr-shared-data-push" in out


def test_cli_refuses_an_unknown_repository(capsys: pytest.CaptureFixture[str]) -> None:
    assert workflow_snippet.main(["--stack", "dev", "--repository", "elsewhere/app"]) == 2
    assert "elsewhere/app: no team lists this GitHub repository" in capsys.readouterr().err


# --- the pins Dependabot moves ----------------------------------------------------------------------


def test_a_dependabot_bump_of_the_pins_file_moves_every_generated_workflow(
        tmp_path: Path, runs: dict[str, ProgramRun], generated: dict[str, list[workflow_snippet.Snippet]]) -> None:
    # What a Dependabot pull request does to the pins file: a new SHA and its release comment.
    before = workflow_snippet.read_pins()
    bumped = tmp_path / "action.yml"
    text = workflow_snippet.PINS_FILE.read_text()
    for action, new_sha in ((workflow_snippet.AMAZON_ECR_LOGIN, "a" * 40), (workflow_snippet.CHECKOUT, "b" * 40)):
        old = before[action]
        text = text.replace(f"{action}@{old.sha} # {old.version}", f"{action}@{new_sha} # v99.0.0")
    bumped.write_text(text)
    pins = workflow_snippet.read_pins(bumped)
    assert str(pins[workflow_snippet.AMAZON_ECR_LOGIN]) == f"{workflow_snippet.AMAZON_ECR_LOGIN}@{'a' * 40} # v99.0.0"
    for stack, run in runs.items():
        moved = {s.repository: s.text for s in workflow_snippet.snippets(run, pins=pins)}
        for snippet in generated[stack]:
            assert moved[snippet.repository] != snippet.text, f"{stack} {snippet.repository} did not move"
            for action in (workflow_snippet.AMAZON_ECR_LOGIN, workflow_snippet.CHECKOUT):
                assert f"uses: {pins[action]}" in moved[snippet.repository]
                assert str(before[action]) not in moved[snippet.repository]


def test_the_generated_workflows_use_exactly_the_pinned_actions(
        generated: dict[str, list[workflow_snippet.Snippet]]) -> None:
    pins = {str(p) for p in workflow_snippet.read_pins().values()}
    for found in generated.values():
        for snippet in found:
            used = {line.split("uses:", 1)[1].strip() for line in snippet.text.splitlines() if "uses:" in line}
            assert used == pins, snippet.repository


def test_a_pin_without_its_release_comment_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "action.yml"
    pins = workflow_snippet.PINS_FILE.read_text()
    broken.write_text(re.sub(r"(amazon-ecr-login@[0-9a-f]{40}) # v[\d.]+", r"\1", pins))
    with pytest.raises(SnippetError, match=r"'aws-actions/amazon-ecr-login@[0-9a-f]{40}' is not pinned as"):
        workflow_snippet.read_pins(broken)
    missing = tmp_path / "missing.yml"
    missing.write_text(re.sub(r".*amazon-ecr-login@.*\n", "", workflow_snippet.PINS_FILE.read_text()))
    with pytest.raises(SnippetError, match="no pin for aws-actions/amazon-ecr-login"):
        workflow_snippet.read_pins(missing)


# --- trust levels kept apart ------------------------------------------------------------------------


def test_subjects_of_unreviewed_code_are_told_apart_from_release_refs() -> None:
    unreviewed = workflow_snippet.unreviewed
    for value, pattern in (("repo:a/b:pull_request", False), ("repo:a/b:*", True), ("repo:a/*:*", True),
                           ("repo:a/b:ref:refs/heads/*", True), ("repo:a/b:environment:*", True),
                           ("repo:a/b:pull_*", True)):
        assert unreviewed(Subject(value, pattern)), value
    for value, pattern in (("repo:a/b:ref:refs/heads/main", False), ("repo:a/b:ref:refs/tags/v*", True),
                           ("repo:a/b:environment:release", False), ("repo:a/b:ref:refs/heads/release/*", True),
                           ("repo:a/b:*", False)):
        assert not unreviewed(Subject(value, pattern)), value


def test_images_are_reused_only_where_no_unreviewed_code_can_push(
        generated: dict[str, list[workflow_snippet.Snippet]]) -> None:
    def build(text: str) -> str:
        (step,) = [s for s in load(text)["jobs"]["push"]["steps"] if s.get("name") == "Build and push"]
        return str(step["run"])

    dev = {s.repository: s.text for s in generated["dev"]}
    # chatgpt-web's role trusts every ref: whatever is in ECR may come from any branch
    assert "describe-images" not in build(dev["acme/chatgpt-web"])
    assert "repo:acme/chatgpt-web:*" in dev["acme/chatgpt-web"].split("\nname:", 1)[0]
    assert "never takes an image already in ECR" in dev["acme/chatgpt-web"]
    # jwt-pizza's role trusts main of two repositories only
    assert "describe-images" in build(dev["pizza-labs/jwt-pizza"])
    assert "never takes an image" not in dev["pizza-labs/jwt-pizza"]


def test_a_repository_another_roles_unreviewed_subjects_can_push_to_is_not_reused(
        runs: dict[str, ProgramRun]) -> None:
    # the writers are read from what every role may do, not from the workflow's own role
    writers = workflow_snippet.unreviewed_writers(runs["dev"])
    assert writers.get("chatgpt-web") == {"repo:acme/chatgpt-web:*"}
    assert "service" not in writers and "jwt-pizza/service" not in writers
    trust = Trust("acme/app", "r", (Subject("repo:acme/app:ref:refs/heads/main", False),),
                  branches=(Subject("main", False),), unreviewed_writers=("repo:acme/other:pull_request",))
    plan = plan_for(trust)
    assert not plan.reuse and any("repo:acme/other:pull_request" in note for note in plan.notes)
    assert plan_for(dataclasses.replace(trust, unreviewed_writers=())).reuse

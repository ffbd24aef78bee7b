"""The generated workflow's push job, run as GitHub runs it.

First its build step (bash -eo pipefail) with the real AWS CLI against the ECR API of a moto server
on 127.0.0.1. Docker is not on CI machines: a stand-in `docker` on PATH records its calls, and its
`push` uploads a manifest for the tag through the same AWS CLI, as a registry push ends. Everything
the script decides (build or reuse, tag or refuse, fail on an error that is not "not found") is
decided against the emulator's answers.

Then the whole workflow, job by job and step by step (runner.py), against stubbed `aws` and
`docker` that answer exactly what ECR answers where moto differs: a clean tag push, an unreadable
digest, an access denial on an existing tag, a fork pull request."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools import workflow_snippet
from devtools.emulator import MotoServer, aws_environment, free_port
from devtools.workflow_snippet import Subject, plan_for, render

from . import runner
from .lint import tool

pytestmark = pytest.mark.emulator

REGION = "us-east-1"
ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SHA1, SHA2 = "1" * 40, "2" * 40

FAKE_DOCKER = """\
#!/usr/bin/env bash
set -euo pipefail
echo "$*" >> "$DOCKER_LOG"
if [[ "$1" == push ]]; then
  path=${2#*/}
  # one layer per build: moto derives an image's digest from its layers' digests
  layer=$(printf '%s' "$BUILD_ID" | sha256sum | cut -d' ' -f1)
  manifest='{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
  manifest+='"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":"sha256:'$layer'"},'
  manifest+='"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":7,"digest":"sha256:'$layer'"}]}'
  aws ecr put-image --repository-name "${path%:*}" --image-tag "${path##*:}" --image-manifest "$manifest" > /dev/null
fi
"""


def workflow(*subjects: str, mutability: str = "IMMUTABLE", unreviewed_writers: tuple[str, ...] = ()) -> str:
    """The generated workflow of acme/app for a role trusting `subjects` (`ref:refs/tags/v*`, ...)."""
    parsed = tuple(Subject(f"repo:acme/app:{s}", pattern="*" in s) for s in subjects)
    trust = workflow_snippet.trust_for("acme/app", "github-push-app", parsed)
    trust = dataclasses.replace(trust, unreviewed_writers=unreviewed_writers)
    variables = {"AWS_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/github-push-app", "AWS_REGION": REGION}
    return render(trust, plan_for(trust), variables, {"app/api": mutability}, "dev")


def build_step(runs_on_tags: bool) -> str:
    """The `run` script of the generated workflow's build step (a role trusting main, and `v*` tags)."""
    text = workflow("ref:refs/heads/main", *(["ref:refs/tags/v*"] if runs_on_tags else []))
    (step,) = [s for s in yaml.safe_load(text)["jobs"]["push"]["steps"] if s.get("name") == "Build and push"]
    assert step["shell"] == "bash"
    assert ("GIT_TAG" in step["env"]) is runs_on_tags
    return str(step["run"])


@dataclass
class Result:
    code: int
    output: str
    docker: list[str]


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    with MotoServer(region=REGION) as running:
        yield running


@pytest.fixture
def repository(server: MotoServer, request: pytest.FixtureRequest) -> Iterator[str]:
    mutability = getattr(request, "param", "IMMUTABLE")
    name = f"app/api-{mutability.lower()}"
    server.client("ecr").create_repository(repositoryName=name, imageTagMutability=mutability)
    yield name
    server.client("ecr").delete_repository(repositoryName=name, force=True)


def push(tmp_path: Path, server: MotoServer | None, repository: str, sha: str, git_tag: str = "",
         endpoint: str | None = None) -> Result:
    """One run of the build step for commit `sha` (and `git_tag`, for a tag push)."""
    bin_dir = tmp_path / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir()
        (bin_dir / "docker").write_text(FAKE_DOCKER)
        (bin_dir / "docker").chmod(0o755)
    log = tmp_path / "docker.log"
    log.unlink(missing_ok=True)
    script = tmp_path / "step.sh"
    script.write_text(build_step(runs_on_tags=True))
    env = aws_environment(endpoint or (server.endpoint_url if server else None), region=REGION)
    aws_dir = str(Path(tool("aws")).parent)
    env.update(PATH=os.pathsep.join([str(bin_dir), aws_dir, env["PATH"]]), AWS_MAX_ATTEMPTS="1",
               RUNNER_TEMP=str(tmp_path), DOCKER_LOG=str(log), BUILD_ID=sha, COMMIT=sha,
               REPOSITORY=repository, IMAGE=f"{REGISTRY}/{repository}", CONTEXT=".", GIT_TAG=git_tag)
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run([bash, "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    docker = log.read_text().splitlines() if log.exists() else []
    return Result(result.returncode, result.stdout + result.stderr, docker)


def digest(server: MotoServer, repository: str, tag: str) -> str | None:
    try:
        images = server.client("ecr").describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except server.client("ecr").exceptions.ImageNotFoundException:
        return None
    return str(images["imageDetails"][0]["imageDigest"])


def pushed(server: MotoServer, repository: str, sha: str, *tags: str) -> str:
    """An image of commit `sha` already in the repository (what an earlier run left), tagged with
    the SHA and `tags`; its digest. Made with boto3: only the run under test goes through the CLI."""
    layer = hashlib.sha256(sha.encode()).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
                   "digest": f"sha256:{layer}"},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 7,
                    "digest": f"sha256:{layer}"}]}, separators=(",", ":"))
    for tag in (sha, *tags):
        server.client("ecr").put_image(repositoryName=repository, imageTag=tag, imageManifest=manifest)
    found = digest(server, repository, sha)
    assert found is not None
    return found


def test_a_commit_is_built_once_and_a_rerun_reuses_it(tmp_path: Path, server: MotoServer, repository: str) -> None:
    first = push(tmp_path, server, repository, SHA1)
    assert first.code == 0, first.output
    assert first.docker == [f"build --tag {REGISTRY}/{repository}:{SHA1} .", f"push {REGISTRY}/{repository}:{SHA1}"]
    built = digest(server, repository, SHA1)
    assert built is not None
    again = push(tmp_path, server, repository, SHA1)
    assert again.code == 0, again.output
    assert again.docker == [] and f"{SHA1} exists ({built}): not rebuilt" in again.output


def test_a_tag_push_tags_the_commit_image_and_a_rerun_succeeds(tmp_path: Path, server: MotoServer,
                                                              repository: str) -> None:
    built = pushed(server, repository, SHA1)
    tagged = push(tmp_path, server, repository, SHA1, git_tag="v1.0.0")
    assert tagged.code == 0, tagged.output
    assert tagged.docker == [], "the release image is the branch build's, not a rebuild"
    assert digest(server, repository, "v1.0.0") == built
    # re-running the tag workflow on an IMMUTABLE repository: the tag already names this image
    rerun = push(tmp_path, server, repository, SHA1, git_tag="v1.0.0")
    assert rerun.code == 0, rerun.output
    assert "v1.0.0 already names this commit's image: nothing to do" in rerun.output


def test_an_immutable_tag_naming_another_image_fails_with_awss_message(tmp_path: Path, server: MotoServer,
                                                                       repository: str) -> None:
    released = pushed(server, repository, SHA1, "v1.0.0")
    pushed(server, repository, SHA2)
    other = push(tmp_path, server, repository, SHA2, git_tag="v1.0.0")
    assert other.code == 1
    # moto refuses with ImageAlreadyExistsException where ECR says ImageTagAlreadyExistsException
    # (the stubbed runs below answer as ECR does): either way AWS's own message is shown
    assert "::error::tagging" in other.output and "already exists in the repository" in other.output
    assert digest(server, repository, "v1.0.0") == released


@pytest.mark.parametrize("repository", ["MUTABLE"], indirect=True)
def test_a_mutable_repository_moves_the_tag(tmp_path: Path, server: MotoServer, repository: str) -> None:
    old = pushed(server, repository, SHA1, "v1.0.0")
    new = pushed(server, repository, SHA2)
    moved = push(tmp_path, server, repository, SHA2, git_tag="v1.0.0")
    assert moved.code == 0, moved.output
    assert f"::warning::{REGISTRY}/{repository}:v1.0.0 moved from {old} to this commit's image {new}" in moved.output
    assert digest(server, repository, "v1.0.0") == new


def test_an_error_that_is_not_not_found_stops_before_any_build(tmp_path: Path) -> None:
    # Nothing listens on this port: the lookup fails with an error that is not "no such image",
    # which must stop the job instead of reading as "not found, build it".
    failed = push(tmp_path, None, "app/api", SHA1, endpoint=f"http://127.0.0.1:{free_port()}")
    assert failed.code != 0
    assert failed.docker == []
    assert f"cannot tell whether app/api:{SHA1} exists" in failed.output


def test_a_missing_repository_counts_as_not_found(tmp_path: Path, server: MotoServer) -> None:
    # (where CI may create repositories, the first push creates it from the creation template)
    result = push(tmp_path, server, "app/not-created-yet", SHA1)
    assert result.docker[:1] == [f"build --tag {REGISTRY}/app/not-created-yet:{SHA1} ."]


def test_branch_only_workflows_carry_no_tag_step() -> None:
    script = build_step(runs_on_tags=False)
    assert "GIT_TAG" not in script and "put-image" not in script


# --- the whole generated job, step by step, against stubbed `aws` and `docker` ----------------------
# The runner (runner.py) evaluates each job's and step's `if:` and `${{ }}` as GitHub would and runs
# every `run:` script with bash; `aws` and `docker` are stubs that record each call and answer what
# ECR would (the exact error codes of the ECR API reference, which moto does not always use).

MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
DIGEST1, DIGEST2 = "sha256:" + "a" * 64, "sha256:" + "b" * 64
MANIFEST = '{"schemaVersion":2,"mediaType":"' + MEDIA_TYPE + '"}'
HEAD, MERGE = "3" * 40, "4" * 40


def not_found(tag: str) -> dict[str, Any]:
    return {"when": ["describe-images", f"imageTag={tag}"], "code": 254,
            "stderr": f"\nAn error occurred (ImageNotFoundException) when calling the DescribeImages operation: The "
                      f"image with imageId {{imageDigest:'null', imageTag:'{tag}'}} does not exist within the "
                      f"repository with name 'app/api' in the registry with id '{ACCOUNT}'\n"}


def found(tag: str, digest: str) -> dict[str, Any]:
    return {"when": ["describe-images", f"imageTag={tag}"], "stdout": f"{digest}\t{MEDIA_TYPE}\n"}


def refused(code: str, message: str) -> dict[str, Any]:
    return {"when": ["put-image"], "code": 254,
            "stderr": f"\nAn error occurred ({code}) when calling the PutImage operation: {message}\n"}


MANIFEST_OF_1 = {"when": ["batch-get-image", f"imageDigest={DIGEST1}"], "stdout": MANIFEST + "\n"}


def github(event: str = "push", ref: str = "refs/heads/main", sha: str = SHA1,
           head_repository: str = "acme/app") -> dict[str, Any]:
    """The `github` and `vars` contexts of a run of acme/app."""
    context: dict[str, Any] = {
        "event_name": event, "sha": sha, "ref": ref, "ref_name": ref.split("/", 2)[-1],
        "ref_type": "tag" if ref.startswith("refs/tags/") else "branch", "repository": "acme/app",
        "run_id": "7", "run_attempt": "1", "event": {}}
    if event == "pull_request":
        head = {"sha": HEAD, "repo": {"full_name": head_repository}}
        context["event"] = {"pull_request": {"number": 1, "head": head}}
    return {"github": context,
            "vars": {"AWS_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/github-push-app", "AWS_REGION": REGION}}


@dataclass
class Run:
    jobs: dict[str, list[runner.JobRun]]
    calls: list[list[str]]

    def job(self, name: str) -> runner.JobRun:
        (only,) = self.jobs[name]
        return only

    def of(self, program: str, *words: str) -> list[list[str]]:
        return [c[1:] for c in self.calls if c[0] == program and all(w in c for w in words)]


def run_workflow(tmp_path: Path, text: str, context: dict[str, Any], *aws: dict[str, Any]) -> Run:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("aws", "docker"):
        runner.stub(bin_dir, name, sys.executable)
    (tmp_path / "answers.json").write_text(json.dumps({"aws": list(aws)}))
    env = {"PATH": os.pathsep.join([str(bin_dir), os.environ["PATH"]]), "RUNNER_TEMP": str(tmp_path),
           "STUB_LOG": str(tmp_path / "calls.jsonl"), "STUB_SCRIPT": str(tmp_path / "answers.json")}
    checkouts: list[dict[str, str]] = []

    def checkout(inputs: dict[str, str], _: Any) -> dict[str, str]:
        checkouts.append(inputs)
        return {}

    actions: dict[str, runner.Action] = {
        "actions/checkout": checkout,
        "aws-actions/configure-aws-credentials": lambda inputs, _: {},
        "aws-actions/amazon-ecr-login": lambda inputs, _: {"registry": REGISTRY},
    }
    workflow = yaml.safe_load(text)
    jobs = {name: list(runner.run_job(name, job, context, actions, tmp_path, env))
            for name, job in workflow["jobs"].items()}
    log = tmp_path / "calls.jsonl"
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    calls += [["checkout", *(f"{k}={v}" for k, v in c.items())] for c in checkouts]
    return Run(jobs, calls)


RELEASES = ("ref:refs/heads/main", "ref:refs/tags/v*")


def test_a_clean_tag_push_tags_the_commits_image(tmp_path: Path) -> None:
    run = run_workflow(tmp_path, workflow(*RELEASES), github(ref="refs/tags/v1.0.0"),
                       found(SHA1, DIGEST1), not_found("v1.0.0"), MANIFEST_OF_1)
    push_job = run.job("push")
    assert push_job.succeeded, push_job.output
    assert run.of("aws", "put-image") == [["ecr", "put-image", "--repository-name", "app/api", "--image-tag", "v1.0.0",
                                           "--image-manifest", MANIFEST, "--image-manifest-media-type", MEDIA_TYPE]]
    assert run.of("docker") == [], "the release is the branch build's image, not a rebuild"
    assert f"::notice::{REGISTRY}/app/api:v1.0.0 -> {DIGEST1}" in push_job.output


@pytest.mark.parametrize("answer", [
    {"when": ["describe-images", f"imageTag={SHA1}"], "stdout": "None\tNone\n"},  # an image ECR lists without one
    not_found(SHA1),  # just pushed, and still not found
], ids=["no-digest", "not-found-after-push"])
def test_an_unreadable_digest_fails_and_tags_nothing(tmp_path: Path, answer: dict[str, Any]) -> None:
    run = run_workflow(tmp_path, workflow(*RELEASES), github(ref="refs/tags/v1.0.0"), answer, not_found("v1.0.0"))
    push_job = run.job("push")
    assert not push_job.succeeded
    assert f"::error::cannot read the digest of {REGISTRY}/app/api:{SHA1}" in push_job.output
    assert run.of("aws", "put-image") == [] and run.of("aws", "batch-get-image") == []


def test_access_denied_on_an_existing_tag_shows_awss_message(tmp_path: Path) -> None:
    denied = (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/github-push-app/ecr-push-7-1 is not authorized to perform: "
              "ecr:PutImage because no identity-based policy allows the ecr:PutImage action")
    run = run_workflow(tmp_path, workflow(*RELEASES), github(ref="refs/tags/v1.0.0"),
                       found(SHA1, DIGEST1), found("v1.0.0", DIGEST2), MANIFEST_OF_1,
                       refused("AccessDeniedException", denied))
    push_job = run.job("push")
    assert not push_job.succeeded
    assert f"::error::tagging {REGISTRY}/app/api:v1.0.0 failed:" in push_job.output and denied in push_job.output
    assert "does not move tags" not in push_job.output, "an access denial is not immutability"


def test_only_an_existing_immutable_tag_is_blamed_on_immutability(tmp_path: Path) -> None:
    run = run_workflow(tmp_path, workflow(*RELEASES), github(ref="refs/tags/v1.0.0"),
                       found(SHA1, DIGEST1), found("v1.0.0", DIGEST2), MANIFEST_OF_1,
                       refused("ImageTagAlreadyExistsException", "The image tag 'v1.0.0' already exists in the "
                               "'app/api' repository and cannot be overwritten because the repository is immutable."))
    push_job = run.job("push")
    assert not push_job.succeeded
    assert (f"{REGISTRY}/app/api:v1.0.0 already names another image ({DIGEST2}) and this repository does not move "
            "tags: release this commit under a new tag") in push_job.output


def test_a_fork_pull_request_skips_with_a_notice(tmp_path: Path) -> None:
    run = run_workflow(tmp_path, workflow("pull_request", "ref:refs/heads/main"),
                       github("pull_request", "refs/pull/1/merge", MERGE, head_repository="someone/app"))
    assert not run.job("push").ran, "a fork's run gets no OIDC token: the push job must not start"
    fork = run.job("fork")
    assert fork.succeeded and "::notice::pull request from the fork someone/app" in fork.output
    assert run.calls == []


def test_a_pull_request_image_is_its_head_commit_built_afresh(tmp_path: Path) -> None:
    run = run_workflow(tmp_path, workflow("pull_request", "ref:refs/heads/main"),
                       github("pull_request", "refs/pull/1/merge", MERGE), found(HEAD, DIGEST1))
    assert not run.job("fork").ran
    push_job = run.job("push")
    assert push_job.succeeded, push_job.output
    assert ["persist-credentials=False", f"ref={HEAD}"] in run.of("checkout"), "build what the tag names"
    assert run.of("docker") == [["build", "--tag", f"{REGISTRY}/app/api:{HEAD}", "."],
                                ["push", f"{REGISTRY}/app/api:{HEAD}"]]
    assert run.of("aws") == [], "an image pull requests can push is never reused"


def test_where_unreviewed_code_can_push_a_release_builds_its_own_image(tmp_path: Path) -> None:
    # anyRef: any branch's run could have pushed this commit's SHA (or the tag) first
    run = run_workflow(tmp_path, workflow("*"), github(ref="refs/tags/v1.0.0"), found(SHA1, DIGEST1))
    push_job = run.job("push")
    assert push_job.succeeded, push_job.output
    assert run.of("docker") == [["build", "--tag", f"{REGISTRY}/app/api:v1.0.0", "."],
                                ["push", f"{REGISTRY}/app/api:v1.0.0"]]
    assert run.of("aws") == []


def test_missing_variables_stop_the_job_before_any_credentials(tmp_path: Path) -> None:
    context = github()
    context["vars"] = {"AWS_REGION": REGION}
    run = run_workflow(tmp_path, workflow(*RELEASES), context)
    push_job = run.job("push")
    assert not push_job.succeeded and "Set the Actions variables AWS_ROLE_ARN and AWS_REGION" in push_job.output
    assert [s.name for s in push_job.steps] == ["Check the variables"] and run.calls == []


def test_the_runner_reads_expressions_as_github_does() -> None:
    context = {"github": {"ref_type": "tag", "ref_name": "v1", "event": {}}, "vars": {"A": ""}}
    assert runner.evaluate("github.ref_type == 'TAG' && github.ref_name || ''", context) == "v1"
    assert runner.evaluate("github.event.pull_request.head.sha || 'x'", context) == "x"
    assert runner.condition("vars.A == '' || vars.B == ''", context) is True
    assert runner.condition("github.event.pull_request.head.repo.full_name == 'a/b'", context) is False
    with pytest.raises(ValueError, match="not supported"):
        runner.evaluate("success()", context)

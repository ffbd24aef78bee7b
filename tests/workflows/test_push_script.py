"""The generated workflow's build step, run as GitHub runs it (bash -eo pipefail), with the real
AWS CLI against the ECR API of a moto server on 127.0.0.1.

Docker is not on CI machines: a stand-in `docker` on PATH records its calls, and its `push`
uploads a manifest for the tag through the same AWS CLI, as a registry push ends. Everything the
script decides (build or reuse, tag or refuse, fail on an error that is not "not found") is
decided against the emulator's answers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from devtools.emulator import MotoServer, aws_environment, free_port
from devtools import workflow_snippet
from devtools.workflow_snippet import Subject, plan_for, render

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

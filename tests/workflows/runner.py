"""Run a workflow's jobs on this machine, step by step, as a GitHub runner would: job and step `if:`
conditions and every `${{ }}` evaluated against a given context, each `run:` script executed with
bash (`bash --noprofile --norc -eo pipefail`, GitHub's `shell: bash`), `GITHUB_OUTPUT` read back
into `steps.<id>.outputs`, and the first failing step failing the job. `uses:` steps are not run:
a stand-in per action sets the outputs the real one would (amazon-ecr-login: `registry`).

The expression language is GitHub's, as far as workflows here use it: literals, context paths,
`!`, `==`, `!=` (strings compared case-insensitively), `&&` and `||` (returning an operand), and
parentheses. Anything else raises, so a template change this runner does not understand fails
loudly instead of being misread.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<number>\d+(?:\.\d+)?)"
                    r"|(?P<path>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*))")


def _tokens(expression: str) -> list[tuple[str, str]]:
    found, position = [], 0
    expression = expression.strip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read the expression {expression!r} at {expression[position:]!r}")
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if type(left) is type(right):
        return bool(left == right)

    def number(value: Any) -> float:  # GitHub's coercion for operands of different types
        if value in (None, False, ""):
            return 0.0
        if value is True:
            return 1.0
        try:
            return float(value)
        except (TypeError, ValueError):
            return float("nan")

    return number(left) == number(right)


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """The value of a GitHub Actions expression (without `${{ }}`)."""
    tokens = _tokens(expression)
    position = 0

    def peek() -> tuple[str, str] | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def primary() -> Any:
        kind, text = take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        if kind == "op" and text == "(":
            value = either()
            if take() != ("op", ")"):
                raise ValueError(f"unbalanced parentheses in {expression!r}")
            return value
        if kind == "op" and text == "!":
            return not _truthy(primary())
        if kind == "path":
            if text in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[text]
            if peek() == ("op", "("):
                raise ValueError(f"function {text}() is not supported by this runner")
            found: Any = context
            for part in text.split("."):
                found = found.get(part) if isinstance(found, Mapping) else None
            return found
        raise ValueError(f"unexpected {text!r} in {expression!r}")

    def comparison() -> Any:
        left = primary()
        while peek() in (("op", "=="), ("op", "!=")):
            operator = take()[1]
            right = primary()
            left = _equal(left, right) if operator == "==" else not _equal(left, right)
        return left

    def both() -> Any:
        left = comparison()
        while peek() == ("op", "&&"):
            take()
            right = comparison()
            left = right if _truthy(left) else left
        return left

    def either() -> Any:
        left = both()
        while peek() == ("op", "||"):
            take()
            right = both()
            left = left if _truthy(left) else right
        return left

    value = either()
    if position != len(tokens):
        raise ValueError(f"cannot read the rest of {expression!r}: {tokens[position:]}")
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def interpolate(text: str, context: Mapping[str, Any]) -> str:
    """`text` with every `${{ expression }}` replaced by its value."""
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _text(evaluate(m.group(1), context)), text)


def condition(expression: Any, context: Mapping[str, Any]) -> bool:
    """A job's or step's `if:` (absent: true; `${{ }}` around it is optional)."""
    if expression is None:
        return True
    if isinstance(expression, bool):
        return expression
    text = str(expression).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    return _truthy(evaluate(text, context))


# A stand-in for a `uses:` step: given its evaluated `with:` and the context, the outputs it sets.
Action = Callable[[dict[str, str], Mapping[str, Any]], dict[str, str]]


@dataclass
class StepRun:
    name: str
    ran: bool
    code: int = 0
    output: str = ""
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobRun:
    name: str
    ran: bool
    steps: list[StepRun] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return all(s.code == 0 for s in self.steps)

    @property
    def output(self) -> str:
        return "".join(s.output for s in self.steps)


def run_job(job_id: str, job: Mapping[str, Any], context: Mapping[str, Any], actions: Mapping[str, Action],
            workdir: Path, env: Mapping[str, str]) -> Iterator[JobRun]:
    """One JobRun per matrix entry (`include` only) of the job, each run in `workdir` with `env`."""
    entries = ((job.get("strategy") or {}).get("matrix") or {}).get("include") or [{}]
    for entry in entries:
        scope = {**context, "matrix": entry, "steps": {}}
        name = interpolate(str(job.get("name", job_id)), scope)
        if not condition(job.get("if"), scope):
            yield JobRun(name, ran=False)
            continue
        yield JobRun(name, True, list(_steps(job.get("steps") or [], scope, actions, workdir, env)))


def _steps(steps: list[Mapping[str, Any]], scope: dict[str, Any], actions: Mapping[str, Action], workdir: Path,
           env: Mapping[str, str]) -> Iterator[StepRun]:
    bash = shutil.which("bash")
    assert bash is not None
    for index, step in enumerate(steps):
        name = str(step.get("name") or step.get("uses") or f"step {index}")
        if not condition(step.get("if"), scope):
            yield StepRun(name, ran=False)
            continue
        outputs: dict[str, str] = {}
        if "uses" in step:
            inputs = {k: interpolate(str(v), scope) for k, v in (step.get("with") or {}).items()}
            action = str(step["uses"]).split("@", 1)[0]
            if action not in actions:
                raise KeyError(f"no stand-in for the action {action}")
            outputs = actions[action](inputs, scope)
            result = StepRun(name, True, inputs=inputs)
        else:
            assert step.get("shell", "bash") == "bash", f"{name}: only bash steps are run here"
            output_file = workdir / f"output-{index}"
            output_file.write_text("")
            script = workdir / f"step-{index}.sh"
            script.write_text(str(step["run"]))
            step_env = {**env, **{k: interpolate(str(v), scope) for k, v in (step.get("env") or {}).items()},
                        "GITHUB_OUTPUT": str(output_file)}
            done = subprocess.run([bash, "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=step_env,
                                  cwd=workdir, capture_output=True, text=True, timeout=120, check=False)
            for line in output_file.read_text().splitlines():
                key, _, value = line.partition("=")
                outputs[key] = value
            result = StepRun(name, True, done.returncode, done.stdout + done.stderr)
        if "id" in step:
            scope["steps"][step["id"]] = {"outputs": outputs}
        yield result
        if result.code != 0:
            return


def stub(bin_dir: Path, name: str, python: str) -> None:
    """An executable `name` in `bin_dir` that records its arguments (one JSON line per call in
    $STUB_LOG) and answers from $STUB_SCRIPT: the first rule of its name whose `when` words all
    occur among the arguments gives stdout, stderr and the exit code; no rule: exit 0, no output."""
    path = bin_dir / name
    path.write_text(f"""#!{python}
import json, os, sys
name, args = os.path.basename(sys.argv[0]), sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps([name, *args]) + "\\n")
with open(os.environ["STUB_SCRIPT"]) as script:
    rules = json.load(script).get(name, [])
for rule in rules:
    if all(word in args for word in rule["when"]):
        sys.stdout.write(rule.get("stdout", ""))
        sys.stderr.write(rule.get("stderr", ""))
        sys.exit(rule.get("code", 0))
""")
    path.chmod(0o755)

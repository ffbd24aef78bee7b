"""A small IAM policy evaluator for the access report: one request against a set of documents.

Why not a maintained package: moto's `access_control` ignores conditions it does not know
(silently granting), has no `?`, NotResource or ARN escaping; policyuniverse, parliament and
cloudsplaining lint or expand policies but do not answer "is this request allowed"; iam-ape
needs an account's authorization details. None says "allowed only if <condition>", which is
what a reviewer needs when a grant depends on context this tool cannot know.

Semantics covered (AWS's evaluation logic, single account plus resource policies):
- `*` and `?` wildcards: actions match case-insensitively, resources and ARNs case-sensitively;
- Action/NotAction, Resource/NotResource, Principal/NotPrincipal (AWS, Federated, Service);
- an explicit Deny overrides any Allow; nothing allows by default;
- conditions are three-valued: TRUE, FALSE or UNKNOWN (operator or key not known here). An
  Allow with an UNKNOWN condition is a *conditional* grant; a Deny with one makes the grant
  conditional ("unless ...").  Request values may themselves be glob patterns (a trusted
  GitHub subject pattern): a condition holds when it covers the whole pattern and is UNKNOWN
  when it covers only part of it.
"""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class Effect(str, enum.Enum):
    """The outcome of evaluating one request."""

    ALLOW = "allow"
    CONDITIONAL = "conditional"  # allowed only when the listed conditions hold
    DENY = "deny"  # an explicit Deny applies
    NONE = "none"  # nothing allows it (implicit deny)


@dataclass(frozen=True)
class Decision:
    effect: Effect
    conditions: tuple[str, ...] = ()

    @property
    def granted(self) -> bool:
        """Allowed, at least under some conditions (what a security review must see)."""
        return self.effect in (Effect.ALLOW, Effect.CONDITIONAL)


@dataclass(frozen=True)
class Glob:
    """A request value that stands for every string matching a wildcard pattern."""

    pattern: str

    def __str__(self) -> str:
        return self.pattern


@dataclass(frozen=True)
class Principal:
    """Who makes a request: `kind` is AWS, Federated or Service; `account` for AWS principals."""

    kind: str
    id: str
    account: str | None = None


@dataclass(frozen=True)
class Request:
    action: str
    resource: str = "*"
    principal: Principal | None = None
    # key -> values; a key that is absent is unknown, a key mapped to () is known to be absent
    context: Mapping[str, Sequence[str | Glob]] = field(default_factory=dict)


# ---------------------------------------------------------------- wildcard matching

_POLICY_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@functools.lru_cache(maxsize=65536)
def _glob_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@functools.lru_cache(maxsize=16384)
def _any_glob(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive regex for a statement's action list (evaluated millions of times at scale)."""
    return re.compile("|".join(f"(?:{_glob_regex(p, True).pattern})" for p in patterns), re.DOTALL | re.IGNORECASE)


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """Whether `value` matches the IAM wildcard `pattern` (`*` any run, `?` one character)."""
    return _glob_regex(pattern, ignore_case).fullmatch(value) is not None


def has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def globs_overlap(a: str, b: str, ignore_case: bool = False) -> bool:
    """Whether some string matches both wildcard patterns `a` and `b`."""
    if ignore_case:
        a, b = a.lower(), b.lower()

    @functools.cache
    def step(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            # a's star matches nothing, or one more character of b (or b's star matches nothing)
            return step(i + 1, j) or (j < len(b) and step(i, j + 1))
        if j < len(b) and b[j] == "*":
            return step(i, j + 1) or (i < len(a) and step(i + 1, j))
        if i == len(a) or j == len(b):
            return False
        return (a[i] == b[j] or a[i] == "?" or b[j] == "?") and step(i + 1, j + 1)

    return step(0, 0)


def glob_covers(policy_pattern: str, request: str | Glob, ignore_case: bool = False) -> bool | None:
    """True: every value the request stands for matches; False: none does; None: some do."""
    if isinstance(request, str):
        return glob_match(policy_pattern, request, ignore_case)
    if glob_match(policy_pattern, request.pattern, ignore_case):
        return True
    return None if globs_overlap(policy_pattern, request.pattern, ignore_case) else False


def _equals(policy_value: str, request: str | Glob, ignore_case: bool) -> bool | None:
    fold = str.lower if ignore_case else str
    if isinstance(request, str):
        return fold(policy_value) == fold(request)
    if not has_wildcard(request.pattern):
        return fold(policy_value) == fold(request.pattern)
    return None if glob_match(request.pattern, policy_value, ignore_case) else False


# ---------------------------------------------------------------- conditions


class Tri(enum.Enum):
    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"


def _tri_any(results: Iterable[bool | None]) -> bool | None:
    """OR over three-valued results."""
    seen_unknown = False
    for result in results:
        if result is True:
            return True
        if result is None:
            seen_unknown = True
    return None if seen_unknown else False


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


_STRING_OPERATORS = {
    "StringEquals": (False, False, False),  # (like, ignore_case, negated)
    "StringNotEquals": (False, False, True),
    "StringEqualsIgnoreCase": (False, True, False),
    "StringNotEqualsIgnoreCase": (False, True, True),
    "StringLike": (True, False, False),
    "StringNotLike": (True, False, True),
    "ArnEquals": (True, False, False),
    "ArnLike": (True, False, False),
    "ArnNotEquals": (True, False, True),
    "ArnNotLike": (True, False, True),
}


def describe_condition(operator: str, key: str, values: Any) -> str:
    """A condition as a reviewer reads it: `iam:PassedToService StringEquals ecs-tasks.amazonaws.com`."""
    shown = _as_list(values)
    return f"{key} {operator} {shown[0] if len(shown) == 1 else ' | '.join(map(str, shown))}"


def _lookup(context: Mapping[str, Sequence[str | Glob]], key: str) -> Sequence[str | Glob] | None:
    lowered = key.lower()
    for name, values in context.items():
        if name.lower() == lowered:
            return values
    return None


def _evaluate_entry(operator: str, key: str, values: Any, context: Mapping[str, Sequence[str | Glob]]) -> bool | None:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    policy_values = [str(v) for v in _as_list(values)]
    request_values = _lookup(context, key)
    if base == "Null":
        if request_values is None:
            return None
        wants_absent = any(v.lower() == "true" for v in policy_values)
        return (len(request_values) == 0) == wants_absent
    if base == "Bool":
        like, ignore_case, negated = False, True, False
    elif base in _STRING_OPERATORS:
        like, ignore_case, negated = _STRING_OPERATORS[base]
    else:
        return None  # numeric, date, IP and binary operators are not modelled
    compare = glob_covers if like else _equals
    if request_values is None:
        return None
    if len(request_values) == 0:
        # key absent: IfExists and negated operators hold, ForAllValues holds vacuously
        return if_exists or negated or qualifier == "ForAllValues"

    def one(value: str | Glob) -> bool | None:
        hit = _tri_any(compare(p, value, ignore_case) for p in policy_values)
        return hit if not negated or hit is None else not hit

    results = [one(v) for v in request_values]
    if qualifier == "ForAllValues":
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    return _tri_any(results)


def evaluate_condition(
    block: Mapping[str, Any] | None, context: Mapping[str, Sequence[str | Glob]]
) -> tuple[Tri, tuple[str, ...]]:
    """AND over every operator and key of a Condition block; UNKNOWN comes with its descriptions."""
    unknown: list[str] = []
    for operator, entries in (block or {}).items():
        if not isinstance(entries, Mapping):
            unknown.append(f"{operator} (malformed)")
            continue
        for key, values in entries.items():
            result = _evaluate_entry(operator, key, values, context)
            if result is False:
                return Tri.FALSE, ()
            if result is None:
                unknown.append(describe_condition(operator, key, values))
    return (Tri.UNKNOWN, tuple(unknown)) if unknown else (Tri.TRUE, ())


# ---------------------------------------------------------------- statements and policies


def _resource_matches(pattern: str, resource: str) -> bool | None:
    """ARN match; a policy variable (`${aws:username}`) makes the answer unknown unless `*` covers it."""
    if "${" not in pattern:
        return glob_match(pattern, resource)
    resolved = _POLICY_VARIABLE.sub(lambda m: _ESCAPES.get(m.group(1), "*"), pattern)
    if not glob_match(resolved, resource):
        return False
    return True if _POLICY_VARIABLE.sub(lambda m: _ESCAPES.get(m.group(1), ""), pattern) == resolved else None


def _principal_matches(spec: Any, principal: Principal) -> bool:
    if spec == "*":
        return True
    if not isinstance(spec, Mapping):
        return False
    for kind, values in spec.items():
        for value in _as_list(values):
            value = str(value)
            if kind == "AWS" and principal.kind == "AWS":
                if value == "*" or value == principal.id:
                    return True
                account = value if value.isdigit() else _root_account(value)
                if account is not None and account == principal.account and principal.id != "*":
                    return True
            elif kind == principal.kind and value == principal.id:
                return True
    return False


def _root_account(arn: str) -> str | None:
    match = re.fullmatch(r"arn:[^:]+:iam::(\d{12}):root", arn)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Statement:
    """One statement, normalised: list-valued elements, the original dict kept for messages."""

    sid: str
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principal: Any
    not_principal: Any
    condition: Mapping[str, Any]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Statement:
        def strings(key: str) -> tuple[str, ...] | None:
            return tuple(str(v) for v in _as_list(raw[key])) if key in raw else None

        return cls(
            sid=str(raw.get("Sid", "")),
            effect=str(raw.get("Effect", "")),
            actions=strings("Action"),
            not_actions=strings("NotAction"),
            resources=strings("Resource"),
            not_resources=strings("NotResource"),
            principal=raw.get("Principal"),
            not_principal=raw.get("NotPrincipal"),
            condition=raw.get("Condition") or {},
        )

    def matches_action(self, action: str) -> bool:
        if self.actions is not None:
            return _any_glob(self.actions).fullmatch(action) is not None
        if self.not_actions is not None:
            return _any_glob(self.not_actions).fullmatch(action) is None
        return False

    def matches_resource(self, resource: str) -> bool | None:
        if self.resources is not None:
            return _tri_any(_resource_matches(p, resource) for p in self.resources)
        if self.not_resources is not None:
            hit = _tri_any(_resource_matches(p, resource) for p in self.not_resources)
            return None if hit is None else not hit
        return True  # trust policies name no resource

    def matches_principal(self, principal: Principal | None) -> bool:
        if principal is None:
            return self.principal is None and self.not_principal is None
        if self.principal is not None:
            return _principal_matches(self.principal, principal)
        if self.not_principal is not None:
            return not _principal_matches(self.not_principal, principal)
        return True  # an identity policy applies to whoever holds it


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...]
    name: str = ""

    @classmethod
    def parse(cls, document: str | Mapping[str, Any], name: str = "") -> PolicyDocument:
        """From a JSON string or dict; a statement may be a single object or a list."""
        raw = json.loads(document) if isinstance(document, str) else document
        statements = raw.get("Statement", []) if isinstance(raw, Mapping) else []
        if isinstance(statements, Mapping):
            statements = [statements]
        return cls(tuple(Statement.parse(s) for s in statements if isinstance(s, Mapping)), name)


def evaluate(documents: Iterable[PolicyDocument], request: Request) -> Decision:
    """AWS's evaluation for one request over documents that all apply to it."""
    allow_conditions: list[tuple[str, ...]] = []
    unconditional_allow = False
    deny_unless: list[str] = []
    for document in documents:
        for statement in document.statements:
            if not statement.matches_action(request.action) or not statement.matches_principal(request.principal):
                continue
            resource_hit = statement.matches_resource(request.resource)
            if resource_hit is False:
                continue
            truth, unknown = evaluate_condition(statement.condition, request.context)
            if truth is Tri.FALSE:
                continue
            if resource_hit is None:
                unknown = (*unknown, f"resource matches {'|'.join(statement.resources or ())}")
                truth = Tri.UNKNOWN
            if statement.effect == "Deny":
                if truth is Tri.TRUE:
                    return Decision(Effect.DENY)
                deny_unless.extend(f"unless {c}" for c in unknown)
            elif statement.effect == "Allow":
                if truth is Tri.TRUE:
                    unconditional_allow = True
                else:
                    allow_conditions.append(unknown)
    if unconditional_allow:
        return Decision(Effect.CONDITIONAL, tuple(deny_unless)) if deny_unless else Decision(Effect.ALLOW)
    if allow_conditions:
        # several conditional Allows: any one of them suffices
        alternatives = sorted(set(allow_conditions))
        when = (
            alternatives[0] if len(alternatives) == 1 else (" or ".join(f"({' and '.join(a)})" for a in alternatives),)
        )
        return Decision(Effect.CONDITIONAL, (*when, *deny_unless))
    return Decision(Effect.NONE)

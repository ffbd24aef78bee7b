"""Reading IAM policy statements: principals, conditions and the accounts they name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .common import (
    GROUP_POLICY,
    MANAGED_POLICY,
    ROLE,
    ROLE_POLICY,
    USER_POLICY,
    DocumentError,
    Resource,
    Skipped,
    as_list,
    contains_unknown,
    has_wildcard,
    is_unknown,
    load_document,
    resource_label,
    statement_label,
)

ACCOUNT_ID = re.compile(r"^\d{12}$")
_ARN_ACCOUNT = re.compile(r"^arn:[^:]*:(?:iam|sts):[^:]*:([^:]*):")


@dataclass(frozen=True)
class Condition:
    """One `operator: {key: values}` entry; the key is lower case (condition keys are case-insensitive)."""

    operator: str
    key: str
    values: tuple[str, ...]
    """The known values (an unknown one, at a first preview, is left out and sets `partial`)."""
    partial: bool = False
    """Whether some value was unknown: such a condition never counts as confining (fail closed)."""

    @property
    def base_operator(self) -> str:
        """The operator without `ForAnyValue:`/`ForAllValues:` and `IfExists`."""
        op = self.operator.split(":", 1)[-1]
        return op[: -len("IfExists")] if op.endswith("IfExists") else op

    @property
    def set_qualifier(self) -> str:
        return self.operator.split(":", 1)[0] if ":" in self.operator else ""

    @property
    def if_exists(self) -> bool:
        return self.operator.endswith("IfExists")


UNKNOWN_KEY = "*"
"""The key of a condition the engine does not know yet (see `conditions`)."""


def conditions(statement: Mapping[str, Any]) -> list[Condition]:
    """The statement's conditions. A block or operator that is wholly unknown yields one condition on
    UNKNOWN_KEY: whatever it turns out to be, a rule may only leave the verdict it would decide to a later
    preview (it may confine), never read it as absent."""
    block = statement.get("Condition")
    out: list[Condition] = []
    if is_unknown(block):
        return [Condition("", UNKNOWN_KEY, (), partial=True)]
    if not isinstance(block, dict):
        return out
    for operator, entries in block.items():
        if is_unknown(entries):
            out.append(Condition(str(operator), UNKNOWN_KEY, (), partial=True))
        if not isinstance(entries, dict):
            continue
        for key, values in entries.items():
            items = as_list(values)
            known = tuple(v if isinstance(v, str) else _text(v) for v in items if not is_unknown(v))
            out.append(Condition(str(operator), str(key).lower(), known, partial=len(known) != len(items)))
    return out


def conditions_known(statement: Mapping[str, Any]) -> bool:
    """Whether every operator and key of the Condition block is known (values may still be unknown)."""
    block = statement.get("Condition")
    if is_unknown(block):
        return False
    return not isinstance(block, dict) or all(isinstance(e, dict) for e in block.values())


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def principals(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """`Principal` as {type: [values]}; `"*"` is {"*": ["*"]}. Keys: AWS, Service, Federated, ..."""
    value = statement.get("Principal")
    if value is None:
        return {}
    if isinstance(value, str):
        return {"*": [value]} if value == "*" else {"AWS": [value]}
    if not isinstance(value, dict):
        return {}
    return {str(k): [v if isinstance(v, str) else _text(v) for v in as_list(vs) if not is_unknown(v)]
            for k, vs in value.items() if not is_unknown(vs)}


def is_public_principal(kind: str, value: str) -> bool:
    """Whether a principal entry names everyone (or every account)."""
    if kind == "*" or value == "*":
        return True
    if kind != "AWS":
        return False
    account = principal_account(value)
    return account is None and has_wildcard(value)


def principal_account(value: str) -> str | None:
    """The 12-digit account an AWS principal belongs to, None when it names no single account."""
    if ACCOUNT_ID.match(value):
        return value
    match = _ARN_ACCOUNT.match(value)
    if match and ACCOUNT_ID.match(match.group(1)):
        return match.group(1)
    return None


def named_aws_principals(found: Mapping[str, list[str]]) -> tuple[dict[str, str], list[str]]:
    """({value: account} of the AWS principals that name one account, [values that name none]); public ones aside."""
    named: dict[str, str] = {}
    unnamed: list[str] = []
    for value in found.get("AWS", []):
        if is_public_principal("AWS", value):
            continue
        account = principal_account(value)
        if account is None:
            unnamed.append(value)
        else:
            named[value] = account
    return named, unnamed


# Condition keys that describe the *calling principal*: only these can confine a public principal.
# aws:ResourceAccount / aws:ResourceOrgID describe the resource (the role or repository itself, so
# they hold for every caller); aws:Source* describe the resource a service acts for, and an IAM
# caller does not carry them; neither says who the caller is.
SCOPING_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn"})
ACCOUNT_KEYS = frozenset({"aws:principalaccount"})
# Positive operators: false when the key is absent, so an anonymous or foreign caller fails them.
# Negated operators hold for every other value, `...IfExists` and `ForAllValues:` hold when the
# key is absent; Null, Bool, numeric and date operators say nothing about who the caller is.
_SCOPING_OPERATORS = frozenset({"StringEquals", "StringLike", "ArnEquals", "ArnLike", "StringEqualsIgnoreCase"})
ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]+$")


def _confining_value(key: str, value: str) -> bool:
    """Whether one condition value names concrete accounts or one organisation (no wildcard in them)."""
    if key == "aws:principalaccount":
        return bool(ACCOUNT_ID.match(value))
    if key == "aws:principalorgid":
        return bool(ORGANIZATION_ID.match(value))
    if key == "aws:principalorgpaths":
        return bool(ORGANIZATION_ID.match(value.split("/", 1)[0]))
    return _arn_account_literal(value)


def scoping_conditions(statement: Mapping[str, Any]) -> list[Condition]:
    """Conditions that really confine the principal to named accounts or to one organisation.

    Counted: a key describing the caller (SCOPING_KEYS) under a positive operator, plain or
    `ForAnyValue:`, whose every value names a concrete account (12 digits, or an ARN with a
    literal account) or organisation (`o-...`, no wildcard): one wildcard value (`o-*`,
    `2109*`) lets every organisation or account through, since the values are OR-ed. A condition
    that is not known yet (a first preview) may confine: it is kept, and its known values are judged.
    """
    out = []
    for condition in conditions(statement):
        if condition.key == UNKNOWN_KEY:
            out.append(condition)
            continue
        if condition.key not in SCOPING_KEYS or condition.if_exists:
            continue
        if condition.set_qualifier.lower() == "forallvalues":
            continue
        if condition.base_operator not in _SCOPING_OPERATORS:
            continue
        if not (condition.values or condition.partial) \
                or not all(_confining_value(condition.key, v) for v in condition.values):
            continue
        out.append(condition)
    return out


def _arn_account_literal(arn: str) -> bool:
    parts = arn.split(":")
    return len(parts) > 4 and bool(ACCOUNT_ID.match(parts[4]))


def condition_accounts(statement: Mapping[str, Any]) -> set[str] | None:
    """Accounts a statement is confined to by account conditions; None when not confined to accounts."""
    accounts: set[str] | None = None
    for condition in scoping_conditions(statement):
        if condition.key in ACCOUNT_KEYS:
            found = set(condition.values)
        elif condition.key == "aws:principalarn":
            found = {v.split(":")[4] for v in condition.values}
        else:
            continue
        accounts = found if accounts is None else accounts & found
    return accounts


def condition_organizations(statement: Mapping[str, Any]) -> set[str]:
    """Organisations named by the statement's confining organisation conditions."""
    return {v.split("/", 1)[0] for c in scoping_conditions(statement)
            if c.key in ("aws:principalorgid", "aws:principalorgpaths") for v in c.values}


def identity_documents(resource: Resource) -> list[tuple[str, str, Any]]:
    """(subject for messages, property path, document) of every identity policy a resource declares.

    RolePolicy/UserPolicy/GroupPolicy and managed Policy carry `policy`; a Role may carry
    `inlinePolicies: [{name, policy}]`. Trust policies are not identity policies.
    """
    props = resource.props
    kind = resource.resource_type
    if kind in (ROLE_POLICY, USER_POLICY, GROUP_POLICY):
        owner_key, owner_kind = {ROLE_POLICY: ("role", "IAM role"), USER_POLICY: ("user", "IAM user"),
                                 GROUP_POLICY: ("group", "IAM group")}[kind]
        owner = props.get(owner_key)
        owner_shown = owner if isinstance(owner, str) else "(unknown)"
        name = resource_label(props, resource.name)
        return [(f"The inline policy '{name}' of {owner_kind} '{owner_shown}'", "policy", props.get("policy"))]
    if kind == MANAGED_POLICY:
        return [(f"The IAM managed policy '{resource.label}'", "policy", props.get("policy"))]
    if kind == ROLE:
        out = []
        inline = props.get("inlinePolicies")
        for index, entry in enumerate(inline if isinstance(inline, list) else []):
            if not isinstance(entry, dict):
                continue
            given = entry.get("name")
            name = given if isinstance(given, str) and given else f"inlinePolicies[{index}]"
            out.append((f"The inline policy '{name}' of IAM role '{resource.label}'",
                        f"inlinePolicies[{index}].policy", entry.get("policy")))
        return out
    return []


# --- statement shape -----------------------------------------------------------------------------

IDENTITY, RESOURCE_BASED = "identity", "resource"
_EFFECTS = ("allow", "deny")


def shape_problems(document: Mapping[str, Any], kind: str) -> list[tuple[int | None, str]]:
    """(statement index or None, problem) for every statement IAM or ECR would reject.

    A guard that skips what it cannot read fails open, so every malformed statement is reported:
    no `Statement`, a statement that is not an object, no or an unknown `Effect`, no `Action`
    (or both `Action` and `NotAction`), and the wrong half of `Resource`/`Principal` for the
    kind of document (`identity` policies name resources, `resource` policies and trust policies
    name principals). Unknown values (preview) are not problems: the caller skips them.
    """
    raw = document.get("Statement")
    if is_unknown(raw):
        return []
    if raw is None:
        return [(None, "has no Statement")]
    if not isinstance(raw, (list, dict)):
        return [(None, "has a Statement that is neither an object nor a list of objects")]
    problems: list[tuple[int | None, str]] = []
    for index, statement in enumerate(as_list(raw)):
        if is_unknown(statement):
            continue
        if not isinstance(statement, dict):
            problems.append((index, "is not an object"))
            continue
        effect = statement.get("Effect")
        if not is_unknown(effect) and not (isinstance(effect, str) and effect.lower() in _EFFECTS):
            problems.append((index, f"has Effect {effect!r}, not Allow or Deny"))
        for one, other in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
            if one in statement and other in statement:
                problems.append((index, f"has both {one} and {other}"))
        if "Action" not in statement and "NotAction" not in statement:
            problems.append((index, "has no Action"))
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key in statement and not _strings(statement[key]):
                problems.append((index, f"has a {key} that is not a string or a list of strings"))
        if kind == IDENTITY:
            if "Resource" not in statement and "NotResource" not in statement:
                problems.append((index, "has no Resource"))
            if "Principal" in statement or "NotPrincipal" in statement:
                problems.append((index, "names a Principal, which an identity policy cannot"))
        elif "Principal" not in statement and "NotPrincipal" not in statement:
            problems.append((index, "has no Principal"))
        for key in ("Principal", "NotPrincipal"):
            if key in statement and (problem := principal_problem(key, statement[key])):
                problems.append((index, problem))
        condition = statement.get("Condition")
        if condition is not None and not is_unknown(condition) and not (
                isinstance(condition, dict) and all(isinstance(v, dict) or is_unknown(v) for v in condition.values())):
            problems.append((index, "has a Condition that is not an object of operator: {key: values}"))
    return problems


PRINCIPAL_KEYS = ("AWS", "Federated", "Service", "CanonicalUser")


def principal_problem(key: str, value: Any) -> str | None:
    """Why a Principal/NotPrincipal is not `"*"` or {AWS|Federated|Service|CanonicalUser: string(s)}; None if fine.

    IAM reads the keys case-sensitively and rejects any other form; a guard that reads `aws` as
    `AWS`, or skips it, judges a different document than the one AWS would (or would not) accept.
    """
    if is_unknown(value) or value == "*":
        return None
    if not isinstance(value, dict):
        return f"has a {key} that is neither \"*\" nor an object of {', '.join(PRINCIPAL_KEYS)}"
    if not value:
        return f"has an empty {key}"
    for kind, entries in value.items():
        if kind not in PRINCIPAL_KEYS:
            return f"has a {key} key {kind!r}, not one of {', '.join(PRINCIPAL_KEYS)} (keys are case-sensitive)"
        if not _strings(entries):
            return f"has a {key} {kind} that is not a string or a list of strings"
    return None


def _strings(value: Any) -> bool:
    """A string or a non-empty list of strings (unknown entries allowed)."""
    if isinstance(value, str) or is_unknown(value):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) or is_unknown(v) for v in value)


def judged_statements(document: Mapping[str, Any]) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
    """(index, statement) of the statements that can be judged, and whether anything was unknown.

    An unknown inside an Action, Resource or Principal list hides only that entry: what is known
    is granted all the same. Conditions never narrow a grant in the guard's reading, so an
    unknown inside a Condition does not drop the statement: it is judged as if that condition
    confined nothing (`Condition.partial`). Only a statement whose Effect or whole Principal is
    unknown cannot be judged. Malformed statements are left out here; callers report
    `shape_problems` for them.
    """
    out = []
    partial = is_unknown(document.get("Statement"))
    for index, statement in enumerate(as_list(document.get("Statement"))):
        if not isinstance(statement, dict):
            partial = partial or is_unknown(statement)
            continue
        if any(is_unknown(statement.get(k)) for k in ("Effect", "Principal", "NotPrincipal")):
            partial = True
            continue
        cleaned: dict[str, Any] = {}
        for key, value in statement.items():
            partial = partial or contains_unknown(value)
            if isinstance(value, list) and key != "Condition":
                known = [v for v in value if not is_unknown(v)]
                if known:
                    cleaned[key] = known
            elif not is_unknown(value) or key == "Condition":
                cleaned[key] = value
        out.append((index, cleaned))
    return out, partial


@dataclass
class Document:
    """A policy document opened for judging: its judgeable statements and why the rest is malformed."""

    statements: list[tuple[int, dict[str, Any]]]
    malformed: list[str]
    """Complete phrases ('statement #2 has no Effect ...'); a malformed document fails closed."""

    def labelled(self) -> list[tuple[str, dict[str, Any]]]:
        return [(statement_label(s, i), s) for i, s in self.statements]


def open_document(value: Any, kind: str, skipped: Skipped, path: str) -> Document | None:
    """The document at `path`, ready to judge; None when absent, or unknown (noted in `skipped`).

    The one opening every rule shares: unknown -> skip, empty -> nothing, not JSON -> malformed,
    malformed statements -> malformed (never silently skipped), unknown entries -> judged partially.
    """
    if is_unknown(value):
        skipped.add(path)
        return None
    if value is None or value == "":
        return None
    try:
        parsed = load_document(value)
    except DocumentError as error:
        return Document([], [f"{error}"])
    malformed = []
    for index, problem in shape_problems(parsed, kind):
        if index is None:
            malformed.append(problem)
        else:
            raw = as_list(parsed.get("Statement"))[index]
            label = statement_label(raw, index) if isinstance(raw, dict) else f"statement #{index + 1}"
            malformed.append(f"{label} {problem}")
    judged, partial = judged_statements(parsed)
    if partial:
        skipped.add(path)
    bad = {i for i, _ in shape_problems(parsed, kind) if i is not None}
    return Document([(i, st) for i, st in judged if i not in bad], malformed)


def malformed_message(subject: str, document: Document) -> str:
    return (f"{subject} is malformed, so IAM or ECR would reject it and the guard cannot judge it: "
            f"{'; '.join(document.malformed)}. Fix the document (every statement needs Effect Allow or Deny, "
            "Action, and Resource or Principal as the document kind requires).")

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
    Resource,
    as_list,
    has_wildcard,
    resource_label,
)

ACCOUNT_ID = re.compile(r"^\d{12}$")
_ARN_ACCOUNT = re.compile(r"^arn:[^:]*:(?:iam|sts):[^:]*:([^:]*):")


@dataclass(frozen=True)
class Condition:
    """One `operator: {key: values}` entry; the key is lower case (condition keys are case-insensitive)."""

    operator: str
    key: str
    values: tuple[str, ...]

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


def conditions(statement: Mapping[str, Any]) -> list[Condition]:
    block = statement.get("Condition")
    out: list[Condition] = []
    if not isinstance(block, dict):
        return out
    for operator, entries in block.items():
        if not isinstance(entries, dict):
            continue
        for key, values in entries.items():
            out.append(Condition(str(operator), str(key).lower(),
                                 tuple(v if isinstance(v, str) else _text(v) for v in as_list(values))))
    return out


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
    return {str(k): [v if isinstance(v, str) else _text(v) for v in as_list(vs)] for k, vs in value.items()}


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


# Condition keys that confine a statement to an organisation or to known accounts.
SCOPING_KEYS = frozenset({
    "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
    "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourcearn", "aws:sourceowner",
    "aws:resourceorgid", "aws:resourceaccount",
})
ACCOUNT_KEYS = frozenset({"aws:principalaccount", "aws:sourceaccount", "aws:sourceowner", "aws:resourceaccount"})
_SCOPING_OPERATORS = frozenset({"StringEquals", "StringLike", "ArnEquals", "ArnLike", "StringEqualsIgnoreCase"})


def scoping_conditions(statement: Mapping[str, Any]) -> list[Condition]:
    """Conditions that really confine the principal to an organisation or to accounts.

    Negated, `...IfExists` and `ForAllValues:` operators do not count: each is true when the key
    is absent, which is exactly the anonymous caller. A value that is only wildcards confines nothing.
    """
    out = []
    for condition in conditions(statement):
        if condition.key not in SCOPING_KEYS or condition.if_exists:
            continue
        if condition.set_qualifier.lower() == "forallvalues":
            continue
        if condition.base_operator not in _SCOPING_OPERATORS:
            continue
        if not condition.values or any(v.strip("*?") == "" for v in condition.values):
            continue
        if condition.key in ("aws:principalarn", "aws:sourcearn") and not all(
                principal_account(v) or _arn_account_literal(v) for v in condition.values):
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
        found: set[str] = set()
        if condition.key in ACCOUNT_KEYS:
            found = {v for v in condition.values if ACCOUNT_ID.match(v)}
            if len(found) != len(condition.values):
                continue
        elif condition.key in ("aws:principalarn", "aws:sourcearn"):
            found = {v.split(":")[4] for v in condition.values}
        else:
            continue
        accounts = found if accounts is None else accounts & found
    return accounts


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

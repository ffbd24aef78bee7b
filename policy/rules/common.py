"""What every rule module shares: findings, plain property values, documents, config, reporting.

Property values reach the pack wrapped in the SDK's unknown-checking proxy, which raises
`UnknownValueError` on the first unknown it touches. `plain()` turns them into ordinary
dicts and lists with the `UNKNOWN` marker in place of each unknown, so a checker can judge
everything that is known and skip only what is not; `validate` then raises one
`UnknownValueError`, which the SDK turns into an advisory "can't run during preview" note
after the violations already reported.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

# Type tokens of pulumi-aws v7, as the analyzer receives them.
REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
CREATION_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
REPLICATION = "aws:ecr/replicationConfiguration:ReplicationConfiguration"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
USER = "aws:iam/user:User"
GROUP = "aws:iam/group:Group"
GROUP_MEMBERSHIP = "aws:iam/groupMembership:GroupMembership"
USER_GROUP_MEMBERSHIP = "aws:iam/userGroupMembership:UserGroupMembership"
REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"
PULL_THROUGH_CACHE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
PULL_TIME_EXCLUSION = "aws:ecr/pullTimeUpdateExclusion:PullTimeUpdateExclusion"
ACCOUNT_SETTING = "aws:ecr/accountSetting:AccountSetting"
SIGNER_PROFILE = "aws:signer/signingProfile:SigningProfile"
# ECR's signing configuration exists only in pulumi-aws-native (Cloud Control).
SIGNING_CONFIGURATION = "aws-native:ecr:SigningConfiguration"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"


class _Unknown:
    """A value the engine does not know yet (first preview of a new stack)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


@dataclass(frozen=True)
class Finding:
    """One violation: a complete sentence, and the resource it is about (stack policies)."""

    message: str
    urn: str | None = None


@dataclass
class Skipped:
    """Paths a checker could not judge because they were unknown; reported as one preview note."""

    paths: list[str] = field(default_factory=list)

    def add(self, path: str) -> None:
        self.paths.append(path)


MAX_DEPTH = 32
"""How deep a property value or document may nest: IAM, ECR and lifecycle documents need under ten levels."""


class TooDeep(ValueError):
    """A value nested deeper than MAX_DEPTH: judged as malformed, never a RecursionError."""

    def __init__(self) -> None:
        super().__init__(f"nests deeper than {MAX_DEPTH} levels")


def plain(value: Any, depth: int = 0) -> Any:
    """Ordinary Python data from the SDK's proxies, with `UNKNOWN` in place of each unknown value.

    Raises TooDeep for a value nested deeper than MAX_DEPTH.
    """
    if isinstance(value, str):
        return UNKNOWN if value == UNKNOWN_STRING_VALUE else value
    if isinstance(value, (Mapping, Sequence)) and depth >= MAX_DEPTH:
        raise TooDeep()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[key] = plain(value[key], depth + 1)
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index], depth + 1))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def contains_unknown(value: Any) -> bool:
    """Whether an unknown is anywhere inside `value` (iterative: any depth, no RecursionError)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if item is UNKNOWN:
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


# --- documents -----------------------------------------------------------------------------------


class DocumentError(ValueError):
    """A policy document that is not a JSON object."""


def load_document(value: Any) -> dict[str, Any]:
    """A JSON policy document from a string or an object; raises DocumentError when malformed.

    The caller checks `is_unknown` first.
    """
    if isinstance(value, str):
        try:
            value = plain(json.loads(value))
        except json.JSONDecodeError as error:
            raise DocumentError(f"is not valid JSON ({error.msg} at character {error.pos})") from None
        except (RecursionError, TooDeep):
            raise DocumentError(f"nests deeper than {MAX_DEPTH} levels") from None
    if not isinstance(value, dict):
        raise DocumentError("is not a JSON object")
    return value


def namespace_under(prefix: str) -> str:
    """What the names under an ECR prefix (of a creation template or a pull-through cache rule) start with:
    `team` and `team/` -> `team/`; `ROOT`, ECR's word for every repository -> the empty string."""
    return "" if prefix == "ROOT" else prefix.rstrip("/") + "/"


def as_list(value: Any) -> list[Any]:
    """IAM's "one or many": a single value or a list, as a list (None -> [])."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def statement_label(statement: Mapping[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return f"statement '{sid}'" if isinstance(sid, str) and sid else f"statement #{index + 1}"


def is_allow(statement: Mapping[str, Any]) -> bool:
    effect = statement.get("Effect")
    return isinstance(effect, str) and effect.lower() == "allow"


def to_text(value: Any) -> str:
    """JSON text of a document; an unknown value anywhere inside becomes a placeholder, never an error."""
    return json.dumps(value, separators=(",", ":"), default=lambda _: UNKNOWN_STRING_VALUE)


def compact_size(value: Any) -> int:
    """Characters IAM and ECR count against their quotas: whitespace is not counted."""
    text = value if isinstance(value, str) else to_text(value)
    return len(re.sub(r"\s", "", text))


def collapse_stars(pattern: str) -> str:
    """The same pattern with every run of `*` written once (`a**b` -> `a*b`): they match the same strings."""
    return re.sub(r"\*{2,}", "*", pattern)


@functools.lru_cache(maxsize=65536)
def _glob_segments(pattern: str) -> tuple[str, ...]:
    """The segments between the stars of a pattern (`?` kept in them)."""
    return tuple(collapse_stars(pattern).split("*"))


def _segment_at(segment: str, value: str, start: int) -> bool:
    """Whether `segment` (literal, `?` = any one character) matches `value` at `start`."""
    if start + len(segment) > len(value):
        return False
    return all(c == "?" or c == value[start + i] for i, c in enumerate(segment))


def _find_segment(segment: str, value: str, start: int, end: int) -> int:
    """The leftmost position >= start where `segment` matches inside value[:end]; -1 when none."""
    if "?" not in segment:
        return value.find(segment, start, end)
    anchor = max(segment.split("?"), key=len)
    offset = segment.index(anchor)
    position = start
    while position + len(segment) <= end:
        if anchor:
            found = value.find(anchor, position + offset, end - (len(segment) - offset - len(anchor)))
            if found < 0:
                return -1
            position = found - offset
        if _segment_at(segment, value, position):
            return position
        position += 1
    return -1


def glob_match(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM/ECR wildcard matching: `*` any run of characters, `?` exactly one.

    Never backtracks: the segments between stars are matched leftmost-first, each once (the
    leftmost match of a segment leaves the most room for the rest, so it is the right one).
    Time is about len(value) per segment, whatever the number of wildcards (`ecr:********zq`).
    """
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    segments = _glob_segments(pattern)
    if len(segments) == 1:
        return len(value) == len(pattern) and _segment_at(pattern, value, 0)
    first, last = segments[0], segments[-1]
    if len(first) + len(last) > len(value) or not _segment_at(first, value, 0) \
            or not _segment_at(last, value, len(value) - len(last)):
        return False
    position, end = len(first), len(value) - len(last)
    for segment in segments[1:-1]:
        found = _find_segment(segment, value, position, end)
        if found < 0:
            return False
        position = found + len(segment)
    return True


def has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


@dataclass(frozen=True)
class SubjectParts:
    """A GitHub `sub` value taken apart: `repo:<owner>[@<owner id>]/<repo>[@<repo id>]:<rest>`."""

    owner: str
    owner_id: str
    """Empty in the name form."""
    repo: str
    repo_id: str
    rest: str | None
    """The context after the repository (`ref:refs/heads/main`); None when the value has no `:` after it."""

    @property
    def name_form(self) -> str:
        """The same subject in the name form, the one every repository's tokens can carry: IDs dropped."""
        return f"repo:{self.owner}/{self.repo}" + ("" if self.rest is None else f":{self.rest}")


def subject_parts(value: Any) -> SubjectParts | None:
    """Either of GitHub's subject forms taken apart (no validation); None when it is not `repo:<a>/<b>...`."""
    if not isinstance(value, str) or not value.startswith("repo:"):
        return None
    owner_repo, colon, rest = value[len("repo:"):].partition(":")
    owner_part, slash, repo_part = owner_repo.partition("/")
    if not slash:
        return None
    owner, _, owner_id = owner_part.partition("@")
    repo, _, repo_id = repo_part.partition("@")
    return SubjectParts(owner, owner_id, repo, repo_id, rest if colon else None)


def quoted(values: Iterable[str], limit: int = 5) -> str:
    items = [f"'{v}'" for v in values]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    return ", ".join(items)


def pack_config(policy: str, key: str) -> str:
    """Where a user changes a pack setting, for messages: the per-stack file and the key in it."""
    return f"policy/config/<stack>.json: {policy}.{key}"


# --- config --------------------------------------------------------------------------------------


def config_bool(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    return value if isinstance(value, bool) else default


def config_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return default
    return int(value)


def config_strings(config: Mapping[str, Any], key: str) -> list[str]:
    value = config.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v)]


def config_choice(config: Mapping[str, Any], key: str, choices: Sequence[str], default: str) -> str:
    value = config.get(key, default)
    return value if isinstance(value, str) and value in choices else default


# --- resources -----------------------------------------------------------------------------------


def resource_label(props: Mapping[str, Any], logical_name: str, key: str = "name") -> str:
    """The name a user recognises: the physical name when it is known, else the logical name."""
    value = props.get(key)
    return value if isinstance(value, str) and value else logical_name


def tag_value(props: Mapping[str, Any], key: str, tags_key: str = "tags") -> str | None:
    tags = props.get(tags_key)
    if not isinstance(tags, dict):
        return None
    value = tags.get(key)
    return value if isinstance(value, str) and value else None


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else urn


# --- wiring --------------------------------------------------------------------------------------


@dataclass
class Resource:
    """A resource as the checkers see it: plain props, its options, and URN references."""

    resource_type: str
    name: str
    urn: str
    props: dict[str, Any]
    protect: bool = False
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    parent: str = ""
    provider_region: Any = None
    """The `region` of the resource's provider (None: not sent, or the default provider's)."""

    @property
    def region(self) -> Any:
        """Where the resource lives: its own `region` input (pulumi-aws v7), else its provider's; None = default."""
        own = self.props.get("region")
        return own if own not in (None, "") else self.provider_region

    @property
    def label(self) -> str:
        """The name a user recognises: the physical `name` when known, else the logical name."""
        return resource_label(self.props, self.name)


ResourceChecker = Callable[[Resource, Mapping[str, Any], Skipped], list[Finding]]
StackChecker = Callable[[list[Resource], Mapping[str, Any], Skipped], list[Finding]]


def with_defaults(config: Mapping[str, Any], properties: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The policy's config with each schema default filled in: the schema's default is the one truth."""
    out = {key: spec["default"] for key, spec in properties.items() if "default" in spec}
    out.update({key: value for key, value in config.items() if value is not None})
    return out


def _raise_for_skipped(skipped: Skipped) -> None:
    if skipped.paths:
        raise UnknownValueError(UNKNOWN_STRING_VALUE, [", ".join(dict.fromkeys(skipped.paths))])


def _policy(
    kind: str,
    *,
    name: str,
    description: str,
    resource_types: Sequence[str],
    check: Callable[..., list[Finding]],
    severity: Severity,
    remediation_steps: str,
    config_properties: dict[str, dict[str, Any]] | None = None,
    enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY,
) -> ResourceValidationPolicy | StackValidationPolicy:
    """A policy whose validate only picks its resource types, runs a pure checker and reports.

    `kind` "resource": one resource per call (Analyze); "stack": every resource of the wanted types
    at once, converted once (AnalyzeStack), each finding naming the resource it is about.
    """
    wanted = frozenset(resource_types)
    properties = config_properties or {}

    def judged(args: Any, subject: Any, report_violation: ReportViolation) -> None:
        skipped = Skipped()
        config = with_defaults(args.get_config() or {}, properties)
        if kind == "stack":
            findings = _judge_stack(name, check, subject, config, skipped)
        else:
            findings = _judge_one(name, check, subject, config, skipped)
        for finding in findings:
            report_violation(finding.message, finding.urn if kind == "stack" else None)
        _raise_for_skipped(skipped)

    def validate_resource(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type in wanted:
            try:
                props = plain(args.props)
            except TooDeep as error:
                report_violation(unjudgeable(name, args.resource_type, args.name, error).message, None)
                return
            judged(args, Resource(args.resource_type, args.name, args.urn, props,
                                  protect=bool(getattr(args.opts, "protect", False)),
                                  provider_region=provider_region(getattr(args, "provider", None))),
                   report_violation)

    def validate_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources, unreadable = stack_resources(args.resources, wanted, name)
        for finding in unreadable:
            report_violation(finding.message, finding.urn)
        judged(args, resources, report_violation)

    policy_class = ResourceValidationPolicy if kind == "resource" else StackValidationPolicy
    policy = policy_class(
        name=name,
        description=description,
        validate=validate_resource if kind == "resource" else validate_stack,  # type: ignore[arg-type]
        enforcement_level=enforcement_level,
        config_schema=PolicyConfigSchema(properties=dict(properties)),
        severity=severity,
        remediation_steps=remediation_steps,
    )
    if kind == "resource":  # the pack's server skips the call for other types (serving.JUDGED_TYPES)
        policy.judged_types = wanted  # type: ignore[union-attr]
    return policy


resource_policy = functools.partial(_policy, "resource")
"""A resource policy (Analyze): keyword arguments as `_policy`, `check` a ResourceChecker."""
stack_policy = functools.partial(_policy, "stack")
"""A stack policy (AnalyzeStack): keyword arguments as `_policy`, `check` a StackChecker."""


def stack_resources(resources: Iterable[Any], types: Container[str],
                    policy: str = "") -> tuple[list[Resource], list[Finding]]:
    """The resources of the wanted types, converted once (other resources are never touched).

    A resource whose properties cannot be read (nested deeper than MAX_DEPTH) is left out and
    returned as a finding of `policy`, so the others are still judged.
    """
    out = []
    unreadable = []
    for r in resources:
        if r.resource_type not in types:
            continue
        try:
            props = plain(r.props)
        except TooDeep as error:
            unreadable.append(unjudgeable(policy, r.resource_type, r.name, error, r.urn))
            continue
        out.append(Resource(
            resource_type=r.resource_type,
            name=r.name,
            urn=r.urn,
            props=props,
            protect=bool(getattr(r.opts, "protect", False)),
            dependencies=[d.urn for d in (r.dependencies or [])],
            property_dependencies={k: [d.urn for d in v] for k, v in (r.property_dependencies or {}).items()},
            parent=_parent_urn(r),
            provider_region=provider_region(getattr(r, "provider", None)),
        ))
    return out, unreadable


def unjudgeable(policy: str, resource_type: str, name: str, error: BaseException, urn: str | None = None) -> Finding:
    """The finding for a resource a policy could not judge: the guard fails closed, never crashes."""
    reason = str(error) if isinstance(error, ValueError) and str(error) else type(error).__name__
    return Finding(f"The {resource_type} '{name}' could not be judged by {policy}: its input has a shape the guard "
                   f"cannot read ({reason}), and what the guard cannot judge it refuses. Give every property the "
                   "shape the provider documents (objects, lists and strings where they belong, under "
                   f"{MAX_DEPTH} levels of nesting).", urn)


def _judge_one(policy: str, check: Callable[..., list[Finding]], resource: Resource, config: Mapping[str, Any],
               skipped: Skipped) -> list[Finding]:
    """One resource's findings; a checker that fails on its input is one finding, never a failed RPC."""
    try:
        return check(resource, config, skipped)
    except (UnknownValueError, KeyboardInterrupt):
        raise
    except Exception as error:
        return [unjudgeable(policy, resource.resource_type, resource.name, error)]


def _judge_stack(policy: str, check: Callable[..., list[Finding]], resources: list[Resource],
                 config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    """The stack's findings. When the checker fails, each resource it fails on alone is left out and
    named as unjudged, and the rest are judged together again, so no other verdict is lost."""
    try:
        return check(resources, config, skipped)
    except (UnknownValueError, KeyboardInterrupt):
        raise
    except Exception:
        pass
    failing: list[Finding] = []
    rest: list[Resource] = []
    for resource in resources:
        try:
            check([resource], config, Skipped())
        except UnknownValueError:
            pass
        except Exception as error:
            failing.append(unjudgeable(policy, resource.resource_type, resource.name, error, resource.urn))
            continue
        rest.append(resource)
    try:
        return [*failing, *check(rest, config, skipped)]
    except (UnknownValueError, KeyboardInterrupt):
        raise
    except Exception as error:
        return [*failing, Finding(f"The stack could not be judged by {policy} ({type(error).__name__}): the guard "
                                  "refuses what it cannot judge. Check the shapes of the resources it reads.")]


def _parent_urn(resource: Any) -> str:
    """The parent's URN: from the resolved parent, else the options (a parent the engine did not send)."""
    parent = getattr(resource, "parent", None)
    if parent is not None:
        return str(parent.urn)
    return str(getattr(resource.opts, "parent", None) or "")


def provider_region(provider: Any) -> Any:
    """The `region` a provider resource was configured with; None when absent or not sent."""
    if provider is None:
        return None
    try:
        props = plain(provider.props)
    except (UnknownValueError, TooDeep):  # a provider nobody can read has a region nobody knows
        return UNKNOWN
    region = props.get("region") if isinstance(props, dict) else None
    return region if region not in (None, "") else None

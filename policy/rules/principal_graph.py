"""Who can become whom: the principal graph of a stack, and what each principal reaches through it.

Built once per stack policy run on top of `access.build_access_model(resources)`:

    model = build_access_model(resources)
    graph = build_principal_graph(model, resources)
    graph.edges                         # [Edge(source, target, how)]: plain data, `how` a phrase
    graph.reachable(principal)          # {principal it can become: [Edge, ...] the path, in order}
    graph.closure({id(p): {"payments"}})  # per node, the union over everything it can become
    graph.find(principal, wanted, limit)  # paths to the nearest `limit` nodes `wanted` holds for

Nodes are the model's principals (`access.Principal`) plus stand-ins, principals the stack lets in
without declaring them (`Principal.stand_in` says who they are; none of them belongs to a team):

- "every principal of account X" (or organisation o-x, or matching aws:PrincipalArn): a trust
  policy admitting `"*"` that only the caller conditions `documents.scoping_conditions` accept
  confine; every principal of the stack can become it (`Graph.everyone`), and so can every
  principal of that account the stack does not declare (the EKS node role, a new Lambda role);
- "every principal anywhere": `"*"` with no confining condition;
- "whoever holds the access key (password) of IAM user U": `aws:iam/accessKey` and
  `aws:iam/userLoginProfile` put the user's secret in the stack's outputs.

Edges (source can act as target):
- trust policies: a role or user ARN, an assumed-role session ARN (`arn:aws:sts::A:assumed-role/R/S`
  -> role R), `"*"` (from the stand-ins above);
- identity grants of `sts:AssumeRole` on a role whose trust admits an account root: both halves
  are needed in IAM, and the pack sees both in the stack. Conditions never narrow a grant, so an
  ABAC grant on `role/*` with an aws:ResourceTag condition is an edge to every such role;
- `iam:PassRole` on a role trusted by a service that runs code (ECS tasks, Lambda, CodeBuild,
  EC2 through an instance profile), when the passer can also start that compute;
- running new code in compute that already runs as a role (RUN_EXISTING: Lambda UpdateFunctionCode,
  CodeBuild StartBuild, SSM SendCommand, ECS ExecuteCommand ...): no PassRole, and the Resource names
  the compute, never the role, so the edge goes to every role that service is trusted by;
- a role trusted by any other service (CloudFormation, Step Functions, SageMaker ...), where the pack
  does not know how code starts: iam:PassRole on it is an edge, and so is any write action of that
  service's prefix (fail closed: updating a stack or a job runs as the role it already holds);
- a grant on a wildcard pattern goes through one node of kind `pattern` per pattern (shared by
  every principal granted it, with an edge to each role it matches), so edges stay linear in
  grants + matches; `pattern` nodes are no principal and are never judged or counted as writers;
- the secret holders above -> their user.

`closure` is linear in nodes + edges: Tarjan's strongly connected components, then one pass over
the condensation in reverse topological order. Federated subjects (GitHub workflows) are not
nodes: `access.trusted_by` and `access.subjects_sharing` read them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .access import Principal
from .common import (
    DocumentError,
    Resource,
    as_list,
    glob_match,
    has_wildcard,
    is_allow,
    is_unknown,
    load_document,
)
from .documents import (
    condition_accounts,
    condition_organizations,
    is_public_principal,
    judged_statements,
    principals,
    scoping_conditions,
)
from .iam_actions import service_actions

ACCESS_KEY = "aws:iam/accessKey:AccessKey"
LOGIN_PROFILE = "aws:iam/userLoginProfile:UserLoginProfile"
INSTANCE_PROFILE = "aws:iam/instanceProfile:InstanceProfile"
SECRETS = {ACCESS_KEY: "access key", LOGIN_PROFILE: "console password"}

# The services that run code as a role passed to them, and the actions that start such code.
COMPUTE = {
    "ecs-tasks.amazonaws.com": ("ecs:RunTask", "ecs:StartTask", "ecs:CreateService", "ecs:RegisterTaskDefinition"),
    "lambda.amazonaws.com": ("lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"),
    "codebuild.amazonaws.com": ("codebuild:CreateProject", "codebuild:UpdateProject", "codebuild:StartBuild"),
    "ec2.amazonaws.com": ("ec2:RunInstances", "ec2:AssociateIamInstanceProfile",
                          "ec2:ReplaceIamInstanceProfileAssociation"),
}
# Actions that run new code inside compute that already exists (a function, a project, an instance, a task), so
# as the role it already runs as: no iam:PassRole needed, and its Resource names the compute, never the role.
RUN_EXISTING = {
    "ecs-tasks.amazonaws.com": ("ecs:ExecuteCommand",),
    "lambda.amazonaws.com": ("lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"),
    "codebuild.amazonaws.com": ("codebuild:StartBuild", "codebuild:StartBuildBatch", "codebuild:RetryBuild",
                                "codebuild:RetryBuildBatch", "codebuild:UpdateProject"),
    "ec2.amazonaws.com": ("ssm:SendCommand", "ssm:StartSession", "ssm:CreateAssociation",
                          "ec2-instance-connect:SendSSHPublicKey", "ec2:ModifyInstanceAttribute"),
}
# Services that act as a role only to do their own fixed job, never to run code a caller supplies: ECR assumes a
# creation template's role to apply that template's encryption key and tags to a repository it creates (the pack
# judges the template and the role's own rights). Writing to such a service is no way to become the role.
RUNS_NO_CALLER_CODE = frozenset({"ecr.amazonaws.com"})
MODELLED_TYPES: frozenset[str] = frozenset({ACCESS_KEY, LOGIN_PROFILE, INSTANCE_PROFILE})
"""The types this module reads besides the model's: secrets that make a user usable by whoever holds them, and
instance profiles, which grant nothing themselves: EC2 runs a profile's role only if the role trusts
ec2.amazonaws.com, and that trust (with PassRole + RunInstances) is the edge, whether the profile is in the stack
or not. `aws:lambda/permission:Permission` is not modelled: invoking a function runs its code, not the caller's,
so it is no way to become the function's role; left out, a closed world refuses it unless listed as inert."""

_ASSUMED_ROLE = re.compile(r"^arn:[^:]*:sts::[^:]*:assumed-role/([^/]+)/")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True)
class Edge:
    """`source` can act as `target`; `how` says why, as a phrase for messages and reports."""

    source: Principal
    target: Principal
    how: str


@dataclass
class Graph:
    nodes: list[Principal]
    edges: list[Edge]
    everyone: list[Principal] = field(default_factory=list)
    """Stand-ins every principal of the stack can become (its account's or anyone's): edges from
    every node, kept implicit so the graph stays linear; `reachable` follows them, `closure` does
    not (the stand-in is judged once, as the writer all those principals are)."""

    def __post_init__(self) -> None:
        self._out: dict[int, list[Edge]] = {}
        for edge in self.edges:
            self._out.setdefault(id(edge.source), []).append(edge)

    def out(self, node: Principal) -> list[Edge]:
        return self._out.get(id(node), [])

    def reachable(self, start: Principal, implicit: bool = True) -> dict[int, list[Edge]]:
        """id of every node `start` can become -> the edges of one shortest path to it (BFS)."""
        paths: dict[int, list[Edge]] = {id(start): []}
        queue = [start]
        if implicit:
            for hub in self.everyone:
                if id(hub) not in paths:
                    paths[id(hub)] = [Edge(start, hub, f"'{hub.name}' includes it")]
                    queue.append(hub)
        for node in queue:
            for edge in self.out(node):
                if id(edge.target) not in paths:
                    paths[id(edge.target)] = [*paths[id(node)], edge]
                    queue.append(edge.target)
        del paths[id(start)]
        return paths

    def find(self, start: Principal, wanted: Callable[[Principal], bool], limit: int) -> list[list[Edge]]:
        """Paths (explicit edges, BFS order) from `start` to the first `limit` nodes for which `wanted` holds."""
        seen, found = {id(start)}, []
        frontier: list[tuple[Principal, list[Edge]]] = [(start, [])]
        for node, path in frontier:
            for edge in self.out(node):
                if id(edge.target) in seen:
                    continue
                seen.add(id(edge.target))
                step = [*path, edge]
                if wanted(edge.target):
                    found.append(step)
                    if len(found) >= limit:
                        return found
                frontier.append((edge.target, step))
        return found

    def closure(self, values: Mapping[int, set[str]]) -> dict[int, set[str]]:
        """For every node, the union of `values` over itself and every node it can become (explicit edges)."""
        index: dict[int, int] = {}
        low: dict[int, int] = {}
        on_stack: set[int] = set()
        stack: list[Principal] = []
        component: dict[int, int] = {}
        sets: list[set[str]] = []
        for root in self.nodes:
            if id(root) in index:
                continue
            work: list[tuple[Principal, int]] = [(root, 0)]
            while work:
                node, position = work.pop()
                key = id(node)
                if position == 0:
                    index[key] = low[key] = len(index)
                    stack.append(node)
                    on_stack.add(key)
                edges = self.out(node)
                if position < len(edges):
                    work.append((node, position + 1))
                    target = id(edges[position].target)
                    if target not in index:
                        work.append((edges[position].target, 0))
                    elif target in on_stack:
                        low[key] = min(low[key], index[target])
                    continue
                for edge in edges:  # children done: fold in their low links
                    target = id(edge.target)
                    if target in on_stack:
                        low[key] = min(low[key], low[target])
                if low[key] == index[key]:
                    members = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(id(member))
                        component[id(member)] = len(sets)
                        members.append(member)
                        if member is node:
                            break
                    # components complete in reverse topological order: successors are already summed
                    total: set[str] = set()
                    for member in members:
                        total |= values.get(id(member), set())
                        for edge in self.out(member):
                            other = component.get(id(edge.target))
                            if other is not None and other != len(sets):
                                total |= sets[other]
                    sets.append(total)
        return {key: sets[c] for key, c in component.items()}


def grants(statement: Mapping[str, Any], action: str) -> bool:
    """Whether an Allow statement grants `action` (wildcards, NotAction; conditions never narrow)."""
    if "NotAction" in statement:
        return not any(isinstance(a, str) and _like(a, action) for a in as_list(statement["NotAction"]))
    return any(isinstance(a, str) and _like(a, action) for a in as_list(statement.get("Action")))


def resource_patterns(statement: Mapping[str, Any], principal: Principal | None = None,
                      session_tags: bool = True) -> list[str]:
    """The statement's Resource patterns as IAM matches them: NotResource is `*`, variables resolved."""
    if "NotResource" in statement:
        return ["*"]
    return [resolve_variables(p, principal, session_tags) for p in as_list(statement.get("Resource"))
            if isinstance(p, str)]


def resolve_variables(pattern: str, principal: Principal | None = None, session_tags: bool = True) -> str:
    """A Resource with its policy variables replaced by what they can stand for.

    Every `${...}` is `*` (the caller picks a session name, a source identity, a tag it may set
    with sts:TagSession ...), except: `${*}`, `${?}`, `${$}` (IAM's escapes for the character);
    `${aws:username}` of an IAM user (its own name); `${aws:PrincipalTag/k}` of a principal whose
    tag k is known and that nobody can tag a session of (`session_tags` False).
    """
    if "${" not in pattern:
        return pattern

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _ESCAPES:
            return _ESCAPES[name]
        key = name.lower()
        if principal is not None and principal.stand_in is None:
            if key == "aws:username" and principal.kind == "user":
                return principal.name
            if key.startswith("aws:principaltag/") and not session_tags:
                tag = principal.tag(name.split("/", 1)[1])
                if isinstance(tag, str) and tag and not has_wildcard(tag):
                    return tag
        return "*"

    return _VARIABLE.sub(value, pattern)


def _statements(document: Any) -> list[dict[str, Any]]:
    try:
        return [s for _, s in judged_statements(load_document(document))[0] if is_allow(s)]
    except (DocumentError, TypeError):
        return []


def trust_statements(principal: Principal) -> list[dict[str, Any]]:
    """The Allow statements of a role's trust policy, from every resource that claims the role's name."""
    if principal.kind != "role":
        return []
    return [s for r in principal.claims for s in _statements(r.props.get("assumeRolePolicy"))]


def session_taggable(principal: Principal) -> bool:
    """Whether someone assuming the role may set session tags (its trust allows sts:TagSession)."""
    return any(grants(s, "sts:TagSession") for s in trust_statements(principal))


def _default_statements(principal: Principal) -> list[dict[str, Any]]:
    return [s for source in principal.all_sources() for s in _statements(source.document)]


@dataclass
class _Trust:
    roots: list[str] = field(default_factory=list)
    services: set[str] = field(default_factory=set)


def build_principal_graph(model: Any, resources: Iterable[Resource],
                          statements_of: Callable[[Principal], list[dict[str, Any]]] | None = None) -> Graph:
    """The graph over `model.principals` (an `access.AccessModel`) and the secrets and profiles in `resources`.

    `statements_of(principal)` gives the Allow statements of its identity documents (default: parse
    them again); team isolation hands in the statements it has already opened.
    """
    statements_of = statements_of or _default_statements
    nodes: list[Principal] = list(model.principals)
    by_key = {(p.kind, p.name.lower()): p for p in nodes}
    edges: list[Edge] = []
    stand_ins: dict[str, Principal] = {}
    everyone: list[Principal] = []

    def stand_in(label: str, universal: bool) -> Principal:
        found = stand_ins.get(label)
        if found is None:
            found = stand_ins[label] = Principal("stand-in", label, stand_in=label)
            nodes.append(found)
            if universal:
                everyone.append(found)
        return found

    def named(kind: str, name: str) -> Principal | None:
        return by_key.get((kind, name.lower()))

    trusts: dict[int, _Trust] = {}
    for role in [p for p in nodes if p.kind == "role" and p.claims]:
        trust = trusts[id(role)] = _Trust()
        for statement in trust_statements(role):
            found = {k.lower(): v for k, v in principals(statement).items()}
            trust.services |= {service.lower() for service in found.get("service", []) if isinstance(service, str)}
            public = [v for k, vs in found.items() if k in ("*", "aws") for v in vs if is_public_principal(
                "AWS" if k == "aws" else k, v)]
            if public:
                _public_edges(statement, role, stand_in, named, edges)
            for value in found.get("aws", []):
                if is_public_principal("AWS", value):
                    continue
                _aws_edges(value, role, named, edges, trust)
    linker = _Grants(nodes, trusts, named, edges)
    for principal in list(model.principals):
        linker.add(principal, statements_of(principal))
    for r in resources:
        if r.resource_type in SECRETS and isinstance(user := r.props.get("user"), str) and not is_unknown(user):
            target = named("user", user.rsplit("/", 1)[-1])
            if target is not None:
                holder = stand_in(f"whoever holds the {SECRETS[r.resource_type]} of IAM user '{target.name}'", False)
                edges.append(Edge(holder, target, f"'{r.name}' ({SECRETS[r.resource_type]}) is in the stack's "
                                                  "outputs"))
    return Graph(nodes, edges, everyone)


def _arn_principal(value: str, named: Callable[[str, str], Principal | None]) -> Principal | None:
    """The role or user a literal ARN (or assumed-role session ARN) names, if the model has it."""
    session = _ASSUMED_ROLE.match(value)
    if session:
        return named("role", session.group(1))
    for kind in ("role", "user"):
        name = value.rsplit("/", 1)[-1]
        if f":{kind}/" in value and not has_wildcard(value):
            return named(kind, name)
    return None


def _public_edges(statement: Mapping[str, Any], role: Principal, stand_in: Callable[[str, bool], Principal],
                  named: Callable[[str, str], Principal | None], edges: list[Edge]) -> None:
    """`"*"` in a trust: from the principals its caller conditions still admit."""
    if not scoping_conditions(statement):
        edges.append(Edge(stand_in("every principal of every AWS account", True), role,
                          f"the trust policy of '{role.name}' admits \"*\""))
        return
    accounts = condition_accounts(statement)
    organizations = condition_organizations(statement)
    arns = sorted({v for c in scoping_conditions(statement) if c.key == "aws:principalarn" for v in c.values})
    literal = [(v, _arn_principal(v, named)) for v in arns]
    if arns and all(p is not None for _, p in literal):  # only named principals: edges from each
        edges.extend(Edge(p, role, f"the trust policy of '{role.name}' admits \"*\" with aws:PrincipalArn '{v}'")
                     for v, p in literal if p is not None and p is not role)
        return
    if arns:
        label = f"every principal matching {', '.join(arns)}"
    elif accounts is not None:
        label = f"every principal of account {', '.join(sorted(accounts))}"
    else:
        label = f"every principal of organisation {', '.join(sorted(organizations))}"
    edges.append(Edge(stand_in(label, True), role, f"the trust policy of '{role.name}' admits \"*\" confined to "
                                                   f"{label.removeprefix('every principal ')}"))


def _aws_edges(value: str, role: Principal, named: Callable[[str, str], Principal | None], edges: list[Edge],
               trust: _Trust) -> None:
    """One AWS principal of a trust: an account root, a role, a user or an assumed-role session.

    IAM refuses wildcards in a principal ARN, so one admits nobody here (`iam-least-privilege` reports it).
    """
    if value.isdigit() or value.endswith(":root"):
        trust.roots.append(value if value.isdigit() else value.split(":")[4])
        return
    source = _arn_principal(value, named)
    if source is not None and source is not role:
        edges.append(Edge(source, role, f"the trust policy of '{role.name}' names '{value}'"))


def _role_arns(role: Principal, accounts: Iterable[str]) -> list[str]:
    return [f"arn:aws:iam::{account}:role/{_role_path_name(role)}" for account in accounts]


def _role_path_name(role: Principal) -> str:
    """`path/name` as a role ARN spells it after `role/` (the default path `/` is empty)."""
    path = next((c.props["path"] for c in role.claims if isinstance(c.props.get("path"), str)), "/")
    return f"{path.strip('/')}/{role.name}" if path.strip("/") else role.name


_BECOMING_SERVICES = frozenset({"sts", "iam", *(a.split(":")[0] for table in (COMPUTE, RUN_EXISTING)
                                                   for actions in table.values() for a in actions)})


def _may_grant_becoming(statement: Mapping[str, Any], prefixes: frozenset[str] = frozenset()) -> bool:
    """Whether a statement can grant an action of sts, iam, a compute service or one of `prefixes` (a cheap test
    before `grants`)."""
    if "NotAction" in statement:
        return True
    return any(isinstance(a, str) and (has_wildcard(service := a.split(":", 1)[0]) or
                                       service.lower() in _BECOMING_SERVICES or service.lower() in prefixes)
               for a in as_list(statement.get("Action")))


def service_prefix(service: str) -> str:
    """The IAM action prefix of a service principal: `states` for `states.amazonaws.com`."""
    return service.split(".", 1)[0].lower()


def _grants_write(statement: Mapping[str, Any], prefix: str) -> bool:
    """Whether a statement grants a write action of `prefix` (any action, when the pack's data does not know it)."""
    if "NotAction" in statement:
        excluded = tuple(sorted(str(a).lower() for a in as_list(statement["NotAction"])))
        return _write_outside(excluded, prefix)
    return any(isinstance(a, str) and _entry_writes(a.lower(), prefix) for a in as_list(statement.get("Action")))


@cache
def _entry_writes(entry: str, prefix: str) -> bool:
    """Whether one Action entry names a write action of `prefix` (cached: entries repeat across statements)."""
    service, _, name = entry.partition(":")
    if not _like(service, prefix) or (not name and entry != "*"):
        return False
    known = service_actions(prefix)
    return not known or any(a.is_write and _like(name or "*", a.name) for a in known)


@cache
def _write_outside(excluded: tuple[str, ...], prefix: str) -> bool:
    """Whether a NotAction list leaves some write action of `prefix` granted."""
    known = service_actions(prefix)
    if not known:
        return not any(_like(e, f"{prefix}:*") for e in excluded)
    return any(a.is_write and not any(_like(e, a.full_name) for e in excluded) for a in known)


class _Grants:
    """Turns sts:AssumeRole and iam:PassRole grants into edges, each wildcard pattern resolved once.

    A literal role ARN is one edge. A wildcard pattern (`role/*`, `role/team-*`) becomes one node of
    kind `pattern`, shared by every principal granted it, with one edge to each role it matches: edges
    stay linear in grants + matches, never principals x roles. Roles are found by the literal prefix
    of the pattern's name (a sorted index), so each pattern visits only the names it can match.
    """

    def __init__(self, nodes: list[Principal], trusts: Mapping[int, _Trust],
                 named: Callable[[str, str], Principal | None], edges: list[Edge]) -> None:
        self.nodes, self.trusts, self.named, self.edges = nodes, trusts, named, edges
        self.roles = sorted(((_role_path_name(r).lower(), r) for r in nodes if id(r) in trusts), key=lambda x: x[0])
        self.keys = [k for k, _ in self.roles]
        self.hubs: dict[tuple[str, str], Principal] = {}
        # Services the pack does not know how code is started in: passing a role to one is enough (fail closed),
        # and so is any write action of its prefix (updating a stack, a job, a state machine that runs as the role).
        self.others = sorted({s for t in trusts.values() for s in t.services
                              if s not in COMPUTE and s not in RUNS_NO_CALLER_CODE})
        self.prefixes = frozenset(service_prefix(s) for s in self.others)

    def add(self, principal: Principal, statements: list[dict[str, Any]]) -> None:
        assume: list[str] = []
        passed: list[str] = []
        starts: set[str] = set()
        running: dict[str, str] = {}
        for statement in statements:
            if not _may_grant_becoming(statement, self.prefixes):
                continue
            patterns = resource_patterns(statement)
            if grants(statement, "sts:AssumeRole"):
                assume += patterns
            if grants(statement, "iam:PassRole"):
                passed += patterns
            starts |= {s for s, actions in COMPUTE.items() if s not in starts and any(grants(statement, a)
                                                                                      for a in actions)}
            for service, actions in RUN_EXISTING.items():
                found = service not in running and next((a for a in actions if grants(statement, a)), None)
                if found:
                    running[service] = found
            for service in self.others:
                if service not in running and _grants_write(statement, service_prefix(service)):
                    running[service] = f"write actions of {service_prefix(service)}"
        for pattern in dict.fromkeys(assume):
            self._link(principal, pattern, "", f"it may sts:AssumeRole on '{pattern}'")
        for service in sorted(starts) + self.others if passed else []:
            for pattern in dict.fromkeys(passed):
                self._link(principal, pattern, service, f"it may iam:PassRole '{pattern}' to {service} and start "
                                                        "that compute" if service in COMPUTE else
                           f"it may iam:PassRole '{pattern}' to {service}, which acts as the role it is passed")
        for service, action in sorted(running.items()):
            self._link(principal, "*", service, f"it is granted {action}, which runs code as the roles {service} "
                                                "already acts as (its Resource names the compute, never the role)")

    def _link(self, principal: Principal, pattern: str, service: str, how: str) -> None:
        name = pattern.rsplit("/", 1)[-1] if ":role/" in pattern else "*"
        if not has_wildcard(name):
            role = self.named("role", name)
            if role is not None and role is not principal and self._reaches(role, pattern, service):
                self.edges.append(Edge(principal, role, how.replace(f"'{pattern}'", f"'{role.name}'")))
            return
        hub = self.hubs.get((pattern, service))
        if hub is None:
            hub = self.hubs[(pattern, service)] = Principal("pattern", pattern, stand_in=(
                f"the roles matching '{pattern}'" + (f" trusted by {service}" if service else "")))
            self.nodes.append(hub)
            for role in self._matching(pattern):
                if self._reaches(role, pattern, service):
                    self.edges.append(Edge(hub, role, f"'{role.name}' matches it and trusts "
                                                      f"{service or 'its account root'}"))
        self.edges.append(Edge(principal, hub, how))

    def _matching(self, pattern: str) -> list[Principal]:
        rest = pattern.split(":role/", 1)[1] if ":role/" in pattern else ""
        cut = min((i for i in (rest.find("*"), rest.find("?")) if i >= 0), default=len(rest))
        prefix = rest[:cut].lower()
        start = bisect.bisect_left(self.keys, prefix)
        out = []
        for key, role in self.roles[start:]:
            if not key.startswith(prefix):
                break
            out.append(role)
        return out

    def _reaches(self, role: Principal, pattern: str, service: str) -> bool:
        trust = self.trusts[id(role)]
        if service:
            return service in trust.services and any(
                _matches(pattern, arn) for arn in _role_arns(role, trust.roots or ["*"]))
        return bool(trust.roots) and any(_matches(pattern, arn) for arn in _role_arns(role, trust.roots))


def _like(pattern: str, value: str) -> bool:
    """Case-insensitive IAM matching; a literal pattern is compared as text (no pattern to compile)."""
    if not has_wildcard(pattern):
        return pattern.lower() == value.lower()
    return glob_match(pattern, value, case_sensitive=False)


def _matches(pattern: str, arn: str) -> bool:
    """Whether a Resource pattern can name the role ARN (an account left open, `*`, matches any)."""
    if _like(pattern, arn):
        return True
    parts, wanted = pattern.split(":", 5), arn.split(":", 5)
    if len(parts) != 6 or wanted[4] != "*":
        return False
    return _like(":".join(parts[:4]), ":".join(wanted[:4])) and _like(parts[5], wanted[5])

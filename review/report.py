"""The check's result and how it reads: plain text for a terminal, Markdown for a pull-request
comment (within a size budget, always well-formed), JSON for machines; and the difference between
two results (`--compare`)."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic.alias_generators import to_camel

from engine.analyzer import Violation
from engine.resource import Resource

from .access import LEVELS, REPOSITORY, ROLE, AccessReport, AccountAccess, RepoAccess, RoleAccess, repository_ids
from .access import repository_actions as _repository_actions
from .deletions import Deletion
from .guard import Guard, GuardChange, shown_ref
from .guard_model import GuardWriter
from .iam_eval import glob_match, has_wildcard
from .signing import signed_repositories, signing_lost

MANDATORY = "mandatory"
UNDECLARED = "(not declared in this stack)"
ADDED, REMOVED = "\N{HEAVY PLUS SIGN}", "\N{HEAVY MINUS SIGN}"
SIMULATED = "(simulated)"
SIMULATED_NOTE = (
    f"{SIMULATED}: a value only this offline run has (an id or key the mocks made up where AWS chooses); "
    "`pulumi preview` shows the real one."
)
Quote = Callable[[str], str]  # how a value is shown: `str` in text, a code span in Markdown


@dataclass
class Summary:
    stack: str
    environment: str
    account: str
    region: str
    teams: list[str]
    repositories: list[str]
    roles: list[str]
    resource_counts: dict[str, int]
    repository_teams: dict[str, str] = field(default_factory=dict)  # repository -> its `team` tag
    signed: dict[str, str] | None = None  # repository -> the Signer profile signing it; None: no signing


@dataclass
class CheckResult:
    summary: Summary
    access: AccessReport
    violations: list[Violation]
    guard: Guard | None = None  # None: the policy pack was not run (--no-policy)
    policy_descriptions: dict[str, str] = field(default_factory=dict)
    guard_change: GuardChange | None = None  # what the working tree changes in policy/ against guard.ref
    simulated: frozenset[str] = frozenset()  # values the mocks made up

    @property
    def policy_pack_ran(self) -> bool:
        return self.guard is not None

    @property
    def judged_by(self) -> str:
        """`policy/config/prod.json, policy/ at main (1a2b3c4d5e6f)`."""
        if self.guard is None:
            return "not run (--no-policy)"
        return f"{self.guard.config_shown}, {self.guard.source}"

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == MANDATORY]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement != MANDATORY]

    @property
    def exit_code(self) -> int:
        return 1 if self.mandatory else 0

    def marked(self, value: str) -> str:
        """`value`, followed by `(simulated)` when it holds something only the mocks made up."""
        return f"{value} {SIMULATED}" if self._holds_simulated(value) else value

    @functools.cached_property
    def _simulated_by_tail(self) -> tuple[int, dict[str, list[str]]]:
        """The simulated values by their last `width` characters (the mocks' random suffixes)."""
        width = min((len(s) for s in self.simulated), default=0)
        by_tail: dict[str, list[str]] = {}
        for s in self.simulated:
            by_tail.setdefault(s[len(s) - width:], []).append(s)
        return width, by_tail

    def _holds_simulated(self, value: str) -> bool:
        """Whether a simulated value occurs in `value`: each end position looked up by its tail, so the cost
        grows with the value's length, not with the thousands of values a large stack simulates."""
        width, by_tail = self._simulated_by_tail
        if not self.simulated:
            return False
        return any(value.endswith(s, 0, end) for end in range(width, len(value) + 1)
                   for s in by_tail.get(value[end - width:end], ()))


def summarize(stack: str, environment: str, resources: Sequence[Resource], access: AccessReport) -> Summary:
    """Teams from the `team` tags, repositories and roles as declared, custom resources counted by type."""
    custom = [r for r in resources if r.custom]
    teams = sorted({team for r in custom if (team := _team_tag(r))})
    repositories = sorted(_name(r) for r in custom if r.type == REPOSITORY)
    owners = {_name(r): team for r in custom if r.type == REPOSITORY and (team := _team_tag(r))}
    arn = next((str(r.state.get("arn", "")) for r in custom if r.type == REPOSITORY), "")
    region = arn.split(":")[3] if arn.count(":") >= 4 else ""
    roles = sorted(_name(r) for r in custom if r.type == ROLE)
    counts = Counter(r.type for r in custom)
    return Summary(stack, environment, access.account, region, teams, repositories, roles,
                   dict(sorted(counts.items())), dict(sorted(owners.items())),
                   signed_repositories(custom, repositories))


def _team_tag(resource: Resource) -> str:
    tags = resource.inputs.get("tags")
    return str(tags.get("team") or "") if isinstance(tags, dict) else ""


def _name(resource: Resource) -> str:
    return str(resource.state.get("name") or resource.inputs.get("name"))


# ---------------------------------------------------------------- facts (what a diff compares)


@dataclass(frozen=True, order=True)
class Fact:
    """One grant, flattened: `who` (a GitHub subject, service or account) -> `role` -> `target` at `level`."""

    kind: str  # github | service | aws | account (this account) | cross-account
    who: str
    role: str  # the role assumed, or the principal inside an account
    target: str  # repository, `create <pattern>`, or `<action> on <resource>`
    level: str  # pull | push | delete | manage | read | an action (a partial level) | create | other
    conditions: str = ""
    team: str = ""  # the role's team (its `team` tag), "" for a principal of no team

    @property
    def subject(self) -> str:
        """The GitHub subject pattern of a `github` fact (without its conditions), else ""."""
        return self.who.split(" (when ", 1)[0] if self.kind == "github" else ""

    def line(self) -> str:
        suffix = f" (when {self.conditions})" if self.conditions else ""
        return f"{self.who} → {self.role} → {self.target}: {self.level}{suffix}"

    @property
    def on_repository(self) -> bool:
        return self.level not in ("create", "other")


def _grant_facts(kind: str, who: str, role: str, holder: RoleAccess | AccountAccess) -> Iterable[Fact]:
    team = (holder.team or "") if isinstance(holder, RoleAccess) else ""
    for repo in holder.repositories:
        for label in repo.labels:
            yield Fact(kind, who, role, repo.repository, label, "; ".join(repo.conditions), team)
    for repo in holder.undeclared:
        for label in repo.labels:
            yield Fact(kind, who, role, f"{repo.repository} {UNDECLARED}", label, "; ".join(repo.conditions), team)
    for grant in holder.create:
        yield Fact(kind, who, role, f"create {grant.resource}", "create", "; ".join(grant.conditions), team)
    for grant in holder.other:
        yield Fact(kind, who, role, f"{grant.action} on {grant.resource}", "other", "; ".join(grant.conditions),
                   team)


def access_facts(report: AccessReport) -> set[Fact]:
    """Every grant in the report, each as one comparable fact."""
    facts: set[Fact] = set()
    for trust in report.trusts:
        if trust.effect == "none" or trust.role not in report.roles:
            continue
        who = trust.subject if trust.kind == "github" and trust.subject else f"{trust.kind} {trust.principal}"
        if trust.conditions:
            who = f"{who} (when {'; '.join(trust.conditions)})"
        facts.update(_grant_facts(trust.kind, who, trust.role, report.roles[trust.role]))
    for row in report.accounts:
        who = f"{row.account} ({row.label})" if row.label else row.account
        kind = "account" if row.account == report.account else "cross-account"
        facts.update(_grant_facts(kind, who, row.principal, row))
    return facts


@dataclass(frozen=True)
class MovedRepository:
    """A GitHub repository name whose trusted repository ID changed: trust moves to another repository
    (the signature of a repository deleted and re-created, or transferred, under the same name)."""

    name: str
    before: tuple[str, ...]
    after: tuple[str, ...]

    def line(self) -> str:
        return (f"{self.name}: repository ID {', '.join(self.before)} → {', '.join(self.after)}: trust moves to "
                "another repository (re-created or transferred under the same name?); check the ID with "
                f"gh api repos/{self.name} --jq .id")


def moved_repositories(base: AccessReport | None, head: AccessReport) -> list[MovedRepository]:
    """Names trusted with a repository ID on both sides whose IDs differ."""
    before, after = (repository_ids(base) if base else {}), repository_ids(head)
    return [MovedRepository(name, tuple(sorted(before[name])), tuple(sorted(after[name])))
            for name in sorted(before.keys() & after.keys())
            if before[name] and after[name] and before[name] != after[name]]


@dataclass(frozen=True)
class OverlapChange:
    """A GitHub subject whose set of assumable roles changed, where either side has more than one."""

    subject: str
    issuer: str
    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def gained(self) -> tuple[str, ...]:
        return tuple(r for r in self.after if r not in self.before)

    @property
    def lost(self) -> tuple[str, ...]:
        return tuple(r for r in self.before if r not in self.after)


def overlap_changes(base: AccessReport | None, head: AccessReport) -> list[OverlapChange]:
    """Subjects (the overlaps' examples on either side) that can now assume other roles than before."""
    subjects = sorted({o.example for o in head.overlaps} | {o.example for o in (base.overlaps if base else [])})
    changes = []
    for subject in subjects:
        before = base.assumable_by(subject) if base else {}
        after = head.assumable_by(subject)
        for issuer in sorted(before.keys() | after.keys()):
            old, new = before.get(issuer, ()), after.get(issuer, ())
            if old != new and max(len(old), len(new)) > 1:
                changes.append(OverlapChange(subject, issuer, old, new))
    return changes


@dataclass(frozen=True, order=True)
class Widening:
    """A grant that reaches further than before, said as one change: a subject pattern that now covers the
    old one (`refs/heads/main` -> `refs/heads/*`), or more access for the same principal on the same target."""

    kind: str
    who_before: str
    who_after: str
    role: str
    target: str
    level_before: str
    level_after: str
    conditions: str = ""
    team: str = ""


def widenings(before: set[Fact], after: set[Fact], added: set[Fact],
              removed: set[Fact]) -> tuple[list[Widening], set[Fact], set[Fact]]:
    """The widenings among the added and removed facts, and the facts they do not explain. Linear: facts
    are looked up by what must be equal, and a subject pattern is tried only against its own role's."""
    widened: list[Widening] = []
    explained_added: set[Fact] = set()
    explained_removed: set[Fact] = set()
    added_by: dict[tuple[str, str, str, str], list[Fact]] = {}
    for fact in added:
        if fact.kind == "github" and has_wildcard(fact.subject):
            added_by.setdefault((fact.role, fact.target, fact.level, fact.conditions), []).append(fact)
    for old in sorted(removed):
        if old.kind != "github":
            continue
        wider = next((a for a in added_by.get((old.role, old.target, old.level, old.conditions), [])
                      if glob_match(a.subject, old.subject)), None)
        if wider is not None:
            widened.append(Widening("subject", old.who, wider.who, old.role, old.target, old.level, old.level,
                                    old.conditions, old.team))
            explained_removed.add(old)
            explained_added.add(wider)
    grown = _by_grant(added - explained_added)
    # levels only of the grants that gained a fact (every fact of both sides would be 100,000 at 1,000 teams)
    levels_before = _levels_by_grant(f for f in before if (f.who, f.role, f.target) in grown)
    levels_after = _levels_by_grant(f for f in after if (f.who, f.role, f.target) in grown)
    for key, facts in sorted(grown.items()):
        if key not in levels_before or not all(f.on_repository for f in facts):
            continue
        fact = facts[0]
        widened.append(Widening("access", fact.who, fact.who, fact.role, fact.target, levels_before[key],
                                levels_after[key], fact.conditions, fact.team))
        explained_added.update(facts)
    return sorted(widened), added - explained_added, removed - explained_removed


def _by_grant(facts: Iterable[Fact]) -> dict[tuple[str, str, str], list[Fact]]:
    """Facts by (who, role, target)."""
    found: dict[tuple[str, str, str], list[Fact]] = {}
    for fact in facts:
        found.setdefault((fact.who, fact.role, fact.target), []).append(fact)
    return found


def _levels_by_grant(facts: Iterable[Fact]) -> dict[tuple[str, str, str], str]:
    """(who, role, target) -> its levels in reading order: `pull, push`."""
    return {key: ", ".join(sorted({f.level for f in found}, key=_label_rank))
            for key, found in _by_grant(facts).items()}


@dataclass
class Comparison:
    base_ref: str
    base_note: str
    added: list[Fact] = field(default_factory=list)
    removed: list[Fact] = field(default_factory=list)
    new_violations: list[Violation] = field(default_factory=list)
    resolved_violations: list[Violation] = field(default_factory=list)
    overlaps: list[OverlapChange] = field(default_factory=list)
    guard_change: GuardChange | None = None  # what this change does to policy/ against base_ref
    deletions: list[Deletion] = field(default_factory=list)  # stateful resources deleted or replaced
    deletions_known: bool = False  # False: the graphs were not compared (no base run), `deletions` says nothing
    moved: list[MovedRepository] = field(default_factory=list)  # same GitHub name, another repository ID
    signing_lost: list[str] = field(default_factory=list)  # repositories the base signed on push and head does not
    widened: list[Widening] = field(default_factory=list)  # grants that reach further (not in added/removed)
    changed_teams: list[str] = field(default_factory=list)  # teams whose grants, violations or resources changed

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.new_violations or self.resolved_violations
                    or self.overlaps or self.guard_change or self.deletions or self.moved
                    or self.signing_lost or self.widened)

    def grants(self, facts: Sequence[Fact], cross_account: bool) -> list[Fact]:
        return [f for f in facts if (f.kind == "cross-account") == cross_account]


def violation_key(v: Violation) -> tuple[str, str, str]:
    return (v.policy, v.resource, v.message)


def compare(base: CheckResult | None, head: CheckResult, base_ref: str, base_note: str = "",
            guard_change: GuardChange | None = None, deletions: Sequence[Deletion] | None = None,
            head_facts: set[Fact] | None = None) -> Comparison:
    """Grants, overlaps and violations added and removed from `base` to `head`, with the `deletions`
    found between their graphs (`deletions.find_deletions`; None: the graphs were not compared).
    `head_facts`: `access_facts(head.access)` when the caller has it already."""
    before = access_facts(base.access) if base else set()
    after = access_facts(head.access) if head_facts is None else head_facts
    widened, added, removed = widenings(before, after, after - before, before - after)
    old = {violation_key(v): v for v in (base.violations if base else [])}
    new = {violation_key(v): v for v in head.violations}
    comparison = Comparison(
        base_ref,
        base_note,
        sorted(added),
        sorted(removed),
        [new[k] for k in sorted(new.keys() - old.keys())],
        [old[k] for k in sorted(old.keys() - new.keys())],
        overlap_changes(base.access if base else None, head.access),
        guard_change,
        list(deletions or ()),
        deletions is not None,
        moved_repositories(base.access if base else None, head.access),
        signing_lost(base.summary.signed if base else None, head.summary.signed, head.summary.repositories),
        widened,
    )
    comparison.changed_teams = changed_teams(base, head, comparison, before ^ after)
    return comparison


def changed_teams(base: CheckResult | None, head: CheckResult, comparison: Comparison,
                  facts: Iterable[Fact]) -> list[str]:
    """Teams the change touches: added or dropped, or whose grants, violations or stateful resources changed."""
    summaries = [head.summary, *([base.summary] if base else [])]
    owner = {name: team for s in summaries for name, team in s.repository_teams.items()}
    role_team = {name: role.team for r in [head, *([base] if base else [])] for name, role in r.access.roles.items()
                 if role.team}
    teams = set(head.summary.teams) ^ set(base.summary.teams if base else head.summary.teams)
    for fact in facts:
        teams.update(t for t in (fact.team, owner.get(fact.target, "")) if t)
    all_teams = {t for s in summaries for t in s.teams}
    for v in [*comparison.new_violations, *comparison.resolved_violations]:
        teams.update(t for t in (owner.get(v.resource), role_team.get(v.resource),
                                 v.resource if v.resource in all_teams else None) if t)
    teams.update(t for d in comparison.deletions if (t := owner.get(d.name)))
    return sorted(teams)


# ---------------------------------------------------------------- findings said once


@dataclass
class Finding:
    """Violations that say the same thing about different resources: one row, with how many and which."""

    policy: str
    enforcement: str
    message: str  # the first one's message
    resources: list[str]


_QUOTED = re.compile(r"'[^'\n]*'")


def collapsed(violations: Iterable[Violation]) -> list[Finding]:
    """Violations grouped by policy, level and message once the names in it are taken out (the resource's,
    and what the pack quotes: `'payments/api'`), in order."""
    found: dict[tuple[str, str, str], Finding] = {}
    for v in violations:
        key = (v.policy, v.enforcement, _QUOTED.sub("'…'", v.message.replace(v.resource, "…") if v.resource
                                                    else v.message))
        if key in found:
            found[key].resources.append(v.resource)
        else:
            found[key] = Finding(v.policy, v.enforcement, v.message, [v.resource])
    return list(found.values())


# ---------------------------------------------------------------- shared helpers


def compact_repositories(names: Iterable[str], everything: Sequence[str] = ()) -> str:
    """`dc43/{contracts-app,http-backend}, chatgpt-web`; `all 9 repositories` when it is every one."""
    names = sorted(set(names))
    if not names:
        return "—"
    if len(names) > 2 and len(names) == len(everything) and set(names) == set(everything):
        return f"all {len(names)} repositories"
    groups: dict[str, list[str]] = {}
    for name in names:
        prefix, _, leaf = name.rpartition("/")
        groups.setdefault(prefix, []).append(leaf)
    parts = []
    for prefix, leaves in groups.items():
        if not prefix:
            parts.extend(leaves)
        elif len(leaves) == 1:
            parts.append(f"{prefix}/{leaves[0]}")
        else:
            parts.append(f"{prefix}/{{{','.join(leaves)}}}")
    return ", ".join(parts)


SUMMARY_ITEMS = 20


def first(names: Sequence[str], template: str = "{}", compact: bool = False) -> str:
    """A summary line: at most SUMMARY_ITEMS names, then how many more (the access sections list all)."""
    shown = names[:SUMMARY_ITEMS]
    text = compact_repositories(shown) if compact else ", ".join(template.format(n) for n in shown)
    return text + (f", … and {len(names) - len(shown)} more" if len(names) > len(shown) else "")


def count(n: int, noun: str) -> str:
    """`1 repository`, `2 repositories`, `0 roles`."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"


def _label_rank(label: str) -> int:
    return LEVELS.index(label) if label in LEVELS else LEVELS.index(_repository_actions().get(label, "manage"))


def _by_labels(repositories: Sequence[RepoAccess], everything: Sequence[str]) -> list[tuple[str, str]]:
    """Repositories grouped by identical grants (and conditions): [(`pull, push`, `dc43/{a,b}`)]."""
    groups: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for repo in repositories:
        groups.setdefault((repo.labels, when_clause(repo.conditions)), []).append(repo.repository)
    ranked = sorted(groups.items(), key=lambda item: ([_label_rank(lb) for lb in item[0][0]], item[0]))
    return [(", ".join(labels) + when, compact_repositories(names, everything)) for (labels, when), names in ranked]


def access_lines(holder: RoleAccess | AccountAccess, everything: Sequence[str]) -> list[tuple[str, str]]:
    """(grants, repositories) lines: declared repositories grouped, then undeclared name patterns."""
    lines = _by_labels(holder.repositories, everything)
    lines += [(", ".join(r.labels), f"{r.repository} {UNDECLARED}") for r in holder.undeclared]
    return lines


def when_clause(conditions: Sequence[str]) -> str:
    return f" (when {'; '.join(conditions)})" if conditions else ""


def other_rights(result: CheckResult, holder: RoleAccess | AccountAccess, q: Quote) -> list[str]:
    rights = [f"create {q(g.resource)}{when_clause(g.conditions)}" for g in holder.create]
    rights += [f"{q(g.action)} on {q(result.marked(g.resource))}{when_clause(g.conditions)}" for g in holder.other]
    if isinstance(holder, RoleAccess) and holder.unevaluated:
        rights.append("not evaluated: " + ", ".join(q(result.marked(a)) for a in holder.unevaluated))
    return rights


def trusted_by(result: CheckResult, role: str, q: Quote) -> list[str]:
    shown = []
    for t in result.access.trusts_of(role):
        if t.effect == "none":
            continue
        label = q(t.subject or "") if t.kind == "github" else f"{t.kind} {q(result.marked(t.principal))}"
        extras = [words] if (words := subject_words(t.subject or "")) else []
        extras += [t.match] if t.match and t.match != "exact" else []
        extras += list(t.notes) + [f"when {c}" for c in t.conditions]
        shown.append(label + (f" ({'; '.join(extras)})" if extras else ""))
    return shown


def unreachable(result: CheckResult, q: Quote) -> list[str]:
    return [
        f"{q(t.subject or t.principal)} → {q(t.role)}: {'; '.join(t.notes) or 'denied'}"
        for t in result.access.trusts
        if t.effect == "none"
    ]


def principal_shown(result: CheckResult, row: AccountAccess, q: Quote) -> str:
    if row.principal == "account":
        return "whole account"
    return q(result.marked(row.principal))


def account_shown(row: AccountAccess, q: Quote) -> str:
    return q(row.account) + (f" ({row.label})" if row.label else "")


def team_roles(result: CheckResult) -> dict[str, list[RoleAccess]]:
    """Roles someone is trusted to assume, by team (`""`: no team)."""
    teams: dict[str, list[RoleAccess]] = {}
    for name, role in result.access.roles.items():
        if any(t.effect != "none" for t in result.access.trusts_of(name)):
            teams.setdefault(role.team or "", []).append(role)
    return teams


def subject_words(subject: str, before: str = "", after: str = "") -> str:
    """What a GitHub subject pattern trusts, in words, between `before` and `after`: `repo:acme/*` is every
    repository of acme, `repo:acme/api:*` any ref of acme/api; "" for a subject that says it plainly."""
    match = re.fullmatch(r"repo:([^/:]+)/([^:]+)(?::(.*))?", subject.split(" (when ", 1)[0])
    if match is None:
        return ""
    owner, repository, ref = match.groups()
    if repository == "*":
        words = f"every repository of {owner}" + ("" if ref in (None, "*") else f", {_ref_words(ref)}")
    elif ref == "*":
        words = f"{owner}/{repository}, any ref"
    elif ref in ("ref:refs/heads/*", "ref:*"):
        words = f"{owner}/{repository}, any branch" if ref.endswith("heads/*") else f"{owner}/{repository}, any ref"
    elif ref == "ref:refs/tags/*":
        words = f"{owner}/{repository}, any tag"
    elif ref == "environment:*":
        words = f"{owner}/{repository}, any environment"
    else:
        return ""
    return f"{before}{words}{after}"


def _ref_words(ref: str) -> str:
    """`ref:refs/heads/main` -> `branch main`, `ref:refs/tags/v*` -> `tags v*`, anything else as is."""
    for prefix, word in (("ref:refs/heads/", "branch"), ("ref:refs/tags/", "tag"), ("environment:", "environment")):
        if ref.startswith(prefix):
            return f"{word} {ref.removeprefix(prefix)}"
    return ref


def writer_shown(writer: GuardWriter, q: Quote, prose: Quote = str) -> str:
    """The guard's label for the principal (`prose`: how free text is shown), and its team tag."""
    return prose(writer.label) + (f" (team {q(writer.team)})" if writer.team else "")


def writes_shown(writer: GuardWriter, everything: Sequence[str]) -> str:
    if writer.everywhere:
        return "writes every repository, and any created later"
    return f"writes {compact_repositories(writer.repositories, everything)}"


def role_shown(role: str, team: str, q: Quote = str) -> str:
    """`github-push-payments` with its team: `github-push-payments (team payments)`."""
    shown = "whole account" if role == "account" else q(role)
    return f"{shown} (team {q(team)})" if team else shown


def grouped_changes(facts: Sequence[Fact], sign: str, q: Quote,
                    joiner: str) -> list[tuple[str, str, str, str, str, str]]:
    """Changed grants, one row per (who, role, conditions, targets) with the targets compacted and the levels
    joined: (sign, who, role with its team, levels, conditions, targets)."""
    groups: dict[tuple[str, str, str, str, str], list[Fact]] = {}
    for f in facts:
        groups.setdefault((f.who, f.role, f.team, f.level, f.conditions), []).append(f)
    merged: dict[tuple[str, str, str, str, str], list[str]] = {}
    for (who, role, team, level, conditions), found in groups.items():
        targets = [f.target for f in found]
        shown = (compact_repositories(targets) if found[0].on_repository
                 else joiner.join(q(t) for t in sorted(targets)))
        merged.setdefault((who, role, team, conditions, shown), []).append(level)
    return [(sign, who, role_shown(role, team, q), ", ".join(sorted(levels, key=_label_rank)), conditions, shown)
            for (who, role, team, conditions, shown), levels in merged.items()]


def grouped_widenings(widened: Sequence[Widening], q: Quote,
                      strong: Quote = str) -> list[tuple[str, str, str, str, str, str, str]]:
    """One row per widening and set of targets, the levels of a subject widening joined:
    (kind, who before, who after, role with its team, targets, access, conditions)."""
    levels: dict[tuple[tuple[str, str, str, str, str, str], str], list[str]] = {}
    for w in widened:
        key = (w.kind, w.who_before, w.who_after, w.role, w.team, w.conditions)
        levels.setdefault((key, w.target), []).append(w.level_after if w.kind == "subject"
                                                      else f"{w.level_before} → {strong(w.level_after)}")
    groups: dict[tuple[tuple[str, str, str, str, str, str], str], list[str]] = {}
    for (key, target), found in levels.items():
        groups.setdefault((key, ", ".join(found)), []).append(target)
    return [(kind, before, after, role_shown(role, team, q), compact_repositories(targets),
             strong(access) if kind == "subject" else access, when)
            for ((kind, before, after, role, team, when), access), targets in groups.items()]


def deletion_verdict(deletion: Deletion, q: Quote) -> str:
    """`retired (retire.repositories)`, the level the guard gave it, or that no guard judged it."""
    if deletion.retired_by:
        return f"retired ({q(deletion.retired_by)})"
    if deletion.enforcement == "disabled":
        return f"not retired; not judged: {q('protect-registries')} is disabled here"
    return deletion.enforcement or "not judged (--no-policy)"


def verdict(result: CheckResult) -> str:
    if not result.policy_pack_ran:
        return "access report only (policy pack not run)"
    return "FAIL (mandatory violations)" if result.mandatory else "OK"


# ---------------------------------------------------------------- text


def _text_guard_change(result: CheckResult, change: GuardChange | None) -> list[str]:
    if change is None:
        return []
    if result.guard is None:
        judged = "the policy pack was not run (--no-policy)"
    elif result.guard.ref is not None:
        judged = f"judged by the guard at {result.guard.ref_shown}, not by its own"
    else:
        judged = f"judged by its own, edited guard (POLICY_REF={change.ref} judges it by the base's)"
    out = [f"  THIS CHANGE EDITS THE GUARD (policy/ differs from {change.ref_shown}); {judged}:"]
    out += [f"    {change.file_summary(f)}" for f in change.files]
    out += [f"    {change.setting_summary(s)}" for s in change.settings]
    return out


def render_text(result: CheckResult, comparison: Comparison | None = None) -> str:
    s, report = result.summary, result.access
    out = [f"ecr-platform check: stack {s.stack} (environment {s.environment}, account {s.account}, {s.region})",
           f"  guard: {result.judged_by}"]
    out += _text_deletions(comparison)
    out += _text_guard_change(result, result.guard_change or (comparison.guard_change if comparison else None))
    out += [
        f"  teams ({len(s.teams)}): {first(s.teams) or '-'}",
        f"  repositories ({len(s.repositories)}): {first(s.repositories, compact=True)}",
        f"  roles ({len(s.roles)}): {first(s.roles) or '-'}",
        f"  resources ({sum(s.resource_counts.values())}):",
    ]
    width = max((len(t) for t in s.resource_counts), default=0)
    out += [f"    {t.ljust(width)}  {n}" for t, n in s.resource_counts.items()]
    out += _text_signing(s)
    if comparison is not None:
        out += ["", *_text_comparison(comparison)]
    out += ["", "Who can assume which role, and what it can do"]
    for name, role in report.roles.items():
        trusted = trusted_by(result, name, q=str)
        if not trusted:
            continue
        out.append(f"  role {role_shown(name, role.team or '')}")
        out += [f"    trusted by {t}" for t in trusted]
        out += [f"    {lv}: {repos}" for lv, repos in access_lines(role, s.repositories)]
        out += [f"    {r}" for r in other_rights(result, role, q=str)]
    if report.overlaps:
        out += ["", "Subjects that can assume more than one role"]
        out += [
            f"  {o.example}: {o.role} (via {o.subject}) and {o.also_role} (via {o.also_subject})"
            for o in report.overlaps
        ]
    if report.other_writers:
        out += ["", "Other principals that can write (the guard's model)"]
        for w in report.other_writers:
            out.append(f"  {writer_shown(w, str)}: {writes_shown(w, s.repositories)}")
            out += [f"    via {v}" for v in w.via]
    if report.can_become:
        out += ["", "Who can become whom (the guard's principal graph)"]
        out += [f"  {b.principal} can become {b.becomes} via {'; '.join(b.via)}" for b in report.can_become]
    if unusable := unreachable(result, q=str):
        out += ["", "Trusted subjects that no GitHub token can use"] + [f"  {u}" for u in unusable]
    out += ["", "AWS accounts"]
    for row in report.accounts:
        out.append(f"  {account_shown(row, q=str)}: {principal_shown(result, row, q=str)}, via {row.via}")
        out += [f"    {lv}: {repos}" for lv, repos in access_lines(row, s.repositories)]
        out += [f"    {r}" for r in other_rights(result, row, q=str)]
    if result.policy_pack_ran:
        out += ["", f"Policy violations: {len(result.mandatory)} mandatory, {len(result.advisory)} advisory"]
    else:
        out += ["", "Policy violations: not checked (--no-policy)"]
    for title, group in (("mandatory", result.mandatory), ("advisory", result.advisory)):
        by_policy: dict[str, list[Violation]] = {}
        for v in group:
            by_policy.setdefault(v.policy, []).append(v)
        for policy, found in sorted(by_policy.items()):
            description = result.policy_descriptions.get(policy)
            out.append(f"  [{title}] {policy}" + (f": {description}" if description else ""))
            out += [
                f"    {v.resource}: " + v.message.replace("\n", "\n      ")
                for v in sorted(found, key=lambda v: (v.resource, v.message))
            ]
    if result.simulated and any(SIMULATED in line for line in out):
        out += ["", SIMULATED_NOTE.replace("`", "")]
    out += ["", "Result: " + verdict(result)]
    return "\n".join(out) + "\n"


def _text_signing(s: Summary) -> list[str]:
    if s.signed is None:
        return []
    by_profile: dict[str, list[str]] = {}
    for name, profile in s.signed.items():
        by_profile.setdefault(profile, []).append(name)
    out = [f"  signed on push ({len(s.signed)} of {len(s.repositories)} repositories):"]
    out += [f"    {profile}: {compact_repositories(names, s.repositories)}"
            for profile, names in sorted(by_profile.items())]
    unsigned = [name for name in s.repositories if name not in s.signed]
    return out + ([f"    not signed: {compact_repositories(unsigned, s.repositories)}"] if unsigned else [])


def _text_deletions(comparison: Comparison | None) -> list[str]:
    if comparison is None or not comparison.deletions:
        return []
    out = [f"  THIS CHANGE DELETES OR REPLACES {count(len(comparison.deletions), 'stateful resource').upper()}:"]
    for d in comparison.deletions:
        out.append(f"    - {d.action} {d.shown} [{deletion_verdict(d, str)}]: {d.reason}; lost: {d.lost}")
        out.append(f"      urn: {d.urn}" + (f" (protected: {d.unprotect})" if d.protected else ""))
    return out


def _text_comparison(comparison: Comparison) -> list[str]:
    out = [f"Compared with {shown_ref(comparison.base_ref)}"
           + (f" ({comparison.base_note})" if comparison.base_note else "")]
    if comparison.unchanged:
        out.append("  no change in access or violations")
    if comparison.deletions_known and not comparison.deletions:
        out.append("  no stateful resource is deleted or replaced")
    if comparison.guard_change:
        out.append(f"  the guard (policy/): {comparison.guard_change.summary()}")
    out += [f"  TRUST MOVES TO ANOTHER REPOSITORY: {moved.line()}" for moved in comparison.moved]
    if comparison.signing_lost:
        out.append(f"  signing lost: images pushed to {compact_repositories(comparison.signing_lost)} are no "
                   "longer signed")
    if comparison.overlaps:
        out.append("  subjects that can assume more than one role:")
        out += [f"    {'+' if o.gained else '-'} {o.subject}: {', '.join(o.after) or 'no role'}"
                f" (was: {', '.join(o.before) or 'no role'})" for o in comparison.overlaps]
    if comparison.changed_teams:
        out.append(f"  changed teams ({len(comparison.changed_teams)}): {', '.join(comparison.changed_teams)}")
    if comparison.widened:
        out.append("  widened:")
        for kind, before, after, role, targets, access, when in grouped_widenings(comparison.widened, str):
            who = f"{before} (widened to {after})" if kind == "subject" else before
            out.append(f"    ^ {who} → {role} → {targets}: {access}" + (f" (when {when})" if when else ""))
    for title, cross in (("cross-account access", True), ("grants", False)):
        rows = [
            f"    {'+' if sign == ADDED else '-'} {who} → {role} → {targets}: {level}"
            + (f" (when {conditions})" if conditions else "")
            for facts, sign in ((comparison.grants(comparison.added, cross), ADDED),
                                (comparison.grants(comparison.removed, cross), REMOVED))
            for sign, who, role, level, conditions, targets in grouped_changes(facts, sign, str, "; ")
        ]
        if rows:
            out += [f"  {title}:", *rows]
    if comparison.new_violations or comparison.resolved_violations:
        out.append("  violations:")
        out += [f"    + [{v.enforcement}] {v.policy}: {v.resource}: {v.message}" for v in comparison.new_violations]
        out += [f"    - [{v.enforcement}] {v.policy}: {v.resource}: {v.message} (resolved)"
                for v in comparison.resolved_violations]
    return out


# ---------------------------------------------------------------- json


def _plain(value: Any) -> Any:
    """JSON-ready data; a dataclass's fields keyed in camelCase, the one key style of the whole document
    (the keys of mappings, such as type tokens or role names, are data and stay as they are)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {to_camel(f.name): _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value


def _guard_json(result: CheckResult) -> dict[str, Any] | None:
    if result.guard is None:
        return None
    g = result.guard
    return {"config": g.config_shown, "source": g.source, "ref": g.ref, "commit": g.commit}


def _guard_change_json(change: GuardChange | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {"ref": change.ref, "commit": change.commit, "summary": change.summary(),
            "files": [_plain(f) for f in change.files], "settings": [_plain(s) for s in change.settings]}


def to_json(result: CheckResult, comparison: Comparison | None = None) -> str:
    document: dict[str, Any] = {
        "summary": _plain(result.summary),
        "guard": _guard_json(result),
        "guardChange": _guard_change_json(result.guard_change),
        "access": _plain(result.access),
        "facts": [f.line() for f in sorted(access_facts(result.access))],
        # in a stable order: the pack's follows the program's registration, which is concurrent
        "violations": [{**_plain(v), "resource": v.resource}
                       for v in sorted(result.violations, key=lambda v: (v.policy, v.urn, v.message, v.enforcement))],
        "simulated": sorted(result.simulated),
        "exitCode": result.exit_code,
    }
    if comparison is not None:
        document["comparison"] = {
            "baseRef": comparison.base_ref,
            "baseNote": comparison.base_note,
            "added": [_plain(f) for f in comparison.added],
            "removed": [_plain(f) for f in comparison.removed],
            "crossAccountAdded": [_plain(f) for f in comparison.grants(comparison.added, True)],
            "crossAccountRemoved": [_plain(f) for f in comparison.grants(comparison.removed, True)],
            "widened": [_plain(w) for w in comparison.widened],
            "changedTeams": comparison.changed_teams,
            "overlapChanges": [{**_plain(o), "gained": list(o.gained), "lost": list(o.lost)}
                               for o in comparison.overlaps],
            "movedRepositories": [_plain(m) for m in comparison.moved],
            "newViolations": [_plain(v) for v in comparison.new_violations],
            "resolvedViolations": [_plain(v) for v in comparison.resolved_violations],
            "guardChange": _guard_change_json(comparison.guard_change),
            "signingLost": comparison.signing_lost,
            "deletions": [{**_plain(d), "kind": d.kind.label, "lost": d.lost, "advice": d.advice(),
                           "message": d.message()} for d in comparison.deletions],
        }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"

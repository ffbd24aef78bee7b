"""The check's result and how it reads: plain text for a terminal, markdown for a pull-request
comment, JSON for machines; and the difference between two results (`--compare`)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .access import LEVELS, REPOSITORY, ROLE, AccessReport, AccountAccess, RepoAccess, ResourceLike, RoleAccess

MANDATORY = "mandatory"
UNDECLARED = "(not declared in this stack)"
ADDED, REMOVED = "\N{HEAVY PLUS SIGN}", "\N{HEAVY MINUS SIGN}"


@dataclass(frozen=True)
class Violation:
    """One policy violation as the pack reported it."""

    policy: str
    enforcement: str  # mandatory | advisory | remediate | disabled
    message: str
    urn: str = ""

    @property
    def resource(self) -> str:
        """The resource's logical name (the URN's last part), or `stack` for stack-level findings."""
        return self.urn.rsplit("::", 1)[-1] if self.urn else "stack"


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


@dataclass
class CheckResult:
    summary: Summary
    access: AccessReport
    violations: list[Violation]
    policy_config: str | None = None
    policy_descriptions: dict[str, str] = field(default_factory=dict)
    policy_pack_ran: bool = True

    @property
    def policy_pack_shown(self) -> str:
        if not self.policy_pack_ran:
            return "not run (--no-policy)"
        return self.policy_config or "pack defaults"

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == MANDATORY]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement != MANDATORY]

    @property
    def exit_code(self) -> int:
        return 1 if self.mandatory else 0


def summarize(stack: str, environment: str, resources: Sequence[ResourceLike], access: AccessReport) -> Summary:
    """Teams from the `team` tags, repositories and roles as declared, custom resources counted by type."""
    custom = [r for r in resources if r.custom]
    teams = sorted(
        {str(tags["team"]) for r in custom if isinstance(tags := r.inputs.get("tags"), dict) and tags.get("team")}
    )
    repositories = sorted(str(r.outputs.get("name") or r.inputs.get("name")) for r in custom if r.type == REPOSITORY)
    arn = next((str(r.outputs.get("arn", "")) for r in custom if r.type == REPOSITORY), "")
    region = arn.split(":")[3] if arn.count(":") >= 4 else ""
    roles = sorted(str(r.outputs.get("name") or r.inputs.get("name")) for r in custom if r.type == ROLE)
    counts = Counter(r.type for r in custom)
    return Summary(stack, environment, access.account, region, teams, repositories, roles, dict(sorted(counts.items())))


# ---------------------------------------------------------------- facts (what a diff compares)


@dataclass(frozen=True, order=True)
class Fact:
    """One grant, flattened: `who` (a GitHub subject, service or account) -> `role` -> `target` at `level`."""

    kind: str  # github | service | aws | account
    who: str
    role: str  # the role assumed, or the principal inside an account
    target: str  # repository, `create <pattern>`, or `<action> on <resource>`
    level: str
    conditions: str = ""

    def line(self) -> str:
        suffix = f" (when {self.conditions})" if self.conditions else ""
        return f"{self.who} → {self.role} → {self.target}: {self.level}{suffix}"


def shown_levels(levels: Iterable[str]) -> list[str]:
    """Levels as shown: `read` is implied by `pull`, so it is only shown alone."""
    levels = list(levels)
    return [lv for lv in levels if lv != "read" or "pull" not in levels]


def _grant_facts(kind: str, who: str, role: str, holder: RoleAccess | AccountAccess) -> Iterable[Fact]:
    for repo in holder.repositories:
        for level in shown_levels(repo.levels):
            yield Fact(kind, who, role, repo.repository, level, "; ".join(repo.conditions))
    for repo in holder.undeclared:
        for level in shown_levels(repo.levels):
            yield Fact(kind, who, role, f"{repo.repository} {UNDECLARED}", level, "; ".join(repo.conditions))
    for grant in holder.create:
        yield Fact(kind, who, role, f"create {grant.resource}", "create", "; ".join(grant.conditions))
    for grant in holder.other:
        yield Fact(kind, who, role, f"{grant.action} on {grant.resource}", "other", "; ".join(grant.conditions))


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
        facts.update(_grant_facts("account", who, row.principal, row))
    return facts


@dataclass
class Comparison:
    base_ref: str
    base_note: str
    added: list[Fact] = field(default_factory=list)
    removed: list[Fact] = field(default_factory=list)
    new_violations: list[Violation] = field(default_factory=list)
    resolved_violations: list[Violation] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.new_violations or self.resolved_violations)


def compare(base: CheckResult | None, head: CheckResult, base_ref: str, base_note: str = "") -> Comparison:
    """Grants added and removed, violations new and resolved, from `base` to `head`."""
    before = access_facts(base.access) if base else set()
    after = access_facts(head.access)

    def key(v: Violation) -> tuple[str, str, str]:
        return (v.policy, v.resource, v.message)

    old = {key(v): v for v in (base.violations if base else [])}
    new = {key(v): v for v in head.violations}
    return Comparison(
        base_ref,
        base_note,
        sorted(after - before),
        sorted(before - after),
        [new[k] for k in sorted(new.keys() - old.keys())],
        [old[k] for k in sorted(old.keys() - new.keys())],
    )


# ---------------------------------------------------------------- shared helpers


def compact_repositories(names: Iterable[str], everything: Sequence[str] = ()) -> str:
    """`dc43/{contracts-app,http-backend}, chatgpt-web`; `all 9 repositories` when it is every one."""
    names = sorted(set(names))
    if not names:
        return "—"
    if everything and len(names) > 2 and set(names) == set(everything):
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


def _first(names: Sequence[str], template: str = "{}", compact: bool = False) -> str:
    """A summary line: at most SUMMARY_ITEMS names, then how many more (the access sections list all)."""
    shown = names[:SUMMARY_ITEMS]
    text = compact_repositories(shown) if compact else ", ".join(template.format(n) for n in shown)
    return text + (f", … and {len(names) - len(shown)} more" if len(names) > len(shown) else "")


def _by_levels(repositories: Sequence[RepoAccess], everything: Sequence[str]) -> list[tuple[str, str]]:
    """Repositories grouped by identical levels (and conditions): [(`pull, push`, `dc43/{a,b}`)]."""
    groups: dict[tuple[str, str], list[str]] = {}
    for repo in repositories:
        levels = ", ".join(shown_levels(repo.levels))
        when = f" (when {'; '.join(repo.conditions)})" if repo.conditions else ""
        groups.setdefault((levels, when), []).append(repo.repository)
    order = {lv: i for i, lv in enumerate(LEVELS)}
    ranked = sorted(groups.items(), key=lambda item: ([order[lv] for lv in item[0][0].split(", ")], item[0][1]))
    return [(levels + when, compact_repositories(names, everything)) for (levels, when), names in ranked]


def _access_lines(holder: RoleAccess | AccountAccess, everything: Sequence[str]) -> list[tuple[str, str]]:
    """(levels, repositories) lines: declared repositories grouped, then undeclared name patterns."""
    lines = _by_levels(holder.repositories, everything)
    lines += [(", ".join(shown_levels(r.levels)), f"{r.repository} {UNDECLARED}") for r in holder.undeclared]
    return lines


def _other_rights(role: RoleAccess | AccountAccess) -> list[str]:
    rights = [
        f"create `{g.resource}`" + (f" (when {'; '.join(g.conditions)})" if g.conditions else "") for g in role.create
    ]
    rights += [
        f"`{g.action}` on `{g.resource}`" + (f" (when {'; '.join(g.conditions)})" if g.conditions else "")
        for g in role.other
    ]
    if isinstance(role, RoleAccess) and role.unevaluated:
        rights.append("not evaluated: " + ", ".join(f"`{a}`" for a in role.unevaluated))
    return rights


def _trusted_by(report: AccessReport, role: str) -> list[str]:
    shown = []
    for t in report.trusts:
        if t.role != role or t.effect == "none":
            continue
        label = f"`{t.subject}`" if t.kind == "github" else f"{t.kind} `{t.principal}`"
        extras = [t.match] if t.match and t.match != "exact" else []
        extras += list(t.notes) + [f"when {c}" for c in t.conditions]
        shown.append(label + (f" ({'; '.join(extras)})" if extras else ""))
    return shown


def _unreachable(report: AccessReport) -> list[str]:
    return [
        f"`{t.subject or t.principal}` → `{t.role}`: {'; '.join(t.notes) or 'denied'}"
        for t in report.trusts
        if t.effect == "none"
    ]


# ---------------------------------------------------------------- markdown


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _collapsible(summary: str, body: list[str], open_when_short: int = 12) -> list[str]:
    """Long sections fold away so the comment stays readable."""
    if len(body) <= open_when_short:
        return body
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def _md_roles(report: AccessReport, summary: Summary) -> list[str]:
    rows = []
    for name, role in report.roles.items():
        trusted = _trusted_by(report, name)
        if not trusted:
            continue
        access = "<br>".join(f"**{lv}**: {repos}" for lv, repos in _access_lines(role, summary.repositories)) or "—"
        rows.append(["<br>".join(trusted), f"`{name}`", access, "<br>".join(_other_rights(role)) or "—"])
    return _table(["Trusted by", "Role", "Repositories", "Other rights"], rows)


def _md_accounts(report: AccessReport, summary: Summary) -> list[str]:
    rows = []
    for row in report.accounts:
        account = f"`{row.account}`" + (f" ({row.label})" if row.label else "")
        principal = "whole account" if row.principal == "account" else f"`{row.principal}`"
        access = "<br>".join(f"**{lv}**: {repos}" for lv, repos in _access_lines(row, summary.repositories)) or "—"
        rows.append([account, principal, row.via, access, "<br>".join(_other_rights(row)) or "—"])
    return _table(["Account", "Principal", "Via", "Repositories", "Other rights"], rows)


def _md_violations(violations: Sequence[Violation]) -> list[str]:
    rows = [
        [f"`{v.policy}`", f"`{v.resource}`", v.message]
        for v in sorted(violations, key=lambda v: (v.policy, v.resource, v.message))
    ]
    return _table(["Policy", "Resource", "Message"], rows)


def _md_headline(result: CheckResult) -> str:
    status = (
        f"❌ **{len(result.mandatory)} mandatory violation(s)**"
        if result.mandatory
        else "✅ **no mandatory violations**"
    )
    s = result.summary
    return (
        f"{status} · {len(result.advisory)} advisory · {len(s.teams)} teams · {len(s.repositories)} "
        f"repositories · {len(s.roles)} roles · {sum(s.resource_counts.values())} resources"
    )


def render_markdown(result: CheckResult, heading: bool = True) -> str:
    s, report = result.summary, result.access
    lines = [f"## ecr-platform check: `{s.stack}`", "", _md_headline(result), ""] if heading else []
    lines += ["### Summary", ""]
    lines += _table(
        ["", ""],
        [
            ["Stack", f"`{s.stack}` (environment `{s.environment}`, account `{s.account}`, `{s.region}`)"],
            ["Teams", _first(s.teams, "`{}`") or "—"],
            ["Repositories", f"{len(s.repositories)}: {_first(s.repositories, '{}', compact=True)}"],
            ["Roles", _first(s.roles, "`{}`") or "—"],
            ["Policy pack config", f"`{result.policy_config}`" if result.policy_config else result.policy_pack_shown],
        ],
    )
    lines += [
        "",
        *_collapsible(
            f"Resources by type ({sum(s.resource_counts.values())})",
            _table(["Type", "Count"], [[f"`{t}`", str(n)] for t, n in s.resource_counts.items()]),
            open_when_short=0,
        ),
    ]
    lines += ["", "### Who can assume which role, and what it can do", ""]
    lines += _collapsible(f"{len(report.roles)} roles", _md_roles(report, s), open_when_short=25)
    if report.overlaps:
        lines += ["", "#### ⚠️ Subjects that can assume more than one role", ""]
        lines += _collapsible(
            f"{len(report.overlaps)} overlaps",
            _table(
                ["A workflow with subject", "assumes", "via", "and also", "via"],
                [
                    [
                        f"`{o.example}`",
                        f"`{o.role}`",
                        f"`{o.subject}`",
                        f"`{o.also_role}`",
                        f"`{o.also_subject}`",
                    ]
                    for o in report.overlaps
                ],
            ),
        )
    if unreachable := _unreachable(report):
        lines += ["", "#### Trusted subjects that no GitHub token can use", ""]
        lines += [f"- {u}" for u in unreachable]
    lines += ["", "### AWS accounts", ""]
    lines += _collapsible(f"{len(report.accounts)} principals", _md_accounts(report, s), open_when_short=25)
    lines += [
        "",
        "_Other accounts also need their own IAM policies to allow what a repository policy grants._",
    ]
    lines += ["", "### Policy violations", ""]
    if not result.policy_pack_ran:
        lines.append("Not checked: the policy pack was not run (`--no-policy`).")
    elif not result.violations:
        lines.append("None.")
    for title, group in (("Mandatory", result.mandatory), ("Advisory", result.advisory)):
        if group:
            lines += [f"#### {title} ({len(group)})", ""]
            lines += [
                *_collapsible(f"{len(group)} {title.lower()} violations", _md_violations(group), 30),
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def _grouped_changes(comparison: Comparison, markdown: bool) -> list[tuple[str, str, str, str, str, str]]:
    """Changed grants, one row per (sign, who, role, level, conditions) with its targets compacted."""
    groups: dict[tuple[str, str, str, str, str], list[str]] = {}
    for sign, facts in ((ADDED, comparison.added), (REMOVED, comparison.removed)):
        for f in facts:
            groups.setdefault((sign, f.who, f.role, f.level, f.conditions), []).append(f.target)
    rows = []
    for (sign, who, role, level, when), targets in groups.items():
        if level in LEVELS:
            shown = compact_repositories(targets)
        else:
            shown = ("<br>" if markdown else "; ").join(f"`{t}`" if markdown else t for t in sorted(targets))
        role_shown = "whole account" if role == "account" else (f"`{role}`" if markdown else role)
        rows.append((sign, who, role_shown, level, when, shown))
    return rows


def render_comparison_markdown(comparison: Comparison, head: CheckResult) -> str:
    s = head.summary
    lines = [
        f"## ecr-platform check: `{s.stack}` compared with `{comparison.base_ref}`",
        "",
        _md_headline(head),
        "",
    ]
    if comparison.base_note:
        lines += [f"_{comparison.base_note}_", ""]
    if comparison.unchanged:
        lines += ["No change in access or violations.", ""]
    if comparison.added or comparison.removed:
        lines += ["### Access changes", ""]
        rows = [
            [sign, f"`{who}`", role, targets, f"**{level}**" if sign == ADDED else level, when]
            for sign, who, role, level, when, targets in _grouped_changes(comparison, markdown=True)
        ]
        lines += _collapsible(
            f"{len(rows)} grants changed",
            _table(["", "Who", "Role / principal", "Repository or right", "Level", "When"], rows),
            open_when_short=40,
        )
        lines.append("")
    if comparison.new_violations:
        lines += [f"### {ADDED} New violations ({len(comparison.new_violations)})", ""]
        lines += [
            *_table(
                ["Policy", "Level", "Resource", "Message"],
                [
                    [f"`{v.policy}`", f"**{v.enforcement}**", f"`{v.resource}`", v.message]
                    for v in comparison.new_violations
                ],
            ),
            "",
        ]
    if comparison.resolved_violations:
        lines += [f"### ✅ Resolved violations ({len(comparison.resolved_violations)})", ""]
        lines += [
            *_table(
                ["Policy", "Level", "Resource", "Message"],
                [
                    [f"`{v.policy}`", v.enforcement, f"`{v.resource}`", v.message]
                    for v in comparison.resolved_violations
                ],
            ),
            "",
        ]
    lines += [
        "<details><summary>Full report for this change</summary>",
        "",
        render_markdown(head, heading=False).rstrip(),
        "",
        "</details>",
    ]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- text


def render_text(result: CheckResult) -> str:
    s, report = result.summary, result.access
    out = [
        f"ecr-platform check: stack {s.stack} (environment {s.environment}, account {s.account}, {s.region})",
        f"  teams ({len(s.teams)}): {_first(s.teams) or '-'}",
        f"  repositories ({len(s.repositories)}): {_first(s.repositories, compact=True)}",
        f"  roles ({len(s.roles)}): {_first(s.roles) or '-'}",
        f"  policy pack config: {result.policy_pack_shown}",
        f"  resources ({sum(s.resource_counts.values())}):",
    ]
    width = max((len(t) for t in s.resource_counts), default=0)
    out += [f"    {t.ljust(width)}  {n}" for t, n in s.resource_counts.items()]
    out += ["", "Who can assume which role, and what it can do"]
    for name, role in report.roles.items():
        trusted = _trusted_by(report, name)
        if not trusted:
            continue
        out.append(f"  role {name}")
        out += [f"    trusted by {t.replace('`', '')}" for t in trusted]
        out += [f"    {lv}: {repos}" for lv, repos in _access_lines(role, s.repositories)]
        out += [f"    {r.replace('`', '')}" for r in _other_rights(role)]
    if report.overlaps:
        out += ["", "Subjects that can assume more than one role"]
        out += [
            f"  {o.example}: {o.role} (via {o.subject}) and {o.also_role} (via {o.also_subject})"
            for o in report.overlaps
        ]
    if unreachable := _unreachable(report):
        out += ["", "Trusted subjects that no GitHub token can use"] + [f"  {u.replace('`', '')}" for u in unreachable]
    out += ["", "AWS accounts"]
    for row in report.accounts:
        label = f" ({row.label})" if row.label else ""
        principal = "whole account" if row.principal == "account" else row.principal
        out.append(f"  {row.account}{label}: {principal}, via {row.via}")
        out += [f"    {lv}: {repos}" for lv, repos in _access_lines(row, s.repositories)]
        out += [f"    {r.replace('`', '')}" for r in _other_rights(row)]
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
    verdict = "FAIL (mandatory violations)" if result.mandatory else "OK"
    out += ["", "Result: " + (verdict if result.policy_pack_ran else "access report only (policy pack not run)")]
    return "\n".join(out) + "\n"


def render_comparison_text(comparison: Comparison, head: CheckResult) -> str:
    out = [f"Compared with {comparison.base_ref}" + (f" ({comparison.base_note})" if comparison.base_note else "")]
    if comparison.unchanged:
        out.append("  no change in access or violations")
    out += [
        f"  {'+' if sign == ADDED else '-'} {who} → {role} → {targets}: {level}" + (f" (when {when})" if when else "")
        for sign, who, role, level, when, targets in _grouped_changes(comparison, markdown=False)
    ]
    out += [f"  + [{v.enforcement}] {v.policy}: {v.resource}: {v.message}" for v in comparison.new_violations]
    out += [
        f"  - [{v.enforcement}] {v.policy}: {v.resource}: {v.message} (resolved)"
        for v in comparison.resolved_violations
    ]
    return "\n".join(out) + "\n\n" + render_text(head)


# ---------------------------------------------------------------- json


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def to_json(result: CheckResult, comparison: Comparison | None = None) -> str:
    document: dict[str, Any] = {
        "summary": _plain(result.summary),
        "access": _plain(result.access),
        "facts": [f.line() for f in sorted(access_facts(result.access))],
        "violations": [{**_plain(v), "resource": v.resource} for v in result.violations],
        "exitCode": result.exit_code,
    }
    if comparison is not None:
        document["comparison"] = {
            "baseRef": comparison.base_ref,
            "baseNote": comparison.base_note,
            "added": [_plain(f) for f in comparison.added],
            "removed": [_plain(f) for f in comparison.removed],
            "newViolations": [_plain(v) for v in comparison.new_violations],
            "resolvedViolations": [_plain(v) for v in comparison.resolved_violations],
        }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"

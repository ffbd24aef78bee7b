"""The check's report as Markdown, for a pull-request comment and the job summary.

Order: the verdict and which guard judged, what the change deletes (`--compare`), a guard change,
the violations, the diff against the base, then the full report folded per team. With a budget
(`max_chars`, 60,000 for a comment: GitHub refuses more than 65,536) rows and team sections that do
not fit are dropped whole, each part saying how many it dropped and where to read them, so the
result is always well-formed: every `<details>` closed, no table cut mid-row, no code span left open.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from .access import AccountAccess, RepoAccess, RoleAccess
from .guard import GuardChange, shown_ref, shown_value
from .report import (
    ADDED,
    MANDATORY,
    REMOVED,
    SIMULATED,
    SIMULATED_NOTE,
    SUMMARY_ITEMS,
    UNDECLARED,
    CheckResult,
    Comparison,
    Violation,
    access_lines,
    account_shown,
    collapsed,
    compact_repositories,
    count,
    deletion_verdict,
    first,
    grouped_changes,
    grouped_widenings,
    other_rights,
    principal_shown,
    subject_words,
    team_roles,
    trusted_by,
    unreachable,
    violation_key,
    writer_shown,
    writes_shown,
)

COMMENT_MAX_CHARS = 60_000
"""GitHub refuses comments over 65,536 characters; the rest is room for the workflow's own lines."""


# ---------------------------------------------------------------- well-formed pieces


def code_span(text: str) -> str:
    """`text` as an inline code span nothing inside can end (CommonMark: a longer run of backticks)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _prose(text: str) -> str:
    """Free text (a pack's message) that cannot open HTML or emphasis. Its code spans (a run of
    backticks closed by a run of the same length) are kept; a backtick run that closes nothing is
    shown as literal backticks, so it cannot swallow the rest of the line."""
    out: list[str] = []
    runs = list(re.finditer(r"`+", text))
    position, k = 0, 0
    while k < len(runs):
        opener = runs[k]
        closer = next((j for j in range(k + 1, len(runs)) if len(runs[j].group()) == len(opener.group())), None)
        out.append(_escaped(text[position:opener.start()]))
        if closer is None:
            out.append("\\`" * len(opener.group()))
            position, k = opener.end(), k + 1
        else:
            out.append(text[opener.start():runs[closer].end()])
            position, k = runs[closer].end(), closer + 1
    out.append(_escaped(text[position:]))
    return "".join(out)


def _escaped(text: str) -> str:
    return html.escape(text, quote=False).replace("*", "\\*")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _table_head(headers: Sequence[str]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_cell(c) or " " for c in cells) + " |"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [*_table_head(headers), *(_row(r) for r in rows)]


def _summary_tag(text: str) -> str:
    """The `<summary>` line of a fold: plain HTML (GitHub renders no Markdown in it)."""
    return f"<details><summary>{text}</summary>"


def _html_code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


@dataclass
class _Part:
    """A piece of the Markdown report: a heading or paragraph (no items), or a table or list whose
    items (rows, folded blocks) are kept one by one while they fit. Every piece is well-formed on its
    own, so dropping items never leaves a table cut mid-row or a `<details>` unclosed."""

    title: list[str]
    items: list[str] = field(default_factory=list)
    open: list[str] = field(default_factory=list)  # between title and items: table header, `<details>`
    close: list[str] = field(default_factory=list)  # after the items: `</details>`
    noun: str = ""  # what an item is, for "N more <noun>"
    until: float = 1.0  # with a budget, this part may fill the page up to this share of it

    def lines(self, items: Sequence[str]) -> list[str]:
        if not items:
            return list(self.title)
        return [*self.title, *self.open, *items, *self.close]


def _folded(title: list[str], summary: str, headers: Sequence[str], rows: list[str], noun: str,
            until: float = 1.0, open_when_short: int = 12) -> _Part:
    """A table that folds away under `<details>` when it has more than `open_when_short` rows."""
    if len(rows) <= open_when_short:
        return _Part(title, rows, ["", *_table_head(headers)], [], noun, until)
    return _Part(title, rows, ["", _summary_tag(summary), "", *_table_head(headers)], ["", "</details>"], noun, until)


_RESERVE = 700  # room for one "N more" note and the closing line


def _assemble(parts: Sequence[_Part], max_chars: int | None, more_at: str) -> str:
    """The parts in order; with `max_chars`, items that do not fit are dropped whole, each part says
    how many it dropped, and the result is at most `max_chars` characters."""
    lines: list[str] = []
    size = 0
    shortened = False
    closing = f"This report is shortened to {max_chars or 0:,} characters; the whole report: {more_at}."

    def length(block: Sequence[str]) -> int:
        return sum(len(line) + 1 for line in block)

    for part in parts:
        if max_chars is None:
            lines += part.lines(part.items)
            continue
        limit = int(max_chars * part.until) - _RESERVE
        room = limit - size - length(part.title) - length(part.open) - length(part.close)
        kept: list[str] = []
        for item in part.items:
            if length([item]) > room:
                break
            kept.append(item)
            room -= length([item])
        block = part.lines(kept)
        if (part.items and not kept) or (not part.items and size + length(block) > limit):
            block = part.title if part.items and size + length(part.title) <= limit else []
        if missing := len(part.items) - len(kept):
            block = [*block, "", f"{missing:,} more {part.noun}: see {more_at}."]
            shortened = True
        elif not block and part.title:
            shortened = True
        if size + length(block) > max_chars - len(closing) - 2:
            shortened = True
            continue
        lines += block
        size += length(block)
    if shortened and max_chars is not None:
        lines += ["", closing]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- the report


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


def _md_judged_by(result: CheckResult) -> str:
    guard = result.guard
    if guard is None:
        return "Guard: not run (`--no-policy`): access report only."
    source = "`policy/` in the working tree" if guard.ref is None else f"`policy/` at {code_span(guard.ref_shown)}"
    return f"Judged by {source} with {code_span(guard.config_shown)}."


def _md_guard_change(result: CheckResult, change: GuardChange | None) -> _Part | None:
    if change is None:
        return None
    if result.guard is None:
        verdict = "The policy pack was not run (`--no-policy`)."
    elif result.guard.ref is not None:
        verdict = f"It is still judged by the guard at {code_span(result.guard.ref_shown)}, not by its own."
    else:
        verdict = (f"It was judged by its own, edited guard: {code_span(f'POLICY_REF={change.ref}')} judges it by "
                   "the base's.")
    items = [f"> - {code_span(change.file_summary(f))}" for f in change.files]
    items += [
        f"> - {code_span(s.file)}: {code_span(s.setting)}: "
        f"{code_span(shown_value(s.before))} → {code_span(shown_value(s.after))}"
        for s in change.settings
    ]
    title = ["", "> [!WARNING]",
             f"> **This change edits the guard** (`policy/` differs from {code_span(change.ref_shown)}). {verdict}",
             ">"]
    return _Part(title, items, noun="guard changes", until=0.2)


_VERDICT_MARK = {"mandatory": "❌ ", "advisory": "⚠️ "}


def _md_deletions(comparison: Comparison | None) -> _Part | None:
    if comparison is None or not comparison.deletions:
        return None
    deletions = comparison.deletions
    title = ["", "> [!CAUTION]",
             f"> **This change deletes or replaces {count(len(deletions), 'stateful resource')}** "
             f"(against {code_span(shown_ref(comparison.base_ref))}): what goes with them does not come back with "
             "a redeploy."]
    rows = [_row([f"**{d.action}**",
                  f"{d.kind.label} {code_span(d.name)}" + "".join(f" → {code_span(c)}" for c in d.created_as)
                  + f"<br>URN {code_span(d.urn)}" + (f"<br>protected: {code_span(d.unprotect)}" if d.protected else ""),
                  _prose(d.reason), _prose(d.lost),
                  _VERDICT_MARK.get(d.enforcement, "") + deletion_verdict(d, code_span)])
            for d in deletions]
    return _folded(title, f"{len(rows)} deletions", ["Change", "Resource", "Why", "Lost with it", "Verdict"], rows,
                   "deletions", 0.15, open_when_short=20)


FOLDED_NAMES = 100
"""At most this many resources listed in one collapsed finding's row (the JSON output lists them all)."""


def _resources_cell(resources: Sequence[str]) -> str:
    """One resource as a code span; more folded under their count."""
    if len(resources) == 1:
        return code_span(resources[0])
    shown = ", ".join(code_span(r) for r in resources[:FOLDED_NAMES])
    more = f", … and {len(resources) - FOLDED_NAMES:,} more" if len(resources) > FOLDED_NAMES else ""
    return f"<details><summary>{len(resources):,} resources</summary>{shown}{more}</details>"


def _finding_rows(violations: Sequence[Violation]) -> list[str]:
    """Identical findings (the same message but for the resource's name) as one row with their count."""
    return [_row([code_span(f.policy), _resources_cell(f.resources), _prose(f.message)
                  + (f" _(and the same for {len(f.resources) - 1:,} more)_" if len(f.resources) > 1 else "")])
            for f in collapsed(sorted(violations, key=lambda v: (v.policy, v.resource, v.message)))]


_FINDING_HEADERS = ["Policy", "Resource", "Message"]


def _findings_part(heading: str, violations: Sequence[Violation], until: float, fold: int) -> _Part:
    rows = _finding_rows(violations)
    return _folded(["", f"### {heading} ({len(violations)})"], f"{len(rows)} findings", _FINDING_HEADERS, rows,
                   "findings", until, open_when_short=fold)


def _md_violations(result: CheckResult, comparison: Comparison | None) -> list[_Part]:
    """Without a comparison: every violation. With one: the new mandatory ones (the new advisories follow what
    widened); `_md_old_violations` has those the base already had."""
    title = ["", "### Policy violations"]
    if not result.policy_pack_ran:
        return [_Part([*title, "", "Not checked: the policy pack was not run (`--no-policy`)."])]
    if comparison is None:
        if not result.violations:
            return [_Part([*title, "", "None."])]
        return [_findings_part(heading, group, until, fold) for heading, group, until, fold in
                (("❌ Mandatory violations", result.mandatory, 0.45, 30), ("Advisory violations", result.advisory,
                                                                           0.5, 5)) if group]
    new = [v for v in comparison.new_violations if v.enforcement == MANDATORY]
    return [_findings_part("❌ New mandatory violations", new, 0.3, 30)] if new else []


def _md_new_advisories(comparison: Comparison) -> list[_Part]:
    new = [v for v in comparison.new_violations if v.enforcement != MANDATORY]
    return [_findings_part("⚠️ New advisories", new, 0.65, 10)] if new else []


def _md_old_violations(result: CheckResult, comparison: Comparison) -> list[_Part]:
    """The violations the base already had: not this change's doing, still part of the verdict."""
    if not result.policy_pack_ran:
        return []
    new = {violation_key(v) for v in comparison.new_violations}
    parts = []
    for heading, group, until in (("❌ Mandatory violations the base already had", result.mandatory, 0.68),
                                  ("Advisories the base already had", result.advisory, 0.7)):
        old = [v for v in group if violation_key(v) not in new]
        if old:
            parts.append(_findings_part(heading, old, until, 5))
    return parts


def _md_widened(comparison: Comparison) -> list[_Part]:
    """Grants that reach further, before and after on one row."""
    if not comparison.widened:
        return []
    rows = []
    for kind, before, after, role, targets, access, when in grouped_widenings(comparison.widened, code_span,
                                                                               lambda text: f"**{text}**"):
        who = (f"{code_span(before)} → **{code_span(after)}**{subject_words(after, ' (', ')')}"
               if kind == "subject" else code_span(before))
        rows.append(_row([f"**widened** ({'who' if kind == 'subject' else 'access'})", who, role, targets, access,
                          _prose(when)]))
    return [_folded(["", "### ⚠️ What widened"], f"{len(rows)} widenings",
                    ["", "Who", "Role", "Repository or right", "Access", "When"], rows, "widenings", 0.4,
                    open_when_short=40)]


def _md_comparison(comparison: Comparison) -> list[_Part]:
    parts = [_Part(["", f"### Changes against {code_span(shown_ref(comparison.base_ref))}"]
                   + (["", f"_{_prose(comparison.base_note)}_"] if comparison.base_note else [])
                   + (["", "No change in access or violations."] if comparison.unchanged else [])
                   + (["", "No stateful resource is deleted or replaced."]
                      if comparison.deletions_known and not comparison.deletions else [])
                   + [line for m in comparison.moved
                      for line in ("", f"⚠️ **Trust moves to another repository:** {_prose(m.line())}")]
                   + (["", f"Changed teams ({len(comparison.changed_teams)}): "
                       + ", ".join(code_span(t) for t in comparison.changed_teams)]
                      if comparison.changed_teams else []))]
    if comparison.overlaps:
        rows = [_row([ADDED if o.gained else REMOVED, code_span(o.subject), _roles(o.after), _roles(o.before)])
                for o in comparison.overlaps]
        parts.append(_folded(["", "#### ⚠️ Subjects that can assume more than one role"], f"{len(rows)} subjects",
                             ["", "A workflow with subject", "can now assume", "could assume before"], rows,
                             "subjects", 0.45, open_when_short=20))
    for title, cross in (("Cross-account access", True), ("Grants", False)):
        rows = [
            _row([sign, code_span(who) + subject_words(who, " (", ")"), role, targets,
                  f"**{level}**" if sign == ADDED else level, _prose(when)])
            for facts, sign in ((comparison.grants(comparison.added, cross), ADDED),
                                (comparison.grants(comparison.removed, cross), REMOVED))
            for sign, who, role, level, when, targets in grouped_changes(facts, sign, code_span, "<br>")
        ]
        if rows:
            headers = ["", "Account" if cross else "Who", "Principal" if cross else "Role", "Repository or right",
                       "Access", "When"]
            parts.append(_folded(["", f"#### {title}"], f"{len(rows)} changes", headers, rows, "changes",
                                 0.5 if cross else 0.55, open_when_short=40))
    if comparison.new_violations or comparison.resolved_violations:
        lines = ["", "#### Violations", "",
                 f"{ADDED} {len(comparison.new_violations)} new (above) · "
                 f"✅ {len(comparison.resolved_violations)} resolved"]
        rows = [_row([code_span(v.policy), v.enforcement, code_span(v.resource), _prose(v.message)])
                for v in comparison.resolved_violations]
        parts.append(_folded(lines, f"{len(rows)} resolved", ["Policy", "Level", "Resource", "Message"], rows,
                             "resolved violations", 0.6))
    return parts


def _roles(names: Sequence[str]) -> str:
    return ", ".join(code_span(r) for r in names) or "—"


def _md_role_row(result: CheckResult, role: RoleAccess) -> str:
    s = result.summary
    access = "<br>".join(f"**{lv}**: {repos}" for lv, repos in access_lines(role, s.repositories)) or "—"
    return _row(["<br>".join(trusted_by(result, role.name, code_span)), code_span(role.name), access,
                 "<br>".join(other_rights(result, role, code_span)) or "—"])


_ROLE_HEADERS = ["Trusted by", "Role", "Repositories", "Other rights"]
_ACCOUNT_HEADERS = ["Account", "Principal", "Via", "Repositories", "Other rights"]


def _md_account_row(result: CheckResult, row: AccountAccess, everything: Sequence[str] = ()) -> str | None:
    lines = access_lines(row, everything)
    other = other_rights(result, row, code_span)
    if not lines and not other:
        return None
    access = "<br>".join(f"**{lv}**: {repos}" for lv, repos in lines) or "—"
    return _row([account_shown(row, code_span), principal_shown(result, row, code_span), row.via, access,
                 "<br>".join(other) or "—"])


def _accounts_by_team(result: CheckResult) -> dict[str, list[AccountAccess]]:
    """Each principal's access cut along the repositories' teams, in one pass. Team `""` holds the
    repositories without a team and what is about no repository of the stack (name patterns,
    create, other rights)."""
    owners = result.summary.repository_teams
    by_team: dict[str, list[AccountAccess]] = {}
    for row in result.access.accounts:
        split: dict[str, list[RepoAccess]] = {}
        for repo in row.repositories:
            split.setdefault(owners.get(repo.repository, ""), []).append(repo)
        for team, repositories in split.items():
            if team:
                by_team.setdefault(team, []).append(
                    dataclasses.replace(row, repositories=repositories, undeclared=[], create=[], other=[]))
        shared = dataclasses.replace(row, repositories=split.get("", []))
        if shared.repositories or shared.undeclared or shared.create or shared.other:
            by_team.setdefault("", []).append(shared)
    return by_team


def _md_accounts_overview(result: CheckResult) -> str:
    """One row per principal; repositories listed up to SUMMARY_ITEMS, per team in the team sections."""
    rows = []
    for row in result.access.accounts:
        grants: dict[str, list[str]] = {}
        for repo in row.repositories:
            grants.setdefault(", ".join(repo.labels), []).append(repo.repository)
        access = [f"**{labels}**: {_overview(names, result.summary.repositories)}" for labels, names in grants.items()]
        access += [f"**{', '.join(r.labels)}**: {r.repository} {UNDECLARED}" for r in row.undeclared]
        rows.append(_row([account_shown(row, code_span), principal_shown(result, row, code_span), row.via,
                          "<br>".join(access) or "—", "<br>".join(other_rights(result, row, code_span)) or "—"]))
    return "\n".join(rows)


def _overview(names: Sequence[str], everything: Sequence[str]) -> str:
    if len(names) <= SUMMARY_ITEMS:
        return compact_repositories(names, everything)
    return ("all " if len(names) == len(everything) else "") + f"{len(names)} repositories (by team below)"


def _md_block(summary: str, tables: Sequence[tuple[Sequence[str], Sequence[str]]]) -> str:
    """One folded block: `<details>` with its tables, closed; blank lines where Markdown needs them."""
    lines = [_summary_tag(summary)]
    for headers, rows in tables:
        if rows:
            lines += ["", *_table_head(headers), *rows]
    return "\n".join([*lines, "", "</details>", ""])


def _md_team(result: CheckResult, team: str, roles: Sequence[RoleAccess], repositories: int,
             accounts: Sequence[AccountAccess]) -> str:
    rows = [row for a in accounts if (row := _md_account_row(result, a))]
    summary = (f"{_html_code(team)} · {count(repositories, 'repository')} · "
               + (", ".join(_html_code(r.name) for r in roles) or "no role")
               + f" · {count(len(rows), 'other principal')}")
    return _md_block(summary, [(_ROLE_HEADERS, [_md_role_row(result, r) for r in roles]), (_ACCOUNT_HEADERS, rows)])


def _md_shared(result: CheckResult, roles: Sequence[RoleAccess], accounts: Sequence[AccountAccess]) -> str | None:
    """What belongs to no single team: service roles, node roles' patterns, repositories without a team tag."""
    rows = [row for a in accounts if (row := _md_account_row(result, a, result.summary.repositories))]
    if not roles and not rows:
        return None
    return _md_block(f"Service roles, node roles, repositories without a team · {count(len(roles), 'role')} · "
                     f"{count(len(rows), 'principal')}",
                     [(_ROLE_HEADERS, [_md_role_row(result, r) for r in roles]), (_ACCOUNT_HEADERS, rows)])


def _more(names: Sequence[str]) -> str:
    return f", … and {len(names) - SUMMARY_ITEMS} more" if len(names) > SUMMARY_ITEMS else ""


def _md_full_report(result: CheckResult, changed: Sequence[str], maps: _TeamMaps) -> list[_Part]:
    s, report = result.summary, result.access
    summary = _table(["", ""], [
        ["Stack", f"{code_span(s.stack)} (environment {code_span(s.environment)}, account {code_span(s.account)}, "
                  f"{code_span(s.region)})"],
        ["Teams", ", ".join(code_span(t) for t in s.teams[:SUMMARY_ITEMS]) + _more(s.teams) or "—"],
        ["Repositories", f"{len(s.repositories)}: {first(s.repositories, '{}', compact=True)}"],
        ["Roles", ", ".join(code_span(r) for r in s.roles[:SUMMARY_ITEMS]) + _more(s.roles) or "—"],
    ])
    counts = [_row([f"`{t}`", str(n)]) for t, n in s.resource_counts.items()]
    parts = [
        _Part(["", "### Full report", "", *summary]),
        _folded([], f"Resources by type ({sum(s.resource_counts.values())})", ["Type", "Count"], counts,
                "resource types", 0.85, open_when_short=0),
    ]
    if report.overlaps:
        rows = [_row([code_span(value) for value in (o.example, o.role, o.subject, o.also_role, o.also_subject)])
                for o in report.overlaps]
        parts.append(_folded(["", "#### ⚠️ Subjects that can assume more than one role"], f"{len(rows)} overlaps",
                             ["A workflow with subject", "assumes", "via", "and also", "via"], rows, "overlaps", 0.88))
    if report.other_writers:
        rows = [_row([writer_shown(w, code_span, _prose), _prose(writes_shown(w, s.repositories)),
                      "; ".join(_prose(v) for v in w.via)]) for w in report.other_writers]
        parts.append(_folded(["", "#### Other principals that can write (the guard's model)"],
                             f"{len(rows)} principals", ["Principal", "Writes", "via"], rows, "principals", 0.88))
    if report.can_become:
        rows = [_row([_prose(b.principal), _prose(b.becomes), "; ".join(_prose(v) for v in b.via)])
                for b in report.can_become]
        parts.append(_folded(["", "#### Who can become whom (the guard's principal graph)"], f"{len(rows)} paths",
                             ["Principal", "can become", "via"], rows, "paths", 0.88))
    if unusable := unreachable(result, code_span):
        parts.append(_Part(["", "#### Trusted subjects that no GitHub token can use", ""],
                           [f"- {u}" for u in unusable], noun="subjects", until=0.9))
    rows = _md_accounts_overview(result).splitlines()
    parts.append(_folded(["", "#### AWS accounts"], f"{len(rows)} principals", _ACCOUNT_HEADERS, rows,
                         "principals", 0.92, open_when_short=25))
    parts.append(_Part(["", "_Other accounts also need their own IAM policies to allow what a repository "
                            "policy grants._"], until=0.92))
    teams, accounts = maps
    if shared := _md_shared(result, teams.get("", []), accounts.get("", [])):
        parts.append(_Part(["", "#### Not owned by one team", ""], [shared], noun="sections", until=0.95))
    others = [t for t in s.teams if t not in set(changed)]
    heading = f"#### Other teams ({len(others)})" if changed else f"#### By team ({len(s.teams)})"
    blocks = _team_blocks(result, others, maps)
    parts.append(_Part(["", heading, ""], blocks, noun="teams"))
    if result.simulated and any(SIMULATED in b for b in [*blocks, *rows, shared or ""]):
        parts.append(_Part(["", f"_{_prose(SIMULATED_NOTE)}_"]))
    return parts


_TeamMaps = tuple[dict[str, list[RoleAccess]], dict[str, list[AccountAccess]]]


def _team_maps(result: CheckResult) -> _TeamMaps:
    """Each team's roles and principals (`markdown_parts` works them out once for every section)."""
    return team_roles(result), _accounts_by_team(result)


def _team_blocks(result: CheckResult, teams: Sequence[str], maps: _TeamMaps) -> list[str]:
    roles, accounts = maps
    repositories = Counter(result.summary.repository_teams.values())
    return [_md_team(result, team, roles.get(team, []), repositories[team], accounts.get(team, [])) for team in teams]


def _md_changed_teams(result: CheckResult, comparison: Comparison, maps: _TeamMaps) -> list[_Part]:
    """The sections of the teams this change touches, before anything about the others."""
    present = [t for t in comparison.changed_teams if t in set(result.summary.teams)]
    if not present:
        return []
    return [_Part(["", f"### Changed teams ({len(present)})", ""], _team_blocks(result, present, maps),
                  noun="changed teams", until=0.9)]


def more_at_default(stack: str) -> str:
    """Where a shortened report's reader finds the rest when nobody says (the workflow does)."""
    return f"`make check STACK={stack} FORMAT=markdown MAX_CHARS=0`"


def render_markdown(result: CheckResult, comparison: Comparison | None = None, max_chars: int | None = None,
                    more_at: str = "", parts: Sequence[_Part] | None = None) -> str:
    """The report for a pull-request comment: verdict, deletions, guard change, violations, the diff
    against the base, then the full report folded per team. With `max_chars` (for a comment, COMMENT_MAX_CHARS)
    whole rows and team sections that do not fit are dropped, each part saying how many and `more_at`.
    `parts`: `markdown_parts(result, comparison)` made once for several renderings (the comment and the
    whole report)."""
    if parts is None:
        parts = markdown_parts(result, comparison)
    return _assemble(parts, max_chars, more_at or more_at_default(result.summary.stack))


def markdown_parts(result: CheckResult, comparison: Comparison | None = None) -> list[_Part]:
    """The report's pieces in order, before any budget is applied (`render_markdown`)."""
    s = result.summary
    against = f" compared with {code_span(shown_ref(comparison.base_ref))}" if comparison else ""
    parts = [_Part([f"## ecr-platform check: {code_span(s.stack)}{against}", "", _md_headline(result), "",
                    _md_judged_by(result)])]
    if deletions := _md_deletions(comparison):
        parts.append(deletions)
    if guard := _md_guard_change(result, result.guard_change or (comparison.guard_change if comparison else None)):
        parts.append(guard)
    parts += _md_violations(result, comparison)
    maps = _team_maps(result)
    if comparison:
        parts += _md_widened(comparison)
        parts += _md_comparison(comparison)
        parts += _md_new_advisories(comparison)
        parts += _md_old_violations(result, comparison)
        parts += _md_changed_teams(result, comparison, maps)
    parts += _md_full_report(result, comparison.changed_teams if comparison else (), maps)
    return parts

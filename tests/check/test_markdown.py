"""The pull-request comment: at most 60,000 characters at any size, always well-formed, in the order a
reviewer reads it (verdict, deletions, guard change, violations, the diff, the full report folded per
team).

The large sizes use a check result built directly (tests/check/synthetic.py): the program takes
~100 s at 1,000 teams under mocks, and the renderer is what these tests are about. One test runs the
real program and pack at 10 teams to tie the two together.
"""

from __future__ import annotations

import re

import pytest

from review.check import judge, run_program_for
from review.markdown import COMMENT_MAX_CHARS, render_markdown
from review.report import Violation, compare

from .markdown_shape import problems
from .synthetic import synthetic_change, synthetic_config, synthetic_result

SIZES = (10, 300, 1000)
MORE_AT = "the job summary / the full-report artifact"
SECTIONS = ("## ecr-platform check:", "**This change deletes or replaces", "**This change edits the guard**",
            "### ❌ New mandatory violations", "### Changes against", "### Changed teams", "### Full report")


def comment(teams: int) -> str:
    head, comparison = synthetic_change(teams)
    return render_markdown(head, comparison, COMMENT_MAX_CHARS, MORE_AT)


@pytest.mark.parametrize("teams", SIZES)
def test_the_comment_fits_github_at_any_size(teams):
    text = comment(teams)
    assert len(text) <= COMMENT_MAX_CHARS, f"GitHub refuses comments over 65,536 characters; got {len(text):,}"
    assert problems(text) == []


@pytest.mark.parametrize("teams", SIZES)
def test_sections_come_in_review_order(teams):
    text = comment(teams)
    positions = [text.find(marker) for marker in SECTIONS]
    assert -1 not in positions, [m for m, p in zip(SECTIONS, positions, strict=True) if p < 0]
    assert positions == sorted(positions), ("verdict, deletions, guard change, new violations, diff, changed teams, "
                                            "then the full report")


def test_over_budget_whole_team_sections_are_dropped_and_counted():
    head, comparison = synthetic_change(1000)
    text = render_markdown(head, comparison, COMMENT_MAX_CHARS, MORE_AT)
    shown = re.findall(r"<details><summary><code>(team-\d{4})</code>", text)
    more = re.findall(r"^([\d,]+) more (?:changed )?teams: see (.*)\.$", text, re.MULTILINE)
    assert len(shown) + sum(int(n.replace(",", "")) for n, _ in more) == 1000, "every team is either shown or counted"
    assert {where for _, where in more} == {MORE_AT}
    changed = text.split("Changed teams (", 1)[1].split("\n", 1)[0]
    assert all(f"`{team}`" in changed for team in comparison.changed_teams), "the comment names every changed team"
    assert shown[:5] == comparison.changed_teams[:5], "the changed teams' sections come first"
    for team in shown:  # a team shown is shown whole: its role row and its closing tag
        block = text.split(f"<code>{team}</code>", 1)[1].split("</details>", 1)[0]
        assert f"| `github-push-{team}` |" in block
    assert "subjects: see" in text, "long tables say how many rows they left out"
    immutability = [line for line in text.splitlines() if "must have immutable image tags" in line]
    assert 1 <= len(immutability) <= 2, "one finding on 250 teams is one row (new, and at the base), not 250"


def test_the_whole_report_has_every_team_and_is_well_formed():
    head, comparison = synthetic_change(300)
    full = render_markdown(head, comparison)
    assert len(full) > COMMENT_MAX_CHARS, "300 teams do not fit a comment: the budget is what keeps it postable"
    assert len(re.findall(r"<details><summary><code>team-\d{4}</code>", full)) == 300
    assert not re.search(r"^[\d,]+ more \w+: see", full, re.MULTILINE) and problems(full) == []


def test_a_tiny_budget_keeps_the_verdict_and_stays_well_formed():
    head, comparison = synthetic_change(1000)
    text = render_markdown(head, comparison, 4_000, MORE_AT)
    assert len(text) <= 4_000 and problems(text) == []
    assert "❌ **" in text and "This report is shortened to 4,000 characters" in text


def test_markup_in_values_cannot_break_the_comment():
    result = synthetic_result(3)
    result.violations.append(Violation("team-isolation", "mandatory",
                                       "A message with | a pipe, </details> <b>html</b>, ``` a fence and a ` tick.",
                                       "urn:pulumi:dev::ecr-platform::aws:iam/role:Role::`odd|name`"))
    text = render_markdown(result, None, COMMENT_MAX_CHARS)
    assert problems(text) == []
    assert "&lt;/details&gt;" in text and "<b>" not in text


def test_the_real_program_at_10_teams_makes_a_well_formed_comment(dev_pack, dev_guard):
    config = synthetic_config(10)
    head = judge("dev", config, run_program_for("dev", config).resources, dev_pack, dev_guard)
    text = render_markdown(head, compare(None, head, "main", "new stack"), COMMENT_MAX_CHARS)
    assert problems(text) == [] and len(text) <= COMMENT_MAX_CHARS
    assert len(re.findall(r"<details><summary><code>team-\d{3}</code>", text)) == 10

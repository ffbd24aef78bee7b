"""What makes a Markdown report well-formed on GitHub, as a function returning problems (empty: fine):
every `<details>` closed in order, code fences closed, every table row with its header's number of
cells and a blank line before the table, every inline code span closed on its line."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^(`{3,}|~{3,})")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _cells(row: str) -> int:
    return len(_UNESCAPED_PIPE.split(row.strip())) - 2


def _open_code_span(line: str) -> bool:
    """Whether a backtick run on this line opens a code span that no run of the same length closes."""
    runs = [m.group(0) for m in re.finditer(r"(?<!\\)`+", line)]
    while runs:
        opener = runs.pop(0)
        if opener not in runs:
            return True
        runs = runs[runs.index(opener) + 1 :]
    return False


def problems(markdown: str) -> list[str]:
    found: list[str] = []
    depth = 0
    fence: str | None = None
    table_cells: int | None = None
    previous = ""
    for number, line in enumerate(markdown.splitlines(), 1):
        where = f"line {number}: {line[:80]!r}"
        if fence is not None:
            if line.startswith(fence):
                fence = None
            previous = line
            continue
        if match := _FENCE.match(line):
            fence = match.group(1)
            previous = line
            continue
        opened, closed = line.count("<details"), line.count("</details>")
        depth += opened - closed
        if depth < 0:
            found.append(f"{where}: </details> without <details>")
            depth = 0
        if line.startswith("|"):
            if table_cells is None:
                if previous.strip():
                    found.append(f"{where}: a table must follow a blank line")
                table_cells = _cells(line)
            elif _cells(line) != table_cells:
                found.append(f"{where}: {_cells(line)} cells, the header has {table_cells}")
        else:
            table_cells = None
        if _open_code_span(line):
            found.append(f"{where}: a code span is not closed")
        previous = line
    if depth:
        found.append(f"{depth} <details> not closed")
    if fence is not None:
        found.append(f"code fence {fence} not closed")
    return found

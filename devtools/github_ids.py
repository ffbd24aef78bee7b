"""Fill GitHub's immutable IDs into a stack file: `acme/dc43` -> `acme@1000001/dc43@2000001`.

    python -m devtools.github_ids Pulumi.prod.yaml [--dry-run] [--api-url URL]

For every `teams.<t>.github[].repository` written as `<owner>/<repo>` (organisation-wide `<owner>/*`
entries have no repository ID and are left alone), asks GitHub's REST API for the repository
(`GET /repos/<owner>/<repo>`: `.owner.id` and `.id`, what `gh api repos/OWNER/REPO --jq '.owner.id,
.id'` prints) and rewrites that value in place. Only those values change: comments, order, quoting
and layout of the file stay as they are (a line edit, not a YAML round trip). The push role then
trusts both subject forms and pins `repository_id` (issue 22).

`GITHUB_TOKEN` is sent when set (read access is enough: the calls are GETs; public repositories need
none). `--api-url` (default `$GITHUB_API_URL`, else https://api.github.com) points at GitHub
Enterprise Cloud with data residency or a test server. Exit 0 when every entry has IDs afterwards,
1 when a repository could not be looked up (the others are still filled in), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from components.documents import github_repository_name

DEFAULT_API_URL = "https://api.github.com"
TEAMS_KEY = "ecr-platform:teams"


class RepositoryLookupError(Exception):
    """A repository GitHub's API did not answer for; the message says which and why."""


def repositories_without_ids(stack_text: str) -> list[str]:
    """`<owner>/<repo>` of every github entry that lacks IDs, in file order, each once."""
    config = (yaml.safe_load(stack_text) or {}).get("config") or {}
    teams = config.get(TEAMS_KEY) or config.get("teams") or {}
    found: list[str] = []
    for team in teams.values() if isinstance(teams, dict) else ():
        for entry in (team or {}).get("github") or () if isinstance(team, dict) else ():
            value = entry.get("repository") if isinstance(entry, dict) else None
            if isinstance(value, str) and "@" not in value and "/" in value and not value.endswith("/*") \
                    and value not in found:
                found.append(value)
    return found


def lookup(api_url: str, repository: str, token: str | None) -> str:
    """`<owner>@<owner id>/<repo>@<repo id>` for `repository`, with the names GitHub has now."""
    request = urllib.request.Request(f"{api_url.rstrip('/')}/repos/{repository}", headers={
        "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "ecr-platform-github-ids", **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body: Any = json.load(response)
    except urllib.error.HTTPError as error:
        why = "not found, or the token cannot see it" if error.code == 404 else f"HTTP {error.code} {error.reason}"
        raise RepositoryLookupError(f"{repository}: {why}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise RepositoryLookupError(f"{repository}: {api_url} did not answer ({error})") from None
    try:
        owner, repo = body["owner"]["login"], body["name"]
        owner_id, repo_id = int(body["owner"]["id"]), int(body["id"])
    except (KeyError, TypeError, ValueError):
        raise RepositoryLookupError(f"{repository}: the API's answer has no owner.id and id") from None
    return f"{owner}@{owner_id}/{repo}@{repo_id}"


def rewrite(stack_text: str, replacements: dict[str, str]) -> str:
    """The stack text with each `repository: <name>` value replaced, quoting and everything else kept."""
    for name, immutable in replacements.items():
        pattern = re.compile(rf"(\brepository:\s*)(['\"]?){re.escape(name)}\2(?=\s|,|}}|#|$)", re.MULTILINE)
        stack_text = pattern.sub(rf"\g<1>\g<2>{immutable}\g<2>", stack_text)
    return stack_text


def fill(path: Path, api_url: str, token: str | None, dry_run: bool = False) -> tuple[list[str], bool]:
    """Look up every entry without IDs and rewrite the file: (one line per repository or problem, all found)."""
    text = path.read_text()
    replacements: dict[str, str] = {}
    lines: list[str] = []
    problems: list[str] = []
    for repository in repositories_without_ids(text):
        try:
            immutable = lookup(api_url, repository, token)
        except RepositoryLookupError as error:
            problems.append(f"error: {error}")
            continue
        replacements[repository] = immutable
        renamed = github_repository_name(immutable).name
        moved = f" (GitHub now calls it {renamed}: the subjects use that name)" if renamed != repository else ""
        lines.append(f"{repository} -> {immutable}{moved}")
    if replacements and not dry_run:
        path.write_text(rewrite(text, replacements))
    return lines + problems, not problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.github_ids", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack_file", type=Path, help="a Pulumi.<stack>.yaml")
    parser.add_argument("--api-url", default=os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
                        help="GitHub REST API base URL (default: $GITHUB_API_URL or %(default)s)")
    parser.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    args = parser.parse_args(argv)
    if not args.stack_file.is_file():
        parser.error(f"{args.stack_file}: no such stack file")
    lines, found = fill(args.stack_file, args.api_url, os.environ.get("GITHUB_TOKEN") or None, args.dry_run)
    print("\n".join(lines) or f"{args.stack_file}: every GitHub repository already has its IDs")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())

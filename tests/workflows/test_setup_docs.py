"""The README's CI setup section names every variable, secret, environment and required check the
workflows use, and nothing they do not: a user who creates exactly that list has a working setup."""

from __future__ import annotations

import re

from .lint import ACTIONS, ROOT, WORKFLOWS
from .rules import jobs, load

README = (ROOT / "README.md").read_text()


def setup_section(text: str = README) -> str:
    start = text.index("### CI setup")
    end = text.index("\n## ", start)
    return text[start:end]


def used_variables() -> set[str]:
    text = "\n".join(p.read_text() for p in [*WORKFLOWS.glob("*.yml"), *ACTIONS.glob("*/action.yml")])
    return set(re.findall(r"\bvars\.([A-Z][A-Z0-9_]*)", text))


def used_environments() -> set[str]:
    found = set()
    for path in WORKFLOWS.glob("*.yml"):
        for _, job in jobs(load(path.read_text())):
            environment = job.get("environment") or (job.get("with") or {}).get("environment")
            if environment and "${{" not in str(environment):
                found.add(str(environment))
    return found


def named_variables(section: str) -> set[str]:
    return set(re.findall(r"`(PULUMI_[A-Z0-9_]+)`", section))


def test_every_variable_the_workflows_read_is_in_the_setup_and_no_other() -> None:
    section = setup_section()
    variables = used_variables()
    assert {"PULUMI_ORGANIZATION", "PULUMI_PREVIEW_SCOPE", "PULUMI_TOKEN_SCOPE", "PULUMI_DEPLOY_ROLE_ARN"} <= variables
    named = named_variables(section)
    assert named == variables, f"missing from README: {variables - named}; not used: {named - variables}"


def test_a_variable_missing_from_the_readme_is_caught() -> None:
    trimmed = setup_section().replace("`PULUMI_PREVIEW_SCOPE`", "")
    assert "PULUMI_PREVIEW_SCOPE" in used_variables() - named_variables(trimmed)


def test_every_environment_and_its_protection_is_in_the_setup() -> None:
    section = setup_section()
    assert used_environments() == {"dev", "production"}
    for environment in used_environments():
        row = next(line for line in section.splitlines() if line.startswith(f"| `{environment}` |"))
        assert "deployment branches: `main` only" in row
    production = next(line for line in section.splitlines() if line.startswith("| `production` |"))
    assert "required reviewers" in production and "prevent self-review" in production


def test_no_secret_is_needed_and_the_readme_says_so() -> None:
    for path in [*WORKFLOWS.glob("*.yml"), *ACTIONS.glob("*/action.yml")]:
        assert not re.search(r"\bsecrets\.", path.read_text()), path
    assert "Secrets: none." in setup_section()


def test_the_required_checks_are_job_names_pull_requests_run() -> None:
    ci = load((WORKFLOWS / "ci.yml").read_text())
    pull_request = load((WORKFLOWS / "pull-request.yml").read_text())
    check = pull_request["jobs"]["check"]
    names = {ci["jobs"]["ci"]["name"]} | {check["name"].replace("${{ matrix.stack }}", stack)
                                         for stack in check["strategy"]["matrix"]["stack"]}
    assert "pull_request" in ci["on"]
    section = setup_section()
    required = set(re.findall(r"`([^`]+)`", section[section.index("require the status checks"):].split(";")[0]))
    assert required == names == {"bash .ci/run", "offline check (dev)", "offline check (prod)"}


def test_codeowners_placeholder_is_the_one_the_readme_names() -> None:
    owners = {word for line in (ROOT / ".github" / "CODEOWNERS").read_text().splitlines()
              if not line.startswith("#") for word in line.split()[1:]}
    assert owners == {"@acme/ecr-platform-owners"} and "`@acme/ecr-platform-owners`" in setup_section()


def workflows_row(name: str) -> str:
    start = README.index("## Workflows")
    return next(line for line in README[start:].splitlines() if line.startswith(f"| `{name}`"))


def test_the_readme_names_every_permission_of_the_comment_job() -> None:
    row = workflows_row("pull-request-comment.yml")
    for _, job in jobs(load((WORKFLOWS / "pull-request-comment.yml").read_text())):
        for scope, level in job["permissions"].items():
            assert f"`{scope}: {level}`" in row, f"the README does not say the comment job holds {scope}: {level}"

"""`github-oidc-trust-scoped`: a role trusts only named GitHub repositories, for the STS audience.

A trust-policy statement trusts GitHub when it is an Allow whose `Federated` principal is a
GitHub OIDC provider (`oidc-provider/token.actions.githubusercontent.com`, the GitHub Enterprise
Cloud form `.../token.actions.githubusercontent.com/<enterprise>`, a GitHub Enterprise Server
issuer `<host>/_services/token`, or an issuer listed in `issuers`), or that has a condition on such
an issuer's claims. Every such statement, in any order, is judged on its own:

- `<issuer>:aud` must be pinned with plain `StringEquals`, and every value must be exactly
  `sts.amazonaws.com`. A missing `aud` is a violation.
- `<issuer>:sub` must be constrained with plain `StringEquals` or `StringLike`. The negated
  operators, the `...IfExists` variants and the `ForAllValues:`/`ForAnyValue:` qualifiers do not
  count: each of them lets a token through that a plain operator would stop.
- Every `sub` value has the form `repo:<owner>/<repo>:<context>`, with GitHub's immutable-ID form
  `repo:<owner>@<id>/<repo>@<id>:<context>` accepted (the owner is the part before `@`).
  Owner and repository are spelled out: a `*` or `?` in either fails under any operator (under
  StringLike it matches other owners or repositories; under StringEquals it is almost always a
  mistake for one), and a bare `*` anywhere in the list fails. The single exception is the
  repository `*` (`repo:<owner>/*...`), organisation-wide, accepted only with `allowOrgWide`.
- The owner must be one of `allowedOrganizations` (case-insensitive, like GitHub); empty = any.
- Contexts: `ref:refs/heads/<branch>`, `ref:refs/tags/<tag>`, `environment:<name>` and other
  named claims are accepted, with wildcards only after the context is named (StringLike
  `ref:refs/heads/release/*` is a branch pattern, not "any ref"). A pattern that leaves the
  context itself open (`repo:o/r:*`, `ref:*`, `repo:o/*` under StringLike) is "any ref", accepted
  only with `allowAnyRef`; it includes pull requests. `pull_request` needs `allowPullRequests`.
  Under StringEquals the context is literal, so a `*` there matches nothing and is harmless.

Deny statements grant nothing and are not judged. Open `*` principals are `iam-least-privilege`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    ROLE,
    DocumentError,
    Finding,
    Resource,
    Skipped,
    config_bool,
    config_strings,
    has_wildcard,
    is_allow,
    is_unknown,
    load_document,
    resource_policy,
    statement_label,
    statements,
)
from .documents import Condition, conditions, principals

GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
_NAMED_CONTEXT = re.compile(r"^(ref:refs/(heads|tags)/|(?!ref:)[a-z_]+:)")
_DIGITS = re.compile(r"^\d+$")


def is_github_issuer(issuer: str, extra: frozenset[str]) -> bool:
    issuer = issuer.lower().removeprefix("https://").rstrip("/")
    return (issuer == GITHUB_ISSUER or issuer.startswith(GITHUB_ISSUER + "/")
            or issuer.endswith("/_services/token") or issuer in extra)


def _provider_issuer(federated: str) -> str:
    return federated.split(":oidc-provider/", 1)[1] if ":oidc-provider/" in federated else federated


def _claim(condition: Condition, extra: frozenset[str]) -> str | None:
    """`sub`, `aud`, ... when the condition key is a GitHub issuer's claim, else None."""
    issuer, sep, claim = condition.key.rpartition(":")
    if not sep or not is_github_issuer(issuer, extra):
        return None
    return claim


def trusts_github(statement: Mapping[str, Any], extra: frozenset[str]) -> bool:
    federated = principals(statement).get("Federated", [])
    if any(is_github_issuer(_provider_issuer(f), extra) for f in federated):
        return True
    return any(_claim(c, extra) is not None for c in conditions(statement))


def _counts(condition: Condition, operators: tuple[str, ...]) -> bool:
    return condition.operator in operators


def subject_problems(value: str, like: bool, config: Mapping[str, Any]) -> list[str]:
    """Why one `sub` value lets in more than named repositories (empty when it is fine)."""
    allowed_orgs = {o.lower() for o in config_strings(config, "allowedOrganizations")}
    if not value:
        return ["an empty subject pins no repository"]
    if (value.strip("*?") == "") if like else (value == "*"):
        return ["a bare wildcard lets every GitHub workflow of every owner assume the role"]
    if not value.startswith("repo:"):
        return ["it does not start with 'repo:<owner>/<repo>:', so it does not pin a repository"]
    owner_repo, _, context = value[len("repo:"):].partition(":")
    has_context = ":" in value[len("repo:"):]
    owner_part, slash, repo_part = owner_repo.partition("/")
    if not slash:
        return [f"'{owner_repo}' is not '<owner>/<repo>'; spell out the owner and the repository"]
    owner, _, owner_id = owner_part.partition("@")
    repo, _, repo_id = repo_part.partition("@")
    problems = []
    if not owner or has_wildcard(owner_part) or (owner_id and not _DIGITS.match(owner_id)):
        problems.append(f"the owner '{owner_part}' is not spelled out (no wildcards or prefixes)")
    elif allowed_orgs and owner.lower() not in allowed_orgs:
        problems.append(f"the owner '{owner}' is not one of the allowed organizations "
                        f"({', '.join(sorted(allowed_orgs))})")
    org_wide = repo == "*" and not repo_id
    if org_wide:
        if not config_bool(config, "allowOrgWide", False):
            problems.append("it trusts every repository of the owner (repo:<owner>/*), and allowOrgWide is false")
    elif not repo or has_wildcard(repo_part) or (repo_id and not _DIGITS.match(repo_id)):
        problems.append(f"the repository '{repo_part}' is not spelled out (no wildcards or prefixes)")
    allow_any_ref = config_bool(config, "allowAnyRef", False)
    any_ref = False
    if like and org_wide and not has_context:
        any_ref = True
    elif like and has_context and has_wildcard(context):
        literal = re.split(r"[*?]", context, maxsplit=1)[0]
        any_ref = not _NAMED_CONTEXT.match(literal)
    if any_ref and not allow_any_ref:
        problems.append("it matches any ref, environment or pull request of the repository, and allowAnyRef "
                        "is false; name the branches (ref:refs/heads/<b>), tags or environments")
    if not any_ref and context == "pull_request" and not config_bool(config, "allowPullRequests", False):
        problems.append("it trusts pull_request workflows (code not yet reviewed), and allowPullRequests is false")
    return problems


def trust_problems(document: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """Every problem of the GitHub statements of one trust policy, as 'statement X: ...' phrases."""
    extra = frozenset(i.lower().removeprefix("https://").rstrip("/") for i in config_strings(config, "issuers"))
    problems: list[str] = []
    for index, statement in enumerate(statements(document)):
        if not is_allow(statement) or not trusts_github(statement, extra):
            continue
        label = statement_label(statement, index)
        claims = [(c, _claim(c, extra)) for c in conditions(statement)]
        audiences = [c for c, claim in claims if claim == "aud"]
        subjects = [c for c, claim in claims if claim == "sub"]
        pinned = [c for c in audiences if _counts(c, ("StringEquals",))]
        if not pinned:
            ignored = f" ({', '.join(sorted({c.operator for c in audiences}))} does not count)" if audiences else ""
            problems.append(f"{label} does not pin the audience: add StringEquals "
                            f"'<issuer>:aud': '{AUDIENCE}'{ignored}")
        for condition in pinned:
            wrong = [v for v in condition.values if v != AUDIENCE]
            if wrong or not condition.values:
                problems.append(f"{label} accepts the audience {', '.join(repr(v) for v in wrong) or 'of any value'}"
                                f" ('{condition.key}'); the only audience for AWS is '{AUDIENCE}'")
        constraining = [c for c in subjects if _counts(c, ("StringEquals", "StringLike"))]
        if not constraining:
            ignored = f" ({', '.join(sorted({c.operator for c in subjects}))} does not count)" if subjects else ""
            problems.append(f"{label} does not constrain the subject: any GitHub workflow could assume the role; "
                            f"add StringEquals or StringLike '<issuer>:sub': 'repo:<owner>/<repo>:<ref>'{ignored}")
        for condition in constraining:
            if not condition.values:
                problems.append(f"{label} has an empty '{condition.key}' list")
            for value in condition.values:
                for problem in subject_problems(value, condition.operator == "StringLike", config):
                    problems.append(f"{label} trusts the subject '{value}' ({condition.operator}): {problem}")
    return problems


def check_github_trust(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    document = resource.props.get("assumeRolePolicy")
    if is_unknown(document):
        skipped.add(f"{resource.name}.assumeRolePolicy")
        return []
    if document in (None, ""):
        return []
    try:
        parsed = load_document(document)
    except DocumentError as error:
        return [Finding(f"The trust policy (assumeRolePolicy) of IAM role '{resource.label}' {error}, so it cannot "
                        "be judged. Provide a JSON policy document.")]
    return [Finding(f"The trust policy (assumeRolePolicy) of IAM role '{resource.label}' is too broad: {problem}.")
            for problem in trust_problems(parsed, config)]


POLICIES = [
    resource_policy(
        name="github-oidc-trust-scoped",
        description="IAM roles trusted by GitHub Actions must pin the STS audience and name the allowed "
                    "repositories and refs.",
        resource_types=(ROLE,),
        check=check_github_trust,
        severity=Severity.CRITICAL,
        remediation_steps="In every statement that trusts token.actions.githubusercontent.com: StringEquals "
                          "'<issuer>:aud': 'sts.amazonaws.com', and StringEquals (exact) or StringLike (patterns) "
                          "'<issuer>:sub' with values 'repo:<owner>/<repo>:ref:refs/heads/<branch>', "
                          "'...:ref:refs/tags/<tag>' or '...:environment:<name>' for allowed owners.",
        config_properties={
            "allowedOrganizations": {"type": "array", "items": {"type": "string"}, "default": [],
                                     "description": "GitHub owners a role may trust (case-insensitive); "
                                                    "empty = any owner."},
            "allowOrgWide": {"type": "boolean", "default": False,
                             "description": "Whether repo:<owner>/* (every repository of an owner) is accepted."},
            "allowPullRequests": {"type": "boolean", "default": False,
                                  "description": "Whether the :pull_request subject is accepted."},
            "allowAnyRef": {"type": "boolean", "default": False,
                            "description": "Whether repo:<owner>/<repo>:* (any branch, tag, environment or "
                                           "pull request) is accepted."},
            "issuers": {"type": "array", "items": {"type": "string"}, "default": [],
                        "description": "More OIDC issuer hosts to treat as GitHub (custom GitHub Enterprise "
                                       "Server hosts not ending in /_services/token)."},
        },
    ),
]

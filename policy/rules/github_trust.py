"""`github-oidc-trust-scoped`: a role trusts only named GitHub repositories, for the STS audience.

Every `Federated` principal of an Allow statement must be GitHub's OIDC issuer
(`token.actions.githubusercontent.com`, or GitHub Enterprise Cloud's
`token.actions.githubusercontent.com/<enterprise>`, both on GitHub's own host), an issuer host
listed exactly in `issuers` (GitHub Enterprise Server), or a value listed exactly in
`allowedFederated` (a SAML provider, Cognito, another OIDC issuer the environment really uses).
Nothing is matched by suffix: any host can serve `/_services/token`, so a look-alike path proves
nothing. A statement trusts GitHub when its `Federated` principal is such an issuer or it has a
condition on such an issuer's claims. Every such statement, in any order, is judged on its own:

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
- With `requireRepositoryId` (prod), every such statement must also pin
  `<issuer>:repository_id` with plain `StringEquals` to one numeric ID (the pin then applies to
  that repository's subjects only): a repository deleted and re-created under the same name, or
  an owner name taken over, gets another ID, so name-only subjects in either form trust it. An
  immutable-form subject naming another repository ID than the pin can never match: a mistake.
- Contexts: `ref:refs/heads/<branch>`, `ref:refs/tags/<tag>`, `environment:<name>` and other
  named claims are accepted, with wildcards only after the context is named (StringLike
  `ref:refs/heads/release/*` is a branch pattern, not "any ref"). A pattern that leaves the
  context itself open (`repo:o/r:*`, `ref:*`, `repo:o/*` under StringLike) is "any ref", accepted
  only with `allowAnyRef`; it includes pull requests. `pull_request` needs `allowPullRequests`.
  A branch or environment named only by wildcards (`ref:refs/heads/*`, `environment:*`) is any
  branch / any environment: accepted only with `allowAnyBranch` / `allowAnyEnvironment` (or
  `allowAnyRef`, which includes both); anyone who can push a branch, or name an environment in
  a workflow, gets the role. Under StringEquals the context is literal, so a `*` there matches
  nothing and is harmless.

Deny statements grant nothing and are not judged. Open `*` principals are `iam-least-privilege`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    ROLE,
    Finding,
    Resource,
    Skipped,
    config_bool,
    config_strings,
    has_wildcard,
    is_allow,
    pack_config,
    resource_policy,
    subject_parts,
)
from .documents import (
    RESOURCE_BASED,
    Condition,
    Document,
    conditions,
    judged_statements,
    malformed_message,
    open_document,
    principals,
)

POLICY = "github-oidc-trust-scoped"
GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
_NAMED_CONTEXT = re.compile(r"^(ref:refs/(heads|tags)/|(?!ref:)[a-z_]+:)")
_DIGITS = re.compile(r"^\d+$")


def issuer_host(value: str) -> str:
    return value.lower().removeprefix("https://").rstrip("/")


def is_github_issuer(issuer: str, extra: frozenset[str]) -> bool:
    """GitHub.com's issuer, GitHub Enterprise Cloud's `<issuer>/<enterprise>`, or an exact configured host."""
    issuer = issuer_host(issuer)
    return issuer == GITHUB_ISSUER or issuer.startswith(GITHUB_ISSUER + "/") or issuer in extra


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
    if not isinstance(value, str):
        return ["it is not a string"]
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
                        f"({', '.join(sorted(allowed_orgs))}; {pack_config(POLICY, 'allowedOrganizations')})")
    org_wide = repo == "*" and not repo_id
    if org_wide:
        if not config_bool(config, "allowOrgWide", False):
            problems.append(f"it trusts every repository of the owner (repo:<owner>/*), and allowOrgWide is false "
                            f"({pack_config(POLICY, 'allowOrgWide')})")
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
                        f"is false ({pack_config(POLICY, 'allowAnyRef')}); name the branches (ref:refs/heads/<b>), "
                        "tags or environments")
    elif like and not any_ref and not allow_any_ref:
        for prefix, key, plural in (("ref:refs/heads/", "allowAnyBranch", "branches"),
                                    ("environment:", "allowAnyEnvironment", "environments")):
            rest = context[len(prefix):]
            if context.startswith(prefix) and has_wildcard(rest) and rest.strip("*?") == "" \
                    and not config_bool(config, key, False):
                problems.append(f"it matches any of the repository's {plural} (anyone who can push a branch or "
                                f"name an environment in a workflow gets the role), and {key} is false "
                                f"({pack_config(POLICY, key)}); name the {plural}")
    if not any_ref and context == "pull_request" and not config_bool(config, "allowPullRequests", False):
        problems.append("it trusts pull_request workflows (code not yet reviewed), and allowPullRequests is false "
                        f"({pack_config(POLICY, 'allowPullRequests')})")
    return problems


def repository_id_problems(label: str, pins: list[Condition], subjects: list[Condition]) -> list[str]:
    """Why a GitHub statement does not pin one repository by its immutable ID (for `requireRepositoryId`)."""
    setting = pack_config(POLICY, "requireRepositoryId")
    pinned = [c for c in pins if _counts(c, ("StringEquals",))]
    if not pinned:
        ignored = f" ({', '.join(sorted({c.operator for c in pins}))} does not count)" if pins else ""
        return [f"{label} does not pin the repository by its ID, so a repository re-created under the same name (or "
                f"an owner name taken over) would be trusted; add StringEquals '<issuer>:repository_id': '<id>' "
                f"(gh api repos/OWNER/REPO --jq .id; ecr-platform: write github[].repository as "
                f"OWNER@OWNER_ID/REPO@REPO_ID){ignored}, as requireRepositoryId is true ({setting})"]
    ids = {v for c in pinned for v in c.values}
    if len(ids) != 1 or not all(_DIGITS.match(v) for v in ids):
        return [f"{label} pins repository_id to {', '.join(repr(v) for v in sorted(ids)) or 'nothing'}: pin one "
                "repository's numeric ID per statement, so that each pin holds for its own repository's subjects "
                f"({setting})"]
    problems = []
    for value in {v for c in subjects for v in c.values}:
        parts = subject_parts(value)
        if parts is not None and parts.repo_id and parts.repo_id not in ids:
            problems.append(f"{label} trusts the subject '{value}' of repository ID {parts.repo_id} but pins "
                            f"repository_id {next(iter(ids))}: it can never match; put each repository's subjects "
                            "in a statement with its own ID")
    return sorted(problems)


def federated_problems(statement: Mapping[str, Any], label: str, extra: frozenset[str],
                       allowed: frozenset[str]) -> list[str]:
    """Federated principals that are neither GitHub's issuer nor configured."""
    problems = []
    for value in principals(statement).get("Federated", []):
        if is_github_issuer(_provider_issuer(value), extra) or value in allowed \
                or issuer_host(_provider_issuer(value)) in allowed:
            continue
        problems.append(f"{label} trusts the federated principal '{value}', which is not GitHub's OIDC issuer "
                        f"({GITHUB_ISSUER}) nor listed in issuers or allowedFederated: anyone that identity "
                        "provider vouches for could assume the role; trust GitHub's issuer, or list the provider "
                        f"in {pack_config(POLICY, 'allowedFederated')}")
    return problems


def trust_problems(document: Mapping[str, Any] | Document, config: Mapping[str, Any]) -> list[str]:
    """Every problem of the federated statements of one trust policy, as 'statement X: ...' phrases."""
    extra = frozenset(issuer_host(i) for i in config_strings(config, "issuers"))
    allowed = frozenset(config_strings(config, "allowedFederated"))
    if not isinstance(document, Document):
        document = Document(judged_statements(document)[0], [])
    problems: list[str] = []
    for label, statement in document.labelled():
        if not is_allow(statement):
            continue
        problems.extend(federated_problems(statement, label, extra, allowed))
        if not trusts_github(statement, extra):
            continue
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
        if config_bool(config, "requireRepositoryId", False):
            pins = [c for c, claim in claims if claim == "repository_id"]
            problems.extend(repository_id_problems(label, pins, constraining))
    return problems


def check_github_trust(resource: Resource, config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    subject = f"The trust policy (assumeRolePolicy) of IAM role '{resource.label}'"
    document = open_document(resource.props.get("assumeRolePolicy"), RESOURCE_BASED, skipped,
                             f"{resource.name}.assumeRolePolicy")
    if document is None:
        return []
    findings = [Finding(malformed_message(subject, document))] if document.malformed else []
    findings.extend(Finding(f"{subject} is too broad: {problem}.") for problem in trust_problems(document, config))
    return findings


POLICIES = [
    resource_policy(
        name=POLICY,
        description="IAM roles may trust only GitHub's OIDC issuer (or configured providers); GitHub-trusted roles "
                    "must pin the STS audience and name the allowed repositories and refs.",
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
            "allowAnyBranch": {"type": "boolean", "default": False,
                               "description": "Whether ref:refs/heads/* (any branch of a repository) is accepted."},
            "allowAnyEnvironment": {"type": "boolean", "default": False,
                                    "description": "Whether environment:* (any environment of a repository) is "
                                                   "accepted."},
            "issuers": {"type": "array", "items": {"type": "string"}, "default": [],
                        "description": "Exact OIDC issuer hosts to judge as GitHub (GitHub Enterprise Server, e.g. "
                                       "ghes.example.com/_services/token); nothing is matched by suffix."},
            "allowedFederated": {"type": "array", "items": {"type": "string"}, "default": [],
                                 "description": "Other Federated principals a trust policy may name (exact: a SAML "
                                                "provider ARN, cognito-identity.amazonaws.com, an OIDC issuer); "
                                                "none by default."},
            "requireRepositoryId": {"type": "boolean", "default": False,
                                    "description": "Whether every GitHub trust statement must pin "
                                                   "<issuer>:repository_id (StringEquals, one numeric ID): trust "
                                                   "survives no re-created repository of the same name."},
        },
    ),
]

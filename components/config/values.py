"""The constrained values of the stack config: names, ids and ARNs, each with the message that explains it.

They are used as item types (`list[RoleArn]`), so a bad item's location carries its index
(`teams.payments.deploy.passRoles[1]`), and as mapping keys (`dict[TeamName, Team]`).

A reference to a name declared elsewhere (`pullAccounts` -> `accounts`, a GitHub owner ->
`github.organizations`) is checked against `Declared`, the validation context: the names the stack
file declares, whether or not their values are valid. A bad account id is reported once, at
`accounts.<name>`, and not again wherever that name is used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BeforeValidator, ValidationInfo

from ..documents import github_repository_name
from .messages import did_you_mean, problem_at

# ECR repository names: lowercase path segments joined by `/` (AWS CreateRepository regex).
_SEGMENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REPOSITORY_NAME = re.compile(rf"^(?:{_SEGMENT}/)*{_SEGMENT}$")
REPOSITORY_NAME_MAX = 256
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
GITHUB_REPO = re.compile(r"^(?:[A-Za-z0-9._-]{1,100}|\*)$")
GITHUB_ID = re.compile(r"^[1-9][0-9]{0,19}$")
DEFAULT_ISSUER = "token.actions.githubusercontent.com"
_ARN = r"arn:aws(?:-cn|-us-gov)?"
OIDC_PROVIDER_ARN = re.compile(rf"^{_ARN}:iam::\d{{12}}:oidc-provider/(?P<issuer>.+)$")

T = TypeVar("T")


def matching(pattern: str, expected: str) -> AfterValidator:
    """A validator refusing a string that does not match `pattern`: `"<value>" is not <expected>`."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(f'"{value}" is not {expected}')
        return value

    return AfterValidator(check)


# --- ARNs that must point where the stack deploys -------------------------------------------------


def in_home(why: str, region: bool = False, also: str = "") -> AfterValidator:
    """A validator refusing an ARN outside the stack's account (`aws:allowedAccountIds`) and, with `region`,
    outside its region (`aws:region`). `also`: "aws" accepts AWS managed policies, "accounts" an account
    declared in `accounts` (a cross-account ARN). Values that are not ARNs (aliases, ids) pass: their
    own type says what they must be. `why` is the fix: why AWS needs it there."""

    def check(value: str, info: ValidationInfo) -> str:
        parts = value.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn":
            return value
        declared = _declared(info)
        arn_region, account = parts[3], parts[4]
        allowed = set(declared.home_accounts or ())
        allowed |= {"aws"} if also == "aws" else set(declared.account_ids) if also == "accounts" else set()
        wrong, wanted = [], []
        if declared.home_accounts is not None and account not in allowed:
            wrong.append(f"account {account}")
            wanted.append(f"account {', '.join(sorted(declared.home_accounts))} (aws:allowedAccountIds)"
                          + (" or one in accounts" if also == "accounts" else ""))
        if region and declared.region is not None and arn_region != declared.region:
            wrong.append(f"region {arn_region or '(none)'}")
            wanted.append(f"region {declared.region} (aws:region)")
        if wrong:
            raise ValueError(f'"{value}" is in {" and ".join(wrong)}, but the stack deploys to {" and ".join(wanted)}; '
                             + why)
        return value

    return AfterValidator(check)


def _each_once(values: list[T]) -> list[T]:
    first: dict[T, int] = {}
    for index, value in enumerate(values):
        if first.setdefault(value, index) != index:
            raise problem_at(index, f'"{value}" is listed twice ([{first[value]}] and [{index}]); '
                                    "it must be listed once")
    return values


Unique = AfterValidator(_each_once)
"""A list validator: every item at most once (the second occurrence is the one reported)."""

TeamName = Annotated[str, matching(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "a team name: lowercase letters, digits and single hyphens, as it names the "
    "namespace, the role and the `team` tag")]
EarlierTeamName = Annotated[str, matching(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "an earlier team name (lowercase letters, digits and single hyphens)")]
Namespace = Annotated[str, matching(
    rf"^(?:(?:{_SEGMENT}/)*{_SEGMENT})?$", "a repository namespace (lowercase letters, digits, . _ - and /)")]
RoleName = Annotated[str, matching(ROLE_NAME.pattern, "an IAM role name (1-64 of letters, digits and +=,.@_-)")]
RolePath = Annotated[str, matching(r"^/(?:[\w+=,.@-]+/)*$",
                                   'an IAM path: it starts and ends with "/", e.g. /ci/')]
PolicyArn = Annotated[str, matching(rf"^{_ARN}:iam::(?:\d{{12}}|aws):policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]{{1,128}}$",
                                    "a managed policy ARN arn:aws:iam::<account|aws>:policy/<name>"),
                      in_home("a permissions boundary is a policy of the role's own account or an AWS managed "
                              "policy (arn:aws:iam::aws:policy/...)", also="aws")]
RoleArn = Annotated[str, matching(rf"^{_ARN}:iam::\d{{12}}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{{1,64}}$",
                                  "a role ARN arn:aws:iam::<account>:role/<name> (no wildcards)"),
                    in_home("ECS takes a task role of its own account only; name that account's role")]
EcsServiceArn = Annotated[str, matching(rf"^{_ARN}:ecs:[a-z0-9-]+:\d{{12}}:service/[\w-]+/[\w-]+$",
                                        "arn:aws:ecs:<region>:<account>:service/<cluster>/<service>"),
                          in_home("the push role deploys the images it pushed, to services beside them; name the "
                                  "service in the stack's account and region", region=True)]
KmsKey = Annotated[str, matching(
    rf"^(?:alias/[\w/-]+|[0-9a-f-]{{36}}|{_ARN}:kms:[a-z0-9-]+:\d{{12}}:(?:key|alias)/.+)$",
    "a KMS key ARN, key id or alias/<name>"),
    in_home("ECR encrypts with a key in the repository's region; a key of another account must belong to an "
            "account listed in accounts", region=True, also="accounts")]
OidcProviderSetting = Annotated[str, in_home("a role trusts an OIDC provider of its own account; use create, "
                                             "existing or that account's provider ARN")]
PullThroughSecretArn = Annotated[str, in_home("ECR reads the upstream credentials from a secret in the pull "
                                              "through cache rule's own account and region", region=True)]
TagWildcard = Annotated[str, matching(r"^[\w.*-]{1,128}$", "a tag wildcard (1-128 letters, digits, . _ - and *)")]
GitRef = Annotated[str, matching(r"^[^\s:~^\\]+$",
                                 'a usable ref or environment name (no spaces, ":", "~", "^")')]
GitHubOwner = Annotated[str, matching(GITHUB_OWNER.pattern, "a GitHub owner name")]
Environment = Annotated[str, matching(r"^[a-z0-9][a-z0-9-]{0,31}$",
                                      "an environment name (lowercase letters, digits, -)")]
IssuerHost = Annotated[str, AfterValidator(lambda value: value.removeprefix("https://").rstrip("/")),
                       matching(r"^[a-z0-9.-]+\.[a-z]{2,}(?:/[\w.-]+)*$", f"an issuer host such as {DEFAULT_ISSUER}")]
Region = Annotated[str, matching(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d$", "an AWS region such as us-east-1")]
SigningProfileName = Annotated[str, matching(r"^[A-Za-z0-9_]{2,64}$",
                                               "a Signer profile name (2-64 letters, digits and _)")]
_SIGNING_PROFILE_ARN = rf"^{_ARN}:signer:[a-z0-9-]+:\d{{12}}:/signing-profiles/[A-Za-z0-9_]{{2,64}}$"
SigningProfileArn = Annotated[str, matching(_SIGNING_PROFILE_ARN,
                                            "a Signer profile ARN (arn:aws:signer:<region>:<account>:"
                                            "/signing-profiles/<name>)")]
PrincipalArn = Annotated[str, matching(rf"^{_ARN}:iam::\d{{12}}:(?:role|user)/(?:[\w+=,.@-]+/)*[\w+=,.@-]{{1,64}}$",
                                       "an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)")]
ScanFilter = Annotated[str, matching(r"^[a-z0-9._/*-]{1,256}$", "a repository name wildcard such as payments/*")]
CachePrefix = Annotated[str, matching(r"^(?=.{2,30}$)[a-z0-9]+(?:[._-][a-z0-9]+)*$",
                                      "a cache prefix (2-30 lowercase letters, digits, . _ -)")]


ACCOUNT_ID_DIGITS = 12


def yaml_number_problem(value: int) -> str:
    """An account id written without quotes and read by YAML as a number: what YAML made of it, and the fix."""
    octal = f"{value:o}"
    if len(octal) == ACCOUNT_ID_DIGITS - 1:  # 0 and 11 octal digits: YAML 1.1 reads a leading 0 as octal
        return (f"{value} is what YAML made of an unquoted 0{octal}: digits after a leading 0 are read as an "
                f'octal number; quote the account id: "0{octal}"')
    return (f"{value} is what YAML made of an unquoted number, not a 12-digit account id (YAML drops leading "
            'zeros); quote the account id as written, e.g. "012345678901"')


def _as_text(value: Any) -> Any:
    # YAML reads an unquoted account id as a number: right when it has 12 digits, else say what YAML did.
    if isinstance(value, int) and not isinstance(value, bool):
        if len(str(value)) == ACCOUNT_ID_DIGITS:
            return str(value)
        raise ValueError(yaml_number_problem(value))
    return value


AccountId = Annotated[str, BeforeValidator(_as_text), matching(
    r"^\d{12}$", "a 12-digit AWS account id (quote it in YAML: as a number it loses leading zeros)")]


def repository_name_problem(name: str, shortest: int = 2) -> str | None:
    """Why `name` is not an ECR repository name; inside a namespace (`shortest=1`) one letter is enough."""
    if REPOSITORY_NAME.match(name) and shortest <= len(name) <= REPOSITORY_NAME_MAX:
        return None
    return (f'"{name}" is not a valid ECR repository name '
            "(2-256 characters of lowercase letters, digits, . _ - separated by /)")


# --- references to declared names ---------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """The validation context: the names the stack file declares, valid values or not.

    None where the section is not a usable mapping or list: that section's own error says so, and
    references into it are not checked (they would only repeat it).
    """

    accounts: frozenset[str] | None
    organizations: frozenset[str] | None
    """GitHub owners, lowercased (GitHub compares them case-insensitively)."""
    home_accounts: frozenset[str] | None = None
    """`aws:allowedAccountIds`: the accounts the stack deploys to (None: not said, ARNs' accounts unchecked)."""
    region: str | None = None
    """`aws:region` (or AWS_REGION): where the stack deploys (None: ARNs' regions unchecked)."""
    account_ids: frozenset[str] = frozenset()
    """The ids of `accounts`: where a cross-account ARN may point."""

    @classmethod
    def of(cls, raw: Mapping[str, Any], home_accounts: frozenset[str] | None = None,
           region: str | None = None) -> Declared:
        accounts = raw.get("accounts", {})
        github = raw.get("github")
        owners = github.get("organizations") if isinstance(github, Mapping) else None
        return cls(
            accounts=frozenset(map(str, accounts)) if isinstance(accounts, Mapping) else None,
            organizations=frozenset(str(o).lower() for o in owners) if isinstance(owners, list) and owners else None,
            home_accounts=home_accounts,
            region=region,
            account_ids=frozenset(str(v) for v in accounts.values()) if isinstance(accounts, Mapping) else frozenset(),
        )


def _declared(info: ValidationInfo) -> Declared:
    return info.context if isinstance(info.context, Declared) else Declared(accounts=None, organizations=None)


def _declared_account(name: str, info: ValidationInfo) -> str:
    accounts = _declared(info).accounts
    if accounts is not None and name not in accounts:
        known = ", ".join(sorted(accounts)) or "none defined"
        raise ValueError(f'"{name}" is not an account name in accounts ({known}); '
                         + (did_you_mean(name, accounts) or "add it there or use one of those"))
    return name


AccountName = Annotated[str, AfterValidator(_declared_account)]
"""A name from `accounts`."""


def _ids_hint(owner: str, repo: str) -> str:
    return f"get them with: gh api repos/{owner or 'OWNER'}/{repo or 'REPO'} --jq '.owner.id, .id'"


def _github_repository(value: str, info: ValidationInfo) -> str:
    name = github_repository_name(value)
    if "@" in value:
        if name.repo == "*" and GITHUB_OWNER.match(name.owner):
            raise ValueError(f'"{value}": a whole organisation ({name.owner}/*) has no repository ID to pin; list '
                             "its repositories, each as <owner>@<owner id>/<repo>@<repo id>")
        ids = (name.owner_id or "", name.repo_id or "")
        if not (GITHUB_OWNER.match(name.owner) and GITHUB_REPO.match(name.repo) and value.count("@") == 2
                and all(GITHUB_ID.match(i) for i in ids)):
            raise ValueError(f'"{value}" is not GitHub\'s immutable form <owner>@<owner id>/<repo>@<repo id> (both IDs '
                             f"positive integers); {_ids_hint(name.owner, name.repo)}")
    elif not name.repo or not GITHUB_OWNER.match(name.owner) or not GITHUB_REPO.match(name.repo):
        raise ValueError(f'"{value}" is not <owner>/<repo> (or <owner>/* for a whole organisation, or '
                         "<owner>@<owner id>/<repo>@<repo id> with GitHub's immutable IDs)")
    owner = name.owner
    owners = _declared(info).organizations
    if owners is not None and owner.lower() not in owners:
        raise ValueError(f'owner "{owner}" of "{value}" is not in github.organizations ({", ".join(sorted(owners))}); '
                         + (did_you_mean(owner.lower(), owners) or "add it there or fix the owner"))
    return value


GitHubRepository = Annotated[str, AfterValidator(_github_repository)]
"""`<owner>/<repo>`, `<owner>/*` or `<owner>@<owner id>/<repo>@<repo id>`, the owner one of `github.organizations`."""
WorkflowPath = Annotated[str, matching(r"^\.github/workflows/[\w.-]+\.ya?ml$",
                                       "a workflow file of the repository such as .github/workflows/release.yml")]

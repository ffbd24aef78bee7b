"""Decision tables for the pure pieces issue 21 (part A) added: linear glob matching, the depth limit, the
crash net of the policy factory, KMS keys and grants, permission sets, foreign keys, OIDC providers, managed
policies within allowed ones, and "every resource" from ARN-format witnesses."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from rules.common import (
    MAX_DEPTH,
    UNKNOWN,
    DocumentError,
    Finding,
    Skipped,
    TooDeep,
    _judge_one,
    _judge_stack,
    collapse_stars,
    contains_unknown,
    glob_match,
    load_document,
    plain,
    stack_resources,
)
from rules.github_trust import check_oidc_provider
from rules.iam_actions import expand, names_every_resource, patterns_cover_every
from rules.least_privilege import (
    check_least_privilege,
    grant_problem,
    grants_within,
    key_policy_problems,
)
from rules.repository_settings import check_encryption, key_account

from .decisions import ACCOUNT, OTHER_ACCOUNT, allow, doc, dumps, messages, resource, skipped, verdict

# --- glob matching -------------------------------------------------------------------------------------------------


def reference(pattern: str, value: str) -> bool:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(body, value, re.DOTALL) is not None


GLOBS = [
    ("", "", True), ("", "a", False), ("a", "a", True), ("a", "b", False), ("a", "A", False), ("?", "", False),
    ("?", "x", True), ("??", "x", False), ("*", "", True), ("**", "abc", True), ("a*", "a", True),
    ("a*", "ba", False), ("*a", "ba", True), ("*a", "ab", False), ("a*b", "ab", True), ("a*b", "axxb", True),
    ("a*b", "axxbc", False), ("a*b*c", "abbbc", True), ("a*b*c", "acb", False), ("a?c", "abc", True),
    ("a?c", "ac", False), ("*?", "", False), ("*?", "x", True), ("*a?b*", "xxaxbyy", True),
    ("*a?b*", "xxabyy", False), ("a*a", "a", False), ("a*a", "aa", True), ("*aa*", "a", False),
    ("x*y?z", "xyyz", True), ("x*y?z", "xyz", False), ("*?a?*", "ba", False), ("*?a?*", "bab", True),
    ("a\nb", "a\nb", True), ("*", "\n", True),
]


@pytest.mark.parametrize(("pattern", "value", "matches"), GLOBS)
def test_glob_match_decisions(pattern: str, value: str, matches: bool) -> None:
    assert glob_match(pattern, value) is matches
    assert reference(pattern, value) is matches


def test_glob_match_ignores_case_only_when_told_and_collapses_stars() -> None:
    assert glob_match("ECR:*", "ecr:putimage", case_sensitive=False)
    assert not glob_match("ECR:*", "ecr:putimage")
    assert collapse_stars("a***b**c*") == "a*b*c*" and collapse_stars("?**?") == "?*?"


def test_many_wildcards_cost_little() -> None:
    assert expand("ecr:********zq") == ()
    assert not glob_match("*a" * 200 + "b", "a" * 20000)


# --- depth and unknowns --------------------------------------------------------------------------------------------


def nested(levels: int) -> Any:
    value: Any = "x"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def test_plain_refuses_values_deeper_than_the_limit() -> None:
    assert plain(nested(MAX_DEPTH)) == nested(MAX_DEPTH)
    with pytest.raises(TooDeep, match=f"deeper than {MAX_DEPTH}"):
        plain(nested(MAX_DEPTH + 1))


def test_load_document_reports_depth_as_a_malformed_document() -> None:
    with pytest.raises(DocumentError, match="nests deeper"):
        load_document('{"a":' * 5000 + "1" + "}" * 5000)
    with pytest.raises(DocumentError, match="nests deeper"):
        load_document('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1))


def test_contains_unknown_at_any_depth() -> None:
    deep: Any = UNKNOWN
    for _ in range(5000):
        deep = [deep]
    assert contains_unknown(deep) and not contains_unknown(nested(5000)) and contains_unknown({"a": [1, UNKNOWN]})


def test_stack_resources_leaves_out_and_names_what_is_too_deep() -> None:
    r = SimpleNamespace(resource_type="t", name="deep", urn="urn::deep", props={"a": nested(MAX_DEPTH + 2)},
                        opts=None, dependencies=None, property_dependencies=None, parent=None, provider=None)
    ok = SimpleNamespace(**{**vars(r), "name": "ok", "urn": "urn::ok", "props": {"a": 1}})
    found, unreadable = stack_resources([r, ok], {"t"}, "some-policy")
    assert [x.name for x in found] == ["ok"]
    assert len(unreadable) == 1 and unreadable[0].urn == "urn::deep"
    assert "could not be judged by some-policy" in unreadable[0].message and "nests deeper" in unreadable[0].message


# --- the crash net -------------------------------------------------------------------------------------------------


def crashing(resource_: Any, config: Any, notes: Skipped) -> list[Finding]:
    if resource_.props.get("bad"):
        raise AttributeError("'str' object has no attribute 'get'")
    return [Finding(f"judged {resource_.name}", resource_.urn)]


def crashing_stack(resources: list[Any], config: Any, notes: Skipped) -> list[Finding]:
    if any(r.props.get("bad") for r in resources):
        raise KeyError("rules")
    return [Finding(f"judged {r.name}", r.urn) for r in resources]


def test_a_resource_the_checker_fails_on_is_one_finding() -> None:
    found = _judge_one("p", crashing, resource("t", "x", bad=True), {}, skipped())
    assert messages(found) == ["The t 'x' could not be judged by p: its input has a shape the guard cannot read "
                               "(AttributeError), and what the guard cannot judge it refuses. Give every property the "
                               f"shape the provider documents (objects, lists and strings where they belong, under "
                               f"{MAX_DEPTH} levels of nesting)."]
    assert messages(_judge_one("p", crashing, resource("t", "y"), {}, skipped())) == ["judged y"]


def test_a_stack_checker_that_fails_keeps_every_other_verdict() -> None:
    resources = [resource("t", "a"), resource("t", "b", bad=True), resource("t", "c")]
    found = _judge_stack("p", crashing_stack, resources, {}, skipped())
    assert [f.message.split(":")[0] for f in found] == ["The t 'b' could not be judged by p", "judged a", "judged c"]
    assert found[0].urn == resources[1].urn


def test_resources_that_fail_only_together_fail_the_policy_once() -> None:
    def together(resources: list[Any], config: Any, notes: Skipped) -> list[Finding]:
        if len(resources) > 1:
            raise ValueError("pair")
        return []
    (found,) = _judge_stack("p", together, [resource("t", "a"), resource("t", "b")], {}, skipped())
    assert found.message.startswith("The stack could not be judged by p (ValueError)") and found.urn is None


def test_unknowns_still_raise_through_the_net() -> None:
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

    def unknown(*_: Any) -> list[Finding]:
        raise UnknownValueError(UNKNOWN_STRING_VALUE, ["p"])
    with pytest.raises(UnknownValueError):
        _judge_one("p", unknown, resource("t", "x"), {}, skipped())
    with pytest.raises(UnknownValueError):
        _judge_stack("p", unknown, [resource("t", "x")], {}, skipped())


# --- KMS -----------------------------------------------------------------------------------------------------------

HOME = f"arn:aws:iam::{ACCOUNT}:root"
FOREIGN = f"arn:aws:iam::{OTHER_ACCOUNT}:root"


def key_statement(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "kms:Decrypt", "Resource": "*", **extra}


KEY_POLICIES = [
    # (statement, config, phrase or None)
    (key_statement({"AWS": HOME}), {"allowedAccounts": [ACCOUNT]}, None),
    (key_statement({"AWS": FOREIGN}), {"allowedAccounts": [ACCOUNT]}, f"to account(s) '{OTHER_ACCOUNT}'"),
    (key_statement({"AWS": FOREIGN}), {}, None),
    (key_statement({"AWS": OTHER_ACCOUNT}), {"allowedAccounts": [ACCOUNT]}, "not in allowedAccounts"),
    (key_statement("*"), {}, "grants 'kms:Decrypt' to any principal ('*')"),
    (key_statement({"AWS": "*"}), {}, "to any principal"),
    (key_statement({"AWS": "arn:aws:iam::*:root"}), {}, "to any principal"),
    (key_statement("*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}), {"allowedAccounts": [ACCOUNT]},
     None),
    (key_statement("*", Condition={"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}}),
     {"allowedAccounts": [ACCOUNT]}, "not in allowedAccounts"),
    (key_statement({"AWS": "deployer"}), {}, "'deployer', which is not an IAM ARN"),
    (key_statement({"Service": "ecr.amazonaws.com"}), {"allowedAccounts": [ACCOUNT]}, None),
    ({"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}, {}, None),
    ({"Effect": "Allow", "NotPrincipal": {"AWS": HOME}, "Action": "kms:Decrypt", "Resource": "*"}, {},
     "uses NotPrincipal with Allow"),
]


@pytest.mark.parametrize(("statement", "config", "expected"), KEY_POLICIES)
def test_key_policy_decisions(statement: dict[str, Any], config: dict[str, Any], expected: str | None) -> None:
    for kind in ("aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy"):
        found = messages(check_least_privilege(resource(kind, "key", policy=dumps(doc(statement))), config, skipped()))
        verdict(found, expected)


def test_key_policies_absent_unknown_or_malformed() -> None:
    notes = skipped()
    assert check_least_privilege(resource("aws:kms/key:Key", "key", policy=UNKNOWN), {}, notes) == []
    assert notes.paths == ["key.policy"]
    assert check_least_privilege(resource("aws:kms/key:Key", "key"), {}, skipped()) == []
    (found,) = messages(check_least_privilege(resource("aws:kms/key:Key", "key", policy=dumps(doc(
        {"Effect": "Allow", "Principal": {"aws": HOME}, "Action": "kms:*"}))), {}, skipped()))
    assert "is malformed" in found and "'aws'" in found


GRANTS = [
    # (props, config, phrase or None)
    ({"granteePrincipal": f"arn:aws:iam::{ACCOUNT}:role/r"}, {"allowedAccounts": [ACCOUNT]}, None),
    ({"granteePrincipal": f"arn:aws:iam::{OTHER_ACCOUNT}:role/r"}, {"allowedAccounts": [ACCOUNT]},
     f"is in account {OTHER_ACCOUNT}"),
    ({"granteePrincipal": f"arn:aws:iam::{OTHER_ACCOUNT}:role/r"}, {}, None),
    ({"granteePrincipal": "logs.us-west-2.amazonaws.com"}, {"allowedAccounts": [ACCOUNT]}, None),
    ({"granteePrincipal": "*"}, {}, "granteePrincipal '*' is not an IAM ARN"),
    ({"granteePrincipal": 12}, {}, "granteePrincipal 12 is not an IAM ARN"),
    ({"granteePrincipal": f"arn:aws:iam::{ACCOUNT}:role/r", "retiringPrincipal": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
     {"allowedAccounts": [ACCOUNT]}, "its retiringPrincipal"),
    ({"granteePrincipal": f"arn:aws:iam::{ACCOUNT}:role/r", "retiringPrincipal": ""}, {"allowedAccounts": [ACCOUNT]},
     None),
    ({}, {}, None),
]


@pytest.mark.parametrize(("props", "config", "expected"), GRANTS)
def test_grant_decisions(props: dict[str, Any], config: dict[str, Any], expected: str | None) -> None:
    problem = grant_problem(resource("aws:kms/grant:Grant", "g", **props), config, skipped())
    verdict([problem] if problem else [], expected)


def test_an_unknown_grantee_waits_for_a_later_preview() -> None:
    notes = skipped()
    assert grant_problem(resource("aws:kms/grant:Grant", "g", granteePrincipal=UNKNOWN), {}, notes) is None
    assert notes.paths == ["g.granteePrincipal"]


def test_key_policy_problems_list_every_account_once() -> None:
    from rules.documents import RESOURCE_BASED, open_document
    document = open_document(doc(key_statement({"AWS": [FOREIGN, f"arn:aws:iam::{OTHER_ACCOUNT}:role/x"]})),
                             RESOURCE_BASED, skipped(), "p")
    assert document is not None
    assert len(key_policy_problems(document, {"allowedAccounts": [ACCOUNT]})) == 1


# --- IAM Identity Center -------------------------------------------------------------------------------------------

SSO = [
    ("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", {"inlinePolicy": dumps(doc(allow("*")))},
     "grants every action of every service"),
    ("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
     {"inlinePolicy": dumps(doc(allow("ecr:DescribeImages", "arn:aws:ecr:us-west-2:1:repository/a")))}, None),
    ("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", {"inlinePolicy": "{"}, "is malformed"),
    ("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", {}, None),
    ("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
     {"managedPolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"},
     "attaches the AWS managed policy PowerUserAccess"),
    ("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
     {"managedPolicyArn": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"}, None),
    ("aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment", {}, "cannot judge"),
    ("aws:ssoadmin/permissionSet:PermissionSet", {"name": "ops"}, None),
    ("aws:kms/alias:Alias", {"name": "alias/x"}, None),
]


@pytest.mark.parametrize(("kind", "props", "expected"), SSO)
def test_permission_set_decisions(kind: str, props: dict[str, Any], expected: str | None) -> None:
    config = {"allowedManagedPolicies": ["AmazonEC2ContainerRegistryReadOnly"]}
    verdict(messages(check_least_privilege(resource(kind, "ps", **props), config, skipped())), expected)


def test_an_unknown_managed_policy_arn_waits() -> None:
    notes = skipped()
    kind = "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment"
    assert check_least_privilege(resource(kind, "ps", managedPolicyArn=UNKNOWN), {}, notes) == []
    assert notes.paths == ["ps.managedPolicyArn"]


# --- managed policies within allowed ones --------------------------------------------------------------------------

READ_ALL = doc(allow(["ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ecr:DescribeImages"], "*"))

WITHIN = [
    # (document, allowed documents, within)
    (doc(allow("ecr:BatchGetImage", "*")), [READ_ALL], True),
    (doc(allow("ecr:BatchGetImage", "arn:aws:ecr:us-west-2:1:repository/a")), [READ_ALL], True),
    (doc(allow(["ecr:BatchGetImage", "ecr:PutImage"], "*")), [READ_ALL], False),
    (doc(allow("ecr:BatchGetImage", "*")), [doc(allow("ecr:BatchGetImage", "arn:aws:ecr:us-west-2:1:repository/a"))],
     False),
    (doc(allow("ecr:BatchGetImage", "*")), [], False),
    (doc(allow("ecr:BatchGet*", "*")), [READ_ALL], False),
    (doc(allow("ecr:BatchGetImage", "*", Condition={"Bool": {"aws:SecureTransport": "true"}})), [READ_ALL], False),
    (doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), [READ_ALL], False),
    (doc(allow("nosuch:Thing", "*")), [READ_ALL], False),
    (doc(), [READ_ALL], False),
    (doc(allow("ecr:BatchGetImage", "*"), {"Effect": "Deny", "Action": "*", "Resource": "*"}), [READ_ALL], True),
    (doc(allow("ecr:BatchGetImage", "arn:aws:ecr:us-west-2:1:repository/a*")),
     [doc(allow("ecr:BatchGetImage", "arn:aws:ecr:us-west-2:1:repository/?*"))], False),
]


@pytest.mark.parametrize(("document", "allowed", "within"), WITHIN)
def test_grants_within_decisions(document: dict[str, Any], allowed: list[dict[str, Any]], within: bool) -> None:
    assert grants_within(document, allowed) is within


# --- foreign keys and OIDC providers -------------------------------------------------------------------------------

KEYS = [
    ("alias/ecr", None), ("1234abcd-12ab", None), (f"arn:aws:kms:us-west-2:{ACCOUNT}:key/k", ACCOUNT),
    (f"arn:aws:kms:us-west-2:{OTHER_ACCOUNT}:alias/ecr", OTHER_ACCOUNT), ("arn:aws:kms", ""), (None, None), (7, None),
]


@pytest.mark.parametrize(("key", "account"), KEYS)
def test_key_accounts(key: Any, account: str | None) -> None:
    assert key_account(key) == account


def encrypted(key: Any, kind: str = "aws:ecr/repository:Repository") -> Any:
    return resource(kind, "repo", name="payments/api", prefix="payments",
                    encryptionConfigurations=[{"encryptionType": "KMS", "kmsKey": key}])


FOREIGN_KEYS = [
    (encrypted(f"arn:aws:kms:us-west-2:{OTHER_ACCOUNT}:key/k"), {"keyAccounts": [ACCOUNT]}, "not in keyAccounts"),
    (encrypted(f"arn:aws:kms:us-west-2:{OTHER_ACCOUNT}:key/k",
               "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"), {"keyAccounts": [ACCOUNT]},
     "creation template 'payments'"),
    (encrypted(f"arn:aws:kms:us-west-2:{ACCOUNT}:key/k"), {"keyAccounts": [ACCOUNT]}, None),
    (encrypted(f"arn:aws:kms:us-west-2:{OTHER_ACCOUNT}:key/k"), {}, None),
    (encrypted("alias/ecr"), {"keyAccounts": [ACCOUNT]}, None),
    (encrypted("arn:aws:kms"), {"keyAccounts": [ACCOUNT]}, "of account (none)"),
    (resource("aws:ecr/repository:Repository", "repo", encryptionConfigurations={"kmsKey": "arn:a:b:c:9:k/x"},
              name="x"), {"keyAccounts": [ACCOUNT], "minimum": "AES256"}, "account 9"),
]


@pytest.mark.parametrize(("repository", "config", "expected"), FOREIGN_KEYS)
def test_foreign_key_decisions(repository: Any, config: dict[str, Any], expected: str | None) -> None:
    verdict(messages(check_encryption(repository, {"minimum": "KMS", **config}, skipped())), expected)


def test_a_foreign_key_below_the_minimum_reports_both() -> None:
    repository = encrypted(f"arn:aws:kms:us-west-2:{OTHER_ACCOUNT}:alias/aws/ecr")
    found = messages(check_encryption(repository, {"minimum": "customer-managed-key", "keyAccounts": [ACCOUNT]},
                                      skipped()))
    assert len(found) == 2 and "below the required minimum" in found[0] and "keyAccounts" in found[1]


OIDC = [
    ("https://token.actions.githubusercontent.com", {}, None),
    ("https://token.actions.githubusercontent.com/acme", {}, None),
    ("https://ghes.example.com/_services/token", {"issuers": ["ghes.example.com/_services/token"]}, None),
    ("https://oidc.eks.us-west-2.amazonaws.com/id/X", {}, "registers the issuer"),
    ("https://oidc.eks.us-west-2.amazonaws.com/id/X", {"allowedFederated": ["oidc.eks.us-west-2.amazonaws.com/id/X"]},
     None),
    ("https://evil.example/token.actions.githubusercontent.com", {}, "registers the issuer"),
    (None, {}, "registers the issuer None"),
]


@pytest.mark.parametrize(("url", "config", "expected"), OIDC)
def test_oidc_provider_decisions(url: Any, config: dict[str, Any], expected: str | None) -> None:
    provider = resource("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github", url=url)
    verdict(messages(check_oidc_provider(provider, config, skipped())), expected)


def test_an_unknown_provider_url_waits() -> None:
    notes = skipped()
    provider = resource("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github", url=UNKNOWN)
    assert check_oidc_provider(provider, {}, notes) == [] and notes.paths == ["github.url"]


# --- "every resource" from witnesses -------------------------------------------------------------------------------

K = f"arn:aws:kms:us-west-2:{ACCOUNT}:key"
EVERY = [
    (f"{K}/*-*-*-*-*", True), (f"{K}/mrk-*", True), (f"{K}/*4*", True), (f"{K}/1b2c3d4-*", False),
    (f"{K}/1234abcd-12ab-34cd-56ef-1234567890ab", False),
    ("arn:aws:secretsmanager:us-west-2:1:secret:*-??????", True),
    ("arn:aws:secretsmanager:us-west-2:1:secret:prod/db-??????", False),
    ("arn:aws:ec2:us-west-2:1:instance/i-*", True), ("arn:aws:ec2:us-west-2:1:instance/i-0abc*", False),
    ("arn:aws:iam::1:role/*x*", False), ("arn:aws:iam::1:role/*-*", False), ("arn:aws:iam::1:role/?*", True),
    ("arn:aws:iam::1:role/a*", False), ("arn:aws:ecr:us-west-2:1:repository/payments/*", False),
    ("arn:aws:s3:::bucket/*", False), ("arn:aws:nosuchservice:r:1:thing/*x", False),
]


@pytest.mark.parametrize(("pattern", "every"), EVERY)
def test_every_resource_decisions(pattern: str, every: bool) -> None:
    assert names_every_resource(pattern) is every


ROLES = [f"arn:aws:iam::1:role/{c}*" for c in "abcdefghijklmnopqrstuvwxyz0123456789"]


def test_patterns_that_together_cover_every_first_character_are_every_resource() -> None:
    assert patterns_cover_every(ROLES) == ROLES
    assert patterns_cover_every(ROLES[:-1]) == []
    assert patterns_cover_every([*ROLES, "arn:aws:iam::1:user/x"]) == ROLES
    assert patterns_cover_every(["*", "arn:aws:iam::1:role/a"]) == []


def test_a_provider_too_deep_to_read_has_an_unknown_region() -> None:
    from rules.common import provider_region
    assert provider_region(SimpleNamespace(props={"region": "eu-west-1", "x": nested(MAX_DEPTH + 2)})) is UNKNOWN
    assert provider_region(SimpleNamespace(props={"region": "eu-west-1"})) == "eu-west-1"

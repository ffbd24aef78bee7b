"""team-isolation, decision by decision, on the pure stack checker.

Every row is a small stack (two teams' repositories plus what a test adds) and the verdict.
Both directions of every comparison (a writer tagged for a team that sorts before and after the
one it writes to), every kind of resource pattern, and early exits (a Deny, a read-only
statement, a malformed document) followed by a write that must still be judged.
"""

from __future__ import annotations

from typing import Any

import pytest
from rules.common import (
    LIFECYCLE_POLICY,
    POLICY_ATTACHMENT,
    PULL_THROUGH_CACHE,
    REPOSITORY,
    REPOSITORY_POLICY,
    ROLE,
    ROLE_POLICY,
    UNKNOWN,
)
from rules.team_isolation import (
    POLICIES,
    RepositoryIndex,
    check_team_isolation,
    granted_writes,
    repositories_reached,
    undeclared_in_namespace,
    write_scope,
)

from .decisions import ACCOUNT, allow, defaults, deny, doc, dumps, messages, resource, skipped

PREFIX = f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository"
ECR_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"}, "Action": "sts:AssumeRole"})


def fresh(text: str) -> str:
    """A string equal to `text` but not the same object, as every value the engine sends is."""
    return "".join(list(text))


def repository(name: str, team: str | None, parent: str = "") -> Any:
    tags = {"team": fresh(team)} if team else {}
    r = resource(REPOSITORY, name.replace("/", "-"), name=name, tags=tags)
    r.parent = fresh(parent)
    return r


def role(name: str, team: Any = None, trust: Any = None, **props: Any) -> Any:
    tags = UNKNOWN if team is UNKNOWN else ({"team": fresh(team)} if team else {})
    return resource(ROLE, name, name=name, tags=tags, assumeRolePolicy=trust, **props)


def inline(role_name: str, *statements: dict[str, Any], logical: str | None = None) -> Any:
    return resource(ROLE_POLICY, logical or f"{role_name}-policy", role=role_name, policy=dumps(doc(*statements)))


def stack(*extra: Any) -> list[Any]:
    return [repository("payments/api", "payments"), repository("billing/api", "billing"),
            repository("zeta/api", "zeta"), *extra]


def judge(resources: list[Any], **config: Any) -> list[str]:
    return messages(check_team_isolation(resources, defaults(POLICIES, **config), skipped()))


def one(resources: list[Any], phrase: str | None, **config: Any) -> None:
    found = judge(resources, **config)
    if phrase is None:
        assert found == [], found
    else:
        assert any(phrase in m for m in found), f"wanted {phrase!r} in {found}"


# --- who may write where -----------------------------------------------------------------------------

OWN = allow("ecr:PutImage", f"{PREFIX}/payments/*")

CASES = [
    # (resources added to the two-team stack, config, phrase or None)
    ([role("ci", "payments"), inline("ci", OWN)], {}, None),
    ([role("ci", "payments"), inline("ci", allow("ecr:PutImage", f"{PREFIX}/payments/api"))], {}, None),
    ([role("ci", "payments"), inline("ci", allow("ecr:BatchGetImage", f"{PREFIX}/*"))], {}, None),
    # tagged for another team: both directions of the comparison
    ([role("ci", "billing"), inline("ci", OWN)], {}, "tagged for team 'billing' but can write to 1 ECR "
                                                     "repositories of team 'payments' ('payments/api')"),
    ([role("ci", "zeta"), inline("ci", OWN)], {}, "tagged for team 'zeta' but can write"),
    ([role("ci", "payments"), inline("ci", allow("ecr:PutImage", f"{PREFIX}/billing/*"))], {},
     "tagged for team 'payments' but can write to 1 ECR repositories of team 'billing'"),
    ([role("ci", "payments"), inline("ci", allow("ecr:PutImage", f"{PREFIX}/zeta/*"))], {},
     "tagged for team 'payments' but can write to 1 ECR repositories of team 'zeta'"),
    # no team tag
    ([role("ci"), inline("ci", OWN)], {}, "belongs to no team (no 'team' tag) but can write to 1 ECR repositories "
                                          "of team 'payments'"),
    ([role("ci"), inline("ci", OWN)], {"sharedWriters": ["ci"]}, None),
    ([role("ci", "payments"), inline("ci", OWN)], {"tagKey": "owner"}, None),   # repositories lose their team
    # two teams
    ([role("ci", "payments"), inline("ci", OWN, allow("ecr:PutImage", f"{PREFIX}/billing/api"))], {},
     "of team 'payments' can write to the repositories of 2 teams"),
    ([role("ci"), inline("ci", allow("ecr:PutImage", [f"{PREFIX}/billing/api", f"{PREFIX}/zeta/api"]))], {},
     "The IAM role 'ci' can write to the repositories of 2 teams"),
    ([role("ci", "payments"), inline("ci", OWN, allow("ecr:PutImage", f"{PREFIX}/billing/api"))],
     {"sharedWriters": ["ci"]}, None),
    # every namespace
    ([role("ci", "payments"), inline("ci", allow("ecr:PutImage", f"{PREFIX}/*"))], {}, "every namespace"),
    ([role("ci", "payments"), inline("ci", allow("ecr:PutImage", f"{PREFIX}/pay*"))], {}, "every namespace"),
    ([role("ci", "payments"), inline("ci", allow("ecr:PutImage", "*"))], {}, "every namespace"),
    ([role("ci", "payments"), inline("ci", {"Effect": "Allow", "Action": "ecr:PutImage", "NotResource": "x"})], {},
     "every namespace"),
    ([role("ci", "payments"), inline("ci", {"Effect": "Allow", "NotAction": "s3:*", "Resource": f"{PREFIX}/*"})], {},
     "every namespace"),
    ([role("ci", "payments"), inline("ci", {"Effect": "Allow", "NotAction": "ecr:*", "Resource": f"{PREFIX}/*"})], {},
     None),
    # the registry itself
    ([role("ci", "payments"), inline("ci", allow("ecr:PutRegistryPolicy"))], {},
     "can change the whole registry through the inline policy 'ci-policy' statement #1 ('ecr:PutRegistryPolicy')"),
    ([role("ci", "payments"), inline("ci", allow("ecr:PutRegistryPolicy", f"{PREFIX}/payments/*"))], {}, None),
    # early exits never end the judging
    ([role("ci", "payments"), inline("ci", deny("ecr:*"), allow("ecr:PutImage", f"{PREFIX}/billing/*"))], {},
     "team 'billing'"),
    ([role("ci", "payments"), inline("ci", allow("ecr:BatchGetImage", "*"), allow("ecr:PutImage", f"{PREFIX}/zeta/*"))],
     {}, "team 'zeta'"),
    ([role("ci", "payments"), inline("ci", allow("s3:PutObject", "*"), allow("ecr:PutImage", f"{PREFIX}/zeta/*"))],
     {}, "team 'zeta'"),
    ([role("ci", "payments"), inline("ci", allow("ecr:PutImage", ["arn:aws:s3:::x", f"{PREFIX}/zeta/*"]))], {},
     "team 'zeta'"),
    ([role("ci", "payments"), inline("ci", {"Action": "x"}), inline("ci", allow("ecr:PutImage", f"{PREFIX}/zeta/*"),
                                                                    logical="second")],
     {}, "team 'zeta'"),
    # writers per team
    ([role("a", "payments"), inline("a", OWN), role("b", "payments"), inline("b", OWN)], {},
     "The repositories of team 'payments' can be written by 2 principals"),
    ([role("a", "payments"), inline("a", OWN), role("b", "payments"), inline("b", OWN)], {"maxWritersPerTeam": 2},
     None),
    ([role("a", "payments"), inline("a", OWN)], {"maxWritersPerTeam": 3}, None),
    ([role("a", "payments"), inline("a", OWN), role("b", "payments"), inline("b", OWN)], {"maxWritersPerTeam": 0},
     "more than maxWritersPerTeam (1)"),                        # an invalid value falls back to one writer
    # a writer exempt as shared, then one that is not: still judged
    ([role("shared"), inline("shared", OWN), role("ci", "zeta"), inline("ci", OWN)], {"sharedWriters": ["shared"]},
     "tagged for team 'zeta'"),
    # a principal that writes nothing, then one that writes where it must not
    ([role("reader", "payments"), inline("reader", allow("ecr:BatchGetImage", f"{PREFIX}/*")),
      role("ci", "zeta"), inline("ci", OWN)], {}, "tagged for team 'zeta'"),
    # a pattern that reaches every namespace, then another team's: both reported
    ([role("ci", "payments"), inline("ci", allow("ecr:PutImage", [f"{PREFIX}/*", f"{PREFIX}/zeta/*"]))], {},
     "tagged for team 'payments' but can write to 1 ECR repositories of team 'zeta'"),
    ([role("ci", "payments"), inline("ci", allow("ecr:PutImage", [f"{PREFIX}/*", f"{PREFIX}/zeta/*"]))], {},
     "every namespace"),
    # roles are not repositories, whatever their name and tags
    ([role("ci", "billing"), role("w", "payments"), inline("w", allow("ecr:PutImage", f"{PREFIX}/ci"))], {}, None),
    # a role the stack only names, holding only what ECR's own creation role holds, is still a writer
    ([resource(POLICY_ATTACHMENT, "att", roles=["eks-node"], policyArn=f"arn:aws:iam::{ACCOUNT}:policy/create"),
      resource("aws:iam/policy:Policy", "create", name="create",
               policy=dumps(doc(allow("ecr:CreateRepository", f"{PREFIX}/payments/*"))))], {},
     "IAM role 'eks-node' (not declared in this stack) belongs to no team"),
    # an absent document, then one that writes
    ([role("ci", "payments", inlinePolicies=[{"name": "none", "policy": None},
                                             {"name": "w", "policy": doc(allow("ecr:PutImage", f"{PREFIX}/zeta/*"))}])],
     {}, "team 'zeta'"),
    # a role the stack only names (an attachment to a pre-existing role) is judged like one it declares
    ([resource(POLICY_ATTACHMENT, "att", roles=["eks-node"], policyArn=f"arn:aws:iam::{ACCOUNT}:policy/push"),
      resource("aws:iam/policy:Policy", "push", name="push", policy=dumps(doc(OWN)))], {},
     "IAM role 'eks-node' (not declared in this stack) belongs to no team"),
]


@pytest.mark.parametrize(("extra", "config", "expected"), CASES)
def test_write_verdicts(extra: list[Any], config: dict[str, Any], expected: str | None) -> None:
    one(stack(*extra), expected, **config)


def test_a_writer_tagged_for_its_team_draws_nothing_and_one_for_another_draws_exactly_one_finding() -> None:
    assert judge(stack(role("ci", "payments"), inline("ci", OWN))) == []
    assert len(judge(stack(role("ci", "zeta"), inline("ci", OWN)))) == 1
    assert len(judge(stack(role("ci", "billing"), inline("ci", OWN)))) == 1


def test_the_registry_finding_lists_up_to_three_actions() -> None:
    actions = ["ecr:PutRegistryPolicy", "ecr:PutReplicationConfiguration", "ecr:PutRegistryScanningConfiguration"]
    (found,) = judge(stack(role("ci", "payments"), inline("ci", allow(actions))))
    assert "('ecr:PutRegistryPolicy', 'ecr:PutRegistryScanningConfiguration', 'ecr:PutReplicationConfiguration')" \
        in found
    (found,) = judge(stack(role("ci", "payments"), inline("ci", allow([*actions, "ecr:CreatePullThroughCacheRule"]))))
    assert "('ecr:CreatePullThroughCacheRule', 'ecr:PutRegistryPolicy', 'ecr:PutRegistryScanningConfiguration' " \
           "and 1 more)" in found


def test_the_team_tag_key_comes_from_the_config() -> None:
    owned = resource(REPOSITORY, "api", name="payments/api", tags={"owner": fresh("payments")})
    writer = resource(ROLE, "ci", name="ci", tags={"owner": fresh("billing"), "team": fresh("payments")})
    found = judge([owned, writer, inline("ci", OWN)], tagKey="owner")
    assert len(found) == 1 and "tagged for team 'billing'" in found[0]


def test_each_way_in_shows_up_to_three_actions() -> None:
    push = ["ecr:PutImage", "ecr:UploadLayerPart", "ecr:InitiateLayerUpload", "ecr:CompleteLayerUpload"]
    (found,) = judge(stack(role("ci", "payments"), inline("ci", allow(push, f"{PREFIX}/zeta/*"))))
    assert "('ecr:CompleteLayerUpload', 'ecr:InitiateLayerUpload', 'ecr:PutImage' and 1 more on " in found


def test_attachments_whose_principal_is_unknown_are_noted() -> None:
    notes = skipped()
    attach = resource(POLICY_ATTACHMENT, "att", roles=[UNKNOWN], policyArn=f"arn:aws:iam::{ACCOUNT}:policy/x")
    (found,) = messages(check_team_isolation(stack(attach), defaults(POLICIES), notes))
    assert "The IAM role named by 'att.roles' (unknown at preview) is granted" in found and "cannot be judged" in found
    assert notes.paths == ["att.roles"]


def test_a_repository_without_a_team_is_not_waited_for() -> None:
    notes = skipped()
    untagged = resource(REPOSITORY, "new", name=UNKNOWN, tags={})
    assert check_team_isolation([untagged], defaults(POLICIES), notes) == [] and notes.paths == []


def test_findings_about_several_resources_name_the_last_one() -> None:
    writers = [x for n in ("a", "b", "c") for x in (role(n, "payments"), inline(n, OWN))]
    found = check_team_isolation(stack(*writers), defaults(POLICIES), skipped())
    assert [f.urn for f in found] == ["urn:pulumi:prod::ecr-platform::aws:iam/role:Role::c"]


def test_the_finding_names_the_principal_urn() -> None:
    found = check_team_isolation(stack(role("ci", "zeta"), inline("ci", OWN)), defaults(POLICIES), skipped())
    assert [f.urn for f in found] == ["urn:pulumi:prod::ecr-platform::aws:iam/role:Role::ci"]


def test_malformed_and_unreadable_policies_fail_closed() -> None:
    found = judge(stack(role("ci", "payments"), inline("ci", {"Action": "ecr:PutImage"})))
    assert len(found) == 1 and found[0].startswith("Policies reaching the IAM role 'ci' are malformed")
    attach = resource(POLICY_ATTACHMENT, "att", roles=["ci"], policyArn=f"arn:aws:iam::{ACCOUNT}:policy/elsewhere")
    found = judge(stack(role("ci", "payments"), attach))
    assert len(found) == 1 and "whose document the guard cannot read" in found[0]


def test_unknowns_are_skipped_not_judged() -> None:
    notes = skipped()
    resources = stack(role("ci", UNKNOWN), inline("ci", OWN), resource(REPOSITORY, "new", name=UNKNOWN,
                                                                       tags={"team": "payments"}))
    assert check_team_isolation(resources, defaults(POLICIES), notes) == []
    assert notes.paths == ["new.name", "ci.tags"]
    two_teams = stack(role("ci", UNKNOWN), inline("ci", allow("ecr:PutImage", [f"{PREFIX}/zeta/*",
                                                                                f"{PREFIX}/billing/*"])))
    assert "can write to the repositories of 2 teams" in judge(two_teams)[0]


def test_pull_through_cache_and_creation_roles_are_the_registrys_own() -> None:
    cache = resource(PULL_THROUGH_CACHE, "hub", ecrRepositoryPrefix="docker-hub/")
    node = [role("node"), inline("node", allow(["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                                               f"{PREFIX}/docker-hub/*"))]
    hub = repository("docker-hub/library/nginx", "platform")
    overlap = [m for m in judge([*stack(cache, hub)]) if "pull-through cache rule 'hub'" in m]
    assert len(overlap) == 1, "a team repository under a cache prefix is itself the finding"

    def writers(resources: list) -> list[str]:
        return [m for m in judge(resources) if m not in overlap]

    assert writers([*stack(cache, hub), *node]) == []
    fill_only = [role("node"), inline("node", allow("ecr:BatchImportUpstreamImage", f"{PREFIX}/docker-hub/*"))]
    assert writers([*stack(cache, hub), *fill_only]) == []
    beyond = [role("node"), inline("node", allow("ecr:BatchImportUpstreamImage",
                                                 [f"{PREFIX}/docker-hub/*", f"{PREFIX}/billing/*"]))]
    assert writers([*stack(cache, hub), *beyond]) == []     # imports land only under a cache prefix, never billing/
    anywhere = [role("node"), inline("node", allow("ecr:BatchImportUpstreamImage", "*"))]   # PullOnly's grant
    assert writers([*stack(cache, hub), *anywhere]) == [] and judge(stack(*anywhere)) == []
    billing_cache = resource(PULL_THROUGH_CACHE, "billing-hub", ecrRepositoryPrefix="billing")
    assert any("pull-through cache rule 'billing-hub'" in m for m in judge([*stack(billing_cache), *anywhere]))
    assert judge([*stack(hub), *node]) != []                                  # no cache rule for that prefix
    wider = [role("node"), inline("node", allow(["ecr:BatchImportUpstreamImage", "ecr:PutImage"],
                                                f"{PREFIX}/docker-hub/*"))]
    assert writers([*stack(cache, hub), *wider]) != []                        # a push is not a cache fill
    creator = [role("creator", trust=dumps(ECR_TRUST)),
               inline("creator", allow(["ecr:CreateRepository", "ecr:TagResource"], f"{PREFIX}/payments/*"))]
    assert judge(stack(*creator)) == []
    create_only = [role("creator", trust=dumps(ECR_TRUST)),
                   inline("creator", allow("ecr:CreateRepository", f"{PREFIX}/payments/*"))]
    assert judge(stack(*create_only)) == []
    pusher = [role("creator", trust=dumps(ECR_TRUST)),
              inline("creator", allow(["ecr:CreateRepository", "ecr:PutImage"], f"{PREFIX}/payments/*"))]
    assert "belongs to no team" in judge(stack(*pusher))[0]
    github = doc({"Effect": "Allow", "Principal": {"Service": ["ecr.amazonaws.com", "ec2.amazonaws.com"]},
                  "Action": "sts:AssumeRole"})
    for trust in (dumps(github), None, "not json", dumps(doc(deny("sts:AssumeRole") | {"Principal": "*"}))):
        other = [role("creator", trust=trust), inline("creator", allow("ecr:CreateRepository", f"{PREFIX}/payments/*"))]
        assert "belongs to no team" in judge(stack(*other))[0], trust


def test_placement_of_lifecycle_and_repository_policies() -> None:
    owned = repository("payments/api", "payments", parent="urn:component-payments")
    inside = resource(LIFECYCLE_POLICY, "lc", repository="payments/api")
    inside.parent = "urn:component-payments"
    outside = resource(REPOSITORY_POLICY, "rp", repository="payments/api")
    outside.parent = "urn:component-billing"
    found = judge([owned, inside])
    assert found == []
    found = judge([owned, inside, outside])
    assert len(found) == 1 and found[0].startswith("The repository policy 'rp' targets the ECR repository "
                                                   "'payments/api' but is declared outside the component that owns "
                                                   "it (urn:component-payments)")
    for parent in ("urn:component-billing", "urn:component-zeta"):   # sorting before and after the owner's
        elsewhere = resource(LIFECYCLE_POLICY, "lc-x", repository="payments/api")
        elsewhere.parent = parent
        unknown = resource(LIFECYCLE_POLICY, "lc-u", repository=UNKNOWN)
        found = judge([owned, unknown, elsewhere])
        assert len(found) == 1 and found[0].startswith("The lifecycle policy 'lc-x' targets the ECR repository"), found
    copies = []
    for n in ("lc2", "lc3"):
        copies.append(resource(LIFECYCLE_POLICY, n, repository="payments/api"))
        copies[-1].parent = fresh("urn:component-payments")
    found = check_team_isolation([owned, inside, *copies], defaults(POLICIES), skipped())
    assert messages(found) == ["3 lifecycle policies target the ECR repository 'payments/api' ('lc', 'lc2', 'lc3'): "
                               "ECR keeps one per repository, so each `pulumi up` silently replaces the other. Keep "
                               "exactly one."]
    assert found[0].urn == copies[-1].urn
    policies = []
    for n in ("rp1", "rp2"):
        policies.append(resource(REPOSITORY_POLICY, n, repository="payments/api"))
        policies[-1].parent = fresh("urn:component-payments")
    assert judge([owned, *policies])[0].startswith("2 repository policies target the ECR repository 'payments/api'")
    assert judge([owned, resource(LIFECYCLE_POLICY, "x", repository=UNKNOWN)]) == []
    orphan = resource(LIFECYCLE_POLICY, "x", repository="nobody/api")
    assert judge([owned, orphan]) == []
    # only repositories own policies: a role of the same name in another component changes nothing
    web = repository("chatgpt-web", "chatgpt", parent="urn:component-web")
    policy = resource(REPOSITORY_POLICY, "rp", repository="chatgpt-web")
    policy.parent = fresh("urn:component-web")
    same_name = role("chatgpt-web")
    same_name.parent = "urn:component-roles"
    assert judge([web, policy, same_name]) == []


# --- the pure helpers ---------------------------------------------------------------------------------

SCOPES = [
    ("*", (True, False)),
    ("arn:*", (True, False)),
    ("foo", (False, True)),
    ("arn:aws:s3:::bucket/*", (False, True)),
    ("arn:aws:e*:us-west-2:1:repository/*", (True, False)),
    (f"{PREFIX}/payments/*", (True, True)),
    (f"{PREFIX}/payments/api", (True, True)),
    (f"{PREFIX}/payments", (True, True)),
    (f"{PREFIX}/pay*", (True, False)),
    (f"{PREFIX}/pay?ents/*", (True, False)),
    (f"{PREFIX}/*", (True, False)),
    (f"arn:aws:ecr:us-west-2:{ACCOUNT}:repo*", (True, False)),
    (f"arn:aws:ecr:us-west-2:{ACCOUNT}:*", (True, False)),
    (f"arn:aws:ecr:us-west-2:{ACCOUNT}:registry", (False, True)),
    (f"arn:aws:ecr:us-west-2:{ACCOUNT}:x*", (False, True)),
    (f"arn:aws:ECR:us-west-2:{ACCOUNT}:repository/*", (True, False)),    # judged as ECR: fail closed
    (f"{PREFIX}/pay:x*", (True, False)),
    (f"arn:aws:ecr:us-west-2:{ACCOUNT}", (False, True)),
]


@pytest.mark.parametrize(("pattern", "expected"), SCOPES)
def test_write_scope(pattern: str, expected: tuple[bool, bool]) -> None:
    assert write_scope(pattern) == expected


INDEX = RepositoryIndex([("payments/api", "payments"), ("payments/worker", "payments"), ("billing/api", "billing"),
                         ("pay", "x"), ("zeta", "z")])
REACHED = [
    (f"{PREFIX}/payments/*", {"payments/api", "payments/worker"}),
    (f"{PREFIX}/payments/a?i", {"payments/api"}),
    (f"{PREFIX}/pay?ents/api", {"payments/api"}),
    (f"{PREFIX}/pay", {"pay"}),
    ("arn:aws:ecr:us-west-2:*:repository/zeta", {"zeta"}),
    ("arn:aws:ecr:eu-west-1:*:repository/zeta", {"zeta"}),   # the index knows names, not regions
    (f"arn:aws:e?r:us-west-2:{ACCOUNT}:repository/zeta", {"zeta"}),
    (f"arn:aws:ecr:us-west-2:{ACCOUNT}:repo*/zeta", {"zeta"}),
    (f"arn:aws:ecr:us-west-2:{ACCOUNT}:registry/zeta", set()),
    ("arn:aws:s3:::repository/zeta", set()),
    ("*", {"payments/api", "payments/worker", "billing/api", "pay", "zeta"}),
    ("*/zeta", {"zeta"}),
    (f"arn:aws-cn:ecr:us-west-2:{ACCOUNT}:repository/zeta", {"zeta"}),
    (f"arn:aws:ecr:us-west-2:{ACCOUNT}", set()),
]


@pytest.mark.parametrize(("pattern", "names"), REACHED)
def test_repositories_reached(pattern: str, names: set[str]) -> None:
    assert {n for n, _ in repositories_reached(pattern, INDEX)} == names


@pytest.mark.parametrize(("pattern", "teams"), [
    (f"{PREFIX}/billing/next", {"billing"}),
    (f"{PREFIX}/billing/ne*", {"billing"}),
    (f"{PREFIX}/payments/next", {"payments"}),
    (f"{PREFIX}/nobody/next", set()),
    (f"{PREFIX}/billing", set()),                  # no namespace: a repository of its own
    (f"{PREFIX}/bil*/next", set()),                # not confined: judged as every namespace
    ("arn:aws:s3:::bucket/billing/next", set()),
])
def test_a_pattern_naming_no_declared_repository_belongs_to_its_namespaces_teams(pattern: str,
                                                                                 teams: set[str]) -> None:
    assert {t for _, t in undeclared_in_namespace(pattern, INDEX)} == teams


WRITES = [
    (allow("ecr:PutImage"), ["ecr:PutImage"]),
    (allow(["ecr:PutImage", "ecr:BatchGetImage", "ECR:putimage"]), ["ecr:PutImage"]),
    (allow("ecr:TagResource"), ["ecr:TagResource"]),
    (allow("ecr:SetRepositoryPolicy"), ["ecr:SetRepositoryPolicy"]),
    (allow(["ecr:Describe*", "s3:PutObject"]), []),
    ({"Effect": "Allow", "NotAction": ["ecr:Put*", "ecr:Batch*", "ecr:Tag*", "ecr:Untag*", "ecr:Delete*",
                                       "ecr:Create*", "ecr:Set*", "ecr:Upload*", "ecr:Update*", "ecr:Start*",
                                       "ecr:Initiate*", "ecr:Complete*", "ecr:Replicate*", "ecr:Register*",
                                       "ecr:Deregister*", "ecr:Stop*"]}, []),
]


@pytest.mark.parametrize(("statement", "expected"), WRITES)
def test_granted_writes(statement: dict[str, Any], expected: list[str]) -> None:
    assert granted_writes(statement) == expected


def test_granted_writes_through_not_action_and_wildcards_are_sorted_and_complete() -> None:
    every = granted_writes({"Effect": "Allow", "NotAction": "s3:*"})
    assert "ecr:PutImage" in every and "ecr:TagResource" in every and "ecr:BatchGetImage" not in every
    assert granted_writes(allow("ecr:*")) == sorted(every)
    assert "ecr:PutImage" not in granted_writes({"Effect": "Allow", "NotAction": "ecr:PutImage"})
    assert granted_writes(allow(["ecr:UploadLayerPart", "ecr:PutImage"])) == ["ecr:PutImage", "ecr:UploadLayerPart"]


def test_repository_index_stops_at_the_first_name_outside_the_prefix() -> None:
    assert list(INDEX.with_prefix("pay")) == [("pay", "x"), ("payments/api", "payments"),
                                              ("payments/worker", "payments")]
    assert list(INDEX.with_prefix("b")) == [("billing/api", "billing")]
    assert list(INDEX.with_prefix("zz")) == []


# --- becoming another principal: role chaining, shared federated subjects -----------------------------

GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def github_trust(*subjects: str, like: bool = False) -> str:
    key = "token.actions.githubusercontent.com:sub"
    condition = {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
    condition.setdefault("StringLike" if like else "StringEquals", {})[key] = list(subjects)
    return dumps(doc({"Effect": "Allow", "Principal": {"Federated": GITHUB},
                      "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}))


def aws_trust(*arns: str) -> str:
    return dumps(doc({"Effect": "Allow", "Principal": {"AWS": list(arns)}, "Action": "sts:AssumeRole"}))


PAYMENTS = [role("pay", "payments", github_trust("repo:acme/pay:ref:refs/heads/main")), inline("pay", OWN)]
BILLING_WRITE = allow("ecr:PutImage", f"{PREFIX}/billing/*")


@pytest.mark.parametrize(("hop_trust", "hop_writes", "phrase"), [
    (aws_trust(f"arn:aws:iam::{ACCOUNT}:role/pay"), BILLING_WRITE, "by assuming 'hop' (billing)"),
    (aws_trust(f"arn:aws:iam::{ACCOUNT}:role/other"), BILLING_WRITE, None),          # trusts someone else
    (aws_trust(f"arn:aws:iam::{ACCOUNT}:role/pay"), OWN, None),                      # the same team: fine
    (aws_trust(f"arn:aws:iam::{ACCOUNT}:role/pay"), allow("ecr:BatchGetImage", f"{PREFIX}/billing/*"), None),
    (aws_trust(f"arn:aws:iam::{ACCOUNT}:role/*"), BILLING_WRITE, None),              # no named principal
    (aws_trust(f"arn:aws:iam::{ACCOUNT}:root"), BILLING_WRITE, None),                # an account, not a role
])
def test_role_chaining_is_judged_from_the_assumer(hop_trust: str, hop_writes: dict, phrase: str | None) -> None:
    found = [m for m in judge(stack(*PAYMENTS, role("hop", "billing", hop_trust), inline("hop", hop_writes)),
                              maxWritersPerTeam=5) if "by assuming" in m]
    if phrase is None:
        assert found == [], found
    else:
        assert len(found) == 1 and phrase in found[0] and "IAM role 'pay'" in found[0], found


def test_role_chaining_follows_every_hop_once_and_never_reports_a_role_reaching_itself() -> None:
    pay_arn, hop_arn = f"arn:aws:iam::{ACCOUNT}:role/pay", f"arn:aws:iam::{ACCOUNT}:role/hop"
    chain = [*PAYMENTS, role("hop", None, aws_trust(pay_arn)), inline("hop", allow("ecr:BatchGetImage", "*")),
             role("far", "billing", aws_trust(hop_arn, pay_arn)), inline("far", BILLING_WRITE),
             role("self", "zeta", aws_trust(f"arn:aws:iam::{ACCOUNT}:role/self")),
             inline("self", allow("ecr:PutImage", f"{PREFIX}/zeta/*"))]
    found = [m for m in judge(stack(*chain), maxWritersPerTeam=5) if "by assuming" in m]
    assert len(found) == 1 and "'far' (billing)" in found[0] and "'pay'" in found[0], found
    already = [role("both", "payments", aws_trust(pay_arn)), inline("both", OWN, BILLING_WRITE)]
    found = [m for m in judge(stack(*PAYMENTS, *already), maxWritersPerTeam=5) if "by assuming" in m]
    assert len(found) == 1 and "IAM role 'pay'" in found[0], "a principal reaching 2 teams itself is reported once"


@pytest.mark.parametrize(("subjects", "like", "shared"), [
    (["repo:acme/pay:ref:refs/heads/main"], False, True),      # the same exact subject
    (["repo:acme/pay:*"], True, True),                         # a pattern covering it
    (["repo:acme/*"], True, True),
    (["repo:acme/bill:ref:refs/heads/main"], False, False),    # another workflow
    (["repo:acme/pay:ref:refs/heads/main"], True, True),       # StringLike without a wildcard is exact
    (["repo:acme/pa?:ref:refs/tags/*"], True, False),          # overlaps the name, not the ref
])
def test_with_judge_shared_subjects_one_workflow_may_not_reach_two_teams(subjects: list[str], like: bool,
                                                                          shared: bool) -> None:
    resources = stack(*PAYMENTS, role("bill", "billing", github_trust(*subjects, like=like)),
                      inline("bill", BILLING_WRITE))
    assert not [m for m in judge(resources) if "can assume the IAM roles" in m], "off unless asked for"
    found = [m for m in judge(resources, judgeSharedSubjects=True) if "can assume the IAM roles" in m]
    assert (len(found) == 1) is shared, found
    if shared:
        assert "'bill' (billing); 'pay' (payments)" in found[0] and "2 teams ('billing', 'payments')" in found[0]


def test_shared_subjects_of_one_team_or_of_roles_writing_nothing_are_fine() -> None:
    same = stack(*PAYMENTS, role("pay2", "payments", github_trust("repo:acme/pay:ref:refs/heads/main")),
                 inline("pay2", OWN))
    assert not [m for m in judge(same, judgeSharedSubjects=True, maxWritersPerTeam=2) if "can assume" in m]
    reader = stack(*PAYMENTS, role("look", None, github_trust("repo:acme/pay:ref:refs/heads/main")),
                   inline("look", allow("ecr:BatchGetImage", f"{PREFIX}/billing/*")))
    assert not [m for m in judge(reader, judgeSharedSubjects=True) if "can assume" in m]


@pytest.mark.parametrize(("prefix", "teams"), [
    ("payments", ["payments"]), ("payments/", ["payments"]), ("ROOT", ["billing", "payments", "zeta"]),
    ("pay", []), ("docker-hub", []), ("", []), ("0cache", []), ("ALPHA", []),
])
def test_a_cache_prefix_over_a_team_namespace(prefix: str, teams: list[str]) -> None:
    found = [m for m in judge(stack(resource(PULL_THROUGH_CACHE, "cache", ecrRepositoryPrefix=prefix)))
             if "pull-through cache rule" in m]
    if not teams:
        assert found == [], found
    else:
        assert len(found) == 1 and all(f"'{t}'" in found[0] for t in teams), found


def test_shared_subject_findings_name_the_first_role_and_need_two_teams_reached() -> None:
    resources = stack(*PAYMENTS, role("bill", "billing", github_trust("repo:acme/pay:ref:refs/heads/main")),
                      inline("bill", BILLING_WRITE))
    found = [f for f in check_team_isolation(resources, defaults(POLICIES, judgeSharedSubjects=True), skipped())
             if "can assume the IAM roles" in f.message]
    assert [f.urn for f in found] == [next(r.urn for r in resources if r.name == "bill")], "on the first role by name"
    idle = stack(role("a", None, github_trust("repo:acme/x:ref:refs/heads/main")),
                 role("b", None, github_trust("repo:acme/x:ref:refs/heads/main")))
    assert judge(idle, judgeSharedSubjects=True) == [], "roles that write nothing reach no team"
    namesake = stack(*PAYMENTS, resource("aws:iam/user:User", "pay-user", name="pay", tags={}),
                     role("bill", "billing", github_trust("repo:acme/pay:ref:refs/heads/main")),
                     inline("bill", BILLING_WRITE))
    assert [m for m in judge(namesake, judgeSharedSubjects=True) if "can assume" in m], "a user is not a role"


def test_a_root_cache_prefix_says_it_covers_every_name() -> None:
    found = judge(stack(resource(PULL_THROUGH_CACHE, "cache", ecrRepositoryPrefix="ROOT")))
    assert any("under '(every name)'" in m for m in found), found


@pytest.mark.parametrize("prefix", ["0cache", "ALPHA"])
def test_only_root_makes_cache_fills_reach_every_name(prefix: str) -> None:
    node = [role("node"), inline("node", allow(["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                                               f"{PREFIX}/payments/*"))]
    cache = resource(PULL_THROUGH_CACHE, "cache", ecrRepositoryPrefix=prefix)
    assert any("belongs to no team" in m for m in judge(stack(cache, *node))), "payments/ is not under that prefix"


# --- the principal graph: writes of what a principal can become (issue 21 B) ---------------------------------------

ROOT_TRUST = dumps(doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "sts:AssumeRole"}))
ANYONE = dumps(doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}))
HOP = allow("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/hop")


@pytest.mark.parametrize(("assumer_team", "hop_team", "phrase"), [
    (None, "billing", "IAM role 'ci' belongs to no team but can write to the repositories of team 'billing' by "
                      "becoming 'hop' (billing) via it may sts:AssumeRole on 'hop'"),
    ("payments", "billing", "IAM role 'ci' is tagged for team 'payments' but can write to the repositories of team "
                            "'billing' by becoming 'hop' (billing)"),
    ("zeta", "billing", "tagged for team 'zeta'"),                            # a team sorting after the other
    ("billing", "billing", None),                                               # its own team: one writer more
    (UNKNOWN, "billing", None),                                                 # unknown tag: noted, not judged
])
def test_becoming_a_writer_is_judged_like_writing(assumer_team: Any, hop_team: str, phrase: str | None) -> None:
    found = [m for m in judge(stack(role("ci", assumer_team), inline("ci", HOP), role("hop", hop_team, ROOT_TRUST),
                                    inline("hop", BILLING_WRITE)), maxWritersPerTeam=5) if "by becoming" in m]
    if phrase is None:
        assert found == [], found
    else:
        assert any(phrase in m for m in found), found


def test_a_shared_writer_is_not_judged_for_what_it_becomes_nor_counted() -> None:
    resources = stack(role("ci"), inline("ci", HOP), role("hop", "billing", ROOT_TRUST), inline("hop", BILLING_WRITE))
    assert judge(resources, sharedWriters=["ci"]) == []
    assert any("2 principals" in m for m in judge(resources))


def test_a_principal_writing_two_teams_itself_is_reported_once_not_again_for_what_it_becomes() -> None:
    two = allow("ecr:PutImage", [f"{PREFIX}/payments/*", f"{PREFIX}/zeta/*"])
    found = judge(stack(role("ci", "payments"), inline("ci", two, HOP), role("hop", "billing", ROOT_TRUST),
                        inline("hop", BILLING_WRITE)), maxWritersPerTeam=5)
    assert [m for m in found if "IAM role 'ci'" in m and "teams" in m] == [
        m for m in found if "can write to the repositories of 2 teams: " in m], found


def test_stand_ins_are_writers_nobody_owns_and_count_once() -> None:
    found = judge(stack(role("hop", "billing", ANYONE), inline("hop", BILLING_WRITE), role("pay", "payments"),
                        inline("pay", OWN)))
    assert [m for m in found if m.startswith(f"Every principal of account {ACCOUNT} belongs to no team")], found
    assert any("team 'billing' can be written by 2 principals (IAM role 'hop'; every principal of account "
               f"{ACCOUNT})" in m for m in found), found
    assert not any("IAM role 'pay'" in m for m in found), found             # reached only implicitly


def test_pattern_nodes_and_names_that_may_be_in_stack_roles_are_not_counted_as_writers() -> None:
    pattern = allow("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/h*")
    found = judge(stack(role("ci", "billing"), inline("ci", pattern), role("hop", "billing", ROOT_TRUST),
                        inline("hop", BILLING_WRITE)), maxWritersPerTeam=2)
    assert found == [], found
    notes = skipped()
    unnamed = resource(ROLE, "new", name=UNKNOWN, tags={"team": "billing"}, assumeRolePolicy=ROOT_TRUST)
    findings = check_team_isolation(stack(unnamed, inline("ext", BILLING_WRITE)), defaults(POLICIES), notes)
    assert messages(findings) == [] and "role 'ext'" in notes.paths


ADMIN = allow(["ecr:PutImage", "ecr:SetRepositoryPolicy"], f"{PREFIX}/payments/*")


@pytest.mark.parametrize(("statement", "config", "phrase"), [
    (ADMIN, {}, "IAM role 'pay' can change what the guard judges on ECR repositories through the inline policy "
                "'pay-policy' statement #1 ('ecr:SetRepositoryPolicy' on "),
    (ADMIN, {"allowRepositoryAdmin": True}, None),
    (allow("ecr:BatchDeleteImage", f"{PREFIX}/payments/api"), {}, "'ecr:BatchDeleteImage'"),
    (allow(["ecr:PutImage", "ecr:CreateRepository", "ecr:TagResource", "ecr:StartImageScan"], f"{PREFIX}/payments/*"),
     {}, None),                                                                  # the data plane
    (allow("ecr:DeleteRepository", "arn:aws:s3:::payments/*"), {}, None),       # reaches no repository
])
def test_repository_admin_is_the_deployers(statement: dict, config: dict, phrase: str | None) -> None:
    found = [m for m in judge(stack(role("pay", "payments"), inline("pay", statement)), **config)
             if "can change what the guard judges" in m]
    if phrase is None:
        assert found == [], found
    else:
        assert any(phrase in m for m in found), found


def test_a_shared_writer_may_administer() -> None:
    assert judge(stack(role("pay", "payments"), inline("pay", ADMIN)), sharedWriters=["pay"]) == []


def test_two_resources_claiming_one_name_are_reported_on_the_last() -> None:
    first, second = role("ci", "payments"), resource(ROLE, "ci-again", name="CI", tags={})
    findings = check_team_isolation(stack(first, second), defaults(POLICIES), skipped())
    assert [(f.message, f.urn) for f in findings] == [(
        "2 resources claim the IAM role name 'ci' ('ci', 'ci-again'): IAM names are unique per account "
        "(case-insensitive), so one would adopt, replace or fail on the other, and what the other grants or trusts "
        "would be judged on the wrong principal. Give each its own name.", second.urn)]


def test_many_writers_are_listed_ten_and_counted() -> None:
    writers = [r for i in range(12) for r in (role(f"w{i:02}", "billing"), inline(f"w{i:02}", BILLING_WRITE))]
    (found,) = [m for m in judge(stack(*writers)) if "maxWritersPerTeam" in m]
    assert "can be written by 12 principals (IAM role 'w00'; " in found and "IAM role 'w09' and 2 more)" in found
    assert "'w10'" not in found, found


def test_a_finding_shows_the_three_nearest_writers_it_becomes_and_says_there_are_more() -> None:
    hops = [r for i in range(5) for r in (role(f"hop{i}", "billing", ROOT_TRUST), inline(f"hop{i}", BILLING_WRITE))]
    grant = allow("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/hop*")
    (found,) = [m for m in judge(stack(role("ci"), inline("ci", grant), *hops), maxWritersPerTeam=9)
                if "by becoming" in m]
    assert found.count("via it may sts:AssumeRole on") == 3 and " and more. " in found, found


@pytest.mark.parametrize(("statement", "found"), [
    (allow(["ecr:PutImage", "ecr:BatchGetImage"], f"{PREFIX}/billing/*"), "('ecr:PutImage' on "),
    (allow("ecr:*", "*"), "outside every team"),
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "grants ECR writes"),
    (allow(["ecr:BatchGetImage", "ecr:DescribeImages"], f"{PREFIX}/billing/*"), None),
    (deny("ecr:*", "*"), None),
    (allow("ecr:PutImage", "arn:aws:s3:::bucket/*"), None),
])
def test_a_permission_set_writing_ecr_is_a_writer_nobody_owns(statement: dict[str, Any], found: str | None) -> None:
    inline = resource("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", "developers",
                      inlinePolicy=dumps(doc(statement)))
    problems = [m for m in messages(check_team_isolation([inline], defaults(POLICIES), skipped()))
                if "permission set 'developers'" in m]
    assert [found in m for m in problems] == ([True] if found else []), problems

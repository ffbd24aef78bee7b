"""ecr-lifecycle-policy, decision by decision: every field of a rule at its accepted and rejected
values, priorities and the `any` rule, expiry of tagged images by age, and coverage of repositories."""

from __future__ import annotations

import fnmatch
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules.common import CREATION_TEMPLATE, LIFECYCLE_POLICY, REPOSITORY, UNKNOWN
from rules.lifecycle import POLICIES, check_lifecycle, lifecycle_problems, tags_overlap

from components.config.models import tags_overlap as config_tags_overlap

from .decisions import defaults, dumps, messages, resource, skipped


def rule(priority: Any = 1, status: Any = "untagged", count_type: Any = "sinceImagePushed", count: Any = 7,
         action: Any = "expire", **selection: Any) -> dict[str, Any]:
    chosen: dict[str, Any] = {"tagStatus": status, "countType": count_type, "countNumber": count, **selection}
    if count_type != "imageCountMoreThan" and "countUnit" not in selection:
        chosen["countUnit"] = "days"
    return {"rulePriority": priority, "selection": chosen, "action": {"type": action}}


KEEP = rule(1, "tagged", "imageCountMoreThan", 10, tagPrefixList=["v"])
TO_ARCHIVE = {"type": "transition", "targetStorageClass": "archive"}


def archive(priority: Any = 2, count_type: Any = "sinceImagePulled", **selection: Any) -> dict[str, Any]:
    """A rule moving tagged images to archive."""
    return {**rule(priority, "tagged", count_type, 30, **selection), "action": TO_ARCHIVE}


def expire_archived(days: Any = 90, **selection: Any) -> dict[str, Any]:
    return rule(3, "tagged", "sinceImageTransitioned", days, tagPatternList=["*"], **selection)

RULES = [
    # (rules, allow tagged expiry by age, phrase or None)
    ([rule()], True, None),
    ([KEEP], True, None),
    ([rule(1.0)], True, None),
    ([rule(0)], True, "rule 0 rulePriority 0 is not an integer >= 1"),
    ([rule(1.5)], True, "rules[0] rulePriority 1.5 is not an integer >= 1"),
    ([rule("1")], True, "rulePriority '1' is not an integer"),
    ([rule(True)], True, "rulePriority True is not an integer"),
    (["junk"], True, "rules[0] is not an object"),
    ([{"rulePriority": 1, "action": {"type": "expire"}}], True, "rule 1 has no selection"),
    ([rule(status="all")], True, "selection.tagStatus 'all' is not one of tagged, untagged, any"),
    ([rule(1, "tagged", "imageCountMoreThan", 10)], True, "selects tagged images without tagPrefixList"),
    ([rule(1, "tagged", "imageCountMoreThan", 10, tagPatternList=["v*"])], True, None),
    ([rule(1, "tagged", "imageCountMoreThan", 10, tagPrefixList=["v"], tagPatternList=["v*"])], True,
     "sets both tagPrefixList and tagPatternList"),
    ([rule(count_type="sinceImagePulled")], True, None),
    ([rule(count_type="sinceImageTransitioned")], True, "sinceImageTransitioned) but does not select storageClass"),
    ([rule(count_type="since")], True, "selection.countType 'since' is not one of imageCountMoreThan"),
    ([rule(count_type="sinceImagePushed", countUnit="hours")], True, "needs countUnit 'days' (got 'hours')"),
    ([rule(count_type="sinceImagePushed", countUnit="day")], True, "needs countUnit 'days' (got 'day')"),
    ([rule(1, "any", "imageCountMoreThan", 5, countUnit="days")], True, "countUnit is only allowed with a days"),
    ([rule(count=0)], True, "selection.countNumber 0 is not an integer >= 1"),
    ([rule(count=2.5)], True, "countNumber 2.5 is not"),
    ([rule(count=1)], True, None),
    ([{**rule(), "action": TO_ARCHIVE}], True, None),
    ([rule(action="transition")], True, "action.targetStorageClass None is not 'archive'"),
    ([{**rule(), "action": {"type": "transition", "targetStorageClass": "glacier"}}], True,
     "targetStorageClass 'glacier' is not 'archive'"),
    ([rule(action="delete")], True, "action.type 'delete' is not 'expire'"),
    # archive: the storage class, its count type, the 90-day minimum, and what keep rules keep
    ([expire_archived(storageClass="archive")], True, None),
    ([expire_archived(89, storageClass="archive")], True, "expires archived images 89 days after archiving"),
    ([expire_archived(storageClass="cold")], True, "selection.storageClass 'cold' is not standard or archive"),
    ([rule(storageClass="archive")], True, "without countType sinceImageTransitioned"),
    ([{**expire_archived(storageClass="archive"), "action": TO_ARCHIVE}], True, "transitions images that are already"),
    ([KEEP, archive(tagPrefixList=["build-"])], False, None),
    ([KEEP, archive(tagPatternList=["v1.*"])], False, "rule 2 archives images tagged 'v1.*', which rule 1 keeps "
                                                      "pullable (the newest 10 tagged 'v*')"),
    ([archive(1, tagPatternList=["*-rc"]), {**KEEP, "rulePriority": 2}], False, "rule 1 archives images tagged '*-rc'"),
    ([KEEP, {**rule(2, "any", "sinceImagePulled"), "action": TO_ARCHIVE}], True, "rule 2 archives images tagged '*'"),
    ([rule(1, "untagged", "imageCountMoreThan", 10), archive(tagPatternList=["v*"])], False, None),
    ([KEEP, archive(tagPatternList=["v*"]), expire_archived(storageClass="archive")], False,
     "rule 2 archives images tagged 'v*'"),
    ([archive(1, tagPatternList=["nightly-*"]), expire_archived(180, storageClass="archive")], False, None),
    ([{**rule(), "action": "expire"}], True, "action.type None is not"),
    # priorities and the `any` rule
    ([rule(1), rule(1, "any", "imageCountMoreThan", 5)], True, "rulePriority values must be unique (1 repeated)"),
    ([rule(2, "any", "imageCountMoreThan", 5), rule(1)], True, None),
    ([rule(1, "any", "imageCountMoreThan", 5), rule(2)], True, "rule 1 selects tagStatus 'any' but is not the "
                                                               "highest rulePriority (2)"),
    ([rule(1, "any", "imageCountMoreThan", 5), rule(2, "any", "imageCountMoreThan", 9)], True,
     "only one rule may select tagStatus 'any' (rule 1, rule 2 do)"),
    ([rule("x", "any", "imageCountMoreThan", 5), rule(2)], True, "rulePriority 'x'"),
    # tagged images by age
    ([rule(1, "tagged", tagPrefixList=["v"])], True, None),
    ([rule(1, "tagged", tagPrefixList=["v"])], False, "rule 1 expires tagged images 7 days after pushed, release tags "
                                                      "included"),
    ([rule(1, "any", count_type="sinceImagePulled")], False, "rule 1 expires any images 7 days after pulled"),
    ([{**rule(1, "tagged", tagPrefixList=["v"]), "action": TO_ARCHIVE}], False, None),
    ([rule(1, "tagged", action="zap", tagPrefixList=["v"])], False, "rule 1 expires tagged images"),
    (["junk"], False, "rules[0] is not an object"),
    ([{"rulePriority": 1, "action": {"type": "expire"}}], False, "rule 1 has no selection"),
    ([rule(1, "untagged")], False, None),
    ([KEEP], False, None),
]


@pytest.mark.parametrize(("rules", "allow_age", "expected"), RULES)
def test_rule_verdicts(rules: list[Any], allow_age: bool, expected: str | None) -> None:
    problems = lifecycle_problems(dumps({"rules": rules}), allow_age)    # values parsed from JSON, as ECR's are
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(("rules", "problems"), [
    # 'all' is no tag status, and sorts before 'any': it does not count as a second `any` rule
    ([rule(1, "all", "imageCountMoreThan", 5), rule(2, "any", "imageCountMoreThan", 5)],
     ["rule 1 selection.tagStatus 'all' is not one of tagged, untagged, any"]),
    # a repeated priority past 256 is still the highest
    ([rule(1000), rule(1000, "any", "imageCountMoreThan", 5)], ["rulePriority values must be unique (1000 repeated)"]),
    ([rule(999), rule(1000, "any", "imageCountMoreThan", 5)], []),
    # two `any` rules: the first one named is the one checked for coming last
    ([rule(1, "any", "imageCountMoreThan", 5), rule(2), rule(3, "any", "imageCountMoreThan", 9)],
     ["only one rule may select tagStatus 'any' (rule 1, rule 3 do)",
      "rule 1 selects tagStatus 'any' but is not the highest rulePriority (3): ECR must evaluate it last"]),
])
def test_exact_problems(rules: list[Any], problems: list[str]) -> None:
    assert lifecycle_problems(dumps({"rules": rules})) == problems


def test_tagged_expiry_by_age_is_allowed_unless_the_caller_says_otherwise() -> None:
    tagged = {"rules": [rule(1, "tagged", tagPrefixList=["v"])]}
    assert lifecycle_problems(tagged) == []
    assert lifecycle_problems(tagged, False) != []


def test_documents_without_rules_or_not_json() -> None:
    assert lifecycle_problems({"rules": []}) == ["it has no rules (a non-empty `rules` list is required)"]
    assert lifecycle_problems({"rules": "x"}) == ["it has no rules (a non-empty `rules` list is required)"]
    assert lifecycle_problems("{")[0].startswith("the document is not valid JSON")
    assert lifecycle_problems(dumps({"rules": [rule()]})) == []


def test_each_broken_field_is_one_problem() -> None:
    assert len(lifecycle_problems({"rules": [rule(0, "all", "since", 0, "delete")]})) == 5


def policy(repository: Any, document: Any, logical: str = "lc") -> Any:
    return resource(LIFECYCLE_POLICY, logical, repository=repository, policy=document)


def judge(resources: list[Any], **config: Any) -> list[str]:
    return messages(check_lifecycle(resources, defaults(POLICIES, **config), skipped()))


def test_every_repository_needs_a_lifecycle_policy() -> None:
    repo = resource(REPOSITORY, "api", name="payments/api")
    assert judge([repo, policy("payments/api", dumps({"rules": [rule()]}))]) == []
    (found,) = judge([repo, policy("payments/other", {"rules": [rule()]})])
    assert found.startswith("The ECR repository 'payments/api' has no lifecycle policy")
    other = resource(REPOSITORY, "web", name="payments/web")
    unnamed = resource(REPOSITORY, "new", name=UNKNOWN)
    found = judge([repo, unnamed, other, policy("payments/api", {"rules": [rule()]})])
    assert len(found) == 1 and found[0].startswith("The ECR repository 'payments/web' has no lifecycle policy")
    by_urn = policy(UNKNOWN, {"rules": [rule()]})
    by_urn.property_dependencies = {"repository": [repo.urn]}
    assert judge([repo, by_urn]) == []


def test_unknown_and_absent_documents_never_hide_the_next_one() -> None:
    bad = {"rules": [rule(0)]}
    found = judge([policy("payments/api", UNKNOWN, "unknown"), policy("payments/api", bad, "bad")])
    assert len(found) == 1 and found[0].startswith("The lifecycle policy 'bad'")
    templates = [resource(CREATION_TEMPLATE, "t1", prefix="a", lifecyclePolicy=UNKNOWN),
                 resource(CREATION_TEMPLATE, "t2", prefix="b", lifecyclePolicy=None),
                 resource(CREATION_TEMPLATE, "t3", prefix="c", lifecyclePolicy=bad)]
    found = judge(templates)
    assert [f.split("'")[1] for f in found] == ["b", "c"]


def test_the_defaults_refuse_tagged_expiry_by_age() -> None:
    repo = resource(REPOSITORY, "api", name="payments/api")
    document = {"rules": [rule(1, "tagged", tagPrefixList=["v"])]}
    (found,) = judge([repo, policy("payments/api", document)])
    assert found.startswith("The lifecycle policy 'lc' of ECR repository 'payments/api' is not valid: rule 1 expires")
    assert judge([repo, policy("payments/api", document)], allowTaggedExpiryByAge=True) == []
    assert len(judge([repo, policy("payments/api", document)], allowTaggedExpiryByAge="yes")) == 1


def test_unknowns_are_noted() -> None:
    notes = skipped()
    unnamed = resource(REPOSITORY, "new", name=UNKNOWN)
    assert check_lifecycle([unnamed, policy("payments/api", UNKNOWN)], {}, notes) == []
    assert notes.paths == ["lc.policy", "new.name"]
    notes = skipped()
    named = resource(REPOSITORY, "api", name="payments/api")
    assert check_lifecycle([named, policy(UNKNOWN, {"rules": [rule()]})], {}, notes) == []
    assert notes.paths == ["api.name"]
    (found,) = messages(check_lifecycle([policy(UNKNOWN, {"rules": []})], {}, skipped()))
    assert found.startswith("The lifecycle policy 'lc' of ECR repository 'lc' is not valid")


def test_creation_templates_carry_their_own_lifecycle_policy() -> None:
    def template(document: Any, prefix: Any = "payments") -> Any:
        return resource(CREATION_TEMPLATE, "tpl", prefix=prefix, lifecyclePolicy=document)

    assert judge([template(dumps({"rules": [rule()]}))]) == []
    (missing,) = judge([template(None)])
    assert missing.startswith("The ECR repository creation template 'payments' has no lifecyclePolicy")
    assert judge([template("", prefix=5)])[0].startswith("The ECR repository creation template 'tpl' has no")
    (invalid,) = judge([template({"rules": [rule(0)]})])
    assert invalid.startswith("The lifecyclePolicy of ECR repository creation template 'payments' is not valid: "
                              "rule 0 rulePriority 0")
    notes = skipped()
    assert check_lifecycle([template(UNKNOWN)], {}, notes) == [] and notes.paths == ["tpl.lifecyclePolicy"]


@pytest.mark.parametrize("overlap", [tags_overlap, config_tags_overlap], ids=["guard", "config"])
@settings(max_examples=300, deadline=None)
@given(first=st.text("ab*", max_size=4), second=st.text("ab*", max_size=4))
def test_tag_wildcards_meet_exactly_when_some_tag_matches_both(overlap: Any, first: str, second: str) -> None:
    # A witness, if any, is no longer than the two patterns together and uses only their letters.
    longest = len(first) + len(second)
    witnesses = ("".join(letters) for size in range(longest + 1) for letters in itertools.product("ab", repeat=size))
    expected = any(fnmatch.fnmatchcase(tag, first) and fnmatch.fnmatchcase(tag, second) for tag in witnesses)
    assert overlap(first, second) == expected

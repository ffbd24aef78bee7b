"""ecr-scan-on-push, decision by decision: a repository's own setting, registry scanning rules of the
same region (and not of another), creation templates, two configurations for one region, unknowns."""

from __future__ import annotations

from typing import Any

import pytest
from rules.common import CREATION_TEMPLATE, REGISTRY_SCANNING, REPOSITORY, UNKNOWN
from rules.scanning import check_scan_on_push

from .decisions import messages, resource, skipped


def repository(name: str = "payments/api", scan: Any = False, region: Any = None, **props: Any) -> Any:
    scanning = {"scanOnPush": scan} if scan is not None else None
    return resource(REPOSITORY, "payments-api", name=name, imageScanningConfiguration=scanning,
                    region=region, **props)


def registry(*filters: Any, frequency: Any = "SCAN_ON_PUSH", region: Any = None, logical: str = "scan") -> Any:
    rules = [{"scanFrequency": frequency, "repositoryFilters": [{"filter": f, "filterType": "WILDCARD"}
                                                                 for f in filters]}]
    return resource(REGISTRY_SCANNING, logical, scanType="BASIC", rules=rules, region=region)


def template(prefix: Any, region: Any = None) -> Any:
    return resource(CREATION_TEMPLATE, "tpl", prefix=prefix, region=region)


def judge(*resources: Any) -> list[str]:
    return messages(check_scan_on_push(list(resources), {}, skipped()))


REPOSITORIES = [
    # (resources, phrase or None)
    ([repository(scan=True)], None),
    ([repository(scan=False)], "sets imageScanningConfiguration.scanOnPush to false"),
    ([repository(scan=None)], "has no imageScanningConfiguration"),
    ([repository(scan="true")], "sets imageScanningConfiguration.scanOnPush to false"),
    ([repository(scan=1)], "sets imageScanningConfiguration.scanOnPush to false"),
    ([repository(), registry("payments/*")], None),
    ([repository(), registry("payments/api")], None),
    ([repository(), registry("*")], None),
    ([repository(), registry("pay?ents/api")], None),
    ([repository(), registry("billing/*", "payments/*")], None),
    ([repository(), registry("payments/api", frequency="CONTINUOUS_SCAN")], None),
    ([repository(), registry("payments/api", frequency="MANUAL")], "no registry scanning rule with SCAN_ON_PUSH or "
                                                                   "CONTINUOUS_SCAN matches it"),
    ([repository(), registry("billing/*")], "matches it"),
    ([repository(), registry("payments")], "matches it"),
    ([repository(), registry("")], "matches it"),
    ([repository(region="eu-west-1"), registry("*", region="us-west-2")], "SCAN_ON_PUSH or CONTINUOUS_SCAN in "
                                                                          "region eu-west-1 matches it"),
    ([repository(region="eu-west-1"), registry("*", region="eu-west-1")], None),
    ([repository(), resource(REGISTRY_SCANNING, "scan", rules=[{"scanFrequency": "SCAN_ON_PUSH",
                                                                "repositoryFilters": [{"filter": "payments/*"}]}])],
     None),
]


@pytest.mark.parametrize(("resources", "expected"), REPOSITORIES)
def test_repository_verdicts(resources: list[Any], expected: str | None) -> None:
    found = judge(*resources)
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found
        assert found[0].startswith("The ECR repository 'payments/api' must scan images on push")


TEMPLATES = [
    # (prefix, filters, phrase or None)
    ("payments", ["payments/*"], None),
    ("payments", ["*"], None),
    ("payments", ["pay*"], None),
    ("payments", ["payments/api"], "covers every repository under 'payments/'"),
    ("payments", ["payments/*/x"], "covers every repository under 'payments/'"),
    ("payments", ["payments/*?"], "covers every repository under 'payments/'"),
    ("payments", ["payments/**"], "covers every repository under 'payments/'"),
    ("payments", ["billing/*"], "Add a registry scanning rule with the repository filter 'payments/*'"),
    ("payments", [], "covers every repository under 'payments/'"),
    ("payments", ["#"], "covers every repository under 'payments/'"),          # sorts before the star
    ("Apps", ["Apps/*"], None),                                                 # sorts before ROOT
    ("Apps", [], "Add a registry scanning rule with the repository filter 'Apps/*'"),
    ("".join(list("ROOT")), ["ROOT/*"], "covers every repository under '(all)'"),   # ROOT as the engine sends it
    ("".join(list("ROOT")), [], "with the repository filter '*'"),
    ("ROOT", ["*"], None),
    ("ROOT", ["a*"], "covers every repository under '(all)'. Add a registry scanning rule with the repository "
                     "filter '*'"),
    ("", [], None),
    (5, [], None),
]


@pytest.mark.parametrize(("prefix", "filters", "expected"), TEMPLATES)
def test_creation_template_verdicts(prefix: Any, filters: list[str], expected: str | None) -> None:
    found = judge(template(prefix), *([registry(*filters)] if filters else []))
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found


def test_a_template_in_another_region_is_not_covered() -> None:
    (found,) = judge(template("payments", "eu-west-1"), registry("payments/*", region="us-west-2"))
    assert "CONTINUOUS_SCAN in region eu-west-1 covers" in found


def test_two_configurations_for_one_region_replace_each_other() -> None:
    found = check_scan_on_push([registry("*", logical="a"), registry("*", logical="b"), registry("*", logical="d"),
                                registry("*", logical="c", region="eu-west-1")], {}, skipped())
    assert len(found) == 1 and found[0].message.startswith(
        "3 registry scanning configurations ('a', 'b', 'd') are declared for region (the default provider region)")
    assert found[0].urn.endswith("::d")
    (other,) = judge(registry("*", logical="a", region="eu-west-1"), registry("*", logical="b", region="eu-west-1"))
    assert "for region eu-west-1:" in other
    assert judge(registry("*", logical="a", region=UNKNOWN), registry("*", logical="b", region=UNKNOWN)) == []


def test_every_early_exit_is_followed_by_a_resource_that_is_still_judged() -> None:
    skipping = [
        registry("payments/*"),
        repository("a/one", scan=True), repository("b/one", region=UNKNOWN), repository("c/one", scan=UNKNOWN),
        repository(UNKNOWN), repository("payments/api"),
        template(UNKNOWN), template(""), template("payments"),
    ]
    found = judge(*skipping, repository("zeta/api"), template("zeta"))
    assert len(found) == 2, found
    assert found[0].startswith("The ECR repository 'zeta/api'") and "creation template 'zeta'" in found[1]


def test_rules_that_cannot_be_read_never_hide_the_next_one() -> None:
    notes = skipped()
    rules = ["junk", {"scanFrequency": UNKNOWN}, {"scanFrequency": "MANUAL", "repositoryFilters": ["*"]},
             {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": ["payments/*"]}]
    resources = [repository(), resource(REGISTRY_SCANNING, "lost", rules=[], region=UNKNOWN),
                 resource(REGISTRY_SCANNING, "scan", rules=rules)]
    (shape,) = messages(check_scan_on_push(resources, {}, notes))     # covered: only the unreadable shapes
    assert "rules[0] is not an object; rules[2].repositoryFilters[0] is not an object" in shape
    assert notes.paths == ["lost.region", "scan.rules.scanFrequency"]    # covered: no coverage note
    notes = skipped()
    second = [repository(), resource(REGISTRY_SCANNING, "first", rules=UNKNOWN), registry("payments/*", logical="two")]
    (found,) = messages(check_scan_on_push(second, {}, notes))
    assert found.startswith("2 registry scanning configurations") and notes.paths == ["first.rules"]
    notes = skipped()
    uncovered = [repository("a/api"), repository("b/api"), template("a"), template("b"),
                 resource(REGISTRY_SCANNING, "scan", rules=UNKNOWN)]
    assert check_scan_on_push(uncovered, {}, notes) == []
    assert notes.paths == ["scan.rules", "payments-api: registry scanning coverage",
                           "payments-api: registry scanning coverage", "tpl: registry scanning coverage",
                           "tpl: registry scanning coverage"]


def test_unknowns_defer_the_verdict_instead_of_failing() -> None:
    cases = [
        ([repository(region=UNKNOWN)], ["payments-api.region"]),
        ([repository(scan=UNKNOWN)], ["payments-api.imageScanningConfiguration"]),
        ([repository(name=UNKNOWN)], ["payments-api.name"]),
        ([repository(), resource(REGISTRY_SCANNING, "scan", rules=UNKNOWN)],
         ["scan.rules", "payments-api: registry scanning coverage"]),
        ([repository(), resource(REGISTRY_SCANNING, "scan", rules=[], region=UNKNOWN)],
         ["scan.region", "payments-api: registry scanning coverage"]),
        ([repository(), registry("x", frequency=UNKNOWN)], ["scan.rules.scanFrequency",
                                                             "payments-api: registry scanning coverage"]),
        ([repository(), resource(REGISTRY_SCANNING, "scan", rules=[{"scanFrequency": "SCAN_ON_PUSH",
                                                                     "repositoryFilters": UNKNOWN}])],
         ["scan.rules.repositoryFilters", "payments-api: registry scanning coverage"]),
        ([repository(), resource(REGISTRY_SCANNING, "scan", rules=[{"scanFrequency": "SCAN_ON_PUSH",
                                                                     "repositoryFilters": [{"filter": UNKNOWN}]}])],
         ["scan.rules.repositoryFilters", "payments-api: registry scanning coverage"]),
        ([template(UNKNOWN)], ["tpl.prefix"]),
        ([template("payments", UNKNOWN)], ["tpl.region"]),
        ([template("payments"), resource(REGISTRY_SCANNING, "scan", rules=UNKNOWN)],
         ["scan.rules", "tpl: registry scanning coverage"]),
    ]
    for resources, paths in cases:
        notes = skipped()
        found = check_scan_on_push(resources, {}, notes)
        assert found == [] and notes.paths == paths, (resources, notes.paths)
    # a repository a known rule covers needs no coverage verdict, even while another rule is unknown
    covered = [repository(), resource(REGISTRY_SCANNING, "scan", rules=[
        {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "payments/*"}]},
        {"scanFrequency": UNKNOWN}])]
    assert check_scan_on_push(covered, {}, skipped()) == []


SHAPES = [
    # (rules, phrase or None)
    ([{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}], None),
    (None, None),
    (UNKNOWN, None),
    ([UNKNOWN], None),
    ([{"scanFrequency": UNKNOWN, "repositoryFilters": UNKNOWN}], None),
    ([{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [UNKNOWN, {"filter": UNKNOWN}]}], None),
    ([{"scanFrequency": "SCAN_ON_PUSH"}], None),
    ("x", "rules is not a list"),
    ({"scanFrequency": "SCAN_ON_PUSH"}, "rules is not a list"),
    (["x"], "rules[0] is not an object"),
    ([{"scanFrequency": 1}], "rules[0].scanFrequency is 1, not a string"),
    ([{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": "*"}], "rules[0].repositoryFilters is not a list"),
    ([{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": ["*"]}],
     "rules[0].repositoryFilters[0] is not an object with a string filter"),
    ([{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": 1}]}],
     "rules[0].repositoryFilters[0] is not an object with a string filter"),
]


@pytest.mark.parametrize(("rules", "expected"), SHAPES)
def test_registry_scanning_rules_of_the_wrong_shape_are_refused(rules: Any, expected: str | None) -> None:
    scanning = resource(REGISTRY_SCANNING, "scan", scanType="BASIC", rules=rules)
    found = [m for m in judge(repository(scan=True), scanning) if "cannot be judged" in m]
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0] and "'scan'" in found[0], found

"""What every rule shares (rules/common.py): plain values with unknowns, documents, wildcards, config
values and their defaults, and the wiring from the engine's arguments to a checker and back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError
from rules.common import (
    REPOSITORY,
    UNKNOWN,
    DocumentError,
    Finding,
    Resource,
    as_list,
    compact_size,
    config_bool,
    config_choice,
    config_int,
    config_strings,
    contains_unknown,
    glob_match,
    has_wildcard,
    is_allow,
    is_unknown,
    load_document,
    namespace_under,
    plain,
    provider_region,
    quoted,
    resource_label,
    resource_policy,
    stack_policy,
    stack_resources,
    statement_label,
    tag_value,
    to_text,
    urn_name,
    with_defaults,
)


class Proxy(Mapping[str, Any]):
    """The SDK's proxy: reading an unknown key raises."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __getitem__(self, key: str) -> Any:
        if self.values[key] == "raise":
            raise UnknownValueError(UNKNOWN_STRING_VALUE, [key])
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


class ListProxy(Sequence[Any]):
    def __init__(self, values: list[Any]) -> None:
        self.values = values

    def __getitem__(self, index: Any) -> Any:
        if self.values[index] == "raise":
            raise UnknownValueError(UNKNOWN_STRING_VALUE, [str(index)])
        return self.values[index]

    def __len__(self) -> int:
        return len(self.values)


def test_plain_values_keep_what_is_known_and_mark_each_unknown() -> None:
    value = Proxy({"a": "x", "b": "raise", "c": ListProxy(["y", "raise", UNKNOWN_STRING_VALUE, 3]),
                   "d": UNKNOWN_STRING_VALUE, "e": None})
    assert plain(value) == {"a": "x", "b": UNKNOWN, "c": ["y", UNKNOWN, UNKNOWN, 3], "d": UNKNOWN, "e": None}
    assert plain("text") == "text" and plain(5) == 5
    assert contains_unknown({"a": [1, {"b": UNKNOWN}]}) and not contains_unknown({"a": [1, {"b": 2}]})
    assert contains_unknown(UNKNOWN) and not contains_unknown("x") and contains_unknown([UNKNOWN])
    assert repr(UNKNOWN) == "UNKNOWN"
    assert is_unknown(UNKNOWN) and not any(is_unknown(v) for v in (None, "", 0, 5, "x", [], {}, UNKNOWN_STRING_VALUE))


def test_documents_and_statements() -> None:
    assert load_document('{"a": 1}') == {"a": 1}
    assert load_document({"a": 1}) == {"a": 1}
    with pytest.raises(DocumentError, match=r"is not valid JSON \(Expecting value at character 0\)"):
        load_document("")
    with pytest.raises(DocumentError, match="is not a JSON object"):
        load_document("[1]")
    assert load_document(f'{{"a": "{UNKNOWN_STRING_VALUE}"}}') == {"a": UNKNOWN}
    assert as_list(None) == [] and as_list("a") == ["a"] and as_list(["a"]) == ["a"] and as_list(0) == [0]
    assert statement_label({"Sid": "Push"}, 0) == "statement 'Push'"
    assert statement_label({"Sid": ""}, 2) == "statement #3" and statement_label({"Sid": 5}, 0) == "statement #1"
    assert statement_label({}, 1) == "statement #2" and statement_label({}, 3) == "statement #4"
    assert is_allow({"Effect": "Allow"}) and is_allow({"Effect": "ALLOW"})
    assert not is_allow({"Effect": "Deny"}) and not is_allow({}) and not is_allow({"Effect": True})
    assert not is_allow({"Effect": ""}) and not is_allow({"Effect": "all"})        # sorting before 'allow'


def test_text_and_sizes_as_aws_counts_them() -> None:
    assert to_text({"a": [1, UNKNOWN]}) == f'{{"a":[1,"{UNKNOWN_STRING_VALUE}"]}}'
    assert compact_size({"a": "b c"}) == len('{"a":"bc"}')
    assert compact_size(' { "a" :\n"b" } ') == len('{"a":"b"}')


@pytest.mark.parametrize(("pattern", "value", "case_sensitive", "matches"), [
    ("a*", "abc", True, True), ("a*", "ABC", True, False), ("a*", "ABC", False, True), ("a?c", "abc", True, True),
    ("a?c", "ac", True, False), ("a.c", "abc", True, False), ("a*", "a\nb", False, True), ("a", "ab", True, False),
    ("*", "", True, True), ("a b", "axxb", True, False), ("a!b", "axb", True, False), ("a(b", "a(b", True, True),
])
def test_glob_matching(pattern: str, value: str, case_sensitive: bool, matches: bool) -> None:
    assert glob_match(pattern, value, case_sensitive) is matches
    assert glob_match(pattern, value, case_sensitive) is matches   # the cached pattern answers the same


def test_wildcards_and_quoting() -> None:
    assert has_wildcard("a*") and has_wildcard("a?") and not has_wildcard("a")
    assert glob_match("a*", "abc") and not glob_match("a*", "ABC")             # case-sensitive unless told
    assert glob_match("a*", "ABC", case_sensitive=False) and glob_match("A*", "abc", case_sensitive=False)
    assert quoted("abcdefgh", 3) == "'a', 'b', 'c' and 5 more"
    assert quoted("abcdef") == "'a', 'b', 'c', 'd', 'e' and 1 more" and quoted("abcde") == "'a', 'b', 'c', 'd', 'e'"
    assert quoted(["a", "b"]) == "'a', 'b'"
    assert quoted("abcdef", 5) == "'a', 'b', 'c', 'd', 'e' and 1 more"
    assert quoted("abcde", 5) == "'a', 'b', 'c', 'd', 'e'"
    assert quoted("abcd", 3) == "'a', 'b', 'c' and 1 more"


CONFIG = [
    (config_bool, {"k": True}, (False,), True),
    (config_bool, {"k": "yes"}, (False,), False),
    (config_bool, {}, (True,), True),
    (config_int, {"k": 5}, (1,), 5),
    (config_int, {"k": 1}, (7,), 1),
    (config_int, {"k": 2.9}, (1,), 2),
    (config_int, {"k": 0}, (1,), 1),
    (config_int, {"k": -3}, (1,), 1),
    (config_int, {"k": True}, (1,), 1),
    (config_int, {"k": "5"}, (1,), 1),
    (config_int, {}, (7,), 7),
    (config_strings, {"k": "a"}, (), ["a"]),
    (config_strings, {"k": ["a", 1, True, "", None]}, (), ["a", "1"]),
    (config_strings, {"k": 5}, (), []),
    (config_strings, {}, (), []),
    (config_choice, {"k": "b"}, (("a", "b"), "a"), "b"),
    (config_choice, {"k": "c"}, (("a", "b"), "a"), "a"),
    (config_choice, {"k": 1}, (("a", "b"), "a"), "a"),
]


@pytest.mark.parametrize(("read", "config", "args", "expected"), CONFIG)
def test_config_values(read: Any, config: dict[str, Any], args: tuple[Any, ...], expected: Any) -> None:
    assert read(config, "k", *args) == expected


def test_schema_defaults_fill_what_the_config_leaves_out() -> None:
    schema = {"a": {"default": 1}, "b": {"default": []}, "c": {"type": "string"}}
    assert with_defaults({"b": [2], "c": None, "d": 4}, schema) == {"a": 1, "b": [2], "d": 4}
    assert with_defaults({}, schema) == {"a": 1, "b": []}


def test_resource_labels_tags_and_regions() -> None:
    assert resource_label({"name": "payments/api"}, "api") == "payments/api"
    assert resource_label({"name": ""}, "api") == "api" and resource_label({"name": UNKNOWN}, "api") == "api"
    assert resource_label({"prefix": "p"}, "t", "prefix") == "p"
    assert tag_value({"tags": {"team": "a", "x": ""}}, "team") == "a"
    assert tag_value({"tags": {"x": ""}}, "x") is None and tag_value({"tags": "junk"}, "team") is None
    assert tag_value({"tagsAll": {"team": "a"}}, "team", "tagsAll") == "a"
    assert urn_name("urn:pulumi:s::p::t::name") == "name" and urn_name("") == ""
    assert urn_name("plain") == "plain"
    own = Resource(REPOSITORY, "r", "u", {"region": "eu-west-1"}, provider_region="us-west-2")
    assert (own.region, own.label) == ("eu-west-1", "r")
    inherited = Resource(REPOSITORY, "r", "u", {"region": "", "name": "n"}, provider_region="us-west-2")
    assert (inherited.region, inherited.label) == ("us-west-2", "n")
    assert provider_region(None) is None
    assert provider_region(SimpleNamespace(props={"region": "eu-west-1"})) == "eu-west-1"
    assert provider_region(SimpleNamespace(props={"region": ""})) is None
    assert provider_region(SimpleNamespace(props=["junk"])) is None
    assert provider_region(SimpleNamespace(props=Proxy({"region": "raise"}))) is UNKNOWN
    assert provider_region(SimpleNamespace(props={"region": UNKNOWN_STRING_VALUE})) is UNKNOWN

    class Unknowable:
        @property
        def props(self) -> Any:
            raise UnknownValueError(UNKNOWN_STRING_VALUE, ["props"])

    assert provider_region(Unknowable()) is UNKNOWN
    assert Resource(REPOSITORY, "r", "u", {}).protect is False     # unprotected unless the options say so


def engine_resource(resource_type: str, name: str, **extra: Any) -> Any:
    fields = {"resource_type": resource_type, "name": name, "urn": f"urn::{name}", "props": {"name": name},
              "opts": SimpleNamespace(protect=True, parent=None), "dependencies": None,
              "property_dependencies": None, "parent": None, "provider": None}
    return SimpleNamespace(**{**fields, **extra})


def test_stack_resources_converts_only_the_wanted_types() -> None:
    parent = SimpleNamespace(urn="urn::component")
    dep = SimpleNamespace(urn="urn::dep")
    found = stack_resources([
        engine_resource(REPOSITORY, "a", parent=parent, dependencies=[dep], property_dependencies={"x": [dep]},
                        provider=SimpleNamespace(props={"region": "eu-west-1"})),
        engine_resource("other", "b"),
        engine_resource(REPOSITORY, "c", opts=SimpleNamespace(protect=False, parent="urn::from-opts")),
        engine_resource(REPOSITORY, "d", opts=SimpleNamespace(parent=None)),
    ], frozenset({REPOSITORY}))[0]
    assert [r.name for r in found] == ["a", "c", "d"]
    assert found.pop().protect is False                         # options without protect: unprotected
    first, second = found
    assert (first.protect, first.parent, first.dependencies, first.property_dependencies, first.region) == (
        True, "urn::component", ["urn::dep"], {"x": ["urn::dep"]}, "eu-west-1")
    assert (second.protect, second.parent, second.dependencies, second.region) == (False, "urn::from-opts", [], None)


def test_a_resource_policy_filters_by_type_reports_findings_and_then_the_unknowns() -> None:
    seen: list[Any] = []

    def check(resource: Resource, config: Mapping[str, Any], skipped: Any) -> list[Finding]:
        seen.append((resource.name, resource.protect, dict(config)))
        skipped.add("r.a")
        skipped.add("r.a")
        skipped.add("r.b")
        return [Finding("first"), Finding("second")]

    policy = resource_policy(name="p", description="d", resource_types=(REPOSITORY,), check=check,
                             severity=None, remediation_steps="r",  # type: ignore[arg-type]
                             config_properties={"k": {"type": "boolean", "default": False}})
    reported: list[Any] = []

    def args(resource_type: str) -> Any:
        return SimpleNamespace(resource_type=resource_type, name="r", urn="urn::r", props={"name": "x"},
                               opts=SimpleNamespace(protect=True), provider=None, get_config=lambda: {"k": True})

    policy.validate(args("other"), lambda message, urn: reported.append(message))
    bare = args(REPOSITORY)
    bare.opts = SimpleNamespace()
    with pytest.raises(UnknownValueError):
        policy.validate(bare, lambda message, urn: None)
    assert seen.pop() == ("r", False, {"k": True})
    assert seen == [] and reported == []
    with pytest.raises(UnknownValueError) as raised:
        policy.validate(args(REPOSITORY), lambda message, urn: reported.append((message, urn)))
    assert reported == [("first", None), ("second", None)]
    assert seen == [("r", True, {"k": True})]
    assert raised.value.props == ["r.a, r.b"]


def test_a_stack_policy_reports_each_finding_with_its_urn() -> None:
    def check(resources: list[Resource], config: Mapping[str, Any], skipped: Any) -> list[Finding]:
        return [Finding(f"{r.name} {config['k']}", r.urn) for r in resources]

    policy = stack_policy(name="p", description="d", resource_types=(REPOSITORY,), check=check,
                          severity=None, remediation_steps="r",  # type: ignore[arg-type]
                          config_properties={"k": {"type": "integer", "default": 3}})
    reported: list[Any] = []
    args = SimpleNamespace(resources=[engine_resource(REPOSITORY, "a"), engine_resource("other", "b")],
                           get_config=lambda: None)
    policy.validate(args, lambda message, urn: reported.append((message, urn)))
    assert reported == [("a 3", "urn::a")]


@pytest.mark.parametrize(("prefix", "under"), [("ROOT", ""), ("team", "team/"), ("team/", "team/"),
                                               ("a/b", "a/b/"), ("root", "root/")])
def test_an_ecr_prefix_names_the_start_of_the_names_under_it(prefix: str, under: str) -> None:
    assert namespace_under(prefix) == under


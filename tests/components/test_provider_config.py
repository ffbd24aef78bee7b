"""The AWS provider's keys (`aws:*`) as the program checks them: the pure function behind the CLI messages
(tests/check/test_stack_keys.py has them through the CLI)."""

from __future__ import annotations

from pulumi_aws.config import _ExportableConfig
from pydantic.alias_generators import to_camel

from components.config.provider import Home, home_of, provider_keys, provider_problems


def test_the_known_keys_are_the_installed_providers_settings():
    settings = {name for name, value in vars(_ExportableConfig).items() if isinstance(value, property)}
    assert provider_keys() == {to_camel(name) for name in settings}, (
        "every setting pulumi-aws reads is accepted, and nothing else")
    assert {"region", "allowedAccountIds", "endpoints", "skipCredentialsValidation"} <= provider_keys()


def test_a_valid_provider_block_has_no_problem():
    assert provider_problems({"region": "us-west-2", "allowedAccountIds": ["210987654321"]}, "prod", {}) == []
    assert provider_problems({}, "dev", {"AWS_DEFAULT_REGION": "eu-west-1"}) == [], "the provider reads it too"


def test_values_pulumi_hands_over_as_json_text_are_read():
    home = home_of({"region": "us-west-2", "allowedAccountIds": '["210987654321"]'}, {})
    assert home == Home(accounts=frozenset({"210987654321"}), region="us-west-2")
    assert provider_problems({"region": "us-west-2", "allowedAccountIds": '["210987654321"]'}, "prod", {}) == []


def test_bad_values_are_said_at_their_key():
    assert provider_problems({"region": "us-west", "allowedAccountIds": ["2109", 12345]}, "prod", {}) == [
        'aws:region: "us-west" is not an AWS region such as us-west-2',
        'aws:allowedAccountIds[0]: "2109" is not a 12-digit AWS account id',
        "aws:allowedAccountIds[1]: 12345 is what YAML made of an unquoted number, not a 12-digit account id (YAML "
        'drops leading zeros); quote the account id as written, e.g. "012345678901"',
    ]
    assert home_of({"region": "us-west", "allowedAccountIds": ["2109"]}, {}) == Home(None, None), (
        "a bad value pins nothing: its own problem is said instead")


def test_an_unknown_key_far_from_every_known_one_lists_them():
    (problem,) = provider_problems({"region": "us-west-2", "zzz": 1}, "dev", {})
    assert problem.startswith("aws:zzz: not a configuration key of the AWS provider; see the provider's keys: "
                              "accessKey, allowedAccountIds,")

"""The access report says which repositories are signed on push, and COMPARE says which lose it."""

from __future__ import annotations

import copy
import json
from typing import Any

from review.check import judge, run_program_for
from review.report import compare, render_text, to_json
from tests.components.conftest import base_config, stack_config


def signed_config(teams: dict[str, str] | None = None) -> dict[str, Any]:
    """payments and web; one profile signs every team unless `teams` says which team uses which."""
    config = base_config()
    config["teams"]["web"] = {"namespace": "", "repositories": ["storefront"],
                              "github": [{"repository": "acme/storefront", "branches": ["main"]}]}
    signing: dict[str, Any] = {"profiles": {"stage_release": {}}}
    signing.update({"teams": teams} if teams else {"default": "stage_release"})
    config["registry"] = {"signing": signing}
    return stack_config(config)


def checked(config: dict[str, Any]):
    return judge("staging", config, run_program_for("staging", config).resources, None)


def test_the_report_lists_signed_repositories_by_profile():
    text = render_text(checked(signed_config()))
    assert "signed on push (3 of 3 repositories):" in text
    assert ":/signing-profiles/stage_release: all 3 repositories" in text


def test_compare_shows_the_repositories_that_lose_signing():
    base = checked(signed_config())
    head = checked(signed_config({"payments": "stage_release"}))
    comparison = compare(base, head, "main")
    assert comparison.signing_lost == ["storefront"]
    assert "signing lost: images pushed to storefront are no longer signed" in render_text(head, comparison)
    assert json.loads(to_json(head, comparison))["comparison"]["signingLost"] == ["storefront"]
    assert "not signed: storefront" in render_text(head)


def test_an_unchanged_signing_configuration_loses_nothing():
    config = signed_config()
    assert compare(checked(config), checked(copy.deepcopy(config)), "main").signing_lost == []

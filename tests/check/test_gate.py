"""The pull-request gate: which guard judges a stack, and the exit codes a caller gets.

A pull request is judged by its base's guard (`--policy-ref` / `POLICY_REF`), never by the policy
pack or pack config it brings along; the pack config is chosen by the stack name, never by a value in
the stack file under review. These tests assert which guard judged and the exit codes, not the pack's
wording (tests/policy owns that).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from engine.program import ROOT, load_stack_config
from review.guard import GuardError, guard_change, guard_for
from review.report import render_text

from .checkout import check_in, commit_all, copy_checkout, edit_json, edit_stack, git
from .conftest import run_cli
from .synthetic import synthetic_change


def loosen_guard(config: dict) -> None:
    config["github-oidc-trust-scoped"].update(allowAnyRef=True, allowOrgWide=True, requireRepositoryId=False)


def widen_dc43(config: dict) -> None:
    config["ecr-platform:teams"]["dc43"]["github"] = [{"repository": "acme/*", "anyRef": True}]


@pytest.fixture(scope="module")
def pull_request(tmp_path_factory) -> tuple[Path, str]:
    """A repository with a base commit and a pull-request commit that loosens prod's guard
    (allowAnyRef, allowOrgWide, requireRepositoryId) and widens Pulumi.prod.yaml to `acme/*` on any ref."""
    repo = tmp_path_factory.mktemp("pull-request")
    base = copy_checkout(repo)
    edit_json(repo / "policy" / "config" / "prod.json", loosen_guard)
    edit_stack(repo / "Pulumi.prod.yaml", widen_dc43)
    commit_all(repo, "loosen the guard and widen dc43")
    return repo, base


def test_a_pull_request_that_loosens_its_guard_is_refused_by_the_base_guard(pull_request, tmp_path):
    repo, base = pull_request
    full = tmp_path / "full.md"
    run = check_in(repo, "--stack", "prod", "--policy-ref", base, "--compare", base, "--format", "json",
                   "--full-report", str(full))
    assert run.returncode == 1, run.stdout + run.stderr
    document = json.loads(run.stdout)
    assert (document["guard"]["ref"], document["guard"]["commit"]) == (base, base)
    loosened = {(s["setting"], s["before"], s["after"]) for s in document["guardChange"]["settings"]}
    assert loosened == {("github-oidc-trust-scoped.allowAnyRef", False, True),
                        ("github-oidc-trust-scoped.allowOrgWide", False, True),
                        ("github-oidc-trust-scoped.requireRepositoryId", True, False)}
    assert document["comparison"]["guardChange"] == document["guardChange"], "the diff lists the guard change too"
    assert document["comparison"]["newViolations"], "what the base guard refuses is new in this change"
    top = full.read_text().split("### ", 1)[0]
    assert f"Judged by `policy/` at `{base[:12]}` with `policy/config/prod.json`." in top
    assert "**This change edits the guard**" in top and "not by its own" in top
    assert "`github-oidc-trust-scoped.allowAnyRef`: `false` → `true`" in top


def test_the_same_change_passes_only_under_its_own_guard(pull_request):
    repo, _ = pull_request
    run = check_in(repo, "--stack", "prod", "--format", "json")
    assert run.returncode == 0, run.stdout + run.stderr
    document = json.loads(run.stdout)
    assert document["guard"] == {"config": "policy/config/prod.json", "source": "policy/ in the working tree",
                                 "ref": None, "commit": None}
    assert document["exitCode"] == 0


def test_the_guard_change_names_files_and_settings(tmp_path):
    (tmp_path / "policy" / "config").mkdir(parents=True)
    config = tmp_path / "policy" / "config" / "prod.json"
    config.write_text(json.dumps({"github-oidc-trust-scoped": {"allowAnyRef": False}}))
    (tmp_path / "policy" / "rule.py").write_text("STRICT = True\n")
    git(tmp_path, "init", "-q")
    base = commit_all(tmp_path, "base")
    assert guard_change(base, tmp_path) is None, "an untouched guard is no change"
    edit_json(config, lambda c: c["github-oidc-trust-scoped"].update(allowAnyRef=True, issuers=["ghe.example"]))
    (tmp_path / "policy" / "rule.py").unlink()
    (tmp_path / "policy" / "new_rule.py").write_text("LOOSE = True\n")  # untracked, not yet committed
    change = guard_change(base, tmp_path)
    assert change is not None and change.commit == base
    assert {(f.path, f.status) for f in change.files} == {
        ("policy/config/prod.json", "modified"), ("policy/rule.py", "deleted"), ("policy/new_rule.py", "added")}
    assert [(s.setting, s.before, s.after) for s in change.settings] == [
        ("github-oidc-trust-scoped.allowAnyRef", False, True),
        ("github-oidc-trust-scoped.issuers", "(not set)", ["ghe.example"])]


def test_the_base_guard_is_the_pack_and_config_at_that_commit(tmp_path):
    (tmp_path / "policy" / "config").mkdir(parents=True)
    config = tmp_path / "policy" / "config" / "prod.json"
    config.write_text(json.dumps({"ecr-encryption": {"minimum": "KMS"}}))
    git(tmp_path, "init", "-q")
    base = commit_all(tmp_path, "base")
    config.write_text(json.dumps({"ecr-encryption": {"minimum": "AES256"}}))
    with guard_for("prod", ref=base, root=tmp_path) as guard:
        assert guard.config == {"ecr-encryption": {"minimum": "KMS"}}
        assert guard.pack_dir != tmp_path / "policy" and (guard.pack_dir / "config" / "prod.json").is_file()
        extracted = guard.pack_dir
    assert not extracted.exists(), "the base's pack lives only as long as the run"
    with guard_for("prod", root=tmp_path) as guard:
        assert guard.config == {"ecr-encryption": {"minimum": "AES256"}}


def test_the_text_report_says_so_at_the_top():
    head, comparison = synthetic_change(3)
    text = render_text(head, comparison)
    top = text.split("Who can assume", 1)[0]
    assert "THIS CHANGE EDITS THE GUARD (policy/ differs from main (0123456789ab)); judged by the guard at main" in top
    assert "policy/config/dev.json: github-oidc-trust-scoped.allowAnyRef false → true" in top


# ---------------------------------------------------------------- the pack config comes from the stack name


def stack_file(tmp_path: Path, source: str, change) -> Path:
    path = tmp_path / f"Pulumi.{source}.yaml"
    path.write_text((ROOT / f"Pulumi.{source}.yaml").read_text())
    edit_stack(path, change)
    return path


def test_the_stack_file_cannot_pick_a_gentler_guard(tmp_path):
    def mutable_and_local(config: dict) -> None:
        config["ecr-platform:environment"] = "local"  # local.json lets mutable tags pass as advisory
        config["ecr-platform:defaults"]["imageTagMutability"] = "MUTABLE"

    path = stack_file(tmp_path, "prod", mutable_and_local)
    run = run_cli("--stack", "prod", "--config-file", str(path), "--format", "json")
    assert run.returncode == 1, run.stdout + run.stderr
    document = json.loads(run.stdout)
    assert document["guard"]["config"] == "policy/config/prod.json"
    assert document["summary"]["environment"] == "local", "the value still names the environment in the report"


def test_a_stack_without_a_pack_config_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text((ROOT / "Pulumi.dev.yaml").read_text())
    run = run_cli("--stack", "staging", "--config-file", str(path))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "create policy/config/staging.json" in run.stderr and "Traceback" not in run.stderr
    assert run.stdout == ""
    with pytest.raises(GuardError, match=r"policy/config/staging.json must exist there"), guard_for(
            "staging", ref="HEAD"):
        pass


def test_an_explicit_pack_config_outside_policy_cannot_be_read_at_a_ref(tmp_path):
    other = tmp_path / "gentle.json"
    other.write_text("{}")
    with pytest.raises(GuardError, match=r"must be a file under policy/"), guard_for(
            "prod", policy_config=other, ref="HEAD"):
        pass


# ---------------------------------------------------------------- exit codes


def test_help_lists_every_exit_code():
    run = run_cli("--help")
    assert run.returncode == 0
    for code, meaning in (("0", "clean"), ("1", "a mandatory violation"), ("2", "invalid configuration or usage"),
                          ("3", "the check itself failed")):
        assert f"  {code}  {meaning}" in run.stdout


def make_check(*variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT), "check", *variables],
                          capture_output=True, text=True, timeout=300, check=False)


def test_make_exits_2_for_any_failure_and_names_the_checks_code(tmp_path):
    strict = tmp_path / "strict.json"  # dev's repositories are AES256-encrypted
    strict.write_text(json.dumps({"ecr-encryption": {"enforcementLevel": "mandatory",
                                                     "minimum": "customer-managed-key"}}))
    violation = make_check("STACK=dev", f"POLICY_CONFIG={strict}", "FORMAT=json")
    assert violation.returncode == 2 and "Error 1" in violation.stderr, violation.stderr
    assert json.loads(violation.stdout)["exitCode"] == 1
    invalid = make_check("STACK=no-such-stack")
    assert invalid.returncode == 2 and "Error 2" in invalid.stderr, invalid.stderr


@pytest.mark.live_stacks
def test_the_configs_the_workflows_pass_exist_for_every_stack_file():
    stacks = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
    assert stacks == sorted(p.stem for p in (ROOT / "policy" / "config").glob("*.json")), (
        "a stack without policy/config/<stack>.json is refused by the check")
    for stack in stacks:
        environment = load_stack_config(ROOT / f"Pulumi.{stack}.yaml").get("ecr-platform:environment", stack)
        assert environment == stack, f"Pulumi.{stack}.yaml names environment {environment}; the guard is {stack}.json"

"""What the check says about the stack's own keys, through the CLI as a user runs it: the AWS provider's
keys (`aws:*`), ARNs that point outside the stack's account or region, and `make check`'s output."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from engine.program import ROOT

from .. import fixtures
from .conftest import run_cli

NO_REGION_ENV = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
HEADER = "ecr-platform: the stack configuration has {} problem(s); nothing was declared:"


def check(tmp_path: Path, config: dict[str, Any], stack: str = "prod",
          environ: dict[str, str] = NO_REGION_ENV) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return run_cli("--stack", stack, "--config-file", str(path), "--no-policy", environ=environ)


def problems(run: subprocess.CompletedProcess[str]) -> list[str]:
    """The problem lines of a refused stack; the run must have stopped as invalid config, cleanly."""
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == "" and "Traceback" not in run.stderr, run.stderr
    header, *lines = run.stderr.rstrip("\n").splitlines()
    assert header == HEADER.format(len(lines)), run.stderr
    return [line.removeprefix("  - ") for line in lines]


# ---------------------------------------------------------------- aws: keys


def test_an_unknown_aws_key_gets_did_you_mean(tmp_path):
    config = fixtures.stack_config("prod")
    config["aws:regoin"] = config.pop("aws:region")
    assert problems(check(tmp_path, config)) == [
        'aws:regoin: not a configuration key of the AWS provider; did you mean "aws:region"?'
    ], "a misspelt provider key must not send the check to a default region (said once, as the typo)"


def prod_without(key: str) -> dict[str, Any]:
    """The fixture prod stack's config without `key`."""
    config = fixtures.stack_config("prod")
    del config[key]
    return config


def test_a_stack_without_a_region_stops_naming_the_key(tmp_path):
    config = prod_without("aws:region")
    assert problems(check(tmp_path, config)) == [
        "aws:region: is required: the region the stack deploys to, e.g. `pulumi config set aws:region us-west-2` "
        "(or AWS_REGION in the environment)"]
    from_environment = check(tmp_path, config, environ={**NO_REGION_ENV, "AWS_REGION": "us-west-2"})
    assert from_environment.returncode == 0, "the provider reads AWS_REGION when the stack has no aws:region"
    assert "us-west-2" in from_environment.stdout


def test_prod_without_allowed_account_ids_stops_naming_the_key(tmp_path):
    assert problems(check(tmp_path, prod_without("aws:allowedAccountIds"))) == [
        'aws:allowedAccountIds: is required in prod: list the account the stack deploys to, e.g. ["210987654321"], '
        "so the provider refuses any other account's credentials and the check judges that account"]


def test_an_unquoted_account_id_says_what_yaml_made_of_it(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    text = fixtures.stack_file("prod").read_text()
    path.write_text(text.replace('prod-cluster: "333333333333"', "prod-cluster: 012345670123"))
    run = run_cli("--stack", "prod", "--config-file", str(path), "--no-policy")
    assert problems(run) == [
        "accounts.prod-cluster: 1402433619 is what YAML made of an unquoted 012345670123: digits after a leading 0 "
        'are read as an octal number; quote the account id: "012345670123"']


# ---------------------------------------------------------------- ARNs point where the stack deploys


def test_each_arn_outside_the_stacks_account_or_region_is_one_error_at_its_key_path(tmp_path):
    config = fixtures.stack_config("prod")  # account 210987654321, us-west-2; prod-cluster is 333333333333
    teams = config["ecr-platform:teams"]
    teams["jwt-pizza"]["deploy"] = {
        "ecsServices": ["arn:aws:ecs:us-east-1:999999999999:service/jwt-pizza/api",
                        "arn:aws:ecs:us-west-2:210987654321:service/jwt-pizza/jwt-pizza-service"],
        "passRoles": ["arn:aws:iam::210987654321:role/ok", "arn:aws:iam::999999999999:role/task"],
    }
    teams["jwt-pizza"]["permissionsBoundary"] = "arn:aws:iam::999999999999:policy/boundary"
    teams["dc43"]["permissionsBoundary"] = "arn:aws:iam::aws:policy/PowerUserAccess"  # AWS managed: fine
    teams["dc43"]["encryption"] = {"type": "KMS", "kmsKey": "arn:aws:kms:us-west-2:333333333333:key/shared"}
    config["ecr-platform:defaults"]["encryption"] = {"type": "KMS",
                                                     "kmsKey": "arn:aws:kms:us-east-1:210987654321:key/ecr"}
    config["ecr-platform:github"]["oidcProvider"] = (
        "arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com")
    config["ecr-platform:registry"] = {**config.get("ecr-platform:registry", {}), "pullThroughCache": {
        "docker-hub": {"upstream": "docker-hub", "credentialArn":
                       "arn:aws:secretsmanager:eu-west-1:210987654321:secret:ecr-pullthroughcache/hub"}}}
    assert sorted(problems(check(tmp_path, config))) == sorted([
        'github.oidcProvider: "arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com" is in '
        "account 999999999999, but the stack deploys to account 210987654321 (aws:allowedAccountIds); a role trusts "
        "an OIDC provider of its own account; use create, existing or that account's provider ARN",
        'defaults.encryption.kmsKey: "arn:aws:kms:us-east-1:210987654321:key/ecr" is in region us-east-1, but the '
        "stack deploys to region us-west-2 (aws:region); ECR encrypts with a key in the repository's region; a key "
        "of another account must belong to an account listed in accounts",
        'teams.jwt-pizza.permissionsBoundary: "arn:aws:iam::999999999999:policy/boundary" is in account '
        "999999999999, but the stack deploys to account 210987654321 (aws:allowedAccountIds); a permissions "
        "boundary is a policy of the role's own account or an AWS managed policy (arn:aws:iam::aws:policy/...)",
        'teams.jwt-pizza.deploy.ecsServices[0]: "arn:aws:ecs:us-east-1:999999999999:service/jwt-pizza/api" is in '
        "account 999999999999 and region us-east-1, but the stack deploys to account 210987654321 "
        "(aws:allowedAccountIds) and region us-west-2 (aws:region); the push role deploys the images it pushed, to "
        "services beside them; name the service in the stack's account and region",
        'teams.jwt-pizza.deploy.passRoles[1]: "arn:aws:iam::999999999999:role/task" is in account 999999999999, but '
        "the stack deploys to account 210987654321 (aws:allowedAccountIds); ECS takes a task role of its own "
        "account only; name that account's role",
        'registry.pullThroughCache.docker-hub.credentialArn: "arn:aws:secretsmanager:eu-west-1:210987654321:secret:'
        'ecr-pullthroughcache/hub" is in region eu-west-1, but the stack deploys to region us-west-2 (aws:region); '
        "ECR reads the upstream credentials from a secret in the pull through cache rule's own account and region",
    ])


def test_a_stack_that_names_no_account_has_its_arns_checked_for_region_only(tmp_path):
    config = fixtures.stack_config("dev")
    del config["aws:allowedAccountIds"]
    deploy = config["ecr-platform:teams"]["jwt-pizza"]["deploy"]
    deploy["passRoles"] = ["arn:aws:iam::999999999999:role/task"]
    deploy["ecsServices"] = ["arn:aws:ecs:eu-west-1:999999999999:service/jwt-pizza/api"]
    assert problems(check(tmp_path, config, stack="dev")) == [
        'teams.jwt-pizza.deploy.ecsServices[0]: "arn:aws:ecs:eu-west-1:999999999999:service/jwt-pizza/api" is in '
        "region eu-west-1, but the stack deploys to region us-east-1 (aws:region); the push role deploys the images "
        "it pushed, to services beside them; name the service in the stack's account and region"]


# ---------------------------------------------------------------- make check > report.json


def test_make_check_writes_exactly_the_report():
    """`make check STACK=dev FORMAT=json > report.json`, typed at a shell in the repository: the file parses and
    holds what the check prints, nothing of make's."""
    shell = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    made = subprocess.run(["make", "check", "STACK=dev", "FORMAT=json"], cwd=ROOT, env=shell, capture_output=True,
                          text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stderr
    direct = run_cli("--stack", "dev", "--format", "json")
    assert made.stdout == direct.stdout, "make added to the report:\n" + made.stdout[:300]
    assert json.loads(made.stdout)["exitCode"] == 0

"""Ready GitHub Actions workflows for product teams: one per GitHub repository a team lists.

    python -m devtools.workflow_snippet --stack dev [--repository acme/dc43] [--out-dir DIR]

The program runs under mocks (as `make check` does); each workflow is built from the stack's
`githubActionsVariables` output and from the push role's trust policy as declared, not from the
config: GitHub puts the ref or the environment in the token's `sub` claim, and a workflow whose
trigger gives a subject the role does not trust fails at AssumeRoleWithWebIdentity. So:
- a role trusted for an environment gets a job in that environment (the subject is then the
  environment, whatever the ref);
- otherwise the triggers are exactly the trusted branches and tags (and `pull_request` when
  trusted), never `workflow_dispatch`, which could run on any branch;
- `repo:<owner>/<repo>:*` (`anyRef`) gets every push and manual runs.

An image already in ECR for the commit is reused (and tagged for a release) only where no code
without a release's review (pull requests, pushes to any branch, any environment: `unreviewed`)
can push to the workflow's repositories through any role; elsewhere every run builds its own. The
actions it uses are pinned in `.github/actions/ecr-push-pins/action.yml`, where Dependabot moves them.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
import pulumi
import yaml

from components.documents import github_repository_name
from engine.program import ProgramRun, run_stack
from review import access
from review.iam_eval import Effect, PolicyDocument, glob_match, has_wildcard

WORKFLOW_FILE = ".github/workflows/ecr-push.yml"
ROLE_TYPE = "aws:iam/role:Role"
REPOSITORY_TYPE = "aws:ecr/repository:Repository"

# The generated workflow's action pins live where Dependabot's github-actions updater moves them:
# a composite action in a directory dependabot.yml lists. Nothing runs it; `read_pins` reads it.
PINS_FILE = Path(__file__).resolve().parents[1] / ".github" / "actions" / "ecr-push-pins" / "action.yml"
CHECKOUT = "actions/checkout"
CONFIGURE_AWS_CREDENTIALS = "aws-actions/configure-aws-credentials"
AMAZON_ECR_LOGIN = "aws-actions/amazon-ecr-login"
PINNED_ACTIONS = (CHECKOUT, CONFIGURE_AWS_CREDENTIALS, AMAZON_ECR_LOGIN)
_RELEASE_COMMENT = re.compile(r"\s+#\s+(?P<version>v\d+\.\d+\.\d+)\s*$")

# `repo:<owner>/<repo>:<ref part>`; a branch or environment name no rule would single out, to test
# patterns with.
_SUBJECT = re.compile(r"repo:(?P<repository>[^:]+):(?P<ref>.*)")
_ANY_NAME = "any-name/0"

# Characters with a meaning in GitHub's branch and tag filters; literal ones are escaped with `\`.
_FILTER_SPECIALS = re.compile(r"([*?+\[\]!\\])")


class SnippetError(Exception):
    """A workflow cannot be generated (unknown repository, nothing expressible): the message says why."""


@dataclass(frozen=True)
class Pin:
    """One action at one commit, with the release that commit is (`owner/repo@<sha> # vX.Y.Z`)."""

    action: str
    sha: str
    version: str

    def __str__(self) -> str:
        return f"{self.action}@{self.sha} # {self.version}"


def read_pins(path: Path = PINS_FILE) -> dict[str, Pin]:
    """Every `uses:` of the pins action, by action name; SnippetError when one the workflow needs is
    missing or is not `owner/repo@<40-hex sha> # vX.Y.Z` (the form Dependabot keeps up to date)."""
    text = path.read_text()
    lines = text.splitlines()
    # PyYAML drops comments, so the release comment is read on the line where the `uses:` value ends.
    root = yaml.compose(text)
    steps = _child(_child(root, "runs"), "steps")
    pins: dict[str, Pin] = {}
    for step in steps.value if isinstance(steps, yaml.SequenceNode) else ():
        node = _child(step, "uses")
        if node is None:
            continue
        action, _, sha = str(node.value).partition("@")
        comment = _RELEASE_COMMENT.match(lines[node.end_mark.line][node.end_mark.column:])
        if not re.fullmatch(r"[0-9a-f]{40}", sha) or comment is None:
            raise SnippetError(f"{path}:{node.start_mark.line + 1}: {node.value!r} is not pinned as "
                               "owner/repo@<commit sha> # vX.Y.Z")
        pins[action] = Pin(action, sha, comment["version"])
    missing = [a for a in PINNED_ACTIONS if a not in pins]
    if missing:
        raise SnippetError(f"{path}: no pin for {', '.join(missing)}: add a `uses:` step for each")
    return pins


def _child(node: yaml.Node | None, key: str) -> Any:
    """The value node under `key` of a YAML mapping node; None when there is none."""
    if isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            if name.value == key:
                return value
    return None


@dataclass(frozen=True)
class Subject:
    """One trusted `sub` value: `pattern` when it came from StringLike (`*` and `?` are wildcards)."""

    value: str
    pattern: bool


@dataclass(frozen=True)
class Trust:
    """What a push role trusts for one GitHub repository (or `<owner>/*`), from its trust policy."""

    repository: str
    role_name: str
    subjects: tuple[Subject, ...]
    branches: tuple[Subject, ...] = ()
    tags: tuple[Subject, ...] = ()
    environments: tuple[str, ...] = ()
    pull_requests: bool = False
    any_ref: bool = False
    unreviewed_writers: tuple[str, ...] = ()
    """Subjects (of this or any other role) that pull requests or pushes to any branch get and that
    may push to this workflow's ECR repositories: code no release review saw."""
    repository_id: str | None = None
    """The repository ID its immutable-form subjects name (then both forms are trusted); None: name form only."""


@dataclass(frozen=True)
class Plan:
    """The triggers and job settings of one workflow."""

    environment: str | None
    branches: tuple[str, ...]
    tags: tuple[str, ...]
    all_refs: bool
    pull_request: bool
    dispatch: bool
    notes: tuple[str, ...] = field(default=())
    reuse: bool = True
    """Whether an image already in ECR under the commit SHA is this run's own: only when no
    unreviewed code can push to the repositories; otherwise every run builds its own."""

    @property
    def runs_on_tags(self) -> bool:
        """Whether a run can start from a git tag, which then becomes an image tag too."""
        return bool(self.tags) or self.all_refs


@dataclass(frozen=True)
class Snippet:
    repository: str
    """The GitHub repository (or `<owner>/*`) the workflow is for."""
    text: str
    """The workflow, ready to save as `.github/workflows/ecr-push.yml`."""

    @property
    def relative_path(self) -> Path:
        """Where `--out-dir` puts it: `<owner>/<repo>.yml`; `<owner>/@every-repository.yml` for `<owner>/*`
        (`@` never occurs in a GitHub repository name)."""
        owner, repo = self.repository.split("/", 1)
        return Path(owner) / ("@every-repository.yml" if repo == "*" else f"{repo}.yml")


# --- reading the trust policy -----------------------------------------------------------------------


def trusted_subjects(policy: str | Mapping[str, Any]) -> list[Subject]:
    """Every `sub` value the trust policy accepts from an OIDC provider, read as the access review reads it."""
    return [Subject(s.value, pattern=s.operator == "StringLike")
            for s in access.trusted_subjects(PolicyDocument.parse(policy))]


def trust_for(repository: str, role_name: str, subjects: Iterable[Subject]) -> Trust:
    """The subjects of `repository` (exactly as the policy names it), sorted into ref kinds."""
    contexts = {s: _context(s.value, repository) for s in subjects}
    mine = tuple(s for s, rest in contexts.items() if rest is not None)
    branches: list[Subject] = []
    tags: list[Subject] = []
    environments: list[str] = []
    pull_requests = any_ref = False
    for subject in mine:
        rest = contexts[subject] or ""
        if rest == "*" and subject.pattern:
            any_ref = True
        elif rest.startswith("ref:refs/heads/"):
            branches.append(Subject(rest[len("ref:refs/heads/"):], subject.pattern))
        elif rest.startswith("ref:refs/tags/"):
            tags.append(Subject(rest[len("ref:refs/tags/"):], subject.pattern))
        elif rest.startswith("environment:") and not (subject.pattern and has_wildcard(rest)):
            environments.append(rest[len("environment:"):])
        elif rest == "pull_request":
            pull_requests = True
    ids = sorted({github_repository_name(s.value.split(":")[1]).repo_id or "" for s in mine} - {""})
    return Trust(repository, role_name, mine, tuple(dict.fromkeys(branches)), tuple(dict.fromkeys(tags)),
                 tuple(dict.fromkeys(environments)), pull_requests, any_ref,
                 repository_id=", ".join(ids) or None)


def _context(value: str, repository: str) -> str | None:
    """What follows `repo:<repository>:` in a subject of either form (`repo:acme@1/app@2:...` is acme/app's)."""
    if not value.startswith("repo:") or value.count(":") < 2:
        return None
    names, _, rest = value[len("repo:"):].partition(":")
    return rest if github_repository_name(names).name == repository else None


def github_filter(ref: Subject) -> str | None:
    """A GitHub branch/tag filter that matches only refs the IAM subject matches; None if there is none.

    IAM's `*` matches any run of characters, GitHub's `*` any run without `/`: narrower, so every
    ref that triggers the workflow is trusted. IAM's `?` (exactly one character) has no GitHub
    equivalent. Every other filter character is escaped to stay literal.
    """
    if not ref.pattern:
        return _FILTER_SPECIALS.sub(r"\\\1", ref.value)
    if "?" in ref.value:
        return None
    return "*".join(_FILTER_SPECIALS.sub(r"\\\1", part) for part in ref.value.split("*"))


def unreviewed(subject: Subject) -> bool:
    """Whether a pull request, or a push to a branch anyone with write access can create, gets a token
    with this subject: code that ran without the review a release ref gets."""
    match = _SUBJECT.fullmatch(subject.value)
    if match is None:
        return subject.pattern
    ref = match["ref"]
    if not subject.pattern:
        return ref == "pull_request"
    # a job may name an environment nobody configured: GitHub creates it, with no protection rules
    return any(glob_match(ref, witness) for witness in ("pull_request", f"ref:refs/heads/{_ANY_NAME}",
                                                         f"environment:{_ANY_NAME}"))


def plan_for(trust: Trust) -> Plan:
    """Triggers whose token subjects the role trusts; SnippetError when no trigger can be."""
    branches, skipped = _filters(trust.branches)
    tags, skipped_tags = _filters(trust.tags)
    notes = [f"Left out: GitHub filters cannot express the IAM pattern {value!r} (`?` is one character in IAM)."
             for value in (*skipped, *skipped_tags)]
    unreviewed_writers = sorted({*trust.unreviewed_writers, *(s.value for s in trust.subjects if unreviewed(s))})
    reuse = not unreviewed_writers
    if unreviewed_writers:
        notes.append(
            "Runs of unreviewed code can push to these ECR repositories too (" + ", ".join(unreviewed_writers)
            + "): they may push any tag first, so this workflow never takes an image already in ECR for its "
            "own; each run builds and pushes its own, and a tag that exists fails where tags are immutable. "
            "For release images you can vouch for, give releases a role and repositories of their own.")
    if trust.environments:
        environment = trust.environments[0]
        notes.append(
            f"The role trusts the GitHub environment {environment!r}: with `environment:` set, GitHub puts the "
            "environment, not the ref, in the token, so the triggers below only decide when the job asks to run; "
            "the environment's deployment branch rules and reviewers (repository settings) decide whether it may.")
        notes.extend(f"The role also trusts the environment {other!r}." for other in trust.environments[1:])
        if not branches and not tags:
            notes.append("`main` is a suggestion: use your default branch (or tags) here.")
            branches = ["main"]
        return Plan(environment, tuple(branches), tuple(tags), all_refs=False, pull_request=False, dispatch=True,
                    notes=tuple(notes), reuse=reuse)
    if trust.any_ref:
        notes.append("The role trusts every ref of the repository (`:*`): every push and manual runs may push.")
        return Plan(None, (), (), all_refs=True, pull_request=False, dispatch=True, notes=tuple(notes), reuse=reuse)
    if not branches and not tags and not trust.pull_requests:
        raise SnippetError(
            f"{trust.repository}: the role {trust.role_name} trusts no subject a workflow trigger can produce "
            f"({', '.join(s.value for s in trust.subjects) or 'none'})")
    if trust.pull_requests:
        notes.append("Pull requests from forks get no OIDC token: they are skipped with a notice, and only branches "
                     "of this repository push, each image tagged with the pull request's head commit.")
    return Plan(None, tuple(branches), tuple(tags), all_refs=False, pull_request=trust.pull_requests, dispatch=False,
                notes=tuple(notes), reuse=reuse)


def _filters(refs: Sequence[Subject]) -> tuple[list[str], list[str]]:
    filters: list[str] = []
    skipped: list[str] = []
    for ref in refs:
        converted = github_filter(ref)
        if converted is None:
            skipped.append(ref.value)
        elif converted not in filters:
            filters.append(converted)
    return filters, skipped


# --- rendering --------------------------------------------------------------------------------------


def _scalar(value: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML); no expressions smuggled in."""
    if "${{" in value:
        raise SnippetError(f"{value!r}: a value from the stack may not contain an Actions expression")
    return json.dumps(value)


def _flow(values: Iterable[str]) -> str:
    return "[" + ", ".join(_scalar(v) for v in values) + "]"


def _comment(text: str) -> str:
    return " ".join(text.split())


# `[[ ]]` for the template's own values, so every GitHub Actions expression `${{ }}` stays literal text.
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("devtools", "templates"), variable_start_string="[[", variable_end_string="]]",
    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
    autoescape=False,
)
_TEMPLATES.filters.update(scalar=_scalar, flow=_flow, shell=shlex.quote)


def render(trust: Trust, plan: Plan, variables: Mapping[str, str], repositories: Mapping[str, str],
           stack: str, pins: Mapping[str, Pin] | None = None) -> str:
    """The workflow text for one GitHub repository (`templates/ecr-push.yml.j2`).

    `variables` is its `githubActionsVariables` entry, `repositories` the ECR repository names it may
    push to, each with what a second push of a tag does there (`describe_mutability`); `pins` the
    actions it uses (default: `read_pins()`).
    """
    pins = read_pins() if pins is None else pins
    org_wide = trust.repository.endswith("/*")
    return _TEMPLATES.get_template("ecr-push.yml.j2").render(
        trust=trust, plan=plan, variables=variables, repositories=repositories, stack=stack,
        target=f"every repository of {trust.repository[:-2]}" if org_wide else trust.repository,
        notes=[line for note in plan.notes for line in textwrap.wrap(_comment(note), 96)],
        script=build_script(plan), workflow_file=WORKFLOW_FILE, checkout=pins[CHECKOUT],
        configure_aws_credentials=pins[CONFIGURE_AWS_CREDENTIALS], amazon_ecr_login=pins[AMAZON_ECR_LOGIN],
    )


def describe_mutability(setting: str, exclusions: Sequence[str] = ()) -> str:
    """What a second push of an existing tag does in a repository with this setting."""
    listed = ", ".join(exclusions) or "the exclusion filters"
    return {
        "IMMUTABLE": "IMMUTABLE (a tag, once pushed, always names the same image)",
        "MUTABLE": "MUTABLE (pushing an existing tag moves it to the new image)",
        "IMMUTABLE_WITH_EXCLUSION": f"IMMUTABLE_WITH_EXCLUSION (tags never move, except those matching {listed})",
        "MUTABLE_WITH_EXCLUSION": f"MUTABLE_WITH_EXCLUSION (tags move, except those matching {listed}, which never do)",
    }.get(setting, setting)


# The build step's scripts, joined by `build_script`. $COMMIT is the commit the image is built from
# (a pull request's head, not its merge commit); $GIT_TAG is set on runs started by a git tag.
CHECK_TAG_SCRIPT = """\
if [[ -n "${GIT_TAG:-}" ]] && ! [[ "$GIT_TAG" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  echo "::error::git tag '$GIT_TAG' is not a valid image tag"
  exit 1
fi
"""

# Where only reviewed refs can push: a commit's image is built and pushed once, tagged with the
# commit SHA; a re-run, or a tag push of a commit already built, reuses it. Any error other than
# "no such image" (access denied, throttling, no network) stops the job: it is never read as "not
# found, build it".
REUSE_SCRIPT = """\
# "<digest><TAB><manifest media type>" of a tag of $REPOSITORY; nothing when that tag (or the
# repository) does not exist.
image_of() {
  local image
  if image=$(aws ecr describe-images --repository-name "$REPOSITORY" --image-ids "imageTag=$1" \\
      --query 'imageDetails[0].[imageDigest, imageManifestMediaType]' --output text 2> "$RUNNER_TEMP/aws.err"); then
    echo "$image"
  elif grep -qE '\\((ImageNotFoundException|RepositoryNotFoundException)\\)' "$RUNNER_TEMP/aws.err"; then
    return 0
  else
    echo "::error::cannot tell whether $REPOSITORY:$1 exists: $(cat "$RUNNER_TEMP/aws.err")" >&2
    return 1
  fi
}
image=$(image_of "$COMMIT")
if [[ -n "$image" ]]; then
  echo "::notice::$IMAGE:$COMMIT exists (${image%%$'\\t'*}): not rebuilt"
else
  docker build --tag "$IMAGE:$COMMIT" "$CONTEXT"
  docker push "$IMAGE:$COMMIT"
fi
"""

# For runs started by a git tag: the same image gets the git tag too, without a pull (ECR's
# put-image with the image's own manifest). A digest or manifest that cannot be read fails. A tag
# that already names this image is success, so a re-run passes; one that names another image fails
# where tags are immutable (ImageTagAlreadyExistsException), and moves where they are mutable. Any
# other refusal is printed as AWS gave it.
TAG_SCRIPT = """\
if [[ -n "$GIT_TAG" ]]; then
  [[ -n "$image" ]] || image=$(image_of "$COMMIT")
  digest=${image%%$'\\t'*}
  media_type=${image#*$'\\t'}
  if ! [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ && "$media_type" == application/* ]]; then
    echo "::error::cannot read the digest of $IMAGE:$COMMIT (ECR answered '$image'): $GIT_TAG not tagged"
    exit 1
  fi
  tagged=$(image_of "$GIT_TAG")
  tagged=${tagged%%$'\\t'*}
  if [[ "$tagged" == "$digest" ]]; then
    echo "::notice::$IMAGE:$GIT_TAG already names this commit's image: nothing to do"
    exit 0
  fi
  if ! manifest=$(aws ecr batch-get-image --repository-name "$REPOSITORY" --image-ids "imageDigest=$digest" \\
      --query 'images[0].imageManifest' --output text 2> "$RUNNER_TEMP/aws.err") \\
      || [[ -z "$manifest" || "$manifest" == None ]]; then
    echo "::error::cannot read the manifest of $IMAGE@$digest: $GIT_TAG not tagged $(cat "$RUNNER_TEMP/aws.err")"
    exit 1
  fi
  if ! aws ecr put-image --repository-name "$REPOSITORY" --image-tag "$GIT_TAG" --image-manifest "$manifest" \\
      --image-manifest-media-type "$media_type" > /dev/null 2> "$RUNNER_TEMP/aws.err"; then
    if grep -q '(ImageTagAlreadyExistsException)' "$RUNNER_TEMP/aws.err"; then
      echo "::error::$IMAGE:$GIT_TAG already names another image (${tagged:-another digest}) and this" \\
        "repository does not move tags: release this commit under a new tag"
    else
      echo "::error::tagging $IMAGE:$GIT_TAG failed: $(cat "$RUNNER_TEMP/aws.err")"
    fi
    exit 1
  fi
  if [[ -n "$tagged" ]]; then
    echo "::warning::$IMAGE:$GIT_TAG moved from $tagged to this commit's image $digest"
  else
    echo "::notice::$IMAGE:$GIT_TAG -> $digest"
  fi
fi
"""

# Where unreviewed code can push too (pull requests, any branch): an image already in ECR may be
# anyone's, so every run builds its own from its checkout and pushes it under the git tag (a
# release) or the commit SHA. A tag that exists then fails where tags are immutable, with the
# registry's own message, instead of passing off another run's image as this one's.
BUILD_SCRIPT = """\
tag=${GIT_TAG:-$COMMIT}
docker build --tag "$IMAGE:$tag" "$CONTEXT"
docker push "$IMAGE:$tag"
"""


def build_script(plan: Plan) -> str:
    """The build step of a workflow with this plan."""
    check = CHECK_TAG_SCRIPT if plan.runs_on_tags else ""
    if not plan.reuse:
        return check + BUILD_SCRIPT
    return check + REUSE_SCRIPT + (TAG_SCRIPT if plan.runs_on_tags else "")


# --- from a program run -----------------------------------------------------------------------------


def _role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def trusts_of(run: ProgramRun) -> dict[str, Trust]:
    """Per `githubActionsVariables` key, what the role it names trusts for that key."""
    roles = {str(r.inputs.get("name")): r for r in run.of_type(ROLE_TYPE)}
    trusts: dict[str, Trust] = {}
    for repository, variables in run.outputs.get("githubActionsVariables", {}).items():
        name = _role_name(variables["AWS_ROLE_ARN"])
        role = roles.get(name)
        if role is None:
            raise SnippetError(f"{repository}: AWS_ROLE_ARN names {name}, which the stack does not declare")
        trusts[repository] = trust_for(repository, name, trusted_subjects(role.inputs.get("assumeRolePolicy") or "{}"))
    return trusts


def snippets(run: ProgramRun, repository: str | None = None, pins: Mapping[str, Pin] | None = None) -> list[Snippet]:
    """One workflow per GitHub repository of the stack (or for `repository`, which an `<owner>/*`
    entry may cover), using the actions in `pins` (default: `read_pins()`)."""
    variables: Mapping[str, Mapping[str, str]] = run.outputs.get("githubActionsVariables", {})
    keys = list(variables)
    if repository is not None:
        keys = select(repository, keys)
    mutability = {
        str(r.inputs.get("name")): describe_mutability(
            str(r.inputs.get("imageTagMutability", "MUTABLE")),
            [str(f.get("filter")) for f in r.inputs.get("imageTagMutabilityExclusionFilters") or []])
        for r in run.of_type(REPOSITORY_TYPE)}
    trusts = trusts_of(run)
    writers = unreviewed_writers(run)
    pins = read_pins() if pins is None else pins
    found = []
    for key in keys:
        names = [n for n in variables[key]["ECR_REPOSITORIES"].split(",") if n]
        repositories = {name: mutability.get(name, "created by CI on first push, with the creation template's "
                                                   "tag mutability") for name in names}
        trust = replace(trusts[key], unreviewed_writers=tuple(sorted({s for n in names for s in writers.get(n, ())})))
        text = render(trust, plan_for(trust), variables[key], repositories, run.stack, pins)
        found.append(Snippet(key, text))
    return found


def unreviewed_writers(run: ProgramRun) -> dict[str, set[str]]:
    """Per ECR repository of the stack, the GitHub subjects of unreviewed code (`unreviewed`) that
    can assume a role which may push there, whatever team the role belongs to."""
    report = access.build_access_report(run.resources)
    subjects: dict[str, set[str]] = {}
    for entry in report.trusts:
        usable = entry.kind == "github" and entry.subject and entry.effect == Effect.ALLOW.value
        if usable and entry.match != "literal" and unreviewed(Subject(str(entry.subject), entry.match == "pattern")):
            subjects.setdefault(entry.role, set()).add(str(entry.subject))
    found: dict[str, set[str]] = {}
    for role, unreviewed_subjects in subjects.items():
        for repository in report.repositories_of(role, "push") if role in report.roles else ():
            found.setdefault(repository, set()).update(unreviewed_subjects)
    return found


def select(repository: str, keys: Sequence[str]) -> list[str]:
    """The entry for `repository`: its own, else its owner's `<owner>/*` entry."""
    if repository in keys:
        return [repository]
    owner_wide = f"{repository.split('/', 1)[0]}/*"
    if owner_wide in keys:
        return [owner_wide]
    raise SnippetError(f"{repository}: no team lists this GitHub repository; the stack has: {', '.join(keys)}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.workflow_snippet",
        description="Print (or write) a ready GitHub Actions workflow per GitHub repository that may push to ECR.")
    parser.add_argument("--stack", default="dev", help="stack name; reads Pulumi.<stack>.yaml (default: dev)")
    parser.add_argument("--config-file", type=Path, help="a stack config file instead of Pulumi.<stack>.yaml")
    parser.add_argument("--repository", help="only this GitHub repository (<owner>/<repo>)")
    parser.add_argument("--out-dir", type=Path,
                        help="write <owner>/<repo>.yml files here instead of printing them")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 with the workflows, 2 on an unknown repository or an invalid stack configuration."""
    args = _parser().parse_args(argv)
    try:
        run = run_stack(args.stack, config_file=args.config_file)
        found = snippets(run, args.repository)
    except (SnippetError, FileNotFoundError, pulumi.RunError) as error:
        print(f"workflow_snippet: {error}", file=sys.stderr)
        return 2
    if args.out_dir is None:
        sys.stdout.write("---\n".join(s.text for s in found))
        return 0
    for snippet in found:
        path = args.out_dir / snippet.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(snippet.text)
        print(f"{snippet.repository}: {path} (save as {WORKFLOW_FILE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`ecr-lifecycle-policy` (stack policy): every repository has a valid lifecycle policy.

A repository is matched to its `aws.ecr.LifecyclePolicy` by the policy's `repository` input
(the repository name) or, when that is unknown at preview, by the property dependency on the
repository. A creation template's `lifecyclePolicy` is judged the same way, since it becomes the
lifecycle policy of every repository ECR creates from it.

A lifecycle document must follow ECR's rules (the API would reject it halfway through `up`, or
worse, accept a policy that never expires anything):
- `rules` is a non-empty list; every `rulePriority` is a unique integer >= 1;
- `selection.tagStatus` is `tagged`, `untagged` or `any`; at most one `any` rule, and it has
  the highest priority (ECR evaluates it last); `tagged` needs `tagPrefixList` or
  `tagPatternList` (not both);
- `countType` is `imageCountMoreThan` (no `countUnit`) or `sinceImagePushed` (with
  `countUnit: days`); the archive-era count types `sinceImagePulled` / `sinceImageTransitioned`
  also take `countUnit: days`; `countNumber` is an integer >= 1;
- `action.type` is `expire` or `transition` (with `targetStorageClass: archive`, of images still in
  `standard`); `selection.storageClass` is `standard` (the default) or `archive`, and `archive` goes
  with `sinceImageTransitioned` and only with it; a rule may not expire archived images fewer than
  90 days after they were archived (ECR user guide, "Archiving an image").
- An archive rule may not select images that a keep rule (`tagged`, `imageCountMoreThan`) keeps
  pullable: archived images cannot be pulled, whatever their priority order. Judged per tag
  wildcard (`v*` and `v1.*` meet, `build-*` and `v*` don't); an image carrying both a kept tag and an
  archived tag is beyond what a policy document can say.

Retention: unless `allowTaggedExpiryByAge` (default false; dev may set it), no rule expires
tagged images by age (`tagStatus` `tagged` or `any` with a days-based count type): a release
tag that is deployed but not rebuilt for N days would vanish. Tagged images are kept by count
(`imageCountMoreThan`); untagged images may expire by age. Expiring archived images
(`storageClass: archive`) is not that loss: they already cannot be pulled, and the 90-day minimum stands.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    CREATION_TEMPLATE,
    LIFECYCLE_POLICY,
    REPOSITORY,
    DocumentError,
    Finding,
    Resource,
    Skipped,
    as_list,
    config_bool,
    contains_unknown,
    is_unknown,
    load_document,
    pack_config,
    stack_policy,
)

TAG_STATUSES = ("tagged", "untagged", "any")
DAY_COUNT_TYPES = ("sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned")
COUNT_TYPES = ("imageCountMoreThan", *DAY_COUNT_TYPES)
ACTIONS = ("expire", "transition")
STORAGE_CLASSES = ("standard", "archive")
MIN_DAYS_IN_ARCHIVE = 90


def _as_int(value: Any) -> int | None:
    """The integer a JSON number stands for (1 and 1.0 alike); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _rule_problems(rule: Any, index: int) -> tuple[str, list[str], int | None]:
    """(label, problems, priority) for one rule."""
    if not isinstance(rule, dict):
        return f"rules[{index}]", ["is not an object"], None
    raw_priority = rule.get("rulePriority")
    priority = _as_int(raw_priority)
    label = f"rule {priority}" if priority is not None else f"rules[{index}]"
    problems = []
    if priority is None or priority < 1:
        problems.append(f"rulePriority {raw_priority!r} is not an integer >= 1")
    selection = rule.get("selection")
    if not isinstance(selection, dict):
        problems.append("has no selection")
        selection = {}
    status = selection.get("tagStatus")
    if status not in TAG_STATUSES:
        problems.append(f"selection.tagStatus {status!r} is not one of tagged, untagged, any")
    prefixes, patterns = selection.get("tagPrefixList"), selection.get("tagPatternList")
    if status == "tagged" and not prefixes and not patterns:
        problems.append("selects tagged images without tagPrefixList or tagPatternList")
    if prefixes and patterns:
        problems.append("sets both tagPrefixList and tagPatternList (ECR accepts only one)")
    count_type = selection.get("countType")
    count_unit = selection.get("countUnit")
    if count_type not in COUNT_TYPES:
        problems.append(f"selection.countType {count_type!r} is not one of {', '.join(COUNT_TYPES)}")
    elif count_type in DAY_COUNT_TYPES and count_unit != "days":
        problems.append(f"selection.countType {count_type} needs countUnit 'days' (got {count_unit!r})")
    elif count_type == "imageCountMoreThan" and count_unit is not None:
        problems.append("selection.countUnit is only allowed with a days-based countType")
    raw_count = selection.get("countNumber")
    count = _as_int(raw_count)
    if count is None or count < 1:
        problems.append(f"selection.countNumber {raw_count!r} is not an integer >= 1")
    action = rule.get("action")
    kind = action.get("type") if isinstance(action, dict) else None
    if kind not in ACTIONS:
        problems.append(f"action.type {kind!r} is not 'expire' or 'transition'")
    problems.extend(_storage_problems(selection, action if isinstance(action, dict) else {}, count))
    return label, problems, priority


def _storage_problems(selection: dict[str, Any], action: dict[str, Any], count: int | None) -> list[str]:
    """What ECR refuses about storage classes: archive selections, transitions, the 90-day minimum."""
    storage = selection.get("storageClass", "standard")
    count_type = selection.get("countType")
    if storage not in STORAGE_CLASSES:
        return [f"selection.storageClass {storage!r} is not standard or archive"]
    problems = []
    if storage == "archive" and count_type != "sinceImageTransitioned":
        problems.append("selects archived images (storageClass archive) without countType sinceImageTransitioned")
    if count_type == "sinceImageTransitioned" and storage != "archive":
        problems.append("counts days since archiving (sinceImageTransitioned) but does not select storageClass "
                        "archive")
    if action.get("type") == "transition":
        if action.get("targetStorageClass") != "archive":
            problems.append(f"action.targetStorageClass {action.get('targetStorageClass')!r} is not 'archive'")
        if storage == "archive":
            problems.append("transitions images that are already archived")
    elif storage == "archive" and count is not None and count < MIN_DAYS_IN_ARCHIVE:
        problems.append(f"expires archived images {count} days after archiving; ECR keeps an archived image at "
                        f"least {MIN_DAYS_IN_ARCHIVE} days (use countNumber >= {MIN_DAYS_IN_ARCHIVE})")
    return problems


def _tag_selectors(selection: dict[str, Any]) -> list[str]:
    """The tag wildcards a selection names (a prefix `v` is `v*`); `*` for tagStatus any."""
    if selection.get("tagStatus") == "any":
        return ["*"]
    return ([f"{p}*" for p in as_list(selection.get("tagPrefixList")) if isinstance(p, str)]
            + [p for p in as_list(selection.get("tagPatternList")) if isinstance(p, str)])


def tags_overlap(first: str, second: str) -> bool:
    """Whether some tag matches both wildcards (`*` = any run of characters): a product walk, memoised."""

    @functools.cache
    def meet(i: int, j: int) -> bool:
        if i == len(first) and j == len(second):
            return True
        if i < len(first) and first[i] == "*":
            return meet(i + 1, j) or (j < len(second) and meet(i, j + 1))
        if j < len(second) and second[j] == "*":
            return meet(i, j + 1) or (i < len(first) and meet(i + 1, j))
        return i < len(first) and j < len(second) and first[i] == second[j] and meet(i + 1, j + 1)

    return meet(0, 0)


def archive_overlap_problems(rules: list[Any]) -> list[str]:
    """Archive (transition) rules that select tags a keep-by-count rule keeps pullable."""
    keeps: list[tuple[Any, list[str], Any]] = []
    archives: list[tuple[Any, list[str]]] = []
    for rule in rules:
        if not isinstance(rule, dict) or not isinstance(rule.get("selection"), dict):
            continue
        selection, action = rule["selection"], rule.get("action")
        kind = action.get("type") if isinstance(action, dict) else None
        if kind == "transition" and selection.get("tagStatus") in ("tagged", "any"):
            archives.append((rule.get("rulePriority"), _tag_selectors(selection)))
        elif (kind == "expire" and selection.get("tagStatus") == "tagged"
              and selection.get("countType") == "imageCountMoreThan"
              and selection.get("storageClass", "standard") == "standard"):
            keeps.append((rule.get("rulePriority"), _tag_selectors(selection), selection.get("countNumber")))
    problems = []
    for archive_priority, archived in archives:
        for keep_priority, kept, count in keeps:
            meeting = next(((a, k) for a in archived for k in kept if tags_overlap(a, k)), None)
            if meeting:
                problems.append(f"rule {archive_priority} archives images tagged {meeting[0]!r}, which rule "
                                f"{keep_priority} keeps pullable (the newest {count} tagged {meeting[1]!r}); archived "
                                "images cannot be pulled: archive only tags no keep rule selects")
    return problems


def retention_problem(rule: Any, label: str) -> str | None:
    """Why a rule loses tagged images by age (None when it keeps them by count or touches only untagged)."""
    if not isinstance(rule, dict) or not isinstance(rule.get("selection"), dict):
        return None
    selection, action = rule["selection"], rule.get("action")
    if selection.get("tagStatus") not in ("tagged", "any") or selection.get("countType") not in DAY_COUNT_TYPES:
        return None
    if (isinstance(action, dict) and action.get("type") == "transition") or selection.get("storageClass") == "archive":
        return None
    return (f"{label} expires {selection.get('tagStatus')} images {selection.get('countNumber')} "
            f"{selection.get('countUnit', 'days')} after {selection.get('countType')[len('sinceImage'):].lower()}, "
            "release tags included; keep tagged images by count (imageCountMoreThan), expire only untagged "
            f"images by age, or allow it ({pack_config('ecr-lifecycle-policy', 'allowTaggedExpiryByAge')})")


def lifecycle_problems(document: Any, allow_tagged_expiry_by_age: bool = True) -> list[str]:
    """Every way a lifecycle policy document breaks ECR's rules (empty when valid)."""
    try:
        parsed = load_document(document)
    except DocumentError as error:
        return [f"the document {error}"]
    rules = parsed.get("rules")
    if not isinstance(rules, list) or not rules:
        return ["it has no rules (a non-empty `rules` list is required)"]
    problems: list[str] = []
    priorities: dict[int, int] = {}
    any_rules: list[tuple[str, int | None]] = []
    for index, rule in enumerate(rules):
        label, rule_problems, priority = _rule_problems(rule, index)
        problems.extend(f"{label} {p}" for p in rule_problems)
        if not allow_tagged_expiry_by_age and (retention := retention_problem(rule, label)):
            problems.append(retention)
        if priority is not None:
            priorities[priority] = priorities.get(priority, 0) + 1
        if isinstance(rule, dict) and isinstance(rule.get("selection"), dict) \
                and rule["selection"].get("tagStatus") == "any":
            any_rules.append((label, priority))
    problems.extend(archive_overlap_problems(rules))
    duplicates = sorted(p for p, n in priorities.items() if n > 1)
    if duplicates:
        problems.append(f"rulePriority values must be unique ({', '.join(map(str, duplicates))} repeated)")
    if len(any_rules) > 1:
        problems.append(f"only one rule may select tagStatus 'any' ({', '.join(r for r, _ in any_rules)} do)")
    if any_rules and priorities:
        label, priority = any_rules[0]
        if priority is not None and priority < max(priorities):
            problems.append(f"{label} selects tagStatus 'any' but is not the highest rulePriority "
                            f"({max(priorities)}): ECR must evaluate it last")
    return problems


def check_lifecycle(resources: list[Resource], config: Mapping[str, Any], skipped: Skipped) -> list[Finding]:
    allow_age = config_bool(config, "allowTaggedExpiryByAge", False)
    findings: list[Finding] = []
    covered_names: set[str] = set()
    covered_urns: set[str] = set()
    unknown_target = False
    for policy in resources:
        if policy.resource_type != LIFECYCLE_POLICY:
            continue
        target = policy.props.get("repository")
        covered_urns.update(policy.property_dependencies.get("repository", ()))
        if isinstance(target, str):
            covered_names.add(target)
        elif is_unknown(target):
            unknown_target = unknown_target or not policy.property_dependencies.get("repository")
        shown = target if isinstance(target, str) else policy.name
        document = policy.props.get("policy")
        if contains_unknown(document):
            skipped.add(f"{policy.name}.policy")
            continue
        problems = lifecycle_problems(document, allow_age)
        if problems:
            findings.append(Finding(
                f"The lifecycle policy '{policy.name}' of ECR repository '{shown}' is not valid: "
                + "; ".join(problems) + ". Fix the policy JSON so that ECR accepts it and expires what you intend.",
                policy.urn))
    for resource in resources:
        if resource.resource_type == REPOSITORY:
            name = resource.props.get("name")
            if resource.urn in covered_urns or (isinstance(name, str) and name in covered_names):
                continue
            if is_unknown(name) or unknown_target:
                skipped.add(f"{resource.name}.name")
                continue
            findings.append(Finding(
                f"The ECR repository '{resource.label}' has no lifecycle policy, so its images pile up "
                "forever (storage cost, slower scans). Declare an aws.ecr.LifecyclePolicy whose repository "
                "is this repository's name, e.g. expiring untagged images after a few days.", resource.urn))
        elif resource.resource_type == CREATION_TEMPLATE:
            prefix = resource.props.get("prefix")
            shown = prefix if isinstance(prefix, str) else resource.name
            document = resource.props.get("lifecyclePolicy")
            if contains_unknown(document):
                skipped.add(f"{resource.name}.lifecyclePolicy")
                continue
            if document in (None, ""):
                findings.append(Finding(
                    f"The ECR repository creation template '{shown}' has no lifecyclePolicy, so repositories "
                    "created from it keep every image forever. Set lifecyclePolicy to a lifecycle policy JSON.",
                    resource.urn))
                continue
            problems = lifecycle_problems(document, allow_age)
            if problems:
                findings.append(Finding(
                    f"The lifecyclePolicy of ECR repository creation template '{shown}' is not valid: "
                    + "; ".join(problems) + ". Fix the policy JSON so that ECR accepts it.", resource.urn))
    return findings


POLICIES = [
    stack_policy(
        name="ecr-lifecycle-policy",
        description="Every ECR repository must have a valid lifecycle policy, so images do not pile up forever.",
        resource_types=(REPOSITORY, LIFECYCLE_POLICY, CREATION_TEMPLATE),
        check=check_lifecycle,
        severity=Severity.MEDIUM,
        config_properties={"allowTaggedExpiryByAge": {
            "type": "boolean", "default": False,
            "description": "Whether a rule may expire tagged images by age (sinceImagePushed); off keeps tagged "
                           "images by count only."}},
        remediation_steps="Declare an aws.ecr.LifecyclePolicy per repository (and lifecyclePolicy on creation "
                          "templates) with unique integer priorities, counts >= 1 and any `tagStatus: any` rule "
                          "last, e.g. keep the newest N release tags and expire untagged images after 7 days.",
    ),
]

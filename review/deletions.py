"""What a change deletes: stateful resources the base graph declares and the head graph drops or replaces.

The engine matches a resource across two runs by its URN, or by an alias the new declaration carries
(a renamed team's `previousNames`); a resource whose identity does not carry over is deleted, and
one whose replace-forcing inputs change is deleted and created again. AWS adds an identity of its
own, the physical name: a repository name the base declares and the head does not is deleted with
its images, whatever the URNs say, and one the head declares under another URN is deleted and
created again (ECR cannot rename a repository). `find_deletions` compares the two graphs both ways.

Stateful here means losing the resource loses something a deploy cannot give back: images, the
trust of every push role, CI's create-on-push, replication, cached pulls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic.alias_generators import to_camel

from components.config.retire import Retire
from engine.resource import Resource

REPOSITORY = "aws:ecr/repository:Repository"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
CREATION_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
REPLICATION = "aws:ecr/replicationConfiguration:ReplicationConfiguration"
PULL_THROUGH_CACHE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"

DELETE, REPLACE = "delete", "replace"
POLICY = "protect-registries"
"""The policy deletions are reported under, and whose `deletions` setting says how strictly."""


@dataclass(frozen=True)
class Kind:
    """How one stateful resource type is named, replaced and retired."""

    label: str
    key: str
    """The input AWS knows the resource by (its physical identity); "" for one per registry."""
    forcing: tuple[str, ...]
    """Inputs whose change replaces the resource (the provider's ForceNew fields)."""
    retire: str
    """The field of `ecr-platform:retire` that lets its deletion pass (`Retire`'s, snake_case)."""
    lost: str
    """What goes with it; `{name}` is its name."""


KINDS: dict[str, Kind] = {
    REPOSITORY: Kind("ECR repository", "name", ("name", "encryptionConfigurations"), "repositories",
                     "every image in it"),
    OIDC_PROVIDER: Kind("GitHub OIDC provider", "url", ("url",), "oidc_provider",
                        "the trust of every push role that names it: AssumeRoleWithWebIdentity fails until a "
                        "provider for {name} exists again"),
    CREATION_TEMPLATE: Kind("repository creation template", "prefix", ("prefix",), "creation_templates",
                            "CI's create-on-push in {name}/: pushes of new repository names there fail "
                            "(repositories already created stay)"),
    REPLICATION: Kind("replication configuration", "", (), "replication",
                      "replication of new pushes to the other regions and accounts (copies already made stay)"),
    PULL_THROUGH_CACHE: Kind("pull-through cache rule", "ecrRepositoryPrefix",
                             ("ecrRepositoryPrefix", "upstreamRegistryUrl"), "pull_through_cache",
                             "pulls through {name}/ of images not cached yet (cached repositories stay)"),
}

MIGRATION = (
    "ECR cannot rename a repository or change its encryption in place. To keep the images: declare the new "
    "repository next to the old one, copy the images (`crane copy <old>:<tag> <new>:<tag>`, `docker buildx "
    "imagetools create --tag <new>:<tag> <old>:<tag>`, or ECR replication when the new one is in another region "
    "or account), switch the workflows to the new name, then retire the old one (ecr-platform:retire.repositories) "
    "in a later change; docs/onboarding.md, \"Move repositories\", has the steps."
)


@dataclass(frozen=True)
class Deletion:
    """One stateful resource of the base that this change deletes, or deletes and creates again."""

    type: str
    name: str
    """What AWS calls it: the repository name, the template or cache prefix, the issuer URL."""
    action: str
    """`delete`, or `replace` (deleted and created again: for a repository, empty)."""
    reason: str
    """Why, in a clause: `no longer declared`, `encryptionConfigurations changes: ...`."""
    urn: str
    """The base resource's URN (what the engine deletes)."""
    created_as: tuple[str, ...] = ()
    """Repositories the head declares instead (a namespace change or a rename)."""
    renamed_team: str = ""
    """The team the repository belonged to when the repository moved to another team's name."""
    protected: bool = False
    """The base declares it with `protect`: `pulumi up` stops until it is unprotected."""
    identity_changed: bool = False
    """The head declares the same name under another URN, without an alias for the old one."""
    retired_by: str = ""
    """`retire.repositories` when the stack file retires it; its deletion then passes."""
    enforcement: str = ""
    """`mandatory` or `advisory` once the guard judged it; "" when retired or no guard ran."""

    @property
    def kind(self) -> Kind:
        return KINDS[self.type]

    @property
    def lost(self) -> str:
        lost = self.kind.lost.format(name=self.name)
        return f"{lost} (the new one starts empty)" if self.type == REPOSITORY and self.action == REPLACE else lost

    @property
    def moves(self) -> bool:
        """A repository whose images must be copied to keep them: renamed, moved or re-encrypted."""
        return self.type == REPOSITORY and bool(self.created_as or self.action == REPLACE)

    @property
    def shown(self) -> str:
        """`ECR repository payments/api → checkout/api`."""
        moved = f" → {', '.join(self.created_as)}" if self.created_as else ""
        return f"{self.kind.label} {self.name}{moved}"

    @property
    def unprotect(self) -> str:
        """The command docs/onboarding.md has a prod admin run before the deploy, for a protected resource."""
        stack = self.urn.split("::", 1)[0].rpartition(":")[2]
        return f"pulumi state unprotect --stack {stack} '{self.urn}'" if self.protected else ""

    def advice(self) -> str:
        """What to do instead, or how to say the deletion is intended."""
        retire = f"ecr-platform:retire.{to_camel(self.kind.retire)}"
        if self.identity_changed:
            return ("Keep its identity: a renamed team lists its old name in previousNames (otherwise, a Pulumi "
                    "alias for the old URN).")
        if self.moves:
            hint = (f" If the team {self.renamed_team} was renamed, `previousNames: [{self.renamed_team}]` on it keeps "
                    "the namespace, and nothing moves." if self.renamed_team else "")
            return MIGRATION + hint
        if self.action == REPLACE:
            return (f"If that is intended, delete it in one change ({retire}) and declare the new one in the next, "
                    "so each step is reviewed.")
        value = f"[{self.name}]" if isinstance(getattr(Retire(), self.kind.retire), list) else "true"
        return (f"If that is intended, set {retire}: {value} in the stack file, where the reviewer sees it; "
                "otherwise keep it declared.")

    def message(self) -> str:
        """The finding: what is deleted, why, what is lost, what to do."""
        verb = "deleted" if self.action == DELETE else "replaced (deleted and created again)"
        return (f"The {self.kind.label} '{self.name}' would be {verb}: {self.reason}. Lost with it: {self.lost}."
                + (" It is protected, so `pulumi up` also stops until it is unprotected." if self.protected else "")
                + f" {self.advice()}")


def _key(resource: Resource) -> str:
    kind = KINDS[resource.type]
    return str(resource.inputs.get(kind.key) or "") if kind.key else ""


def _name(resource: Resource) -> str:
    return _key(resource) or resource.name


def _team(resource: Resource) -> str:
    tags = resource.inputs.get("tags")
    return str(tags.get("team") or "") if isinstance(tags, dict) else ""


def stateful(resources: Sequence[Resource]) -> list[Resource]:
    """The resources whose deletion loses something (the types `KINDS` knows)."""
    return [r for r in resources if r.custom and r.type in KINDS]


def _shown(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return "; ".join(" ".join(str(v) for v in item.values() if v) for item in value) or "(unset)"
    return str(value) if value not in (None, "", []) else "(unset)"


def _identity(urn: str) -> str:
    """The part of a URN that names the resource in its stack: `<type chain>::<logical name>`."""
    return urn.split("::", 2)[-1]


def find_deletions(base: Sequence[Resource], head: Sequence[Resource],
                   retire: Retire | None = None) -> list[Deletion]:
    """Stateful resources of `base` that `head` deletes or replaces, repositories first, then by name."""
    now = stateful(head)
    by_identity = {urn: r for r in now for urn in (r.urn, *r.aliases)}
    by_key: dict[tuple[str, str], Resource] = {}
    for r in now:
        by_key.setdefault((r.type, _key(r)), r)
    before = stateful(base)
    known = {(r.type, _key(r)) for r in before}
    # Where a repository may have gone, on evidence only: a new repository of the same name in the same team
    # (its namespace changed), or in a team that replaced it (the old team declares nothing any more and the
    # new one declared nothing before: a rename without previousNames). Teams share names (`api`, `jobs`):
    # a name alone pairs nothing.
    created: dict[tuple[str, str], Resource] = {}
    for r in sorted((r for r in now if r.type == REPOSITORY and (r.type, _key(r)) not in known), key=_key):
        created.setdefault((_leaf(r), _team(r)), r)
    teams_before, teams_now = {_team(r) for r in before}, {_team(r) for r in now}
    renamed: dict[str, list[Resource]] = {}
    for (leaf, team), r in created.items():
        if team and team not in teams_before:
            renamed.setdefault(leaf, []).append(r)
    found = []
    for old in before:
        kind = KINDS[old.type]
        new = by_identity.get(old.urn)
        if new is not None:
            changed = [f for f in kind.forcing if old.inputs.get(f) != new.inputs.get(f)]
            if changed:
                reason = "; ".join(f"{field} changes from {_shown(old.inputs.get(field))} to "
                                   f"{_shown(new.inputs.get(field))}" for field in changed)
                found.append(_deletion(old, REPLACE, reason, new if kind.key in changed else None))
        elif (same := by_key.get((old.type, _key(old)))) is not None:
            found.append(dataclasses.replace(_deletion(
                old, REPLACE, f"it is declared under another identity ({_identity(old.urn)} becomes "
                f"{_identity(same.urn)}), so Pulumi deletes the old resource and creates a new one"),
                identity_changed=True))
        else:
            instead = _instead(old, created, renamed if _team(old) not in teams_now else {})
            reason = "no longer declared" + (f"; the stack declares {_key(instead)} instead" if instead else "")
            found.append(_retired(_deletion(old, DELETE, reason, instead), retire or Retire()))
    order = list(KINDS)
    return sorted(found, key=lambda d: (order.index(d.type), d.name))


def _leaf(repository: Resource) -> str:
    return _key(repository).rpartition("/")[2]


def _instead(old: Resource, created: Mapping[tuple[str, str], Resource],
             renamed: Mapping[str, Sequence[Resource]]) -> Resource | None:
    """The new repository `old` moved to: the same name in the same team (a namespace change), else the
    one new team's repository of that name when `old`'s team is gone (`renamed`: by name); None when
    nothing says so."""
    if old.type != REPOSITORY:
        return None
    if (same := created.get((_leaf(old), _team(old)))) is not None:
        return same
    successors = renamed.get(_leaf(old), [])
    return successors[0] if len(successors) == 1 else None


def _deletion(old: Resource, action: str, reason: str, moved_to: Resource | None = None) -> Deletion:
    renamed = _team(old) if moved_to is not None and _team(old) and _team(moved_to) != _team(old) else ""
    return Deletion(old.type, _name(old), action, reason, old.urn, (_key(moved_to),) if moved_to else (), renamed,
                    protected=old.protect)


def _retired(deletion: Deletion, retire: Retire) -> Deletion:
    """The deletion, marked retired when the stack file's `retire` names it."""
    listed = getattr(retire, deletion.kind.retire)
    if (deletion.name in listed) if isinstance(listed, list) else listed is True:
        return dataclasses.replace(deletion, retired_by=f"retire.{to_camel(deletion.kind.retire)}")
    return deletion


def retire_of(config: Mapping[str, Any]) -> Retire:
    """The stack file's `ecr-platform:retire` (validated by the program run before this is asked)."""
    return Retire.model_validate(config.get("ecr-platform:retire") or {})


def judged(deletions: Sequence[Deletion], level: str) -> list[Deletion]:
    """Each deletion the stack file does not retire, at the guard's level (`mandatory`, `advisory`, or `disabled`:
    listed, no violation)."""
    return [d if d.retired_by else dataclasses.replace(d, enforcement=level) for d in deletions]

"""Sub-resource grants: how a `(run, *)`, `(trace, *)`, ... grant decides beside the experiment's.

MLflow 3.18 lets an admin grant on the things inside an experiment as a tier of their own:
``run``, ``trace``, ``assessment``, ``logged_model`` (wildcard ``*`` only) and ``scorer``
(``<experiment id>/<name>`` or ``*``). An operation states what it needs as a list of
:class:`Need`; each need names a key, the action asked of it, and the keys to consult instead
when the caller holds no grant on that key at all (the tier override):

* the first key holding any grant decides, alone: a ``(run, *, EDIT)`` grant lets its holder
  write runs in an experiment they may only read, and a ``(run, *, DENY)`` stops them even
  where the experiment grant is MANAGE; a DENY is never rescued by the fallback;
* no grant on any key: the configured default decides;
* a positive grant is never weaker than the default (DENY and NO_PERMISSIONS are kept);
* an operation is allowed only when every need is met.

Operations on something inside an experiment also need READ on the experiment itself, so a
tier grant never opens an experiment the caller is denied; a create needs UPDATE on the
experiment and only "not denied" of the created type, because a wildcard grant on a tier
would otherwise confer creation in every experiment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from trackd.auth import permissions
from trackd.auth.permissions import DENY, NO_PERMISSIONS, Permission

RUN, TRACE, ASSESSMENT, LOGGED_MODEL = "run", "trace", "assessment", "logged_model"
SCORER, SCORER_VERSION, EXPERIMENT = "scorer", "scorer_version", "experiment"
NOT_DENIED = "not_denied"  # a veto-only need: any grant but DENY passes

# The grain each resource type MLflow 3.18 knows takes in a grant (its permissions.TYPE).
WILDCARD_AND_ID = frozenset({
    "experiment", "registered_model", "prompt", "scorer", "gateway_secret", "gateway_endpoint",
    "gateway_model_definition", "mcp_server", "skill"})
WILDCARD_ONLY = frozenset({
    "run", "trace", "assessment", "logged_model", "review_queue", "registered_model_version",
    "prompt_version", "scorer_version", "mcp_server_version"})


@dataclass(frozen=True)
class Need:
    kind: str
    key: str
    action: str  # read | use | update | delete | manage | not_denied
    fallback: tuple[Need, ...] = field(default=())

    def rungs(self) -> list[Need]:
        return [self, *self.fallback]


def canonical_key(kind: str, key: str) -> str:
    """Grants are stored and compared on this spelling: experiment "01" is "1", and so is the
    experiment half of a scorer key ``01/name``."""
    if kind == EXPERIMENT:
        return permissions.canonical_experiment_id(key)
    if kind == SCORER:
        experiment_id, slash, name = key.partition("/")
        return permissions.canonical_experiment_id(experiment_id) + slash + name
    return key


def scorer_key(experiment_id: str, name: str) -> str:
    """A scorer's grant key. The name is percent-encoded, every character but letters, digits
    and ``_.-~`` (so a ``/`` in a name cannot be mistaken for the separator), as MLflow writes
    the key; grants made through the API must spell it the same way."""
    return f"{permissions.canonical_experiment_id(experiment_id)}/{quote(name, safe='')}"


def under_experiment(experiment_id: str, tier: str, action: str) -> list[Need]:
    """Acting on an existing run / trace / logged model / assessment of an experiment."""
    experiment = Need(EXPERIMENT, experiment_id, action)
    return [Need(EXPERIMENT, experiment_id, "read"),
            Need(tier, "*", action, fallback=(experiment,))]


def create_in_experiment(experiment_id: str, tier: str, *also: Need) -> list[Need]:
    return [Need(EXPERIMENT, experiment_id, "update"), Need(tier, "*", NOT_DENIED), *also]


def kinds_of(needs: Iterable[Need]) -> tuple[str, ...]:
    return tuple(sorted({rung.kind for need in needs for rung in need.rungs()}))


def _grant_at(grants: Sequence[tuple[str, str, str]], kind: str, key: str) -> Permission | None:
    """The fold of every grant matching one key (its id or ``*``); None when there is none."""
    names = []
    wanted = canonical_key(kind, key)
    for grant_kind, pattern, name in grants:
        if grant_kind != kind:
            continue
        if pattern == "*" or (kind not in WILDCARD_ONLY and pattern == wanted):
            names.append(name)
    if not names:
        return None
    return permissions.fold(names, NO_PERMISSIONS)


def _met(action: str, permission: Permission) -> bool:
    if action == NOT_DENIED:
        return permission is not DENY
    return permission.allows(action)


def _floor(permission: Permission, default: Permission) -> Permission:
    if permission in (DENY, NO_PERMISSIONS):
        return permission
    return permission if permission.rank >= default.rank else default


def met(need: Need, grants: Sequence[tuple[str, str, str]], default: Permission) -> bool:
    for rung in need.rungs():
        found = _grant_at(grants, rung.kind, rung.key)
        if found is not None:
            return _met(rung.action, _floor(found, default))
    return _met(need.rungs()[-1].action, default)


def all_met(needs: Sequence[Need], grants: Sequence[tuple[str, str, str]],
            default: Permission) -> bool:
    return all(met(need, grants, default) for need in needs)

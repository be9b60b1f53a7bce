"""Permission levels and how several grants on one resource fold into one answer.

The levels, their names and their order are MLflow's basic-auth app's (3.18), because the names
are stored in its ``role_permissions`` table and both servers must read them the same way:

    NO_PERMISSIONS < READ < USE < EDIT < MANAGE,   DENY = an explicit veto

Folding, as MLflow does it: any ``DENY`` among the matching grants wins (unless the user is a
workspace admin); otherwise the highest grant wins; a positive grant is never weaker than the
configured default; no grant at all means the default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from trackd.errors import invalid_parameter


@dataclass(frozen=True)
class Permission:
    name: str
    rank: int
    can_read: bool = False
    can_use: bool = False
    can_update: bool = False
    can_delete: bool = False
    can_manage: bool = False

    def allows(self, action: str) -> bool:
        """``action`` is one of read, use, update, delete, manage."""
        return bool(getattr(self, f"can_{action}"))


DENY = Permission("DENY", -1)
NO_PERMISSIONS = Permission("NO_PERMISSIONS", 0)
READ = Permission("READ", 1, can_read=True)
USE = Permission("USE", 2, can_read=True, can_use=True)
EDIT = Permission("EDIT", 3, can_read=True, can_use=True, can_update=True)
MANAGE = Permission("MANAGE", 4, True, True, True, True, True)

ALL: dict[str, Permission] = {p.name: p for p in (READ, USE, EDIT, MANAGE, NO_PERMISSIONS, DENY)}

# What the per-resource grant endpoints accept. MLflow 3.18 refuses NO_PERMISSIONS there, but
# the 2.x endpoints (experiments/permissions/...) accepted it as "no access for this user", and
# a stored NO_PERMISSIONS row denies in MLflow 3.18 too (it is never raised to the default), so
# trackd keeps accepting it for the clients that still send it.
GRANTABLE = frozenset({"READ", "USE", "EDIT", "MANAGE", "DENY", "NO_PERMISSIONS"})

ACTIONS = ("read", "use", "update", "delete", "manage")


def get(name: str) -> Permission:
    try:
        return ALL[name]
    except KeyError:
        raise invalid_parameter(
            f"Invalid permission '{name}'. Valid permissions are: {tuple(ALL)}"
        ) from None


def check_grantable(name: object) -> str:
    if not isinstance(name, str) or name not in GRANTABLE:
        raise invalid_parameter(
            f"Invalid permission '{name}'. Valid permissions are: {tuple(sorted(GRANTABLE))}"
        )
    return name


def canonical_experiment_id(experiment_id: str) -> str:
    """Grants are stored on the integer spelling: "01" and "1" name the same experiment."""
    try:
        return str(int(experiment_id))
    except (TypeError, ValueError, OverflowError):
        return experiment_id


def fold(grants: Iterable[str], default: Permission) -> Permission:
    """The effective permission from the names of every grant that matches one resource."""
    best: Permission | None = None
    denied = False
    for name in grants:
        grant = ALL.get(name)
        if grant is None:
            continue  # a value some newer MLflow wrote: ignoring it is the safe reading
        if grant is DENY:
            denied = True
        elif best is None or grant.rank > best.rank:
            best = grant
    if denied:
        return DENY
    if best is None:
        return default
    if best is NO_PERMISSIONS:
        return best  # an explicit "nothing" is never raised to the default
    return best if best.rank >= default.rank else default

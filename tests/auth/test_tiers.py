"""The tier override (auth/tiers.py) on its own, without a server: which grant decides."""

from __future__ import annotations

from trackd.auth import tiers
from trackd.auth.permissions import NO_PERMISSIONS, READ, Permission

EXP = "7"


def _allowed(grants: list[tuple[str, str, str]], tier: str, action: str,
             default: Permission = READ) -> bool:
    return tiers.all_met(tiers.under_experiment(EXP, tier, action), grants, default)


def test_a_tier_grant_decides_instead_of_the_experiment() -> None:
    assert not _allowed([], "run", "update")
    assert _allowed([("run", "*", "EDIT")], "run", "update")
    assert not _allowed([("experiment", EXP, "MANAGE"), ("run", "*", "DENY")], "run", "read")
    # A lesser tier grant overrides downward too: READ on runs, MANAGE on the experiment.
    assert not _allowed([("experiment", EXP, "MANAGE"), ("run", "*", "READ")], "run", "update")
    assert _allowed([("experiment", EXP, "MANAGE")], "run", "delete")


def test_the_experiment_must_stay_readable() -> None:
    assert not _allowed([("experiment", "*", "DENY"), ("run", "*", "MANAGE")], "run", "read")
    assert not _allowed([("run", "*", "MANAGE")], "run", "read", default=NO_PERMISSIONS)
    assert _allowed([("experiment", "07", "READ"), ("run", "*", "MANAGE")], "run", "delete",
                    default=NO_PERMISSIONS) is False  # stored ids are canonical: "07" never is
    assert _allowed([("experiment", EXP, "READ"), ("run", "*", "MANAGE")], "run", "delete",
                    default=NO_PERMISSIONS)


def test_wildcard_only_tiers_ignore_ids_and_creates_only_veto() -> None:
    assert not _allowed([("run", "abc", "EDIT")], "run", "update")  # never stored, never read
    create = tiers.create_in_experiment(EXP, "run")
    assert not tiers.all_met(create, [("run", "*", "MANAGE")], READ)  # no experiment UPDATE
    assert tiers.all_met(create, [("experiment", EXP, "EDIT"), ("run", "*", "READ")], READ)
    assert not tiers.all_met(create, [("experiment", EXP, "EDIT"), ("run", "*", "DENY")], READ)


def test_scorer_keys_are_canonical_and_percent_encoded() -> None:
    assert tiers.scorer_key("01", "a/b c") == "1/a%2Fb%20c"
    assert tiers.canonical_key("scorer", "01/x") == "1/x"
    need = tiers.Need("scorer", "1/x", "read")
    assert tiers.met(need, [("scorer", "1/x", "DENY"), ("scorer", "*", "MANAGE")], READ) is False
    assert tiers.met(need, [("scorer", "1/y", "DENY")], READ)

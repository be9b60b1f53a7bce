"""search_experiment_ids on SQLite, PostgreSQL and MariaDB against MLflow's own semantics.

The oracle is MLflow's in-memory experiment search (``SearchExperimentsUtils.filter``/``sort``)
over the same experiments; every query is read page by page and must equal the oracle's list.
Experiment ids stay below 10 because the in-memory search compares ids as strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from dbs import fresh_database

from trackd.errors import INVALID_PARAMETER_VALUE, MlflowError
from trackd.service.filters import parse_filter
from trackd.service.order_by import parse_order_by
from trackd.store import tables as T
from trackd.store.experiments_search import search_experiment_ids

entities = pytest.importorskip("mlflow.entities")
from mlflow.utils.search_utils import SearchExperimentsUtils  # noqa: E402

# id, name, lifecycle stage, creation_time, last_update_time, tags. Names mix case only after a
# distinct first letter, so every collation sorts them as Python does.
EXPERIMENTS: list[tuple[int, str, str, int | None, int | None, dict[str, str]]] = [
    (1, "alpha", "active", 5, 9, {"team": "alpha", "k": "v1"}),
    (2, "bravo", "active", 3, None, {"team": "Alpha"}),
    (3, "charlie-X", "active", None, 7, {}),
    (4, "delta", "deleted", 5, 7, {"team": "beta", "k": "v1"}),
    (5, "echo", "active", 8, 8, {"k": "v2"}),
    (6, "foxtrot", "active", 5, 2, {"team": "alpha"}),
    (7, "golf", "active", 1, 7, {"team": "ALPHA", "k": "v1"}),
    (8, "hotel_1", "active", None, None, {}),
    (9, "india", "deleted", 2, 3, {"team": "alpha"}),
]
STAGES = {"ACTIVE_ONLY": ("active",), "DELETED_ONLY": ("deleted",), "ALL": ("active", "deleted")}


@pytest.fixture(scope="module")
def engine(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    with fresh_database(db_kind, tmp_path_factory.mktemp(f"exp-search-{db_kind}")) as url:
        eng = sa.create_engine(url)
        try:
            T.metadata.create_all(eng)
            with eng.begin() as conn:
                for eid, name, stage, created, updated, tags in EXPERIMENTS:
                    conn.execute(
                        sa.insert(T.experiments).values(
                            experiment_id=eid, name=name, artifact_location="a",
                            lifecycle_stage=stage, creation_time=created, last_update_time=updated,
                        )
                    )  # fmt: skip
                    for key, value in tags.items():
                        conn.execute(
                            sa.insert(T.experiment_tags).values(
                                experiment_id=eid, key=key, value=value
                            )
                        )
            yield eng
        finally:
            eng.dispose()


def expected_ids(view: str, filt: str, order: list[str]) -> list[int]:
    found = [
        entities.Experiment(
            str(eid), name, "a", stage,
            [entities.ExperimentTag(k, v) for k, v in tags.items()], created, updated,
        )
        for eid, name, stage, created, updated, tags in EXPERIMENTS
        if stage in STAGES[view]
    ]  # fmt: skip
    # In SQL a NULL time satisfies no comparison; the in-memory search would raise on None.
    for clause in parse_filter("experiments", filt):
        if clause.key in ("creation_time", "last_update_time"):
            found = [e for e in found if getattr(e, clause.key) is not None]
    found = SearchExperimentsUtils.filter(found, filt)
    found = SearchExperimentsUtils.sort(found, order or ["creation_time DESC", "experiment_id"])
    return [int(e.experiment_id) for e in found]


def read_all(conn: sa.Connection, view: str, filt: str, order: list[str], size: int) -> list[int]:
    clauses, keys = parse_filter("experiments", filt), parse_order_by("experiments", order)
    out: list[int] = []
    token = None
    for _ in range(len(EXPERIMENTS) + 2):
        ids, token = search_experiment_ids(conn, clauses, view, keys, size, token)
        assert len(ids) <= size
        out += ids
        if token is None:
            return out
    raise AssertionError("paging never ended")


FILTERS = [
    "", "name = 'alpha'", "name = 'Alpha'", "name != 'alpha'", "name LIKE 'a%'", "name LIKE 'A%'",
    "name LIKE '%x'", "name ILIKE '%x'", "name ILIKE 'ALPHA'", "name LIKE 'hotel_1'",
    "name LIKE '%o'", "experiment_id = '3'", "experiment_id != '3'",
    "experiment_id IN ('1', '4', '7')", "experiment_id NOT IN ('1', '2')", "creation_time > 4",
    "creation_time <= 5", "last_update_time != 7", "last_update_time = 7",
    "tags.team = 'alpha'", "tags.team ILIKE 'ALPHA'", "tags.team LIKE 'A%'",
    "tags.team != 'alpha'", "tags.team IS NULL", "tags.team IS NOT NULL",
    "tags.team = 'alpha' AND creation_time > 2", "attributes.name LIKE '%o%' AND tags.k = 'v1'",
    "tags.k = 'v1' AND tags.team LIKE '%a'",
]  # fmt: skip
ORDERS = [
    [], ["name"], ["name DESC"], ["creation_time"], ["creation_time DESC"],
    ["last_update_time DESC", "name"], ["last_update_time"], ["experiment_id"],
    ["experiment_id DESC"], ["creation_time", "experiment_id DESC"],
]  # fmt: skip
CASES = [(f, []) for f in FILTERS] + [("", o) for o in ORDERS] + [("tags.k = 'v1'", ["name"])]


@pytest.mark.parametrize("view", ["ACTIVE_ONLY", "ALL"])
@pytest.mark.parametrize(("filt", "order"), CASES)
def test_pages_match_mlflow(engine: sa.Engine, view: str, filt: str, order: list[str]) -> None:
    expected = expected_ids(view, filt, order)
    with engine.connect() as conn:
        assert read_all(conn, view, filt, order, 1000) == expected
        assert read_all(conn, view, filt, order, 2) == expected


def test_deleted_only(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert read_all(conn, "DELETED_ONLY", "", [], 1) == expected_ids("DELETED_ONLY", "", [])


def test_exact_fit_has_no_next_page(engine: sa.Engine) -> None:
    total = len(expected_ids("ALL", "", []))
    with engine.connect() as conn:
        ids, token = search_experiment_ids(conn, (), "ALL", (), total, None)
    assert len(ids) == total and token is None


def test_tokens_belong_to_their_query(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        _, token = search_experiment_ids(conn, (), "ALL", (), 2, None)
        assert token
        other: list[tuple[Any, ...]] = [
            (parse_filter("experiments", "name = 'x'"), "ALL", ()),
            ((), "ACTIVE_ONLY", ()),
            ((), "ALL", parse_order_by("experiments", ["name"])),
        ]
        for clauses, view, keys in other:
            with pytest.raises(MlflowError) as info:
                search_experiment_ids(conn, clauses, view, keys, 2, token)
            assert info.value.code == INVALID_PARAMETER_VALUE
        with pytest.raises(MlflowError) as info:
            search_experiment_ids(conn, (), "ALL", (), 2, "garbage!")
        assert info.value.code == INVALID_PARAMETER_VALUE

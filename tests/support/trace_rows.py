"""A fresh database with MLflow's schema, and experiments and traces written straight into its
tables, for store tests that need exact rows (awkward values, NULLs, ties) rather than what an
API would make of them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from trackd.store import tables as T
from trackd.store.schema import create_schema


@contextlib.contextmanager
def schema_engine(kind: str, folder: Path) -> Iterator[sa.Engine]:
    """An engine on a fresh database of ``kind`` holding MLflow's schema, disposed after."""
    from dbs import fresh_database  # tests/ is on sys.path (see tests/conftest.py)

    with fresh_database(kind, folder) as url:
        engine = sa.create_engine(url)
        create_schema(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def insert_experiments(conn: sa.Connection, experiment_ids: Iterable[int]) -> None:
    for eid in experiment_ids:
        conn.execute(sa.insert(T.experiments).values(
            experiment_id=eid, name=f"e{eid}", artifact_location="a",
            lifecycle_stage="active", creation_time=0, last_update_time=0))


def insert_trace(conn: sa.Connection, trace: Mapping[str, Any]) -> None:
    """One ``trace_info`` row from ``trace``'s columns, and its ``tags`` and ``metadata``."""
    conn.execute(sa.insert(T.trace_info).values(
        **{k: v for k, v in trace.items() if k not in ("tags", "metadata")}))
    for table, pairs in ((T.trace_tags, trace["tags"]),
                         (T.trace_request_metadata, trace["metadata"])):
        for key, value in pairs.items():
            conn.execute(sa.insert(table).values(request_id=trace["request_id"], key=key,
                                                 value=value))

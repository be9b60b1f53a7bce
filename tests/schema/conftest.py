"""Fixtures of the schema tier: engines that always get disposed, and mlflow's own schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from dbs import fresh_database

from . import mlflow_side, snapshot

# Per-test timeout of this tier: a test may run mlflow's 70 migrations and several mlflow
# subprocesses, which on a loaded MySQL takes well over the suite's default of 600 s.
SLOW_TIMEOUT = 1800


@contextmanager
def engine_for(url: str) -> Iterator[sa.Engine]:
    # NullPool: no connection outlives its use, so dropping the database afterwards never waits.
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def take_snapshot(url: str, include_trackd: bool = False) -> dict[str, Any]:
    with engine_for(url) as engine:
        return snapshot.take(engine, include_trackd=include_trackd)


@dataclass(frozen=True)
class MlflowDatabase:
    url: str
    # The schema as mlflow 3.18 created it, taken before any test touched the database.
    snapshot: dict[str, Any]


@pytest.fixture(scope="session")
def mlflow_database(
    db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MlflowDatabase]:
    """A database of ``db_kind`` whose schema mlflow 3.18 created, made once per session.

    mlflow's 70 migrations take minutes on a busy MySQL, so one database serves both the
    reference snapshot and the test that opens an mlflow-built database in trackd.
    """
    tmp = tmp_path_factory.mktemp(f"mlflow-schema-{db_kind}")
    with fresh_database(db_kind, tmp) as url:
        mlflow_side.create_schema(url, tmp / "artifacts")
        yield MlflowDatabase(url, take_snapshot(url))


@pytest.fixture
def mlflow_snapshot(mlflow_database: MlflowDatabase) -> dict[str, Any]:
    return mlflow_database.snapshot

"""Group commit: units that share a transaction succeed or fail on their own.

Many units are queued at once so that the writer gathers them into groups; some of them write
a row and then fail. Every caller must get its own outcome, the failing units must leave
nothing behind, and every unit that was answered must be in the database exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from dbs import fresh_database

from trackd.errors import INVALID_PARAMETER_VALUE, MlflowError
from trackd.store import schema
from trackd.store.database import Database
from trackd.store.tables import experiments, tags
from trackd.store.tables import runs as runs_table


def _make_run(db: Database) -> str:
    run_id = uuid.uuid4().hex

    def work(conn: sa.Connection) -> None:
        conn.execute(
            sa.insert(experiments).values(
                experiment_id=1, name="e", lifecycle_stage="active", artifact_location="x"
            )
        )
        conn.execute(
            sa.insert(runs_table).values(
                run_uuid=run_id, experiment_id=1, lifecycle_stage="active", status="RUNNING",
                source_type="UNKNOWN", user_id="", start_time=0,
            )
        )

    db.write_sync(work)
    return run_id


def _unit(run_id: str, i: int, fail: bool):  # type: ignore[no-untyped-def]
    def work(conn: sa.Connection) -> int:
        conn.execute(sa.insert(tags).values(run_uuid=run_id, key=f"k{i}", value=str(i)))
        if fail:
            raise MlflowError(f"unit {i} refuses", INVALID_PARAMETER_VALUE)
        return i

    return work


def _duplicate_key(run_id: str) -> object:
    def work(conn: sa.Connection) -> None:
        row = {"run_uuid": run_id, "key": "dup", "value": "x"}
        conn.execute(sa.insert(tags).values(row))
        conn.execute(sa.insert(tags).values(row))  # IntegrityError inside the group

    return work


async def _fire(db: Database, run_id: str, n: int, with_duplicate: bool,
                gather: bool = False) -> list[object]:
    units = [_unit(run_id, i, fail=i % 7 == 3) for i in range(n)]
    calls = [db.write(u, gather=gather) for u in units]
    if with_duplicate:
        calls.insert(n // 2, db.write(_duplicate_key(run_id)))  # type: ignore[arg-type]
    return await asyncio.gather(*calls, return_exceptions=True)


# 200 units queued at once land in one or two groups (the writer takes what is queued);
# units that gather (span exports) go through the gathering writer, with the same rules.
@pytest.mark.parametrize("gather", [False, True], ids=["plain", "gathering"])
@pytest.mark.parametrize("with_duplicate", [False, True], ids=["mlflow-errors", "key-conflict"])
def test_failing_units_do_not_touch_their_group(
    db_kind: str, tmp_path: Path, with_duplicate: bool, gather: bool
) -> None:
    n = 200
    with fresh_database(db_kind, tmp_path) as url:
        db = Database(url)
        try:
            schema.create_schema(db.engine)
            run_id = _make_run(db)
            # A thread of its own: other tests of the session may leave an event loop running
            # in this one, where asyncio.run() refuses to start.
            with ThreadPoolExecutor(1) as pool:
                outcomes = pool.submit(
                    asyncio.run, _fire(db, run_id, n, with_duplicate, gather)).result()
            if with_duplicate:
                duplicate = outcomes.pop(n // 2)
                assert isinstance(duplicate, sa.exc.IntegrityError)
            expected_ok = {i for i in range(n) if i % 7 != 3}
            for i, outcome in enumerate(outcomes):
                if i in expected_ok:
                    assert outcome == i
                else:
                    assert isinstance(outcome, MlflowError) and f"unit {i} " in outcome.message
            with db.engine.connect() as conn:
                keys = conn.execute(
                    sa.select(tags.c.key).where(tags.c.run_uuid == run_id)
                ).scalars().all()
            assert sorted(keys) == sorted(f"k{i}" for i in expected_ok)
        finally:
            db.close()

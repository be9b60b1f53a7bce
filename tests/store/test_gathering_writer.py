"""Work that gathers (span exports): the writer may wait for the callers it expects, so that
they share one commit, but never answers before the commit and never holds other work back.

The waiting itself is timing; these tests hold the rules around it: what a wait takes from the
queue, what ends it, where gathering work runs, and that closing the database ends a writer
that is waiting.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa
from dbs import fresh_database

from trackd.store import database
from trackd.store.database import Database, _gather, _Job, _take_queued, _WakeUp


def _job(gather: bool = True) -> _Job:
    return _Job(lambda conn: None, None, None, gather)


def _queue(*jobs: _Job | None) -> queue.SimpleQueue[_Job | None]:
    q: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
    for job in jobs:
        q.put(job)
    return q


def test_a_wait_ends_when_the_expected_callers_are_in() -> None:
    first, queued = _job(), [_job(), _job(), _job()]
    q = _queue(*queued)
    group = [first]
    assert _gather(q, group, 3, 1.0)
    # What is queued joins (the group may pass the expected size).
    assert group == [first, *queued]
    assert q.empty()


def test_a_caller_queued_while_the_writer_waits_wakes_it_once_all_are_in() -> None:
    q = _queue()
    wake = _WakeUp()
    group = [_job()]
    later = [_job(), _job()]

    def callers() -> None:
        for job in later:
            while not wake.wanted:  # the writer is waiting
                pass
            q.put(job)
            wake.queued(q, True)

    thread = threading.Thread(target=callers)
    thread.start()
    assert _gather(q, group, 3, 30.0, wake)  # woken by the second caller, not the deadline
    thread.join()
    assert group[1:] == later and wake.wanted == 0


def test_work_that_does_not_gather_ends_the_wait_and_joins_with_what_is_queued() -> None:
    plain, after = _job(gather=False), _job()
    q = _queue(plain, after)
    group = [_job()]
    assert _gather(q, group, 10, 1.0)
    assert group[1:] == [plain, after]
    assert q.empty()


def test_a_stop_ends_the_wait() -> None:
    q = _queue(_job(), None)
    group = [_job()]
    assert not _gather(q, group, 10, 1.0)
    assert len(group) == 2


def test_a_wait_for_callers_that_never_come_ends() -> None:
    group = [_job()]
    assert _gather(_queue(), group, 2, 0.01)
    assert len(group) == 1


def test_taking_what_is_queued_stops_at_the_size_and_at_a_stop() -> None:
    jobs = [_job() for _ in range(3)]
    group: list[_Job] = []
    assert _take_queued(_queue(*jobs), group, 2) and group == jobs[:2]
    group = []
    assert not _take_queued(_queue(jobs[0], None, jobs[1]), group, 10) and group == jobs[:1]


def test_gathering_work_has_its_own_writer_on_server_databases(
    db_kind: str, tmp_path: Path
) -> None:
    with fresh_database(db_kind, tmp_path) as url:
        db = Database(url)
        try:
            async def names() -> tuple[str, str]:
                def name(conn: sa.Connection) -> str:
                    return threading.current_thread().name

                return await db.write(name), await db.write(name, gather=True)

            with ThreadPoolExecutor(1) as pool:
                plain, gathering = pool.submit(asyncio.run, names()).result()
            if db_kind == "sqlite":  # one writer: SQLite has one write lock
                assert plain == gathering == "trackd-writer-0"
            else:
                assert plain.startswith("trackd-writer-") and gathering == "trackd-writer-gathering"
        finally:
            db.close()


def test_closing_ends_a_writer_that_is_gathering(
    db_kind: str, tmp_path: Path, monkeypatch: object
) -> None:
    """Many callers at once (the writer then expects many), then one: on SQLite the writer
    waits for callers that do not come while the database closes (server databases' gathering
    writer does not wait); every caller is answered."""
    monkeypatch.setattr(database, "GATHER_WAIT", 30.0)  # type: ignore[attr-defined]
    with fresh_database(db_kind, tmp_path) as url:
        db = Database(url)
        released = threading.Event()

        def slow(conn: sa.Connection) -> int:
            released.wait(10)
            return 1

        async def callers() -> list[object]:
            # The first unit holds the writer while 20 more queue up: one group of 20, the
            # writer now expects 20; the last one then waits for callers that never come.
            first = asyncio.ensure_future(db.write(slow, gather=True))
            await asyncio.sleep(0.05)
            burst = [db.write(lambda conn: 2, gather=True) for _ in range(20)]
            released.set()
            answers = await asyncio.gather(first, *burst)
            last = asyncio.ensure_future(db.write(lambda conn: 3, gather=True))
            await asyncio.sleep(0.05)
            await asyncio.get_running_loop().run_in_executor(None, db.close)
            return [*answers, await asyncio.wait_for(last, 10)]

        with ThreadPoolExecutor(1) as pool:
            answers = pool.submit(asyncio.run, callers()).result()
        assert answers == [1] + [2] * 20 + [3]

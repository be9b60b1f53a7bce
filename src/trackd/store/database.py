"""The database: a read path, and a write path that groups concurrent writes into one commit.

Every request runs as one unit of work, ``fn(connection)``, inside a transaction: it either
happens whole or not at all. Reads run on a pool of threads. Writes go to writer threads that
take whatever work is queued, run the units inside one transaction and commit once ("group
commit"): under load, 32 concurrent ``log-metric`` calls cost one commit instead of 32. If any
unit fails, the group is rolled back and its units run again one by one, so that a failing
unit never touches the others.
A caller is answered only after the commit that holds its work, so nothing acknowledged can
be lost.

Work marked ``gather=True`` (small OTLP span exports: frequent, concurrent, and their commit
costs more than their statements) is grouped harder. On SQLite the commit is this process's
work (the WAL frames of every page the transaction touched, then ``fdatasync``), and
concurrent callers reach the writer a few hundred microseconds apart, so that groups held one
or two of them: the writer now waits a little for the callers it expects, as many as its
largest recent group held, at most ``GATHER_WAIT`` seconds (a lone client's groups hold one,
so it never waits). On a server database the several writers each took one of the callers that
came together, with a BEGIN and a COMMIT round trip each: that work has a writer of its own,
which takes what is queued without waiting (waiting saved no more there, and cost throughput).

SQLite gets one writer (it has one write lock anyway; several writers would only queue on it)
and ``BEGIN IMMEDIATE``, so that a transaction never has to upgrade a read lock into a write
lock, which can fail without waiting. Readers open their connections ``query_only``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import random
import re
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from trackd.errors import PERMISSION_DENIED, TEMPORARILY_UNAVAILABLE, MlflowError
from trackd.store.urls import normalize_database_url

T = TypeVar("T")
Work = Callable[[Connection], T]

log = logging.getLogger("trackd.database")

# Upper bound on units of work sharing one commit: keeps a transaction short enough that
# readers and other writers never wait long behind it.
MAX_GROUP = 256
# A whole group is retried unit by unit after a deadlock or a lost connection.
_RETRIES = 5
# How long the SQLite writer waits for the callers it expects to share a commit (``gather``).
GATHER_WAIT = 0.002
# A writer idle this long has no steady callers left to wait for: the next group starts alone.
_GATHER_IDLE = 0.05
# How long the largest recent group sets how many callers to wait for; then the size of the
# group in hand does (a caller that stopped writing costs waits for this long at most).
_PEAK_KEPT = 0.25
# WAL frames between automatic checkpoints (SQLite's default is 1,000). A checkpoint copies
# every page changed since the last one into the database file and syncs it; the pages a
# small transaction touches (the right edges of the time-ordered indexes, the tables' last
# pages) change in every commit, so a longer WAL copies each of them once for many commits.
_WAL_AUTOCHECKPOINT = 10_000


class _Job:
    """One unit of work in the writers' queue, and how to answer its caller."""

    __slots__ = ("fn", "loop", "future", "done", "result", "error", "gather")

    def __init__(
        self,
        fn: Callable[[Connection], Any],
        loop: asyncio.AbstractEventLoop | None,
        future: asyncio.Future[Any] | None,
        gather: bool = False,
    ) -> None:
        self.fn = fn
        self.gather = gather
        self.loop = loop
        self.future = future
        # Only a synchronous caller (CLI, start-up) waits on an event; requests use the future.
        self.done = threading.Event() if loop is None else None
        self.result: Any = None
        self.error: BaseException | None = None


_Queue = queue.SimpleQueue[_Job | None]


class Database:
    """Engine(s), the reader thread limiter, and the group-commit writers."""

    def __init__(self, url: str, *, read_only: bool = False, pool_size: int = 8) -> None:
        self.url = normalize_database_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self.read_only = read_only
        self.read_only_reason = ""
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(self.url, writer=True)
            self._reader = _sqlite_engine(self.url, writer=False)
            writers = 1
            self._gather_wait = GATHER_WAIT
        else:
            self.engine = create_engine(
                self.url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self._reader = self.engine
            writers = max(2, pool_size // 2)
            self._gather_wait = 0.0
        self._read_limiter = anyio.CapacityLimiter(pool_size * 2)
        self._queue: _Queue = queue.SimpleQueue()
        self._held = threading.local()
        self._wake = _WakeUp()  # SQLite's writer, while it waits for callers (``gather``)
        # (thread, the queue it serves)
        self._writers = [(threading.Thread(target=self._writer_loop, args=(self._queue,),
                                           name=f"trackd-writer-{i}", daemon=True), self._queue)
                         for i in range(writers)]
        if writers == 1:
            self._gather_queue = self._queue
        else:
            # Several writers would each take one of the callers that came together and
            # commit it alone: work that gathers has a writer of its own.
            self._gather_queue = queue.SimpleQueue()
            self._writers.append((threading.Thread(
                target=self._writer_loop, args=(self._gather_queue,),
                name="trackd-writer-gathering", daemon=True), self._gather_queue))
        for thread, _ in self._writers:
            thread.start()

    # -- public API ------------------------------------------------------------------------

    async def read(self, fn: Work[T]) -> T:
        return await anyio.to_thread.run_sync(self.read_sync, fn, limiter=self._read_limiter)

    def read_sync(self, fn: Work[T]) -> T:
        try:
            with self._reader.connect() as conn:
                return fn(conn)
        except OperationalError as exc:
            raise _unavailable(exc) from exc

    async def write(self, fn: Work[T], *, gather: bool = False) -> T:
        """Run ``fn`` in a write transaction; answered once it is committed. ``gather``: for
        frequent, concurrent, small writes whose commit costs more than their statements, which
        are grouped harder (SQLite's writer may wait up to ``GATHER_WAIT`` for other callers to
        share the commit; server databases have a writer for them alone)."""
        self._refuse_if_read_only()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        jobs = self._gather_queue if gather else self._queue
        jobs.put(_Job(fn, loop, future, gather))
        if self._wake.wanted:
            self._wake.queued(jobs, gather)
        return await future

    def write_sync(self, fn: Work[T]) -> T:
        """For the CLI and start-up: same path as requests, waited on by a plain thread."""
        self._refuse_if_read_only()
        job = _Job(fn, None, None)
        self._queue.put(job)
        self._wake.queued(self._queue, False)
        assert job.done is not None
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[no-any-return]

    def close(self) -> None:
        for _, jobs in self._writers:
            jobs.put(None)
        self._wake.event.set()
        for thread, _ in self._writers:
            thread.join(timeout=10)
        self.engine.dispose()
        if self._reader is not self.engine:
            self._reader.dispose()

    # -- writers ---------------------------------------------------------------------------

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise MlflowError(
                f"trackd is serving this database read-only: {self.read_only_reason}",
                PERMISSION_DENIED,
            )

    def _connect(self) -> contextlib.AbstractContextManager[Connection]:
        """The writer thread's connection. Each writer keeps one checked out between groups: a
        checkout pings a server database first (``pool_pre_ping``), which was one more round
        trip per group, and even on SQLite the pool's checkout and return cost more Python
        than a small group's statements. One that failed or was invalidated is replaced."""
        held: Connection | None = getattr(self._held, "conn", None)
        if held is None or held.closed or held.invalidated:
            if held is not None:
                held.close()
            held = self._held.conn = self.engine.connect()
        return contextlib.nullcontext(held)

    def _drop_connection(self) -> None:
        held: Connection | None = getattr(self._held, "conn", None)
        if held is not None:
            self._held.conn = None
            with contextlib.suppress(Exception):
                held.close()

    def _writer_loop(self, jobs: _Queue) -> None:
        try:
            self._take_groups(jobs)
        finally:
            self._drop_connection()

    def _take_groups(self, jobs: _Queue) -> None:
        # The largest group of the last moments: about how many callers are writing at once.
        # Not the last group's size: with four steady callers the writer would settle into
        # groups of two (two arrive while the other two commit) and never wait for four.
        peak, peak_at = 1, 0.0
        while True:
            idle_from = time.monotonic()
            job = jobs.get()
            if job is None:
                return
            now = time.monotonic()
            if now - idle_from > _GATHER_IDLE:
                peak = 1  # idle: nobody left to wait for
            group = [job]
            if not _take_queued(jobs, group, MAX_GROUP):
                jobs.put(None)  # let the loop end after this group
            elif self._gather_wait and len(group) < peak and all(j.gather for j in group) \
                    and not _gather(jobs, group, peak, self._gather_wait, self._wake):
                jobs.put(None)
            if len(group) >= peak or now - peak_at > _PEAK_KEPT:
                peak, peak_at = len(group), now
            self._run_group(group)

    def _run_group(self, group: list[_Job]) -> None:
        if len(group) == 1 or not self._commit_together(group):
            for job in group:
                self._commit_alone(job)

    def _commit_together(self, group: list[_Job]) -> bool:
        """Run every unit in one transaction; False (and nothing kept) if anything failed.

        No savepoint per unit: that would cost two statements (two round trips on a server
        database) per request on the happy path. A unit that raises (an MLflow error such as
        a deleted run, a key conflict, a bug) may have written part of its work, so the whole
        transaction is rolled back and every unit of the group runs again alone, where an
        error reaches its own caller only. The same happens when the transaction itself fails
        (deadlock, lost connection, failed commit). Errors are rare on the paths that group.
        """
        values: list[Any] = []
        try:
            with self._connect() as conn, conn.begin():
                for job in group:
                    values.append(job.fn(conn))
        except Exception as exc:
            if isinstance(exc, OperationalError):
                self._drop_connection()
            if isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError):
                log.warning(
                    "group commit of %d units failed, retrying one by one: %s", len(group), exc.orig
                )
            return False
        _settle_group(group, values)
        return True

    def _commit_alone(self, job: _Job) -> None:
        for attempt in range(_RETRIES):
            try:
                with self._connect() as conn, conn.begin():
                    value = job.fn(conn)
            except OperationalError as exc:
                self._drop_connection()
                if attempt + 1 < _RETRIES:
                    # Jittered, so that instances which deadlocked do not collide again.
                    time.sleep(0.05 * (attempt + 1) * (0.5 + random.random()))
                    continue
                _settle(job, None, _unavailable(exc))
            except BaseException as exc:
                _settle(job, None, exc)
            else:
                _settle(job, value, None)
            return


def _take_queued(jobs: _Queue, group: list[_Job], size: int) -> bool:
    """Add what is queued to ``group``, up to ``size`` units; False if a stop was taken."""
    while len(group) < size:
        try:
            more = jobs.get_nowait()
        except queue.Empty:
            return True
        if more is None:
            return False
        group.append(more)
    return True


class _WakeUp:
    """How a writer that waits for callers is woken: once they are all queued (or work that
    does not gather comes, or a stop), not at every caller. Each wake-up is a hand-off of the
    GIL between the event loop, busy with the next export, and the writer."""

    __slots__ = ("wanted", "event")

    def __init__(self) -> None:
        self.wanted = 0  # units the writer waits for; 0 when it is not waiting
        self.event = threading.Event()

    def queued(self, jobs: _Queue, gather: bool) -> None:
        """Called after a unit was queued."""
        wanted = self.wanted
        if wanted and (not gather or jobs.qsize() >= wanted):
            self.event.set()


def _gather(jobs: _Queue, group: list[_Job], size: int, wait: float,
            wake: _WakeUp | None = None) -> bool:
    """Wait up to ``wait`` seconds for ``group`` to reach ``size`` units (work that does not
    gather ends the wait); False if a stop was taken."""
    wake = wake or _WakeUp()
    wake.event.clear()
    deadline = time.monotonic() + wait
    try:
        while True:
            taken = len(group)
            if not _take_queued(jobs, group, MAX_GROUP):
                return False
            if len(group) >= size or not all(j.gather for j in group[taken:]):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            # Published before looking at the queue: a unit queued from here on sees it.
            wake.wanted = size - len(group)
            if jobs.qsize() < wake.wanted:
                wake.event.wait(left)
                wake.event.clear()
            wake.wanted = 0
    finally:
        wake.wanted = 0


def _settle(job: _Job, value: Any, error: BaseException | None) -> None:
    job.result, job.error = value, error
    if job.loop is None:
        assert job.done is not None
        job.done.set()
        return
    future = job.future
    assert future is not None

    def resolve() -> None:
        if future.done():  # the caller went away (client disconnected)
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    job.loop.call_soon_threadsafe(resolve)


def _settle_group(group: list[_Job], values: list[Any]) -> None:
    """Answer a committed group: one hand-off to each event loop for all of its callers (a
    wake-up of the loop per caller cost more than the callers' own statements)."""
    waiting: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job, value in zip(group, values, strict=True):
        job.result = value
        if job.loop is None:
            assert job.done is not None
            job.done.set()
        else:
            waiting.setdefault(job.loop, []).append(job)
    for loop, jobs in waiting.items():
        loop.call_soon_threadsafe(_resolve_all, jobs)


def _resolve_all(jobs: list[_Job]) -> None:
    for job in jobs:
        future = job.future
        assert future is not None
        if not future.done():  # the caller went away (client disconnected)
            future.set_result(job.result)


def insert_race_guard(conn: Connection) -> contextlib.AbstractContextManager[Any]:
    """Wraps an insert that a concurrent transaction may beat (the caller catches the
    IntegrityError and goes on): a savepoint, so that the failed insert leaves the transaction
    usable. SQLite needs none: it has one writer connection, and a failed statement there only
    undoes itself; the hot paths that use this (span ingest, start_trace) save two statements."""
    if conn.dialect.name == "sqlite":
        return contextlib.nullcontext()
    return conn.begin_nested()


def _unavailable(exc: DBAPIError) -> MlflowError:
    # 503 makes MLflow's client retry with backoff: right for a database that is restarting.
    return MlflowError(f"The database is unavailable: {exc.orig}", TEMPORARILY_UNAVAILABLE)


@functools.lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        with warnings.catch_warnings():  # FutureWarning for "[[" and the like
            warnings.simplefilter("ignore")
            return re.compile(pattern)
    except re.error:
        return None


def _regexp(pattern: Any, value: Any) -> bool:
    """SQLite's REGEXP, called once per row: the pattern is compiled once."""
    if not isinstance(pattern, str) or not isinstance(value, str):
        return False
    compiled = _pattern(pattern)
    return compiled is not None and compiled.search(value) is not None


def _sqlite_engine(url: str, *, writer: bool) -> Engine:
    engine = create_engine(
        url,
        # The writer thread keeps its one connection open; readers share a small pool.
        pool_size=1 if writer else 8,
        max_overflow=2 if writer else 8,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        if writer:
            cursor.execute(f"PRAGMA wal_autocheckpoint={_WAL_AUTOCHECKPOINT}")
        else:
            cursor.execute("PRAGMA query_only=1")
        cursor.close()
        # Trace filters' RLIKE (as MLflow's SQLite connections define it: a search, and a bad
        # pattern matches nothing).
        dbapi_conn.create_function("regexp", 2, _regexp, deterministic=True)

    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    def _do_begin(dbapi_conn: Any) -> None:
        # Straight on the driver's connection, where SQLAlchemy begins a transaction (so an
        # error is wrapped as any other): through a "begin" listener's exec_driver_sql, this
        # one statement cost as much Python as the two statements of a log-metric.
        dbapi_conn.driver_connection.execute(begin)

    engine.dialect.do_begin = _do_begin  # type: ignore[method-assign,assignment]

    return engine

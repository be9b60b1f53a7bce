"""SQL for metric points: the full history and the latest value per key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import isfinite
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)

from trackd.entities.metrics import Metric, from_stored, to_stored
from trackd.errors import not_found
from trackd.store.prepared import Prepared
from trackd.store.tables import latest_metrics, logged_model_metrics, logged_models, metrics, runs
from trackd.store.upsert import (
    NATIVE_DIALECTS,
    dialect_insert,
    ignoring_duplicates,
    insert_ignore,
    newer_than,
)

_M = metrics.c
_L = latest_metrics.c


def insert_points(conn: Connection, run_id: str, points: Sequence[Metric]) -> None:
    """Insert points (an exact repeat of a stored point is skipped) and move latest values.

    The latest value per key is the point with the largest (step, timestamp, value), as in
    MLflow; it is updated with a conditional upsert, so concurrent writers cannot regress it.
    Rows are plain tuples in ``_POINT_COLUMNS`` order: a batch holds up to 1,000 of them.
    """
    rows, latest = _point_rows(run_id, points)
    if len(rows) > 1 and conn.dialect.name == "postgresql":
        by_column = zip(_POINT_COLUMNS, zip(*rows, strict=True), strict=True)
        _PG_INSERT_MANY.run(conn, [{name: list(values) for name, values in by_column}])
    elif conn.dialect.name in NATIVE_DIALECTS:
        _INSERT_POINTS.run_tuples(conn, _POINT_COLUMNS, rows)
    else:
        insert_ignore(conn, metrics, [dict(zip(_POINT_COLUMNS, r, strict=True)) for r in rows])
    _raise_latest(conn, [dict(zip(_POINT_COLUMNS, r, strict=True)) for r in latest.values()])


def _point_rows(
    run_id: str, points: Sequence[Metric]
) -> tuple[list[tuple[Any, ...]], dict[str, tuple[Any, ...]]]:
    """Rows in ``_POINT_COLUMNS`` order, and the row of each key's latest point."""
    rows = []
    latest: dict[str, tuple[Any, ...]] = {}
    for point in points:
        value = point.value
        if isfinite(value):
            row = (point.key, value, point.timestamp, run_id, point.step, False)
        else:
            stored, is_nan = to_stored(value)
            row = (point.key, stored, point.timestamp, run_id, point.step, is_nan)
        rows.append(row)
        best = latest.get(point.key)
        if best is None or (row[4], row[2], row[1]) > (best[4], best[2], best[1]):
            latest[point.key] = row
    return rows, latest


_POINT_COLUMNS = ("key", "value", "timestamp", "run_uuid", "step", "is_nan")
_INSERT_POINTS = ignoring_duplicates(metrics, _POINT_COLUMNS)
_PG_INSERT_MANY = Prepared(
    lambda _dialect: text(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
        "SELECT * FROM unnest(CAST(:key AS VARCHAR[]), CAST(:value AS FLOAT8[]), "
        "CAST(:timestamp AS BIGINT[]), CAST(:run_uuid AS VARCHAR[]), CAST(:step AS BIGINT[]), "
        "CAST(:is_nan AS BOOLEAN[])) ON CONFLICT DO NOTHING"
    )
)


# PostgreSQL: the run check, the points and the latest values in one statement (one round
# trip per log-metric instead of three). Nothing is written unless the run is active; the run's
# state comes back so the caller raises MLflow's own errors. Data-modifying CTEs share one
# snapshot, which is all the separate statements had: the run check never locked the run.
_PG_LOG_CHECKED = Prepared(
    lambda _dialect: text(
        "WITH r AS (SELECT lifecycle_stage, experiment_id FROM runs WHERE run_uuid = :run_id), "
        "ok AS (SELECT 1 FROM r WHERE lifecycle_stage = 'active'), "
        "p AS (INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
        "SELECT u.key, u.value, u.timestamp, CAST(:run_id AS VARCHAR), u.step, u.is_nan "
        "FROM ok, unnest(CAST(:key AS VARCHAR[]), CAST(:value AS FLOAT8[]), "
        "CAST(:timestamp AS BIGINT[]), CAST(:step AS BIGINT[]), CAST(:is_nan AS BOOLEAN[])) "
        "AS u(key, value, timestamp, step, is_nan) "
        "ON CONFLICT DO NOTHING), "
        "l AS (INSERT INTO latest_metrics AS old (key, value, timestamp, step, is_nan, run_uuid) "
        "SELECT v.*, CAST(:run_id AS VARCHAR) FROM ok, "
        "unnest(CAST(:l_key AS VARCHAR[]), CAST(:l_value AS FLOAT8[]), "
        "CAST(:l_timestamp AS BIGINT[]), CAST(:l_step AS BIGINT[]), "
        "CAST(:l_is_nan AS BOOLEAN[])) AS v "
        "ON CONFLICT (key, run_uuid) DO UPDATE SET value = excluded.value, "
        "timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan "
        "WHERE (excluded.step, excluded.timestamp, excluded.value) "
        "> (old.step, old.timestamp, old.value)) "
        "SELECT lifecycle_stage, experiment_id FROM r"
    )
)


def insert_points_checked(
    conn: Connection, run_id: str, points: Sequence[Metric]
) -> tuple[str, int] | None:
    """PostgreSQL only: :func:`insert_points` for a run that is checked in the same statement.

    Returns the run's (lifecycle_stage, experiment_id), or None for no such run; the points
    were written only if the stage is active.
    """
    rows, latest = _point_rows(run_id, points)
    columns = list(zip(*rows, strict=True))
    best = list(zip(*latest.values(), strict=True))
    row = _PG_LOG_CHECKED.one(
        conn,
        run_id=run_id,
        key=list(columns[0]),
        value=list(columns[1]),
        timestamp=list(columns[2]),
        step=list(columns[4]),
        is_nan=list(columns[5]),
        l_key=list(best[0]),
        l_value=list(best[1]),
        l_timestamp=list(best[2]),
        l_step=list(best[4]),
        l_is_nan=list(best[5]),
    )
    return (row[0], row[1]) if row is not None else None


def _build_latest_if_active(dialect: str) -> Any:
    # The latest-value upsert of _build_raise_latest (MySQL form), fed by a SELECT on the run
    # that yields a row only while the run is active.
    active = (runs.c.run_uuid == bindparam("run_uuid"), runs.c.lifecycle_stage == _ACTIVE)
    source: Any = select(*[bindparam(c) for c in _LATEST_COLUMNS]).where(*active)
    my = dialect_insert(dialect, latest_metrics).from_select(list(_LATEST_COLUMNS), source)
    new = my.inserted
    newer = newer_than((new.step, new.timestamp, new.value), (_L.step, _L.timestamp, _L.value))
    return my.on_duplicate_key_update(
        [(c, case((newer, new[c]), else_=_L[c])) for c in ("is_nan", "value", "timestamp", "step")]
    )


_ACTIVE: Any = literal_column("'active'")  # not a bind parameter: rows carry only the columns
_LATEST_IF_ACTIVE = Prepared(_build_latest_if_active)


def insert_points_if_active(
    conn: Connection, run_id: str, points: Sequence[Metric], check_run: Callable[[], Any]
) -> None:
    """MariaDB: :func:`insert_points` with the caller's run check folded into the latest-value
    upsert when the points have one key (every log-metric): two statements instead of three.

    The upsert affects a row only if the run is active; when it affects none (no such run, an
    inactive one, or a stored latest value that did not move) ``check_run`` runs and raises for
    the first two, before any point is written.
    """
    rows, latest = _point_rows(run_id, points)
    if len(latest) != 1:
        check_run()
        insert_points(conn, run_id, points)
        return
    best = dict(zip(_POINT_COLUMNS, next(iter(latest.values())), strict=True))
    if _LATEST_IF_ACTIVE.count(conn, **best) < 1:
        check_run()
    _INSERT_POINTS.run_tuples(conn, _POINT_COLUMNS, rows)


def _order(row: dict[str, Any]) -> tuple[int, int, float]:
    return (row["step"], row["timestamp"], row["value"])


def _build_raise_latest(dialect: str) -> Any:
    values: dict[str, Any] = {c: bindparam(c) for c in _LATEST_COLUMNS}
    if dialect in ("mysql", "mariadb"):
        # MySQL applies ON DUPLICATE KEY assignments left to right, each seeing the columns
        # already assigned. Assigning is_nan and value before timestamp and step keeps every
        # condition equivalent to "the new point sorts after the stored one" (value can only
        # change when that holds, and then the later tests still hold or change nothing).
        my = dialect_insert(dialect, latest_metrics).values(values)
        new = my.inserted

        def when_newer(column: str) -> Any:
            cond = newer_than(
                (new.step, new.timestamp, new.value), (_L.step, _L.timestamp, _L.value)
            )
            return case((cond, new[column]), else_=_L[column])

        return my.on_duplicate_key_update(
            [(c, when_newer(c)) for c in ("is_nan", "value", "timestamp", "step")]
        )
    stmt = dialect_insert(dialect, latest_metrics).values(values)
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["key", "run_uuid"],
        set_={c: excluded[c] for c in ("value", "timestamp", "step", "is_nan")},
        where=newer_than(
            (excluded.step, excluded.timestamp, excluded.value),
            (_L.step, _L.timestamp, _L.value),
        ),
    )


_LATEST_COLUMNS = ("run_uuid", "key", "value", "timestamp", "step", "is_nan")
_RAISE_LATEST = Prepared(_build_raise_latest)


def _raise_latest(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name in NATIVE_DIALECTS:
        _RAISE_LATEST.run(conn, rows)
    else:
        _raise_latest_generic(conn, rows)


def _raise_latest_generic(conn: Connection, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        match = and_(_L.run_uuid == row["run_uuid"], _L.key == row["key"])
        current = conn.execute(
            select(_L.step, _L.timestamp, _L.value).where(match).with_for_update()
        ).first()
        if current is None:
            conn.execute(insert(latest_metrics).values(row))
        elif _order(row) > tuple(current):
            conn.execute(update(latest_metrics).where(match).values(row))


# (timestamp, step, stored value, is_nan): the driver's tuples, is_nan 0/1 where the database
# has no boolean (rebuilding 25,000 tuples per page only to make it a bool cost 5-10 ms).
HistoryRow = tuple[int, int, float, int]


def history(
    conn: Connection,
    run_id: str,
    key: str,
    *,
    limit: int | None = None,
    after: HistoryRow | None = None,
) -> list[HistoryRow]:
    """Rows of one metric ordered by (timestamp, step, value, is_nan) — MLflow's order —
    starting after a keyset position. Plain tuples: a history can hold millions of points."""
    # Compiled once per dialect and read through the driver's cursor: a 25,000-point page
    # spent more in SQLAlchemy's statement and row handling than in the database.
    values: dict[str, Any] = {"run_id": run_id, "key": key, "offset": 0,
                              "limit": _NO_LIMIT if limit is None else limit}
    if after is None:
        statement = _HISTORY_FIRST
    else:
        ts, step, value, is_nan = after
        values.update(after_ts=ts, after_step=step, after_value=value)
        statement = _HISTORY_AFTER_NAN if is_nan else _HISTORY_AFTER
        if not is_nan:
            values["nan"] = True
    return statement.all(conn, **values)


_NO_LIMIT = 2**63 - 1  # LIMIT must be a number on every dialect; no history is this long


def _build_history(after: str | None) -> Any:
    def build(_dialect: str) -> Any:
        query = (
            select(_M.timestamp, _M.step, _M.value, _M.is_nan)
            .where(_M.run_uuid == bindparam("run_id"), _M.key == bindparam("key"))
            .order_by(_M.timestamp, _M.step, _M.value, _M.is_nan)
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))  # named, or SQLite's compiler adds an unnamed one
        )
        if after is None:
            return query
        ts, step, value = bindparam("after_ts"), bindparam("after_step"), bindparam("after_value")
        same_point = and_(_M.timestamp == ts, _M.step == step, _M.value == value)
        later = [
            _M.timestamp > ts,
            and_(_M.timestamp == ts, _M.step > step),
            and_(_M.timestamp == ts, _M.step == step, _M.value > value),
        ]
        if after == "number":  # NaN (is_nan true) sorts after a stored 0 of the same point
            later.append(and_(same_point, _M.is_nan == bindparam("nan")))
        return query.where(or_(*later))

    return Prepared(build)


_HISTORY_FIRST = _build_history(None)
_HISTORY_AFTER = _build_history("number")
_HISTORY_AFTER_NAN = _build_history("nan")


def insert_model_points(
    conn: Connection, experiment_id: int, run_id: str, points: Sequence[Metric]
) -> None:

    # SQLite does not enforce the foreign key and the others would fail the whole unit with an
    # IntegrityError (a 500): check it, so an unknown model id is the same 404 everywhere.
    wanted = sorted({p.model_id for p in points if p.model_id})
    found = set(
        conn.execute(
            select(logged_models.c.model_id).where(logged_models.c.model_id.in_(wanted))
        ).scalars()
    )
    for model_id in wanted:
        if model_id not in found:
            raise not_found(f"Logged model with ID '{model_id}' not found.")
    insert_ignore(
        conn,
        logged_model_metrics,
        [
            {
                "model_id": p.model_id,
                "metric_name": p.key,
                "metric_timestamp_ms": p.timestamp,
                "metric_step": p.step,
                # Stored as MLflow stores it: NaN as 0, infinities as the largest doubles.
                "metric_value": to_stored(p.value)[0],
                "experiment_id": experiment_id,
                "run_id": run_id,
                "dataset_uuid": None,
                "dataset_name": p.dataset_name,
                "dataset_digest": p.dataset_digest,
            }
            for p in points
        ],
    )


def sample(
    conn: Connection,
    run_id: str,
    key: str,
    count: int,
    start_step: int | None,
    end_step: int | None,
) -> list[Metric]:
    """``count`` points spread over one metric's rows ordered by step: see ``sample_positions``."""
    where = [_M.run_uuid == run_id, _M.key == key]
    if start_step is not None and end_step is not None:
        where += [_M.step >= start_step, _M.step <= end_step]
    total = conn.execute(select(func.count()).select_from(metrics).where(*where)).scalar() or 0
    if total == 0:
        return []
    order = (_M.step, _M.timestamp, _M.value, _M.is_nan)
    picks = None if total <= count else sample_positions(total, count)
    numbered = (
        select(
            _M.timestamp,
            _M.step,
            _M.value,
            _M.is_nan,
            (func.row_number().over(order_by=order) - 1).label("rn"),
        )
        .where(*where)
        .subquery()
    )
    query = select(numbered.c.timestamp, numbered.c.step, numbered.c.value, numbered.c.is_nan)
    if picks is not None:
        query = query.where(numbered.c.rn.in_(bindparam("picks", expanding=True)))
    query = query.order_by(numbered.c.rn)
    rows = conn.execute(query, {"picks": picks} if picks is not None else {})
    return [Metric(key, from_stored(v, n), ts, st, run_id=run_id) for ts, st, v, n in rows]


def sample_positions(total: int, count: int) -> list[int]:
    """Which of ``total`` ordered rows (0-based) a chart sample of ``count`` points keeps.

    The same rows ``mlflow server`` 3.18 picks, so a chart looks the same on either server: the
    rows are cut into ``count`` runs of consecutive rows as SQL's NTILE cuts them (the first
    ``total % count`` runs one row longer), the first row of each run is kept, and the very last
    row replaces the final pick so the line always ends where the metric ends. ``count`` = 1
    thus gives the last row alone.
    """
    if total <= count:
        return list(range(total))
    size, longer = divmod(total, count)
    picks = [run * size + min(run, longer) for run in range(count)]
    picks[-1] = total - 1
    return picks

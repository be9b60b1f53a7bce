"""Trace info rows: writing a trace's info, tags and metadata, and reading them back whole.

SQL only; MLflow's semantics (which keys live in columns, the artifact location tag) are in
service/traces.py. ``load_trace_infos`` is the one reader: search, get and the auth layer's
lookups all go through trace ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from trackd.entities.traces import TraceInfo
from trackd.store.prepared import Prepared
from trackd.store.tables import (
    entity_associations,
    trace_info,
    trace_request_metadata,
    trace_tags,
)
from trackd.store.upsert import dialect_insert

_T, _tags, _meta = trace_info.c, trace_tags.c, trace_request_metadata.c

COLUMN_NAMES = tuple(c.name for c in trace_info.columns if c.name != "db_payload_generation")


# A trace's row, tags and metadata are written on every span export that starts a trace, and
# its experiment is looked up on every export: compiled once (trackd.store.prepared).
_INSERT_INFO = Prepared(lambda _dialect: insert(trace_info).values(
    {name: bindparam(name) for name in COLUMN_NAMES}))
_INSERT_TAG = Prepared(lambda _dialect: insert(trace_tags).values(
    request_id=bindparam("request_id"), key=bindparam("key"), value=bindparam("value")),
    multi_row=True)
_INSERT_METADATA = Prepared(lambda _dialect: insert(trace_request_metadata).values(
    request_id=bindparam("request_id"), key=bindparam("key"), value=bindparam("value")),
    multi_row=True)
_KEY_VALUE = ("request_id", "key", "value")
_EXPERIMENT_OF = Prepared(lambda _dialect: select(_T.experiment_id).where(
    _T.request_id == bindparam("trace_id")))
_EXPERIMENT_OF_LOCKED = Prepared(lambda _dialect: select(_T.experiment_id).where(
    _T.request_id == bindparam("trace_id")).with_for_update())


def insert_trace(conn: Connection, row: dict[str, Any], tags: dict[str, str],
                 metadata: dict[str, str]) -> None:
    unknown = row.keys() - set(COLUMN_NAMES)
    if unknown:
        raise ValueError(f"not columns of trace_info: {sorted(unknown)}")
    # Columns the row leaves out are NULL, as an INSERT naming only the others would leave them.
    _INSERT_INFO.run(conn, [{name: row.get(name) for name in COLUMN_NAMES}])
    insert_children(conn, row["request_id"], tags, metadata)


def insert_children(conn: Connection, rid: str, tags: dict[str, str],
                     metadata: dict[str, str]) -> None:
    if tags:
        _INSERT_TAG.run_tuples(conn, _KEY_VALUE, [(rid, k, v) for k, v in tags.items()])
    if metadata:
        _INSERT_METADATA.run_tuples(conn, _KEY_VALUE, [(rid, k, v) for k, v in metadata.items()])


# Span ingest's insert of a trace it has not seen: PostgreSQL and SQLite skip a row that a
# concurrent transaction inserted first (ON CONFLICT DO NOTHING, told by the row count), so the
# transaction needs no savepoint around it (two round trips on PostgreSQL).
_INSERT_NEW_INFO = Prepared(lambda dialect: dialect_insert(dialect, trace_info).values(
    {name: bindparam(name) for name in COLUMN_NAMES}).on_conflict_do_nothing(
        index_elements=["request_id"]))
_SKIPS_CONFLICTS = ("postgresql", "sqlite")


def insert_new_trace(conn: Connection, row: dict[str, Any], tags: dict[str, str],
                     metadata: dict[str, str]) -> bool:
    """insert_trace for a trace that a concurrent transaction may insert first: False, with
    nothing written and the transaction still usable, when the trace exists."""
    if conn.dialect.name not in _SKIPS_CONFLICTS:
        try:
            with conn.begin_nested():  # a failed insert must leave the transaction usable
                insert_trace(conn, row, tags, metadata)
        except IntegrityError:
            return False
        return True
    unknown = row.keys() - set(COLUMN_NAMES)
    if unknown:
        raise ValueError(f"not columns of trace_info: {sorted(unknown)}")
    if not _INSERT_NEW_INFO.count(conn, **{name: row.get(name) for name in COLUMN_NAMES}):
        return False
    insert_children(conn, row["request_id"], tags, metadata)
    return True


_DELETE_TAG = Prepared(lambda _dialect: delete(trace_tags).where(
    _tags.request_id == bindparam("request_id"), _tags.key == bindparam("key")))
_DELETE_METADATA = Prepared(lambda _dialect: delete(trace_request_metadata).where(
    _meta.request_id == bindparam("request_id"), _meta.key == bindparam("key")))


def update_trace(conn: Connection, row: dict[str, Any], tags: dict[str, str],
                 metadata: dict[str, str]) -> None:
    """A trace sent again (a client retrying after a lost answer, or its info after its spans):
    its columns are replaced, the tags and metadata it carries are set, the rest (and its
    spans) stay."""
    rid = row["request_id"]
    values = {k: v for k, v in row.items() if k != "request_id"}
    if values:
        conn.execute(update(trace_info).where(_T.request_id == rid).values(**values))
    for remove, add, pairs in ((_DELETE_TAG, _INSERT_TAG, tags),
                               (_DELETE_METADATA, _INSERT_METADATA, metadata)):
        if pairs:
            remove.run_tuples(conn, ("request_id", "key"), [(rid, k) for k in pairs])
            add.run_tuples(conn, _KEY_VALUE, [(rid, k, v) for k, v in pairs.items()])


# Reading traces back whole (every get, search page and start_trace answer): compiled once,
# rows taken as the driver's tuples.
_LOAD_INFO = Prepared(lambda _dialect: select(*(trace_info.c[n] for n in COLUMN_NAMES)).where(
    _T.request_id.in_(bindparam("ids", expanding=True))))
_LOAD_TAGS = Prepared(lambda _dialect: select(_tags.request_id, _tags.key, _tags.value).where(
    _tags.request_id.in_(bindparam("ids", expanding=True))))
_LOAD_METADATA = Prepared(lambda _dialect: select(_meta.request_id, _meta.key, _meta.value)
                          .where(_meta.request_id.in_(bindparam("ids", expanding=True))))


# SQLite: each trace's tags and metadata come with its row, gathered by SQLite into one JSON
# object per trace (a search page's ~1,300 tag and metadata rows were the larger part of an
# info-only search's CPU, most of it making a Python tuple and three strings per row). Each
# subquery reads its rows through MLflow's ``request_id`` index, the plan of the IN query the
# other databases run, so keys come in the same order.
def _gathered(table: Any) -> Any:
    c = table.c
    return (select(func.json_group_object(c.key, c.value)).where(c.request_id == _T.request_id)
            .scalar_subquery())


_LOAD_WHOLE = Prepared(lambda _dialect: select(
    *(trace_info.c[n] for n in COLUMN_NAMES), _gathered(trace_tags),
    _gathered(trace_request_metadata)).where(_T.request_id.in_(bindparam("ids", expanding=True))))
_N_COLUMNS = len(COLUMN_NAMES)


def _gathers_json(conn: Connection) -> bool:
    # SQLite has its JSON functions built in since 3.38 (before, only when compiled with them).
    dialect = conn.dialect
    return dialect.name == "sqlite" and \
        getattr(dialect.loaded_dbapi, "sqlite_version_info", (0,)) >= (3, 38)


def string_map(text: str | None) -> dict[str, str]:
    """SQLite's JSON object of a trace's tags or metadata as a dict (a NULL value reads as the
    empty string, as the row-by-row read gives it)."""
    found: dict[str, Any] = orjson.loads(text) if text else {}
    if None in found.values():  # a NULL value reads as the empty string, as below
        return {k: "" if v is None else v for k, v in found.items()}
    return found


def _load_rows_sqlite(conn: Connection, ids: list[str]) -> dict[str, tuple[dict[str, Any],
                                                                          dict[str, str],
                                                                          dict[str, str]]]:
    return {r[0]: (dict(zip(COLUMN_NAMES, r[:_N_COLUMNS], strict=True)),
                   string_map(r[_N_COLUMNS]), string_map(r[_N_COLUMNS + 1]))
            for r in _LOAD_WHOLE.all_for_ids(conn, ids)}


def load_rows(conn: Connection, trace_ids: Sequence[str]) -> list[tuple[dict[str, Any],
                                                                       dict[str, str],
                                                                       dict[str, str]]]:
    """(columns, tags, metadata) per trace, in the order of ``trace_ids``; unknown ids skipped."""
    if not trace_ids:
        return []
    ids = list(dict.fromkeys(trace_ids))
    whole = _load_rows_sqlite(conn, ids) if _gathers_json(conn) else load_rows_apart(conn, ids)
    return [whole[i] for i in trace_ids if i in whole]


# Answers written straight as JSON (a search page's infos, service/trace_infos_json.py): on
# SQLite, a trace's tags and metadata go out as the JSON text SQLite gathered, where that text
# is what orjson would write for the same dict. Both quote strings the same way here (SQLite
# 3.40: every code point checked, tests/store/test_trace_reads_store.py); a SQLite that writes
# them otherwise is found out by a probe of every ASCII character and a few others, once per
# process, and has its text parsed.
Pairs = dict[str, str] | str  # tags or metadata: a dict, or SQLite's JSON text of one
_PROBE = "".join(map(chr, range(128))) + "\u00e9\u2713\U0001d11e\u2028\u2029\ufeff\U0010ffff"
_writes_orjsons: bool | None = None


def sqlite_writes_orjsons(conn: Connection) -> bool:
    """Whether this SQLite writes a JSON object of strings exactly as orjson does."""
    global _writes_orjsons
    if _writes_orjsons is None:
        probe = [(_PROBE, _PROBE), ("a", ""), ("\"'", "/\\")]
        found = conn.exec_driver_sql(
            "SELECT json_group_object(k, v) FROM (SELECT ? AS k, ? AS v UNION ALL "
            "SELECT ?, ? UNION ALL SELECT ?, ?)", tuple(x for pair in probe for x in pair)
        ).scalar()
        _writes_orjsons = found == orjson.dumps(dict(probe)).decode()
    return _writes_orjsons


def _pairs(text: str | None) -> Pairs:
    if not text:
        return "{}"
    if ":null" in text:  # maybe a NULL value (or a value spelling one): read as a dict
        return string_map(text)
    return text


def load_json_rows(conn: Connection, trace_ids: Sequence[str]) -> list[tuple[tuple[Any, ...],
                                                                            Pairs, Pairs]]:
    """load_rows for answers written straight as JSON: each trace's row a tuple in
    ``COLUMN_NAMES`` order, its tags and metadata dicts or (on SQLite, see
    ``sqlite_writes_orjsons``) the JSON text of one."""
    if not trace_ids:
        return []
    ids = list(dict.fromkeys(trace_ids))
    if _gathers_json(conn) and sqlite_writes_orjsons(conn):
        n = _N_COLUMNS
        whole: dict[str, Any] = {r[0]: (r[:n], _pairs(r[n]), _pairs(r[n + 1]))
                                 for r in _LOAD_WHOLE.all_for_ids(conn, ids)}
    else:
        rows = _load_rows_sqlite(conn, ids) if _gathers_json(conn) else load_rows_apart(conn, ids)
        whole = {i: (tuple(columns.values()), tags, metadata)
                 for i, (columns, tags, metadata) in rows.items()}
    return [whole[i] for i in trace_ids if i in whole]


def load_rows_apart(conn: Connection, ids: list[str]) -> dict[str, tuple[dict[str, Any],
                                                                        dict[str, str],
                                                                        dict[str, str]]]:
    """load_rows' traces by id, their rows, tags and metadata read by three statements."""
    rows = {r[0]: dict(zip(COLUMN_NAMES, r, strict=True))
            for r in _LOAD_INFO.all_for_ids(conn, ids)}
    tags: dict[str, dict[str, str]] = {i: {} for i in rows}
    metadata: dict[str, dict[str, str]] = {i: {} for i in rows}
    for rid, key, value in _LOAD_TAGS.all_for_ids(conn, ids):
        tags[rid][key] = value if value is not None else ""
    for rid, key, value in _LOAD_METADATA.all_for_ids(conn, ids):
        metadata[rid][key] = value if value is not None else ""
    return {i: (row, tags[i], metadata[i]) for i, row in rows.items()}


def set_tag(conn: Connection, trace_id: str, key: str, value: str) -> None:
    found = conn.execute(update(trace_tags).where(_tags.request_id == trace_id,
                                                  _tags.key == key).values(value=value))
    if found.rowcount == 0:
        conn.execute(insert(trace_tags).values(request_id=trace_id, key=key, value=value))


def delete_tag(conn: Connection, trace_id: str, key: str) -> int:
    return int(conn.execute(delete(trace_tags).where(_tags.request_id == trace_id,
                                                     _tags.key == key)).rowcount)


def set_trace_name(conn: Connection, trace_id: str, name: str | None) -> None:
    conn.execute(update(trace_info).where(_T.request_id == trace_id).values(trace_name=name))


def existing_ids(conn: Connection, trace_ids: Sequence[str]) -> list[str]:
    found = set(conn.scalars(select(_T.request_id).where(_T.request_id.in_(list(trace_ids)))))
    return [i for i in trace_ids if i in found]


def _link(conn: Connection, destination_type: str, pairs: Sequence[tuple[str, str]],
          now_ms: int) -> None:
    """MLflow's links from traces (``entity_associations``): (trace id, destination id)
    pairs; links that exist are kept."""
    _e = entity_associations.c
    wanted = list(dict.fromkeys(pairs))
    linked = {(source, destination) for source, destination in conn.execute(
        select(_e.source_id, _e.destination_id).where(
            _e.source_type == "trace", _e.destination_type == destination_type,
            _e.source_id.in_({t for t, _ in wanted}),
            _e.destination_id.in_({d for _, d in wanted})))}
    rows = [{"association_id": uuid.uuid4().hex, "source_type": "trace", "source_id": t,
             "destination_type": destination_type, "destination_id": d, "created_time": now_ms}
            for t, d in wanted if (t, d) not in linked]
    if rows:
        conn.execute(insert(entity_associations), rows)


def link_to_run(conn: Connection, trace_ids: Sequence[str], run_id: str, now_ms: int) -> None:
    _link(conn, "run", [(t, run_id) for t in trace_ids], now_ms)


def link_prompts(conn: Connection, trace_id: str, prompt_ids: Sequence[str],
                 now_ms: int) -> None:
    """Prompt versions are linked as ``name/version``."""
    _link(conn, "prompt_version", [(trace_id, p) for p in prompt_ids], now_ms)


def metadata_value(conn: Connection, trace_id: str, key: str) -> str | None:
    found = conn.scalar(select(_meta.value).where(_meta.request_id == trace_id, _meta.key == key))
    return None if found is None else str(found)


def experiment_of(conn: Connection, trace_id: str, *, lock: bool = False) -> int | None:
    """The trace's experiment. ``lock``: a locking read, which sees a row another transaction
    committed a moment ago (MySQL's repeatable-read snapshot would not) and holds the row until
    commit, so that span ingest and ``start_trace`` for one trace take turns."""
    found = (_EXPERIMENT_OF_LOCKED if lock else _EXPERIMENT_OF).one(conn, trace_id=trace_id)
    return None if found is None else int(found[0])


def ids_to_delete(conn: Connection, experiment_id: int, *, trace_ids: Sequence[str] | None,
                  max_timestamp_ms: int | None, max_traces: int | None) -> list[str]:
    """The traces of one experiment a delete-traces call names: by id, or the oldest ones
    before a time (at most ``max_traces`` of them)."""
    query = select(_T.request_id).where(_T.experiment_id == experiment_id)
    if trace_ids is not None:
        query = query.where(_T.request_id.in_(list(trace_ids)))
    if max_timestamp_ms is not None:
        query = query.where(_T.timestamp_ms <= max_timestamp_ms)
    query = query.order_by(_T.timestamp_ms, _T.request_id)
    if max_traces is not None:
        query = query.limit(max_traces)
    return [r[0] for r in conn.execute(query)]


# Every table keyed by a trace, children before parents: not every database enforces the
# ON DELETE CASCADE MLflow declares (SQLite without its foreign-key pragma does not).
TRACE_CHILDREN = (("span_metrics", "trace_id"), ("spans", "trace_id"),
                  ("assessments", "trace_id"), ("trace_metrics", "request_id"),
                  ("trace_tags", "request_id"), ("trace_request_metadata", "request_id"))


def delete_traces(conn: Connection, trace_ids: Sequence[str]) -> int:
    """Delete traces with everything keyed by them (spans, assessments, tags, metadata)."""
    if not trace_ids:
        return 0
    ids = list(trace_ids)
    for name, column in TRACE_CHILDREN:
        child = sa.table(name, sa.column(column))
        conn.execute(delete(child).where(child.c[column].in_(ids)))
    # Review-queue items name their trace without a foreign key; MLflow drops them with the
    # trace, so a queue never offers a trace that is gone.
    items = sa.table("review_queue_items", sa.column("item_type"), sa.column("item_id"))
    conn.execute(delete(items).where(items.c.item_type == "trace", items.c.item_id.in_(ids)))
    return int(conn.execute(delete(trace_info).where(_T.request_id.in_(ids))).rowcount)


def to_entity(columns: dict[str, Any], tags: dict[str, str],
              metadata: dict[str, str]) -> TraceInfo:
    return TraceInfo(
        trace_id=columns["request_id"],
        experiment_id=int(columns["experiment_id"]),
        request_time_ms=int(columns["timestamp_ms"]),
        execution_ms=None if columns["execution_time_ms"] is None
        else int(columns["execution_time_ms"]),
        state=columns["status"],
        client_request_id=columns["client_request_id"],
        request_preview=columns["request_preview"],
        response_preview=columns["response_preview"],
        metadata=metadata,
        tags=tags,
    )

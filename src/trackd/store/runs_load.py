"""Whole runs (info, latest metrics, params, tags, inputs, outputs) in one query per table.

A page of search results loads 100 runs at once, so this is on the hot path of ``runs/search``
and of the UI's runs table. Measured costs it avoids: building the statements per call with a
hundred ids coerced one by one, fetching rows one at a time, sorting children under the
database's (linguistic) collation, and on PostgreSQL a hundred bind parameters that the driver
re-parses every time (there the ids travel as one array: ``= ANY(%(ids)s)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Connection, String, any_, bindparam, literal_column, or_, select

from trackd.entities.metrics import Metric, from_stored, isfinite, metric_value_out
from trackd.entities.runs import Dataset, DatasetInput, Run, RunInfo
from trackd.store.prepared import Prepared
from trackd.store.tables import datasets, input_tags, inputs, latest_metrics, params, runs, tags

_R, _m, _p, _t, _i, _d, _it = (
    runs.c,
    latest_metrics.c,
    params.c,
    tags.c,
    inputs.c,
    datasets.c,
    input_tags.c,
)
INFO_COLUMNS = (
    _R.run_uuid,
    _R.experiment_id,
    _R.name,
    _R.user_id,
    _R.status,
    _R.start_time,
    _R.end_time,
    _R.artifact_uri,
    _R.lifecycle_stage,
)
_by_key = attrgetter("key")
_first = itemgetter(0)
_second = itemgetter(1)
_NO_INFO = RunInfo("", 0, None, None, None, None, None, None, None)


@dataclass(frozen=True)
class _Statements:
    info: Prepared
    metrics: Prepared
    params: Prepared
    tags: Prepared
    datasets: Prepared
    input_tags: Prepared
    model_links: Prepared


@cache
def _statements(dialect: str) -> _Statements:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY  # only PostgreSQL servers load it

        ids: Any = bindparam("ids", type_=ARRAY(String))

        def one_of(column: Any) -> Any:
            return column == any_(ids)
    else:
        ids = bindparam("ids", expanding=True)

        def one_of(column: Any) -> Any:
            return column.in_(ids)

    # Every statement is compiled once and takes ``ids`` as its only bound value (constants
    # are written into the SQL): building and compiling a hundred-id IN per call was a fixed
    # cost of every search page, as large as fetching the page's params.
    return _Statements(
        info=_prepared(select(*INFO_COLUMNS).where(one_of(_R.run_uuid))),
        metrics=_prepared(
            select(_m.run_uuid, _m.key, _m.value, _m.timestamp, _m.step, _m.is_nan).where(
                one_of(_m.run_uuid)
            )
        ),
        params=_prepared(select(_p.run_uuid, _p.key, _p.value).where(one_of(_p.run_uuid))),
        tags=_prepared(select(_t.run_uuid, _t.key, _t.value).where(one_of(_t.run_uuid))),
        datasets=_prepared(select(
            _i.input_uuid,
            _i.destination_id,
            _d.name,
            _d.digest,
            _d.dataset_source_type,
            _d.dataset_source,
            _d.dataset_schema,
            _d.dataset_profile,
        )
        .join(datasets, _d.dataset_uuid == _i.source_id)
        .where(_i.destination_type == literal_column("'RUN'"), one_of(_i.destination_id))),
        input_tags=_prepared(
            select(_it.input_uuid, _it.name, _it.value).where(one_of(_it.input_uuid))
        ),
        model_links=_prepared(
            select(_i.source_type, _i.source_id, _i.destination_id, _i.step).where(
                or_(_i.source_type == literal_column("'RUN_INPUT'"),
                    _i.source_type == literal_column("'RUN_OUTPUT'")),
                one_of(_i.source_id),
            )
        ),
    )


def _prepared(statement: Any) -> Prepared:
    return Prepared(lambda _dialect: statement)  # _statements is already per dialect


def load_runs(conn: Connection, run_ids: Sequence[str]) -> list[Run]:
    """Whole runs in the order of ``run_ids`` (unknown ids are skipped); children by key."""
    if not run_ids:
        return []
    sql = _statements(conn.dialect.name)
    if conn.dialect.name == "postgresql":
        # Fetching the children of 100 runs is an index lookup whatever the statistics say,
        # but right after bulk logging, before autovacuum has analyzed the tables, PostgreSQL
        # estimates thousands of matches and scans whole tables instead (28 ms instead of 1
        # for the params of a page over 10,000 runs). SET LOCAL ends with this transaction.
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    ids = list(run_ids)
    found = {row[0]: Run(RunInfo(*row)) for row in sql.info.all_for_ids(conn, ids)}
    if not found:
        return []
    present = {"ids": list(found)}
    # The three big reads of a page (a few thousand rows for 100 runs) go through the driver:
    # SQLAlchemy's result processing of them cost about as much as SQLite's own work.
    for run_id, key, value, ts, step, is_nan in sql.metrics.all_for_ids(conn, present["ids"]):
        found[run_id].metrics.append(Metric(key, from_stored(value, is_nan), ts or 0, step))
    for run_id, key, value in sql.params.all_for_ids(conn, present["ids"]):
        found[run_id].params.append((key, value))
    for run_id, key, value in sql.tags.all_for_ids(conn, present["ids"]):
        found[run_id].tags.append((key, value))
    for run in found.values():
        run.metrics.sort(key=_by_key)
        run.params.sort()
        run.tags.sort(key=_first)
    _load_io(conn, sql, found, present)
    return [found[i] for i in ids if i in found]


def load_runs_json(conn: Connection, run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """``[run.to_json() for run in load_runs(conn, run_ids)]``, built straight from the driver's
    rows: a search page holds some 3,500 params, metrics and tags, and making an entity of
    each only to turn it into a dict again was a third of the page's Python time."""
    if not run_ids:
        return []
    sql = _statements(conn.dialect.name)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # see load_runs
    ids = list(run_ids)
    datas: dict[str, dict[str, Any]] = {}
    found: dict[str, dict[str, Any]] = {}
    for row in sql.info.all_for_ids(conn, ids):
        data: dict[str, Any] = {}
        datas[row[0]] = data
        found[row[0]] = {"info": RunInfo(*row).to_json(), "data": data}
    if not found:
        return []
    present = list(found)
    # Children come in the database's order; one stable sort of the page by key gives every
    # run its children by key (code point order, as load_runs sorts them).
    metrics = sql.metrics.all_for_ids(conn, present)
    metrics.sort(key=_second)
    by_run = _lists(present)
    for run_id, key, value, ts, step, is_nan in metrics:
        by_run[run_id].append({
            "key": key,
            "value": "NaN" if is_nan else value if isfinite(value) else metric_value_out(value),
            "timestamp": ts or 0,
            "step": step,
        })
    _attach(datas, "metrics", by_run)
    for name, statement in (("params", sql.params), ("tags", sql.tags)):
        rows = statement.all_for_ids(conn, present)
        rows.sort(key=_second)
        by_run = _lists(present)
        for run_id, key, value in rows:
            by_run[run_id].append({"key": key, "value": value if value is not None else ""})
        _attach(datas, name, by_run)
    # Inputs and outputs are rare (most runs have none): the entities' own JSON serves.
    runs = {run_id: Run(_NO_INFO) for run_id in present}
    _load_io(conn, sql, runs, {"ids": present})
    for run_id, run in runs.items():
        out = found[run_id]
        out["inputs"] = run.inputs_json()
        out["outputs"] = run.outputs_json()
    return [found[i] for i in ids if i in found]


def _lists(run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    return {run_id: [] for run_id in run_ids}


def _attach(
    datas: dict[str, dict[str, Any]], name: str, by_run: dict[str, list[dict[str, Any]]]
) -> None:
    for run_id, items in by_run.items():
        if items:
            datas[run_id][name] = items


def _dataset_order(entry: DatasetInput) -> tuple[str, str]:
    return (entry.dataset.name, entry.dataset.digest)


def _load_io(
    conn: Connection, sql: _Statements, found: dict[str, Run], present: dict[str, list[str]]
) -> None:
    """Dataset inputs, model inputs and model outputs, all kept in the ``inputs`` table."""
    dataset_inputs: dict[str, DatasetInput] = {}
    for input_uuid, run_id, name, digest, source_type, source, schema, profile in (
        sql.datasets.all_for_ids(conn, present["ids"])
    ):
        entry = DatasetInput(Dataset(name, digest, source_type, source, schema, profile))
        dataset_inputs[input_uuid] = entry
        found[run_id].dataset_inputs.append(entry)
    if dataset_inputs:
        # The inputs table keeps no logging order and the databases return a run's datasets in
        # whatever order their plan gives (PostgreSQL's differs between one run and a page):
        # by name and digest, so runs/get and every search page agree.
        for run in found.values():
            if len(run.dataset_inputs) > 1:
                run.dataset_inputs.sort(key=_dataset_order)
        for input_uuid, name, value in sql.input_tags.all_for_ids(conn, list(dataset_inputs)):
            dataset_inputs[input_uuid].tags.append((name, value))
        for entry in dataset_inputs.values():
            entry.tags.sort(key=_first)
    for source_type, run_id, model_id, step in sql.model_links.all_for_ids(conn, present["ids"]):
        if source_type == "RUN_INPUT":
            found[run_id].model_inputs.append(model_id)
        else:
            found[run_id].model_outputs.append((model_id, step or 0))

"""A search page's trace infos as JSON straight from the database rows (``traces/search``).

The reference is ``TraceInfo.to_json`` of the entity ``service.traces._entity`` builds from
``store.traces.load_rows``; each info here is the same dict (same keys, same order) built from
the row's tuple, with no entity and no column dict in between. On SQLite a trace's tags and
metadata stay the JSON text SQLite gathered (``store.traces.load_json_rows``), passed to orjson
as a fragment instead of being parsed into dicts and written out again: the larger part of an
info-only search's CPU. That holds only where it gives the same bytes:
- SQLite writes JSON strings exactly as orjson does (``store.traces.sqlite_writes_orjsons``,
  probed once), else the text is parsed as before;
- the values MLflow keeps in ``trace_info`` columns (the trace's name among its tags; session,
  token usage and cost among its metadata) are added to the text only when their key is not
  in it already (a dict would keep such a key in its place), found by the key's JSON spelling;
- a NULL value (gathered as ``null``, shown as an empty string) sends the trace down the
  parsing path.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import orjson

from trackd.entities.traces import (
    PROMOTED_COLUMNS,
    TRACE_NAME_TAG,
    duration_json,
    restored_metadata,
    timestamp_json,
)
from trackd.store.traces import COLUMN_NAMES, Pairs, string_map

_AT = {name: i for i, name in enumerate(COLUMN_NAMES)}
_ID, _EXPERIMENT, _TIME, _DURATION = (_AT[n] for n in ("request_id", "experiment_id",
                                                       "timestamp_ms", "execution_time_ms"))
_STATE, _CLIENT_ID, _REQUEST, _RESPONSE, _NAME = (
    _AT[n] for n in ("status", "client_request_id", "request_preview", "response_preview",
                     "trace_name"))
# The columns restored_metadata reads, and where they are in a row.
_PROMOTED = tuple((n, _AT[n]) for n in PROMOTED_COLUMNS)
_promoted_of = itemgetter(*(i for _, i in _PROMOTED))
_N_PROMOTED = len(_PROMOTED)
_NAME_KEY = orjson.dumps(TRACE_NAME_TAG).decode()  # the key as JSON, with its quotes

# A page's traces usually share one experiment: its location written once per experiment id
# (and forgotten all at once past a bound).
_locations: dict[int, orjson.Fragment] = {}
_LOCATIONS_KEPT = 1024


def info_json(row: tuple[Any, ...], tags: Pairs, metadata: Pairs,
              assessments: list[dict[str, Any]] | None) -> dict[str, Any]:
    """One trace's info as ``TraceInfo.to_json`` gives it, from its ``trace_info`` row (in
    ``COLUMN_NAMES`` order), its tags and metadata (dicts, taken over, or SQLite's JSON text)
    and its assessments' JSON."""
    name = row[_NAME]
    if name is not None:
        if type(tags) is str and tags != "{}" and _NAME_KEY + ":" not in tags:
            # The usual trace: a name, and tags without it (the general case is _added's).
            tags = f"{tags[:-1]},{_NAME_KEY}:{orjson.dumps(name).decode()}}}"
        else:
            tags = _added(tags, {TRACE_NAME_TAG: name})
    if _promoted_of(row).count(None) != _N_PROMOTED:
        restored = restored_metadata({n: row[i] for n, i in _PROMOTED})
        if restored:
            metadata = _added(metadata, restored)
    out: dict[str, Any] = {"trace_id": row[_ID]}
    if row[_CLIENT_ID] is not None:
        out["client_request_id"] = row[_CLIENT_ID]
    experiment_id = int(row[_EXPERIMENT])
    location = _locations.get(experiment_id)
    if location is None:
        if len(_locations) >= _LOCATIONS_KEPT:
            _locations.clear()
        location = _locations.setdefault(experiment_id, orjson.Fragment(orjson.dumps({
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": str(experiment_id)}})))
    out["trace_location"] = location
    out["request_time"] = timestamp_json(int(row[_TIME]))
    if row[_DURATION] is not None:
        out["execution_duration"] = duration_json(int(row[_DURATION]))
    out["state"] = row[_STATE]
    if metadata and metadata != "{}":
        out["trace_metadata"] = orjson.Fragment(metadata) if type(metadata) is str else metadata
    if tags and tags != "{}":
        out["tags"] = orjson.Fragment(tags) if type(tags) is str else tags
    if assessments:
        out["assessments"] = assessments
    if row[_REQUEST] is not None:
        out["request_preview"] = row[_REQUEST]
    if row[_RESPONSE] is not None:
        out["response_preview"] = row[_RESPONSE]
    return out


def _added(pairs: Pairs, more: dict[str, str]) -> Pairs:
    """``pairs`` with ``more`` set, as ``dict.update`` sets them (a key already there keeps
    its place; a new one goes last)."""
    if isinstance(pairs, dict):
        pairs.update(more)
        return pairs
    if pairs == "{}":
        return orjson.dumps(more).decode()
    for key in more:
        # The key's JSON spelling (SQLite writes strings as orjson does): absent, the key is
        # not in the object; present (maybe only inside a value), the text is parsed instead.
        if orjson.dumps(key).decode() + ":" in pairs:
            parsed = string_map(pairs)
            parsed.update(more)
            return parsed
    return pairs[:-1] + "," + orjson.dumps(more).decode()[1:]

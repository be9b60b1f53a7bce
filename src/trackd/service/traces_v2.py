"""Traces over MLflow's deprecated v2 routes, as mlflow-skinny 2.x sends them.

A 2.x client opens a trace when its root span starts (``start``: the server picks the id and
records the trace as ``IN_PROGRESS``) and closes it when the span ends (``end``: status, the
duration from the start time, metadata and tags merged into what is there). Spans travel
separately, as ``traces.json`` under the trace's ``mlflow.artifactLocation``. Reading and
searching are service/traces.py's; only the shape of the answer differs (entities/traces_v2.py).

The rows written are those MLflow's SQL store writes for these calls, so a trace a 2.x client
logs to trackd reads the same through the v3 routes and in ``mlflow server``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection

from trackd.entities.traces import (
    ARTIFACT_LOCATION_TAG,
    TRACE_NAME_TAG,
    TraceInfo,
    check_timestamp_ms,
    promoted_columns,
)
from trackd.errors import invalid_parameter, not_found
from trackd.service import validation as v
from trackd.service.experiments import check_active_experiment
from trackd.service.traces import TraceService, string_map, trace_location
from trackd.store import traces as store
from trackd.store.database import Database

# Tags the server manages: a client's values for them are dropped (not refused), as mlflow
# server drops them. 2.x clients send every tag back when a trace ends, these included.
SERVER_MANAGED_TAGS = frozenset({
    ARTIFACT_LOCATION_TAG,
    "mlflow.trace.spansLocation",
    "mlflow.trace.archiveLocation",
    "mlflow.trace.archivalFailure",
})
MAX_TRACE_NAME_LENGTH = 4096  # trace_info.trace_name is VARCHAR(4096)


def _client_tags(tags: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The tags to store, and the trace name among them (kept in its own column)."""
    kept = string_map("tags", {k: x for k, x in tags.items() if k not in SERVER_MANAGED_TAGS})
    name = kept.pop(TRACE_NAME_TAG, None)
    if name is not None and len(name) > MAX_TRACE_NAME_LENGTH:
        raise invalid_parameter(
            f"Trace name is {len(name)} characters long, more than the limit of "
            f"{MAX_TRACE_NAME_LENGTH}"
        )
    return kept, name


class TraceV2Service:
    def __init__(self, db: Database, traces: TraceService) -> None:
        self.db = db
        self.traces = traces

    async def start(self, experiment_id: str, timestamp_ms: int, metadata: dict[str, str],
                    tags: dict[str, str]) -> TraceInfo:
        """``StartTrace`` (v2): a new ``IN_PROGRESS`` trace with a server-made id."""
        exp_id = v.parse_experiment_id(experiment_id)
        check_timestamp_ms("timestamp_ms", timestamp_ms)
        metadata = string_map("request_metadata", metadata)
        tags, name = _client_tags(tags)
        request_id = uuid.uuid4().hex  # mlflow server's v2 ids: 32 hex digits, no prefix
        columns: dict[str, Any] = {
            "request_id": request_id,
            "experiment_id": exp_id,
            "timestamp_ms": timestamp_ms,
            "execution_time_ms": None,
            "status": "IN_PROGRESS",
            "trace_name": name,
            **promoted_columns(metadata),
        }

        def work(conn: Connection) -> None:
            location = check_active_experiment(conn, exp_id) or ""
            tags[ARTIFACT_LOCATION_TAG] = trace_location(location, request_id)
            store.insert_trace(conn, columns, tags, metadata)

        await self.db.write(work)
        return await self.traces.get_info(request_id)

    async def end(self, request_id: str, timestamp_ms: int, status: str,
                  metadata: dict[str, str], tags: dict[str, str]) -> TraceInfo:
        """``EndTrace`` (v2): status and duration set; metadata and tags merged (a key sent
        again is replaced, the others stay)."""
        check_timestamp_ms("timestamp_ms", timestamp_ms)
        metadata = string_map("request_metadata", metadata)
        tags, name = _client_tags(tags)
        changes: dict[str, Any] = {"status": status, **promoted_columns(metadata)}
        if name is not None:
            changes["trace_name"] = name

        def work(conn: Connection) -> None:
            if store.experiment_of(conn, request_id, lock=True) is None:
                raise not_found(f"Trace with ID '{request_id}' not found.")
            started = store.load_rows(conn, [request_id])[0][0]["timestamp_ms"]
            # As mlflow server: the duration is the end time less the start, whatever it is.
            changes["execution_time_ms"] = timestamp_ms - int(started)
            store.update_trace(conn, {"request_id": request_id, **changes}, tags, metadata)

        await self.db.write(work)
        return await self.traces.get_info(request_id)

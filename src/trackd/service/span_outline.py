"""The trace page's span outline: a trace's span tree and timeline without the spans' payloads,
and one span's payload when the page opens it.

A span's inputs and outputs are most of a trace's bytes (30,000 spans logged by the official
client are ~29 MB of JSON): the page reads the outline (ids, parents, names, types, statuses,
times: ~5 % of that), paints the tree at once, and asks for a span's payload only when the
user opens it. These are trackd's own routes for its web UI; MLflow's clients never call them.

Spans come from where ``get-trace-artifact`` finds them: the ``spans`` rows (OTLP ingest, by
either server), else the trace's ``traces.json`` artifact (older clients). An artifact has to
be read and parsed whole for either answer; only its outline or one span of it is sent on.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from trackd.errors import RESOURCE_DOES_NOT_EXIST, MlflowError, invalid_parameter, not_found
from trackd.service.artifacts import ArtifactService
from trackd.service.traces import artifact_location
from trackd.store import spans as span_store
from trackd.store.database import Database

TRACE_DATA_FILE = "traces.json"
# A traces.json larger than this is not parsed for the page (it would take the server's memory
# several times over); get-trace-artifact still downloads it.
MAX_ARTIFACT_BYTES = 256 * 1024 * 1024
_STATUS_PREFIX = "STATUS_CODE_"
_TYPE_ATTRIBUTE = "mlflow.spanType"


@dataclass(frozen=True, slots=True)
class OutlineSpan:
    span_id: str
    parent_span_id: str | None
    name: str | None
    span_type: str | None
    status: str | None  # OK, ERROR or UNSET
    start_time_unix_nano: int | None
    end_time_unix_nano: int | None

    def to_json(self) -> dict[str, Any]:
        return {"span_id": self.span_id, "parent_span_id": self.parent_span_id,
                "name": self.name, "span_type": self.span_type, "status": self.status,
                "start_time_unix_nano": self.start_time_unix_nano,
                "end_time_unix_nano": self.end_time_unix_nano}


@dataclass(frozen=True, slots=True)
class Outline:
    source: str  # "database" or "artifact": where the spans are, so where span ids come from
    spans: list[OutlineSpan]


class SpanOutlineService:
    def __init__(self, db: Database, artifacts: ArtifactService) -> None:
        self.db = db
        self.artifacts = artifacts

    async def outline(self, trace_id: str) -> Outline:
        def work(conn: Connection) -> tuple[list[tuple[Any, ...]], str]:
            location = artifact_location(conn, trace_id)  # also: the trace exists
            return span_store.outline(conn, trace_id), location

        rows, location = await self.db.read(work)
        if rows:
            return Outline("database", [OutlineSpan(*row) for row in rows])
        spans = await self._artifact_spans(location)
        return Outline("artifact", await run_in_threadpool(_outline_of, spans))

    async def span(self, trace_id: str, span_id: str) -> orjson.Fragment:
        """One span as ``get-trace-artifact`` gives it (already JSON)."""

        def work(conn: Connection) -> tuple[str | None, str | None]:
            location = artifact_location(conn, trace_id)
            content = span_store.content_of(conn, trace_id, span_id)
            if content is not None:
                return content, None
            # Not a stored span: either the trace's spans are an artifact, or no such span.
            return None, None if span_store.has_spans(conn, trace_id) else location

        content, location = await self.db.read(work)
        if content is not None:
            return orjson.Fragment(content)
        if location is not None:
            for found in await self._artifact_spans(location):
                if _ids(found)[0] == span_id:
                    return orjson.Fragment(orjson.dumps(found))
        raise not_found(f"Span with ID {span_id} is not found in trace {trace_id}.")

    async def _artifact_spans(self, location: str) -> list[Any]:
        """The spans of a trace's traces.json; none if the trace has no such file yet."""
        try:
            found = await self.artifacts.file_under(location, TRACE_DATA_FILE)
        except MlflowError as exc:
            if exc.code == RESOURCE_DOES_NOT_EXIST:
                return []  # a trace whose spans have not arrived (or never will)
            raise
        if found.stat.size is not None and found.stat.size > MAX_ARTIFACT_BYTES:
            raise invalid_parameter(
                f"This trace's {TRACE_DATA_FILE} is {found.stat.size} bytes, more than the "
                f"{MAX_ARTIFACT_BYTES} the trace page reads; download it with "
                "get-trace-artifact instead.")
        chunks = [chunk async for chunk in found.store.read(found.path)]
        data = await run_in_threadpool(_parse, b"".join(chunks))
        spans = data.get("spans") if isinstance(data, dict) else None
        return [s for s in spans if isinstance(s, dict)] if isinstance(spans, list) else []


def _parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid_parameter(f"This trace's {TRACE_DATA_FILE} is not JSON: {exc}") from None


def _ids(span: dict[str, Any]) -> tuple[Any, Any]:
    """(span id, parent span id) of a traces.json span: MLflow 3's shape, or MLflow 2's
    (``context.span_id``, ``parent_id``)."""
    context = span.get("context")
    span_id = span.get("span_id")
    if span_id is None and isinstance(context, dict):
        span_id = context.get("span_id")
    return span_id, span.get("parent_span_id", span.get("parent_id"))


def _outline_of(spans: Iterable[dict[str, Any]]) -> list[OutlineSpan]:
    out = []
    for span in spans:
        span_id, parent = _ids(span)
        status = span.get("status")
        code = status.get("code") if isinstance(status, dict) else span.get("status_code")
        if isinstance(code, str) and code.startswith(_STATUS_PREFIX):
            code = code[len(_STATUS_PREFIX):]
        attributes = span.get("attributes")
        span_type = attributes.get(_TYPE_ATTRIBUTE) if isinstance(attributes, dict) else None
        if isinstance(span_type, str):
            with suppress(orjson.JSONDecodeError):
                span_type = orjson.loads(span_type)  # attribute values are JSON-encoded
        out.append(OutlineSpan(
            _text(span_id) or "", _text(parent), _text(span.get("name")), _text(span_type),
            _text(code), _integer(span.get("start_time_unix_nano", span.get("start_time"))),
            _integer(span.get("end_time_unix_nano", span.get("end_time")))))
    return out


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value: Any) -> int | None:
    """A time in nanoseconds: JSON numbers, or decimal strings (protobuf's JSON for int64)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    return None

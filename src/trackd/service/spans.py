"""Span ingest (OTLP ``POST /v1/traces``): spans into MLflow's ``spans`` table and the traces
they belong to kept up to date, one transaction per request: answered means stored.

What ``mlflow server`` does on ingest, and so trackd:
- a trace seen for the first time gets its ``trace_info`` row (IN_PROGRESS until its root span
  arrives) in the experiment the ``x-mlflow-experiment-id`` header names, with the tags
  ``mlflow.trace.spansLocation = TRACKING_STORE`` (the official client then sends no
  ``traces.json``) and ``mlflow.artifactLocation``; a trace of another experiment is refused;
- when the root span arrives the trace takes its state, start, duration, request and response
  previews, session and user, the root's ``mlflow.traceTag.*`` attributes and the resource's
  attributes as tags, and the token usage and cost summed over its spans. A trace the client
  already finalized with ``start_trace`` keeps what the client said;
- ``x-mlflow-run-id`` links the finished traces to that run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from trackd.entities import otlp
from trackd.entities.otlp import SpanRow
from trackd.entities.traces import (
    ARTIFACT_LOCATION_TAG,
    INFO_FINALIZED_METADATA,
    SESSION_METADATA,
    TOKEN_USAGE_METADATA,
    promoted_columns,
)
from trackd.errors import MlflowError, invalid_parameter
from trackd.service import validation as v
from trackd.service.clock import now_ms
from trackd.service.experiments import check_active_experiment
from trackd.service.previews import NoPreview, preview
from trackd.service.runs import require_run
from trackd.service.span_costs import batch_cost, stored_cost
from trackd.service.traces import trace_location
from trackd.store import spans as span_store
from trackd.store import trace_ingest
from trackd.store import traces as store
from trackd.store.database import Database

SPANS_LOCATION_TAG = "mlflow.trace.spansLocation"
USER_METADATA = "mlflow.trace.user"
TOKEN_USAGE_ATTRIBUTE = "mlflow.chat.tokenUsage"
_USAGE_KEYS = ("input_tokens", "output_tokens", "total_tokens")
# Summed only when some span reports them (as mlflow server does).
_CACHE_USAGE_KEYS = ("cache_read_input_tokens", "cache_creation_input_tokens",
                     "cache_creation_input_tokens_above_1hr")
# Tags the server keeps for itself: a span attribute may not set them.
_RESERVED_TAGS = (SPANS_LOCATION_TAG, ARTIFACT_LOCATION_TAG)
# Exports of up to this many spans may wait briefly to share a commit with others
# (trackd.store.database, ``gather``).
GATHERED_SPANS = 100


class SpanIngestService:
    def __init__(self, db: Database) -> None:
        self.db = db
        # experiment id -> the artifact location it had when last checked active. Only a
        # guess: the whole-trace insert writes nothing unless the database still agrees.
        self._locations: dict[int, str | None] = {}

    async def ingest(self, experiment_header: str | None, run_id: str | None,
                     rows: Sequence[SpanRow]) -> int:
        if not experiment_header:
            raise invalid_parameter("The x-mlflow-experiment-id header is required: it names "
                                    "the experiment the spans' traces belong to.")
        experiment_id = v.parse_experiment_id(experiment_header)
        if run_id:
            v.check_run_id(run_id, "x-mlflow-run-id")
        # A span sent twice in one export: the later one counts.
        unique: dict[str, dict[str, SpanRow]] = {}
        for row in rows:
            unique.setdefault(row.trace_id, {})[row.span_id] = row
        by_trace = {trace_id: list(spans.values()) for trace_id, spans in unique.items()}

        def work(conn: Connection) -> int:
            experiment = _Experiment(conn, experiment_id, self._locations)
            finished = []
            for trace_id, spans in by_trace.items():
                root = next((s for s in spans if s.parent_span_id is None), None)
                if not (_insert_whole(conn, experiment, trace_id, spans, root)
                        or _create(conn, experiment_id, trace_id, spans, root,
                                   experiment.root())):
                    _extend(conn, experiment_id, trace_id, spans, root, experiment.root())
                if root is not None:
                    finished.append(trace_id)
            if run_id and finished:
                require_run(conn, run_id)
                store.link_to_run(conn, finished, run_id, now_ms())
            return len(rows)

        # Small exports come often and concurrently, and their commit costs more than their
        # statements: they share commits. A large one would only hold the others back.
        return await self.db.write(work, gather=len(rows) <= GATHERED_SPANS)


class _Experiment:
    """The experiment an export writes to. Checked (active? its artifact location?) at most
    once per request, and only when the general path needs it; the location found is
    remembered for later requests' whole-trace inserts, which verify it as they write."""

    def __init__(self, conn: Connection, experiment_id: int,
                 locations: dict[int, str | None]) -> None:
        self.conn = conn
        self.id = experiment_id
        self.locations = locations
        self._root: str | None = None

    def assumed_location(self) -> tuple[bool, str | None]:
        """(known, location): whether an earlier request found the experiment active."""
        if self.id in self.locations:
            return True, self.locations[self.id]
        return False, None

    def root(self) -> str:
        """The artifact location, the experiment checked active (MLflow's errors if not)."""
        if self._root is None:
            try:
                location = check_active_experiment(self.conn, self.id)
            except MlflowError:
                self.locations.pop(self.id, None)
                raise
            self.locations[self.id] = location
            self._root = location or ""
        return self._root


def _insert_whole(conn: Connection, experiment: _Experiment, trace_id: str,
                  spans: list[SpanRow], root: SpanRow | None) -> bool:
    """A trace that looks new and whole (its root and other spans in this export, an
    experiment already seen active): written in one go (trackd.store.trace_ingest) when the
    database agrees. False when it did not: nothing was written, the general path follows."""
    known, location = experiment.assumed_location()
    if (not known or root is None or len(spans) < 2 or len(spans) > trace_ingest.MAX_SPANS
            or conn.dialect.name not in trace_ingest.DIALECTS):
        return False
    columns, tags, metadata = _new_trace(experiment.id, trace_id, spans, root, location or "")
    outcome = trace_ingest.insert_whole_trace(conn, experiment.id, location, columns, tags,
                                              metadata, spans)
    if outcome is trace_ingest.Outcome.UNCHECKED:
        experiment.locations.pop(experiment.id, None)
    return outcome is trace_ingest.Outcome.WRITTEN


def _new_trace(experiment_id: int, trace_id: str, spans: list[SpanRow], root: SpanRow | None,
               artifact_root: str) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """A new trace's columns, tags and metadata, from the spans in hand."""
    columns: dict[str, Any] = {"request_id": trace_id, "experiment_id": experiment_id,
                               "timestamp_ms": min(s.start_ns for s in spans) // 1_000_000,
                               "status": "IN_PROGRESS"}
    tags = {SPANS_LOCATION_TAG: "TRACKING_STORE",
            ARTIFACT_LOCATION_TAG: trace_location(artifact_root, trace_id)}
    metadata: dict[str, str] = {}
    if root is not None:
        columns |= _root_columns(root)
        tags |= _root_tags(root)
        metadata = _root_metadata(spans, _batch_usage(spans)) | batch_cost(spans)
    return {**columns, **promoted_columns(metadata)}, tags, metadata


def _create(conn: Connection, experiment_id: int, trace_id: str, spans: list[SpanRow],
            root: SpanRow | None, artifact_root: str) -> bool:
    """A trace seen for the first time: its row (whole, from these spans) and its spans, in
    one go. False when the trace exists; then its row is locked for this transaction (the
    client sends ``start_trace`` and the spans at the same time, so the row may appear between
    looking and inserting, and the two must take turns)."""
    owner = store.experiment_of(conn, trace_id, lock=True)
    if owner is None:
        columns, tags, metadata = _new_trace(experiment_id, trace_id, spans, root,
                                             artifact_root)
        if store.insert_new_trace(conn, columns, tags, metadata):
            span_store.insert_spans(conn, experiment_id, spans)
            return True
        owner = store.experiment_of(conn, trace_id, lock=True)
    if owner != experiment_id:
        raise invalid_parameter(f"Trace with ID '{trace_id}' already exists in another experiment.")
    return False


def _extend(conn: Connection, experiment_id: int, trace_id: str, spans: list[SpanRow],
            root: SpanRow | None, artifact_root: str) -> None:
    """More spans of a known trace (or spans sent again). MLflow's client exports each span as
    it ends, so this is the common case and kept to the span rows alone; the trace itself is
    updated once its root span arrives (its start, state and totals are the root's). A trace
    the client finalized with ``start_trace`` keeps what the client said."""
    span_store.replace_spans(conn, experiment_id, spans)
    if root is None:
        return
    finalized = store.metadata_value(conn, trace_id, INFO_FINALIZED_METADATA) == "true"
    columns: dict[str, Any] = {"request_id": trace_id}
    tags = {SPANS_LOCATION_TAG: "TRACKING_STORE",
            ARTIFACT_LOCATION_TAG: trace_location(artifact_root, trace_id)}
    tags |= _root_tags(root)
    metadata = _root_metadata(spans, _stored_usage(conn, trace_id)) | stored_cost(conn, trace_id)
    if not finalized:
        columns |= _root_columns(root)
    store.update_trace(conn, {**columns, **promoted_columns(metadata)}, tags, metadata)


def _root_metadata(spans: list[SpanRow], usage: dict[str, int]) -> dict[str, str]:
    metadata = _identity(spans)
    if usage:
        metadata[TOKEN_USAGE_METADATA] = json.dumps(usage)
    return metadata


def _root_columns(root: SpanRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "timestamp_ms": root.start_ns // 1_000_000,
        "status": "ERROR" if root.status == "ERROR" else "OK",
    }
    if root.end_ns:
        # Milliseconds of the end minus milliseconds of the start, as MLflow computes it.
        out["execution_time_ms"] = max(0, root.end_ns // 1_000_000 - root.start_ns // 1_000_000)
    try:
        for column, key, role in (("request_preview", otlp.INPUTS_ATTRIBUTE, "user"),
                                  ("response_preview", otlp.OUTPUTS_ATTRIBUTE, "assistant")):
            text = preview(root.attributes.get(key), role)
            if text is not None:
                out[column] = text
    except NoPreview:
        pass  # as in MLflow: no preview from this value on, a request preview already made stays
    return out


def _root_tags(root: SpanRow) -> dict[str, str]:
    tags: dict[str, str] = {}
    for key, value in root.resource.items():
        if not key.startswith(("telemetry.sdk.", "mlflow.")) and len(key) <= 250:
            tags[key] = (value if isinstance(value, str) else json.dumps(value))[:8000]
    for key in root.attributes:
        if key.startswith(otlp.TRACE_TAG_PREFIX):
            name = key[len(otlp.TRACE_TAG_PREFIX):]
            if name and len(name) <= 250 and name not in _RESERVED_TAGS:
                tags[name] = str(root.attribute(key))[:8000]
    return tags


def _identity(spans: list[SpanRow]) -> dict[str, str]:
    """Session and user ids, from the first span that names them (OpenTelemetry's
    ``session.id`` / ``gen_ai.conversation.id`` and ``user.id``)."""
    out: dict[str, str] = {}
    for span in spans:
        session = span.attribute("session.id") or span.attribute("gen_ai.conversation.id")
        if session and SESSION_METADATA not in out:
            out[SESSION_METADATA] = str(session)[:250]
        user = span.attribute("user.id")
        if user and USER_METADATA not in out:
            out[USER_METADATA] = str(user)[:8000]
    return out


def _batch_usage(spans: list[SpanRow]) -> dict[str, int]:
    """Token usage of a trace that arrived whole, from its spans in hand."""
    reporting = [(s.span_id, s.parent_span_id, s.content) for s in spans
                 if TOKEN_USAGE_ATTRIBUTE in s.attributes]
    if not reporting:
        return {}
    return _summed(reporting, {s.span_id: s.parent_span_id for s in spans})


def _stored_usage(conn: Connection, trace_id: str) -> dict[str, int]:
    """Token usage of a trace from all its stored spans (they may have come in pieces)."""
    reporting = span_store.usage_tree(conn, trace_id)
    if not reporting:
        return {}
    return _summed(reporting, span_store.parents(conn, trace_id))


def _summed(reporting: list[tuple[str, str | None, str]],
            parents: dict[str, str | None]) -> dict[str, int]:
    """Usage summed over the spans that report it, counting a span only when no span above it
    reports usage too (frameworks that roll their children's usage up into the parent would
    otherwise be counted twice)."""
    with_usage = {span_id for span_id, _, _ in reporting}
    totals = dict.fromkeys(_USAGE_KEYS, 0)
    for _span_id, parent, content in reporting:
        ancestor, seen = parent, set()
        while ancestor is not None and ancestor not in seen:
            if ancestor in with_usage:
                break
            seen.add(ancestor)
            ancestor = parents.get(ancestor)
        else:
            usage = _usage_of(content)
            for key in _USAGE_KEYS:
                totals[key] += usage.get(key, 0)
            for key in _CACHE_USAGE_KEYS:
                if key in usage:
                    totals[key] = totals.get(key, 0) + usage[key]
    # The total is the sum of the totals spans report, not recomputed from input and output
    # (mlflow server leaves it 0 when only input or output counts were reported).
    return totals


def _usage_of(content: str) -> dict[str, int]:
    try:
        raw = json.loads(content)["attributes"][TOKEN_USAGE_ATTRIBUTE]
        usage = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, KeyError, TypeError):
        return {}
    if not isinstance(usage, dict):
        return {}
    return {k: int(usage[k]) for k in (*_USAGE_KEYS, *_CACHE_USAGE_KEYS)
            if isinstance(usage.get(k), int | float) and not isinstance(usage.get(k), bool)}

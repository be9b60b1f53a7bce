"""Traces (MLflow 3): what the official client sends when a traced function returns, and the
searches, tags and deletions on what it stored.

How a trace reaches trackd (as it reaches ``mlflow server``): the client sends the spans over
OTLP (``POST /v1/traces``, service/spans.py, into MLflow's ``spans`` table) and the finished
trace's info with ``start_trace`` (here); whichever comes first creates the trace. Clients that
cannot send spans over OTLP upload them as ``traces.json`` under the info's
``mlflow.artifactLocation`` tag instead; ``get_trace`` and ``search_traces`` serve spans from the
table, or from there. A trace stored by trackd opens in ``mlflow server`` and the other way
round.

MLflow's SQL store keeps some values in ``trace_info`` columns instead of rows; they are moved
there on write and given back on read exactly as MLflow does (see entities/traces.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from trackd.entities.spans import AttributeMemo, SpanJson, otlp_fragment
from trackd.entities.traces import (
    ARTIFACT_LOCATION_TAG,
    INFO_FINALIZED_METADATA,
    STATES,
    TRACE_NAME_TAG,
    TraceInfo,
    parse_duration,
    parse_timestamp,
    promoted_columns,
    restored_metadata,
)
from trackd.errors import invalid_parameter, not_found
from trackd.service import validation as v
from trackd.service.artifact_paths import join_uri
from trackd.service.assessments import insert_new, parse_new
from trackd.service.clock import now_ms
from trackd.service.experiments import check_active_experiment, require_experiment
from trackd.service.order_by import check_key_count, split_entry
from trackd.service.paging import check_max_results, encode_token, fingerprint, read_offset
from trackd.service.trace_filters import parse_trace_filter
from trackd.service.trace_infos_json import info_json
from trackd.store import assessments as assessment_store
from trackd.store import runs as run_store
from trackd.store import spans as span_store
from trackd.store import traces as store
from trackd.store import traces_search
from trackd.store.database import Database, insert_race_guard

_ORDER_KEYS = {"timestamp": "timestamp_ms", "timestamp_ms": "timestamp_ms",
               "execution_time": "execution_time_ms", "execution_time_ms": "execution_time_ms",
               "status": "status", "request_id": "request_id", "name": "name",
               "experiment_id": "experiment_id"}
_PREVIEW_CHARS = 1000  # trace_info.request_preview / response_preview are VARCHAR(1000)
MAX_TRACE_LINKS = 100  # traces per link-to-run request (MLflow's limit)
T = TypeVar("T")


def _with_assessments(conn: Connection, rows: list[Any]) -> list[TraceInfo]:
    """Trace infos from ``store.load_rows`` rows, each with its assessments (as MLflow's
    trace info carries them). The rows' dicts become the infos' (``load_rows`` makes new ones
    on every call)."""
    found = assessment_store.by_trace(conn, [r[0]["request_id"] for r in rows])
    infos = []
    for row in rows:
        info = _entity(*row)
        assessments = found[info.trace_id]
        if assessments:
            info.assessments = [a.to_json() for a in assessments]
        infos.append(info)
    return infos


def _infos_json(conn: Connection, trace_ids: list[str]) -> list[dict[str, Any]]:
    """The infos of ``_with_assessments(conn, store.load_rows(conn, trace_ids))`` as their
    ``to_json``, without the entities."""
    rows = store.load_json_rows(conn, trace_ids)
    found = assessment_store.by_trace(conn, [r[0][0] for r in rows])
    return [info_json(row, tags, metadata, [a.to_json() for a in found[row[0]]])
            for row, tags, metadata in rows]


def _entity(columns: dict[str, Any], tags: dict[str, str], metadata: dict[str, str]) -> TraceInfo:
    """The info of one ``load_rows`` row, whose tags and metadata dicts it takes over."""
    if columns.get("trace_name") is not None:
        tags[TRACE_NAME_TAG] = columns["trace_name"]
    restored = restored_metadata(columns)
    if restored:
        metadata.update(restored)
    return store.to_entity(columns, tags, metadata)


# trace_tags / trace_request_metadata: key VARCHAR(250), value VARCHAR(8000). Keys beyond the
# column are refused; values are cut, as MLflow's client cuts them before sending.
MAX_KEY_LENGTH, MAX_VALUE_LENGTH = 250, 8000


def string_map(name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(x, str) for k, x in value.items()):
        raise invalid_parameter(f"Invalid value for '{name}': expected a map of strings")
    for key in value:
        _check_key(name, key)
    return {k: x[:MAX_VALUE_LENGTH] for k, x in value.items()}


def _check_key(name: str, key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise invalid_parameter(
            f"Invalid key in '{name}': keys are 1 to {MAX_KEY_LENGTH} characters, got "
            f"{len(key)}"
        )


def _experiment_of_location(location: Any) -> int:
    if not isinstance(location, dict):
        raise invalid_parameter("trace_location is required")
    experiment = location.get("mlflow_experiment")
    if not isinstance(experiment, dict) or experiment.get("experiment_id") in (None, ""):
        raise invalid_parameter(
            "Only MLflow experiment trace locations are supported: trace_location."
            "mlflow_experiment.experiment_id is required"
        )
    return v.parse_experiment_id(str(experiment["experiment_id"]))


class TraceService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- writing -----------------------------------------------------------------------------

    async def start(self, info: Any) -> TraceInfo:
        """``StartTraceV3``: store a finished trace's info; spans travel separately."""
        if not isinstance(info, dict):
            raise invalid_parameter("trace.trace_info is required")
        trace_id = info.get("trace_id")
        if not isinstance(trace_id, str) or not trace_id or len(trace_id) > 50:
            raise invalid_parameter("trace_info.trace_id must be a string of 1 to 50 characters")
        experiment_id = _experiment_of_location(info.get("trace_location"))
        state = info.get("state") or "STATE_UNSPECIFIED"
        if state not in STATES:
            raise invalid_parameter(f"Invalid trace state '{state}'; expected one of {STATES}")
        tags = string_map("tags", info.get("tags"))
        metadata = string_map("trace_metadata", info.get("trace_metadata"))
        trace_name = tags.pop(TRACE_NAME_TAG, None)
        columns: dict[str, Any] = {
            "request_id": trace_id,
            "experiment_id": experiment_id,
            "timestamp_ms": parse_timestamp("request_time", info.get("request_time")),
            "execution_time_ms": parse_duration("execution_duration",
                                                info.get("execution_duration")),
            "status": state,
            "client_request_id": info.get("client_request_id") or None,
            "request_preview": _preview(info.get("request_preview")),
            "response_preview": _preview(info.get("response_preview")),
            "trace_name": trace_name,
            **promoted_columns(metadata),
        }
        metadata[INFO_FINALIZED_METADATA] = "true"
        raw_assessments = info.get("assessments") or []
        if not isinstance(raw_assessments, list):
            raise invalid_parameter("trace_info.assessments must be a list")
        assessments = [parse_new(trace_id, a) for a in raw_assessments]

        def work(conn: Connection) -> TraceInfo:
            location = check_active_experiment(conn, experiment_id) or ""
            tags[ARTIFACT_LOCATION_TAG] = trace_location(location, trace_id)
            # The official client sends a trace's info after (or while) its spans arrive over
            # OTLP, which creates the row: so look first (a locking read: the two take turns),
            # and insert only when it is not there.
            owner = store.experiment_of(conn, trace_id, lock=True)
            if owner is None:
                try:
                    with insert_race_guard(conn):
                        store.insert_trace(conn, columns, tags, metadata)
                except IntegrityError:  # created by a concurrent request in the meantime
                    owner = store.experiment_of(conn, trace_id, lock=True)
            if owner is not None:
                # As mlflow server: the client retries start_trace when an answer is lost, so
                # a trace id that exists is the same trace again, not a conflict.
                if owner != experiment_id:
                    raise invalid_parameter(
                        f"Trace with ID {trace_id} already exists in another experiment."
                    )
                store.update_trace(conn, columns, tags, metadata)
            for assessment in assessments:  # logged while the trace ran; kept once on retries
                if not assessment_store.exists(conn, assessment.assessment_id):
                    insert_new(conn, assessment)
            return self._load(conn, trace_id)

        return await self.db.write(work)

    async def set_tag(self, trace_id: str, key: str, value: str) -> None:
        _check_key("tags", key)
        value = value[:MAX_VALUE_LENGTH]

        def work(conn: Connection) -> None:
            self._require(conn, trace_id)
            if key == TRACE_NAME_TAG:
                store.set_trace_name(conn, trace_id, value)
            else:
                store.set_tag(conn, trace_id, key, value)

        await self.db.write(work)

    async def delete_tag(self, trace_id: str, key: str) -> None:
        def work(conn: Connection) -> None:
            self._require(conn, trace_id)
            if key == TRACE_NAME_TAG:
                store.set_trace_name(conn, trace_id, None)
                return
            if store.delete_tag(conn, trace_id, key) == 0:
                raise not_found(f"No trace tag with key '{key}' for trace with ID '{trace_id}'")

        await self.db.write(work)

    async def delete(self, experiment_id: int, *, trace_ids: Sequence[str] | None,
                     max_timestamp_ms: int | None, max_traces: int | None) -> int:
        # MLflow's checks and words (its abstract tracking store); an empty id list is none.
        trace_ids = list(trace_ids) if trace_ids else None
        if max_timestamp_ms is None and trace_ids is None:
            raise invalid_parameter(
                "Either `max_timestamp_millis` or `trace_ids` must be specified."
            )
        if max_timestamp_ms is not None and trace_ids is not None:
            raise invalid_parameter(
                "Only one of `max_timestamp_millis` and `trace_ids` can be specified."
            )
        if trace_ids is not None and max_traces is not None:
            raise invalid_parameter(
                "`max_traces` can't be specified if `trace_ids` is specified."
            )
        if max_traces is not None and max_traces <= 0:
            raise invalid_parameter(
                f"`max_traces` must be a positive integer, received {max_traces}."
            )

        def work(conn: Connection) -> int:
            require_experiment(conn, experiment_id)
            ids = store.ids_to_delete(conn, experiment_id, trace_ids=trace_ids,
                                      max_timestamp_ms=max_timestamp_ms, max_traces=max_traces)
            return store.delete_traces(conn, ids)

        return await self.db.write(work)

    async def link_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        if len(trace_ids) > MAX_TRACE_LINKS:
            raise invalid_parameter(
                f"Cannot link more than {MAX_TRACE_LINKS} traces to a run in a single request. "
                f"Provided {len(trace_ids)} traces."
            )

        def work(conn: Connection) -> None:
            if run_store.get_info(conn, run_id) is None:
                raise not_found(f"Run with id={run_id} not found")
            known = store.existing_ids(conn, trace_ids)  # MLflow skips unknown trace ids
            if known:
                store.link_to_run(conn, known, run_id, int(time.time() * 1000))

        if trace_ids:
            await self.db.write(work)

    # -- reading -----------------------------------------------------------------------------

    async def link_prompts(self, trace_id: str, prompt_versions: list[dict[str, Any]]) -> None:
        """``traces/link-prompts``: record that the trace used these prompt versions (what the
        ``prompt = "name/version"`` trace filter finds), as MLflow's client sends when a
        traced function loads a prompt."""
        refs = [_prompt_ref(p) for p in prompt_versions]

        def work(conn: Connection) -> None:
            if store.experiment_of(conn, trace_id) is None:
                raise not_found(f"Trace with ID '{trace_id}' not found.")
            store.link_prompts(conn, trace_id, refs, now_ms())

        await self.db.write(work)

    async def get_infos(self, trace_ids: Sequence[str]) -> list[TraceInfo]:
        """``batchGetInfos``: the infos of the traces that exist, in the order asked."""
        return await self.db.read(
            lambda conn: _with_assessments(conn, store.load_rows(conn, trace_ids)))

    async def get_info(self, trace_id: str) -> TraceInfo:
        return await self.db.read(lambda conn: self._load(conn, trace_id))

    async def search(self, experiment_ids: Sequence[str], filter_string: str | None,
                     max_results: int | None, order_by: Sequence[str],
                     page_token: str | None) -> tuple[list[TraceInfo], str | None]:
        return await self._search(
            lambda conn, ids: _with_assessments(conn, store.load_rows(conn, ids)),
            experiment_ids, filter_string, max_results, order_by, page_token)

    async def search_json(self, experiment_ids: Sequence[str], filter_string: str | None,
                          max_results: int | None, order_by: Sequence[str],
                          page_token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """search with each info as its JSON (``TraceInfo.to_json``), built straight from the
        rows (service/trace_infos_json.py): what ``traces/search`` answers."""
        return await self._search(_infos_json, experiment_ids, filter_string, max_results,
                                  order_by, page_token)

    async def _search(self, load: Callable[[Connection, list[str]], list[T]],
                      experiment_ids: Sequence[str], filter_string: str | None,
                      max_results: int | None, order_by: Sequence[str],
                      page_token: str | None) -> tuple[list[T], str | None]:
        ids = [v.parse_experiment_id(e) for e in experiment_ids]
        if not ids:
            raise invalid_parameter("At least one experiment ID (location) must be specified.")
        limit = check_max_results("traces", max_results)
        clauses = parse_trace_filter(filter_string or None)
        keys = _order_keys(order_by)
        query = fingerprint(ids, filter_string or "", list(order_by))
        offset = read_offset(page_token, query)

        def work(conn: Connection) -> tuple[list[T], bool]:
            # One id more than the page tells whether another page follows; only the page's
            # traces are loaded.
            found = traces_search.search_ids(conn, ids, clauses, keys, offset, limit + 1)
            return load(conn, found[:limit]), len(found) > limit

        infos, more = await self.db.read(work)
        token = encode_token({"q": query, "offset": offset + limit}) if more else None
        return infos, token

    async def get_with_spans(self, trace_ids: Sequence[str]) -> list[tuple[TraceInfo,
                                                                            list[SpanJson]]]:
        """Traces with the spans the database holds for them (``traces/get``, ``batchGet``);
        unknown ids are left out. Traces whose spans are artifacts come back without spans:
        clients read those from the trace's artifact location."""

        def work(conn: Connection) -> list[tuple[TraceInfo, list[SpanJson]]]:
            rows = store.load_rows(conn, trace_ids)
            contents = span_store.contents_by_trace(conn, [r[0]["request_id"] for r in rows])
            memo: AttributeMemo = {}
            return [(info, [otlp_fragment(c, memo) for c in contents[info.trace_id]])
                    for info in _with_assessments(conn, rows)]

        return await self.db.read(work)

    async def span_source(self, trace_id: str) -> tuple[list[str], str]:
        """Where a trace's spans are: the ``spans`` rows mlflow server ingested (their JSON),
        else the trace's artifact location, where clients put ``traces.json``.

        The location is built from the experiment's, as both servers build it when the trace
        starts, never read from the ``mlflow.artifactLocation`` tag: tags are writable by
        anyone who may edit the trace, and a tag pointing into another experiment would be a
        way to read its traces.
        """

        def work(conn: Connection) -> tuple[list[str], str]:
            location = artifact_location(conn, trace_id)
            return span_store.contents_by_trace(conn, [trace_id])[trace_id], location

        return await self.db.read(work)

    def _load(self, conn: Connection, trace_id: str) -> TraceInfo:
        rows = store.load_rows(conn, [trace_id])
        if not rows:
            raise not_found(f"Trace with ID {trace_id} is not found.")
        return _with_assessments(conn, rows)[0]

    def _require(self, conn: Connection, trace_id: str) -> None:
        if store.experiment_of(conn, trace_id) is None:
            raise not_found(f"Trace with ID {trace_id} is not found.")


def artifact_location(conn: Connection, trace_id: str) -> str:
    """A trace's artifact location (where clients put ``traces.json``), built from its
    experiment's as both servers build it when the trace starts (see ``span_source``)."""
    experiment_id = store.experiment_of(conn, trace_id)
    if experiment_id is None:
        raise not_found(f"Trace with ID {trace_id} is not found.")
    experiment = require_experiment(conn, experiment_id)
    return trace_location(experiment.artifact_location or "", trace_id)


def trace_location(experiment_location: str, trace_id: str) -> str:
    return join_uri(experiment_location, "traces", trace_id, "artifacts")


# entity_associations.destination_id is VARCHAR(36) in MLflow's schema.
_MAX_PROMPT_REF = 36


def _prompt_ref(item: Any) -> str:
    """A ``{name, version}`` prompt version reference as MLflow stores it: ``name/version``."""
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise invalid_parameter("Each of prompt_versions needs a 'name' and a 'version'.")
    version = item.get("version")
    if isinstance(version, bool) or not str(version).isdecimal():
        raise invalid_parameter(f"Invalid prompt version {version!r} for prompt "
                                f"'{item['name']}': a version is a positive integer.")
    ref = f"{item['name']}/{int(str(version))}"
    if len(ref) > _MAX_PROMPT_REF:
        raise invalid_parameter(f"The prompt version reference '{ref}' is longer than "
                                f"{_MAX_PROMPT_REF} characters, the most MLflow's schema keeps.")
    return ref


def _preview(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid_parameter("request_preview and response_preview must be strings")
    return truncated_preview(value)


def truncated_preview(value: str) -> str:
    return value.replace("\x00", "")[:_PREVIEW_CHARS]


def _order_keys(order_by: Sequence[str]) -> list[tuple[str, bool]]:
    check_key_count(list(order_by))
    keys: list[tuple[str, bool]] = []
    for entry in order_by:
        ident, ascending = split_entry(entry)
        name = ident.split(".", 1)[1] if ident.startswith(("attribute.", "attributes.",
                                                            "trace.")) else ident
        if name not in _ORDER_KEYS:
            raise invalid_parameter(
                f"Invalid order_by entity `{ident}` with key `{name}`"
            )
        keys.append((_ORDER_KEYS[name], ascending))
    if not keys:
        keys = [("timestamp_ms", False)]
    return keys

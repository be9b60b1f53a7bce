"""Trace routes (MLflow 3): parse, call service/traces.py, serialize."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from trackd.api.router import Call
from trackd.entities import otlp
from trackd.errors import invalid_parameter, missing_parameter, not_found
from trackd.service import validation as v

# Where clients that cannot send spans over OTLP (and mlflow server stores without span
# logging) put a trace's spans, under the trace's artifact location.
TRACE_DATA_FILE = "traces.json"


async def start(call: Call) -> dict[str, Any]:
    f = await call.fields()
    trace = f.raw("trace")
    if not isinstance(trace, dict):
        raise missing_parameter("trace")
    info = await call.services.traces.start(trace.get("trace_info"))
    return {"trace": {"trace_info": info.to_json()}}


async def get_info(call: Call) -> dict[str, Any]:
    info = await call.services.traces.get_info(call.params["trace_id"])
    return {"trace": {"trace_info": info.to_json()}}


async def get(call: Call) -> dict[str, Any]:
    """``traces/get``: one trace with the spans kept in the database."""
    f = await call.fields()
    trace_id = f.string("trace_id", required=True)
    found = await call.services.traces.get_with_spans([trace_id])
    if not found:
        raise not_found(f"Trace with ID {trace_id} is not found.")
    info, spans = found[0]
    return {"trace": {"trace_info": info.to_json(), "spans": spans}}


async def batch_get(call: Call) -> dict[str, Any]:
    f = await call.fields()
    found = await call.services.traces.get_with_spans(f.string_list("trace_ids"))
    return {"traces": [{"trace_info": i.to_json(), "spans": s} for i, s in found]}


async def get_trace_artifact(call: Call) -> Response:
    """``get-trace-artifact``: a trace's spans as ``{"spans": [...]}`` (the traces.json format),
    from the database or the trace's artifact location, as MLflow's UI downloads them."""
    # Imported here: the artifact handlers (17 ms of imports) are not needed by the other
    # trace routes, among them the first OTLP export a server receives.
    from trackd.api.artifacts import attachment, send_file

    f = await call.fields()
    trace_id = f.first_string("request_id", "trace_id")
    contents, location = await call.services.traces.span_source(trace_id)
    if contents:
        body = '{"spans": [' + ", ".join(contents) + "]}"
        return Response(body, media_type="text/plain",
                        headers={"Content-Disposition": attachment("traces.json")})
    found = await call.services.artifacts.file_under(location, TRACE_DATA_FILE)
    return send_file(call.request, found)


async def batch_get_infos(call: Call) -> dict[str, Any]:
    f = await call.fields()
    infos = await call.services.traces.get_infos(f.string_list("trace_ids"))
    return {"trace_infos": [i.to_json() for i in infos]} if infos else {}


async def link_prompts(call: Call) -> dict[str, Any]:
    f = await call.fields()
    if "prompt_versions" not in f:
        raise missing_parameter("prompt_versions")
    await call.services.traces.link_prompts(f.string("trace_id", required=True),
                                            f.objects("prompt_versions"))
    return {}


async def link_to_run(call: Call) -> dict[str, Any]:
    f = await call.fields()
    await call.services.traces.link_to_run(f.string_list("trace_ids"),
                                           f.string("run_id", required=True))
    return {}


async def search(call: Call) -> dict[str, Any]:
    f = await call.fields()
    experiment_ids = list(f.string_list("experiment_ids"))
    for i, location in enumerate(f.objects("locations")):
        experiment = location.get("mlflow_experiment")
        found = experiment.get("experiment_id") if isinstance(experiment, dict) else None
        if not isinstance(found, str | int) or isinstance(found, bool):
            raise invalid_parameter(
                f"locations[{i}]: only MLflow experiment locations "
                "(mlflow_experiment.experiment_id) are supported"
            )
        experiment_ids.append(str(found))
    infos, token = await call.services.traces.search_json(
        experiment_ids,
        f.string("filter"),
        f.integer("max_results"),
        f.string_list("order_by"),
        f.string("page_token"),
    )
    out: dict[str, Any] = {}
    if infos:
        out["traces"] = infos
    if token:
        out["next_page_token"] = token
    return out


async def set_tag(call: Call) -> dict[str, Any]:
    f = await call.fields()
    key = f.string("key", required=True)
    value = f.string("value", default="")
    await call.services.traces.set_tag(call.params["trace_id"], key, value)
    return {}


async def delete_tag(call: Call) -> dict[str, Any]:
    f = await call.fields()
    await call.services.traces.delete_tag(call.params["trace_id"], f.string("key", required=True))
    return {}


async def delete_traces(call: Call) -> dict[str, Any]:
    f = await call.fields()
    experiment_id = v.parse_experiment_id(f.string("experiment_id", required=True))
    trace_ids = f.string_list("request_ids") or f.string_list("trace_ids") or None
    deleted = await call.services.traces.delete(
        experiment_id,
        trace_ids=trace_ids,
        max_timestamp_ms=f.integer("max_timestamp_millis"),
        max_traces=f.integer("max_traces"),
    )
    return {"traces_deleted": deleted}


# Uncompressed OTLP exports up to this size are decoded on the event loop (well under 1 ms).
INLINE_DECODE_BYTES = 64 * 1024


async def otlp_ingest(call: Call) -> Any:
    """``POST /v1/traces``: an OTLP/HTTP trace export (protobuf or JSON, maybe compressed), its
    spans stored in MLflow's spans table; answered as OTLP answers, in the request's encoding."""
    # The four headers this reads, from the raw list (no header map: exports are a hot path);
    # of a header sent twice the first counts, as in Starlette's header map.
    headers = {key.decode(): value.decode("latin-1")
               for key, value in reversed(call.scope["headers"]) if key in _OTLP_HEADERS}
    content_type = headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in otlp.MEDIA_TYPES:
        raise invalid_parameter(f"Invalid Content-Type: {content_type or '(none)'}. Expected: "
                                "application/x-protobuf or application/json")
    body = await call.body()
    encoding = headers.get("content-encoding")
    # Decoding a large export is CPU work: off the event loop, so other requests go on. A small
    # one (the official client sends each span as it ends) takes less than the hop to a thread.
    if len(body) <= INLINE_DECODE_BYTES and not encoding:
        rows = _decode_export(body, encoding, media_type)
    else:
        rows = await run_in_threadpool(_decode_export, body, encoding, media_type)
    await call.services.spans.ingest(headers.get("x-mlflow-experiment-id"),
                                     headers.get("x-mlflow-run-id"), rows)
    if media_type == "application/json":
        return {}
    return Response(b"", media_type="application/x-protobuf")  # an empty ExportTraceServiceResponse


_OTLP_HEADERS = frozenset({b"content-type", b"content-encoding", b"x-mlflow-experiment-id",
                           b"x-mlflow-run-id"})


def _decode_export(body: bytes, encoding: str | None, media_type: str) -> list[otlp.SpanRow]:
    return otlp.span_rows(otlp.parse_request(otlp.decompress(body, encoding), media_type))

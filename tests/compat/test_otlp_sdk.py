"""Spans from a plain OpenTelemetry SDK (not MLflow's client), exported over OTLP/HTTP with
OpenTelemetry's own exporter to ``/v1/traces``, then read back with the official mlflow client:
against trackd and, with ``--compat-target mlflow``, mlflow server, on each database."""

from __future__ import annotations

import time

import mlflow
import pytest
from mlflow import MlflowClient
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def _export(url: str, experiment_id: str, compression: Compression) -> str:
    """Two nested spans and a failing one, sent by OpenTelemetry's exporter; the trace id."""
    provider = TracerProvider(resource=Resource.create({"service.name": "billing-agent"}))
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", compression=compression,
                                headers={"x-mlflow-experiment-id": experiment_id})
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("compat-test")
    with tracer.start_as_current_span("handle-request") as root:
        root.set_attribute("http.route", "/invoice")
        with tracer.start_as_current_span("lookup") as child:
            child.set_attribute("rows", 3)
            child.add_event("cache-miss", {"key": "inv-7"})
        with tracer.start_as_current_span("charge") as failing:
            failing.set_status(Status(StatusCode.ERROR, "card declined"))
        trace_id = f"tr-{root.get_span_context().trace_id:032x}"
    provider.shutdown()
    return trace_id


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_opentelemetry_sdk_spans_become_an_mlflow_trace(
        client: MlflowClient, experiment_id: str, tracking_uri: str,
        compression: Compression) -> None:
    trace_id = _export(tracking_uri, experiment_id, compression)
    trace = None
    for _ in range(50):  # mlflow server may finish its own bookkeeping after answering
        try:
            trace = client.get_trace(trace_id)
            if len(trace.data.spans) == 3:
                break
        except Exception:
            pass
        time.sleep(0.1)
    assert trace is not None
    assert trace.info.experiment_id == experiment_id
    assert trace.info.state.value == "OK"
    spans = {s.name: s for s in trace.data.spans}
    assert set(spans) == {"handle-request", "lookup", "charge"}
    assert spans["lookup"].parent_id == spans["handle-request"].span_id
    assert spans["handle-request"].parent_id is None
    assert spans["lookup"].attributes["rows"] == 3
    assert spans["handle-request"].attributes["http.route"] == "/invoice"
    assert [e.name for e in spans["lookup"].events] == ["cache-miss"]
    assert spans["charge"].status.status_code.value == "ERROR"
    assert spans["charge"].status.description == "card declined"
    found = mlflow.search_traces(locations=[experiment_id], return_type="list")
    assert [t.info.trace_id for t in found] == [trace_id]
    assert len(found[0].data.spans) == 3

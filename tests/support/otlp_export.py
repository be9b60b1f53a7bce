"""Sending spans with the real OpenTelemetry SDK and reading the trace back once it is whole.

Shared by the compat tests that export over OTLP: the exporter posts to ``/v1/traces`` with
the experiment header, and mlflow server may still finish its own bookkeeping (trace state,
cost) after it answered, so the read waits for every span and a final state.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def otlp_provider(url: str, experiment_id: str) -> TracerProvider:
    """A provider whose every ended span is exported at once to the server at ``url``."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(
        endpoint=f"{url}/v1/traces", headers={"x-mlflow-experiment-id": experiment_id})))
    return provider


def read_finished_trace(client: Any, trace_id: str, n_spans: int) -> Any:
    """The trace with ``n_spans`` spans and a final state, or what was last read (~5 s)."""
    trace = None
    for _ in range(50):
        try:
            trace = client.get_trace(trace_id)
            if len(trace.data.spans) == n_spans and trace.info.state.value != "IN_PROGRESS":
                break
        except Exception:  # not stored yet: the export may still be in flight
            pass
        time.sleep(0.1)
    assert trace is not None, f"trace {trace_id} never became readable"
    return trace

"""LLM cost as mlflow server 3.18 adds it when it stores spans: a span with a model and token
usage but no cost gets ``mlflow.llm.cost`` priced from MLflow's model catalog (the cost
columns too), the trace gets ``mlflow.trace.cost`` summed over its priced spans, and trace
metrics read those costs. Spans come from the real OpenTelemetry exporter and from the
official client's own tracing (which, talking to a tracking server, leaves pricing to it).
Against trackd and, with ``--compat-target mlflow``, mlflow server
(docs/mlflow-captures/llm-cost.md). Prices: gpt-4o $2.50 / $10 per million input / output
tokens, gpt-4o-mini $0.15 / $0.60, as MLflow's bundled catalog has them."""

from __future__ import annotations

import json
from typing import Any

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities.trace_metrics import AggregationType, MetricAggregation, MetricViewType
from mlflow.tracking._tracking_service.utils import _get_store
from support.otlp_export import otlp_provider, read_finished_trace

from .conftest import must

pytestmark = [
    pytest.mark.compat,
    # With warnings as errors, the client's tracing set-up would silently not trace at all.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*type hint is inferred as AnyType:UserWarning"),
]


def _cost(input_cost: float, output_cost: float) -> dict[str, Any]:
    return {"input_cost": pytest.approx(input_cost, rel=1e-9),
            "output_cost": pytest.approx(output_cost, rel=1e-9),
            "total_cost": pytest.approx(input_cost + output_cost, rel=1e-9)}


def _chat(model: str, tokens_in: int, tokens_out: int, **extra: Any) -> dict[str, Any]:
    return {"gen_ai.operation.name": "chat", "gen_ai.request.model": model,
            "gen_ai.usage.input_tokens": tokens_in, "gen_ai.usage.output_tokens": tokens_out,
            **extra}


def _send(url: str, experiment_id: str, client: MlflowClient, root: dict[str, Any],
          children: dict[str, dict[str, Any]]) -> Any:
    """One trace over OTLP (a root with ``root`` attributes and the named children), read
    back once the server has finished it."""
    provider = otlp_provider(url, experiment_id)
    tracer = provider.get_tracer("cost-test")
    with tracer.start_as_current_span("root", attributes=root) as span:
        for name, attributes in children.items():
            with tracer.start_as_current_span(name, attributes=attributes):
                pass
        trace_id = f"tr-{span.get_span_context().trace_id:032x}"
    provider.shutdown()
    return read_finished_trace(client, trace_id, 1 + len(children))


def _trace_cost(trace: Any) -> Any:
    raw = trace.info.trace_metadata.get("mlflow.trace.cost")
    return None if raw is None else json.loads(raw)


def _spans(trace: Any) -> dict[str, Any]:
    return {s.name: s.get_attribute("mlflow.llm.cost") for s in trace.data.spans}


def test_a_chat_span_is_priced_from_its_model_and_usage(
        client: MlflowClient, experiment_id: str, tracking_uri: str) -> None:
    trace = _send(tracking_uri, experiment_id, client,
                  _chat("gpt-4o", 1000, 100, **{"gen_ai.system": "openai"}), {})
    assert _spans(trace) == {"root": _cost(0.0025, 0.001)}
    assert _trace_cost(trace) == _cost(0.0025, 0.001)


def test_the_trace_cost_sums_its_llm_calls(client: MlflowClient, experiment_id: str,
                                            tracking_uri: str) -> None:
    # An agent span is not priced (its usage rolls up its calls); neither is a model the
    # catalog does not know; a cost the span brings is kept as sent.
    trace = _send(tracking_uri, experiment_id, client,
                  _chat("gpt-4o", 50, 5, **{"gen_ai.operation.name": "invoke_agent"}),
                  {"big": _chat("gpt-4o", 100, 10), "small": _chat("gpt-4o-mini", 100, 10),
                   "unknown": _chat("acme-made-up-1", 100, 10),
                   "sent": _chat("gpt-4o", 100, 10, **{"mlflow.llm.cost": json.dumps(
                       {"input_cost": 1.0, "output_cost": 2.0, "total_cost": 3.0})})})
    spans = _spans(trace)
    assert spans == {"root": None, "big": _cost(0.00025, 0.0001),
                     "small": _cost(0.000015, 0.000006), "unknown": None,
                     "sent": {"input_cost": 1.0, "output_cost": 2.0, "total_cost": 3.0}}
    assert _trace_cost(trace) == _cost(0.00025 + 0.000015 + 1.0, 0.0001 + 0.000006 + 2.0)


def test_spans_of_the_official_client_are_priced_by_the_server(
        client: MlflowClient, experiment_id: str, tracking_uri: str) -> None:
    with mlflow.start_span("agent", span_type="CHAIN") as root:
        with mlflow.start_span("llm", span_type="LLM") as llm:
            llm.set_attribute("mlflow.llm.model", "gpt-4o-mini")
            llm.set_attribute("mlflow.chat.tokenUsage",
                              {"input_tokens": 500, "output_tokens": 50, "total_tokens": 550})
        trace_id = root.trace_id
    mlflow.flush_trace_async_logging(terminate=False)
    trace = must(mlflow.get_trace(trace_id))
    assert _spans(trace) == {"agent": None, "llm": _cost(0.000075, 0.00003)}
    assert _trace_cost(trace) == _cost(0.000075, 0.00003)
    # Trace metrics read the stored span costs (MLflow has cost metrics on the SPANS view only).
    points = _get_store().query_trace_metrics(
        experiment_ids=[experiment_id], view_type=MetricViewType.SPANS,
        metric_name="total_cost", aggregations=[MetricAggregation(AggregationType.SUM)],
        dimensions=["span_model_name"])
    assert [(p.dimensions, p.values) for p in points] == [
        ({"span_model_name": "gpt-4o-mini"}, {"SUM": pytest.approx(0.000105, rel=1e-6)})]
